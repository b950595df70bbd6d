"""The network's flat layout, dense or CSR input resolved when compiling, and
the epoch's visiting order."""

import numpy as np
from numba import types
from numba.extending import overload

from .. import param_layout
from .._cache import njit
from .views import borrow

_LAYOUTS = {}


def layout_offsets(layer_sizes):
    """``(coef_off, icpt_off, slot_off)`` int64 arrays of a network (cached).

    Coefficient and intercept offsets in the flat parameter vector
    (:func:`fastmlp.kernels.param_layout`) and each layer's slot, per row, in
    the activation buffers (``sum(layer_sizes[:l])``). Computed in Python once
    per network and passed to the kernels, which then compile no layout code.
    """
    key = tuple(int(s) for s in layer_sizes)
    offsets = _LAYOUTS.get(key)
    if offsets is None:
        coef_off, icpt_off, _ = param_layout(key)
        slot_off = np.concatenate(([0], np.cumsum(key))).astype(np.int64)
        offsets = _LAYOUTS[key] = (coef_off, icpt_off, slot_off)
    return offsets


# The whole-network kernels take ``X`` as a 2-D array or as a CSR tuple
# ``(indptr, indices, data)``; they are compiled per input kind (a constant of
# the specialised kernel), and this helper is resolved by X's type.
def borrow_all(X):
    """:func:`borrow` of a 2-D array or of each array of a CSR tuple."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(borrow_all)
def _ov_borrow_all(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (borrow(X[0]), borrow(X[1]), borrow(X[2]))
    return lambda X: borrow(X)


def row_block(X, start, m):
    """Rows ``start:start + m`` of a dense X; an empty matrix for a CSR tuple
    (whose rows the first layer reads in place)."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(row_block)
def _ov_row_block(X, start, m):
    if isinstance(X, types.BaseTuple):
        return lambda X, start, m: X[2][:0].reshape((0, 0))
    return lambda X, start, m: X[start : start + m]


@njit(inline="always", error_model="numpy")
def shuffle_order(idx, seed):
    """Fisher-Yates shuffle of ``idx`` in place, driven by splitmix64(seed).

    fastmlp's own generator: a few integer operations per element, no
    library generator to compile, the same order on every platform.
    """
    state = np.uint64(seed)
    for i in range(idx.shape[0] - 1, 0, -1):
        state += np.uint64(0x9E3779B97F4A7C15)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        j = np.int64(z % np.uint64(i + 1))
        idx[i], idx[j] = idx[j], idx[i]


@njit(inline="always", error_model="numpy")
def gather_rows(X, rows, Xb):
    """``Xb[r, :n_in] = X[rows[r]]`` for a dense ``X[n, n_in]`` (the batch's inputs)."""
    for r in range(rows.shape[0]):
        xr = X[rows[r]]
        xb = Xb[r]
        for j in range(X.shape[1]):
            xb[j] = xr[j]


@njit(inline="always", error_model="numpy")
def gather_targets(Y, sw, rows, Yb, swb):
    """``Yb[r] = Y[rows[r]]`` and, where ``swb`` has rows, ``swb[r] = sw[rows[r]]``."""
    weighted = swb.shape[0] > 0
    for r in range(rows.shape[0]):
        src = rows[r]
        for j in range(Y.shape[1]):
            Yb[r, j] = Y[src, j]
        if weighted:
            swb[r] = sw[src]
