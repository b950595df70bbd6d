"""numba-cuda backend of the fastmlp kernel contract.

Every name of :data:`fastmlp.kernels.KERNEL_NAMES` is defined here with the
semantics documented in :mod:`fastmlp.kernels`, on device arrays: data and
outputs (``X``, ``Y``, ``sw``, ``sample_idx``, ``params``, ``grads``, optimizer
moments, work buffers) are CUDA device arrays (``to_device``), while control
values stay on the host: ``layer_sizes`` (int64), ``hyper`` and Adam's
``step`` counter (int64, length 1, incremented on the host, which computes
the bias-corrected rate). Kernels returning a float read one device scalar.

Import this module only when the CUDA backend is asked for: the kernels are
lazy ``@cuda.jit`` (no eager signatures, which fail on a machine without a
driver), built per dtype and per :mod:`fastmlp.kernels.config` setting by
small factories, so tile sizes are compile-time constants and float32 math
stays float32 (numba promotes ``float32 op 1.0`` to float64).

Two training paths
------------------
* **Fully fused** (every layer after the input at most
  ``config.FUSED_MAX_WIDTH`` wide): per minibatch ONE launch runs, for a tile
  of ``config.FUSED_ROWS`` batch rows per block, the gather of its rows, the
  forward pass through every layer (activations in shared memory), the output
  activation, loss and delta, and the backward pass, adding each block's
  share of the gradient with atomics; a SECOND launch is the optimizer step
  over the flat vector (folding in the L2 term and zeroing the gradient for
  the next batch). 2 launches per batch whatever the depth.
* **Tiled** (wider layers): gather, one tiled GEMM per layer with the bias
  and activation fused in its epilogue, the loss/delta kernel (softmax fused),
  per layer a ``tn`` GEMM for the weight gradient with the L2 term, the scale
  and the bias column sums fused, an ``nt`` GEMM per hidden layer with the
  activation derivative fused, then the optimizer: ``3 L + 2`` launches.

In both the epoch loss is accumulated in a float64 device scalar and read
once per epoch; per-batch gradient scales ``1 / sum(sw_batch)`` and the L2
sums of squares (produced by each optimizer pass for the next batch) live in
small device arrays, so no batch ever waits for the host.
"""

import math
import os
from functools import cache
from types import SimpleNamespace

import numba
import numpy as np

from . import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES, config, param_layout
from ._cache import ensure_writable_cache

# Before the first @cuda.jit(cache=True): a read-only install must not fail.
ensure_writable_cache(os.path.dirname(os.path.abspath(__file__)))
from numba import cuda  # noqa: E402

try:  # numba-cuda reads its own copy of NUMBA_CACHE_DIR, maybe before the above
    from numba.cuda.core import config as _cuda_config

    if numba.config.CACHE_DIR and not getattr(_cuda_config, "CACHE_DIR", None):
        _cuda_config.CACHE_DIR = numba.config.CACHE_DIR
except ImportError:  # pragma: no cover - older layouts
    pass

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

# GEMM orientations and epilogues (compile-time constants of a GEMM kernel).
NN, NT, TN = 0, 1, 2
EPI_STORE = 0  # C = acc
EPI_BIAS_ACT = 1  # C = f(acc + bias)
EPI_DERIV = 2  # C = acc * f'(A_act)
EPI_GRAD = 3  # C = (acc + alpha W + l1 sign W) * scale; gb = scale * colsum(B)

_MASK32 = 0xFFFFFFFF


# --------------------------------------------------------------------------
# host <-> device
# --------------------------------------------------------------------------
def _is_device_array(a):
    # numba's device arrays (and the simulator's) have copy_to_host; numpy's not.
    return hasattr(a, "copy_to_host")


def to_device(host_array):
    """Copy a host array to the device (C-contiguous); device arrays pass through."""
    if _is_device_array(host_array):
        return host_array
    return cuda.to_device(np.ascontiguousarray(host_array))


def to_host(device_array):
    """Copy a device array to a new host numpy array; host arrays pass through."""
    if _is_device_array(device_array):
        return device_array.copy_to_host()
    return np.asarray(device_array)


