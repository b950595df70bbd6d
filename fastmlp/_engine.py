"""The training engine: weights, buffers, and the epoch loop.

The estimators validate and orchestrate; this module owns the state of a fit
(flat parameter vector, optimizer moments, work buffers) and calls the
backend's ``train_epoch`` once per epoch, so no Python runs per minibatch.
"""

import numpy as np

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
    for i, (fan_in, fan_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        bound = np.sqrt(factor / (fan_in + fan_out))
        w = random_state.uniform(-bound, bound, (fan_in, fan_out))
        b = random_state.uniform(-bound, bound, fan_out)
        params[coef_off[i] : coef_off[i] + fan_in * fan_out] = w.ravel()
        params[icpt_off[i] : icpt_off[i] + fan_out] = b
    return params


def unpack(params, layer_units):
    """Views of the flat vector as ``(coefs, intercepts)`` lists."""
    coef_off, icpt_off, _ = param_layout(layer_units)
    coefs, intercepts = [], []
    for i, (fan_in, fan_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        coefs.append(params[coef_off[i] : coef_off[i] + fan_in * fan_out].reshape(fan_in, fan_out))
        intercepts.append(params[icpt_off[i] : icpt_off[i] + fan_out])
    return coefs, intercepts


def pack(coefs, intercepts, dtype=None):
    """One contiguous flat vector from ``coefs``/``intercepts`` (copies)."""
    parts = [np.asarray(a).ravel() for a in list(coefs) + list(intercepts)]
    flat = np.concatenate(parts)
    return np.ascontiguousarray(flat, dtype=dtype or flat.dtype)


def is_packed_view(params, coefs, intercepts):
    """True when ``coefs``/``intercepts`` are still the views of ``params``."""
    if params is None:
        return False
    base = params.__array_interface__["data"][0]
    pos = 0
    item = params.itemsize
    for a in list(coefs) + list(intercepts):
        if (
            not isinstance(a, np.ndarray)
            or a.dtype != params.dtype
            or not a.flags.c_contiguous
            or a.__array_interface__["data"][0] != base + pos * item
        ):
            return False
        pos += a.size
    return pos == params.size


class OptimizerState:
    """Moments and schedule of the stochastic solvers, over the flat vector.

    Mirrors scikit-learn's ``SGDOptimizer``/``AdamOptimizer``: ``learning_rate``
    changes at epoch ends (``invscaling``) or on a plateau (``adaptive``), Adam
    counts its own steps.
    """

    def __init__(self, solver, n_params, dtype, learning_rate_init, lr_schedule, power_t):
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
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

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
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class EpochRunner:
    """Buffers of one fit and the call of the backend's ``train_epoch``.

    Everything the kernels touch is allocated here, once per fit.
    """

    def __init__(self, backend, X, Y, sample_weight, layer_units, activation,
                 out_activation, loss_code, batch_size):
        self.backend = backend
        dtype = X.dtype
        self.X = np.ascontiguousarray(X)
        self.Y = np.ascontiguousarray(Y, dtype=dtype)
        self.sw = (
            np.empty(0, dtype=dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype=dtype)
        )
        self.layer_sizes = np.asarray(layer_units, dtype=np.int64)
        self.hidden = ACTIVATION_CODES[activation]
        self.output = ACTIVATION_CODES[out_activation]
        self.loss = loss_code
        self.batch_size = int(batch_size)
        self.sample_idx = np.arange(X.shape[0], dtype=np.int64)
        size = workspace_size(layer_units, batch_size)
        self.act_buf = np.empty(size, dtype=dtype)
        self.delta_buf = np.empty(size, dtype=dtype)

    def run(self, params, grads, state, hyper, seed):
        """One epoch; returns scikit-learn's epoch loss."""
        return self.backend.train_epoch(
            self.X, self.Y, self.sw, self.sample_idx, seed, params, grads,
            self.layer_sizes, self.hidden, self.output, self.loss, self.batch_size,
            SOLVER_CODES[state.solver], hyper, state.m, state.v, state.step,
            self.act_buf, self.delta_buf,
        )
