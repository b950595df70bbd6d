"""Test-suite configuration shared by every test module.

``tests/cuda_sim/`` holds the CUDA-simulator lane: those tests need
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, so the normal run
skips the folder and ``tests/test_cuda_simulator.py`` runs it in a
subprocess with the variable set.
"""

import os
import sys

# pytest-xdist starts its workers with ``python -c``, which puts the current
# folder (the repository root) first on sys.path: a bare ``import kernels``
# would then work there and hide exactly the import bugs the suite guards
# against (tests/test_packaging.py). Drop it, as a plain ``pytest`` has it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]

collect_ignore = [] if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else ["cuda_sim"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gpu: needs a real CUDA GPU (skipped without one)"
    )
