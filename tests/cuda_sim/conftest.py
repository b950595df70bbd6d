"""CUDA-simulator lane: small tunables so multi-block and edge paths run."""

import os
import sys
from pathlib import Path

import pytest

# The oracle lives in tests/ (not a package): make it importable from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover
    raise RuntimeError("tests/cuda_sim needs NUMBA_ENABLE_CUDASIM=1 (see conftest)")

# The simulator's tunables (fastmlp.kernels.config.SIMULATOR_TUNABLES).
from fastmlp.kernels.config import SIMULATOR_TUNABLES as SMALL_CONFIG  # noqa: E402


@pytest.fixture(autouse=True)
def small_cuda_config(monkeypatch):
    from fastmlp.kernels import config

    for name, value in SMALL_CONFIG.items():
        monkeypatch.setattr(config, name, value)
    return config