def fused_mlp_supported(layer_sizes):
    """True when every layer after the input fits the fully fused kernel."""
    sizes = [int(s) for s in layer_sizes]
    return max(sizes[1:]) <= config.FUSED_MAX_WIDTH


def _dtype_of(a):
    return np.dtype(a.dtype).type


@cache
def _empty(dtype, ndim):
    """A zero-size device array standing in for an unused argument."""
    return cuda.device_array((0,) * ndim, dtype=dtype)


def _blocks(n, threads):
    return max(1, (int(n) + threads - 1) // threads)


# --------------------------------------------------------------------------
# device helpers (generic over dtype; ``one`` carries the dtype so that
# float32 arithmetic is not promoted to float64)
# --------------------------------------------------------------------------
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
        if loss == SQUARED:
            total += (pf - yf) * (pf - yf)
        elif loss == LOG:
            if yf != 0.0:
                total -= yf * math.log(min(max(pf, eps), 1.0 - eps))
        elif loss == BINARY_LOG:
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
    if loss == SQUARED:
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


# --------------------------------------------------------------------------
# tiled GEMM with 2D register tiling
# --------------------------------------------------------------------------
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
    dt = np.dtype(dtype).type
    nthreads = (bm // tm) * (bn // tn)
    tcols = bn // tn
    a_mk = orient != TN
    b_kn = orient != NT

    @cuda.jit(cache=True)
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
        row0 = cuda.blockIdx.y * bm
        col0 = cuda.blockIdx.x * bn
        do_colsum = epilogue == EPI_GRAD and cuda.blockIdx.y == 0 and gb.shape[0] > 0
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
    grid = (_blocks(N, bn), _blocks(M, bm))
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


# --------------------------------------------------------------------------
# 1-D kernels, the fused MLP kernel (built per dtype and config)
# --------------------------------------------------------------------------
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

    @cuda.jit(cache=True)
    def activation_kernel(Z, code):
        """``Z[m, n] = f(Z)`` elementwise (not softmax), one thread per entry."""
        e = cuda.grid(1)
        n = Z.shape[1]
        if e < Z.shape[0] * n:
            r = e // n
            j = e % n
            Z[r, j] = _activate(Z[r, j], code, dt(1))

    @cuda.jit(cache=True)
    def softmax_kernel(Z):
        """``Z[m, n] = softmax(Z)`` by row, one thread per row."""
        r = cuda.grid(1)
        if r < Z.shape[0]:
            _softmax_row(Z, r, Z.shape[1], dt(1))

    @cuda.jit(cache=True)
    def gather_kernel(X, idx, start, Xb):
        """``Xb[r, :] = X[idx[start + r], :]`` for ``Xb (m, n_0)``."""
        e = cuda.grid(1)
        n = Xb.shape[1]
        if e < Xb.shape[0] * n:
            r = e // n
            j = e % n
            Xb[r, j] = X[idx[start + r], j]

    @cuda.jit(cache=True)
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

    @cuda.jit(cache=True)
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

    @cuda.jit(cache=True)
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

    @cuda.jit(cache=True)
    def permute_kernel(src, dst, n, half_bits, k0, k1, k2, k3):
        """``dst[i] = src[perm(i)]``: ``perm`` a seeded Feistel bijection of
        ``[0, 4**half_bits)`` restricted to ``[0, n)`` by cycle walking."""
        i = cuda.grid(1)
        if i < n:
            j = _feistel(i, half_bits, k0, k1, k2, k3)
            while j >= n:
                j = _feistel(j, half_bits, k0, k1, k2, k3)
            dst[i] = src[j]

    @cuda.jit(cache=True)
    def fill_kernel(x, value):
        """``x[:] = value``."""
        i = cuda.grid(1)
        if i < x.shape[0]:
            x[i] = value

    @cuda.jit(cache=True)
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

    @cuda.jit(cache=True)
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
    return ns


def _fused_mlp_kernel(dt, rows, nthreads, width, train):
    """Build the fully fused MLP kernel (forward only, or a whole train step).

    A block owns ``rows`` consecutive batch rows; ``meta`` (int64, device)
    holds ``[sizes (L+1), coef_off (L), icpt_off (L), slot_off (L+1)]``.
    Forward: input row ``idx[start + r]`` (or ``start + r``) of ``X``, every
    layer ``A_{l+1} = f(A_l @ W_l + b_l)`` with the activation tile in shared
    memory (two ``rows x width`` buffers). Prediction writes the output to
    ``out``. Training stores the hidden activations of its rows in
    ``act_buf`` (slot layout of the contract), computes the output delta and
    the loss (added to ``loss_acc[0]`` as ``loss_delta_kernel`` does), then
    back-propagates through the layers in shared memory and adds
    ``scale[slot] * A_l^T D_l`` and ``scale[slot] * sum_r D_l`` to ``grads``
    with atomics (the L2 and L1 terms are folded in by the optimizer pass).
    """
    f64 = np.float64

    @cuda.jit(cache=True)
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
        one = dt(1)
        zero = dt(0)
        t = cuda.threadIdx.x
        r0 = cuda.blockIdx.x * rows
        mt = min(rows, m - r0)
        L = n_layers
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
                        act_buf[
                            cap * meta[3 * L + 1 + layer + 1] + (r0 + r) * fo + j
                        ] = s
                elif output != SOFTMAX:
                    s = _activate(s, output, one)
                buf[p, r, j] = s
            cuda.syncthreads()
            p = 1 - p
        # the output tile is in buf[1 - p]
        po = 1 - p
        n_out = meta[L]
        P = buf[po]
        if output == SOFTMAX:
            for r in range(t, mt, nthreads):
                _softmax_row(P, r, n_out, one)
            cuda.syncthreads()
        if not train:
            for e in range(t, mt * n_out, nthreads):
                r = e // n_out
                j = e % n_out
                out[start + r0 + r, j] = P[r, j]
            return

        sc = scale[slot]
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
        total = _block_sum(red, t, nthreads)
        if t == 0:
            if cuda.blockIdx.x == 0:
                total += 0.5 * alpha * sq[sq_slot] + l1 * ab[sq_slot]
            cuda.atomic.add(loss_acc, 0, total * m * sc)
        cuda.syncthreads()

        scd = dt(sc)
        pd = po
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
                cuda.atomic.add(grads, w_off + e, s * scd)
            for j in range(t, fo, nthreads):
                s = zero
                for r in range(mt):
                    s += buf[pd, r, j]
                cuda.atomic.add(grads, b_off + j, s * scd)
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

    return fused


def _ns(dtype):
    return _kernels(np.dtype(dtype).type, *_kernel_config())


def _tpb():
    return config.THREADS_PER_BLOCK


# --------------------------------------------------------------------------
# contract: matrix products, activations, layers
# --------------------------------------------------------------------------
def gemm_nn(A, B, C):
    """``C[m, n] = A[m, k] @ B[k, n]``; device arrays, one float dtype (tiled)."""
    _launch_gemm(NN, EPI_STORE, A, B, C)


def gemm_nt(A, B, C):
    """``C[m, n] = A[m, k] @ B[n, k].T``; device arrays, one float dtype (tiled)."""
    _launch_gemm(NT, EPI_STORE, A, B, C)


def gemm_tn(A, B, C):
    """``C[m, n] = A[k, m].T @ B[k, n]``; device arrays, one float dtype (tiled)."""
    _launch_gemm(TN, EPI_STORE, A, B, C)


def apply_activation(Z, activation):
    """``Z[m, n] = f(Z)`` in place on the device (softmax by row, max subtracted)."""
    ns = _ns(Z.dtype)
    tpb = _tpb()
    if activation == SOFTMAX:
        ns.softmax[_blocks(Z.shape[0], tpb), tpb](Z)
    elif activation != IDENTITY:
        ns.activation[_blocks(Z.size, tpb), tpb](Z, activation)


def dense_forward(A, W, b, activation, out):
    """``out[m, n] = f(A[m, k] @ W[k, n] + b[n])``: bias and f in the GEMM
    epilogue (softmax, a row operation, in a second launch)."""
    act = IDENTITY if activation == SOFTMAX else activation
    _launch_gemm(NN, EPI_BIAS_ACT, A, W, out, bias=b, act=act)
    if activation == SOFTMAX:
        apply_activation(out, SOFTMAX)


def hidden_delta(D_next, W, A, activation, out):
    """``out[m, k] = (D_next[m, n] @ W[k, n].T) * f'(A[m, k])`` (nt GEMM,
    derivative fused in its epilogue)."""
    _launch_gemm(NT, EPI_DERIV, D_next, W, out, act=activation, Aact=A)


def dense_grad(A, D, W, alpha, scale, gW, gb):
    """``gW[k, n] = (A[m, k].T @ D[m, n] + alpha W) * scale`` and
    ``gb[n] = scale * sum_m D[m, n]``: one tn GEMM launch, the L2 term, the
    scale and the bias column sums fused."""
    scale_arr = cuda.to_device(np.array([scale], dtype=np.float64))
    _launch_gemm(TN, EPI_GRAD, A, D, gW, W=W, alpha=alpha, scale=scale_arr, gb=gb)


def loss_output_delta(P, Y, sw, loss, delta):
    """``delta[m, n] = (P - Y) * sw[:, None]``; returns ``sum_i sw_i loss_i``
    (float64, accumulated on the device; see the contract for ``loss_i``)."""
    ns = _ns(P.dtype)
    tpb = _tpb()
    acc = cuda.to_device(np.zeros(1))
    ones = cuda.to_device(np.ones(1))
    eps = float(np.finfo(P.dtype).eps)
    ns.loss_delta[_blocks(P.shape[0], tpb), tpb](
        P,
        Y,
        sw,
        _empty(np.int64, 1),
        0,
        False,
        False,
        loss,
        eps,
        delta,
        acc,
        ones,
        0,
        1.0,
        0.0,
        0.0,
        ones,
        ones,
        0,
    )
    return float(acc.copy_to_host()[0])


# --------------------------------------------------------------------------
# contract: optimizers
# --------------------------------------------------------------------------
def _optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot):
    return (
        int(n_coef),
        bool(fold),
        float(alpha),
        float(l1),
        _empty(np.float64, 1) if scale is None else scale,
        slot,
        sq,
        _empty(np.float64, 1) if ab is None else ab,
        sq_slot,
    )


def _launch_sgd(
    params,
    grads,
    velocity,
    lr,
    momentum,
    nesterov,
    n_coef,
    sq,
    sq_slot,
    ab=None,
    fold=False,
    alpha=0.0,
    l1=0.0,
    scale=None,
    slot=0,
):
    dtype = _dtype_of(params)
    tpb = _tpb()
    _ns(dtype).sgd[_blocks(params.shape[0], tpb), tpb](
        params,
        grads,
        velocity,
        dtype(lr),
        dtype(momentum),
        bool(nesterov),
        *_optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot),
    )


