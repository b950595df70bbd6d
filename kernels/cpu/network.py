"""The network's flat layout, dense or CSR input resolved when compiling, and
the epoch's visiting order."""

import numpy as np

from .. import param_layout
from .._cache import njit
from ._common import JIT_OPTIONS
from .gemm import blas_nn
from .layers import sparse_product

_LAYOUTS = {}


def layout_offsets(layer_sizes):
    """``(coef_off, icpt_off, slot_off)`` int64 arrays of a network (cached).

    Coefficient and intercept offsets in the flat parameter vector
    (:func:`fastmlp.kernels.param_layout`) and each layer's slot, per row, in
    the activation buffers (``sum(layer_sizes[:l])``). Computed in Python once
    per network and passed to the kernels, which then compile no layout code.
    """
    sizes = np.asarray(layer_sizes, dtype=np.int64)
    key = sizes.tobytes()  # a tuple of ints took 1.5 us of every epoch call
    offsets = _LAYOUTS.get(key)
    if offsets is None:
        coef_off, icpt_off, _ = param_layout(sizes)
        slot_off = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        offsets = _LAYOUTS[key] = (coef_off, icpt_off, slot_off)
    return offsets


def readonly(a):
    """``a`` as a read-only view (no copy; ``a`` itself when already read-only).

    numba types a read-only array as another type than a writeable one, so a
    skeleton called with both compiles twice: ``GridSearchCV(n_jobs > 1)``
    hands its workers read-only memory maps. The skeletons never write their
    inputs, so the wrappers pass every input read-only: one signature.
    """
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


_NO_INDEX = readonly(np.empty(0, np.int32))


def input_arrays(X, n_features, dtype):
    """``(X, indptr, indices, data)`` as the skeletons take the input, read-only.

    A dense ``X`` comes with empty CSR arrays (int32 indices, as scipy's);
    a CSR tuple ``(indptr, indices, data)`` with an empty ``X[0, n_0]``. The
    skeletons test ``indptr.shape[0] > 0`` at run time, so one compiled
    skeleton per dtype serves both kinds (and int64-indexed CSR input is one
    more signature). All four are :func:`readonly`.
    """
    if isinstance(X, tuple):
        indptr, indices, data = X
        no_rows = _placeholder((0, int(n_features)), dtype)
        return no_rows, readonly(indptr), readonly(indices), readonly(data)
    return readonly(X), _NO_INDEX, _NO_INDEX, _placeholder((0,), dtype)


_PLACEHOLDERS = {}


def _placeholder(shape, dtype):
    """A read-only empty array of this shape and dtype, made once (every epoch
    and prediction call passes one)."""
    key = (shape, np.dtype(dtype))
    empty = _PLACEHOLDERS.get(key)
    if empty is None:
        empty = _PLACEHOLDERS[key] = readonly(np.empty(shape, dtype))
    return empty


@njit(inline="always", **JIT_OPTIONS)
def first_layer_product(X, csr, rows, start, m, W, out):
    """``out = X[start:start + m] @ W``: rows of a dense ``X`` by BLAS, or,
    when ``csr = (indptr, indices, data)`` is not empty, rows
    ``rows[start:start + m]`` of that CSR matrix, read in place."""
    indptr, indices, data = csr
    if indptr.shape[0] > 0:
        sparse_product(indptr, indices, data, rows[start : start + m], W, out)
    else:
        blas_nn(X[start : start + m], W, out)


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
