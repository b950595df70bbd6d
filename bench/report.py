"""Markdown tables and PNG plots of a :mod:`bench.run` results document."""

from bench.common import markdown_table
from bench.gemm import render_markdown as gemm_markdown
from bench.gemm import write_plot as gemm_plot

__all__ = ["render_markdown", "sgemm_peak", "training_flops_per_sample", "write_plots"]


def _num(value, fmt, missing="-"):
    return missing if value is None else format(value, fmt)


def training_flops_per_sample(network):
    """Training flops of one sample through ``network`` (``"64-128-10"``).

    Forward ``2 n_l n_{l+1}`` and weight gradient ``2 n_l n_{l+1}`` for every
    layer, input gradient ``2 n_l n_{l+1}`` for every layer but the first
    (bench/WORKLOADS.md's count).
    """
    sizes = [int(s) for s in network.split("-")]
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return 4.0 * sum(products) + 2.0 * sum(products[1:])


def sgemm_peak(doc):
    """The run's measured single-call SGEMM GFLOP/s, or None without --gemm.

    The best of the two measurements of the same 1024^3 product (numpy's, and
    BLAS called from numba): on a shared machine noise only ever lowers one.
    """
    peak = (doc.get("gemm") or {}).get("peak") or {}
    values = [peak[k] for k in ("numpy_gflops", "numba_blas_gflops") if peak.get(k)]
    return max(values) if values else None


def _ratio_to_fastmlp(doc, r):
    """Median over repeats of this impl's fit s / fastmlp's fit s (same run)."""
    fast = next(
        (
            x
            for x in doc["results"]
            if x["impl"] == "fastmlp" and x["workload"] == r["workload"]
        ),
        None,
    )
    if fast is None or r["impl"] == "fastmlp":
        return None
    ratios = sorted(o / f for o, f in zip(r["fit_s"], fast["fit_s"], strict=False))
    return ratios[len(ratios) // 2] if ratios else None


def _training_rows(doc):
    rows = []
    peak = sgemm_peak(doc)
    for r in doc["results"]:
        w = doc["workloads"][r["workload"]]
        speedup = r.get("speedup_vs_sklearn")
        gflops = r["samples_per_s"] * training_flops_per_sample(w["network"]) / 1e9
        fast_ratio = _ratio_to_fastmlp(doc, r)
        rows.append(
            [
                r["workload"],
                r["impl"],
                w["network"],
                _num(r["fit_s_median"], ".3f"),
                _num(r["samples_per_s"], ",.0f"),
                f"{gflops:.1f}",
                "-" if peak is None else f"{100 * gflops / peak:.0f}%",
                "-" if speedup is None else f"{speedup:.2f}x",
                "-" if fast_ratio is None else f"{fast_ratio:.2f}x",
                _num(r.get("accuracy"), ".4f"),
                _num(r.get("first_fit_s"), ".3f"),
                _num(r.get("predict_rows_per_s"), ",.0f"),
                _num(r.get("predict_1row_us"), ".1f"),
            ]
        )
    return rows


def _jit_section(doc):
    jit = doc.get("fastmlp_jit")
    if not jit:
        return []
    lines = ["## fastmlp JIT compilation", ""]
    if doc["config"]["fastmlp_stand_in"]:
        lines += ["(stand-in: these are scikit-learn numbers, not fastmlp's)", ""]
    if jit.get("import_s") is not None:
        lines.append(f"- `import fastmlp`: {jit['import_s']:.3f} s")
    if jit.get("cache_index_files_before") is not None:
        lines.append(
            f"- first fit of the run: {jit.get('cache_state_before')}; "
            f"{jit['cache_index_files_before']} numba cache index files of "
            "fastmlp existed before it"
            + (
                " (--cold-cache: empty NUMBA_CACHE_DIR)"
                if doc["config"]["cold_cache"]
                else ""
            )
        )
    if jit.get("warmup_in_process_s") is not None:
        lines.append(
            f"- `fastmlp.warmup()` before measuring: {jit['warmup_in_process_s']:.3f} s"
        )
    lines += ["", "First fit in this process minus the median fit:", ""]
    rows = []
    for r in doc["results"]:
        if r["impl"] in ("fastmlp", "jax"):  # the implementations that compile
            rows.append(
                [
                    r["workload"],
                    r["impl"],
                    f"{r['first_fit_s']:.3f}",
                    f"{r['fit_s_median']:.3f}",
                    f"{r['first_fit_overhead_s']:.3f}",
                    _num(r.get("first_predict_s"), ".3f"),
                ]
            )
    lines.append(
        markdown_table(
            [
                "workload",
                "impl",
                "first fit s",
                "median fit s",
                "compile s (first - median)",
                "first predict s",
            ],
            rows,
        )
    )
    fresh = jit.get("fresh_process")
    if fresh:
        lines += ["", "Fresh process with the numba cache as this run left it:", ""]
        warm = fresh.get("warmup", {})
        first = fresh.get("first_fit", {})
        if "error" in warm or "error" in first:
            lines.append("- probe failed, see results.json")
        if "warmup_s" in warm:
            lines.append(
                f"- `import fastmlp; fastmlp.warmup()`: import "
                f"{warm['import_s']:.3f} s, warmup {warm['warmup_s']:.3f} s, "
                f"whole process {warm['process_wall_s']:.3f} s"
            )
        elif "import_s" in warm:
            lines.append("- `fastmlp.warmup()` does not exist")
        if "first_fit_s" in first:
            lines.append(
                f"- time to first fit (`import fastmlp` + playground fit): "
                f"import {first['import_s']:.3f} s, fit {first['first_fit_s']:.3f} s, "
                f"whole process {first['process_wall_s']:.3f} s"
            )
        whole = fresh.get("whole_process")
        if whole:
            lines.append(
                f"- {whole['workload']} as a whole process (imports, data, one "
                f"fit; median of 3): fastmlp {whole['fastmlp_s']:.2f} s, "
                f"scikit-learn {whole['sklearn_s']:.2f} s: "
                f"{whole['fastmlp_over_sklearn']:.2f}x scikit-learn's time"
            )
    return lines + [""]


def _machine_lines(doc):
    m = doc["machine"]
    load = m.get("loadavg_start")
    load_end = m.get("loadavg_end")
    load_text = (
        f"{load[0]:.2f} -> {load_end[0]:.2f}" if load and load_end else "unknown"
    )
    versions = ", ".join(
        f"{k} {m[k]}"
        for k in ("python", "numpy", "numba", "scikit-learn", "scipy", "fastmlp")
        if m.get(k)
    )
    torch_version = m.get("torch")
    if torch_version:
        versions += f", torch {torch_version}"
    blas = m.get("blas") or []
    blas_text = ", ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('num_threads')} threads)"
        for b in blas
    )
    lines = []
    if load and m.get("cpus_usable") and load[0] > 0.5 * m["cpus_usable"]:
        lines.append(
            f"- **The machine was busy before the run (1-min load {load[0]:.2f} on "
            f"{m['cpus_usable']} CPUs): absolute numbers are low and multi-threaded "
            "BLAS suffers most; compare only ratios within this run, or use "
            "`--threads 1`.**"
        )
    threads = doc["config"].get("threads")
    if threads:
        lines.append(f"- threads capped at {threads} (`--threads`)")
    return lines + [
        f"- CPU: {m['cpu_model']}, {m['cpus_usable']} usable of {m['cpu_count']} "
        f"logical CPUs; 1-min load average {load_text}",
        f"- {versions}",
        f"- numba threads {m['numba_num_threads']}"
        + (f" ({m['numba_threading_layer']})" if m.get("numba_threading_layer") else "")
        + (f"; BLAS: {blas_text}" if blas_text else ""),
        f"- {m['platform']}",
    ]


