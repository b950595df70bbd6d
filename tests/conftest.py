"""Test-suite configuration shared by every test module.

``tests/cuda_sim/`` holds the CUDA-simulator lane: those tests need
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, so the normal run
skips the folder and ``tests/test_cuda_simulator.py`` runs it in a
subprocess with the variable set (marker ``integration``: its own lane,
``pytest -m integration``, which CI runs after the default run).
"""

import os
import sys

# An editable install compiles the host's kernel set into kernels/_aot/ (the
# kernels a wheel ships; setup.py): the suite tests the JIT path and numba's
# cache as a source install has them, with the shipped set ignored, in this
# process and every child it starts. tests/test_shipped.py turns it back on.
os.environ.setdefault("FASTMLP_SHIPPED_KERNELS", "0")

collect_ignore = [] if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else ["cuda_sim"]


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        # A pytest-xdist worker, started with ``python -c``: the current folder
        # (the repository root) is first on sys.path, where a bare ``import
        # kernels`` would work and hide exactly the import bugs the suite
        # guards against (tests/test_packaging.py). Drop it, as plain pytest.
        sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    config.addinivalue_line(
        "markers", "gpu: needs a real CUDA GPU (skipped without one)"
    )
