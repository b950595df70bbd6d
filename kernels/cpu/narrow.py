"""One training epoch of a narrow network: every layer at most 32 units wide.

A TensorFlow-Playground network (2-8-8-1, batches of 10) does ~6,000 flops a
batch; through the general epoch (:mod:`.epoch`) each product is a BLAS call
and each layer a few passes over views, and a batch took ~2 us, a third of it
inside BLAS's call overhead (measured with ``perf``). Here every layer is
padded to ``K`` lanes (8, 16 or 32: a compile-time constant) and computed
by row: a layer's output row is its bias plus ``fan_in`` K-wide
multiply-adds (:func:`.views.lanes_axpy`, one vector instruction each) into
an accumulator on the stack, which stays in registers; no call and no loop
of unknown length inside. (Four rows at a time measured no faster at 8
lanes and compiled no faster.) Which networks train here:
:data:`NARROW_MAX_WIDTH`.

The padded copies (``P`` for the parameters, ``G``, ``M1``, ``M2`` for the
gradient and the optimizer's moments) hold, per layer ``l``, ``K + 1`` rows of
``K``: rows ``0..K-1`` are the coefficients ``W[k, j]`` (zero where
``k >= fan_in`` or ``j >= fan_out``), row ``K`` the intercepts. The padding
stays exactly zero: the padded lanes of every delta are zeroed, so the
padded gradient is zero, and a zero gradient with zero moments is a zero
step for Adam and SGD. Sums over the padded copies (the L2 and L1 penalties)
are then the sums over the real parameters. The flat arrays of the kernel
contract are copied in at the start of the epoch and out at its end.

The arithmetic is scikit-learn's, as in :mod:`.epoch`; only the order of the
sums inside a product differs (by row instead of BLAS's blocks), so results
agree with the general epoch to rounding and are deterministic.
"""

import numpy as np

from .._cache import njit
from ._common import ADAM, JIT_OPTIONS, LOGISTIC, RELU, TANH
from .layers import _activate_rows, _derivative_rows
from .losses import _sum_squares
from .network import gather_rows, gather_targets, shuffle_order
from .optimizers import _adam_range, _sgd_range, adam_coefficients
from .pieces import (
    FORWARD,
    OUTPUT,
    OUTPUT_DELTA,
    call_float64,
    call_void,
)
from .specialise import specialised
from .views import as_matrix, borrow, lanes_axpy, lanes_copy, local_vector

#: The lane counts a narrow network can be padded to (the widest layer
#: rounded up); each compiles its own kernel.
LANE_CLASSES = (8, 16, 32)
#: Networks whose widest layer (input and output included) is at most this
#: train with :func:`narrow_epoch_kernel`; 0 sends every network to the
#: general epoch. 8: per batch, interleaved against the general epoch
#: (``python -m bench.narrow``), 8 lanes were 1.03-1.72x faster in float32 and
#: float64 on every network tried (TF-Playground shapes, up to six hidden
#: layers, batches of 10 to 200; most at small batches), while 16 lanes ranged
#: from 1.23x (4-12-12-1, batch 10) to 0.67x (6-16-16-3, batch 32) and 32
#: lanes were slower (0.61-0.74x): past 8 lanes BLAS's register blocking wins.
#: The wider classes stay tested (this limit raised to 32).
NARROW_MAX_WIDTH = 8


def narrow_lanes(layer_sizes, max_width=None):
    """The lane count ``K`` of a network that trains narrow, else 0.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, hidden..., n_outputs]``.
    max_width : int, optional
        The widest layer that trains narrow (default :data:`NARROW_MAX_WIDTH`).

    Returns
    -------
    int
        The smallest of :data:`LANE_CLASSES` that holds the widest layer, or 0.
    """
    limit = NARROW_MAX_WIDTH if max_width is None else max_width
    sizes = layer_sizes.tolist() if hasattr(layer_sizes, "tolist") else layer_sizes
    widest = max(int(s) for s in sizes)
    if widest > limit:
        return 0
    return next(k for k in LANE_CLASSES if widest <= k)


@njit(cache=True, **JIT_OPTIONS)
def _pad_copy(flat, padded, layer_sizes, coef_off, icpt_off, lanes, to_padded):
    """Copy between the flat layout and the padded one, in either direction.

    Compiled once per dtype and called, not inlined: its eight call sites
    inlined cost ~1 s of compile per configuration (numba copies the IR
    of an inlined function at each site).
    """
    stride = (lanes + 1) * lanes
    for l in range(layer_sizes.shape[0] - 1):
        fi = layer_sizes[l]
        fo = layer_sizes[l + 1]
        block = as_matrix(padded, l * stride, lanes + 1, lanes)
        W = as_matrix(flat, coef_off[l], fi, fo)
        b = flat[icpt_off[l] : icpt_off[l] + fo]
        if to_padded:
            for k in range(fi):
                for j in range(fo):
                    block[k, j] = W[k, j]
            for j in range(fo):
                block[lanes, j] = b[j]
        else:
            for k in range(fi):
                for j in range(fo):
                    W[k, j] = block[k, j]
            for j in range(fo):
                b[j] = block[lanes, j]


