"""Inverted dropout on hidden layers, with counter-based masks.

A mask entry is a pure function of (the epoch's seed, the row's position in
the epoch, the unit), not a draw from a stream: the forward pass makes it and
the backward pass makes it again instead of storing it, and the result does
not depend on batch size, threads or order of evaluation. With ``W`` the
summed width of the hidden layers and ``o_h`` the offset of hidden layer
``h``'s first unit in that sum, row ``r`` (0-based position in the epoch's
visiting order) and unit ``j`` of hidden layer ``h`` count

    ``c = mix64(seed) + r * W + o_h + j``  (mod 2^64)

and the unit is kept iff ``mix64(c) >> 11 >= floor(p * 2^53)`` (``p`` the
layer's rate; ``mix64`` is SplitMix64's finaliser). A kept unit's output is
divided by ``1 - p`` (inverted dropout: prediction uses the network as is).
``tests/reference.py`` computes the same masks in numpy.
"""

import numpy as np

from .._cache import njit
from ._common import FASTMATH

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
#: 2^53: the uniform integers the threshold is compared with
UNIT = 9007199254740992.0


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def mix64(z):
    """SplitMix64's finaliser of a uint64 (a bijection with good avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dropout_base(seed, start, width):
    """The counter of row ``start`` (unit 0) for the epoch's ``seed``."""
    return mix64(np.uint64(seed)) + np.uint64(start) * np.uint64(width)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dropout_forward(A, m, n, base, width, offset, rate):
    """``A[m, n]`` (a hidden layer's output, in place): dropped units 0, kept
    ones divided by ``1 - rate``. ``base`` is :func:`dropout_base` of the
    batch's first row, ``offset`` the layer's first unit in the row."""
    threshold = np.uint64(rate * UNIT)
    scale = A.dtype.type(1.0 / (1.0 - rate))
    zero = A.dtype.type(0.0)
    w = np.uint64(width)
    for i in range(m):
        c = base + np.uint64(i) * w + np.uint64(offset)
        for j in range(n):
            if (mix64(c + np.uint64(j)) >> _S11) >= threshold:
                A[i, j] *= scale
            else:
                A[i, j] = zero


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dropout_backward(A, D, m, n, base, width, offset, rate):
    """The backward pass through :func:`dropout_forward`'s masks: ``D[m, n]``
    (d loss / d dropped output) times ``mask / (1 - rate)``; ``A`` (that
    dropped output) is scaled back by ``1 - rate`` so that the activation's
    derivative, written with its output, sees the layer's own output."""
    threshold = np.uint64(rate * UNIT)
    scale = D.dtype.type(1.0 / (1.0 - rate))
    keep = A.dtype.type(1.0 - rate)
    zero = D.dtype.type(0.0)
    w = np.uint64(width)
    for i in range(m):
        c = base + np.uint64(i) * w + np.uint64(offset)
        for j in range(n):
            if (mix64(c + np.uint64(j)) >> _S11) >= threshold:
                D[i, j] *= scale
                A[i, j] *= keep
            else:
                D[i, j] = zero
