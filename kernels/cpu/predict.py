"""The prediction pass, in row chunks sized by the network."""

import numpy as np

from .._cache import njit
from ._common import FASTMATH
from .gemm import blas_nn
from .network import first_layer_product, input_arrays, layout_offsets
from .pieces import FORWARD, HIDDEN, OUTPUT, call_void, piece_addresses
from .views import as_matrix, borrow

# Prediction runs in row chunks. Networks whose layers all have fan_in *
# fan_out below SMALL_LAYER_WORK are split over threads by the caller (row
# ranges aligned to the chunk) with chunks of PREDICT_CHUNK_SMALL rows; larger
# layers stay on one thread, where BLAS threads each product itself, with
# chunks of up to PREDICT_CHUNK rows, as few as keep each of the two
# activation buffers below PREDICT_BUFFER_ELEMENTS values (16 MB in float32).
# Measured on 100k rows, rows/s: playground 2-8-8-1 split, chunks of 256 /
# 1024 / 4096: 37M / 41M / 28M; mnist 784-256-128-10, one thread, 256 /
# 4096: 369k / 426k (split in two threads: 247k).
SMALL_LAYER_WORK = 16384
PREDICT_CHUNK_SMALL = 1024
PREDICT_CHUNK = 4096
PREDICT_CHUNK_MIN = 256
PREDICT_BUFFER_ELEMENTS = 1 << 22


_PLANS = {}
_NO_ROWS = np.arange(0)  # a dense X's rows are consecutive: no row index


def _plan(layer_sizes):
    """``(chunk rows, widest hidden layer)`` of a network (cached: a single-row
    prediction pays for the Python around the kernel)."""
    key = np.asarray(layer_sizes, dtype=np.int64).tobytes()
    plan = _PLANS.get(key)
    if plan is None:
        sizes = [int(s) for s in layer_sizes]
        work = max([1] + [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)])
        widest = max([1] + sizes[1:-1])
        if work < SMALL_LAYER_WORK:
            rows = PREDICT_CHUNK_SMALL
        else:
            rows = PREDICT_BUFFER_ELEMENTS // widest
            rows = max(PREDICT_CHUNK_MIN, min(PREDICT_CHUNK, rows))
        plan = _PLANS[key] = (rows, widest)
    return plan


def predict_chunk_rows(layer_sizes):
    """Rows per chunk of :func:`forward` for this network (see
    ``SMALL_LAYER_WORK``); callers that split rows over threads align to it."""
    return _plan(layer_sizes)[0]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
def forward_skeleton(
    X,
    indptr,
    indices,
    data,
    rows,
    params,
    layer_sizes,
    out,
    coef_off,
    icpt_off,
    fns,
    buf_a,
    buf_b,
    chunk,
):
    """The compiled :func:`forward`; one per dtype, dense or CSR ``X``,
    whatever the activations (the pieces ``fns``, see :mod:`.pieces`).

    Layers alternate between ``buf_a`` and ``buf_b`` (``chunk`` rows of the
    widest hidden layer each); ``rows`` is ``arange(n)`` for a CSR ``X``.
    """
    n = out.shape[0]
    n_layers = layer_sizes.shape[0] - 1
    # Owner-less views (see train_epoch).
    X, out, params = borrow(X), borrow(out), borrow(params)
    csr = (borrow(indptr), borrow(indices), borrow(data))
    layer_sizes, rows = borrow(layer_sizes), borrow(rows)
    coef_off, icpt_off = borrow(coef_off), borrow(icpt_off)
    buf_a, buf_b = borrow(buf_a), borrow(buf_b)
    fns = borrow(fns)
    for start in range(0, n, chunk):
        m = chunk if n - start > chunk else n - start
        for l in range(n_layers):
            fi = layer_sizes[l]
            fo = layer_sizes[l + 1]
            W = as_matrix(params, coef_off[l], fi, fo)
            b = params[icpt_off[l] : icpt_off[l] + fo]
            last = l == n_layers - 1
            if last:
                Z = out[start : start + m]
            elif l % 2 == 0:
                Z = as_matrix(buf_a, 0, m, fo)
            else:
                Z = as_matrix(buf_b, 0, m, fo)
            if l == 0:
                first_layer_product(X, csr, rows, start, m, W, Z)
            else:
                if l % 2 == 1:
                    A = as_matrix(buf_a, 0, m, fi)
                else:
                    A = as_matrix(buf_b, 0, m, fi)
                blas_nn(A, W, Z)
            f = fns[OUTPUT] if last else fns[HIDDEN]
            call_void(f, (Z, b, m, fo, FORWARD))


def forward(X, params, layer_sizes, hidden_activation, output_activation, out):
    """Prediction pass ``out[n, n_L] = net(X[n, n_0])`` in row chunks.

    ``X`` is a 2-D array or a CSR tuple ``(indptr, indices, data)`` of
    ``out.shape[0]`` rows. Releases the GIL, so callers can predict row
    ranges in parallel threads. Runs :func:`forward_skeleton` with this
    configuration's activation pieces (no loss, no optimizer).
    """
    n = out.shape[0]
    fns = piece_addresses(hidden_activation, output_activation, -1, out.dtype)
    coef_off, icpt_off, _ = layout_offsets(layer_sizes)
    chunk, widest = _plan(layer_sizes)
    chunk = min(chunk, max(n, 1))
    X, indptr, indices, data = input_arrays(X, layer_sizes[0], out.dtype)
    forward_skeleton(
        X,
        indptr,
        indices,
        data,
        np.arange(n) if indptr.shape[0] else _NO_ROWS,
        params,
        layer_sizes,
        out,
        coef_off,
        icpt_off,
        fns,
        np.empty(chunk * widest, dtype=out.dtype),
        np.empty(chunk * widest, dtype=out.dtype),
        chunk,
    )


def forward_sparse(indptr, indices, data, *args):
    """``forward`` for a CSR ``X`` (indptr, indices, data) of ``out.shape[0]`` rows.

    The other arguments are :func:`forward`'s, in its order.
    """
    forward((indptr, indices, data), *args)
