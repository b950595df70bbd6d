"""The output loss with its delta, and the L2/L1 penalty terms."""

import numpy as np
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from .._cache import njit
from ._common import (
    BINARY_LOG_LOSS,
    FASTMATH,
    LOG_LOSS,
    POISSON,
    SQUARED_ERROR,
    TANH_SQUARED_ERROR,
)
from .elementwise import clip


# --------------------------------------------------------------------------
# loss
# --------------------------------------------------------------------------
def _epsilon(P):
    """``np.finfo(P.dtype).eps`` as a constant (numba's finfo costs ~0.1 s of
    compile in every function that asks)."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(_epsilon)
def _ov_epsilon(P):
    eps = float(np.finfo(as_dtype(P.dtype)).eps)
    return lambda P: eps


def _row_loss(pi, yi, n, eps, loss):
    """Row ``i``'s loss ``loss_i`` (see contract) for a loss code."""
    raise NotImplementedError("only inside numba-compiled code")


def _squared_row(pi, yi, n, eps, loss):
    row = 0.0
    for j in range(n):
        r = pi[j] - yi[j]
        row += r * r
    return 0.5 * row / n


def _log_row(pi, yi, n, eps, loss):
    row = 0.0
    for j in range(n):
        if yi[j] != 0.0:
            p = clip(pi[j], eps, 1.0 - eps)
            row -= yi[j] * np.log(p)
    return row


def _binary_log_row(pi, yi, n, eps, loss):
    row = 0.0
    for j in range(n):
        p = clip(pi[j], eps, 1.0 - eps)
        if yi[j] != 0.0:
            row -= yi[j] * np.log(p)
        if yi[j] != 1.0:
            row -= (1.0 - yi[j]) * np.log(1.0 - p)
    return row


def _poisson_row(pi, yi, n, eps, loss):
    row = 0.0
    for j in range(n):
        y = yi[j]
        if y != 0.0:
            row += y * np.log(y / pi[j])
        row += pi[j] - y
    return row


_ROW_LOSSES = {
    SQUARED_ERROR: _squared_row,
    LOG_LOSS: _log_row,
    BINARY_LOG_LOSS: _binary_log_row,
    POISSON: _poisson_row,
    TANH_SQUARED_ERROR: _squared_row,
}


@overload(_row_loss, jit_options={"fastmath": FASTMATH, "error_model": "numpy"},
          prefer_literal=True)  # fmt: skip
def _ov_row_loss(pi, yi, n, eps, loss):
    # A literal code (a loss piece) compiles its one loss; a run-time code
    # (the contract kernel) every one.
    code = getattr(loss, "literal_value", None)
    if code is not None:
        return _ROW_LOSSES[code]
    rows = {k: njit(inline="always", fastmath=FASTMATH, error_model="numpy")(f)
            for k, f in _ROW_LOSSES.items()}  # fmt: skip
    squared, log, binary, poisson = (
        rows[k] for k in (SQUARED_ERROR, LOG_LOSS, BINARY_LOG_LOSS, POISSON)
    )

    def any_loss(pi, yi, n, eps, loss):
        if loss == SQUARED_ERROR or loss == TANH_SQUARED_ERROR:
            return squared(pi, yi, n, eps, loss)
        if loss == LOG_LOSS:
            return log(pi, yi, n, eps, loss)
        if loss == BINARY_LOG_LOSS:
            return binary(pi, yi, n, eps, loss)
        return poisson(pi, yi, n, eps, loss)

    return any_loss


def _output_delta(P, Y, sw, loss, delta):
    """``delta = (P - Y) * sw``; returns ``sum_i sw_i * loss_i`` (see contract).

    ``TANH_SQUARED_ERROR`` (the Playground's classifier) multiplies in the tanh
    output's derivative ``1 - P^2``: squared error is not tanh's canonical loss.
    """
    m = P.shape[0]
    n = P.shape[1]
    eps = _epsilon(P)
    weighted = sw.shape[0] > 0
    total = 0.0
    for i in range(m):
        w = 1.0
        if weighted:
            w = sw[i]
        pi = P[i]
        yi = Y[i]
        di = delta[i]
        total += w * _row_loss(pi, yi, n, eps, loss)
        if loss == TANH_SQUARED_ERROR:
            for j in range(n):
                di[j] = (pi[j] - yi[j]) * (1.0 - pi[j] * pi[j]) * w
        else:
            for j in range(n):
                di[j] = (pi[j] - yi[j]) * w
    return total


#: The loss pieces' code: :func:`_output_delta` compiled with a literal code.
output_delta_rows = njit(fastmath=FASTMATH, error_model="numpy", inline="always")(
    _output_delta
)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def loss_output_delta(P, Y, sw, loss, delta):
    """``delta = (P - Y) * sw``; returns ``sum_i sw_i * loss_i`` (see contract)."""
    return output_delta_rows(P, Y, sw, loss, delta)


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