def _adam_rate(lr, beta1, beta2, t):
    # The bias-corrected rate in float64 (as scikit-learn), the pass in dtype.
    return lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)


def _launch_adam(
    params,
    grads,
    m,
    v,
    lr_t,
    beta1,
    beta2,
    eps,
    n_coef,
    sq,
    sq_slot,
    ab=None,
    fold=False,
    alpha=0.0,
    l1=0.0,
    scale=None,
    slot=0,
):
    dtype = _dtype_of(params)
    tpb = _tpb()
    _ns(dtype).adam[_blocks(params.shape[0], tpb), tpb](
        params,
        grads,
        m,
        v,
        dtype(lr_t),
        dtype(beta1),
        dtype(beta2),
        dtype(eps),
        *_optimizer_args(n_coef, sq, ab, sq_slot, fold, alpha, l1, scale, slot),
    )


def sgd_update(params, grads, velocity, lr, momentum, nesterov, n_coef):
    """``v = mu v - lr g``; ``params += v`` (or ``mu v - lr g`` with Nesterov),
    one pass over the flat device vector. Returns ``sum(params[:n_coef]**2)``
    after the update (float64, reduced on the device)."""
    sq = cuda.to_device(np.zeros(1))
    _launch_sgd(params, grads, velocity, lr, momentum, nesterov, n_coef, sq, 0)
    return float(sq.copy_to_host()[0])


def adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """Adam step ``t`` (>= 1) in one pass over the flat device vector:
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``params -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.
    Returns ``sum(params[:n_coef]**2)`` after the update."""
    sq = cuda.to_device(np.zeros(1))
    lr_t = _adam_rate(lr, beta1, beta2, int(t))
    _launch_adam(params, grads, m, v, lr_t, beta1, beta2, eps, n_coef, sq, 0)
    return float(sq.copy_to_host()[0])


# --------------------------------------------------------------------------
# whole network
# --------------------------------------------------------------------------
class _Net:
    """Host-side layout of a network and its device metadata."""

    def __init__(self, layer_sizes):
        self.sizes = [int(s) for s in layer_sizes]
        self.n_layers = len(self.sizes) - 1
        coef_off, icpt_off, _ = param_layout(self.sizes)
        self.coef_off = [int(c) for c in coef_off]
        self.icpt_off = [int(c) for c in icpt_off]
        self.n_coef = self.icpt_off[0]
        self.slot_off = [int(s) for s in np.concatenate([[0], np.cumsum(self.sizes)])]
        self.fused = fused_mlp_supported(self.sizes)
        meta = self.sizes + self.coef_off + self.icpt_off + self.slot_off[:-1]
        self.meta = cuda.to_device(np.array(meta, dtype=np.int64))

    def views(self, params, grads, act_buf, delta_buf, cap, m):
        """Per-layer device views ``(W, b, gW, gb, A_out, D_out)`` for ``m`` rows."""
        out = []
        for layer in range(self.n_layers):
            fi, fo = self.sizes[layer], self.sizes[layer + 1]
            c, b = self.coef_off[layer], self.icpt_off[layer]
            s = cap * self.slot_off[layer + 1]
            out.append(
                (
                    params[c : c + fi * fo].reshape(fi, fo),
                    params[b : b + fo],
                    grads[c : c + fi * fo].reshape(fi, fo),
                    grads[b : b + fo],
                    act_buf[s : s + m * fo].reshape(m, fo),
                    delta_buf[s : s + m * fo].reshape(m, fo),
                )
            )
        return out


