"""The project's own matrix products and the thresholds that pick BLAS.

The output is computed in blocks of four rows so every loaded row of the
right-hand matrix feeds four accumulating rows, and the innermost loop runs
over contiguous memory so LLVM vectorises it.
"""

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
