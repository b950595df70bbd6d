"""The CUDA backend on a real GPU, at realistic sizes (skipped without one).

The same checks as the simulator lane (``tests/cuda_sim/``) with the default
tunables: the tiled GEMMs against numpy, the fused MLP kernel against the
tiled path (fused == unfused), a device epoch against the CPU epoch, and the
estimators on ``device="cuda"`` and ``"auto"``.
"""

import numpy as np
import pytest
from fastmlp.kernels import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES, workspace_size
from fastmlp.kernels import cpu as cpu_kernels

from fastmlp._backend import real_gpu_available

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not real_gpu_available(),
        reason="no CUDA GPU usable by numba-cuda here (pip install 'fastmlp[cuda]' "
        "on a machine with an NVIDIA GPU and driver)",
    ),
]

TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
SOFTMAX = ACTIVATION_CODES["softmax"]
LOG_LOSS = LOSS_CODES["log_loss"]


@pytest.fixture(scope="module")
def gpu():
    from fastmlp.kernels import cuda

    return cuda


def glorot_params(rng, sizes, dtype):
    parts_w, parts_b = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        parts_w.append(rng.uniform(-bound, bound, fan_in * fan_out))
        parts_b.append(rng.uniform(-bound, bound, fan_out))
    return np.concatenate(parts_w + parts_b).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1000, 513, 700), (4096, 128, 257)])
def test_tiled_gemms_match_numpy(gpu, dtype, m, k, n):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(m, k)).astype(dtype)
    B = rng.normal(size=(k, n)).astype(dtype)
    expected = A.astype(np.float64) @ B
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for kernel, left, right in (
        (gpu.gemm_nn, A, B),
        (gpu.gemm_nt, A, np.ascontiguousarray(B.T)),
        (gpu.gemm_tn, np.ascontiguousarray(A.T), B),
    ):
        C = gpu.to_device(np.full((m, n), np.nan, dtype))
        kernel(gpu.to_device(left), gpu.to_device(right), C)
        np.testing.assert_allclose(
            gpu.to_host(C), expected, rtol=tol, atol=tol * np.sqrt(k) * 4
        )


@pytest.mark.parametrize("width", [16, 64, 128])
def test_fused_forward_equals_tiled_forward(gpu, monkeypatch, width):
    from fastmlp.kernels import config

    rng = np.random.default_rng(width)
    sizes = np.array([20, width, width, 10], dtype=np.int64)
    params = glorot_params(rng, sizes, np.float32)
    X = rng.normal(size=(5000, 20)).astype(np.float32)
    outs = []
    for max_width in (config.FUSED_MAX_WIDTH, 0):  # 0 forces the tiled path
        monkeypatch.setattr(config, "FUSED_MAX_WIDTH", max_width)
        out = gpu.to_device(np.full((5000, 10), np.nan, np.float32))
        gpu.forward(gpu.to_device(X), gpu.to_device(params), sizes, TANH, SOFTMAX, out)
        outs.append(gpu.to_host(out))
    expected = np.empty_like(outs[0])
    cpu_kernels.forward(X, params, sizes, TANH, SOFTMAX, expected)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(outs[0], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", [[128, 128], [256]], ids=["fused", "tiled"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("fused_epoch", [True, False], ids=["epoch", "per-batch"])
def test_device_epoch_equals_cpu_epoch(
    gpu, monkeypatch, dtype, hidden, solver, fused_epoch
):
    """Both narrow paths (the fused epoch's cooperative grid of many blocks,
    and the per-batch fused path) and the tiled path equal the CPU epoch."""
    from fastmlp.kernels import config
    from fastmlp.kernels.cuda import epoch

    monkeypatch.setattr(config, "FUSED_EPOCH", fused_epoch)
    rng = np.random.default_rng(1)
    n, batch = 4096, 256
    sizes = np.array([32, *hidden, 10], dtype=np.int64)
    params = glorot_params(rng, sizes, dtype)
    X = rng.normal(size=(n, 32)).astype(dtype)
    Y = np.eye(10, dtype=dtype)[rng.integers(0, 10, n)]
    hyper = np.array([1e-3, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0], dtype=dtype)
    size = workspace_size(sizes, batch)
    results = []
    for backend in (gpu, cpu_kernels):
        up = backend.to_device
        p = up(params.copy())
        m = up(np.zeros_like(params))
        v = up(np.zeros_like(params))
        step = np.zeros(1, dtype=np.int64)
        loss = backend.train_epoch(
            up(X),
            up(Y),
            up(np.empty(0, dtype)),
            up(np.arange(n, dtype=np.int64)),
            -1,
            p,
            up(np.zeros_like(params)),
            sizes,
            RELU,
            SOFTMAX,
            LOG_LOSS,
            batch,
            SOLVER_CODES[solver],
            hyper,
            m,
            v,
            step,
            up(np.empty(size, dtype)),
            up(np.empty(size, dtype)),
        )
        results.append((loss, backend.to_host(p)))
    assert epoch.fused_epoch_failure() is None
    tol = 2e-3 if dtype == np.float32 else 1e-9
    assert results[0][0] == pytest.approx(results[1][0], rel=tol)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=tol, atol=tol)


def test_estimators_train_on_the_gpu_like_on_the_cpu():
    from sklearn.datasets import load_digits

    from fastmlp import FastMLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    fitted = {}
    for device in ("cpu", "cuda", "auto"):
        fitted[device] = FastMLPClassifier(
            (64,), max_iter=5, shuffle=False, random_state=0, device=device
        ).fit(X, y)
    assert fitted["cuda"].device_ == "cuda"
    # digits' 64-64-10 network in batches of 200 is under auto's work rule.
    assert fitted["auto"].device_ == "cpu"
    np.testing.assert_allclose(
        fitted["cuda"].loss_curve_, fitted["cpu"].loss_curve_, rtol=1e-8
    )
    np.testing.assert_allclose(
        fitted["cuda"].predict_proba(X), fitted["cpu"].predict_proba(X), atol=1e-8
    )


def test_auto_trains_wide_networks_on_the_gpu_and_tiny_ones_on_the_cpu():
    from fastmlp import FastMLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(8192, 128)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    wide = FastMLPClassifier((512, 512), batch_size=1024, max_iter=1, random_state=0)
    assert wide.fit(X, y).device_ == "cuda"
    tiny = FastMLPClassifier((8, 8), batch_size=10, max_iter=1, random_state=0)
    assert tiny.fit(X[:100, :2], y[:100]).device_ == "cpu"
