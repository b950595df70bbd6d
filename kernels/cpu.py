"""Numba CPU backend of the fastmlp kernel contract.

Every public function here is named in :data:`fastmlp.kernels.KERNEL_NAMES`
and documented (shapes, dtype, formula) in :mod:`fastmlp.kernels`. All are
``@njit(cache=True)`` and compile lazily, once per dtype (float32, float64).

The matrix products are the project's own loops: the output is computed in
blocks of four rows so every loaded row of the right-hand matrix feeds four
accumulating rows, and the innermost loop runs over contiguous memory so LLVM
vectorises it. Bias + activation, the activation derivative and the L2 term
are fused into the epilogue of the block that produced the values.
"""

import os

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from . import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES
from ._cache import ensure_writable_cache
from ._fpenv import flush_denormals_enter, flush_denormals_exit  # noqa: F401

# Before any @njit(cache=True): a read-only install still gets a cache.
ensure_writable_cache(os.path.dirname(os.path.abspath(__file__)))

# Reassociation and FMA contraction let LLVM vectorise reductions; no
# 'nnan'/'ninf': NaN and inf must propagate so that divergence is detected.
# Every kernel also uses error_model="numpy": with Python's error model each
# float division checks for zero and may raise, which stops LLVM from
# vectorising any loop that divides (Adam's update ran 4x slower); numpy's
# model gives inf/NaN instead, which the engine reports as divergence.
FASTMATH = {"reassoc", "contract", "nsz"}

IDENTITY = ACTIVATION_CODES["identity"]
LOGISTIC = ACTIVATION_CODES["logistic"]
TANH = ACTIVATION_CODES["tanh"]
RELU = ACTIVATION_CODES["relu"]
SOFTMAX = ACTIVATION_CODES["softmax"]
EXP = ACTIVATION_CODES["exp"]

SQUARED = LOSS_CODES["squared_error"]
LOG = LOSS_CODES["log_loss"]
BINARY_LOG = LOSS_CODES["binary_log_loss"]
POISSON = LOSS_CODES["poisson"]

SGD = SOLVER_CODES["sgd"]
ADAM = SOLVER_CODES["adam"]

# Columns per block of the output: 4 rows x COL_BLOCK stays in L1.
COL_BLOCK = 256
# Prediction runs in row chunks. Networks whose layers all have fan_in *
# fan_out below SMALL_LAYER_WORK are split over threads by the caller (row
# ranges aligned to the chunk) with chunks of PREDICT_CHUNK_SMALL rows; larger
# layers stay on one thread, where BLAS threads each product itself, with
# chunks of up to PREDICT_CHUNK rows, as few as keep each of the two
# activation buffers below PREDICT_BUFFER_ELEMENTS values (16 MB in float32).
# Measured on 100k rows, rows/s: playground 2-8-8-1 split, chunks of 256 /
# 1024 / 4096: 37M / 41M / 28M; mnist 784-256-128-10, one thread, 256 /
# 4096: 369k / 426k (split in two threads: 247k).
SMALL_LAYER_WORK = 16384
PREDICT_CHUNK_SMALL = 1024
PREDICT_CHUNK = 4096
PREDICT_CHUNK_MIN = 256
PREDICT_BUFFER_ELEMENTS = 1 << 22
# Products with at least this many multiply-adds (m * k * n) go to BLAS
# (``np.dot`` inside the JIT), smaller ones to the project's own loops. The
# crossovers are measured per orientation by ``python -m bench.gemm`` (2-core
# AVX-512 machine, float32, one BLAS thread): for X @ W BLAS wins at every MLP
# shape, even 10x2x8; the own loops win for D @ W.T up to ~640 multiply-adds
# and for A.T @ D below 640 (tiny playground layers), by ~1.3x.
BLAS_MIN_WORK_NN = 0
BLAS_MIN_WORK_NT = 4096
BLAS_MIN_WORK_TN = 640
# With a threshold of 0 the own X @ W loops are never used: not even compiled.
_OWN_NN = BLAS_MIN_WORK_NN > 0
#: The same thresholds by orientation (read by bench/gemm.py).
BLAS_MIN_WORK = {"nn": BLAS_MIN_WORK_NN, "nt": BLAS_MIN_WORK_NT, "tn": BLAS_MIN_WORK_TN}


# --------------------------------------------------------------------------
# array views without reference counting or reshape calls
# --------------------------------------------------------------------------
# Owner-less array views for the hot loops (no reference counting).
#
# Owner-less array views for the hot loops (no reference counting).
#
# Numba counts references to every array it sees: each view (``W =
# params[a:b].reshape(...)``, ``Z[i]``) and each array argument of a call gets
# an atomic increment and decrement of its owner's count. In the playground
# workload (a 2-8-8-1 network, 10-row batches) that was 36% of the training
# time, measured with ``perf`` (``NRT_incref``/``NRT_decref``): about 200
# atomic pairs per batch.
#
# :func:`borrow` gives the same array with no owner (a NULL meminfo), so views
# of it skip the counting. The kernels borrow their arguments once at the top of
# each entry point; the caller keeps the real arrays alive for the whole call,
# and no borrowed array is ever returned to Python or stored.
#
# These intrinsics live in this module (not a helper module) because numba's
# cache is keyed on the source file of each kernel: an edit here recompiles.
@intrinsic
def borrow(typingctx, arr):
    """``arr`` as an owner-less array: same data, shape and strides.

    Only for an array that outlives every use of the result inside the
    compiled call (an argument of the entry point, or a local the entry point
    holds).
    """
    sig = arr(arr)

    def codegen(context, builder, signature, args):
        src = context.make_array(arr)(context, builder, value=args[0])
        out = context.make_array(arr)(context, builder)
        for name in ("data", "nitems", "itemsize", "shape", "strides"):
            setattr(out, name, getattr(src, name))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return sig, codegen


