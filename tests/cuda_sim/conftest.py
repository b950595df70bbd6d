"""CUDA-simulator lane: small tunables so multi-block and edge paths run."""

import os
import sys
from pathlib import Path

import pytest

# The oracle lives in tests/ (not a package): make it importable from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover
    raise RuntimeError("tests/cuda_sim needs NUMBA_ENABLE_CUDASIM=1 (see conftest)")

# Tiles of 4 x 4 outputs in 2 x 2 register tiles (4 threads), 2-deep K
# slabs, 8-thread reductions, fused blocks of 3 rows on 4 threads, fused
# widths up to 8: tiny shapes then span several blocks and partial tiles.
SMALL_CONFIG = {
    "THREADS_PER_BLOCK": 8,
    "GEMM_TILE_M": 4,
    "GEMM_TILE_N": 4,
    "GEMM_TILE_K": 2,
    "GEMM_THREAD_M": 2,
    "GEMM_THREAD_N": 2,
    "FUSED_ROWS": 3,
    "FUSED_THREADS": 4,
    "FUSED_MAX_WIDTH": 8,
    "PREDICT_CHUNK": 5,
}


@pytest.fixture(autouse=True)
def small_cuda_config(monkeypatch):
    from fastmlp.kernels import config

    for name, value in SMALL_CONFIG.items():
        monkeypatch.setattr(config, name, value)
    return config
