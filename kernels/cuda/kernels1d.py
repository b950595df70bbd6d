"""1-D kernels (activations, gather, loss and delta, norms, batch scales,
shuffle permutation, fill, SGD and Adam), built per dtype and config; the
namespace also carries the fused MLP kernels (:mod:`.fused`)."""

import math
from functools import cache
from types import SimpleNamespace

import numpy as np

from .. import config
from .._cache import cuda_jit
from ._common import cuda
from .device import (
    _activate,
    _block_sum,
    _block_sum2,
    _feistel,
    _loss_delta_row,
    _penalty_grad,
    _softmax_row,
)
from .epoch import _fused_epoch_kernel
from .fused import _fused_mlp_kernel


def _kernel_config():
    return (
        config.THREADS_PER_BLOCK,
        config.FUSED_ROWS,
        config.FUSED_THREADS,
        config.FUSED_MAX_WIDTH,
    )


@cache
def _kernels(dtype, tpb, fused_rows, fused_threads, fused_width):
    """Build the non-GEMM kernels for one dtype and config (see their docs)."""
    dt = np.dtype(dtype).type
    f64 = np.float64
    ns = SimpleNamespace()

    @cuda_jit(cache=True)
    def activation_kernel(Z, code):
        """``Z[m, n] = f(Z)`` elementwise (not softmax), one thread per entry."""
        e = cuda.grid(1)
        n = Z.shape[1]
        if e < Z.shape[0] * n:
            r = e // n
            j = e % n
            Z[r, j] = _activate(Z[r, j], code, dt(1))

    @cuda_jit(cache=True)
    def softmax_kernel(Z):
        """``Z[m, n] = softmax(Z)`` by row, one thread per row."""
        r = cuda.grid(1)
        if r < Z.shape[0]:
            _softmax_row(Z, r, Z.shape[1], dt(1))

    @cuda_jit(cache=True)
    def gather_kernel(X, idx, start, Xb):
        """``Xb[r, :] = X[idx[start + r], :]`` for ``Xb (m, n_0)``."""
        e = cuda.grid(1)
        n = Xb.shape[1]
        if e < Xb.shape[0] * n:
            r = e // n
            j = e % n
            Xb[r, j] = X[idx[start + r], j]

    @cuda_jit(cache=True)
    def loss_delta_kernel(
        P,
        Y,
        sw,
        idx,
        start,
        use_idx,
        softmax,
        loss,
        eps,
        delta,
        loss_acc,
        factor,
        slot,
        mult,
        alpha,
        l1,
        sq,
        ab,
        sq_slot,
    ):
        """Output delta and loss of ``P (m, n)``, one thread per row.

        Row ``r`` is compared to ``Y[yr]`` with ``yr = idx[start + r]`` (or
        ``r``); ``P`` gets the row softmax first when ``softmax``.
        ``delta[r] = (P[r] - Y[yr]) * w`` and ``loss_acc[0] += c * sum_r w
        loss_r + c * (0.5 alpha sq[sq_slot] + l1 ab[sq_slot])`` with
        ``c = mult * factor[slot]`` (float64).
        """
        red = cuda.shared.array(tpb, f64)
        t = cuda.threadIdx.x
        r = cuda.grid(1)
        m = P.shape[0]
        n = P.shape[1]
        value = 0.0
        if r < m:
            yr = r
            if use_idx:
                yr = idx[start + r]
            w = dt(1)
            if sw.shape[0] > 0:
                w = sw[yr]
            if softmax:
                _softmax_row(P, r, n, dt(1))
            value = float(w) * _loss_delta_row(P, r, Y, yr, n, loss, eps, w, delta, r)
        red[t] = value
        total = _block_sum(red, t, tpb)
        if t == 0:
            c = mult * factor[slot]
            if cuda.blockIdx.x == 0:
                total += 0.5 * alpha * sq[sq_slot] + l1 * ab[sq_slot]
            cuda.atomic.add(loss_acc, 0, total * c)

    @cuda_jit(cache=True)
    def norms_kernel(x, n, sq, ab, slot):
        """``sq[slot] += sum(x[:n] ** 2)``, ``ab[slot] += sum |x[:n]|``
        (float64), grid-stride."""
        red = cuda.shared.array(tpb, f64)
        red_abs = cuda.shared.array(tpb, f64)
        t = cuda.threadIdx.x
        s = 0.0
        a = 0.0
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            v = float(x[i])
            s += v * v
            a += abs(v)
        red[t] = s
        red_abs[t] = a
        _block_sum2(red, red_abs, t, tpb)
        if t == 0:
            cuda.atomic.add(sq, slot, red[0])
            cuda.atomic.add(ab, slot, red_abs[0])

    @cuda_jit(cache=True)
    def batch_scale_kernel(sw, idx, n, batch_size, scale):
        """``scale[b] = 1 / sum(sw[idx[rows of batch b]])`` (unit weights if
        ``sw`` is empty), one block per batch, float64."""
        red = cuda.shared.array(tpb, f64)
        t = cuda.threadIdx.x
        b = cuda.blockIdx.x
        lo = b * batch_size
        hi = min(lo + batch_size, n)
        s = 0.0
        for i in range(lo + t, hi, tpb):
            if sw.shape[0] > 0:
                s += float(sw[idx[i]])
            else:
                s += 1.0
        red[t] = s
        total = _block_sum(red, t, tpb)
        if t == 0:
            scale[b] = 1.0 / total

    @cuda_jit(cache=True)
    def permute_kernel(src, dst, n, half_bits, k0, k1, k2, k3):
        """``dst[i] = src[perm(i)]``: ``perm`` a seeded Feistel bijection of
        ``[0, 4**half_bits)`` restricted to ``[0, n)`` by cycle walking."""
        i = cuda.grid(1)
        if i < n:
            j = _feistel(i, half_bits, k0, k1, k2, k3)
            while j >= n:
                j = _feistel(j, half_bits, k0, k1, k2, k3)
            dst[i] = src[j]

    @cuda_jit(cache=True)
    def fill_kernel(x, value):
        """``x[:] = value``."""
        i = cuda.grid(1)
        if i < x.shape[0]:
            x[i] = value

    @cuda_jit(cache=True)
    def sgd_kernel(
        params,
        grads,
        vel,
        lr,
        momentum,
        nesterov,
        n_coef,
        fold,
        alpha,
        l1,
        scale,
        slot,
        sq,
        ab,
        sq_slot,
    ):
        """SGD over the flat vector: ``v = mu v - lr g``; ``p += v`` (or
        ``mu v - lr g`` with Nesterov); ``sq[sq_slot] += sum(p[:n_coef]**2)``
        and ``ab[sq_slot] += sum |p[:n_coef]|`` (when ``ab`` is not empty).

        With ``fold``: ``g = grads + scale[slot] * (alpha p + l1 sign(p))`` on
        coefficients and ``grads`` is zeroed for the next accumulation.
        """
        red = cuda.shared.array(tpb, f64)
        red_abs = cuda.shared.array(tpb, f64)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        s = 0.0
        a = 0.0
        if i < params.shape[0]:
            g = grads[i]
            if fold:
                if i < n_coef:
                    g += dt(_penalty_grad(params[i], alpha, l1, scale[slot]))
                grads[i] = dt(0)
            v = momentum * vel[i] - lr * g
            vel[i] = v
            if nesterov:
                x = params[i] + (momentum * v - lr * g)
            else:
                x = params[i] + v
            params[i] = x
            if i < n_coef:
                s = float(x) * float(x)
                a = abs(float(x))
        red[t] = s
        red_abs[t] = a
        _block_sum2(red, red_abs, t, tpb)
        if t == 0:
            cuda.atomic.add(sq, sq_slot, red[0])
            if ab.shape[0] > 0:
                cuda.atomic.add(ab, sq_slot, red_abs[0])

    @cuda_jit(cache=True)
    def adam_kernel(
        params,
        grads,
        m,
        v,
        lr_t,
        b1,
        b2,
        eps,
        n_coef,
        fold,
        alpha,
        l1,
        scale,
        slot,
        sq,
        ab,
        sq_slot,
    ):
        """Adam over the flat vector with the bias-corrected rate ``lr_t``:
        ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
        ``p -= lr_t m / (sqrt(v) + eps)``; ``sq[sq_slot] += sum(p[:n_coef]**2)``
        (``fold`` as in ``sgd_kernel``)."""
        red = cuda.shared.array(tpb, f64)
        red_abs = cuda.shared.array(tpb, f64)
        t = cuda.threadIdx.x
        i = cuda.grid(1)
        one = dt(1)
        s = 0.0
        a = 0.0
        if i < params.shape[0]:
            g = grads[i]
            if fold:
                if i < n_coef:
                    g += dt(_penalty_grad(params[i], alpha, l1, scale[slot]))
                grads[i] = dt(0)
            mi = b1 * m[i] + (one - b1) * g
            vi = b2 * v[i] + (one - b2) * g * g
            m[i] = mi
            v[i] = vi
            x = params[i] - lr_t * mi / (math.sqrt(vi) + eps)
            params[i] = x
            if i < n_coef:
                s = float(x) * float(x)
                a = abs(float(x))
        red[t] = s
        red_abs[t] = a
        _block_sum2(red, red_abs, t, tpb)
        if t == 0:
            cuda.atomic.add(sq, sq_slot, red[0])
            if ab.shape[0] > 0:
                cuda.atomic.add(ab, sq_slot, red_abs[0])

    ns.activation = activation_kernel
    ns.softmax = softmax_kernel
    ns.gather = gather_kernel
    ns.loss_delta = loss_delta_kernel
    ns.norms = norms_kernel
    ns.batch_scale = batch_scale_kernel
    ns.permute = permute_kernel
    ns.fill = fill_kernel
    ns.sgd = sgd_kernel
    ns.adam = adam_kernel
    ns.fused_forward = _fused_mlp_kernel(
        dt, fused_rows, fused_threads, fused_width, False
    )
    ns.fused_train = _fused_mlp_kernel(dt, fused_rows, fused_threads, fused_width, True)
    ns.fused_epoch = _fused_epoch_kernel(dt, fused_rows, fused_threads, fused_width)
    return ns


def _ns(dtype):
    return _kernels(np.dtype(dtype).type, *_kernel_config())
