"""Every CUDA kernel compiles for a real GPU (NVVM to PTX, sm_90), no GPU needed.

The simulator runs kernels as Python, so it cannot tell whether numba-cuda
can compile them for a device. This test records, in a simulator child
process, every kernel launch of training and prediction runs that take every
path (float32/float64, fused and tiled, adam/sgd, classifier and regressor,
sample weights, L1, early stopping) with the argument types of each launch.
Here, with numba's real CUDA target, it builds the same kernels with the
default configuration and compiles each recorded signature to PTX with
``numba.cuda.compile_ptx`` for compute capability 9.0 (H100).

It needs NVVM (``pip install -e ".[cuda]"`` brings it with numba-cuda[cu12]);
the default test extra has numba-cuda without the toolkit, so there it skips.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

_RECORDER = r"""
import json, sys, warnings
import numpy as np
import numba
from numba.cuda.simulator.kernel import FakeCUDAKernel
from fastmlp.kernels import config

# Small tunables: the simulator runs every GPU thread as a Python thread.
for name, value in {"THREADS_PER_BLOCK": 8, "GEMM_TILE_M": 4, "GEMM_TILE_N": 4,
                    "GEMM_TILE_K": 2, "GEMM_THREAD_M": 2, "GEMM_THREAD_N": 2,
                    "FUSED_ROWS": 3, "FUSED_THREADS": 4, "FUSED_MAX_WIDTH": 8,
                    "PREDICT_CHUNK": 5}.items():
    setattr(config, name, value)

from fastmlp.kernels import cuda as backend
from fastmlp.kernels.cuda import gemm as gemm_module, kernels1d as kernels_module

origin = {}  # id(kernel) -> how to rebuild it
gemm_factory, kernels_factory = backend._gemm_kernel, backend._kernels

def gemm_kernel(orient, epilogue, dtype, *tiles):
    k = gemm_factory(orient, epilogue, dtype, *tiles)
    origin[id(k)] = ["gemm", orient, epilogue, np.dtype(dtype).name]
    return k

def kernels(dtype, *cfg):
    ns = kernels_factory(dtype, *cfg)
    for attr, k in vars(ns).items():
        origin[id(k)] = ["ns", attr, np.dtype(dtype).name]
    return ns

# Patched where the launches look them up: the modules that define them.
gemm_module._gemm_kernel, kernels_module._kernels = gemm_kernel, kernels

def describe(a):
    t = numba.typeof(a)
    if isinstance(t, numba.types.Array):
        return ["array", str(t.dtype), t.ndim, t.layout]
    return ["scalar", str(t)]

seen = {}
call = FakeCUDAKernel.__call__

def recording(self, *args):
    if not self._device:
        key = json.dumps([origin[id(self)], [describe(a) for a in args]])
        seen[key] = True
    return call(self, *args)

FakeCUDAKernel.__call__ = recording

from fastmlp import FastMLPClassifier, FastMLPRegressor
rng = np.random.default_rng(0)
warnings.simplefilter("ignore")
for dtype in (np.float32, np.float64):
    X = rng.standard_normal((12, 3)).astype(dtype)
    y3 = np.arange(12) % 3
    for width, solver, kw in [(4, "adam", {}), (4, "sgd", {"l1": 1e-3}),
                              (9, "adam", {"l1": 1e-3}), (9, "sgd", {})]:
        common = dict(hidden_layer_sizes=(width,), solver=solver, max_iter=2,
                      batch_size=5, random_state=0, device="cuda", **kw)
        clf = FastMLPClassifier(**common).fit(X, y3, sample_weight=np.ones(12))
        clf.predict_proba(X)
        FastMLPClassifier(early_stopping=True, validation_fraction=0.3,
                          **common).fit(X, y3 % 2).predict_proba(X)
        reg = FastMLPRegressor(**common).fit(X, X[:, :2])
        reg.predict(X)
        FastMLPRegressor(loss="poisson", **common).fit(X, np.abs(X[:, 0])).predict(X)
# The per-batch fused path too (the fused epoch is the default).
config.FUSED_EPOCH = False
for dtype in (np.float32, np.float64):
    X = rng.standard_normal((12, 3)).astype(dtype)
    for solver in ("adam", "sgd"):
        FastMLPClassifier(hidden_layer_sizes=(4,), solver=solver, max_iter=1,
                          batch_size=5, random_state=0, device="cuda").fit(X, y3)
print(json.dumps(sorted(seen)))
"""


def _nvvm_available():
    if importlib.util.find_spec("numba_cuda") is None:
        return False
    try:
        # First, as fastmlp does: the CUDA backend's import gives numpy >= 2.5
        # back the np.row_stack that numba-cuda's first compile needs.
        import fastmlp.kernels.cuda  # noqa: F401
        from numba import cuda

        def probe(x):
            x[0] = 1.0

        cuda.compile_ptx(probe, "(float32[:],)", cc=(9, 0))
        return True
    except Exception:  # noqa: BLE001 - no NVVM/NVRTC in this environment
        return False


pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not _nvvm_available(),
    reason="needs numba-cuda with NVVM (pip install -e '.[cuda]'), no simulator",
)


def _numba_type(desc):
    from numba import types

    if desc[0] == "array":
        _, dtype, ndim, layout = desc
        return types.Array(getattr(types, dtype), ndim, layout)
    return getattr(types, desc[1])


class _Sm90:
    """Stands in for the current device when compiling device functions.

    numba-cuda compiles a kernel's device functions for the current device's
    compute capability; with no GPU (and no driver) here, say 9.0.
    """

    compute_capability = (9, 0)


def test_every_launched_kernel_compiles_to_ptx_for_sm90(monkeypatch, tmp_path):
    from fastmlp.kernels import cuda as backend
    from numba import cuda
    from numba.cuda import dispatcher

    monkeypatch.setattr(dispatcher, "get_current_device", lambda: _Sm90())

    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [sys.executable, "-c", _RECORDER],
        # Not the repository root: its fastmlp/ folder (without kernels/)
        # would shadow a fastmlp found on PYTHONPATH (tests/test_cuda_ptx_envs).
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    launches = [json.loads(k) for k in json.loads(proc.stdout.strip().splitlines()[-1])]
    names = {
        tuple(origin[:2]) if origin[0] == "ns" else ("gemm",) for origin, _ in launches
    }
    for expected in [
        "fused_epoch",
        "fused_train",
        "fused_forward",
        "adam",
        "sgd",
        "loss_delta",
        "permute",
    ]:
        assert ("ns", expected) in names, expected
    assert ("gemm",) in names

    failures = []
    for origin, arg_types in launches:
        dtype = np.dtype(origin[-1]).type
        if origin[0] == "gemm":
            kernel = backend._gemm_kernel(
                origin[1], origin[2], dtype, *backend._gemm_config()
            )
        else:
            kernel = getattr(
                backend._kernels(dtype, *backend._kernel_config()), origin[1]
            )
        sig = tuple(_numba_type(d) for d in arg_types)
        try:
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
            assert ".entry" in ptx
        except Exception as exc:  # noqa: BLE001 - collected and reported
            failures.append(f"{origin} {sig}: {type(exc).__name__}: {exc}"[:600])
    assert not failures, "\n".join(failures)
    assert len(launches) >= 20
