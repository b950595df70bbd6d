"""Own GEMM kernels vs BLAS inside numba over MLP shapes: ``python -m bench.gemm``.

For every shape of the sweep (a batch of ``m`` rows through a layer of
``fan_in -> fan_out`` units) and each of the three products a training step
makes (``nn``, ``nt``, ``tn``: the table of :mod:`bench.gemm_timing`), this
times the project's own kernel against BLAS through ``np.dot`` inside an
``@njit`` function, both in a jitted loop (:func:`bench.gemm_timing.time_pair`).

``m * k * n = B * fi * fo`` in all three; the kernels send a product to BLAS
when it is at least ``fastmlp.kernels.cpu.BLAS_MIN_WORK[op]``. The report says
which one that rule picks, whether it is the measured faster one, and which
threshold would have lost the least time over the sweep. It also measures the
machine's peak single-call SGEMM (numpy, 1024^3) as the yardstick.

Writes ``gemm.md``, ``gemm.json`` and ``gemm.png`` to ``--out``;
:func:`sweep`, :func:`render_markdown` and :func:`write_plot` are what
``python -m bench.run --gemm`` calls.
"""

import argparse
import math
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fastmlp.kernels import cpu

from bench.common import loadavg, log, machine_info, markdown_table, write_report
from bench.gemm_timing import (
    OPS,
    QUICK_SAMPLES,
    QUICK_TARGET_S,
    SAMPLES,
    TARGET_S,
    gemm_dims,
    measure_peak,
    numba_dot_nn,
    time_pair,
)
from bench.workloads import NETWORKS

__all__ = [
    "best_threshold",
    "render_markdown",
    "sweep",
    "sweep_shapes",
    "write_plot",
]

DEFAULT_OUT = Path(__file__).resolve().parent / "results"

OP_DESCRIPTIONS = {
    "nn": "X @ W, forward (dense_forward)",
    "nt": "D @ W.T, input gradient (hidden_delta)",
    "tn": "A.T @ D, weight gradient (dense_grad)",
}

#: Batch sizes and layer widths of the grid (every fan_in x fan_out pair).
BATCHES = (10, 64, 256, 512)
FANS = (8, 64, 256, 1024)
QUICK_BATCHES = (10, 64)
QUICK_FANS = (8, 64)

#: Batch and layer sizes of the bench/WORKLOADS.md networks (their exact
#: shapes join the grid).
WORKLOAD_LAYERS = {
    name: (net.batch_size, net.layer_sizes) for name, net in NETWORKS.items()
}

#: A pick within this relative margin of the faster one counts as a tie.
TIE = 0.10


def sweep_shapes(quick=False):
    """``[(batch, fan_in, fan_out, workloads), ...]`` sorted by ``m*k*n``.

    The grid of batch x fan_in x fan_out over :data:`BATCHES` and
    :data:`FANS` (quick: the small ones), plus every layer of the
    bench/WORKLOADS.md networks at its batch size (``workloads`` names them; the
    quick sweep keeps the playground and digits ones).
    """
    batches, fans = (QUICK_BATCHES, QUICK_FANS) if quick else (BATCHES, FANS)
    shapes = {(b, fi, fo): [] for b in batches for fi in fans for fo in fans}
    for name, (batch, sizes) in WORKLOAD_LAYERS.items():
        if quick and name not in ("playground", "digits"):
            continue
        for fi, fo in zip(sizes[:-1], sizes[1:], strict=True):
            shapes.setdefault((batch, fi, fo), []).append(name)
    return sorted(
        ((b, fi, fo, tuple(w)) for (b, fi, fo), w in shapes.items()),
        key=lambda s: (s[0] * s[1] * s[2], s),
    )


def _pick_loss(row, blas_from):
    """Seconds of the rule's pick over the faster one's, minus 1."""
    t = row["blas_s_median"] if row["mkn"] >= blas_from else row["own_s_median"]
    return t / min(row["own_s_median"], row["blas_s_median"]) - 1.0


