"""exp, tanh and logistic as plain arithmetic that vectorises, per dtype."""

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .._cache import njit
from ._common import EXP, LOGISTIC, SOFTMAX, TANH
from .views import flat_rows

# --------------------------------------------------------------------------
# exp, tanh and logistic that vectorise
# --------------------------------------------------------------------------
# numba lowers np.exp/np.tanh to scalar libm calls, which LLVM cannot
# vectorise (no SVML in llvmlite's wheels): ~10 ns an element, the largest
# cost of a small tanh network. These are plain arithmetic: exp(x) = 2**k *
# e**r with |r| <= ln2 / 2 (Cody-Waite split of k * ln2), a polynomial for
# e**r and 2**k built from its exponent bits (no table lookup, which would be
# a gather). Each dtype computes in its own precision, so float32 runs 16
# lanes wide: measured against float64 references, float32 exp is within 1.03
# ulp, tanh and logistic within 2.5 ulp; float64 within 3e-14
# relative (tested in tests/test_math.py). NaN, inf and the sign of zero are kept.
#
# The functions that call them are compiled without 'reassoc' (FASTMATH_EXACT):
# reassociation folds the two halves of the ln2 split back into one constant,
# which cost float32 exp 3.5 ulp.
FASTMATH_EXACT = {"contract", "nsz"}


def _pow2_intrinsic(float_type, int_type, bias, mantissa_bits):
    """An intrinsic ``pow2(k) = 2.0 ** k`` for a normal-range integer ``k``.

    The float is built from its bits, ``(k + bias) << mantissa_bits``: no
    table lookup (a gather when vectorised) and no libm call.
    """

    @intrinsic
    def pow2(typingctx, k):
        sig = float_type(int_type)

        def codegen(context, builder, signature, args):
            int_ir = context.get_value_type(int_type)
            biased = builder.add(args[0], ir.Constant(int_ir, bias))
            bits = builder.shl(biased, ir.Constant(int_ir, mantissa_bits))
            return builder.bitcast(bits, context.get_value_type(float_type))

        return sig, codegen

    return pow2


#: ``2.0 ** k`` as float32 for an int32 ``k`` in [-126, 127].
_pow2_f32 = _pow2_intrinsic(types.float32, types.int32, 127, 23)
#: ``2.0 ** k`` as float64 for an int64 ``k`` in [-1022, 1023].
_pow2_f64 = _pow2_intrinsic(types.float64, types.int64, 1023, 52)


