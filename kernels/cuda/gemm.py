"""Tiled GEMM with 2D register tiling: the kernel factory and its launch."""

from functools import cache

import numpy as np

from .. import config
from .._cache import cuda_jit
from ._common import (
    EPI_BIAS_ACT,
    EPI_DERIV,
    EPI_GRAD,
    IDENTITY,
    NT,
    TN,
    _blocks,
    _dtype_of,
    _empty,
    check_gemm_config,
    cuda,
)
from .device import _activate, _derivative

#: Blocks a launch may have along grid.y (CUDA's limit). Row tiles beyond it
#: are taken in turn by the blocks of the grid (a full-batch product of
#: more than ``65535 * GEMM_TILE_M`` rows); tests patch it small.
MAX_GRID_Y = 65535


def _gemm_config():
    return (
        config.GEMM_TILE_M,
        config.GEMM_TILE_N,
        config.GEMM_TILE_K,
        config.GEMM_THREAD_M,
        config.GEMM_THREAD_N,
    )


@cache
def _gemm_kernel(orient, epilogue, dtype, bm, bn, bk, tm, tn):
    """Build the tiled GEMM kernel for one orientation, epilogue and dtype.

    ``C[M, N] = op(A) @ op(B)`` with ``op(A)`` of shape ``(M, K)``: ``A[M, K]``
    for ``nn``/``nt``, ``A[K, M]`` for ``tn``; ``op(B)`` of shape ``(K, N)``:
    ``B[K, N]`` for ``nn``/``tn``, ``B[N, K]`` for ``nt``. A block computes a
    ``bm x bn`` tile of C from ``bk``-deep slabs of A and B staged in shared
    memory; each of its ``(bm / tm) * (bn / tn)`` threads accumulates a
    ``tm x tn`` register tile. Epilogues (fused, per output element):
    ``EPI_STORE`` ``C = acc``; ``EPI_BIAS_ACT`` ``C = f(acc + bias[n])``;
    ``EPI_DERIV`` ``C = acc * f'(Aact[m, n])``; ``EPI_GRAD``
    ``C = (acc + alpha W[m, n] + l1 sign(W[m, n])) * scale[slot]`` and, in
    the blocks of the
    first row tile, ``gb[n] = scale[slot] * sum_k B[k, n]``.
    """
    check_gemm_config(dtype)
    dt = np.dtype(dtype).type
    nthreads = (bm // tm) * (bn // tn)
    tcols = bn // tn
    a_mk = orient != TN
    b_kn = orient != NT

    @cuda_jit(cache=True)
    def gemm(A, B, C, bias, act, Aact, W, alpha, l1, scale, slot, gb):
        As = cuda.shared.array((bk, bm), dt)
        Bs = cuda.shared.array((bk, bn), dt)
        acc = cuda.local.array((tm, tn), dt)
        colsum = cuda.local.array(tn, dt)
        zero = dt(0)
        one = dt(1)
        M = C.shape[0]
        N = C.shape[1]
        if a_mk:
            K = A.shape[1]
        else:
            K = A.shape[0]
        t = cuda.threadIdx.x
        tx = t % tcols
        ty = t // tcols
        col0 = cuda.blockIdx.x * bn
        # Row tiles stride over grid.y (at most MAX_GRID_Y blocks): any M fits.
        for rb in range(cuda.blockIdx.y, (M + bm - 1) // bm, cuda.gridDim.y):
            row0 = rb * bm
            do_colsum = epilogue == EPI_GRAD and rb == 0 and gb.shape[0] > 0
            for i in range(tm):
                for j in range(tn):
                    acc[i, j] = zero
            for j in range(tn):
                colsum[j] = zero
            for k0 in range(0, K, bk):
                for e in range(t, bk * bm, nthreads):
                    if a_mk:
                        ii = e // bk
                        kk = e % bk
                    else:
                        kk = e // bm
                        ii = e % bm
                    r = row0 + ii
                    k = k0 + kk
                    v = zero
                    if r < M and k < K:
                        if a_mk:
                            v = A[r, k]
                        else:
                            v = A[k, r]
                    As[kk, ii] = v
                for e in range(t, bk * bn, nthreads):
                    if b_kn:
                        kk = e // bn
                        jj = e % bn
                    else:
                        jj = e // bk
                        kk = e % bk
                    c = col0 + jj
                    k = k0 + kk
                    v = zero
                    if c < N and k < K:
                        if b_kn:
                            v = B[k, c]
                        else:
                            v = B[c, k]
                    Bs[kk, jj] = v
                cuda.syncthreads()
                for kk in range(bk):
                    for i in range(tm):
                        a = As[kk, ty * tm + i]
                        for j in range(tn):
                            acc[i, j] += a * Bs[kk, tx * tn + j]
                if do_colsum and ty == 0:
                    for kk in range(bk):
                        for j in range(tn):
                            colsum[j] += Bs[kk, tx * tn + j]
                cuda.syncthreads()

            sc = one
            if epilogue == EPI_GRAD:
                sc = dt(scale[slot])
            for i in range(tm):
                r = row0 + ty * tm + i
                if r < M:
                    for j in range(tn):
                        c = col0 + tx * tn + j
                        if c < N:
                            v = acc[i, j]
                            if epilogue == EPI_BIAS_ACT:
                                v = _activate(v + bias[c], act, one)
                            elif epilogue == EPI_DERIV:
                                v = v * _derivative(Aact[r, c], act, one)
                            elif epilogue == EPI_GRAD:
                                w = W[r, c]
                                v = v + alpha * w
                                if w > 0:
                                    v += l1
                                elif w < 0:
                                    v -= l1
                                v = v * sc
                            C[r, c] = v
            if do_colsum and ty == 0:
                for j in range(tn):
                    c = col0 + tx * tn + j
                    if c < N:
                        gb[c] = colsum[j] * sc

    return gemm


def _launch_gemm(
    orient,
    epilogue,
    A,
    B,
    C,
    bias=None,
    act=IDENTITY,
    Aact=None,
    W=None,
    alpha=0.0,
    l1=0.0,
    scale=None,
    slot=0,
    gb=None,
):
    dtype = _dtype_of(C)
    bm, bn, bk, tm, tn = _gemm_config()
    kernel = _gemm_kernel(orient, epilogue, dtype, bm, bn, bk, tm, tn)
    M, N = C.shape
    grid = (_blocks(N, bn), min(_blocks(M, bm), MAX_GRID_Y))
    kernel[grid, (bm // tm) * (bn // tn)](
        A,
        B,
        C,
        _empty(dtype, 1) if bias is None else bias,
        act,
        _empty(dtype, 2) if Aact is None else Aact,
        _empty(dtype, 2) if W is None else W,
        dtype(alpha),
        dtype(l1),
        _empty(np.float64, 1) if scale is None else scale,
        slot,
        _empty(dtype, 1) if gb is None else gb,
    )