def render_markdown(doc):
    """The whole report as markdown (also printed to stdout)."""
    cfg = doc["config"]
    lines = ["# fastmlp benchmark", ""]
    if cfg["fastmlp_stand_in"]:
        lines += [
            "**STAND-IN RUN: the `fastmlp` rows are scikit-learn's MLPClassifier.**",
            "",
        ]
    lines += [
        f"`{doc['command']}` at {doc['created']}"
        + (" (quick smoke test: tiny data, not a measurement)" if cfg["quick"] else ""),
        "",
        *_machine_lines(doc),
        "",
        f"## Training: median of {cfg['repeats']} fit(s), implementations "
        f"interleaved, {cfg.get('dtype', 'float32')} data",
        "",
        "samples/s = n_train x epochs / fit s; vs sklearn = median over repeats "
        "of sklearn's fit s / this fit s in the same repeat; accuracy on the "
        "held-out 20%; GFLOP/s = samples/s x training flops per sample (forward, "
        "weight and input gradients); % SGEMM peak = of the run's single-call "
        "1024^3 SGEMM (with --gemm); fastmlp vs it = median over repeats of this "
        "fit s / fastmlp's fit s in the same repeat; "
        "first fit = the first fit in this process, left out of "
        f"the median; predict = predict_proba on {cfg['predict']['n_rows']:,} rows "
        "(best of "
        f"{cfg['predict']['n_calls']}) and on 1 row (median of "
        f"{cfg['predict']['n_single']}).",
        "",
        markdown_table(
            [
                "workload",
                "impl",
                "network",
                "fit s",
                "samples/s",
                "GFLOP/s",
                "% SGEMM peak",
                "vs sklearn",
                "fastmlp vs it",
                "accuracy",
                "first fit s",
                "predict rows/s",
                "1-row us",
            ],
            _training_rows(doc),
            align="lll" + "r" * 10,
        ),
        "",
    ]
    lines += _jit_section(doc)
    if doc.get("gemm"):
        lines += [gemm_markdown(doc["gemm"], level=2)]
    lines += ["## Workloads", ""]
    lines.append(
        markdown_table(
            ["workload", "data", "network", "batch", "epochs", "n_train", "n_test"],
            [
                [
                    name,
                    w["description"],
                    w["network"],
                    str(w["batch_size"]),
                    str(w["epochs"]),
                    str(w["n_train"]),
                    str(w["n_test"]),
                ]
                for name, w in doc["workloads"].items()
            ],
            align="lllrrrr",
        )
    )
    lines += ["", "Implementations:", ""]
    lines += [f"- `{k}`: {v}" for k, v in cfg["impl_descriptions"].items()]
    return "\n".join(lines) + "\n"


