"""The training engine: weights, buffers, and the epoch loop.

The estimators validate and orchestrate; this module owns the state of a fit
(flat parameter vector, optimizer moments, work buffers) and calls the
backend's ``train_epoch`` once per epoch, so no Python runs per minibatch.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from .kernels import ACTIVATION_CODES, SOLVER_CODES, param_layout, workspace_size


def glorot_init(layer_units, activation, random_state, dtype):
    """Flat parameter vector initialised as scikit-learn's MLP does it.

    Draws, layer by layer, ``W`` then ``b`` from ``U(-r, r)`` with
    ``r = sqrt(f / (fan_in + fan_out))``, ``f = 2`` for logistic, else 6,
    from the same ``RandomState`` calls as scikit-learn, so the same
    ``random_state`` gives scikit-learn's initial weights.

    Parameters
    ----------
    layer_units : list of int
    activation : str
    random_state : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    params : ndarray of shape (n_params,)
        In the contract's packed order (all coefficients, then intercepts).
    """
    coef_off, icpt_off, n_params = param_layout(layer_units)
    params = np.empty(n_params, dtype=dtype)
    factor = 2.0 if activation == "logistic" else 6.0
    for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        bound = np.sqrt(factor / (fan_in + fan_out))
        w = random_state.uniform(-bound, bound, (fan_in, fan_out))
        b = random_state.uniform(-bound, bound, fan_out)
        params[coef_off[i] : coef_off[i] + fan_in * fan_out] = w.ravel()
        params[icpt_off[i] : icpt_off[i] + fan_out] = b
    return params


def _fill_layers(layer_units, dtype, draw_coef, draw_intercept):
    """Flat vector whose layer ``i`` holds ``draw_coef(fan_in, fan_out)`` and
    ``draw_intercept(fan_out)``, drawn layer by layer (W, then b)."""
    coef_off, icpt_off, n_params = param_layout(layer_units)
    params = np.empty(n_params, dtype=dtype)
    pairs = zip(layer_units[:-1], layer_units[1:], strict=True)
    for i, (fan_in, fan_out) in enumerate(pairs):
        w = draw_coef(fan_in, fan_out)
        params[coef_off[i] : coef_off[i] + fan_in * fan_out] = np.ravel(w)
        params[icpt_off[i] : icpt_off[i] + fan_out] = draw_intercept(fan_out)
    return params


def playground_init(layer_units, activation, random_state, dtype):
    """The TensorFlow Playground's initialisation (its ``nn.ts``).

    Every weight ``U(-0.5, 0.5)`` (the Playground's ``Math.random() - 0.5``),
    every bias ``0.1``, whatever the activation.
    """
    return _fill_layers(
        layer_units,
        dtype,
        lambda fan_in, fan_out: random_state.uniform(-0.5, 0.5, (fan_in, fan_out)),
        lambda fan_out: 0.1,
    )


def he_normal_init(layer_units, activation, random_state, dtype):
    """He (Kaiming) normal initialisation, as Keras' ``he_normal`` in spirit.

    ``W ~ N(0, 2 / fan_in)``, biases 0: keeps the variance of relu layers.
    """
    return _fill_layers(
        layer_units,
        dtype,
        lambda fan_in, fan_out: random_state.normal(
            0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)
        ),
        lambda fan_out: 0.0,
    )


def zeros_init(layer_units, activation, random_state, dtype):
    """Every weight and bias 0 (draws nothing).

    Only for teaching: all units of a hidden layer compute the same function
    and receive the same gradient, so they stay identical (the symmetry is
    never broken).
    """
    return np.zeros(param_layout(layer_units)[2], dtype=dtype)


#: ``weight_init`` parameter value -> initialiser
#: ``(layer_units, activation, random_state, dtype) -> flat params``.
WEIGHT_INITS = {
    "glorot": glorot_init,
    "he_normal": he_normal_init,
    "playground": playground_init,
    "zeros": zeros_init,
}


def initial_params(weight_init, layer_units, activation, random_state, dtype):
    """Flat initial parameter vector for a ``weight_init`` name (see
    :data:`WEIGHT_INITS`); ``"glorot"`` is scikit-learn's draws exactly."""
    return WEIGHT_INITS[weight_init](layer_units, activation, random_state, dtype)


def unpack(params, layer_units):
    """Views of the flat vector as ``(coefs, intercepts)`` lists."""
    coef_off, icpt_off, _ = param_layout(layer_units)
    coefs, intercepts = [], []
    for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        coefs.append(
            params[coef_off[i] : coef_off[i] + fan_in * fan_out].reshape(
                fan_in, fan_out
            )
        )
        intercepts.append(params[icpt_off[i] : icpt_off[i] + fan_out])
    return coefs, intercepts


def pack(coefs, intercepts, dtype=None):
    """One contiguous flat vector from ``coefs``/``intercepts`` (copies)."""
    parts = [np.asarray(a).ravel() for a in list(coefs) + list(intercepts)]
    flat = np.concatenate(parts)
    return np.ascontiguousarray(flat, dtype=dtype or flat.dtype)


def is_packed_view(params, coefs, intercepts):
    """True when ``coefs``/``intercepts`` are still the views of ``params``.

    Cheap (attribute checks only: it runs on every predict): each array must
    be a view whose base is ``params``, of the layer's shape, in order. A
    user who assigned new arrays to ``coefs_[i]`` fails it and gets a repack.
    """
    if params is None:
        return False
    pos = 0
    for a in (*coefs, *intercepts):
        if type(a) is not np.ndarray or a.base is not params:
            return False
        pos += a.size
    return pos == params.size


class OptimizerState:
    """Moments and schedule of the stochastic solvers, over the flat vector.

    Mirrors scikit-learn's ``SGDOptimizer``/``AdamOptimizer``: ``learning_rate``
    changes at epoch ends (``invscaling``) or on a plateau (``adaptive``), Adam
    counts its own steps.
    """

    def __init__(
        self, solver, n_params, dtype, learning_rate_init, lr_schedule, power_t
    ):
        self.solver = solver
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params if solver == "adam" else 0, dtype=dtype)
        self.step = np.zeros(1, dtype=np.int64)

    def iteration_ends(self, time_step):
        """Per-epoch schedule update (sgd ``invscaling``), as scikit-learn."""
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """Stop (True) or, for sgd ``adaptive``, divide the rate by 5 (False)."""
        if self.solver != "sgd" or self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"{msg} Setting learning rate to {self.learning_rate:f}")
        return False


