"""The prediction pass, in row chunks sized by the network."""

import numpy as np

from .._cache import njit
from ._common import FASTMATH
from .layers import dense_forward, sparse_dense_forward
from .network import borrow_all, layout_offsets, row_block
from .specialise import specialised
from .views import _keep_alive, as_matrix, borrow

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


@njit(cache=True)
def predict_chunk_rows(layer_sizes):
    """Rows per chunk of :func:`forward` for this network (see
    ``SMALL_LAYER_WORK``); callers that split rows over threads align to it."""
    widest = 1
    work = 1
    for l in range(layer_sizes.shape[0] - 1):
        work = max(work, layer_sizes[l] * layer_sizes[l + 1])
        if l > 0:
            widest = max(widest, layer_sizes[l])
    if work < SMALL_LAYER_WORK:
        return PREDICT_CHUNK_SMALL
    rows = PREDICT_BUFFER_ELEMENTS // widest
    return max(PREDICT_CHUNK_MIN, min(PREDICT_CHUNK, rows))


@specialised
def forward_kernel(csr, hidden, output):
    """The compiled :func:`forward` for one input kind and activation pair.

    The input kind and codes are constants of the kernel: it holds the two
    activations it uses and one kind of first layer, nothing else (see
    :mod:`.specialise`).
    """

    @njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
    def forward_compiled(X, params, layer_sizes, out, coef_off, icpt_off):
        n = out.shape[0]
        n_layers = layer_sizes.shape[0] - 1
        widest = 1
        for l in range(1, n_layers):
            widest = max(widest, layer_sizes[l])
        chunk = min(predict_chunk_rows(layer_sizes), max(n, 1))
        buf_a_owned = np.empty(chunk * widest, dtype=out.dtype)
        buf_b_owned = np.empty(chunk * widest, dtype=out.dtype)
        rows_owned = np.arange(n if csr else 0)

        # Owner-less views (see train_epoch).
        Xo, out, params = borrow_all(X), borrow(out), borrow(params)
        layer_sizes, rows = borrow(layer_sizes), borrow(rows_owned)
        coef_off, icpt_off = borrow(coef_off), borrow(icpt_off)
        buf_a, buf_b = borrow(buf_a_owned), borrow(buf_b_owned)
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
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
                if csr and l == 0:
                    rs = rows[start : start + m]
                    if last:
                        sparse_dense_forward(Xo[0], Xo[1], Xo[2], rs, W, b, output, Z)
                    else:
                        sparse_dense_forward(Xo[0], Xo[1], Xo[2], rs, W, b, hidden, Z)
                else:
                    if l == 0:
                        A = row_block(Xo, start, m)
                    elif l % 2 == 1:
                        A = as_matrix(buf_a, 0, m, fi)
                    else:
                        A = as_matrix(buf_b, 0, m, fi)
                    if last:
                        dense_forward(A, W, b, output, Z)
                    else:
                        dense_forward(A, W, b, hidden, Z)
        _keep_alive(buf_a_owned, buf_b_owned, rows_owned)

    return forward_compiled


def forward(X, params, layer_sizes, hidden_activation, output_activation, out):
    """Prediction pass ``out[n, n_L] = net(X[n, n_0])`` in row chunks.

    ``X`` is a 2-D array or a CSR tuple ``(indptr, indices, data)`` of
    ``out.shape[0]`` rows. Releases the GIL, so callers can predict row
    ranges in parallel threads. Runs the :func:`forward_kernel` of this
    configuration.
    """
    csr = isinstance(X, tuple)
    kernel = forward_kernel(csr, int(hidden_activation), int(output_activation))
    coef_off, icpt_off, _ = layout_offsets(layer_sizes)
    kernel(X, params, layer_sizes, out, coef_off, icpt_off)


def forward_sparse(indptr, indices, data, *args):
    """``forward`` for a CSR ``X`` (indptr, indices, data) of ``out.shape[0]`` rows.

    The other arguments are :func:`forward`'s, in its order.
    """
    forward((indptr, indices, data), *args)
