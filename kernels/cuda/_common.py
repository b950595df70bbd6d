"""Shared by every module of the CUDA backend: ``numba.cuda`` (imported here
once, after the cache folder is made writable and numpy patched for
numba-cuda), the code constants, the host <-> device copies, the launch-limit
checks and small launch helpers."""

import functools
import re
import warnings
from functools import cache

import numba
import numpy as np

from .. import (  # noqa: F401 - the codes by name, re-exported to the CUDA modules
    ACTIVATION_CODES,
    ADAM,
    BINARY_LOG_LOSS,
    EXP,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    LOSS_CODES,
    POISSON,
    RELU,
    SGD,
    SOFTMAX,
    SOLVER_CODES,
    SQUARED_ERROR,
    TANH,
    config,
)
from .._cache import cuda_jit, ensure_writable_cache


def _numpy_compat():
    """Give numpy back ``np.row_stack`` when it lacks it (numpy >= 2.5).

    numba-cuda 0.30 registers an overload of ``np.row_stack`` when it loads
    its array registries at the first CUDA compile; numpy 2.5 removed that
    alias of ``np.vstack``, so without it every first compile raises
    ``AttributeError`` (numba-cuda is in maintenance mode and will not fix
    it). Only the missing name is added, and only when the CUDA backend is
    imported (never at ``import fastmlp``).

    Returns
    -------
    bool
        True when the alias was added by this call.
    """
    if hasattr(np, "row_stack"):
        return False
    np.row_stack = np.vstack  # noqa: NPY201 - the alias numba-cuda needs
    return True


_numpy_compat()
# Before numba-cuda copies NUMBA_CACHE_DIR: a read-only install must not fail.
ensure_writable_cache()
from numba import cuda  # noqa: E402

try:  # numba-cuda reads its own copy of NUMBA_CACHE_DIR, maybe before the above
    from numba.cuda.core import config as _cuda_config

    if numba.config.CACHE_DIR and not getattr(_cuda_config, "CACHE_DIR", None):
        _cuda_config.CACHE_DIR = numba.config.CACHE_DIR
except ImportError:  # pragma: no cover - older layouts
    pass

# The codes by name come from the one table in fastmlp.kernels (imported above).

# GEMM orientations and epilogues (compile-time constants of a GEMM kernel).
NN, NT, TN = 0, 1, 2
EPI_STORE = 0  # C = acc
EPI_BIAS_ACT = 1  # C = f(acc + bias)
EPI_DERIV = 2  # C = acc * f'(A_act)
EPI_GRAD = 3  # C = (acc + alpha W + l1 sign W) * scale; gb = scale * colsum(B)

_MASK32 = 0xFFFFFFFF


# --------------------------------------------------------------------------
# host <-> device
# --------------------------------------------------------------------------
def _is_device_array(a):
    # numba's device arrays (and the simulator's) have copy_to_host; numpy's not.
    return hasattr(a, "copy_to_host")


def to_device(host_array):
    """Copy a host array to the device (C-contiguous); device arrays pass through."""
    if _is_device_array(host_array):
        return host_array
    return cuda.to_device(np.ascontiguousarray(host_array))


def to_host(device_array):
    """Copy a device array to a new host numpy array; host arrays pass through."""
    if _is_device_array(device_array):
        return device_array.copy_to_host()
    return np.asarray(device_array)


def fused_mlp_supported(layer_sizes):
    """True when every layer after the input fits the fully fused kernel."""
    sizes = [int(s) for s in layer_sizes]
    return max(sizes[1:]) <= config.FUSED_MAX_WIDTH


def _dtype_of(a):
    return np.dtype(a.dtype).type


@cache
def _empty(dtype, ndim):
    """A zero-size device array standing in for an unused argument."""
    return cuda.device_array((0,) * ndim, dtype=dtype)


# numba-cuda warns at every launch of fewer than 128 blocks ("Grid size N will
# likely result in GPU under-utilization due to low occupancy"): a narrow
# network's minibatch is such a launch, every batch. fastmlp silences it for
# its own launches only (the users' kernels keep it).
# The message may start with a terminal colour code: numba-cuda highlights its
# warnings when colorama is installed (seen on the first real GPU: the filter
# anchored at "Grid size" let every one through).
_LOW_OCCUPANCY = re.compile(r".*Grid size \d+ will likely result in GPU under-util")


def _performance_warning_classes():
    classes = []
    for module in ("numba.cuda.core.errors", "numba.core.errors"):
        try:
            mod = __import__(module, fromlist=["NumbaPerformanceWarning"])
            classes.append(mod.NumbaPerformanceWarning)
        except (ImportError, AttributeError):  # pragma: no cover - layouts
            pass
    return tuple(dict.fromkeys(classes)) or (Warning,)


_PERFORMANCE_WARNINGS = _performance_warning_classes()


