"""Shared by every module of the CUDA backend: ``numba.cuda`` (imported here
once, after the cache folder is made writable), the code constants, the
host <-> device copies and small launch helpers."""

from functools import cache

import numba
import numpy as np

from .. import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES, config
from .._cache import ensure_writable_cache

# Before numba-cuda copies NUMBA_CACHE_DIR: a read-only install must not fail.
ensure_writable_cache()
from numba import cuda  # noqa: E402

try:  # numba-cuda reads its own copy of NUMBA_CACHE_DIR, maybe before the above
    from numba.cuda.core import config as _cuda_config

    if numba.config.CACHE_DIR and not getattr(_cuda_config, "CACHE_DIR", None):
        _cuda_config.CACHE_DIR = numba.config.CACHE_DIR
except ImportError:  # pragma: no cover - older layouts
    pass

IDENTITY = ACTIVATION_CODES["identity"]
LOGISTIC = ACTIVATION_CODES["logistic"]
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
SOFTMAX = ACTIVATION_CODES["softmax"]
EXP = ACTIVATION_CODES["exp"]

SQUARED = LOSS_CODES["squared_error"]
LOG = LOSS_CODES["log_loss"]
BINARY_LOG = LOSS_CODES["binary_log_loss"]
POISSON = LOSS_CODES["poisson"]

SGD = SOLVER_CODES["sgd"]
ADAM = SOLVER_CODES["adam"]

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


def _blocks(n, threads):
    return max(1, (int(n) + threads - 1) // threads)


def _tpb():
    return config.THREADS_PER_BLOCK
