"""The project's own matrix products and the thresholds that pick BLAS.

The output is computed in blocks of four rows so every loaded row of the
right-hand matrix feeds four accumulating rows, and the innermost loop runs
over contiguous memory so LLVM vectorises it.
"""

from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

from .._cache import njit
from ._common import FASTMATH

# Columns per block of the output: 4 rows x COL_BLOCK stays in L1.
COL_BLOCK = 256
# Products with at least this many multiply-adds (m * k * n) go to BLAS
# (``np.dot`` inside the JIT), smaller ones to the project's own loops. The
# crossovers are measured per orientation by ``python -m bench.gemm`` (2-core
# AVX-512 machine, float32, one BLAS thread): for X @ W BLAS wins at every MLP
# shape, even 10x2x8; the own loops win for D @ W.T up to ~640 multiply-adds
# and for A.T @ D below 640 (tiny playground layers), by ~1.3x.
BLAS_MIN_WORK_NN = 0
BLAS_MIN_WORK_NT = 4096
BLAS_MIN_WORK_TN = 640
# The whole-network kernels (epoch, predict) send every product to BLAS: in a
# whole playground batch the own loops made no measurable difference (2.77 vs
# 2.77 us) and cost 2-3 s of compile per configuration. These thresholds rule
# the contract's single-layer kernels (dense_forward, hidden_delta, dense_grad).
# With a threshold of 0 the own X @ W loops are never used: not even compiled.
_OWN_NN = BLAS_MIN_WORK_NN > 0
#: The same thresholds by orientation (read by bench/gemm.py).
BLAS_MIN_WORK = {"nn": BLAS_MIN_WORK_NN, "nt": BLAS_MIN_WORK_NT, "tn": BLAS_MIN_WORK_TN}


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


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
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


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
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
# BLAS, called directly
# --------------------------------------------------------------------------
# The same BLAS that numba's np.dot calls (scipy's cython_blas sgemm/dgemm),
# reached by a symbol registered once per process: numba resolves the kernels'
# external symbols when it links them, cached code included (it does the same
# for its own helpers). Calling it from an intrinsic instead of ``np.dot``
# saves compiling numba's dot implementation for every operand layout (about
# 0.2 s each on a cold start) and its checks on every call; the arguments
# are numba's for the same product, so the results are the same.
_BLAS_SYMBOLS = {types.float32: "fastmlp_sgemm", types.float64: "fastmlp_dgemm"}
for _ty, _symbol in _BLAS_SYMBOLS.items():
    llvm.add_symbol(
        _symbol,
        get_cython_function_address(
            "scipy.linalg.cython_blas", "sgemm" if _ty == types.float32 else "dgemm"
        ),
    )


@intrinsic
def _xgemm(typingctx, trans_a, trans_b, m, n, k, A, lda, B, ldb, C, ldc):
    """Fortran ``xgemm(trans_a, trans_b, m, n, k, 1, A, lda, B, ldb, 0, C, ldc)``.

    Column-major, as BLAS sees memory; ``trans_*`` are 0 (N) or 1 (T).
    """
    arrays = (A, B, C)
    if C.dtype not in _BLAS_SYMBOLS or any(
        a.layout != "C" or a.dtype != C.dtype for a in arrays
    ):
        return None  # typing error: only C-contiguous arrays of one float dtype
    sig = types.void(
        types.intp,
        types.intp,
        types.intp,
        types.intp,
        types.intp,
        A,
        types.intp,
        B,
        types.intp,
        C,
        types.intp,
    )

    def codegen(context, builder, signature, args):
        ta, tb, m_, n_, k_, a, lda_, b, ldb_, c, ldc_ = args
        fty = context.get_value_type(C.dtype)
        i8, i32 = ir.IntType(8), ir.IntType(32)

        def slot(value):
            ptr = cgutils.alloca_once(builder, value.type)
            builder.store(value, ptr)
            return ptr

        def trans(flag):
            is_t = builder.icmp_unsigned("!=", flag, flag.type(0))
            return slot(builder.select(is_t, i8(ord("T")), i8(ord("N"))))

        def dim(value):
            return slot(builder.trunc(value, i32))

        def data(arrty, value):
            array = context.make_array(arrty)(context, builder, value=value)
            return builder.bitcast(array.data, fty.as_pointer())

        fnty = ir.FunctionType(
            ir.VoidType(),
            [
                i8.as_pointer(),
                i8.as_pointer(),
                *[i32.as_pointer()] * 3,
                fty.as_pointer(),
                fty.as_pointer(),
                i32.as_pointer(),
                fty.as_pointer(),
                i32.as_pointer(),
                fty.as_pointer(),
                fty.as_pointer(),
                i32.as_pointer(),
            ],
        )
        fn = cgutils.get_or_insert_function(
            builder.module, fnty, _BLAS_SYMBOLS[C.dtype]
        )
        builder.call(
            fn,
            [
                trans(ta),
                trans(tb),
                dim(m_),
                dim(n_),
                dim(k_),
                slot(fty(1.0)),
                data(A, a),
                dim(lda_),
                data(B, b),
                dim(ldb_),
                slot(fty(0.0)),
                data(C, c),
                dim(ldc_),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", error_model="numpy")
def blas_nn(A, B, C):
    """``C[m, n] = A[m, k] @ B[k, n]`` by BLAS (row-major, C-contiguous)."""
    m, k = A.shape
    n = B.shape[1]
    if m > 0 and n > 0:
        _xgemm(0, 0, n, m, k, B, n, A, k if k > 0 else 1, C, n)


@njit(inline="always", error_model="numpy")
def blas_tn(A, B, C):
    """``C[k, n] = A[m, k].T @ B[m, n]`` by BLAS (row-major, C-contiguous)."""
    m, k = A.shape
    n = B.shape[1]
    if k > 0 and n > 0:
        _xgemm(0, 1, n, k, m, B, n, A, k, C, n)


@njit(inline="always", error_model="numpy")
def blas_nt(A, B, C):
    """``C[m, k] = A[m, n] @ B[k, n].T`` by BLAS (row-major, C-contiguous)."""
    m, n = A.shape
    k = B.shape[0]
    if m > 0 and k > 0:
        _xgemm(1, 0, k, m, n, B, n if n > 0 else 1, A, n if n > 0 else 1, C, k)
