"""Contract: optimizers (SGD and Adam launches over the flat vector)."""

import math

import numpy as np

from ._common import _blocks, _dtype_of, _empty, _tpb, cuda, quiet_launches
from .kernels1d import _ns


def _optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot):
    return (
        int(n_coef),
        bool(fold),
        float(alpha),
        float(l1),
        _empty(np.float64, 1) if scale is None else scale,
        slot,
        sq,
        _empty(np.float64, 1) if ab is None else ab,
        sq_slot,
    )


def _launch_sgd(
    params,
    grads,
    velocity,
    lr,
    momentum,
    nesterov,
    n_coef,
    sq,
    sq_slot,
    ab=None,
    fold=False,
    alpha=0.0,
    l1=0.0,
    scale=None,
    slot=0,
):
    dtype = _dtype_of(params)
    tpb = _tpb()
    _ns(dtype).sgd[_blocks(params.shape[0], tpb), tpb](
        params,
        grads,
        velocity,
        dtype(lr),
        dtype(momentum),
        bool(nesterov),
        *_optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot),
    )


def _adam_rate(lr, beta1, beta2, t):
    # The bias-corrected rate in float64 (as scikit-learn), the pass in dtype.
    return lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)


def _launch_adam(
    params,
    grads,
    m,
    v,
    lr_t,
    beta1,
    beta2,
    eps,
    n_coef,
    sq,
    sq_slot,
    ab=None,
    fold=False,
    alpha=0.0,
    l1=0.0,
    scale=None,
    slot=0,
):
    dtype = _dtype_of(params)
    tpb = _tpb()
    _ns(dtype).adam[_blocks(params.shape[0], tpb), tpb](
        params,
        grads,
        m,
        v,
        dtype(lr_t),
        dtype(beta1),
        dtype(beta2),
        dtype(eps),
        *_optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot),
    )


@quiet_launches
def sgd_update(params, grads, velocity, lr, momentum, nesterov, n_coef):
    """``v = mu v - lr g``; ``params += v`` (or ``mu v - lr g`` with Nesterov),
    one pass over the flat device vector. Returns ``sum(params[:n_coef]**2)``
    after the update (float64, reduced on the device)."""
    sq = cuda.to_device(np.zeros(1))
    _launch_sgd(params, grads, velocity, lr, momentum, nesterov, n_coef, sq, 0)
    return float(sq.copy_to_host()[0])


@quiet_launches
def adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """Adam step ``t`` (>= 1) in one pass over the flat device vector:
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``params -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
    Returns ``sum(params[:n_coef]**2)`` after the update."""
    sq = cuda.to_device(np.zeros(1))
    lr_t = _adam_rate(lr, beta1, beta2, int(t))
    _launch_adam(params, grads, m, v, lr_t, beta1, beta2, eps, n_coef, sq, 0)
    return float(sq.copy_to_host()[0])
