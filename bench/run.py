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
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
DEFAULT_IMPLS = "fastmlp,fastmlp-cuda,sklearn,torch,torch-cuda,jax"

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


def log(message):
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


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
        "on the workloads of WORKLOADS.md.",
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
        help="dtype of the workloads' X (WORKLOADS.md: float32; float64 is what "
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
# Machine and cache information


def _version(module_name):
    try:
        module = __import__(module_name)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return getattr(module, "__version__", "unknown")


def machine_info():
    """CPU, load, library versions and thread settings, for the report."""
    import numba
    import numpy
    import scipy
    import sklearn

    from bench import gemm

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": gemm.cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
        "fastmlp": _version("fastmlp"),
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or None,
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "num_threads")}
            for p in threadpool_info()
        ]
    except Exception:  # noqa: BLE001 - informational only
        info["blas"] = None
    return info


def _package_dirs():
    """Source folders of fastmlp and fastmlp.kernels (no numba import)."""
    import importlib.util

    dirs = []
    for name in ("fastmlp", "fastmlp.kernels"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(Path(p) for p in spec.submodule_search_locations)
    return dirs


def count_numba_cache_files():
    """Numba cache index files (``*.nbi``) of fastmlp's code.

    Looks in the ``__pycache__`` folders beside fastmlp's sources (numba's
    default) or, when ``NUMBA_CACHE_DIR`` is set, in the part of that folder
    that mirrors those sources.
    """
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        # numba then uses this folder only, never the in-tree __pycache__.
        if not Path(cache_dir).is_dir():
            return 0
        return sum(
            1
            for p in Path(cache_dir).rglob("*.nbi")
            if "fastmlp" in str(p) or "kernels" in str(p)
        )
    return sum(sum(1 for _ in d.glob("**/__pycache__/*.nbi")) for d in _package_dirs())


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
        shift = rep % len(impls)
        for impl in impls[shift:] + impls[:shift]:
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


_FRESH_PROCESS_CODE = r"""
import json, sys, time
t0 = time.perf_counter()
import fastmlp
out = {"import_s": time.perf_counter() - t0}
mode, params, stand_in = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
if mode == "warmup":
    if hasattr(fastmlp, "warmup"):
        t1 = time.perf_counter()
        per_dtype = fastmlp.warmup()
        out["warmup_s"] = time.perf_counter() - t1
        if isinstance(per_dtype, dict):
            out["warmup_per_dtype_s"] = per_dtype
elif mode == "whole_fit":
    # One workload's fit as a whole process: imports, data, fit, exit.
    workload, impl = params["workload"], params["impl"]
    from bench.workloads import load_workload
    w = load_workload(workload)
    if impl == "sklearn" or stand_in:
        from sklearn.neural_network import MLPClassifier as make
    else:
        def make(**kw):
            return fastmlp.FastMLPClassifier(device="cpu", **kw)
    t1 = time.perf_counter()
    make(**w.estimator_params()).fit(w.X_train, w.y_train)
    out["first_fit_s"] = time.perf_counter() - t1
else:
    import numpy as np
    from fastmlp.playground import make_spiral
    if stand_in:
        from sklearn.neural_network import MLPClassifier as make
    else:
        def make(**kw):
            return fastmlp.FastMLPClassifier(device="cpu", **kw)
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    X, y = make_spiral(1000, noise=0.1, random_state=0, labels="binary")
    X = X.astype(np.float32)
    t1 = time.perf_counter()
    make(**params).fit(X, y)
    out["first_fit_s"] = time.perf_counter() - t1
out["total_in_process_s"] = time.perf_counter() - t0
print(json.dumps(out))
"""


#: Workload of the whole-process comparison (issue 4: fastmlp with a warm
#: cache within 1.5x of scikit-learn's whole process).
WHOLE_PROCESS_WORKLOAD = "digits"


def fresh_process_probe(params, stand_in, quick=False):
    """Run fastmlp in new interpreters with the cache as it is now.

    Processes: ``import fastmlp; fastmlp.warmup()``; ``import fastmlp`` plus
    one playground fit on the full 1000-point spiral; and the digits workload
    as a whole process (imports, data, one fit) for fastmlp and for
    scikit-learn, three times each, interleaved. Returns their in-process
    timings and the whole-process wall seconds (medians for the comparison).
    """
    out = {}
    # The stand-in has no warmup of its own; fastmlp's would measure fastmlp.
    modes = [("first_fit", params)]
    if not stand_in:
        modes.insert(0, ("warmup", params))
    if not quick:
        for rep in range(3):
            for impl in ("fastmlp", "sklearn"):
                job = {"workload": WHOLE_PROCESS_WORKLOAD, "impl": impl}
                modes.append((f"whole_fit:{impl}:{rep}", job))
    for mode, mode_params in modes:
        argv = [
            sys.executable,
            "-c",
            _FRESH_PROCESS_CODE,
            mode.split(":")[0],
            json.dumps(mode_params),
            "1" if stand_in else "0",
        ]
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            log(f"fresh-process probe '{mode}' failed:\n{proc.stderr[-2000:]}")
            out[mode] = {"error": proc.stderr[-2000:]}
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["process_wall_s"] = wall
        out[mode] = result
        log(f"fresh process '{mode}': {result}")
    walls = {
        impl: [
            v["process_wall_s"]
            for k, v in out.items()
            if k.startswith(f"whole_fit:{impl}:") and "process_wall_s" in v
        ]
        for impl in ("fastmlp", "sklearn")
    }
    if walls["fastmlp"] and walls["sklearn"]:
        fast = statistics.median(walls["fastmlp"])
        slow = statistics.median(walls["sklearn"])
        out["whole_process"] = {
            "workload": WHOLE_PROCESS_WORKLOAD,
            "fastmlp_s": fast,
            "sklearn_s": slow,
            "fastmlp_over_sklearn": fast / slow,
        }
    return out


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
    from bench.impls import IMPL_NAMES, OPTIONAL_IMPLS, get_impl
    from bench.workloads import WORKLOAD_NAMES, load_workload

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    workload_names = _parse_list(args.workloads, WORKLOAD_NAMES, WORKLOAD_NAMES)
    impl_names = _parse_list(args.impls, IMPL_NAMES, IMPL_NAMES)

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
                get_impl(
                    name,
                    fastmlp_stand_in=args.fastmlp_stand_in,
                    torch_threads=args.threads or 2,
                )
            )
        except ImportError as exc:
            if name in OPTIONAL_IMPLS:
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
        machine["torch"] = _version("torch")
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

    machine["loadavg_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
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
    text = report.render_markdown(doc)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    written = ["results.md", "results.json"]
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
