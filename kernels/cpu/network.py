"""The network's flat layout, and dense or CSR input resolved when compiling."""

import numpy as np
from numba import types
from numba.extending import overload

from .._cache import njit
from ._common import FASTMATH
from .layers import dense_forward, dense_grad, sparse_dense_forward, sparse_dense_grad
from .views import borrow


# --------------------------------------------------------------------------
# whole network
# --------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _layout(layer_sizes):
    """Offsets of coefficients, intercepts and activation slots (per row)."""
    n_layers = layer_sizes.shape[0] - 1
    coef_off = np.empty(n_layers, dtype=np.int64)
    icpt_off = np.empty(n_layers, dtype=np.int64)
    slot_off = np.empty(n_layers + 1, dtype=np.int64)
    pos = 0
    for i in range(n_layers):
        coef_off[i] = pos
        pos += layer_sizes[i] * layer_sizes[i + 1]
    for i in range(n_layers):
        icpt_off[i] = pos
        pos += layer_sizes[i + 1]
    s = 0
    for i in range(n_layers + 1):
        slot_off[i] = s
        s += layer_sizes[i]
    return coef_off, icpt_off, slot_off


# --------------------------------------------------------------------------
# dense or CSR input, chosen when the caller is compiled
# --------------------------------------------------------------------------
# The whole-network kernels take ``X`` as a 2-D array or as a CSR tuple
# ``(indptr, indices, data)``. These helpers are resolved by X's type at
# compile time, so a dense fit never compiles the sparse first layer (and the
# other way round): one compiled function per input kind, no runtime branch.
def _is_csr(X):
    """Whether ``X`` is a CSR tuple (a compile-time constant)."""
    raise NotImplementedError("only inside numba-compiled code")


def _first_forward(X, rows, Xb, W, b, activation, Z):
    """Layer 0: ``Z = f(X[rows] @ W + b)``, from ``Xb`` (dense) or CSR rows."""
    raise NotImplementedError("only inside numba-compiled code")


def _first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb):
    """Layer 0's gradients (see :func:`dense_grad`), dense or CSR."""
    raise NotImplementedError("only inside numba-compiled code")


def borrow_all(X):
    """:func:`borrow` of a 2-D array or of each array of a CSR tuple."""
    raise NotImplementedError("only inside numba-compiled code")


def _gather_row(X, src, Xb, r):
    """``Xb[r] = X[src]`` for a dense X; nothing for a CSR tuple."""
    raise NotImplementedError("only inside numba-compiled code")


def _row_block(X, start, m):
    """Rows ``start:start + m`` of a dense X; an empty matrix for CSR."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(borrow_all)
def _ov_borrow_all(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (borrow(X[0]), borrow(X[1]), borrow(X[2]))
    return lambda X: borrow(X)


@overload(_gather_row)
def _ov_gather_row(X, src, Xb, r):
    if isinstance(X, types.BaseTuple):
        return lambda X, src, Xb, r: None

    def impl(X, src, Xb, r):
        # Row views (free on borrowed arrays) so the copy vectorises.
        xr = X[src]
        xb = Xb[r]
        for j in range(xb.shape[0]):
            xb[j] = xr[j]

    return impl


@overload(_row_block)
def _ov_row_block(X, start, m):
    if isinstance(X, types.BaseTuple):
        return lambda X, start, m: X[2][:0].reshape((0, 0))
    return lambda X, start, m: X[start : start + m]


@overload(_is_csr)
def _ov_is_csr(X):
    csr = isinstance(X, types.BaseTuple)
    return lambda X: csr


@overload(_first_forward, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _ov_first_forward(X, rows, Xb, W, b, activation, Z):
    if isinstance(X, types.BaseTuple):

        def csr_impl(X, rows, Xb, W, b, activation, Z):
            sparse_dense_forward(X[0], X[1], X[2], rows, W, b, activation, Z)

        return csr_impl

    def dense_impl(X, rows, Xb, W, b, activation, Z):
        dense_forward(Xb, W, b, activation, Z)

    return dense_impl


@overload(_first_grad, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _ov_first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb):
    if isinstance(X, types.BaseTuple):

        def csr_impl(X, rows, Xb, D, W, alpha, scale, gW, gb):
            sparse_dense_grad(X[0], X[1], X[2], rows, D, W, alpha, scale, gW, gb)

        return csr_impl

    def dense_impl(X, rows, Xb, D, W, alpha, scale, gW, gb):
        dense_grad(Xb, D, W, alpha, scale, gW, gb)

    return dense_impl
