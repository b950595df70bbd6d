"""Choosing the compute backend for ``device="auto" | "cpu" | "cuda"``.

Backends are modules implementing the kernel contract of
:mod:`fastmlp.kernels`. They are imported on first use so that
``import fastmlp`` compiles nothing and never imports ``numba.cuda``; a CPU
fit with ``device="auto"`` does not import it either: the presence of a GPU
is asked of the CUDA driver directly (``libcuda``), and ``numba.cuda`` is
imported only when a GPU is there (or ``device="cuda"`` is asked for).

``device="auto"`` trains on the GPU only when it will be faster there: when a
minibatch holds at least :data:`AUTO_CUDA_MIN_MACS_PER_BATCH` multiply-adds of
the forward pass (``batch x sum(fan_in x fan_out)``; a training step does
about three times that). Below, the ~100 us of kernel launches a GPU
minibatch costs exceed the CPU's time for the whole step (a 2-8-8-1 network in
batches of 10 is 880 multiply-adds: microseconds on a CPU). And it trains on
the GPU only when the CUDA backend compiles and runs a probe kernel (once per
process); otherwise it warns and trains on the CPU.
"""

import ctypes
import functools
import importlib
import importlib.util
import warnings

#: ``device="auto"`` picks the GPU when a minibatch (a prediction: the whole
#: input) holds at least this many multiply-adds of the forward pass.
AUTO_CUDA_MIN_MACS_PER_BATCH = 2**22

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


def macs_per_row(layer_units):
    """Multiply-adds of one row's forward pass: ``sum(fan_in x fan_out)``."""
    units = [int(u) for u in layer_units]
    return sum(a * b for a, b in zip(units[:-1], units[1:], strict=False))


def batch_rows(solver, batch_size, n_samples):
    """Rows of one minibatch as the solvers take them (``lbfgs``: all)."""
    if solver == "lbfgs":
        return int(n_samples)
    if batch_size == "auto":
        return min(200, int(n_samples))
    return max(1, min(int(batch_size), int(n_samples)))


def auto_prefers_cuda(layer_units, rows):
    """The ``device="auto"`` rule: a GPU pays when ``rows`` rows of the
    network ``layer_units`` hold at least ``AUTO_CUDA_MIN_MACS_PER_BATCH``
    forward multiply-adds."""
    return int(rows) * macs_per_row(layer_units) >= AUTO_CUDA_MIN_MACS_PER_BATCH


@functools.lru_cache(maxsize=1)
def cuda_compile_error():
    """None when the CUDA backend compiles and runs its probe kernel here,
    else why not (``"ExceptionType: message"``). Tried once per process."""
    try:
        from fastmlp.kernels import cuda as backend

        backend.self_test()
    except Exception as exc:  # noqa: BLE001 - any failure means: not usable
        return f"{type(exc).__name__}: {exc}"
    return None


def _auto_falls_back(error):
    warnings.warn(
        "device='auto' found a CUDA GPU, but fastmlp's CUDA backend cannot "
        f"compile or run there ({error}); training on the CPU instead. Set "
        "device='cpu' to silence this, or device='cuda' to see the error.",
        RuntimeWarning,
        stacklevel=4,
    )


def resolve_device(device, layer_units=None, rows=None):
    """Return the concrete device name ("cpu" or "cuda") for a ``device`` param.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
    layer_units : sequence of int, optional
        The network (input, hidden and output widths), for ``"auto"``.
    rows : int, optional
        Rows of one minibatch (of a prediction: of the input), for ``"auto"``.

    Returns
    -------
    str
        ``"auto"``: ``"cuda"`` when a real GPU is usable (never the CUDA
        simulator) and, given ``layer_units`` and ``rows``, when the work per
        batch passes :func:`auto_prefers_cuda` and the backend compiles
        (:func:`cuda_compile_error`; if not, a ``RuntimeWarning`` and
        ``"cpu"``), else ``"cpu"``. ``"cuda"``: ``"cuda"`` on a real GPU, or
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
    if device != "auto" or not real_gpu_available():
        return "cpu"
    if layer_units is None or rows is None:
        return "cuda"  # a first answer: fit decides once it knows the network
    if not auto_prefers_cuda(layer_units, rows):
        return "cpu"
    error = cuda_compile_error()
    if error is not None:
        _auto_falls_back(error)
        return "cpu"
    return "cuda"


def prediction_device(device, layer_units=None, rows=None):
    """Device for predicting with a fitted model; never raises.

    A model predicts where its ``device`` parameter would train when that is
    possible here, and on the CPU otherwise (a GPU-trained model unpickled
    on a CPU-only machine predicts on the CPU); ``"auto"`` follows the same
    rule as for training, with all ``rows`` of the input as one batch.
    """
    try:
        return resolve_device(device, layer_units, rows)
    except BackendUnavailableError:
        return "cpu"


def get_backend(device_name):
    """Import and return the kernel module for a concrete device name."""
    return importlib.import_module(f"fastmlp.kernels.{device_name}")
