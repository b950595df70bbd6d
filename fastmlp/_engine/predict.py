"""Prediction: the backend's forward pass, over threads for large inputs."""

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from .._backend import get_backend, prediction_device
from ..kernels import ACTIVATION_CODES, PIECE_ONLY_ACTIVATIONS


def as_csr(X):
    """Sparse input as CSR (the kernels' format); dense input unchanged."""
    if sp.issparse(X):
        X = X.tocsr()
        if X.indices.dtype != X.indptr.dtype:
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
    return X


#: Rows per thread below which prediction stays on one thread.
PARALLEL_MIN_ROWS = 8192
_pool = None


def prediction_threads():
    """Threads for CPU prediction.

    ``NUMBA_NUM_THREADS`` if set, else the usable cores; never more than the
    thread limit of the BLAS libraries loaded (``threadpoolctl``'s
    ``threadpool_limits``, ``OPENBLAS_NUM_THREADS``...), which also bounds the
    BLAS calls inside the kernels, so one limit holds for all of fastmlp.
    """
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env:
        threads = max(1, int(env))
    else:
        try:
            threads = max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            threads = max(1, os.cpu_count() or 1)
    for controller in _blas_controllers():
        try:
            threads = min(threads, max(1, int(controller.get_num_threads())))
        except Exception:  # noqa: BLE001 - a library that cannot tell: no cap
            continue
    return threads


_BLAS = None


def _blas_controllers():
    """threadpoolctl's controllers of the BLAS libraries loaded (found once).

    scipy's OpenBLAS, which numba's ``np.dot`` calls, is loaded with the
    estimators (they import scipy), so it is there by the first prediction.
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # noqa: BLE001 - threadpoolctl missing or failing
            _BLAS = []
    return _BLAS


def cpu_forward(backend, X, params, layer_sizes, hidden, output, out):
    """The CPU ``forward`` over row ranges in parallel threads.

    The kernel releases the GIL and the split follows its row chunks, so the
    result is the single-threaded one, bit for bit. Python threads, not
    numba's ``parallel=True``: numba's default threading layer aborts when
    called from several Python threads at once, which a web server or a
    threaded search may do.
    """
    global _pool
    n = X.shape[0]
    # Only networks of small layers are split (the backend's SMALL_LAYER_WORK):
    # a large layer's BLAS calls use every core already, and two threads
    # calling BLAS at once ran slower than one.
    layer_work = max(int(a) * int(b) for a, b in pairwise(layer_sizes))
    threads = 1
    small = layer_work < getattr(backend, "SMALL_LAYER_WORK", 0)
    if n >= 2 * PARALLEL_MIN_ROWS and small:
        threads = min(prediction_threads(), n // PARALLEL_MIN_ROWS)
    if threads <= 1:
        backend.forward(X, params, layer_sizes, hidden, output, out)
        return
    if _pool is None or _pool._max_workers < threads:
        _pool = ThreadPoolExecutor(threads, thread_name_prefix="fastmlp-predict")
    # Split at multiples of the kernel's row chunk: every row then meets the
    # same products as in one thread, and the result is bitwise the same.
    chunk_rows = getattr(backend, "predict_chunk_rows", None)
    chunk = 1 if chunk_rows is None else int(chunk_rows(layer_sizes))
    bounds = (np.linspace(0, n / chunk, threads + 1).round() * chunk).astype(np.int64)
    bounds[-1] = n
    jobs = [
        _pool.submit(
            backend.forward, X[a:b], params, layer_sizes, hidden, output, out[a:b]
        )
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    for job in jobs:
        job.result()


def network_output(est, X):
    """Network output of fitted estimator ``est`` for validated X.

    ``X`` is dense or sparse (then predicted by the CPU's CSR kernels).

    Computed in the wider of X's and the model's dtype, as numpy's
    ``X @ coef`` would: a float32 model on float32 X stays float32.
    """
    packed = est._params_vector()
    dtype = np.result_type(X.dtype, packed.dtype)
    X = X.astype(dtype, copy=False)
    params = packed.astype(dtype, copy=False)
    out = np.empty((X.shape[0], est.n_outputs_), dtype=X.dtype)
    if sp.issparse(X):
        X = as_csr(X)
        get_backend("cpu").forward_sparse(
            X.indptr,
            X.indices,
            X.data,
            params,
            np.array(est._layer_units, dtype=np.int64),
            ACTIVATION_CODES[est.activation],
            ACTIVATION_CODES[est.out_activation_],
            out,
        )
        return out
    # On the GPU when the model's device can train there now, else the CPU
    # (a GPU-trained model unpickled on a CPU-only machine predicts there).
    device = prediction_device(est.device, est._layer_units, X.shape[0])
    if est.activation in PIECE_ONLY_ACTIVATIONS:
        device = "cpu"  # the CUDA kernels have scikit-learn's activations only
    backend = get_backend(device)
    if backend.__name__.endswith(".cpu"):
        cpu_forward(
            backend,
            np.ascontiguousarray(X),
            params,
            np.array(est._layer_units, dtype=np.int64),
            ACTIVATION_CODES[est.activation],
            ACTIVATION_CODES[est.out_activation_],
            out,
        )
        return out
    up = backend.to_device
    d_out = up(out)
    backend.forward(
        up(np.ascontiguousarray(X)),
        up(params),
        np.array(est._layer_units, dtype=np.int64),
        ACTIVATION_CODES[est.activation],
        ACTIVATION_CODES[est.out_activation_],
        d_out,
    )
    return backend.to_host(d_out)