@njit(cache=True, **JIT_OPTIONS)
def _hidden_activation(Z, m, hidden):
    """``Z[:m] = f(Z[:m])`` for a hidden activation code chosen at run time.

    The narrow epoch's one run-time switch, once per layer and batch: each
    branch is the one activation a literal code compiles (four in all, once
    per lane count and dtype), and a new hidden activation compiles nothing.
    """
    zero = np.int64(0)
    if hidden == RELU:
        _activate_rows(Z, zero, m, RELU)
    elif hidden == TANH:
        _activate_rows(Z, zero, m, TANH)
    elif hidden == LOGISTIC:
        _activate_rows(Z, zero, m, LOGISTIC)


@njit(inline="always", **JIT_OPTIONS)
def _finish_grad_row(g, acc, w, alpha, scale, c1, use_l1):
    """``g = (acc + alpha w) * scale`` (plus ``c1 sign(w)`` with L1)."""
    for j in range(g.shape[0]):
        g[j] = (acc[j] + alpha * w[j]) * scale
    if use_l1:
        for j in range(g.shape[0]):
            if w[j] > 0.0:
                g[j] += c1
            elif w[j] < 0.0:
                g[j] -= c1


@njit(inline="always", **JIT_OPTIONS)
def _mark_signs(P, signs, n_layers, K):
    """``signs = sign(W)`` over the padded coefficients, before the step."""
    stride = (K + 1) * K
    for l in range(n_layers):
        for i in range(K * K):
            w = P[l * stride + i]
            signs[l * K * K + i] = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)


@njit(inline="always", **JIT_OPTIONS)
def _clip_l1(P, signs, n_layers, K, step):
    """The TensorFlow Playground's L1 step after the optimizer's; returns the
    L2 sum of the coefficients after it.

    A coefficient ``w0`` before the batch's update, ``w1`` after it, becomes
    ``w2 = w1 - step * sign(w0)``, or exactly 0 where that crosses zero
    (``w1 * w2 < 0``); one that was exactly 0 (``sign(w0) = 0``) stays 0: the
    Playground's "dead" links, which L1 switches off for good. (So a
    coefficient set to 0 by hand, or a zero initialisation, stays 0 too while
    this rule is on; the padding is 0 and stays 0.)
    """
    stride = (K + 1) * K
    sq = 0.0
    for l in range(n_layers):
        for i in range(K * K):
            at = l * stride + i
            s = signs[l * K * K + i]
            w = P[at]
            if s == 0.0:
                w = 0.0
            else:
                moved = w - step * s
                w = 0.0 if w * moved < 0.0 else moved
            P[at] = w
            sq += w * w
    return sq


