"""SGD and Adam: one fused pass over the flat parameter vector."""

import numpy as np

from .._cache import njit
from ._common import FASTMATH


# --------------------------------------------------------------------------
# optimizers: one pass over the flat parameter vector
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _sgd_range(params, grads, velocity, lr, momentum, nesterov, lo, hi):
    """SGD on ``params[lo:hi]``; returns the sum of squares of the new values."""
    p = params[lo:hi]
    g = grads[lo:hi]
    vel = velocity[lo:hi]
    sq = 0.0
    if nesterov:
        for i in range(hi - lo):
            v = momentum * vel[i] - lr * g[i]
            vel[i] = v
            x = p[i] + (momentum * v - lr * g[i])
            p[i] = x
            sq += x * x
    else:
        for i in range(hi - lo):
            v = momentum * vel[i] - lr * g[i]
            vel[i] = v
            x = p[i] + v
            p[i] = x
            sq += x * x
    return sq


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def sgd_update(params, grads, velocity, lr, momentum, nesterov, n_coef):
    """``v = mu v - lr g``; ``p += v`` (or ``mu v - lr g`` with Nesterov).

    Returns ``sum(params[:n_coef] ** 2)`` after the update.
    """
    lr = params.dtype.type(lr)
    momentum = params.dtype.type(momentum)
    zero = np.int64(0)  # not the literal 0: one compiled version, not two
    sq = _sgd_range(params, grads, velocity, lr, momentum, nesterov, zero, n_coef)
    _sgd_range(params, grads, velocity, lr, momentum, nesterov, n_coef, params.shape[0])
    return sq


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _adam_range(params, grads, m, v, lr_t, b1, c1, b2, c2, eps, lo, hi):
    """Adam on ``params[lo:hi]``; returns the sum of squares of the new values.

    ``c1 = 1 - b1`` and ``c2 = 1 - b2`` come in precomputed: written as
    ``(1 - b2) * g * g`` under 'reassoc', LLVM distributes it into ``g*g -
    b2*g*g``, which is inf - inf = NaN where ``g*g`` overflows (scikit-learn
    gets ``v = inf`` and a zero step).
    """
    p = params[lo:hi]
    g = grads[lo:hi]
    mm = m[lo:hi]
    vv = v[lo:hi]
    sq = params.dtype.type(0)
    for i in range(hi - lo):
        gi = g[i]
        mi = b1 * mm[i] + c1 * gi
        vi = b2 * vv[i] + c2 * (gi * gi)
        mm[i] = mi
        vv[i] = vi
        x = p[i] - lr_t * mi / (np.sqrt(vi) + eps)
        p[i] = x
        sq += x * x
    return sq


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def adam_coefficients(dtype, t, lr, beta1, beta2, eps):
    """``(lr_t, b1, 1 - b1, b2, 1 - b2, eps)`` of Adam step ``t``, in ``dtype``.

    The bias-corrected rate ``lr_t = lr sqrt(1 - b2**t) / (1 - b1**t)`` and
    ``1 - beta`` are computed in float64 (as scikit-learn), then cast: the
    pass over the parameters runs in ``dtype``.
    """
    dt = dtype.type
    lr_t = dt(lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t))
    return lr_t, dt(beta1), dt(1.0 - beta1), dt(beta2), dt(1.0 - beta2), dt(eps)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """Adam step number ``t``: moments, bias-corrected rate, update; one pass.

    Returns ``sum(params[:n_coef] ** 2)`` after the update.
    """
    lr_t, b1, c1, b2, c2, e = adam_coefficients(params.dtype, t, lr, beta1, beta2, eps)
    zero = np.int64(0)  # not the literal 0: one compiled version, not two
    sq = _adam_range(params, grads, m, v, lr_t, b1, c1, b2, c2, e, zero, n_coef)
    _adam_range(params, grads, m, v, lr_t, b1, c1, b2, c2, e, n_coef, params.shape[0])
    return float(sq)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def decay_coefficients(params, n_coef, factor):
    """``params[:n_coef] *= factor``: decoupled weight decay's shrink, with
    ``factor = 1 - lr * weight_decay`` (float64, applied in params' dtype)."""
    f = params.dtype.type(factor)
    for i in range(n_coef):
        params[i] *= f
