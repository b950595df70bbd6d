"""The CUDA backend's simulator lane, run in a subprocess.

numba's CUDA simulator must be switched on (``NUMBA_ENABLE_CUDASIM=1``)
before numba is imported, while the rest of the suite runs numba normally:
so ``tests/cuda_sim/`` is left out of the normal collection
(``tests/conftest.py``) and run here by a child pytest with the variable set.
It needs the ``numba-cuda`` package (in the ``test`` extra), not a GPU. It
takes 2-4 minutes, so it is in the integration lane (``pytest -m
integration``, run by CI), not the default run.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.mark.integration
@pytest.mark.skipif(
    importlib.util.find_spec("numba_cuda") is None,
    reason="numba-cuda is not installed (pip install -e '.[test]' brings it): "
    "the CUDA simulator lane cannot run",
)
def test_cuda_backend_passes_its_simulator_lane():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",  # one process: this test runs in a worker of the main run
            str(TESTS / "cuda_sim"),
        ],
        cwd=TESTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = f"{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"simulator lane failed:\n{output}"
    assert " passed" in proc.stdout and " failed" not in proc.stdout