class _Batch:
    """Device scalars of a run of minibatches: gradient scales ``1 / sum(sw_b)``
    (``scale[b]``), L2 and L1 sums of the coefficients before batch ``b``
    (``sq[b]``, ``ab[b]``; batch ``b``'s optimizer pass fills slot ``b + 1``)
    and the float64 loss accumulator."""

    def __init__(self, ns, params, n_coef, sw, idx, n, batch_size):
        tpb = _tpb()
        self.n_batches = (n + batch_size - 1) // batch_size
        self.scale = cuda.device_array(self.n_batches, dtype=np.float64)
        ns.batch_scale[self.n_batches, tpb](sw, idx, n, batch_size, self.scale)
        zeros = np.zeros(2 * (self.n_batches + 1) + 1)
        acc = cuda.to_device(zeros)
        self.sq = acc[: self.n_batches + 1]
        self.ab = acc[self.n_batches + 1 : 2 * (self.n_batches + 1)]
        self.loss = acc[2 * (self.n_batches + 1) :]
        ns.norms[_blocks(n_coef, tpb), tpb](params, n_coef, self.sq, self.ab, 0)

    def read_loss(self):
        return float(self.loss.copy_to_host()[0])


def _tiled_backprop(
    net,
    Xb,
    views,
    Y,
    sw,
    idx,
    start,
    use_idx,
    hidden,
    output,
    loss,
    alpha,
    l1,
    acc,
    b,
    mult,
):
    """Forward, loss and backward of batch ``b``, ``Xb (m, n_0)``, tiled GEMMs.

    Writes the full gradient (L2 and L1 included) into the grads views and
    adds ``mult * scale[b] * (sum_i w_i loss_i + 0.5 alpha sq[b] + l1 ab[b])``
    to the loss accumulator of ``acc`` (a :class:`_Batch`).
    """
    dtype = _dtype_of(Xb)
    ns = _ns(dtype)
    tpb = _tpb()
    A = Xb
    L = net.n_layers
    for layer, (W, b_vec, _, _, Z, _) in enumerate(views):
        act = hidden if layer < L - 1 else output
        _launch_gemm(
            NN,
            EPI_BIAS_ACT,
            A,
            W,
            Z,
            bias=b_vec,
            act=IDENTITY if act == SOFTMAX else act,
        )
        A = Z
    D = views[-1][5]
    ns.loss_delta[_blocks(A.shape[0], tpb), tpb](
        A,
        Y,
        sw,
        idx,
        start,
        use_idx,
        output == SOFTMAX,
        loss,
        float(np.finfo(dtype).eps),
        D,
        acc.loss,
        acc.scale,
        b,
        float(mult),
        float(alpha),
        float(l1),
        acc.sq,
        acc.ab,
        b,
    )
    for layer in range(L - 1, -1, -1):
        W, _, gW, gb, _, _ = views[layer]
        A_in = Xb if layer == 0 else views[layer - 1][4]
        _launch_gemm(
            TN,
            EPI_GRAD,
            A_in,
            D,
            gW,
            W=W,
            alpha=alpha,
            l1=l1,
            scale=acc.scale,
            slot=b,
            gb=gb,
        )
        if layer > 0:
            D_prev = views[layer - 1][5]
            _launch_gemm(NT, EPI_DERIV, D, W, D_prev, act=hidden, Aact=A_in)
            D = D_prev


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
    """Full-batch loss ``(sum_i w_i loss_i + 0.5 alpha ||W||^2 + l1 |W|_1) /
    sum(w)`` and its flat gradient (written into ``grads``) on device arrays;
    the tiled path on one batch of ``n`` rows (``act_buf``/``delta_buf`` hold
    at least ``n * sum(layer_sizes)`` entries)."""
    net = _Net(layer_sizes)
    ns = _ns(params.dtype)
    n = X.shape[0]
    idx = cuda.to_device(np.arange(n, dtype=np.int64))
    acc = _Batch(ns, params, net.n_coef, sw, idx, n, max(n, 1))
    views = net.views(params, grads, act_buf, delta_buf, n, n)
    _tiled_backprop(
        net,
        X,
        views,
        Y,
        sw,
        idx,
        0,
        False,
        hidden_activation,
        output_activation,
        loss,
        alpha,
        l1,
        acc,
        0,
        1.0,
    )
    return acc.read_loss()


