"""Whole network: training (full-batch ``loss_grad``, minibatch
``train_epoch``, the device shuffle).

Three training paths
--------------------
* **Fused epoch** (narrow networks, ``config.FUSED_EPOCH``, the default): ONE
  cooperative launch per epoch loops over the minibatches on the device, the
  optimizer step inside (:mod:`.epoch`); no host work per batch.
* **Fully fused** (every layer after the input at most
  ``config.FUSED_MAX_WIDTH`` wide; ``FUSED_EPOCH`` off, or the cooperative
  launch unavailable): per minibatch ONE launch runs, for a tile
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

import numpy as np

from .. import config
from ._common import (
    ADAM,
    EPI_BIAS_ACT,
    EPI_DERIV,
    EPI_GRAD,
    IDENTITY,
    NN,
    NT,
    SOFTMAX,
    TN,
    _blocks,
    _dtype_of,
    _empty,
    _tpb,
    check_fused_config,
    cuda,
    quiet_launches,
)
from .epoch import run_fused_epoch
from .gemm import _launch_gemm
from .kernels1d import _ns
from .network import _Batch, _Net
from .optimizers import _adam_rate, _launch_adam, _launch_sgd


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


@quiet_launches
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


@quiet_launches
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
    not the CPU's order). A narrow network runs the whole epoch in one launch
    (``config.FUSED_EPOCH``); otherwise each minibatch runs the fully fused
    kernel and the optimizer (2 launches) or the tiled path (``3 L + 2``
    launches); the loss
    ``sum_b batch_loss_b * m_b / n`` is accumulated on the device and read
    once, at the end. On the fused per-batch path ``grads`` is left zeroed;
    the fused epoch does not touch it.
    """
    net = _Net(layer_sizes)
    dtype = _dtype_of(params)
    ns = _ns(dtype)
    tpb = _tpb()
    n = sample_idx.shape[0]
    batch_size = int(batch_size)
    hyper = [float(h) for h in hyper]
    if len(hyper) != 8:
        raise ValueError(
            "hyper must hold 8 values [lr, momentum, nesterov, beta1, beta2, "
            f"epsilon, alpha, l1], got {len(hyper)}"
        )
    lr, momentum, nesterov, beta1, beta2, eps, alpha, l1 = hyper
    loss_eps = float(np.finfo(dtype).eps)

    if seed >= 0:
        _shuffle(ns, sample_idx, seed)
    if net.fused and config.FUSED_EPOCH:
        check_fused_config(dtype)
        value = run_fused_epoch(
            ns, net, X, Y, sw, sample_idx, params, opt_m, opt_v, act_buf, step,
            hidden_activation, output_activation, loss, batch_size, solver,
            hyper, dtype,
        )  # fmt: skip
        if value is not None:
            return value
    acc = _Batch(ns, params, net.n_coef, sw, sample_idx, n, batch_size)
    if net.fused:
        check_fused_config(dtype)
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
