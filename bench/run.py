"""Benchmark harness: ``python -m bench.run`` from the repository root.

For each workload (:mod:`bench.workloads`) every implementation
(:mod:`bench.impls`) fits once outside the median (its *first fit*, which
for fastmlp includes JIT compilation), then ``--repeats`` times with the
implementations interleaved in a rotating order, so that a noisy neighbour
slows all of them alike. Reported per implementation and workload: the median
fit seconds, training samples/s (``n_train * epochs / fit_s``), the median
over repeats of the paired ratio ``sklearn_fit_s / fit_s``, held-out accuracy,
``predict_proba`` rows/s and single-row latency. fastmlp's JIT cost is
reported apart: first fit minus median fit, the numba cache state before the
run, and a fresh-process probe (import, ``warmup()``, time to first fit).

Progress goes to stderr, tables to stdout, and ``results.md``,
``results.json`` and PNG plots to ``--out``. See bench/README.md.
"""

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

# None of these imports numpy, numba or fastmlp: run() times `import fastmlp`.
from bench import impls as _impls
from bench.common import (
    loadavg,
    log,
    machine_info,
    rotated,
    version,
    write_report,
)
from bench.jit_cost import count_numba_cache_files, fresh_process_probe

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
DEFAULT_IMPLS = ",".join(_impls.DEFAULT_IMPLS)

#: A first fit this much slower than the median compiled its kernels; loading
#: them from numba's cache costs well under a second, compiling them seconds.
COMPILE_THRESHOLD_S = 2.0

#: Environment variables that ``--threads`` sets.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def _parse_list(text, allowed, all_value):
    """Split ``"a,b"`` into names, ``"all"`` into ``all_value``; check names."""
    if text.strip() == "all":
        return list(all_value)
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown name(s) {unknown or text!r}; choose from {', '.join(allowed)}"
        )
    return names


