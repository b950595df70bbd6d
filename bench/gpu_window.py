"""Stages of the GPU window script (``bash bench/gpu_window.sh``).

Each subcommand is one stage of the script, run in its own process (the
environment that numba reads at import, ``CUDA_HOME`` and
``FASTMLP_CUDA_CACHE``, is set by the script before it) and writes one JSON
file as soon as it has something to say:

* ``probe``: versions, ``numba.cuda.detect()``, ``libs.test()``, a first
  launch (the backend's probe kernel), a probe fit on the fused path and one
  on the tiled path; exit status 0 only when all of them ran;
* ``resources``: registers, shared and local memory (spills) of every kernel
  a fused and a tiled fit compiled, per dtype;
* ``tune``: a grid of tunables (GEMM tiles, fused rows per block and
  threads), each timed, until the deadline;
* ``summary``: a short table of what the stages wrote (printed last).

With ``NUMBA_ENABLE_CUDASIM=1`` every stage runs in numba-cuda's simulator on
tiny sizes with small tunables: a dry run of the plumbing (timings mean
nothing there).
"""

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np
from fastmlp.kernels.config import SIMULATOR_TUNABLES

#: Tunables patched in by the simulator dry run (as tests/cuda_sim does).
SIM_CONFIG = SIMULATOR_TUNABLES


def simulated():
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _small_config_if_simulated():
    if simulated():
        from fastmlp.kernels import config

        for name, value in SIM_CONFIG.items():
            setattr(config, name, value)


def _write(path, doc):
    Path(path).write_text(json.dumps(doc, indent=2, default=str) + "\n")


def _error(exc):
    tail = traceback.format_exc().strip().splitlines()[-12:]
    return {"error": f"{type(exc).__name__}: {exc}"[:800], "traceback": tail}