class EpochRunner:
    """Buffers of one fit and the call of the backend's ``train_epoch``.

    Everything the kernels touch is allocated here, once per fit, and placed
    with the backend's ``to_device`` (the identity on the CPU): on a GPU the
    data is uploaded once, and the weights and optimizer moments are uploaded
    at the first epoch and stay resident. After each epoch the weights are
    copied back into the caller's host vector (so early stopping, divergence
    checks and ``coefs_`` see them); the moments come back in
    :meth:`sync_optimizer`, once, at the end of the fit.
    """

    def __init__(
        self,
        backend,
        X,
        Y,
        sample_weight,
        layer_units,
        activation,
        out_activation,
        loss_code,
        batch_size,
        verbose=False,
    ):
        self.backend = backend
        up = backend.to_device
        dtype = X.dtype
        # CSR input stays sparse: its arrays go to the backend's *_sparse kernels.
        self.csr = (X.indptr, X.indices, X.data) if sp.issparse(X) else None
        self.X = None if self.csr else up(np.ascontiguousarray(X))
        self.Y = up(np.ascontiguousarray(Y, dtype=dtype))
        self.sw = up(
            np.empty(0, dtype=dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype=dtype)
        )
        self.layer_sizes = np.asarray(layer_units, dtype=np.int64)
        self.hidden = ACTIVATION_CODES[activation]
        self.output = ACTIVATION_CODES[out_activation]
        self.loss = loss_code
        self.batch_size = int(batch_size)
        self.sample_idx = up(np.arange(X.shape[0], dtype=np.int64))
        size = workspace_size(layer_units, batch_size)
        self.act_buf = up(np.empty(size, dtype=dtype))
        self.delta_buf = up(np.empty(size, dtype=dtype))
        self._resident = None  # (params, grads, m, v) as the backend holds them
        supported = getattr(backend, "fused_mlp_supported", None)
        if verbose and supported is not None and not supported(layer_units):
            print(
                "fastmlp: a layer is wider than the fused MLP kernel allows; "
                "training with the tiled GPU kernels."
            )

    def run(self, params, grads, state, hyper, seed):
        """One epoch; returns scikit-learn's epoch loss."""
        if self._resident is None:
            up = self.backend.to_device
            self._resident = (up(params), up(grads), up(state.m), up(state.v))
        d_params, d_grads, d_m, d_v = self._resident
        common = (
            self.sample_idx,
            seed,
            d_params,
            d_grads,
            self.layer_sizes,
            self.hidden,
            self.output,
            self.loss,
            self.batch_size,
            SOLVER_CODES[state.solver],
            hyper,
            d_m,
            d_v,
            state.step,
            self.act_buf,
            self.delta_buf,
        )
        # Subnormals flushed to zero during the epoch (CPU backend, x86): they
        # slow late epochs of long fits several times over.
        enter = getattr(self.backend, "flush_denormals_enter", None)
        saved = enter() if enter is not None else None
        try:
            if self.csr is not None:
                loss = self.backend.train_epoch_sparse(
                    *self.csr, self.Y, self.sw, *common
                )
            else:
                loss = self.backend.train_epoch(self.X, self.Y, self.sw, *common)
        finally:
            if saved is not None:
                self.backend.flush_denormals_exit(saved)
        if d_params is not params:
            params[:] = self.backend.to_host(d_params)
        return loss

    def sync_optimizer(self, state):
        """Copy the optimizer moments back to ``state`` (no-op on the CPU)."""
        if self._resident is None:
            return
        _, _, d_m, d_v = self._resident
        if d_m is not state.m:
            state.m[:] = self.backend.to_host(d_m)
        if d_v is not state.v:
            state.v[:] = self.backend.to_host(d_v)


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
