"""The output loss with its delta, and the L2/L1 penalty terms."""

import numpy as np

from .._cache import njit
from ._common import BINARY_LOG, FASTMATH, LOG, POISSON, SQUARED
from .elementwise import clip


# --------------------------------------------------------------------------
# loss
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def loss_output_delta(P, Y, sw, loss, delta):
    """``delta = (P - Y) * sw``; returns ``sum_i sw_i * loss_i`` (see contract)."""
    m = P.shape[0]
    n = P.shape[1]
    eps = np.finfo(P.dtype).eps
    weighted = sw.shape[0] > 0
    total = 0.0
    for i in range(m):
        w = 1.0
        if weighted:
            w = sw[i]
        pi = P[i]
        yi = Y[i]
        di = delta[i]
        row = 0.0
        if loss == SQUARED:
            for j in range(n):
                r = pi[j] - yi[j]
                row += r * r
            row = 0.5 * row / n
        elif loss == LOG:
            for j in range(n):
                if yi[j] != 0.0:
                    p = clip(pi[j], eps, 1.0 - eps)
                    row -= yi[j] * np.log(p)
        elif loss == BINARY_LOG:
            for j in range(n):
                p = clip(pi[j], eps, 1.0 - eps)
                if yi[j] != 0.0:
                    row -= yi[j] * np.log(p)
                if yi[j] != 1.0:
                    row -= (1.0 - yi[j]) * np.log(1.0 - p)
        elif loss == POISSON:
            for j in range(n):
                y = yi[j]
                if y != 0.0:
                    row += y * np.log(y / pi[j])
                row += pi[j] - y
        total += w * row
        for j in range(n):
            di[j] = (pi[j] - yi[j]) * w
    return total


# --------------------------------------------------------------------------
# penalties
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _sum_squares(x, n):
    s = 0.0
    for i in range(n):
        s += x[i] * x[i]
    return s


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _sum_abs(x, n):
    """``sum |x[:n]|`` (the L1 penalty of the coefficients)."""
    s = 0.0
    for i in range(n):
        s += abs(x[i])
    return s


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _add_l1_sign(gW, W, c):
    """``gW += c * sign(W)`` with ``sign(0) = 0`` (L1's subgradient)."""
    c = W.dtype.type(c)
    for i in range(W.shape[0]):
        gi = gW[i]
        wi = W[i]
        for j in range(W.shape[1]):
            if wi[j] > 0.0:
                gi[j] += c
            elif wi[j] < 0.0:
                gi[j] -= c
