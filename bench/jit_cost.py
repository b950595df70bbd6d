"""fastmlp's JIT cost as ``bench.run`` reports it, apart from steady speed.

* :func:`count_numba_cache_files`: how many numba cache index files of
  fastmlp's code exist (before a run: a hint of a warm cache).
* :func:`fresh_process_probe`: fastmlp in new interpreters with the cache as
  the run left it: ``import fastmlp; fastmlp.warmup()``, the time to a first
  playground fit, and one workload as a whole process (imports, data, one
  fit) for fastmlp and for scikit-learn, interleaved.

Imports neither numba nor fastmlp itself (the probe's children do).
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import log

__all__ = ["WHOLE_PROCESS_WORKLOAD", "count_numba_cache_files", "fresh_process_probe"]


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
