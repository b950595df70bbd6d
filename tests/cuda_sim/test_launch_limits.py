"""Launch limits and launch warnings of the CUDA backend, in the simulator.

* the tiled GEMM takes any number of rows: its row tiles stride over grid.y,
  whose limit (65,535 blocks) is patched down to 2 here;
* tunables whose fused kernel would not fit a block's 48 KiB of shared memory
  stop a fit before any launch, saying what to lower;
* numba-cuda's low-occupancy warning is silenced for fastmlp's launches only.
"""

import warnings

import numpy as np
import pytest
from fastmlp.kernels import cuda
from fastmlp.kernels.cuda import gemm as gemm_module
from numba.cuda.simulator.kernel import FakeCUDAKernel

from fastmlp import FastMLPClassifier


@pytest.mark.parametrize("max_grid_y", [1, 2, 65535])
def test_gemm_row_tiles_beyond_the_grid_limit_are_all_computed(monkeypatch, max_grid_y):
    monkeypatch.setattr(gemm_module, "MAX_GRID_Y", max_grid_y)
    rng = np.random.default_rng(0)
    m, k, n = 19, 5, 6  # 5 row tiles of 4 (the last partial), 2 column tiles
    A = rng.normal(size=(m, k))
    B = rng.normal(size=(k, n))
    for kernel, left, right in (
        (cuda.gemm_nn, A, B),
        (cuda.gemm_nt, A, np.ascontiguousarray(B.T)),
        (cuda.gemm_tn, np.ascontiguousarray(A.T), B),
    ):
        C = cuda.to_device(np.full((m, n), np.nan))
        kernel(cuda.to_device(left), cuda.to_device(right), C)
        np.testing.assert_allclose(cuda.to_host(C), A @ B, rtol=1e-12, atol=1e-12)


def test_gradient_gemm_column_sums_come_from_the_first_row_tile_only(monkeypatch):
    monkeypatch.setattr(gemm_module, "MAX_GRID_Y", 2)
    rng = np.random.default_rng(1)
    rows, fi, fo = 7, 9, 5  # gW (fi x fo): 3 row tiles of 4 on 2 grid rows
    A = rng.normal(size=(rows, fi))
    D = rng.normal(size=(rows, fo))
    W = rng.normal(size=(fi, fo))
    gW = cuda.to_device(np.full((fi, fo), np.nan))
    gb = cuda.to_device(np.full(fo, np.nan))
    cuda.dense_grad(
        cuda.to_device(A), cuda.to_device(D), cuda.to_device(W), 0.5, 0.25, gW, gb
    )
    np.testing.assert_allclose(cuda.to_host(gW), (A.T @ D + 0.5 * W) * 0.25)
    np.testing.assert_allclose(cuda.to_host(gb), D.sum(axis=0) * 0.25)


def test_full_batch_rows_over_the_grid_limit_train_like_the_cpu(monkeypatch):
    monkeypatch.setattr(gemm_module, "MAX_GRID_Y", 2)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    y = np.arange(30) % 3
    common = dict(hidden_layer_sizes=(9,), max_iter=2, batch_size=30, random_state=0)
    common["shuffle"] = False
    gpu = FastMLPClassifier(device="cuda", **common).fit(X, y)
    cpu = FastMLPClassifier(device="cpu", **common).fit(X, y)
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_tunables_over_48_kib_stop_the_fit_before_any_launch(
    small_cuda_config, monkeypatch, dtype
):
    monkeypatch.setattr(small_cuda_config, "FUSED_ROWS", 64)
    monkeypatch.setattr(
        small_cuda_config, "FUSED_MAX_WIDTH", 256 if dtype == np.float32 else 128
    )
    X = np.random.default_rng(3).normal(size=(12, 3)).astype(dtype)
    y = np.arange(12) % 2
    est = FastMLPClassifier((4,), max_iter=1, random_state=0, device="cuda")
    with pytest.raises(ValueError, match="Lower fastmlp.kernels.config.FUSED_ROWS"):
        est.fit(X, y)


def _warn_like_numba_cuda(monkeypatch):
    """Make the simulator's launch configuration warn as numba-cuda's does
    for a grid of fewer than 128 blocks."""
    from numba.cuda.core.errors import NumbaPerformanceWarning

    original = FakeCUDAKernel.__getitem__

    def getitem(self, configuration):
        grid = configuration[0]
        blocks = int(np.prod(grid)) if isinstance(grid, tuple) else int(grid)
        if blocks < 128:
            # with colorama installed numba-cuda's message starts with a
            # colour code (as on the GPU machine): the filter must still match
            warnings.warn(
                NumbaPerformanceWarning(
                    f"\x1b[1mGrid size {blocks} will likely result in GPU "
                    "under-utilization due to low occupancy.\x1b[0m"
                ),
                stacklevel=2,
            )
        return original(self, configuration)

    monkeypatch.setattr(FakeCUDAKernel, "__getitem__", getitem)
    return NumbaPerformanceWarning


def test_low_occupancy_warnings_of_fastmlps_launches_are_silenced(monkeypatch):
    category = _warn_like_numba_cuda(monkeypatch)
    X = np.random.default_rng(4).normal(size=(12, 3))
    y = np.arange(12) % 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for width in (4, 9):  # fused and tiled
            est = FastMLPClassifier(
                (width,), max_iter=1, batch_size=5, random_state=0, device="cuda"
            ).fit(X, y)
            est.predict_proba(X)
    assert not [w for w in caught if issubclass(w.category, category)]

    # A user's own launch still warns.
    from numba import cuda as numba_cuda

    @numba_cuda.jit
    def user_kernel(x):
        x[0] = 1.0

    with pytest.warns(category, match="Grid size 1"):
        user_kernel[1, 1](numba_cuda.to_device(np.zeros(1)))