def _captured(fn):
    """``(result, printed text)`` of ``fn()``; an exception is recorded."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            result = fn()
    except Exception as exc:  # noqa: BLE001 - recorded
        return {"ok": False, **_error(exc)}, buf.getvalue()[-4000:]
    return result, buf.getvalue()[-4000:]


def _versions():
    from importlib import metadata

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in (
        "fastmlp",
        "numpy",
        "numba",
        "numba-cuda",
        "llvmlite",
        "scikit-learn",
        "torch",
        "cupy",
        "cupy-cuda13x",
        "cupy-cuda12x",
        "jax",
        "nvidia-cuda-nvcc-cu12",
        "nvidia-cuda-nvrtc",
        "nvidia-cuda-nvrtc-cu12",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    out["numpy_has_row_stack"] = hasattr(np, "row_stack")
    return out


def _probe_fit(hidden, n, batch, dtype):
    import warnings

    from fastmlp import FastMLPClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 8)).astype(dtype)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = FastMLPClassifier(
            hidden, max_iter=2, batch_size=batch, random_state=0, device="cuda"
        ).fit(X, y)
        proba = est.predict_proba(X[:50])
    return {
        "hidden": list(hidden),
        "rows": n,
        "batch": batch,
        "dtype": np.dtype(dtype).name,
        "seconds": time.perf_counter() - start,
        "device_": est.device_,
        "loss_curve": [float(v) for v in est.loss_curve_],
        "proba_rows_sum_to_1": bool(np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)),
        "finite": bool(np.all(np.isfinite(est.loss_curve_))),
        "warnings": sorted(
            {f"{w.category.__name__}: {w.message}"[:160] for w in caught}
        ),
    }


def probe(out, attempt):
    """Stage 1: the first contact; exit status 0 when everything ran."""
    doc = {
        "attempt": attempt,
        "env": {
            k: os.environ.get(k)
            for k in (
                "CUDA_HOME",
                "FASTMLP_CUDA_CACHE",
                "NUMBA_ENABLE_CUDASIM",
                "NUMBA_CACHE_DIR",
                "PYTHONPATH",
            )
        },
        "versions": _versions(),
        "steps": {},
    }
    steps = doc["steps"]

    def save():
        _write(out, doc)

    save()
    import numba.cuda as cuda

    def detect():
        return {"ok": bool(cuda.detect()) or simulated()}

    def libs_test():
        from numba.cuda.cudadrv import libs

        return {"ok": bool(libs.test())}

    steps["detect"], doc["detect_output"] = _captured(detect)
    save()
    steps["libs_test"], doc["libs_test_output"] = _captured(libs_test)
    save()
    _small_config_if_simulated()
    ok = True
    sim = simulated()
    fused_hidden, tiled_hidden = ((4,), (9,)) if sim else ((64,), (256,))
    n, batch = (12, 5) if sim else (8192, 256)
    plan = [
        ("first_launch", None),
        ("fit_fused_float32", (fused_hidden, np.float32)),
        ("fit_tiled_float32", (tiled_hidden, np.float32)),
        ("fit_fused_float64", (fused_hidden, np.float64)),
    ]
    for name, spec in plan:
        start = time.perf_counter()
        try:
            if spec is None:
                from fastmlp.kernels import cuda as backend

                backend.self_test()
                steps[name] = {"ok": True}
            else:
                steps[name] = {"ok": True, **_probe_fit(spec[0], n, batch, spec[1])}
                steps[name]["ok"] = steps[name]["finite"]
        except Exception as exc:  # noqa: BLE001 - recorded
            steps[name] = {"ok": False, **_error(exc)}
        steps[name]["seconds"] = time.perf_counter() - start
        ok = ok and steps[name]["ok"]
        save()
    if not sim:
        from fastmlp._backend import resolve_device

        try:
            doc["auto_picks"] = {
                "2-8-8-1 batch 10": resolve_device("auto", [2, 8, 8, 1], 10),
                "784-256-256-10 batch 4096": resolve_device(
                    "auto", [784, 256, 256, 10], 4096
                ),
            }
        except Exception as exc:  # noqa: BLE001 - recorded
            doc["auto_picks"] = _error(exc)
    doc["ok"] = ok
    save()
    return 0 if ok else 1


def _recording_factories():
    """Patch the kernel factories to record every kernel they build."""
    from fastmlp.kernels.cuda import gemm as gemm_module
    from fastmlp.kernels.cuda import kernels1d as kernels_module

    built = {}
    gemm_factory, kernels_factory = gemm_module._gemm_kernel, kernels_module._kernels

    def gemm_kernel(orient, epilogue, dtype, *tiles):
        k = gemm_factory(orient, epilogue, dtype, *tiles)
        name = f"gemm[{['nn', 'nt', 'tn'][orient]},epi{epilogue}]"
        built[(name, np.dtype(dtype).name)] = k
        return k

    def kernels(dtype, *cfg):
        ns = kernels_factory(dtype, *cfg)
        for attr, k in vars(ns).items():
            built[(attr, np.dtype(dtype).name)] = k
        return ns

    gemm_module._gemm_kernel, kernels_module._kernels = gemm_kernel, kernels
    return built


def _kernel_resources(kernel):
    """Per compiled signature: registers, shared and local bytes, max threads."""
    rows = []
    overloads = getattr(kernel, "overloads", None)
    if not overloads:
        return [{"note": "no compiled overloads (simulator or not launched)"}]
    for sig, compiled in overloads.items():
        row = {"signature": str(sig)[:160]}
        for key, attr in (
            ("registers", "regs_per_thread"),
            ("shared_bytes", "shared_mem_per_block"),
            ("local_bytes", "local_mem_per_thread"),
            ("const_bytes", "const_mem_size"),
            ("max_threads", "max_threads_per_block"),
        ):
            try:
                row[key] = int(getattr(compiled, attr))
            except Exception as exc:  # noqa: BLE001 - recorded
                row[key] = f"{type(exc).__name__}: {exc}"[:120]
        rows.append(row)
    return rows


def resources(out):
    """Stage 3: registers, shared and local memory of every kernel compiled by
    fused and tiled fits (adam and sgd, float32 and float64)."""
    import warnings

    _small_config_if_simulated()
    built = _recording_factories()
    from fastmlp import FastMLPClassifier

    sim = simulated()
    widths = (4, 9) if sim else (64, 256)
    n, batch = (12, 5) if sim else (2048, 256)
    doc = {"simulated": sim, "fits": [], "kernels": []}
    rng = np.random.default_rng(0)
    for dtype in (np.float32,) if sim else (np.float32, np.float64):
        X = rng.standard_normal((n, 8)).astype(dtype)
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
        for width in widths:
            for solver in ("adam", "sgd"):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        FastMLPClassifier(
                            (width,), solver=solver, max_iter=1, batch_size=batch,
                            random_state=0, device="cuda",
                        ).fit(X, y).predict(X)  # fmt: skip
                    doc["fits"].append([np.dtype(dtype).name, width, solver, "ok"])
                except Exception as exc:  # noqa: BLE001 - recorded
                    doc["fits"].append(
                        [np.dtype(dtype).name, width, solver, _error(exc)["error"]]
                    )
        # After each dtype: a stage stopped by its timeout keeps these.
        doc["kernels"] = [
            {"kernel": name, "dtype": dt, **row}
            for (name, dt), kernel in sorted(built.items())
            for row in _kernel_resources(kernel)
        ]
        _write(out, doc)
    return 0


def _tune_grid(sim):
    """(kind, settings) pairs, most promising first."""
    if sim:
        gemm = [(4, 4, 2, 2, 2), (8, 4, 2, 2, 2)]
        fused = [(3, 4), (2, 8)]
    else:
        gemm = [
            (64, 64, 16, 4, 4),  # the default
            (128, 64, 16, 8, 4),
            (64, 128, 16, 4, 8),
            (128, 128, 8, 8, 8),
            (128, 128, 16, 8, 8),
            (64, 64, 8, 4, 4),
            (64, 64, 32, 4, 4),
            (128, 64, 8, 8, 4),
            (32, 32, 16, 2, 2),
            (64, 64, 16, 8, 8),
        ]
        fused = [
            (16, 128),  # the default
            (8, 128),
            (32, 128),
            (16, 256),
            (8, 64),
            (32, 256),
            (4, 128),
            (16, 64),
        ]
    out = [("gemm", g) for g in gemm[:2]] + [("fused", f) for f in fused[:2]]
    out += [("gemm", g) for g in gemm[2:]] + [("fused", f) for f in fused[2:]]
    return out


def _time_gemm(settings, n, repeats):
    from fastmlp.kernels import config
    from fastmlp.kernels import cuda as backend
    from numba import cuda

    from bench.gpu import _Events, _time_events

    names = ("GEMM_TILE_M", "GEMM_TILE_N", "GEMM_TILE_K")
    names += ("GEMM_THREAD_M", "GEMM_THREAD_N")
    for name, value in zip(names, settings, strict=True):
        setattr(config, name, value)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    dA, dB = cuda.to_device(A), cuda.to_device(B)
    dC = cuda.device_array((n, n), np.float32)
    ev = _Events()
    start = time.perf_counter()
    backend.gemm_nn(dA, dB, dC)  # compile
    cuda.synchronize()
    compile_s = time.perf_counter() - start
    s = _time_events(
        backend.gemm_nn, (dA, dB, dC), repeats, ev.mark, ev.mark, ev.seconds
    )
    rows = np.arange(0, n, max(1, n // 16))
    err = float(
        np.max(np.abs(dC.copy_to_host()[rows] - A[rows].astype(np.float64) @ B))
    )
    return {
        "gflops": 2.0 * n**3 / s / 1e9,
        "seconds": s,
        "compile_s": compile_s,
        "max_abs_err": err,
    }


def _time_fused(settings, width, batch, n):
    import warnings

    from fastmlp.kernels import config

    from bench.gpu import _data
    from fastmlp import FastMLPClassifier

    config.FUSED_ROWS, config.FUSED_THREADS = settings
    X, y = _data(n, 32, 10)

    def fit(rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return FastMLPClassifier(
                (width, width), activation="relu", batch_size=batch, max_iter=1,
                tol=0.0, random_state=0, device="cuda",
            ).fit(X[:rows], y[:rows])  # fmt: skip

    start = time.perf_counter()
    fit(2 * batch)  # compile
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    est = fit(n)
    s = time.perf_counter() - start
    return {
        "samples_per_s": n / s,
        "seconds": s,
        "compile_s": compile_s,
        "loss": float(est.loss_curve_[-1]),
    }


def tune(out, deadline_s):
    """Stage 6: each setting of the grid timed until ``deadline_s`` passes."""
    from fastmlp.kernels import config

    end = time.perf_counter() + deadline_s
    sim = simulated()
    _small_config_if_simulated()
    defaults = {k: getattr(config, k) for k in dir(config) if k.isupper()}
    n, repeats = (8, 1) if sim else (4096, 5)
    width, batch, rows = (4, 4, 12) if sim else (128, 1024, 262144)
    doc = {"simulated": sim, "gemm_n": n, "fused": [width, batch, rows], "rows": []}
    for kind, settings in _tune_grid(sim):
        if time.perf_counter() >= end:
            doc["stopped"] = "deadline"
            break
        row = {"kind": kind, "settings": list(settings)}
        start = time.perf_counter()
        try:
            if kind == "gemm":
                row.update(_time_gemm(settings, n, repeats))
            else:
                row.update(_time_fused(settings, width, batch, rows))
        except Exception as exc:  # noqa: BLE001 - recorded, the grid goes on
            row.update(_error(exc))
            row.pop("traceback", None)
        finally:
            for k, v in defaults.items():
                setattr(config, k, v)
        row["wall_s"] = time.perf_counter() - start
        doc["rows"].append(row)
        _write(out, doc)
        print(f"[tune] {row}", flush=True)
    _write(out, doc)
    return 0


def _load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def summary(out_dir, stages_file):
    """Print a short table of the stages and their headline numbers."""
    try:
        _summary(Path(out_dir), stages_file)
    except Exception as exc:  # noqa: BLE001 - the stage lines at least
        print(Path(stages_file).read_text(), flush=True)
        print(f"(summary failed: {type(exc).__name__}: {exc})", flush=True)
    return 0


def _summary(out_dir, stages_file):
    lines = ["", "=== GPU window summary ==="]
    try:
        lines += Path(stages_file).read_text().strip().splitlines()
    except OSError:
        pass
    for probe_file in sorted(out_dir.glob("probe*.json")):
        doc = _load(probe_file) or {}
        steps = doc.get("steps", {})
        fits = ", ".join(
            f"{k}={'ok' if isinstance(v, dict) and v.get('ok') else 'FAIL'}"
            for k, v in steps.items()
        )
        lines.append(
            f"probe {doc.get('attempt')}: ok={doc.get('ok')} env={doc.get('env')}"
        )
        lines.append(f"  {fits}")
        for k, v in steps.items():
            if isinstance(v, dict) and v.get("error"):
                lines.append(f"  {k}: {v['error'][:200]}")
    gpu = _load(out_dir / "gpu.json") or {}
    for row in gpu.get("sgemm", []):
        lines.append(
            f"sgemm {row['n']}^3: own {row['own_gflops']:.0f} GFLOP/s "
            f"({row['own_pct_peak']:.1f}% peak), cuBLAS "
            f"{row.get('cublas_gflops', float('nan')):.0f}, own/cuBLAS "
            f"{row.get('own_over_cublas', float('nan')):.2f}"
        )
    for row in gpu.get("host", []):
        lines.append(
            f"host/device w{row['width']} b{row['batch']} {row['path']}: wall "
            f"{row['wall_us_per_batch']:.0f} us, launch "
            f"{row['host_launch_us_per_batch']:.0f} us, device "
            f"{row.get('device_us_per_batch', float('nan')):.0f} us "
            f"({row.get('bound', '-')})"
        )
    sweep = gpu.get("sweep", [])
    if sweep:
        lines.append("sweep width batch fastmlp/s torch/s ratio")
        for row in sweep:
            lines.append(
                f"  {row['width']:>5} {row['batch']:>8} "
                f"{row.get('fastmlp_samples_per_s', float('nan')):>12,.0f} "
                f"{row.get('torch_samples_per_s', float('nan')):>12,.0f} "
                f"{row.get('fastmlp_over_torch', float('nan')):>6.2f}"
                + (f" {row['error'][:60]}" if "error" in row else "")
            )
    for name, err in gpu.get("errors", {}).items():
        lines.append(f"bench.gpu {name} failed: {err[:200]}")
    res = _load(out_dir / "resources.json") or {}
    for row in res.get("kernels", []):
        if "registers" in row:
            lines.append(
                f"res {row['kernel']:<22} {row['dtype']:<7} regs {row['registers']} "
                f"shared {row['shared_bytes']} local {row['local_bytes']}"
            )
    tuning = _load(out_dir / "tuning.json") or {}
    for row in tuning.get("rows", []):
        value = row.get("gflops") or row.get("samples_per_s")
        unit = "GFLOP/s" if "gflops" in row else "samples/s"
        shown = f"{value:,.1f} {unit}" if value else row.get("error", "?")[:80]
        lines.append(f"tune {row['kind']} {row['settings']}: {shown}")
    print("\n".join(lines), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_window")
    sub = parser.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--out", required=True)
    p.add_argument("--attempt", default="plain")
    p = sub.add_parser("resources")
    p.add_argument("--out", required=True)
    p = sub.add_parser("tune")
    p.add_argument("--out", required=True)
    p.add_argument("--deadline-s", type=float, default=60.0)
    p = sub.add_parser("summary")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--stages", required=True)
    args = parser.parse_args(argv)
    if args.stage == "probe":
        return probe(args.out, args.attempt)
    if args.stage == "resources":
        return resources(args.out)
    if args.stage == "tune":
        return tune(args.out, args.deadline_s)
    return summary(args.out_dir, args.stages)


if __name__ == "__main__":
    sys.exit(main())
