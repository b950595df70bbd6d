"""The fused epoch: one launch runs every minibatch of an epoch of a narrow
network (every layer after the input at most ``config.FUSED_MAX_WIDTH`` wide).

Why: numba-cuda marshals each launch's arguments in Python (~6.6 us a launch
plus ~3.5-4 us an array argument), so the per-batch path (the fused step and
the optimizer, 2 launches and 20 arrays a batch) spent ~196 us of host time
per batch on an H200, more than the GPU's work. Here the host launches once
per epoch and the device loops over the batches.

Design (a cooperative grid of ``G`` blocks, ``cuda.cg.this_grid().sync()``):

* **phase 1** (per batch): the batch's rows are cut in tiles of ``tile_rows``;
  tile ``k`` belongs to gradient part ``k % n_parts`` and part ``q`` to block
  ``q % G``. A block runs its tiles with the fused tile functions
  (:mod:`.fused`: gather, forward in shared memory, loss and delta, backward)
  and, as the only writer of its part, stores the unscaled gradient sum of
  its tiles in ``parts[q]`` (no atomics on the gradient).
* grid sync;
* **phase 2**: the optimizer over the flat vector (grid-stride): ``g = scale_b
  * sum_q parts[q][i]`` in a fixed order (deterministic for a given ``G``),
  plus the L2/L1 term, the SGD or Adam update, and the L2/L1 sums of the new
  coefficients for the next batch's loss;
* grid sync.

The loss is accumulated in float64 on the device as in the per-batch path
and read once per epoch. The simulator runs cooperative grids of one block
only; ``config.FUSED_EPOCH_PARTS`` set above 1 there still splits the
gradient into several parts (one block serves them all).
"""

import math

import numpy as np

from .. import config
from .._cache import cuda_jit
from ._common import ADAM, _blocks, _tpb, cuda
from .device import _block_sum, _penalty_grad
from .fused import _tile_backward, _tile_forward, _tile_loss

#: Layout of the float64 epoch vector ``fv``: the hyper-parameters and the
#: loss's eps, then per batch the Adam rate, the gradient scale, the L2 and
#: L1 sums (one more slot each) and the loss accumulator.
_F_LR, _F_MOMENTUM, _F_NESTEROV, _F_BETA1, _F_BETA2, _F_EPS = range(6)
_F_ALPHA, _F_L1, _F_LOSS_EPS, _F_HEAD = 6, 7, 8, 9