def build_parser():
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Time fastmlp against scikit-learn (and PyTorch CPU) "
        "on the workloads of bench/WORKLOADS.md.",
    )
    parser.add_argument(
        "--workloads",
        default="playground,digits",
        help="comma-separated from playground,digits,mnist,wide, or 'all' "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--impls",
        default=DEFAULT_IMPLS,
        help="comma-separated from fastmlp,fastmlp-cuda,sklearn,torch,torch-cuda,"
        "gemm, or 'all'; torch, fastmlp-cuda and torch-cuda are skipped where "
        "torch or a CUDA GPU is missing (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed fits per implementation"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: tiny data, few epochs, 1 repeat (under a minute)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (bench/results)"
    )
    parser.add_argument(
        "--predict-rows",
        type=int,
        default=100_000,
        help="rows for the predict_proba throughput (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        action="store_true",
        help="call fastmlp.warmup() (timed) before measuring",
    )
    parser.add_argument(
        "--cold-cache",
        action="store_true",
        help="point NUMBA_CACHE_DIR at a new empty folder, so the first fit "
        "pays the full JIT compile",
    )
    parser.add_argument(
        "--no-fresh-process",
        action="store_true",
        help="skip the fresh-process probe of fastmlp (import, warmup, first fit)",
    )
    parser.add_argument(
        "--fastmlp-stand-in",
        action="store_true",
        help="put scikit-learn's MLPClassifier in the fastmlp slot (harness "
        "testing before fastmlp's estimators exist)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="cap BLAS, OpenMP, numba and torch threads (e.g. 1 on a machine "
        "shared with other jobs, where spinning BLAS threads collapse); "
        "default: libraries' own settings, torch 2",
    )
    parser.add_argument(
        "--no-plots", action="store_true", help="do not write PNG plots"
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="dtype of the workloads' X (bench/WORKLOADS.md: float32; float64 is what "
        "most users pass: scikit-learn and fastmlp train in it; the jax and torch "
        "baselines always train in float32)",
    )
    parser.add_argument(
        "--gemm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="append the sweep of bench.gemm (own GEMM kernels vs BLAS in "
        "numba, GFLOP/s per shape; not the 'gemm' of --impls); default: on "
        "with --workloads all",
    )
    return parser


# --------------------------------------------------------------------------
# Measurement


def _accuracy(model, workload):
    return float((model.predict(workload.X_test) == workload.y_test).mean())


def time_fit(impl, workload):
    """Fit a fresh estimator of ``impl`` on ``workload``; return (seconds, model)."""
    model = impl.make(**workload.estimator_params())
    gc.collect()
    start = time.perf_counter()
    model.fit(workload.X_train, workload.y_train)
    return time.perf_counter() - start, model


def time_predict(model, workload, n_rows, n_calls, n_single):
    """``predict_proba`` throughput on ``n_rows`` rows and 1-row latency.

    Returns
    -------
    dict with ``first_predict_s`` (a small call that may compile),
    ``predict_rows_per_s`` (best of ``n_calls``) and ``predict_1row_us``
    (median of ``n_single`` calls).
    """
    import numpy as np

    X_test = workload.X_test
    rows = np.arange(n_rows) % X_test.shape[0]
    X_big = np.ascontiguousarray(X_test[rows])
    X_one = np.ascontiguousarray(X_test[:1])
    start = time.perf_counter()
    model.predict_proba(X_test[:64])
    first = time.perf_counter() - start
    times = []
    for _ in range(n_calls):
        start = time.perf_counter()
        model.predict_proba(X_big)
        times.append(time.perf_counter() - start)
    single = []
    for _ in range(n_single):
        start = time.perf_counter()
        model.predict_proba(X_one)
        single.append(time.perf_counter() - start)
    return {
        "first_predict_s": first,
        "predict_rows": n_rows,
        "predict_rows_per_s": n_rows / min(times),
        "predict_1row_us": statistics.median(single) * 1e6,
    }


def _check_epochs(impl, workload, model):
    n_iter = getattr(model, "n_iter_", None)
    if n_iter is not None and n_iter != workload.epochs:
        log(
            f"  WARNING {impl.name} ran {n_iter} epochs, not {workload.epochs}: "
            "its timing is not comparable"
        )
    return n_iter


def measure_workload(workload, impls, repeats, predict_cfg):
    """All measurements of one workload; returns one result dict per impl."""
    res = {
        impl.name: {
            "workload": workload.name,
            "impl": impl.name,
            "fit_s": [],
            "accuracies": [],
        }
        for impl in impls
    }
    tag = f"[{workload.name}]"
    for impl in impls:
        fit_s, model = time_fit(impl, workload)
        r = res[impl.name]
        r["first_fit_s"] = fit_s
        r["n_iter"] = _check_epochs(impl, workload, model)
        log(f"{tag} first fit  {impl.name:8s} {fit_s:8.3f} s")
    models = {}
    for rep in range(repeats):
        for impl in rotated(impls, rep):
            fit_s, model = time_fit(impl, workload)
            _check_epochs(impl, workload, model)
            r = res[impl.name]
            r["fit_s"].append(fit_s)
            acc = _accuracy(model, workload) if impl.predicts else None
            r["accuracies"].append(acc)
            models[impl.name] = model
            rate = workload.train_samples / fit_s
            acc_text = f"acc {acc:.4f}" if acc is not None else ""
            log(
                f"{tag} rep {rep + 1}/{repeats} {impl.name:8s} {fit_s:8.3f} s "
                f"{rate:12,.0f} samples/s {acc_text}"
            )
    for impl in impls:
        r = res[impl.name]
        med = statistics.median(r["fit_s"])
        r["fit_s_median"] = med
        r["samples_per_s"] = workload.train_samples / med
        r["first_fit_overhead_s"] = r["first_fit_s"] - med
        accs = [a for a in r["accuracies"] if a is not None]
        r["accuracy"] = statistics.median(accs) if accs else None
        if "sklearn" in res:
            ratios = [
                s / f for s, f in zip(res["sklearn"]["fit_s"], r["fit_s"], strict=True)
            ]
            r["speedup_per_repeat"] = ratios
            r["speedup_vs_sklearn"] = statistics.median(ratios)
        else:
            r["speedup_per_repeat"] = None
            r["speedup_vs_sklearn"] = None
        if impl.predicts:
            r.update(time_predict(models[impl.name], workload, **predict_cfg))
            log(
                f"{tag} predict    {impl.name:8s} "
                f"{r['predict_rows_per_s']:12,.0f} rows/s, "
                f"1 row {r['predict_1row_us']:8.1f} us"
            )
    return [res[impl.name] for impl in impls]


def run(args):
    """Measure, print and write everything; returns the results document."""
    quick = args.quick
    repeats = 1 if quick else args.repeats
    if repeats < 1:
        raise SystemExit("--repeats must be >= 1")
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit("--threads must be >= 1")
        # Before numpy, numba or torch load (children inherit it too).
        for var in THREAD_ENV_VARS:
            os.environ[var] = str(args.threads)
    cold_dir = None
    if args.cold_cache:
        # Must precede the first numba import (fastmlp imports it).
        cold_dir = tempfile.mkdtemp(prefix="fastmlp-bench-numba-")
        os.environ["NUMBA_CACHE_DIR"] = cold_dir

    # Timed first, before this harness imports scikit-learn or numba, so it is
    # the whole cost of `import fastmlp` in a new process.
    start = time.perf_counter()
    try:
        import fastmlp  # noqa: F401
    except ImportError:
        pass  # reported when the fastmlp implementation is built
    import_s = time.perf_counter() - start

    from sklearn.exceptions import ConvergenceWarning

    from bench import report
    from bench.workloads import WORKLOAD_NAMES, load_workload

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    workload_names = _parse_list(args.workloads, WORKLOAD_NAMES, WORKLOAD_NAMES)
    impl_names = _parse_list(args.impls, _impls.IMPL_NAMES, _impls.IMPL_NAMES)

    jit = {"cache_index_files_before": None}
    if "fastmlp" in impl_names and not args.fastmlp_stand_in:
        jit["import_s"] = import_s
        # After the import: it compiles nothing, and finding the kernels'
        # folder imports fastmlp anyway.
        jit["cache_index_files_before"] = count_numba_cache_files()

    impls = []
    for name in impl_names:
        try:
            impls.append(
                _impls.get_impl(
                    name,
                    fastmlp_stand_in=args.fastmlp_stand_in,
                    torch_threads=args.threads or 2,
                )
            )
        except ImportError as exc:
            if name in _impls.OPTIONAL_IMPLS:
                if args.impls != DEFAULT_IMPLS:
                    log(f"skipping {name}: {exc}")
                continue
            raise SystemExit(
                f"{name} is not available ({exc}); measure without it, e.g. "
                "--impls sklearn, or test the harness with --fastmlp-stand-in"
            ) from exc
    if not impls:
        raise SystemExit("no implementation to measure")
    has_fastmlp = any(i.name == "fastmlp" for i in impls)

    if args.warmup and has_fastmlp and not args.fastmlp_stand_in:
        import fastmlp

        if hasattr(fastmlp, "warmup"):
            start = time.perf_counter()
            per_dtype = fastmlp.warmup()
            jit["warmup_in_process_s"] = time.perf_counter() - start
            if isinstance(per_dtype, dict):
                jit["warmup_per_dtype_s"] = per_dtype
            log(f"fastmlp.warmup(): {jit['warmup_in_process_s']:.3f} s")
        else:
            log("fastmlp.warmup() does not exist; --warmup ignored")

    machine = machine_info()
    if any(i.name == "torch" for i in impls):
        machine["torch"] = version("torch")
    predict_cfg = {
        "n_rows": min(args.predict_rows, 5_000) if quick else args.predict_rows,
        "n_calls": 1 if quick else min(repeats, 3),
        "n_single": 20 if quick else 200,
    }
    log(
        f"workloads {workload_names}, implementations {[i.name for i in impls]}, "
        f"{repeats} repeat(s){', QUICK' if quick else ''}"
    )
    workloads_info, results = {}, []
    for name in workload_names:
        workload = load_workload(name, quick=quick)
        if args.dtype != "float32":
            workload.X_train = workload.X_train.astype(args.dtype)
            workload.X_test = workload.X_test.astype(args.dtype)
        workloads_info[name] = {
            "description": workload.description,
            "network": workload.network,
            "n_train": workload.n_train,
            "n_test": workload.X_test.shape[0],
            "batch_size": workload.batch_size,
            "epochs": workload.epochs,
            "params": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in workload.estimator_params().items()
            },
        }
        log(
            f"[{name}] {workload.description}; network {workload.network} "
            f"{workload.activation}, batch {workload.batch_size}, "
            f"{workload.epochs} epochs, {workload.n_train} train rows"
        )
        results.extend(measure_workload(workload, impls, repeats, predict_cfg))
        del workload
        gc.collect()

    if has_fastmlp:
        jit["first_fit_overhead_s"] = {
            r["workload"]: r["first_fit_overhead_s"]
            for r in results
            if r["impl"] == "fastmlp"
        }
        if jit["cache_index_files_before"] is not None:
            # Index files can be stale (the source changed since), so the
            # first fit's overhead is the verdict; the count is a hint.
            first_overhead = next(iter(jit["first_fit_overhead_s"].values()))
            jit["cache_state_before"] = (
                "compiled (cache cold or stale)"
                if first_overhead > COMPILE_THRESHOLD_S
                else "loaded from cache"
            )
        if not args.no_fresh_process:
            params = load_workload("playground", quick=quick).estimator_params()
            params["hidden_layer_sizes"] = list(params["hidden_layer_sizes"])
            jit["fresh_process"] = fresh_process_probe(
                params, args.fastmlp_stand_in, quick=quick
            )

    gemm_doc = None
    if args.gemm or (args.gemm is None and args.workloads.strip() == "all"):
        from bench import gemm

        log("[gemm] own GEMM kernels vs BLAS in numba (python -m bench.gemm)")
        gemm_doc = gemm.sweep(quick=quick)

    machine["loadavg_end"] = loadavg()
    try:
        import numba

        machine["numba_threading_layer"] = numba.threading_layer()
    except Exception:  # noqa: BLE001 - raises when no parallel code ran
        machine["numba_threading_layer"] = None

    doc = {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "config": {
            "workloads": workload_names,
            "impls": [i.name for i in impls],
            "impl_descriptions": {i.name: i.description for i in impls},
            "repeats": repeats,
            "quick": quick,
            "predict": predict_cfg,
            "cold_cache": bool(args.cold_cache),
            "fastmlp_stand_in": bool(args.fastmlp_stand_in),
            "threads": args.threads,
            "dtype": args.dtype,
        },
        "machine": machine,
        "workloads": workloads_info,
        "results": results,
        "fastmlp_jit": jit if has_fastmlp else None,
        "gemm": gemm_doc,
    }
    written = write_report(args.out, "results", report.render_markdown(doc), doc)
    if not args.no_plots:
        written += report.write_plots(doc, args.out)
    log(f"wrote {', '.join(str(args.out / w) for w in written)}")
    if cold_dir is not None:
        shutil.rmtree(cold_dir, ignore_errors=True)
    return doc


def main(argv=None):
    """Entry point of ``python -m bench.run``."""
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except argparse.ArgumentTypeError as exc:
        build_parser().error(str(exc))


if __name__ == "__main__":
    main()
