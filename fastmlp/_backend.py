"""Choosing the compute backend for ``device="auto" | "cpu" | "cuda"``.

Backends are modules implementing the kernel contract of
:mod:`fastmlp.kernels`. They are imported on first use so that
``import fastmlp`` compiles nothing and never imports ``numba.cuda``; a CPU
fit with ``device="auto"`` does not import it either: the presence of a GPU
is asked of the CUDA driver directly (``libcuda``), and ``numba.cuda`` is
imported only when a GPU is there (or ``device="cuda"`` is asked for).
"""

import ctypes
import functools
import importlib
import importlib.util

_INSTALL_HINT = 'pip install "fastmlp[cuda]"'


class BackendUnavailableError(RuntimeError):
    """The requested device cannot be used on this machine or in this build."""


@functools.lru_cache(maxsize=1)
def _numba_cuda_installed():
    # Cached: find_spec walks sys.path (~35 us), and predict asks every call.
    return importlib.util.find_spec("numba_cuda") is not None


def _simulator_enabled():
    """True when numba runs CUDA kernels in its CPU simulator (tests only)."""
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)


@functools.lru_cache(maxsize=1)
def _driver_gpu_count():
    """Number of CUDA devices the driver reports (0 without driver or GPU)."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        try:
            if lib.cuInit(0) != 0 or lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
                return 0
        except AttributeError:
            return 0
        return int(count.value)
    return 0


@functools.lru_cache(maxsize=1)
def _numba_sees_gpu():
    from numba import cuda

    return bool(cuda.is_available())


def real_gpu_available():
    """True when a real CUDA GPU is usable by numba-cuda (never the simulator)."""
    if not _numba_cuda_installed() or _simulator_enabled():
        return False
    return _driver_gpu_count() > 0 and _numba_sees_gpu()


def _cuda_unavailable_reason():
    """Why ``device='cuda'`` cannot run here, or None when it can."""
    if not _numba_cuda_installed():
        return (
            "the numba-cuda package is not installed. Install the GPU extra with "
            f"{_INSTALL_HINT} (numba-cuda with the CUDA 12 toolkit wheels)"
        )
    if _simulator_enabled():
        return None
    if _driver_gpu_count() == 0:
        return (
            "no NVIDIA GPU and CUDA driver were found (libcuda did not load or "
            "reports no device). Run on a machine with an NVIDIA GPU and driver; "
            f"the toolkit comes with {_INSTALL_HINT}"
        )
    if not _numba_sees_gpu():
        return (
            "numba-cuda cannot use the GPU that the driver reports "
            "(numba.cuda.is_available() is False: the CUDA toolkit libraries are "
            f"probably missing). Install them with {_INSTALL_HINT}"
        )
    return None


def resolve_device(device):
    """Return the concrete device name ("cpu" or "cuda") for a ``device`` param.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    str
        ``"auto"``: ``"cuda"`` when a real GPU is usable (never the CUDA
        simulator), else ``"cpu"``. ``"cuda"``: ``"cuda"`` on a real GPU, or
        on numba's CUDA simulator when ``NUMBA_ENABLE_CUDASIM=1`` (how the
        test suite runs the GPU path without one).

    Raises
    ------
    BackendUnavailableError
        For ``device="cuda"`` when no GPU backend can run, saying what is
        missing and how to install it.
    """
    if device == "cuda":
        reason = _cuda_unavailable_reason()
        if reason is not None:
            raise BackendUnavailableError(
                f"device='cuda' was requested, but {reason}. Or use device='cpu' "
                "(or device='auto', which picks a GPU when one is usable)."
            )
        return "cuda"
    if device == "auto" and real_gpu_available():
        return "cuda"
    return "cpu"


def prediction_device(device):
    """Device for predicting with a fitted model; never raises.

    A model predicts where its ``device`` parameter would train when that is
    possible here, and on the CPU otherwise (a GPU-trained model unpickled
    on a CPU-only machine predicts on the CPU).
    """
    try:
        return resolve_device(device)
    except BackendUnavailableError:
        return "cpu"


def get_backend(device_name):
    """Import and return the kernel module for a concrete device name."""
    return importlib.import_module(f"fastmlp.kernels.{device_name}")