def _fused_epoch_kernel(dt, rows, nthreads, width):
    """Build the fused epoch kernel for one dtype and fused configuration.

    ``fused_epoch(X, Y, sw, idx, params, opt_m, opt_v, parts, act_buf, meta,
    fv, n, batch_size, n_layers, hidden, output, loss, solver, n_coef,
    n_parts, tile_rows)``: ``parts`` holds ``n_parts`` flat gradient vectors
    (``n_parts * n_params``), ``act_buf`` the hidden activations of a batch
    (slot layout of the contract, ``batch_size`` rows a slot), ``fv``
    the float64 epoch vector (``_F_*``), ``meta`` the layout of
    :class:`.network._Net`; ``opt_m``/``opt_v`` are SGD's velocity (and an
    unused ``opt_v``) or Adam's moments.
    """
    f64 = np.float64

    @cuda_jit(cache=True)
    def fused_epoch(
        X,
        Y,
        sw,
        idx,
        params,
        opt_m,
        opt_v,
        parts,
        act_buf,
        meta,
        fv,
        n,
        batch_size,
        n_layers,
        hidden,
        output,
        loss,
        solver,
        n_coef,
        n_parts,
        tile_rows,
    ):
        buf = cuda.shared.array((2, rows, width), dt)
        red = cuda.shared.array(nthreads, f64)
        grid = cuda.cg.this_grid()
        one = dt(1)
        t = cuda.threadIdx.x
        L = n_layers
        n_out = meta[L]
        n_params = params.shape[0]
        nb = (n + batch_size - 1) // batch_size
        f_rate = _F_HEAD
        f_scale = f_rate + nb
        f_sq = f_scale + nb
        f_ab = f_sq + nb + 1
        f_loss = f_ab + nb + 1
        lr = dt(fv[_F_LR])
        momentum = dt(fv[_F_MOMENTUM])
        nesterov = fv[_F_NESTEROV] != 0.0
        beta1 = dt(fv[_F_BETA1])
        beta2 = dt(fv[_F_BETA2])
        eps = dt(fv[_F_EPS])
        alpha = fv[_F_ALPHA]
        l1 = fv[_F_L1]
        loss_eps = fv[_F_LOSS_EPS]
        for b in range(nb):
            start = b * batch_size
            m = min(batch_size, n - start)
            n_tiles = (m + tile_rows - 1) // tile_rows
            used = min(n_parts, n_tiles)
            sc = fv[f_scale + b]
            # phase 1: forward, loss and backward of this block's tiles
            for q in range(cuda.blockIdx.x, used, cuda.gridDim.x):
                first = True
                for tile in range(q, n_tiles, n_parts):
                    r0 = tile * tile_rows
                    mt = min(tile_rows, m - r0)
                    po = _tile_forward(
                        X, idx, start, True, r0, mt, params, meta, L, hidden,
                        output, act_buf, batch_size, True, buf, t, nthreads, one,
                    )  # fmt: skip
                    total = _tile_loss(
                        buf[po], Y, sw, idx, start, True, r0, mt, n_out, loss,
                        loss_eps, red, t, nthreads, one,
                    )  # fmt: skip
                    if t == 0:
                        if tile == 0:
                            total += 0.5 * alpha * fv[f_sq + b] + l1 * fv[f_ab + b]
                        cuda.atomic.add(fv, f_loss, total * m * sc)
                    cuda.syncthreads()
                    _tile_backward(
                        X, idx, start, True, r0, mt, params, meta, L, hidden,
                        act_buf, batch_size, buf, po, parts, q * n_params, one,
                        False, first, t, nthreads, one,
                    )  # fmt: skip
                    cuda.syncthreads()  # buf is the next tile's
                    first = False
            grid.sync()
            # phase 2: the optimizer over the flat vector
            rate = dt(fv[f_rate + b])
            s2 = 0.0
            s1 = 0.0
            for i in range(cuda.grid(1), n_params, cuda.gridsize(1)):
                g = one - one
                for q in range(used):
                    g += parts[q * n_params + i]
                g *= dt(sc)
                x = params[i]
                if i < n_coef:
                    g += dt(_penalty_grad(x, alpha, l1, sc))
                if solver == ADAM:
                    mi = beta1 * opt_m[i] + (one - beta1) * g
                    vi = beta2 * opt_v[i] + (one - beta2) * g * g
                    opt_m[i] = mi
                    opt_v[i] = vi
                    x = x - rate * mi / (math.sqrt(vi) + eps)
                else:
                    v = momentum * opt_m[i] - lr * g
                    opt_m[i] = v
                    if nesterov:
                        x = x + (momentum * v - lr * g)
                    else:
                        x = x + v
                params[i] = x
                if i < n_coef:
                    s2 += float(x) * float(x)
                    s1 += abs(float(x))
            red[t] = s2
            total = _block_sum(red, t, nthreads)
            if t == 0:
                cuda.atomic.add(fv, f_sq + b + 1, total)
            cuda.syncthreads()
            red[t] = s1
            total = _block_sum(red, t, nthreads)
            if t == 0:
                cuda.atomic.add(fv, f_ab + b + 1, total)
            grid.sync()

    return fused_epoch


#: The reason the fused epoch could not run on this device (set once, on the
#: first failure; the per-batch path serves every later epoch), or None.
_failure = None
#: The gradient parts of the last fit, reused while the shape is the same.
_parts_cache = {}
#: Cooperative grid limits, per compiled kernel and block size.
_grid_cache = {}


def fused_epoch_failure():
    """Why the fused epoch kernel fell back to the per-batch path (a string),
    or None when it has not failed in this process."""
    return _failure


def _simulated():
    from numba import config as numba_config

    return bool(numba_config.ENABLE_CUDASIM)


def _grid_blocks(kernel, args, threads):
    """Blocks of the cooperative grid: every block must be resident at once,
    so at most the occupancy limit, and ``FUSED_EPOCH_BLOCKS`` (or
    ``FUSED_EPOCH_BLOCKS_PER_SM`` per multiprocessor) when set. The
    simulator runs cooperative grids of one block only."""
    if _simulated():
        return 1
    argtypes = tuple(kernel.typeof_pyval(a) for a in args)
    key = (id(kernel), argtypes, threads)
    limit = _grid_cache.get(key)
    if limit is None:
        resident = kernel.compile(argtypes).max_cooperative_grid_blocks(threads)
        sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
        limit = _grid_cache[key] = (int(resident), int(sms))
    resident, sms = limit
    wanted = config.FUSED_EPOCH_BLOCKS or sms * config.FUSED_EPOCH_BLOCKS_PER_SM
    return max(1, min(resident, wanted))


