"""``device="auto"``: the work-per-batch rule, the CPU fallback when the CUDA
backend cannot compile, the numpy 2.5 shim and the launch-limit checks.

No GPU is needed: the presence of one and the probe compile's outcome are
patched where ``fastmlp._backend`` looks them up.
"""

import importlib.util
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from fastmlp import FastMLPClassifier, _backend

needs_numba_cuda = pytest.mark.skipif(
    importlib.util.find_spec("numba_cuda") is None,
    reason="numba-cuda is not installed (pip install -e '.[test]' brings it)",
)


@pytest.fixture
def gpu_present(monkeypatch):
    """A usable GPU as far as ``device="auto"`` can tell, whose probe compile
    succeeds unless the test says otherwise."""
    monkeypatch.setattr(_backend, "real_gpu_available", lambda: True)
    monkeypatch.setattr(_backend, "cuda_compile_error", lambda: None)
    return monkeypatch


def test_the_rule_counts_forward_multiply_adds_per_batch():
    assert _backend.macs_per_row([2, 8, 8, 1]) == 2 * 8 + 8 * 8 + 8 * 1
    threshold = _backend.AUTO_CUDA_MIN_MACS_PER_BATCH
    assert not _backend.auto_prefers_cuda([2, 8, 8, 1], 10)  # 880
    assert not _backend.auto_prefers_cuda([64, 100, 10], 200)  # digits: 1.5 M
    assert _backend.auto_prefers_cuda([784, 256, 256, 10], 4096)
    units = [threshold, 1]  # exactly at the threshold with one row
    assert _backend.auto_prefers_cuda(units, 1)
    assert not _backend.auto_prefers_cuda([threshold - 1, 1], 1)


@pytest.mark.parametrize(
    "solver, batch_size, n, rows",
    [("adam", "auto", 1000, 200), ("adam", "auto", 50, 50), ("sgd", 64, 1000, 64),
     ("sgd", 5000, 1000, 1000), ("lbfgs", "auto", 1000, 1000)],
)  # fmt: skip
def test_batch_rows_follow_the_solvers(solver, batch_size, n, rows):
    assert _backend.batch_rows(solver, batch_size, n) == rows


def test_auto_keeps_tiny_networks_on_the_cpu_and_wide_ones_on_the_gpu(gpu_present):
    assert _backend.resolve_device("auto", [2, 8, 8, 1], 10) == "cpu"
    assert _backend.resolve_device("auto", [784, 256, 256, 10], 4096) == "cuda"
    assert _backend.resolve_device("cpu", [784, 256, 256, 10], 4096) == "cpu"


def test_auto_never_compiles_for_a_tiny_network(gpu_present):
    def no_probe():
        raise AssertionError("the probe compile ran for a network kept on the CPU")

    gpu_present.setattr(_backend, "cuda_compile_error", no_probe)
    assert _backend.resolve_device("auto", [2, 8, 8, 1], 10) == "cpu"


def test_auto_falls_back_to_the_cpu_with_a_warning_when_cuda_cannot_compile(
    gpu_present,
):
    error = "AttributeError: module 'numpy' has no attribute 'row_stack'"
    gpu_present.setattr(_backend, "cuda_compile_error", lambda: error)
    with pytest.warns(RuntimeWarning, match="row_stack.*training on the CPU"):
        assert _backend.resolve_device("auto", [784, 256, 256, 10], 4096) == "cpu"
    # Prediction follows the same rule and never raises.
    with pytest.warns(RuntimeWarning):
        assert _backend.prediction_device("auto", [784, 256, 10], 10**5) == "cpu"


def test_a_default_fit_on_a_gpu_that_cannot_compile_trains_on_the_cpu(gpu_present):
    gpu_present.setattr(_backend, "cuda_compile_error", lambda: "NvvmSupportError: x")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 64))
    y = (X[:, 0] > 0).astype(int)
    est = FastMLPClassifier((256, 256), max_iter=1, random_state=0)
    with pytest.warns(RuntimeWarning, match="NvvmSupportError"):
        est.fit(X, y)
    assert est.device_ == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert est.predict(X[:3]).shape == (3,)