@njit(cache=True)
def _keep_alive(*arrays):
    """Nothing; a use of ``arrays`` here keeps them alive up to this point.

    numba frees an array after its last use, so a function that borrows
    arrays it allocated calls this after the last use of the borrowed views.
    """


def _struct_view(context, builder, arrty, src, data, shape, strides):
    """A new array struct sharing ``src``'s owner with this data and shape."""
    out = context.make_array(arrty)(context, builder)
    intp = context.get_value_type(types.intp)
    nitems = ir.Constant(intp, 1)
    for d in shape:
        nitems = builder.mul(nitems, d)
    context.populate_array(
        out,
        data=data,
        shape=cgutils.pack_array(builder, shape),
        strides=cgutils.pack_array(builder, strides),
        itemsize=src.itemsize,
        meminfo=src.meminfo,
        parent=src.parent,
    )
    value = out._getvalue()
    # A returned array is a new reference (free, no-op, for a borrowed one).
    context.nrt.incref(builder, arrty, value)
    return value


@intrinsic
def as_matrix(typingctx, buf, start, rows, cols):
    """``as_matrix(buf, start, rows, cols)``, unchecked.

    ``buf`` is a C-contiguous 1-D array; the caller guarantees the range is
    inside it. Unlike ``reshape`` there is no call into numba's runtime.
    """
    arrty = types.Array(buf.dtype, 2, "C")
    sig = arrty(buf, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        src = context.make_array(buf)(context, builder, value=args[0])
        start_, rows_, cols_ = args[1], args[2], args[3]
        data = cgutils.gep_inbounds(builder, src.data, start_)
        item = src.itemsize
        return _struct_view(
            context, builder, arrty, src, data, [rows_, cols_],
            [builder.mul(cols_, item), item],
        )  # fmt: skip

    return sig, codegen


@intrinsic
def flat_rows(typingctx, mat, i0, i1):
    """Rows ``i0:i1`` of a C-contiguous 2-D ``mat`` as one 1-D view, unchecked."""
    arrty = types.Array(mat.dtype, 1, "C")
    sig = arrty(mat, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        src = context.make_array(mat)(context, builder, value=args[0])
        i0_, i1_ = args[1], args[2]
        cols = builder.extract_value(src.shape, 1)
        data = cgutils.gep_inbounds(builder, src.data, builder.mul(i0_, cols))
        count = builder.mul(builder.sub(i1_, i0_), cols)
        return _struct_view(context, builder, arrty, src, data, [count], [src.itemsize])

    return sig, codegen


# --------------------------------------------------------------------------
# host <-> device (the CPU's memory is the host's: identities)
# --------------------------------------------------------------------------
def to_device(host_array):
    """The array itself: the CPU backend works on host arrays."""
    return host_array


def to_host(device_array):
    """The array itself: the CPU backend works on host arrays."""
    return device_array


# --------------------------------------------------------------------------
# matrix products
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gemm_nn_block(A, B, C, i0, i1, j0, j1):
    """``C[i0:i1, j0:j1] += A[i0:i1, :] @ B[:, j0:j1]`` (i1 - i0 <= 4).

    The inner loops run over sliced row views from index 0: a loop that
    starts at a variable offset defeats LLVM's vectoriser (numba's negative
    index wraparound cannot be ruled out).
    """
    k = A.shape[1]
    w = j1 - j0
    if i1 - i0 == 4:
        c0 = C[i0, j0:j1]
        c1 = C[i0 + 1, j0:j1]
        c2 = C[i0 + 2, j0:j1]
        c3 = C[i0 + 3, j0:j1]
        for p in range(k):
            a0 = A[i0, p]
            a1 = A[i0 + 1, p]
            a2 = A[i0 + 2, p]
            a3 = A[i0 + 3, p]
            bp = B[p, j0:j1]
            for j in range(w):
                b = bp[j]
                c0[j] += a0 * b
                c1[j] += a1 * b
                c2[j] += a2 * b
                c3[j] += a3 * b
    else:
        for i in range(i0, i1):
            ci = C[i, j0:j1]
            for p in range(k):
                a = A[i, p]
                bp = B[p, j0:j1]
                for j in range(w):
                    ci[j] += a * bp[j]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def gemm_nn(A, B, C):
    """``C[m, n] = A[m, k] @ B[k, n]``; C-contiguous, one float dtype."""
    m = A.shape[0]
    n = B.shape[1]
    for i0 in range(0, m, 4):
        i1 = min(i0 + 4, m)
        for j0 in range(0, n, COL_BLOCK):
            j1 = min(j0 + COL_BLOCK, n)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    C[i, j] = 0.0
            _gemm_nn_block(A, B, C, i0, i1, j0, j1)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gemm_nt_row(A, B, C, i):
    """``C[i, :] = A[i, :] @ B.T``, four output columns per pass."""
    k = A.shape[1]
    n = B.shape[0]
    ai = A[i]
    j = 0
    while j + 4 <= n:
        b0 = B[j]
        b1 = B[j + 1]
        b2 = B[j + 2]
        b3 = B[j + 3]
        s0 = C.dtype.type(0)
        s1 = s0
        s2 = s0
        s3 = s0
        for p in range(k):
            a = ai[p]
            s0 += a * b0[p]
            s1 += a * b1[p]
            s2 += a * b2[p]
            s3 += a * b3[p]
        C[i, j] = s0
        C[i, j + 1] = s1
        C[i, j + 2] = s2
        C[i, j + 3] = s3
        j += 4
    while j < n:
        bj = B[j]
        s = C.dtype.type(0)
        for p in range(k):
            s += ai[p] * bj[p]
        C[i, j] = s
        j += 1


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def gemm_nt(A, B, C):
    """``C[m, n] = A[m, k] @ B[n, k].T``; C-contiguous, one float dtype."""
    for i in range(A.shape[0]):
        _gemm_nt_row(A, B, C, i)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gemm_tn_block(A, B, C, i0, i1):
    """``C[i0:i1, :] = A[:, i0:i1].T @ B`` (i1 - i0 <= 4)."""
    k = A.shape[0]
    n = B.shape[1]
    for i in range(i0, i1):
        for j in range(n):
            C[i, j] = 0.0
    if i1 - i0 == 4:
        c0 = C[i0]
        c1 = C[i0 + 1]
        c2 = C[i0 + 2]
        c3 = C[i0 + 3]
        for p in range(k):
            a0 = A[p, i0]
            a1 = A[p, i0 + 1]
            a2 = A[p, i0 + 2]
            a3 = A[p, i0 + 3]
            bp = B[p]
            for j in range(n):
                b = bp[j]
                c0[j] += a0 * b
                c1[j] += a1 * b
                c2[j] += a2 * b
                c3[j] += a3 * b
    else:
        for i in range(i0, i1):
            ci = C[i]
            for p in range(k):
                a = A[p, i]
                bp = B[p]
                for j in range(n):
                    ci[j] += a * bp[j]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def gemm_tn(A, B, C):
    """``C[m, n] = A[k, m].T @ B[k, n]``; C-contiguous, one float dtype."""
    m = A.shape[1]
    for i0 in range(0, m, 4):
        _gemm_tn_block(A, B, C, i0, min(i0 + 4, m))


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


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _exp64(x):
    """``exp(x)`` in float64: subnormal results, 0 and inf as ``np.exp``."""
    finite = x == x
    xs = x if finite else 0.0
    xs = min(max(xs, -746.0), 710.0)
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
    k1 = min(max(ki, -1022), 1023)
    e = ((1.0 + (r + r * r * p)) * _pow2_f64(ki - k1)) * _pow2_f64(k1)
    return e if finite else x


@njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
def _exp32(x):
    """``exp(x)`` in float32: subnormal results, 0 and inf as ``np.exp``."""
    one = np.float32(1.0)
    finite = x == x
    xs = x if finite else np.float32(0.0)
    xs = min(max(xs, np.float32(-104.0)), np.float32(89.0))
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
    k1 = min(max(ki, np.int32(-126)), np.int32(127))
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
    a = min(abs(x), 20.0)  # tanh(20) == 1 in float64; NaN stays NaN
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
    a = min(abs(x), np.float32(9.0))  # tanh(9) rounds to 1 in float32
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
    """The transcendental activations of rows ``i0:i1``, with these exp/tanh.

    For a C-contiguous ``Z`` the elementwise ones run over rows ``i0:i1`` as
    one flat block: a row of 8 values is shorter than one 16-lane float32
    vector, so a loop per row would never vectorise in a small network.
    """

    def impl(Z, i0, i1, activation):
        n = Z.shape[1]
        one = Z.dtype.type(1)
        if activation == SOFTMAX:
            # Shift each row by its max, exponentiate the whole block in one
            # vectorised pass, then normalise each row.
            for i in range(i0, i1):
                zi = Z[i]
                mx = zi[0]
                for j in range(1, n):
                    if zi[j] > mx:
                        mx = zi[j]
                for j in range(n):
                    zi[j] -= mx
            if contiguous:
                _elementwise(flat_rows(Z, i0, i1), EXP)
            else:
                for i in range(i0, i1):
                    _elementwise(Z[i], EXP)
            for i in range(i0, i1):
                zi = Z[i]
                s = Z.dtype.type(0)
                for j in range(n):
                    s += zi[j]
                inv = one / s
                for j in range(n):
                    zi[j] *= inv
            return
        if contiguous:
            _elementwise(flat_rows(Z, i0, i1), activation)
        else:
            for i in range(i0, i1):
                _elementwise(Z[i], activation)

    @njit(inline="always", fastmath=FASTMATH_EXACT, error_model="numpy")
    def _elementwise(z, activation):
        one = z.dtype.type(1)
        if activation == LOGISTIC:
            for j in range(z.shape[0]):
                z[j] = one / (one + exp(-z[j]))
        elif activation == TANH:
            for j in range(z.shape[0]):
                z[j] = tanh(z[j])
        elif activation == EXP:
            for j in range(z.shape[0]):
                z[j] = exp(z[j])

    return impl


def _transcendental_rows(Z, i0, i1, activation):
    """logistic, tanh, softmax or exp on rows ``i0:i1`` of ``Z``, in Z's dtype."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(
    _transcendental_rows,
    jit_options={"fastmath": FASTMATH_EXACT, "error_model": "numpy"},
)
def _ov_transcendental_rows(Z, i0, i1, activation):
    # Chosen by dtype when the caller is compiled: float32 runs 16 lanes wide.
    contiguous = Z.layout == "C"
    if Z.dtype == types.float32:
        return _rows_impl(_exp32, _tanh32, contiguous)
    return _rows_impl(_exp64, _tanh64, contiguous)


# --------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _activate_rows(Z, i0, i1, activation):
    """Apply ``activation`` in place to rows ``i0:i1`` of ``Z``."""
    if activation == RELU:
        n = Z.shape[1]
        for i in range(i0, i1):
            zi = Z[i]
            for j in range(n):
                # 'z < 0' keeps NaN as NaN (a divergence must stay visible).
                if zi[j] < 0.0:
                    zi[j] = 0.0
    elif activation != IDENTITY:
        _transcendental_rows(Z, i0, i1, activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def apply_activation(Z, activation):
    """``Z[m, n] = f(Z)`` in place for an activation code (softmax by row)."""
    _activate_rows(Z, np.int64(0), Z.shape[0], activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _derivative_rows(A, D, i0, i1, activation):
    """``D[i] *= f'(.)`` written with the activation output ``A`` (rows i0:i1)."""
    n = A.shape[1]
    one = A.dtype.type(1)
    if activation == LOGISTIC:
        for i in range(i0, i1):
            ai = A[i]
            di = D[i]
            for j in range(n):
                di[j] *= ai[j] * (one - ai[j])
    elif activation == TANH:
        for i in range(i0, i1):
            ai = A[i]
            di = D[i]
            for j in range(n):
                di[j] *= one - ai[j] * ai[j]
    elif activation == RELU:
        for i in range(i0, i1):
            ai = A[i]
            di = D[i]
            for j in range(n):
                if ai[j] == 0.0:
                    di[j] = 0.0


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _bias_activate_rows(Z, b, i0, i1, activation):
    """``Z[i0:i1] = f(Z[i0:i1] + b)`` (the epilogue after a BLAS product)."""
    n = Z.shape[1]
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(n):
            zi[j] += b[j]
    _activate_rows(Z, i0, i1, activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dense_forward(A, W, b, activation, out):
    """``out[m, n] = f(A[m, k] @ W[k, n] + b[n])``, bias and f fused per block."""
    m = A.shape[0]
    n = W.shape[1]
    if _OWN_NN:  # a compile-time constant: the own loops compile only if used
        if m * A.shape[1] * n < BLAS_MIN_WORK_NN:
            for i0 in range(0, m, 4):
                i1 = min(i0 + 4, m)
                for j0 in range(0, n, COL_BLOCK):
                    j1 = min(j0 + COL_BLOCK, n)
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            out[i, j] = b[j]
                    _gemm_nn_block(A, W, out, i0, i1, j0, j1)
                _activate_rows(out, i0, i1, activation)
            return
    np.dot(A, W, out)
    for i0 in range(0, m, 8):
        _bias_activate_rows(out, b, i0, min(i0 + 8, m), activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def hidden_delta(D_next, W, A, activation, out):
    """``out[m, k] = (D_next[m, n] @ W[k, n].T) * f'(A[m, k])``, fused by row."""
    m = D_next.shape[0]
    if m * W.shape[0] * W.shape[1] >= BLAS_MIN_WORK_NT:
        np.dot(D_next, W.T, out)
        for i0 in range(0, m, 8):
            _derivative_rows(A, out, i0, min(i0 + 8, m), activation)
        return
    for i in range(m):
        _gemm_nt_row(D_next, W, out, i)
        _derivative_rows(A, out, i, i + 1, activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _grad_epilogue(gW, W, a, sc, i0, i1):
    """``gW[i0:i1] = (gW[i0:i1] + a * W[i0:i1]) * sc``."""
    n = gW.shape[1]
    for i in range(i0, i1):
        gi = gW[i]
        wi = W[i]
        for j in range(n):
            gi[j] = (gi[j] + a * wi[j]) * sc


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _bias_grad(D, sc, gb):
    """``gb[n] = sc * sum_m D[m, n]`` (the intercept gradient)."""
    n = D.shape[1]
    for j in range(n):
        gb[j] = 0.0
    for r in range(D.shape[0]):
        dr = D[r]
        for j in range(n):
            gb[j] += dr[j]
    for j in range(n):
        gb[j] *= sc


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dense_grad(A, D, W, alpha, scale, gW, gb):
    """``gW = (A[m, k].T @ D[m, n] + alpha W) * scale``; ``gb = scale * sum_m D``."""
    k = A.shape[1]
    n = D.shape[1]
    a = W.dtype.type(alpha)
    sc = W.dtype.type(scale)
    if A.shape[0] * k * n >= BLAS_MIN_WORK_TN:
        np.dot(A.T, D, gW)
        _grad_epilogue(gW, W, a, sc, np.int64(0), k)
    else:
        for i0 in range(0, k, 4):
            i1 = min(i0 + 4, k)
            _gemm_tn_block(A, D, gW, i0, i1)
            _grad_epilogue(gW, W, a, sc, i0, i1)
    _bias_grad(D, sc, gb)


# --------------------------------------------------------------------------
# loss
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
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
                    p = min(max(pi[j], eps), 1.0 - eps)
                    row -= yi[j] * np.log(p)
        elif loss == BINARY_LOG:
            for j in range(n):
                p = min(max(pi[j], eps), 1.0 - eps)
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
# optimizers: one pass over the flat parameter vector
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
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


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _adam_range(params, grads, m, v, lr_t, b1, b2, eps, lo, hi):
    """Adam on ``params[lo:hi]``; returns the sum of squares of the new values."""
    one = params.dtype.type(1)
    p = params[lo:hi]
    g = grads[lo:hi]
    mm = m[lo:hi]
    vv = v[lo:hi]
    sq = params.dtype.type(0)
    for i in range(hi - lo):
        gi = g[i]
        mi = b1 * mm[i] + (one - b1) * gi
        vi = b2 * vv[i] + (one - b2) * gi * gi
        mm[i] = mi
        vv[i] = vi
        x = p[i] - lr_t * mi / (np.sqrt(vi) + eps)
        p[i] = x
        sq += x * x
    return sq


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """Adam step number ``t``: moments, bias-corrected rate, update; one pass.

    Returns ``sum(params[:n_coef] ** 2)`` after the update.
    """
    # The bias-corrected rate in float64 (as scikit-learn), the pass in dtype.
    dt = params.dtype.type
    lr_t = dt(lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t))
    b1 = dt(beta1)
    b2 = dt(beta2)
    e = dt(eps)
    zero = np.int64(0)  # not the literal 0: one compiled version, not two
    sq = _adam_range(params, grads, m, v, lr_t, b1, b2, e, zero, n_coef)
    _adam_range(params, grads, m, v, lr_t, b1, b2, e, n_coef, params.shape[0])
    return float(sq)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _sum_squares(x, n):
    s = 0.0
    for i in range(n):
        s += x[i] * x[i]
    return s


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _sum_abs(x, n):
    """``sum |x[:n]|`` (the L1 penalty of the coefficients)."""
    s = 0.0
    for i in range(n):
        s += abs(x[i])
    return s


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
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


# --------------------------------------------------------------------------
# sparse first layer (CSR input, never densified)
# --------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def sparse_dense_forward(indptr, indices, data, rows, W, b, activation, out):
    """``out[m, n] = f(X[rows] @ W[k, n] + b)`` for CSR ``X`` (indptr, indices, data).

    Row ``i`` of ``out`` is ``b + sum_p data[p] * W[indices[p]]`` over the
    stored entries ``p`` of CSR row ``rows[i]``.
    """
    n = W.shape[1]
    m = rows.shape[0]
    for i in range(m):
        oi = out[i]
        for j in range(n):
            oi[j] = b[j]
        r = rows[i]
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            wk = W[indices[p]]
            for j in range(n):
                oi[j] += v * wk[j]
    _activate_rows(out, np.int64(0), m, activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def sparse_dense_grad(indptr, indices, data, rows, D, W, alpha, scale, gW, gb):
    """``gW = (X[rows].T @ D[m, n] + alpha W) * scale``; ``gb = scale sum_m D``.

    ``X`` is CSR; only the rows of W that the batch touches get data terms,
    every row gets the L2 term (as the dense kernel).
    """
    k = W.shape[0]
    n = W.shape[1]
    a = W.dtype.type(alpha)
    sc = W.dtype.type(scale)
    for i in range(k):
        gi = gW[i]
        for j in range(n):
            gi[j] = 0.0
    for i in range(rows.shape[0]):
        di = D[i]
        r = rows[i]
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            gk = gW[indices[p]]
            for j in range(n):
                gk[j] += v * di[j]
    _grad_epilogue(gW, W, a, sc, np.int64(0), k)
    _bias_grad(D, sc, gb)


# --------------------------------------------------------------------------
# whole network
# --------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _layout(layer_sizes):
    """Offsets of coefficients, intercepts and activation slots (per row)."""
    n_layers = layer_sizes.shape[0] - 1
    coef_off = np.empty(n_layers, dtype=np.int64)
    icpt_off = np.empty(n_layers, dtype=np.int64)
    slot_off = np.empty(n_layers + 1, dtype=np.int64)
    pos = 0
    for i in range(n_layers):
        coef_off[i] = pos
        pos += layer_sizes[i] * layer_sizes[i + 1]
    for i in range(n_layers):
        icpt_off[i] = pos
        pos += layer_sizes[i + 1]
    s = 0
    for i in range(n_layers + 1):
        slot_off[i] = s
        s += layer_sizes[i]
    return coef_off, icpt_off, slot_off


# --------------------------------------------------------------------------
# dense or CSR input, chosen when the caller is compiled
# --------------------------------------------------------------------------
# The whole-network kernels take ``X`` as a 2-D array or as a CSR tuple
# ``(indptr, indices, data)``. These helpers are resolved by X's type at
# compile time, so a dense fit never compiles the sparse first layer (and the
# other way round): one compiled function per input kind, no runtime branch.
def _is_csr(X):
    """Whether ``X`` is a CSR tuple (a compile-time constant)."""
    raise NotImplementedError("only inside numba-compiled code")


def _first_forward(X, rows, Xb, W, b, activation, Z):
    """Layer 0: ``Z = f(X[rows] @ W + b)``, from ``Xb`` (dense) or CSR rows."""
    raise NotImplementedError("only inside numba-compiled code")


def _first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb):
    """Layer 0's gradients (see :func:`dense_grad`), dense or CSR."""
    raise NotImplementedError("only inside numba-compiled code")


def borrow_all(X):
    """:func:`borrow` of a 2-D array or of each array of a CSR tuple."""
    raise NotImplementedError("only inside numba-compiled code")


def _gather_row(X, src, Xb, r):
    """``Xb[r] = X[src]`` for a dense X; nothing for a CSR tuple."""
    raise NotImplementedError("only inside numba-compiled code")


def _row_block(X, start, m):
    """Rows ``start:start + m`` of a dense X; an empty matrix for CSR."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(borrow_all)
def _ov_borrow_all(X):
    if isinstance(X, types.BaseTuple):
        return lambda X: (borrow(X[0]), borrow(X[1]), borrow(X[2]))
    return lambda X: borrow(X)


@overload(_gather_row)
def _ov_gather_row(X, src, Xb, r):
    if isinstance(X, types.BaseTuple):
        return lambda X, src, Xb, r: None

    def impl(X, src, Xb, r):
        # Row views (free on borrowed arrays) so the copy vectorises.
        xr = X[src]
        xb = Xb[r]
        for j in range(xb.shape[0]):
            xb[j] = xr[j]

    return impl


@overload(_row_block)
def _ov_row_block(X, start, m):
    if isinstance(X, types.BaseTuple):
        return lambda X, start, m: X[2][:0].reshape((0, 0))
    return lambda X, start, m: X[start : start + m]


@overload(_is_csr)
def _ov_is_csr(X):
    csr = isinstance(X, types.BaseTuple)
    return lambda X: csr


@overload(_first_forward, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _ov_first_forward(X, rows, Xb, W, b, activation, Z):
    if isinstance(X, types.BaseTuple):

        def csr_impl(X, rows, Xb, W, b, activation, Z):
            sparse_dense_forward(X[0], X[1], X[2], rows, W, b, activation, Z)

        return csr_impl

    def dense_impl(X, rows, Xb, W, b, activation, Z):
        dense_forward(Xb, W, b, activation, Z)

    return dense_impl


@overload(_first_grad, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _ov_first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb):
    if isinstance(X, types.BaseTuple):

        def csr_impl(X, rows, Xb, D, W, alpha, scale, gW, gb):
            sparse_dense_grad(X[0], X[1], X[2], rows, D, W, alpha, scale, gW, gb)

        return csr_impl

    def dense_impl(X, rows, Xb, D, W, alpha, scale, gW, gb):
        dense_grad(Xb, D, W, alpha, scale, gW, gb)

    return dense_impl


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _batch_loss_grad(
    X,
    Xb,
    rows,
    Yb,
    swb,
    params,
    layer_sizes,
    coef_off,
    icpt_off,
    slot_off,
    cap,
    hidden_activation,
    output_activation,
    loss,
    alpha,
    sq_coef,
    grads,
    act_buf,
    delta_buf,
    l1,
):
    """Forward, loss and backward for one batch of m rows; returns the loss.

    The batch is rows ``rows`` of ``X``: for a dense X gathered into
    ``Xb[m, n_0]``, for a CSR X (a tuple) read in place by the first layer
    (``Xb`` then has no rows).

    ``sq_coef`` is ``sum(W ** 2)`` over all coefficients (the L2 penalty),
    passed in because the optimizer computed it in its own pass. ``l1 > 0``
    adds ``l1 * sum|W| / sw_sum`` to the loss and ``l1 * sign(W) / sw_sum``
    to the coefficient gradients (``sign(0) = 0``); ``l1 == 0`` skips both.
    """
    m = rows.shape[0]
    n_layers = layer_sizes.shape[0] - 1

    # forward: layer l's output lives in slot l + 1 of act_buf
    A = Xb
    for l in range(n_layers):
        fi = layer_sizes[l]
        fo = layer_sizes[l + 1]
        W = as_matrix(params, coef_off[l], fi, fo)
        b = params[icpt_off[l] : icpt_off[l] + fo]
        Z = as_matrix(act_buf, cap * slot_off[l + 1], m, fo)
        act = hidden_activation
        if l == n_layers - 1:
            act = output_activation
        if l == 0:
            _first_forward(X, rows, Xb, W, b, act, Z)
        else:
            dense_forward(A, W, b, act, Z)
        A = Z

    if swb.shape[0] > 0:
        sw_sum = 0.0
        for i in range(m):
            sw_sum += swb[i]
    else:
        sw_sum = float(m)
    scale = 1.0 / sw_sum

    fo = layer_sizes[n_layers]
    D = as_matrix(delta_buf, cap * slot_off[n_layers], m, fo)
    total = loss_output_delta(A, Yb, swb, loss, D)
    value = total * scale + 0.5 * alpha * sq_coef * scale
    if l1 != 0.0:
        value += l1 * _sum_abs(params, icpt_off[0]) * scale

    # backward: D holds d loss / d z of layer l's output
    for l in range(n_layers - 1, -1, -1):
        fi = layer_sizes[l]
        fo = layer_sizes[l + 1]
        W = as_matrix(params, coef_off[l], fi, fo)
        gW = as_matrix(grads, coef_off[l], fi, fo)
        gb = grads[icpt_off[l] : icpt_off[l] + fo]
        if l == 0:
            _first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb)
        else:
            A_in = as_matrix(act_buf, cap * slot_off[l], m, fi)
            dense_grad(A_in, D, W, alpha, scale, gW, gb)
        if l1 != 0.0:
            _add_l1_sign(gW, W, l1 * scale)
        if l > 0:
            D_prev = as_matrix(delta_buf, cap * slot_off[l], m, fi)
            hidden_delta(D, W, A_in, hidden_activation, D_prev)
            D = D_prev
    return value


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def loss_grad(
    X,
    Y,
    sw,
    params,
    layer_sizes,
    hidden_activation,
    output_activation,
    loss,
    alpha,
    grads,
    act_buf,
    delta_buf,
    l1=0.0,
):
    """Full-batch loss (with L2 and L1) and flat gradient of ``params``.

    ``X`` is ``X[n, n_0]`` or a CSR tuple ``(indptr, indices, data)`` of n
    rows. ``act_buf`` and ``delta_buf`` hold at least ``n * sum(layer_sizes)``
    entries; ``l1`` (default 0) is the L1 strength (see contract).
    """
    coef_off, icpt_off, slot_off = _layout(layer_sizes)
    n = Y.shape[0]
    rows = np.arange(n)
    return _batch_loss_grad(
        X,
        _row_block(X, 0, n),
        rows,
        Y,
        sw,
        params,
        layer_sizes,
        coef_off,
        icpt_off,
        slot_off,
        n,
        hidden_activation,
        output_activation,
        loss,
        alpha,
        _sum_squares(params, icpt_off[0]),
        grads,
        act_buf,
        delta_buf,
        l1,
    )


def loss_grad_sparse(indptr, indices, data, *args):
    """``loss_grad`` for a CSR ``X`` (indptr, indices, data) of ``Y.shape[0]`` rows.

    The other arguments are :func:`loss_grad`'s, in its order.
    """
    return loss_grad((indptr, indices, data), *args)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def train_epoch(
    X,
    Y,
    sw,
    sample_idx,
    seed,
    params,
    grads,
    layer_sizes,
    hidden_activation,
    output_activation,
    loss,
    batch_size,
    solver,
    hyper,
    opt_m,
    opt_v,
    step,
    act_buf,
    delta_buf,
):
    """One epoch of minibatch training in one call; returns the epoch loss.

    ``X[n, n_0]`` (or a CSR tuple ``(indptr, indices, data)``, read in place
    and never densified), ``Y[n, n_L]`` and ``sw`` (length n or 0) are the
    whole training set; ``sample_idx`` (int64, length n) is the visiting
    order, shuffled in place first when ``seed >= 0``. ``hyper = [lr,
    momentum, nesterov, beta1, beta2, epsilon, alpha, l1]`` (a 7-entry
    ``hyper`` means ``l1 = 0``). ``act_buf``/``delta_buf`` hold ``batch_size
    * sum(layer_sizes)`` entries each.

    Everything runs in this one compiled function: the per-batch work is
    inlined here (numba re-optimises a callee's code inside every caller, so
    each extra level of functions cost seconds of cold compile) and works on
    borrowed arrays (:func:`borrow`): views cost no reference counting.
    """
    if seed >= 0:
        np.random.seed(seed)  # noqa: NPY002 (numba's per-thread generator)
        np.random.shuffle(sample_idx)  # noqa: NPY002
    n = sample_idx.shape[0]
    n_in = layer_sizes[0]
    n_out = layer_sizes[layer_sizes.shape[0] - 1]
    weighted = sw.shape[0] > 0
    csr = _is_csr(X)
    # Gathered targets/weights of one batch: small, so made once per epoch.
    ybuf_owned = np.empty(batch_size * n_out, dtype=Y.dtype)
    swbuf_owned = np.empty(batch_size if weighted else 0, dtype=Y.dtype)
    layout = _layout(layer_sizes)

    # Owner-less views from here on (arguments live for the whole call; the
    # arrays made here are kept alive by _keep_alive at the end).
    Xo, Y, sw, sample_idx = borrow_all(X), borrow(Y), borrow(sw), borrow(sample_idx)
    params, grads = borrow(params), borrow(grads)
    opt_m, opt_v, step = borrow(opt_m), borrow(opt_v), borrow(step)
    layer_sizes, act_buf, delta_buf = (
        borrow(layer_sizes),
        borrow(act_buf),
        borrow(delta_buf),
    )
    ybuf, swbuf = borrow(ybuf_owned), borrow(swbuf_owned)
    coef_off, icpt_off, slot_off = (
        borrow(layout[0]),
        borrow(layout[1]),
        borrow(layout[2]),
    )

    n_coef = icpt_off[0]
    lr = hyper[0]
    momentum = hyper[1]
    nesterov = hyper[2] != 0.0
    beta1 = hyper[3]
    beta2 = hyper[4]
    eps = hyper[5]
    alpha = hyper[6]
    l1 = hyper[7] if hyper.shape[0] > 7 else hyper.dtype.type(0)

    sq_coef = _sum_squares(params, n_coef)
    accumulated = 0.0
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        rows = sample_idx[start : start + m]
        # Dense rows are gathered; CSR rows are read in place by layer 0.
        Xb = as_matrix(act_buf, 0, 0 if csr else m, n_in)
        Yb = as_matrix(ybuf, 0, m, n_out)
        swb = swbuf[: m if weighted else 0]
        for r in range(m):
            src = rows[r]
            if not csr:
                _gather_row(Xo, src, Xb, r)
            for j in range(n_out):
                Yb[r, j] = Y[src, j]
            if weighted:
                swb[r] = sw[src]
        batch_loss = _batch_loss_grad(
            Xo,
            Xb,
            rows,
            Yb,
            swb,
            params,
            layer_sizes,
            coef_off,
            icpt_off,
            slot_off,
            batch_size,
            hidden_activation,
            output_activation,
            loss,
            alpha,
            sq_coef,
            grads,
            act_buf,
            delta_buf,
            l1,
        )
        accumulated += batch_loss * m
        if solver == ADAM:
            step[0] += 1
            sq_coef = adam_update(
                params, grads, opt_m, opt_v, step[0], lr, beta1, beta2, eps, n_coef
            )
        else:
            sq_coef = sgd_update(params, grads, opt_m, lr, momentum, nesterov, n_coef)
    _keep_alive(ybuf_owned, swbuf_owned, layout[0], layout[1], layout[2])
    return accumulated / n


def train_epoch_sparse(indptr, indices, data, *args):
    """``train_epoch`` for a CSR ``X`` (indptr, indices, data): never densified.

    The first layer reads each batch's CSR rows in place
    (:func:`sparse_dense_forward`, :func:`sparse_dense_grad`). The other
    arguments are :func:`train_epoch`'s, in its order.
    """
    return train_epoch((indptr, indices, data), *args)


@njit(cache=True)
def predict_chunk_rows(layer_sizes):
    """Rows per chunk of :func:`forward` for this network (see
    ``SMALL_LAYER_WORK``); callers that split rows over threads align to it."""
    widest = 1
    work = 1
    for l in range(layer_sizes.shape[0] - 1):
        work = max(work, layer_sizes[l] * layer_sizes[l + 1])
        if l > 0:
            widest = max(widest, layer_sizes[l])
    if work < SMALL_LAYER_WORK:
        return PREDICT_CHUNK_SMALL
    rows = PREDICT_BUFFER_ELEMENTS // widest
    return max(PREDICT_CHUNK_MIN, min(PREDICT_CHUNK, rows))


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
def forward(X, params, layer_sizes, hidden_activation, output_activation, out):
    """Prediction pass ``out[n, n_L] = net(X[n, n_0])`` in row chunks.

    ``X`` is a 2-D array or a CSR tuple ``(indptr, indices, data)`` of
    ``out.shape[0]`` rows. Releases the GIL, so callers can predict row
    ranges in parallel threads.
    """
    n = out.shape[0]
    n_layers = layer_sizes.shape[0] - 1
    csr = _is_csr(X)
    layout = _layout(layer_sizes)
    widest = 1
    for l in range(1, n_layers):
        widest = max(widest, layer_sizes[l])
    chunk = min(predict_chunk_rows(layer_sizes), max(n, 1))
    buf_a_owned = np.empty(chunk * widest, dtype=out.dtype)
    buf_b_owned = np.empty(chunk * widest, dtype=out.dtype)
    rows_owned = np.arange(n if csr else 0)

    # Owner-less views (see train_epoch).
    Xo, out, params = borrow_all(X), borrow(out), borrow(params)
    layer_sizes, rows = borrow(layer_sizes), borrow(rows_owned)
    coef_off, icpt_off = borrow(layout[0]), borrow(layout[1])
    buf_a, buf_b = borrow(buf_a_owned), borrow(buf_b_owned)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        for l in range(n_layers):
            fi = layer_sizes[l]
            fo = layer_sizes[l + 1]
            W = as_matrix(params, coef_off[l], fi, fo)
            b = params[icpt_off[l] : icpt_off[l] + fo]
            last = l == n_layers - 1
            if last:
                Z = out[start : start + m]
            elif l % 2 == 0:
                Z = as_matrix(buf_a, 0, m, fo)
            else:
                Z = as_matrix(buf_b, 0, m, fo)
            act = output_activation if last else hidden_activation
            if l == 0:
                _first_forward(
                    Xo, rows[start : start + m], _row_block(Xo, start, m), W, b, act, Z
                )
            elif l % 2 == 1:
                dense_forward(as_matrix(buf_a, 0, m, fi), W, b, act, Z)
            else:
                dense_forward(as_matrix(buf_b, 0, m, fi), W, b, act, Z)
    _keep_alive(buf_a_owned, buf_b_owned, rows_owned, layout[0], layout[1])


def forward_sparse(indptr, indices, data, *args):
    """``forward`` for a CSR ``X`` (indptr, indices, data) of ``out.shape[0]`` rows.

    The other arguments are :func:`forward`'s, in its order.
    """
    forward((indptr, indices, data), *args)