def _shuffle_keys(seed):
    """Four 32-bit Feistel round keys derived from ``seed`` (deterministic)."""
    rng = np.random.default_rng(int(seed))
    return [int(k) for k in rng.integers(0, 2**32, size=4, dtype=np.int64)]


def _shuffle(ns, sample_idx, seed):
    """Shuffle ``sample_idx`` in place on the device, as a function of ``seed``."""
    n = sample_idx.shape[0]
    if n < 2:
        return
    half_bits = max(1, ((n - 1).bit_length() + 1) // 2)
    tpb = _tpb()
    tmp = cuda.device_array(n, dtype=np.int64)
    ns.permute[_blocks(n, tpb), tpb](
        sample_idx, tmp, n, half_bits, *_shuffle_keys(seed)
    )
    sample_idx.copy_to_device(tmp)


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
    """One epoch of minibatch training on the device; returns the epoch loss.

    Device arrays: ``X[n, n_0]``, ``Y[n, n_L]``, ``sw`` (n or 0),
    ``sample_idx`` (int64, n), ``params``, ``grads``, ``opt_m``, ``opt_v``,
    ``act_buf``/``delta_buf`` (``batch_size * sum(layer_sizes)``). Host:
    ``layer_sizes``, ``hyper = [lr, momentum, nesterov, beta1, beta2,
    epsilon, alpha, l1]`` (7 entries: ``l1 = 0``) and ``step`` (int64,
    length 1, Adam's counter). ``sample_idx`` is shuffled in place on the
    device when ``seed >= 0`` (a seeded Feistel permutation: deterministic,
    not the CPU's order). Each minibatch runs the fully fused kernel and the
    optimizer (2 launches) or the tiled path (``3 L + 2`` launches); the loss
    ``sum_b batch_loss_b * m_b / n`` is accumulated on the device and read
    once, at the end. On the fused path ``grads`` is left zeroed.
    """
    net = _Net(layer_sizes)
    dtype = _dtype_of(params)
    ns = _ns(dtype)
    tpb = _tpb()
    n = sample_idx.shape[0]
    batch_size = int(batch_size)
    hyper = [float(h) for h in hyper]
    lr, momentum, nesterov, beta1, beta2, eps, alpha = hyper[:7]
    l1 = hyper[7] if len(hyper) > 7 else 0.0
    loss_eps = float(np.finfo(dtype).eps)

    if seed >= 0:
        _shuffle(ns, sample_idx, seed)
    acc = _Batch(ns, params, net.n_coef, sw, sample_idx, n, batch_size)
    if net.fused:
        rows = config.FUSED_ROWS
        ns.fill[_blocks(grads.shape[0], tpb), tpb](grads, dtype(0))
    views = {}
    for b in range(acc.n_batches):
        start = b * batch_size
        m = min(batch_size, n - start)
        if net.fused:
            ns.fused_train[_blocks(m, rows), config.FUSED_THREADS](
                X,
                Y,
                sw,
                sample_idx,
                start,
                True,
                m,
                params,
                grads,
                net.meta,
                net.n_layers,
                hidden_activation,
                output_activation,
                loss,
                loss_eps,
                act_buf,
                batch_size,
                acc.scale,
                b,
                acc.loss,
                alpha,
                l1,
                acc.sq,
                acc.ab,
                b,
                _empty(dtype, 2),
            )
        else:
            if m not in views:
                views[m] = net.views(params, grads, act_buf, delta_buf, batch_size, m)
            Xb = act_buf[: m * net.sizes[0]].reshape(m, net.sizes[0])
            ns.gather[_blocks(m * net.sizes[0], tpb), tpb](X, sample_idx, start, Xb)
            _tiled_backprop(
                net,
                Xb,
                views[m],
                Y,
                sw,
                sample_idx,
                start,
                True,
                hidden_activation,
                output_activation,
                loss,
                alpha,
                l1,
                acc,
                b,
                m,
            )
        penalty = (acc.ab, net.fused, alpha, l1, acc.scale, b)
        if solver == ADAM:
            step[0] += 1
            lr_t = _adam_rate(lr, beta1, beta2, int(step[0]))
            _launch_adam(
                params,
                grads,
                opt_m,
                opt_v,
                lr_t,
                beta1,
                beta2,
                eps,
                net.n_coef,
                acc.sq,
                b + 1,
                *penalty,
            )
        else:
            _launch_sgd(
                params,
                grads,
                opt_m,
                lr,
                momentum,
                nesterov != 0.0,
                net.n_coef,
                acc.sq,
                b + 1,
                *penalty,
            )
    return acc.read_loss() / n


def forward(X, params, layer_sizes, hidden_activation, output_activation, out):
    """Prediction ``out[n, n_L] = net(X[n, n_0])`` on device arrays: one fully
    fused launch for narrow nets, else tiled layers in row chunks of
    ``config.PREDICT_CHUNK``."""
    net = _Net(layer_sizes)
    dtype = _dtype_of(params)
    ns = _ns(dtype)
    n = X.shape[0]
    if n == 0:
        return
    if net.fused:
        rows = config.FUSED_ROWS
        f1 = _empty(np.float64, 1)
        ns.fused_forward[_blocks(n, rows), config.FUSED_THREADS](
            X,
            _empty(dtype, 2),
            _empty(dtype, 1),
            _empty(np.int64, 1),
            0,
            False,
            n,
            params,
            _empty(dtype, 1),
            net.meta,
            net.n_layers,
            hidden_activation,
            output_activation,
            0,
            0.0,
            _empty(dtype, 1),
            0,
            f1,
            0,
            f1,
            0.0,
            0.0,
            f1,
            f1,
            0,
            out,
        )
        return
    chunk = min(int(config.PREDICT_CHUNK), n)
    widest = max(net.sizes[1:-1], default=1)
    bufs = [cuda.device_array(chunk * widest, dtype=dtype) for _ in range(2)]
    L = net.n_layers
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        A = X[start : start + m]
        for layer in range(L):
            fi, fo = net.sizes[layer], net.sizes[layer + 1]
            c, b = net.coef_off[layer], net.icpt_off[layer]
            W = params[c : c + fi * fo].reshape(fi, fo)
            bias = params[b : b + fo]
            if layer == L - 1:
                dense_forward(A, W, bias, output_activation, out[start : start + m])
            else:
                Z = bufs[layer % 2][: m * fo].reshape(m, fo)
                dense_forward(A, W, bias, hidden_activation, Z)
                A = Z