def test_a_tiny_default_fit_stays_on_the_cpu_with_a_gpu_present(gpu_present):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    est = FastMLPClassifier((8, 8), batch_size=10, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.fit(X, y)
    assert est.device_ == "cpu"


def test_the_probe_compile_is_tried_once_per_process():
    assert _backend.cuda_compile_error.cache_info().maxsize == 1


@needs_numba_cuda
def test_numpy_shim_is_applied_by_the_cuda_backend_only():
    # numpy 2.5 has no row_stack: stand in for it by deleting the alias.
    code = (
        "import numpy as np\n"
        "if hasattr(np, 'row_stack'): del np.row_stack\n"
        "import fastmlp\n"
        "assert not hasattr(np, 'row_stack'), 'import fastmlp patched numpy'\n"
        "from fastmlp.kernels.cuda import _common\n"
        "assert np.row_stack is np.vstack\n"
        "assert _common._numpy_compat() is False  # present now: left alone\n"
        "print('ok')\n"
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]


@needs_numba_cuda
def test_numpy_shim_leaves_a_numpy_with_row_stack_alone(monkeypatch):
    from fastmlp.kernels.cuda import _common

    sentinel = object()
    monkeypatch.setattr(np, "row_stack", sentinel, raising=False)
    assert _common._numpy_compat() is False
    assert getattr(np, "row_stack") is sentinel  # noqa: B009
    monkeypatch.delattr(np, "row_stack")
    assert _common._numpy_compat() is True
    assert getattr(np, "row_stack") is np.vstack  # noqa: B009


@needs_numba_cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_default_tunables_fit_a_block(dtype):
    from fastmlp.kernels.cuda import _common

    _common.check_fused_config(dtype)
    _common.check_gemm_config(dtype)
    assert _common.fused_shared_bytes(dtype) <= 48 * 1024
    assert _common.gemm_shared_bytes(dtype) <= 48 * 1024


@needs_numba_cuda
@pytest.mark.parametrize(
    "settings, dtype, names",
    [
        ({"FUSED_ROWS": 32}, np.float64, "FUSED_ROWS or FUSED_MAX_WIDTH"),
        ({"FUSED_ROWS": 16, "FUSED_MAX_WIDTH": 256}, np.float64, "FUSED_ROWS or"),
        ({"FUSED_ROWS": 64}, np.float32, "FUSED_ROWS or FUSED_MAX_WIDTH"),
        ({"FUSED_THREADS": 2048}, np.float32, "FUSED_THREADS"),
        ({"FUSED_THREADS": 96}, np.float32, "power of two"),
    ],
)
def test_fused_tunables_over_a_block_say_what_to_lower(
    monkeypatch, settings, dtype, names
):
    from fastmlp.kernels import config
    from fastmlp.kernels.cuda import _common

    for name, value in settings.items():
        monkeypatch.setattr(config, name, value)
    with pytest.raises(ValueError, match=names):
        _common.check_fused_config(dtype)


@needs_numba_cuda
def test_fused_tunables_under_the_limit_in_float32_only(monkeypatch):
    from fastmlp.kernels import config
    from fastmlp.kernels.cuda import _common

    monkeypatch.setattr(config, "FUSED_ROWS", 32)  # 32 KiB + 1 KiB in float32
    _common.check_fused_config(np.float32)
    with pytest.raises(ValueError, match="48 KiB"):
        _common.check_fused_config(np.float64)


@needs_numba_cuda
@pytest.mark.parametrize(
    "settings, match",
    [
        ({"GEMM_TILE_K": 64, "GEMM_TILE_M": 128}, "GEMM_TILE_K, GEMM_TILE_M"),
        ({"GEMM_THREAD_M": 1, "GEMM_THREAD_N": 1}, "threads"),
    ],
)
def test_gemm_tunables_over_a_block_say_what_to_change(monkeypatch, settings, match):
    from fastmlp.kernels import config
    from fastmlp.kernels.cuda import _common

    for name, value in settings.items():
        monkeypatch.setattr(config, name, value)
    with pytest.raises(ValueError, match=match):
        _common.check_gemm_config(np.float64)


def _store_one(x):
    x[0] = 1.0


@needs_numba_cuda
@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_fastmlp_cuda_cache_switch_turns_the_kernel_cache_off(monkeypatch, value):
    from fastmlp.kernels import _cache
    from numba.core.caching import NullCache

    cached = _cache.cuda_jit(cache=True)(_store_one)
    assert type(cached._cache).__name__ == "PackageCUDACache"
    monkeypatch.setenv("FASTMLP_CUDA_CACHE", value)
    assert not _cache.cuda_cache_enabled()
    uncached = _cache.cuda_jit(cache=True)(_store_one)
    assert isinstance(uncached._cache, NullCache) or (
        type(uncached._cache).__name__ == "NullCache"
    )
    monkeypatch.setenv("FASTMLP_CUDA_CACHE", "1")
    assert _cache.cuda_cache_enabled()
