"""The fully fused MLP kernel (forward only, or a whole training step) and
the tile functions it shares with the fused epoch kernel (:mod:`.epoch`)."""

import numpy as np

from .._cache import cuda_jit
from ._common import SOFTMAX, cuda
from .device import (
    _activate,
    _block_sum,
    _derivative,
    _loss_delta_row,
    _softmax_row,
)


# Tile functions: one tile of ``mt`` batch rows held by a block of ``nthreads``
# threads (thread ``t``), activations in ``buf`` (shared, ``(2, rows, width)``);
# ``one`` carries the dtype. ``meta`` (int64) holds ``[sizes (L+1), coef_off
# (L), icpt_off (L), slot_off (L+1)]``; the tile's rows are batch rows ``r0 ..
# r0 + mt``, input row ``idx[start + r0 + r]`` (or ``start + r0 + r``) of
# ``X``. Module-level (not closures of the kernel factories): a cached
# kernel's key pickles its closure, and these are shared by two kernels.
@cuda.jit(device=True)
def _tile_forward(
    X, idx, start, use_idx, r0, mt, params, meta, L, hidden, output,
    act_buf, cap, train, buf, t, nthreads, one,
):  # fmt: skip
    """Every layer ``A_{l+1} = f(A_l @ W_l + b_l)`` of the tile (output
    softmax by row); training stores the hidden activations in
    ``act_buf`` (slot layout of the contract). Returns the buffer index
    ``po`` of the output tile ``buf[po]``."""
    p = 0
    for layer in range(L):
        fi = meta[layer]
        fo = meta[layer + 1]
        w_off = meta[L + 1 + layer]
        b_off = meta[2 * L + 1 + layer]
        last = layer == L - 1
        for e in range(t, mt * fo, nthreads):
            r = e // fo
            j = e % fo
            s = params[b_off + j]
            if layer == 0:
                xr = start + r0 + r
                if use_idx:
                    xr = idx[xr]
                for k in range(fi):
                    s += X[xr, k] * params[w_off + k * fo + j]
            else:
                for k in range(fi):
                    s += buf[1 - p, r, k] * params[w_off + k * fo + j]
            if not last:
                s = _activate(s, hidden, one)
                if train:
                    act_buf[cap * meta[3 * L + 1 + layer + 1] + (r0 + r) * fo + j] = s
            elif output != SOFTMAX:
                s = _activate(s, output, one)
            buf[p, r, j] = s
        cuda.syncthreads()
        p = 1 - p
    po = 1 - p
    if output == SOFTMAX:
        for r in range(t, mt, nthreads):
            _softmax_row(buf[po], r, meta[L], one)
        cuda.syncthreads()
    return po


@cuda.jit(device=True)
def _tile_loss(
    P, Y, sw, idx, start, use_idx, r0, mt, n_out, loss, eps, red, t, nthreads, one
):
    """``sum_r w_r loss_r`` over the tile (float64, every thread gets it;
    ``red`` a shared float64 buffer of ``nthreads``); the output tile
    ``P`` becomes the delta ``(P - Y) w`` in place."""
    value = 0.0
    for r in range(t, mt, nthreads):
        yr = start + r0 + r
        if use_idx:
            yr = idx[yr]
        w = one
        if sw.shape[0] > 0:
            w = sw[yr]
        value += float(w) * _loss_delta_row(P, r, Y, yr, n_out, loss, eps, w, P, r)
    red[t] = value
    return _block_sum(red, t, nthreads)