@njit(inline="always", error_model="numpy")
def clip(x, lo, hi):
    """``min(max(x, lo), hi)`` with Python's (and numba's) semantics: NaN stays.

    Written out, so no min/max implementation is compiled for it.
    """
    y = lo if lo > x else x
    return hi if hi < y else y


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _exp64(x):
    """``exp(x)`` in float64: subnormal results, 0 and inf as ``np.exp``."""
    finite = x == x
    xs = x if finite else 0.0
    xs = clip(xs, -746.0, 710.0)
    k = np.floor(xs * 1.4426950408889634 + 0.5)
    # ln 2 = hi + lo with hi's last 32 bits zero, so k * hi is exact.
    r = (xs - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    # Taylor series of e**r to r**13: the truncation error is below 1e-17.
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    # 2**k in two normal factors: k1 in the normal range, k2 = k - k1 small.
    ki = np.int64(k)
    k1 = clip(ki, -1022, 1023)
    e = ((1.0 + (r + r * r * p)) * _pow2_f64(ki - k1)) * _pow2_f64(k1)
    return e if finite else x


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _exp32(x):
    """``exp(x)`` in float32: subnormal results, 0 and inf as ``np.exp``."""
    one = np.float32(1.0)
    finite = x == x
    xs = x if finite else np.float32(0.0)
    xs = clip(xs, np.float32(-104.0), np.float32(89.0))
    k = np.floor(xs * np.float32(1.4426950408889634) + np.float32(0.5))
    # ln 2 = hi + lo with hi's last 9 bits zero, so k * hi is exact (|k| <= 150).
    r = (xs - k * np.float32(0.693145751953125)) - k * np.float32(1.428606765330187e-06)
    # Taylor series of e**r to r**7: truncation error 5e-9, below 0.1 ulp.
    p = np.float32(1.0 / 5040.0)
    p = p * r + np.float32(1.0 / 720.0)
    p = p * r + np.float32(1.0 / 120.0)
    p = p * r + np.float32(1.0 / 24.0)
    p = p * r + np.float32(1.0 / 6.0)
    p = p * r + np.float32(0.5)
    # 2**k in two normal factors: k1 in the normal range, k2 = k - k1 small.
    ki = np.int32(k)
    k1 = clip(ki, np.int32(-126), np.int32(127))
    e = ((one + (r + r * r * p)) * _pow2_f32(ki - k1)) * _pow2_f32(k1)
    return e if finite else x


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _tanh_series(a, a2):
    """``tanh(a)`` for small ``a >= 0`` (``a2 = a * a``): odd Taylor to a**15."""
    q = -929569.0 / 638512875.0
    q = q * a2 + 21844.0 / 6081075.0
    q = q * a2 - 1382.0 / 155925.0
    q = q * a2 + 62.0 / 2835.0
    q = q * a2 - 17.0 / 315.0
    q = q * a2 + 2.0 / 15.0
    q = q * a2 - 1.0 / 3.0
    return a + a * a2 * q


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _tanh64(x):
    """``tanh(x)`` in float64: the series below 0.1, ``(1 - e) / (1 + e)`` above."""
    a = clip(abs(x), 0.0, 20.0)  # tanh(20) == 1 in float64; NaN stays NaN
    e = _exp64(-2.0 * a)
    t = _tanh_series(a, a * a) if a < 0.1 else (1.0 - e) / (1.0 + e)
    return np.copysign(t, x)


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _tanh32(x):
    """``tanh(x)`` in float32 as ``-m / (2 + m)`` with ``m = expm1(-2|x|)``.

    ``expm1`` is ``2**k * (1 + s) - 1 = 2**k * s + (2**k - 1)`` with ``s =
    e**r - 1`` from its series: no cancellation near 0, so no separate small-x
    branch (1.7x faster than exp plus a series; within 2.5 ulp).
    """
    one = np.float32(1.0)
    a = clip(abs(x), np.float32(0.0), np.float32(9.0))  # tanh(9) rounds to 1
    y = np.float32(-2.0) * a
    k = np.floor(y * np.float32(1.4426950408889634) + np.float32(0.5))
    r = (y - k * np.float32(0.693145751953125)) - k * np.float32(1.428606765330187e-06)
    p = np.float32(1.0 / 5040.0)
    p = p * r + np.float32(1.0 / 720.0)
    p = p * r + np.float32(1.0 / 120.0)
    p = p * r + np.float32(1.0 / 24.0)
    p = p * r + np.float32(1.0 / 6.0)
    p = p * r + np.float32(0.5)
    two_k = _pow2_f32(np.int32(k))  # k in [-26, 0]
    m = two_k * (r + r * r * p) + (two_k - one)
    return np.copysign(-m / (np.float32(2.0) + m), x)  # NaN stays NaN


def _rows_impl(exp, tanh, contiguous):
    """Every transcendental activation of rows ``i0:i1``, chosen at run time.

    For a run-time code (``apply_activation``); each branch is the one-code
    implementation that a literal code compiles alone (below).
    """
    exact = njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
    softmax_rows = exact(_softmax_rows_impl(exp, contiguous))
    exp_rows = exact(_map_rows_impl(exp, contiguous))
    tanh_rows = exact(_map_rows_impl(tanh, contiguous))
    logistic_rows = exact(_map_rows_impl(_LOGISTIC[exp], contiguous))

    def impl(Z, i0, i1, activation):
        if activation == SOFTMAX:
            softmax_rows(Z, i0, i1, activation)
        elif activation == EXP:
            exp_rows(Z, i0, i1, activation)
        elif activation == TANH:
            tanh_rows(Z, i0, i1, activation)
        elif activation == LOGISTIC:
            logistic_rows(Z, i0, i1, activation)

    return impl


def _logistic_of(exp, one):
    """The scalar logistic ``1 / (1 + exp(-x))`` on this ``exp`` (``one`` typed)."""

    @njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
    def logistic(x):
        return one / (one + exp(-x))

    return logistic


def _map_rows_impl(f, contiguous):
    """``Z[i0:i1] = f(Z[i0:i1])`` elementwise (one activation, no branches)."""

    def impl(Z, i0, i1, activation):
        if contiguous:
            z = flat_rows(Z, i0, i1)
            for j in range(z.shape[0]):
                z[j] = f(z[j])
        else:
            for i in range(i0, i1):
                z = Z[i]
                for j in range(z.shape[0]):
                    z[j] = f(z[j])

    return impl


def _softmax_rows_impl(exp, contiguous):
    """Softmax of rows ``i0:i1``: shift by the row max, exp, normalise."""
    exp_rows = njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")(
        _map_rows_impl(exp, contiguous)
    )

    def impl(Z, i0, i1, activation):
        n = Z.shape[1]
        one = Z.dtype.type(1)
        for i in range(i0, i1):
            zi = Z[i]
            mx = zi[0]
            for j in range(1, n):
                if zi[j] > mx:
                    mx = zi[j]
            for j in range(n):
                zi[j] -= mx
        exp_rows(Z, i0, i1, activation)
        for i in range(i0, i1):
            zi = Z[i]
            s = Z.dtype.type(0)
            for j in range(n):
                s += zi[j]
            inv = one / s
            for j in range(n):
                zi[j] *= inv

    return impl


def transcendental_rows_impl(Z, activation):
    """The implementation of ``_transcendental_rows`` for these numba types.

    ``Z`` is the matrix type; ``activation`` an integer literal type (one
    activation, compiled alone) or a plain integer type (every activation,
    chosen at run time). Float32 runs 16 lanes wide.
    """
    contiguous = Z.layout == "C"
    exp, tanh = (_exp32, _tanh32) if Z.dtype == types.float32 else (_exp64, _tanh64)
    code = getattr(activation, "literal_value", None)
    if code == SOFTMAX:
        return _softmax_rows_impl(exp, contiguous)
    if code == EXP:
        return _map_rows_impl(exp, contiguous)
    if code == TANH:
        return _map_rows_impl(tanh, contiguous)
    if code == LOGISTIC:
        return _map_rows_impl(_LOGISTIC[exp], contiguous)
    return _rows_impl(exp, tanh, contiguous)


_LOGISTIC = {
    _exp32: _logistic_of(_exp32, np.float32(1.0)),
    _exp64: _logistic_of(_exp64, 1.0),
}


def _transcendental_rows(Z, i0, i1, activation):
    """logistic, tanh, softmax or exp on rows ``i0:i1`` of ``Z``, in Z's dtype."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(
    _transcendental_rows,
    jit_options={"fastmath": FASTMATH_EXACT, "error_model": "numpy"},
    prefer_literal=True,
)
def _ov_transcendental_rows(Z, i0, i1, activation):
    # Chosen by dtype and (for a literal code) activation when the caller is
    # compiled.
    return transcendental_rows_impl(Z, activation)