@specialised
def narrow_epoch_kernel(lanes):
    """The compiled narrow epoch for one lane count ``K`` (one of
    :data:`LANE_CLASSES`, a constant of the code), whatever the configuration:
    the activations, derivative and loss are pieces called by address
    (``fns``, see :mod:`.pieces`), the solver and L1 are run-time values.
    Cached on disk like every kernel.
    """
    K = lanes
    KK = lanes * lanes

    @njit(cache=True, **JIT_OPTIONS)
    def narrow_epoch_compiled(
        X,
        Y,
        sw,
        sample_idx,
        seed,
        params,
        grads,
        layer_sizes,
        batch_size,
        hyper,
        opt_m,
        opt_v,
        step,
        scratch,
        coef_off,
        icpt_off,
        fns,
        solver,
        hidden,
    ):
        if seed >= 0:
            shuffle_order(sample_idx, seed)
        n = sample_idx.shape[0]
        n_layers = layer_sizes.shape[0] - 1
        n_out = layer_sizes[n_layers]
        weighted = sw.shape[0] > 0
        stride = (K + 1) * K
        slot = batch_size * K
        # the zeroed scratch, in order: P, G, M1, M2, acts, deltas, out, ybuf, swbuf
        scratch = borrow(scratch)
        size = n_layers * stride
        P, G = scratch[:size], scratch[size : 2 * size]
        M1, M2 = scratch[2 * size : 3 * size], scratch[3 * size : 4 * size]
        at = 4 * size
        acts = scratch[at : at + (n_layers + 1) * slot]
        at += (n_layers + 1) * slot
        deltas = scratch[at : at + 2 * slot]
        at += 2 * slot
        out = scratch[at : at + 2 * batch_size * n_out]
        at += 2 * batch_size * n_out
        ybuf = scratch[at : at + batch_size * n_out]
        swbuf = scratch[at + batch_size * n_out : at + batch_size * (n_out + 1)]
        at += batch_size * (n_out + 1)
        signs = scratch[at : at + n_layers * K * K]  # the clipping L1's signs

        X, Y, sw, sample_idx = borrow(X), borrow(Y), borrow(sw), borrow(sample_idx)
        params, grads, opt_m, opt_v = (
            borrow(params),
            borrow(grads),
            borrow(opt_m),
            borrow(opt_v),
        )
        step = borrow(step)
        layer_sizes = borrow(layer_sizes)
        coef_off, icpt_off = borrow(coef_off), borrow(icpt_off)

        # run-time values, not constants: one compiled _pad_copy, not one per value
        lanes = stride // (K + 1)
        inward = lanes > 0
        outward = not inward
        _pad_copy(params, P, layer_sizes, coef_off, icpt_off, lanes, inward)
        _pad_copy(opt_m, M1, layer_sizes, coef_off, icpt_off, lanes, inward)
        if solver == ADAM:
            _pad_copy(opt_v, M2, layer_sizes, coef_off, icpt_off, lanes, inward)

        lr = hyper[0]
        momentum = params.dtype.type(hyper[1])
        nesterov = hyper[2] != 0.0
        alpha = hyper[6]
        l1 = hyper[7]
        use_l1 = l1 != 0.0
        # l1 < 0: the TensorFlow Playground's L1 rule, strength |l1| (see
        # _clip_l1); l1 > 0: the subgradient l1 * sign(W) in the gradient
        clip_l1 = l1 < 0.0
        l1 = abs(l1)
        sign_l1 = use_l1 and not clip_l1
        fns = borrow(fns)
        # a row's accumulator, kept in registers
        acc = local_vector(P.dtype, K)
        zeros = local_vector(P.dtype, K)
        for j in range(K):
            zeros[j] = 0.0
        T = as_matrix(local_vector(P.dtype, KK), 0, K, K)  # a transpose
        one = P.dtype.type(1)
        sq_coef = _sum_squares(params, icpt_off[0])
        accumulated = 0.0
        for start in range(0, n, batch_size):
            m = n - start if n - start < batch_size else batch_size
            rows = sample_idx[start : start + m]
            Yb = as_matrix(ybuf, 0, m, n_out)
            swb = swbuf[: m if weighted else 0]
            gather_rows(X, rows, as_matrix(acts, 0, m, K))
            gather_targets(Y, sw, rows, Yb, swb)

            # forward, by row: z = b + sum_k a[k] W[k, :] over the real k;
            # the hidden activation on the layer's m x K block (in this
            # kernel: a call per layer measured 7% slower on the playground)
            for l in range(n_layers):
                fi = layer_sizes[l]
                block = as_matrix(P, l * stride, K + 1, K)
                A = as_matrix(acts, l * slot, m, K)
                Z = as_matrix(acts, (l + 1) * slot, m, K)
                last = l == n_layers - 1
                bias = zeros if last else block[K]
                for r in range(m):
                    a = A[r]
                    lanes_copy(acc, bias, K)
                    for k in range(fi):
                        lanes_axpy(acc, a[k], block[k], K)
                    lanes_copy(Z[r], acc, K)
                if not last:
                    _hidden_activation(Z, m, hidden)

            # output bias, activation and loss on the real output lanes
            O = as_matrix(out, 0, m, n_out)
            Zl = as_matrix(acts, n_layers * slot, m, K)
            for r in range(m):
                for j in range(n_out):
                    O[r, j] = Zl[r, j]
            out_bias = as_matrix(P, (n_layers - 1) * stride, K + 1, K)[K]
            call_void(fns[OUTPUT], (O, out_bias, m, n_out, FORWARD))
            Dout = as_matrix(out, batch_size * n_out, m, n_out)
            total = call_float64(
                fns[OUTPUT_DELTA], (O, Yb, swb, Dout, m, n_out, swb.shape[0])
            )
            if weighted:
                sw_sum = 0.0
                for r in range(m):
                    sw_sum += swb[r]
            else:
                sw_sum = float(m)
            scale = 1.0 / sw_sum
            value = total * scale + 0.5 * alpha * sq_coef * scale
            D = as_matrix(deltas, 0, m, K)
            for r in range(m):
                for j in range(n_out):
                    D[r, j] = Dout[r, j]
                for j in range(n_out, K):
                    D[r, j] = 0.0
            if use_l1:
                s = 0.0
                for l in range(n_layers):
                    for i in range(l * stride, l * stride + K * K):
                        s += abs(P[i])
                value += l1 * s * scale

            # backward: gradient of layer l, then the delta of its input
            a_l2 = P.dtype.type(alpha)
            sc = P.dtype.type(scale)
            c1 = P.dtype.type(l1 * scale)
            which = 0
            for l in range(n_layers - 1, -1, -1):
                fi = layer_sizes[l]
                block = as_matrix(P, l * stride, K + 1, K)
                gblock = as_matrix(G, l * stride, K + 1, K)
                A = as_matrix(acts, l * slot, m, K)
                # gW[k, :] = (sum_r A[r, k] D[r, :] + alpha W[k, :]) * scale
                for k in range(fi):
                    lanes_copy(acc, zeros, K)
                    for r in range(m):
                        lanes_axpy(acc, A[r, k], D[r], K)
                    _finish_grad_row(gblock[k], acc, block[k], a_l2, sc, c1, sign_l1)
                lanes_copy(acc, zeros, K)
                for r in range(m):
                    lanes_axpy(acc, one, D[r], K)
                g = gblock[K]
                for j in range(K):
                    g[j] = acc[j] * sc
                if l > 0:
                    which = 1 - which
                    Dp = as_matrix(deltas, which * slot, m, K)
                    # Dp[r, :] = sum_j D[r, j] W[:, j]: rows of W's transpose
                    fo = layer_sizes[l + 1]
                    # (the real block only: lanes >= fi of Dp are zeroed below)
                    for k in range(fi):
                        for j in range(fo):
                            T[j, k] = block[k, j]
                    for r in range(m):
                        d = D[r]
                        lanes_copy(acc, zeros, K)
                        for j in range(fo):
                            lanes_axpy(acc, d[j], T[j], K)
                        lanes_copy(Dp[r], acc, K)
                    # a run-time code: the derivatives' own switch (layers.py)
                    _derivative_rows(A, Dp, np.int64(0), m, hidden)
                    # the padded lanes stay zero whatever f' of a padded unit
                    for r in range(m):
                        for k in range(fi, K):
                            Dp[r, k] = 0.0
                    D = Dp

            # the optimizer step on the padded copies, coefficients apart
            if clip_l1:
                _mark_signs(P, signs, n_layers, K)
            sq = 0.0
            if solver == ADAM:
                step[0] += 1
                lr_t, b1, q1, b2, q2, e = adam_coefficients(
                    P.dtype, step[0], lr, hyper[3], hyper[4], hyper[5]
                )
                for l in range(n_layers):
                    lo = l * stride
                    sq += _adam_range(
                        P, G, M1, M2, lr_t, b1, q1, b2, q2, e, lo, lo + K * K
                    )
                    _adam_range(
                        P, G, M1, M2, lr_t, b1, q1, b2, q2, e, lo + K * K, lo + stride
                    )
            else:
                lr_s = P.dtype.type(lr)
                for l in range(n_layers):
                    lo = l * stride
                    sq += _sgd_range(P, G, M1, lr_s, momentum, nesterov, lo, lo + K * K)
                    _sgd_range(
                        P, G, M1, lr_s, momentum, nesterov, lo + K * K, lo + stride
                    )
            if clip_l1:
                sq = _clip_l1(P, signs, n_layers, K, lr * l1 * scale)
            sq_coef = sq
            accumulated += value * m

        _pad_copy(params, P, layer_sizes, coef_off, icpt_off, lanes, outward)
        _pad_copy(grads, G, layer_sizes, coef_off, icpt_off, lanes, outward)
        _pad_copy(opt_m, M1, layer_sizes, coef_off, icpt_off, lanes, outward)
        if solver == ADAM:
            _pad_copy(opt_v, M2, layer_sizes, coef_off, icpt_off, lanes, outward)
        return accumulated / n

    return narrow_epoch_compiled


def narrow_epoch(
    fns,
    solver,
    hidden,
    lanes,
    X,
    Y,
    sw,
    sample_idx,
    seed,
    params,
    grads,
    layer_sizes,
    batch_size,
    hyper,
    opt_m,
    opt_v,
    step,
    coef_off,
    icpt_off,
):
    """Run the narrow epoch padded to ``lanes`` with the pieces ``fns``, the
    solver code ``solver`` and the hidden activation code ``hidden``; the
    other arguments are ``train_epoch``'s.

    All scratch is one zeroed allocation, carved up by the kernel.
    """
    n_layers = len(layer_sizes) - 1
    n_out = int(layer_sizes[-1])
    size = (
        4 * n_layers * (lanes + 1) * lanes
        + (n_layers + 3) * batch_size * lanes
        + batch_size * (3 * n_out + 1)
        + n_layers * lanes * lanes
    )
    return narrow_epoch_kernel(lanes)(
        X,
        Y,
        sw,
        sample_idx,
        seed,
        params,
        grads,
        layer_sizes,
        batch_size,
        hyper,
        opt_m,
        opt_v,
        step,
        np.zeros(size, params.dtype),
        coef_off,
        icpt_off,
        fns,
        solver,
        hidden,
    )