@cuda.jit(device=True)
def _tile_backward(
    X, idx, start, use_idx, r0, mt, params, meta, L, hidden, act_buf, cap,
    buf, pd, acc, acc_off, sc, atomic, first, t, nthreads, one,
):  # fmt: skip
    """Back-propagate the output delta ``buf[pd]`` through every layer and
    add ``sc * A_l^T D_l`` and ``sc * sum_r D_l`` to ``acc[acc_off + ...]``
    (flat layout of ``params``): with atomics when ``atomic``, else as the
    only writer of that slice (``first``: store instead of add)."""
    zero = one - one
    for layer in range(L - 1, -1, -1):
        fi = meta[layer]
        fo = meta[layer + 1]
        w_off = meta[L + 1 + layer]
        b_off = meta[2 * L + 1 + layer]
        a_off = cap * meta[3 * L + 1 + layer]
        for e in range(t, fi * fo, nthreads):
            k = e // fo
            j = e % fo
            s = zero
            for r in range(mt):
                if layer == 0:
                    xr = start + r0 + r
                    if use_idx:
                        xr = idx[xr]
                    a = X[xr, k]
                else:
                    a = act_buf[a_off + (r0 + r) * fi + k]
                s += a * buf[pd, r, j]
            if atomic:
                cuda.atomic.add(acc, acc_off + w_off + e, s * sc)
            elif first:
                acc[acc_off + w_off + e] = s * sc
            else:
                acc[acc_off + w_off + e] += s * sc
        for j in range(t, fo, nthreads):
            s = zero
            for r in range(mt):
                s += buf[pd, r, j]
            if atomic:
                cuda.atomic.add(acc, acc_off + b_off + j, s * sc)
            elif first:
                acc[acc_off + b_off + j] = s * sc
            else:
                acc[acc_off + b_off + j] += s * sc
        if layer > 0:
            pn = 1 - pd
            for e in range(t, mt * fi, nthreads):
                r = e // fi
                k = e % fi
                s = zero
                for j in range(fo):
                    s += buf[pd, r, j] * params[w_off + k * fo + j]
                a = act_buf[a_off + (r0 + r) * fi + k]
                buf[pn, r, k] = s * _derivative(a, hidden, one)
            cuda.syncthreads()
            pd = pn


def _fused_mlp_kernel(dt, rows, nthreads, width, train):
    """Build the fully fused MLP kernel (forward only, or a whole train step).

    A block owns ``rows`` consecutive batch rows (the tile functions of
    :func:`_fused_tile_functions`). Prediction writes the output to ``out``.
    Training stores the hidden activations of its rows in ``act_buf``,
    computes the output delta and the loss (added to ``loss_acc[0]`` as
    ``loss_delta_kernel`` does), then back-propagates through the layers in
    shared memory and adds ``scale[slot] * A_l^T D_l`` and ``scale[slot] *
    sum_r D_l`` to ``grads`` with atomics (the L2 and L1 terms are folded in
    by the optimizer pass).
    """
    f64 = np.float64

    @cuda_jit(cache=True)
    def fused(
        X,
        Y,
        sw,
        idx,
        start,
        use_idx,
        m,
        params,
        grads,
        meta,
        n_layers,
        hidden,
        output,
        loss,
        eps,
        act_buf,
        cap,
        scale,
        slot,
        loss_acc,
        alpha,
        l1,
        sq,
        ab,
        sq_slot,
        out,
    ):
        buf = cuda.shared.array((2, rows, width), dt)
        red = cuda.shared.array(nthreads, f64)
        t = cuda.threadIdx.x
        r0 = cuda.blockIdx.x * rows
        mt = min(rows, m - r0)
        L = n_layers
        one = dt(1)
        po = _tile_forward(
            X, idx, start, use_idx, r0, mt, params, meta, L, hidden, output,
            act_buf, cap, train, buf, t, nthreads, one,
        )  # fmt: skip
        n_out = meta[L]
        P = buf[po]
        if not train:
            for e in range(t, mt * n_out, nthreads):
                r = e // n_out
                j = e % n_out
                out[start + r0 + r, j] = P[r, j]
            return

        sc = scale[slot]
        total = _tile_loss(
            P, Y, sw, idx, start, use_idx, r0, mt, n_out, loss, eps, red, t,
            nthreads, one,
        )  # fmt: skip
        if t == 0:
            if cuda.blockIdx.x == 0:
                total += 0.5 * alpha * sq[sq_slot] + l1 * ab[sq_slot]
            cuda.atomic.add(loss_acc, 0, total * m * sc)
        cuda.syncthreads()
        _tile_backward(
            X, idx, start, use_idx, r0, mt, params, meta, L, hidden, act_buf, cap,
            buf, po, grads, 0, dt(sc), True, False, t, nthreads, one,
        )  # fmt: skip

    return fused
