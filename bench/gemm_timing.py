"""The three products of a training step, own kernels and BLAS, and their timing.

====  ============================  ==================  =============
op    product                       GEMM (m x k x n)    kernel
====  ============================  ==================  =============
nn    ``X[B, fi] @ W[fi, fo]``      B x fi x fo         dense_forward
nt    ``D[B, fo] @ W[fi, fo].T``    B x fo x fi         hidden_delta
tn    ``A[B, fi].T @ D[B, fo]``     fi x B x fo         dense_grad
====  ============================  ==================  =============

The own side is ``fastmlp.kernels.cpu.gemm_nn``, ``gemm_nt``, ``gemm_tn``; the
BLAS side is ``np.dot`` inside an ``@njit`` function (:func:`numba_dot_nn`,
...). :func:`time_pair` calls both ``reps`` times in a jitted loop, so neither
pays Python's call overhead (inside ``train_epoch`` neither does), in
interleaved samples. :func:`measure_peak` is the machine's single-call GEMM
yardstick. ``python -m bench.gemm`` (the sweep) and the pytest-benchmark
suite ``bench/suites/test_bench_kernels.py`` build on these.
"""

import math
import time

import numpy as np
from fastmlp.kernels import cpu
from numba import njit

from bench.common import rotated

__all__ = [
    "OPS",
    "gemm_arrays",
    "gemm_dims",
    "measure_peak",
    "numba_dot_nn",
    "numba_dot_nt",
    "numba_dot_tn",
    "time_pair",
]

#: The three products of a training step, in the order of the tables.
OPS = ("nn", "nt", "tn")

#: Seconds per timed sample (a jitted loop of ``reps`` calls) and samples per
#: implementation, interleaved own / BLAS.
TARGET_S = 0.005
SAMPLES = 5
QUICK_TARGET_S = 0.002
QUICK_SAMPLES = 3

# --------------------------------------------------------------------------
# BLAS through np.dot in numba, and jitted repeat loops. The ``numba_dot_*``
# wrappers are what bench/suites/test_bench_kernels.py times against the own
# kernels (same numba dispatch on both sides). They are not the kernels'
# ``fastmlp.kernels.cpu.gemm.blas_nn`` etc., which call BLAS's xgemm directly.


@njit(cache=True)
def numba_dot_nn(A, B, C):
    """``C = A @ B`` through BLAS (``np.dot`` inside numba)."""
    np.dot(A, B, C)


@njit(cache=True)
def numba_dot_nt(A, B, C):
    """``C = A @ B.T`` through BLAS."""
    np.dot(A, B.T, C)


@njit(cache=True)
def numba_dot_tn(A, B, C):
    """``C = A.T @ B`` through BLAS."""
    np.dot(A.T, B, C)


@njit(cache=True)
def _own_nn_loop(A, B, C, reps):
    for _ in range(reps):
        cpu.gemm_nn(A, B, C)


@njit(cache=True)
def _own_nt_loop(A, B, C, reps):
    for _ in range(reps):
        cpu.gemm_nt(A, B, C)


@njit(cache=True)
def _own_tn_loop(A, B, C, reps):
    for _ in range(reps):
        cpu.gemm_tn(A, B, C)


@njit(cache=True)
def _blas_nn_loop(A, B, C, reps):
    for _ in range(reps):
        np.dot(A, B, C)


@njit(cache=True)
def _blas_nt_loop(A, B, C, reps):
    for _ in range(reps):
        np.dot(A, B.T, C)


@njit(cache=True)
def _blas_tn_loop(A, B, C, reps):
    for _ in range(reps):
        np.dot(A.T, B, C)


_LOOPS = {
    "nn": (_own_nn_loop, _blas_nn_loop),
    "nt": (_own_nt_loop, _blas_nt_loop),
    "tn": (_own_tn_loop, _blas_tn_loop),
}