def best_threshold(rows, current):
    """The ``BLAS from m*k*n >= T`` rule that loses least time over ``rows``.

    Loss of a rule = geometric mean over the rows of (seconds of its pick /
    seconds of the faster one) - 1, every shape weighted alike.

    Returns
    -------
    dict: ``blas_from`` (the best T, a measured ``m*k*n``, or None for "never
    BLAS"), ``own_up_to`` (the largest ``m*k*n`` below it), ``loss_pct`` and
    the loss of ``current`` (``current_loss_pct``), ``current_wrong`` (rows
    where the current rule's pick is slower by more than :data:`TIE`).
    """
    if not rows:
        return None
    sizes = sorted({r["mkn"] for r in rows})

    def loss(blas_from):
        logs = [math.log1p(_pick_loss(r, blas_from)) for r in rows]
        return 100.0 * math.expm1(sum(logs) / len(logs))

    candidates = [*sizes, math.inf]
    losses = [loss(t) for t in candidates]
    i = min(range(len(candidates)), key=losses.__getitem__)
    return {
        "blas_from": None if candidates[i] == math.inf else candidates[i],
        "own_up_to": sizes[i - 1] if i > 0 else None,
        "loss_pct": losses[i],
        "current": current,
        "current_loss_pct": loss(current),
        "current_wrong": sum(1 for r in rows if _pick_loss(r, current) > TIE),
        "rows": len(rows),
    }


def sweep(
    quick=False,
    dtype="float32",
    target_s=None,
    samples=None,
    threads=None,
    progress=True,
):
    """Run the whole sweep; returns the results document (see ``gemm.json``).

    Parameters
    ----------
    quick : bool, default=False
        Small shapes and short samples: a smoke test.
    dtype : str, default="float32"
    target_s, samples : optional
        Seconds per sample and samples per implementation (defaults:
        :data:`TARGET_S`, :data:`SAMPLES` or their quick variants).
    threads : int, optional
        Cap BLAS threads (threadpoolctl) for the sweep; default: as set.
    progress : bool, default=True
        A progress line per measurement on stderr.
    """
    from contextlib import nullcontext

    dt = np.dtype(dtype).type
    if target_s is None:
        target_s = QUICK_TARGET_S if quick else TARGET_S
    if samples is None:
        samples = QUICK_SAMPLES if quick else SAMPLES
    if threads is not None:
        from threadpoolctl import threadpool_limits

        # numba's np.dot links scipy's BLAS (often another build than numpy's),
        # loaded at its first use: load it now, or the limits miss it.
        tiny = np.ones((2, 2), dtype=dt)
        numba_dot_nn(tiny, tiny, np.empty_like(tiny))

        limits = threadpool_limits(limits=threads)
    else:
        limits = nullcontext()
    shapes = sweep_shapes(quick)
    load_start = loadavg()
    rows = []
    start = time.perf_counter()
    with limits:
        peak = measure_peak(256 if quick else 1024, dt, calls=2 if quick else 5)
        if progress:
            log(
                f"[gemm] peak {peak['n']}^3: numpy {peak['numpy_gflops']:.1f} "
                f"GFLOP/s, BLAS in numba {peak['numba_blas_gflops']:.1f} GFLOP/s"
            )
        machine = machine_info()  # inside the limits: the BLAS threads used
        total = len(shapes) * len(OPS)
        for op in OPS:
            for batch, fan_in, fan_out, workloads in shapes:
                t = time_pair(op, batch, fan_in, fan_out, dt, target_s, samples)
                m, k, n = gemm_dims(op, batch, fan_in, fan_out)
                mkn = m * k * n
                flop = 2.0 * mkn
                own = statistics.median(t["own_s"])
                blas = statistics.median(t["blas_s"])
                pick = "blas" if mkn >= cpu.BLAS_MIN_WORK[op] else "own"
                faster = "own" if own < blas else "blas"
                loss = (blas if pick == "blas" else own) / min(own, blas) - 1.0
                row = {
                    "op": op,
                    "batch": batch,
                    "fan_in": fan_in,
                    "fan_out": fan_out,
                    "m": m,
                    "k": k,
                    "n": n,
                    "mkn": mkn,
                    "workloads": list(workloads),
                    "own_s_median": own,
                    "blas_s_median": blas,
                    "own_gflops": flop / own / 1e9,
                    "blas_gflops": flop / blas / 1e9,
                    "own_speedup": statistics.median(
                        b / o for o, b in zip(t["own_s"], t["blas_s"], strict=True)
                    ),
                    "pick": pick,
                    "faster": faster,
                    "pick_loss_pct": 100.0 * loss,
                    "pick_ok": "yes"
                    if pick == faster
                    else ("tie" if loss <= TIE else "no"),
                    **t,
                }
                rows.append(row)
                if not t["agree"]:
                    log(f"[gemm] WARNING own and BLAS results differ: {row}")
                if progress:
                    log(
                        f"[gemm] {len(rows)}/{total} {op} {m}x{k}x{n}: own "
                        f"{row['own_gflops']:7.2f}, BLAS {row['blas_gflops']:7.2f} "
                        f"GFLOP/s; picks {pick}, {row['pick_ok']}"
                    )
    thresholds = {
        op: best_threshold([r for r in rows if r["op"] == op], cpu.BLAS_MIN_WORK[op])
        for op in OPS
    }
    # One rule for all three products, judged against the nn threshold.
    thresholds["all"] = best_threshold(rows, cpu.BLAS_MIN_WORK["nn"])
    machine["loadavg_start"] = load_start
    machine["loadavg_end"] = loadavg()
    return {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": bool(quick),
        "dtype": np.dtype(dtype).name,
        "blas_min_work": dict(cpu.BLAS_MIN_WORK),
        "target_s": target_s,
        "samples": samples,
        "threads": threads,
        "seconds": time.perf_counter() - start,
        "peak": peak,
        "machine": machine,
        "rows": rows,
        "thresholds": thresholds,
    }