def _grouped_bars(ax, workloads, impls, value, label_fmt, floor=None):
    """Bars of ``value(workload, impl)`` grouped by workload; None is skipped.

    Log scale, with room above the tallest bar for its label; ``floor`` is a
    value kept in view (1 for speed-ups).
    """
    width = 0.8 / max(len(impls), 1)
    all_values = []
    for j, impl in enumerate(impls):
        xs, ys = [], []
        for i, w in enumerate(workloads):
            v = value(w, impl)
            if v is not None and v > 0:
                xs.append(i + (j - (len(impls) - 1) / 2) * width)
                ys.append(v)
        bars = ax.bar(xs, ys, width, label=impl)
        ax.bar_label(
            bars, labels=[label_fmt(y) for y in ys], fontsize=7, rotation=90, padding=2
        )
        all_values += ys
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_yscale("log")
    if all_values:
        low = min(all_values) if floor is None else min(min(all_values), floor)
        ax.set_ylim(low / 2, max(all_values) * 8)
    ax.legend(fontsize=8, loc="upper right")


def _save(fig, out_dir, name):
    """Write ``fig`` as ``out_dir/name`` (PNG, 120 dpi), close it; the name."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=120)
    plt.close(fig)
    return name


def write_plots(doc, out_dir):
    """``samples_per_s.png``, ``gflops.png``, ``speedup_vs_sklearn.png`` and,
    with a GEMM sweep, ``gemm.png``; [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    by_key = {(r["workload"], r["impl"]): r for r in doc["results"]}
    workloads = list(doc["workloads"])
    impls = doc["config"]["impls"]
    subtitle = doc["machine"]["cpu_model"] + (
        " (STAND-IN)" if doc["config"]["fastmlp_stand_in"] else ""
    )
    written = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    _grouped_bars(
        ax,
        workloads,
        impls,
        lambda w, i: by_key[(w, i)]["samples_per_s"] if (w, i) in by_key else None,
        lambda y: f"{y:,.0f}",
    )
    ax.set_ylabel("training samples/s (log)")
    ax.set_title(f"Training throughput\n{subtitle}", fontsize=10)
    written.append(_save(fig, out_dir, "samples_per_s.png"))

    flops = {
        w: training_flops_per_sample(doc["workloads"][w]["network"]) for w in workloads
    }
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _grouped_bars(
        ax,
        workloads,
        impls,
        lambda w, i: (
            by_key[(w, i)]["samples_per_s"] * flops[w] / 1e9
            if (w, i) in by_key
            else None
        ),
        lambda y: f"{y:.1f}",
    )
    peak = sgemm_peak(doc)
    if peak is not None:
        ax.axhline(peak, color="black", linewidth=0.8, linestyle="--")
        ax.text(-0.4, peak * 1.1, f"SGEMM peak {peak:.0f} GFLOP/s", fontsize=8)
    ax.set_ylabel("training GFLOP/s (log)")
    ax.set_title(f"Training GFLOP/s against the SGEMM peak\n{subtitle}", fontsize=10)
    written.append(_save(fig, out_dir, "gflops.png"))

    others = [i for i in impls if i != "sklearn"]
    if "sklearn" in impls and others:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        _grouped_bars(
            ax,
            workloads,
            others,
            lambda w, i: (
                by_key[(w, i)]["speedup_vs_sklearn"] if (w, i) in by_key else None
            ),
            lambda y: f"{y:.2f}x",
            floor=1.0,
        )
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel("speed-up vs scikit-learn (log)")
        ax.set_title(f"Fit speed-up over scikit-learn\n{subtitle}", fontsize=10)
        written.append(_save(fig, out_dir, "speedup_vs_sklearn.png"))
    if doc.get("gemm"):
        written += gemm_plot(doc["gemm"], out_dir)
    return written