def gemm_arrays(op, batch, fan_in, fan_out, dtype=np.float32, seed=0):
    """Operands ``(A, B, C)`` of ``op`` for a layer, C-contiguous, in [-1, 1).

    ``nn``: ``A = X[batch, fan_in]``, ``B = W[fan_in, fan_out]``,
    ``C[batch, fan_out]``; ``nt``: ``A = D[batch, fan_out]``, ``B = W``,
    ``C[batch, fan_in]``; ``tn``: ``A = X``, ``B = D[batch, fan_out]``,
    ``C[fan_in, fan_out]``.
    """
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return rng.uniform(-1.0, 1.0, shape).astype(dtype)

    if op == "nn":
        return rand(batch, fan_in), rand(fan_in, fan_out), rand(batch, fan_out)
    if op == "nt":
        return rand(batch, fan_out), rand(fan_in, fan_out), rand(batch, fan_in)
    if op == "tn":
        return rand(batch, fan_in), rand(batch, fan_out), rand(fan_in, fan_out)
    raise ValueError(f"unknown op {op!r}; choose from {OPS}")


def gemm_dims(op, batch, fan_in, fan_out):
    """``(m, k, n)`` of the product ``C[m, n] = A[m, k] B[k, n]`` of ``op``."""
    return {
        "nn": (batch, fan_in, fan_out),
        "nt": (batch, fan_out, fan_in),
        "tn": (fan_in, batch, fan_out),
    }[op]


# --------------------------------------------------------------------------
# Timing, interleaved own / BLAS


def _seconds_per_call(loop, args, reps):
    start = time.perf_counter()
    loop(*args, reps)
    return (time.perf_counter() - start) / reps


def _calibrate(loop, args, target_s):
    """Calls per sample so that one sample lasts about ``target_s``."""
    loop(*args, 1)  # compile (or load from the cache) and warm the caches
    reps = 1
    while True:
        start = time.perf_counter()
        loop(*args, reps)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.2 * target_s or reps >= 10**7:
            break
        reps = int(reps * min(100.0, max(2.0, target_s / max(elapsed, 1e-9))))
    return max(1, round(reps * target_s / elapsed))


def time_pair(
    op, batch, fan_in, fan_out, dtype=np.float32, target_s=TARGET_S, samples=SAMPLES
):
    """Time the own kernel and BLAS on one shape, interleaved.

    Returns
    -------
    dict with the seconds per call of each sample (``own_s``, ``blas_s``),
    the calls per sample, and whether the two results agree.
    """
    own_loop, blas_loop = _LOOPS[op]
    A, B, C = gemm_arrays(op, batch, fan_in, fan_out, dtype)
    args = (A, B, C)
    reps = {
        "own": _calibrate(own_loop, args, target_s),
        "blas": _calibrate(blas_loop, args, target_s),
    }
    times = {"own": [], "blas": []}
    for s in range(samples):
        for name in rotated(("own", "blas"), s):
            loop = own_loop if name == "own" else blas_loop
            times[name].append(_seconds_per_call(loop, args, reps[name]))
    own_loop(A, B, C, 1)
    C_own = C.copy()
    blas_loop(A, B, C, 1)
    scale = np.abs(C).max() + 1.0
    agree = bool(np.abs(C_own - C).max() <= 1e-3 * scale)
    return {
        "own_s": times["own"],
        "blas_s": times["blas"],
        "reps": reps,
        "agree": agree,
    }


def measure_peak(n=1024, dtype=np.float32, calls=5):
    """Best single-call GFLOP/s of numpy's GEMM at ``n^3`` (the machine's peak).

    Also times BLAS through numba (:func:`numba_dot_nn`, which links scipy's BLAS,
    possibly another build than numpy's) on the same operands.
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty((n, n), dtype=dtype)
    flop = 2.0 * n**3
    result = {"n": n}
    for name, fn in (
        ("numpy", lambda: np.matmul(A, B, out=C)),
        ("numba_blas", lambda: numba_dot_nn(A, B, C)),
    ):
        fn()
        best = math.inf
        for _ in range(calls):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        result[f"{name}_gflops"] = flop / best / 1e9
    return result