# --------------------------------------------------------------------------
# Report


def _int(value):
    return "-" if value is None else f"{value:,}"


def _threshold_line(name, t):
    if t is None:
        return f"- {name}: no shapes"
    if t["blas_from"] is None:
        best = "never BLAS"
    elif t["own_up_to"] is None:
        best = "always BLAS"
    else:
        best = f"BLAS from m*k*n = {t['blas_from']:,} (own up to {t['own_up_to']:,})"
    return (
        f"- {name}: best rule {best}, loses {t['loss_pct']:.1f}%; the current "
        f"rule (BLAS from {t['current']:,}) loses {t['current_loss_pct']:.1f}% and "
        f"picks the slower by more than {100 * TIE:.0f}% on {t['current_wrong']} "
        f"of {t['rows']} shapes"
    )


def render_markdown(doc, level=1):
    """The sweep as markdown: peak, threshold verdicts and the table."""
    h = "#" * level
    peak = doc["peak"]
    m = doc["machine"]
    lines = [f"{h} GEMM sweep: own kernels vs BLAS in numba ({doc['dtype']})", ""]
    if doc.get("command"):  # bench.run's report gives its own command
        lines += [f"`{doc['command']}` at {doc['created']}", ""]
    if doc["quick"]:
        lines += ["(quick: small shapes, short samples; not a measurement)", ""]
    load, load_end = m.get("loadavg_start"), m.get("loadavg_end")
    if load and load_end:
        lines.append(
            f"- CPU: {m.get('cpu_model')}, {m.get('cpus_usable')} usable CPUs; "
            f"1-min load average {load[0]:.2f} -> {load_end[0]:.2f}"
        )
        if m.get("cpus_usable") and max(load[0], load_end[0]) > 0.5 * m["cpus_usable"]:
            lines.append(
                "- **The machine was busy: multi-threaded BLAS calls wait for a "
                "descheduled thread (up to a time slice each); `--threads 1` "
                "measures the kernels, not the scheduler.**"
            )
    lines += [
        f"- machine's measured peak, one {peak['n']}^3 GEMM: numpy "
        f"**{peak['numpy_gflops']:.1f} GFLOP/s**, BLAS through numba "
        f"{peak['numba_blas_gflops']:.1f} GFLOP/s (best of calls)",
        "- both sides called in a jitted loop (no Python per call); GFLOP/s = "
        f"2 m k n / median of {doc['samples']} samples; own/BLAS = median of "
        "paired BLAS s / own s (> 1: own faster)",
        "- pick: the kernels' rule, BLAS when m*k*n >= BLAS_MIN_WORK[op] = "
        + ", ".join(f"{op} {v:,}" for op, v in doc["blas_min_work"].items())
        + f"; ok = yes (the faster), tie (within "
        f"{100 * TIE:.0f}%), no (slower by more; loss %)",
    ]
    blas = doc["machine"].get("blas") or []
    if blas:
        lines.append(
            "- BLAS: "
            + ", ".join(
                f"{b.get('internal_api')} {b.get('version')} "
                f"({b.get('num_threads')} threads)"
                for b in blas
            )
        )
    lines += ["", "Time lost to the dispatch rule (geometric mean over shapes):", ""]
    for name in (*OPS, "all"):
        label = "all ops" if name == "all" else f"{name} ({OP_DESCRIPTIONS[name]})"
        lines.append(_threshold_line(label, doc["thresholds"].get(name)))
    rows = []
    for r in doc["rows"]:
        rows.append(
            [
                r["op"],
                f"{r['batch']}x{r['fan_in']}->{r['fan_out']}",
                f"{r['m']}x{r['k']}x{r['n']}",
                _int(r["mkn"]),
                f"{r['own_gflops']:.2f}",
                f"{r['blas_gflops']:.2f}",
                f"{r['own_speedup']:.2f}",
                r["pick"],
                r["pick_ok"]
                + (f" ({r['pick_loss_pct']:.0f}%)" if r["pick_ok"] == "no" else ""),
                ",".join(r["workloads"]),
            ]
        )
    lines += [
        "",
        markdown_table(
            [
                "op",
                "batch x layer",
                "m x k x n",
                "m*k*n",
                "own GFLOP/s",
                "BLAS GFLOP/s",
                "own/BLAS",
                "pick",
                "ok",
                "workload",
            ],
            rows,
            align="lllrrrrlll",
        ),
        "",
    ]
    return "\n".join(lines)