def _parts(dtype, n_parts, n_params):
    key = (np.dtype(dtype).name, n_parts, n_params)
    parts = _parts_cache.get(key)
    if parts is None:
        _parts_cache.clear()  # one fit's scratch at a time
        parts = _parts_cache[key] = cuda.device_array(n_parts * n_params, dtype)
    return parts


def _epoch_vector(
    ns, net, params, sw, sample_idx, n, batch_size, solver, hyper, eps, step
):
    """The float64 epoch vector (``_F_*`` layout) on the device, with the
    gradient scales and the L2/L1 sums before the first batch filled in."""
    nb = (n + batch_size - 1) // batch_size
    fv = np.zeros(_F_HEAD + 4 * nb + 3)
    fv[:8] = hyper
    fv[_F_LOSS_EPS] = eps
    if solver == ADAM:
        # As the per-batch path: step t of batch k is step[0] + k + 1, the
        # bias-corrected rate in float64 (numpy's pow is C's, as Python's).
        lr, beta1, beta2 = hyper[0], hyper[3], hyper[4]
        t = float(step[0]) + np.arange(1, nb + 1, dtype=np.float64)
        fv[_F_HEAD : _F_HEAD + nb] = lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
    d_fv = cuda.to_device(fv)
    f_scale = _F_HEAD + nb
    f_sq = f_scale + nb
    f_ab = f_sq + nb + 1
    tpb = _tpb()
    ns.batch_scale[nb, tpb](sw, sample_idx, n, batch_size, d_fv[f_scale : f_scale + nb])
    ns.norms[_blocks(net.n_coef, tpb), tpb](
        params, net.n_coef, d_fv[f_sq : f_sq + nb + 1], d_fv[f_ab : f_ab + nb + 1], 0
    )
    return d_fv, nb


def run_fused_epoch(
    ns, net, X, Y, sw, sample_idx, params, opt_m, opt_v, act_buf, step,
    hidden, output, loss, batch_size, solver, hyper, dtype,
):  # fmt: skip
    """One epoch of a narrow network in one launch (see the module doc);
    returns the epoch loss, or None when the kernel cannot run here (the
    reason kept in :func:`fused_epoch_failure`, a warning given once): the
    caller then runs the per-batch path."""
    global _failure
    if _failure is not None:
        return None
    n = sample_idx.shape[0]
    threads = config.FUSED_THREADS
    eps = float(np.finfo(dtype).eps)
    d_fv, nb = _epoch_vector(
        ns, net, params, sw, sample_idx, n, batch_size, solver, hyper, eps, step
    )
    kernel = ns.fused_epoch
    n_params = params.shape[0]
    args = [
        X, Y, sw, sample_idx, params, opt_m, opt_v, None, act_buf, net.meta,
        d_fv, n, batch_size, net.n_layers, hidden, output, loss, solver,
        net.n_coef, 0, 0,
    ]  # fmt: skip
    try:
        args[7] = params  # for typing only: the parts have its type
        blocks = _grid_blocks(kernel, args, threads)
        n_parts = max(1, config.FUSED_EPOCH_PARTS or blocks)
        rows = config.FUSED_EPOCH_TILE_ROWS or -(-batch_size // n_parts)
        args[7] = _parts(dtype, n_parts, n_params)
        args[19] = n_parts
        args[20] = max(1, min(config.FUSED_ROWS, rows))
        kernel[blocks, threads](*args)
    except Exception as exc:  # noqa: BLE001 - recorded; the per-batch path runs
        if _simulated():
            raise
        import warnings

        _failure = f"{type(exc).__name__}: {exc}"[:600]
        warnings.warn(
            "fastmlp: the fused epoch kernel cannot run on this GPU "
            f"({_failure}); training with one launch per minibatch instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    if solver == ADAM:
        step[0] += nb
    f_loss = _F_HEAD + 4 * nb + 2
    return float(d_fv[f_loss:].copy_to_host()[0]) / n
