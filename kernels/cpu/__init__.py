"""Numba CPU backend of the fastmlp kernel contract.

Every public function here is named in :data:`fastmlp.kernels.KERNEL_NAMES`
(or :data:`~fastmlp.kernels.SPARSE_KERNEL_NAMES`) and documented (shapes,
dtype, formula) in :mod:`fastmlp.kernels`. All are ``@njit(cache=True)``
through :func:`fastmlp.kernels._cache.njit`, so their cache is keyed on every
module of the package, and compile lazily, once per dtype (float32, float64);
the whole-network ones (``train_epoch``, ``loss_grad``, ``forward``) are
Python wrappers over kernels compiled per configuration (``specialise``).

One concern per module, each depending only on those above it:

========================  ===================================================
``_common``               compile options (fastmath flags), code constants
``views``                 owner-less views, stack vectors, lane operations
``fpenv``                 flush-to-zero around an epoch (x86 MXCSR)
``gemm``                  own matrix products, the BLAS thresholds
``elementwise``           exp, tanh, logistic, softmax that vectorise
``layers``                activation, dense forward/delta/gradient, CSR layer
``losses``                output loss and delta, L2/L1 penalties
``optimizers``            SGD and Adam in one pass over the parameters
``network``               flat layout; dense or CSR input chosen at compile
``specialise``            entry points compiled per configuration (codes)
``narrow``                the epoch of networks at most 8 units wide, by row
``epoch``                 full-batch loss/gradient, one whole training epoch
``predict``               the prediction pass in row chunks
========================  ===================================================
"""

from .compiled import cache_stats, compiled_kernels
from .elementwise import FASTMATH_EXACT
from .epoch import loss_grad, loss_grad_sparse, train_epoch, train_epoch_sparse
from .fpenv import flush_denormals_enter, flush_denormals_exit
from .gemm import BLAS_MIN_WORK, gemm_nn, gemm_nt, gemm_tn
from .layers import (
    apply_activation,
    dense_forward,
    dense_grad,
    hidden_delta,
    sparse_dense_forward,
    sparse_dense_grad,
)
from .losses import loss_output_delta
from .network import readonly
from .optimizers import adam_update, sgd_update
from .predict import SMALL_LAYER_WORK, forward, forward_sparse, predict_chunk_rows
from .specialise import specialised_kernels
from .views import as_matrix, borrow, flat_rows, to_device, to_host

__all__ = [
    "BLAS_MIN_WORK",
    "FASTMATH_EXACT",
    "SMALL_LAYER_WORK",
    "adam_update",
    "apply_activation",
    "as_matrix",
    "borrow",
    "cache_stats",
    "compiled_kernels",
    "dense_forward",
    "dense_grad",
    "flat_rows",
    "flush_denormals_enter",
    "flush_denormals_exit",
    "forward",
    "forward_sparse",
    "gemm_nn",
    "gemm_nt",
    "gemm_tn",
    "hidden_delta",
    "loss_grad",
    "loss_grad_sparse",
    "loss_output_delta",
    "predict_chunk_rows",
    "readonly",
    "sgd_update",
    "sparse_dense_forward",
    "sparse_dense_grad",
    "specialised_kernels",
    "to_device",
    "to_host",
    "train_epoch",
    "train_epoch_sparse",
]