def quiet_launches(func):
    """Run ``func`` with numba-cuda's low-occupancy warnings silenced.

    Wraps the backend's public host functions (every launch of fastmlp goes
    through one), so only fastmlp's launches are silenced; other warnings,
    numba-cuda's implicit-copy warning among them, still show.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            for category in _PERFORMANCE_WARNINGS:
                warnings.filterwarnings(
                    "ignore", message=_LOW_OCCUPANCY.pattern, category=category
                )
            return func(*args, **kwargs)

    return wrapper


#: Static shared memory a block may use without opting in (every CUDA GPU).
SHARED_MEMORY_LIMIT = 48 * 1024
#: Threads a block may have (every CUDA GPU since compute capability 2.0).
MAX_THREADS_PER_BLOCK = 1024


def fused_shared_bytes(dtype):
    """Static shared memory of the fused MLP kernel for ``dtype``, in bytes:
    two ``FUSED_ROWS x FUSED_MAX_WIDTH`` activation tiles and a float64
    reduction buffer of ``FUSED_THREADS``."""
    item = np.dtype(dtype).itemsize
    return 2 * config.FUSED_ROWS * config.FUSED_MAX_WIDTH * item + (
        8 * config.FUSED_THREADS
    )


def gemm_shared_bytes(dtype):
    """Static shared memory of the tiled GEMM for ``dtype``, in bytes:
    ``GEMM_TILE_K x (GEMM_TILE_M + GEMM_TILE_N)`` staged operands."""
    item = np.dtype(dtype).itemsize
    return config.GEMM_TILE_K * (config.GEMM_TILE_M + config.GEMM_TILE_N) * item


def check_fused_config(dtype):
    """Raise ``ValueError`` when the fused kernel's tunables exceed a block's
    limits for ``dtype`` (48 KiB of shared memory, 1024 threads), saying
    which tunables of :mod:`fastmlp.kernels.config` to lower."""
    need = fused_shared_bytes(dtype)
    if need > SHARED_MEMORY_LIMIT:
        raise ValueError(
            f"The fused MLP kernel would need {need} bytes of shared memory per "
            f"block in {np.dtype(dtype).name} (2 x FUSED_ROWS={config.FUSED_ROWS} "
            f"x FUSED_MAX_WIDTH={config.FUSED_MAX_WIDTH} x "
            f"{np.dtype(dtype).itemsize} bytes + 8 x FUSED_THREADS="
            f"{config.FUSED_THREADS}); the limit is {SHARED_MEMORY_LIMIT} "
            "(48 KiB). Lower fastmlp.kernels.config.FUSED_ROWS or FUSED_MAX_WIDTH."
        )
    threads = config.FUSED_THREADS
    if not (0 < threads <= MAX_THREADS_PER_BLOCK and threads & (threads - 1) == 0):
        raise ValueError(
            f"FUSED_THREADS={config.FUSED_THREADS} is not a block size: set "
            f"fastmlp.kernels.config.FUSED_THREADS to a power of two <= "
            f"{MAX_THREADS_PER_BLOCK}."
        )


def check_gemm_config(dtype):
    """Raise ``ValueError`` when the GEMM tunables exceed a block's limits for
    ``dtype`` (48 KiB of shared memory, 1024 threads), saying what to lower."""
    need = gemm_shared_bytes(dtype)
    if need > SHARED_MEMORY_LIMIT:
        raise ValueError(
            f"The tiled GEMM would need {need} bytes of shared memory per block "
            f"in {np.dtype(dtype).name} (GEMM_TILE_K={config.GEMM_TILE_K} x "
            f"(GEMM_TILE_M={config.GEMM_TILE_M} + GEMM_TILE_N="
            f"{config.GEMM_TILE_N}) x {np.dtype(dtype).itemsize} bytes); the "
            f"limit is {SHARED_MEMORY_LIMIT} (48 KiB). Lower "
            "fastmlp.kernels.config.GEMM_TILE_K, GEMM_TILE_M or GEMM_TILE_N."
        )
    threads = (config.GEMM_TILE_M // config.GEMM_THREAD_M) * (
        config.GEMM_TILE_N // config.GEMM_THREAD_N
    )
    if not 0 < threads <= MAX_THREADS_PER_BLOCK:
        raise ValueError(
            f"The tiled GEMM's block would have {threads} threads "
            "((GEMM_TILE_M / GEMM_THREAD_M) x (GEMM_TILE_N / GEMM_THREAD_N)); "
            f"at most {MAX_THREADS_PER_BLOCK}: raise GEMM_THREAD_M or "
            "GEMM_THREAD_N, or lower GEMM_TILE_M or GEMM_TILE_N."
        )


@cache
def _self_test_kernel():
    @cuda_jit(cache=True)
    def self_test_kernel(x):
        """``x[i] = 2 x[i] + 1``: the least kernel that exercises the
        compile, the cache, the launch and the copies of the backend."""
        i = cuda.grid(1)
        if i < x.shape[0]:
            x[i] = x[i] * 2.0 + 1.0

    return self_test_kernel


@quiet_launches
def self_test():
    """Compile (or load from the cache), launch and check a probe kernel.

    Raises whatever numba-cuda raises when it cannot (no NVVM, no driver,
    ``np.row_stack`` missing, a cache that cannot be written, ...), or
    ``RuntimeError`` on a wrong result.
    """
    x = cuda.to_device(np.arange(4, dtype=np.float32))
    _self_test_kernel()[1, 4](x)
    got = x.copy_to_host()
    if not np.array_equal(got, 2 * np.arange(4, dtype=np.float32) + 1):
        raise RuntimeError(f"the CUDA probe kernel computed {got}, not [1 3 5 7]")


def _blocks(n, threads):
    return max(1, (int(n) + threads - 1) // threads)


def _tpb():
    return config.THREADS_PER_BLOCK
