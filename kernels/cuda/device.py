"""Device helpers (generic over dtype; ``one`` carries the dtype so that
float32 arithmetic is not promoted to float64)."""

import math

from ._common import (
    _MASK32,
    BINARY_LOG_LOSS,
    EXP,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    RELU,
    SQUARED_ERROR,
    TANH,
    cuda,
)


@cuda.jit(device=True)
def _activate(z, code, one):
    """``f(z)`` for an elementwise activation code (softmax: identity here)."""
    if code == LOGISTIC:
        return one / (one + math.exp(-z))
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        # 'z < 0' keeps NaN as NaN (a divergence must stay visible).
        if z < 0:
            return one - one
        return z
    if code == EXP:
        return math.exp(z)
    return z


@cuda.jit(device=True)
def _derivative(a, code, one):
    """``f'`` written with the activation output ``a``."""
    if code == LOGISTIC:
        return a * (one - a)
    if code == TANH:
        return one - a * a
    if code == RELU:
        if a == 0:
            return one - one
        return one
    return one


@cuda.jit(device=True)
def _softmax_row(Z, r, n, one):
    """``Z[r, :n] = softmax(Z[r, :n])`` in place, row max subtracted."""
    mx = Z[r, 0]
    for j in range(1, n):
        if Z[r, j] > mx:
            mx = Z[r, j]
    s = one - one
    for j in range(n):
        e = math.exp(Z[r, j] - mx)
        Z[r, j] = e
        s += e
    inv = one / s
    for j in range(n):
        Z[r, j] *= inv


@cuda.jit(device=True)
def _loss_delta_row(P, r, Y, yr, n, loss, eps, w, D, dr):
    """Loss of row ``P[r]`` against ``Y[yr]`` (float64) and ``D[dr] = (P - Y) w``."""
    total = 0.0
    for j in range(n):
        p = P[r, j]
        y = Y[yr, j]
        pf = float(p)
        yf = float(y)
        if loss == SQUARED_ERROR:
            total += (pf - yf) * (pf - yf)
        elif loss == LOG_LOSS:
            if yf != 0.0:
                total -= yf * math.log(min(max(pf, eps), 1.0 - eps))
        elif loss == BINARY_LOG_LOSS:
            pc = min(max(pf, eps), 1.0 - eps)
            if yf != 0.0:
                total -= yf * math.log(pc)
            if yf != 1.0:
                total -= (1.0 - yf) * math.log(1.0 - pc)
        elif loss == POISSON:
            if yf != 0.0:
                total += yf * math.log(yf / pf)
            total += pf - yf
        D[dr, j] = (p - y) * w
    if loss == SQUARED_ERROR:
        total = 0.5 * total / n
    return total


@cuda.jit(device=True)
def _penalty_grad(w, alpha, l1, scale):
    """``scale * (alpha w + l1 sign(w))`` in float64 (``sign(0) = 0``)."""
    g = alpha * float(w)
    if w > 0:
        g += l1
    elif w < 0:
        g -= l1
    return g * scale


@cuda.jit(device=True)
def _block_sum(red, t, nt):
    """Sum of ``red[:nt]`` (shared, float64, ``nt`` a power of two) by halving."""
    cuda.syncthreads()
    s = nt // 2
    while s > 0:
        if t < s:
            red[t] += red[t + s]
        cuda.syncthreads()
        s //= 2
    return red[0]


@cuda.jit(device=True)
def _block_sum2(red, red2, t, nt):
    """Sum ``red[:nt]`` into ``red[0]`` and ``red2[:nt]`` into ``red2[0]`` with
    one set of barriers (``nt`` a power of two)."""
    cuda.syncthreads()
    s = nt // 2
    while s > 0:
        if t < s:
            red[t] += red[t + s]
            red2[t] += red2[t + s]
        cuda.syncthreads()
        s //= 2


@cuda.jit(device=True)
def _mix32(x):
    """A 32-bit integer hash (values kept below 2**63 in int64 arithmetic)."""
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _MASK32
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _MASK32
    return (x >> 16) ^ x


@cuda.jit(device=True)
def _feistel(i, half_bits, k0, k1, k2, k3):
    """A 4-round Feistel bijection of ``[0, 4**half_bits)``."""
    mask = (1 << half_bits) - 1
    left = i >> half_bits
    right = i & mask
    tmp = left ^ (_mix32(right ^ k0) & mask)
    left = right
    right = tmp
    tmp = left ^ (_mix32(right ^ k1) & mask)
    left = right
    right = tmp
    tmp = left ^ (_mix32(right ^ k2) & mask)
    left = right
    right = tmp
    tmp = left ^ (_mix32(right ^ k3) & mask)
    left = right
    right = tmp
    return (left << half_bits) | right