def write_plot(doc, out_dir, name="gemm.png"):
    """GFLOP/s vs m*k*n (log-log), own vs BLAS, one panel per op; [] without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    fig, axes = plt.subplots(1, len(OPS), figsize=(13, 4.2), sharey=True)
    peak = doc["peak"]["numpy_gflops"]
    for ax, op in zip(axes, OPS, strict=True):
        rows = sorted((r for r in doc["rows"] if r["op"] == op), key=lambda r: r["mkn"])
        x = [r["mkn"] for r in rows]
        ax.loglog(x, [r["own_gflops"] for r in rows], "o", ms=4, label="own")
        ax.loglog(
            x,
            [r["blas_gflops"] for r in rows],
            "s",
            ms=4,
            mfc="none",
            label="BLAS (np.dot in numba)",
        )
        ax.axvline(
            max(doc["blas_min_work"][op], 1),
            color="grey",
            ls="--",
            lw=0.8,
            label=f"BLAS_MIN_WORK[{op!r}] {doc['blas_min_work'][op]:,}",
        )
        ax.axhline(
            peak,
            color="black",
            ls=":",
            lw=0.8,
            label=f"numpy {doc['peak']['n']}^3 peak {peak:.0f}",
        )
        ax.set_title(f"{op}: {OP_DESCRIPTIONS[op]}", fontsize=9)
        ax.set_xlabel("m*k*n")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(f"GFLOP/s ({doc['dtype']})")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=len(labels))
    fig.suptitle("Own GEMM vs BLAS inside numba", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(Path(out_dir) / name, dpi=120)
    plt.close(fig)
    return [name]


# --------------------------------------------------------------------------
# Command line


def build_parser():
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.gemm",
        description="Own GEMM kernels vs BLAS (np.dot in numba) over MLP shapes.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small shapes, short samples (a few seconds)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder of gemm.md, gemm.json, gemm.png (default: bench/results)",
    )
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help=f"timed samples per kernel and shape "
        f"(default {SAMPLES}, quick {QUICK_SAMPLES})",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="cap BLAS threads (threadpoolctl)"
    )
    parser.add_argument("--no-plot", action="store_true", help="skip gemm.png")
    return parser


def main(argv=None):
    """Entry point of ``python -m bench.gemm``."""
    args = build_parser().parse_args(argv)
    doc = sweep(
        quick=args.quick, dtype=args.dtype, samples=args.samples, threads=args.threads
    )
    doc["command"] = " ".join(
        ["python -m bench.gemm", *(sys.argv[1:] if argv is None else argv)]
    )
    written = write_report(args.out, "gemm", render_markdown(doc), doc)
    if not args.no_plot:
        written += write_plot(doc, args.out)
    log(
        f"wrote {', '.join(str(args.out / w) for w in written)}; sweep "
        f"{doc['seconds']:.1f} s"
    )
    return doc


if __name__ == "__main__":
    main()
