"""The whole-network drivers: full-batch loss/gradient and one training epoch."""

import numpy as np

from .._cache import njit
from ._common import ADAM, FASTMATH
from .layers import dense_forward, dense_grad, hidden_delta
from .losses import _add_l1_sign, _sum_abs, _sum_squares, loss_output_delta
from .network import (
    _first_forward,
    _first_grad,
    _gather_row,
    _is_csr,
    _layout,
    _row_block,
    borrow_all,
)
from .optimizers import adam_update, sgd_update
from .views import _keep_alive, as_matrix, borrow


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _batch_loss_grad(
    X,
    Xb,
    rows,
    Yb,
    swb,
    params,
    layer_sizes,
    coef_off,
    icpt_off,
    slot_off,
    cap,
    hidden_activation,
    output_activation,
    loss,
    alpha,
    sq_coef,
    grads,
    act_buf,
    delta_buf,
    l1,
):
    """Forward, loss and backward for one batch of m rows; returns the loss.

    The batch is rows ``rows`` of ``X``: for a dense X gathered into
    ``Xb[m, n_0]``, for a CSR X (a tuple) read in place by the first layer
    (``Xb`` then has no rows).

    ``sq_coef`` is ``sum(W ** 2)`` over all coefficients (the L2 penalty),
    passed in because the optimizer computed it in its own pass. ``l1 > 0``
    adds ``l1 * sum|W| / sw_sum`` to the loss and ``l1 * sign(W) / sw_sum``
    to the coefficient gradients (``sign(0) = 0``); ``l1 == 0`` skips both.
    """
    m = rows.shape[0]
    n_layers = layer_sizes.shape[0] - 1

    # forward: layer l's output lives in slot l + 1 of act_buf
    A = Xb
    for l in range(n_layers):
        fi = layer_sizes[l]
        fo = layer_sizes[l + 1]
        W = as_matrix(params, coef_off[l], fi, fo)
        b = params[icpt_off[l] : icpt_off[l] + fo]
        Z = as_matrix(act_buf, cap * slot_off[l + 1], m, fo)
        act = hidden_activation
        if l == n_layers - 1:
            act = output_activation
        if l == 0:
            _first_forward(X, rows, Xb, W, b, act, Z)
        else:
            dense_forward(A, W, b, act, Z)
        A = Z

    if swb.shape[0] > 0:
        sw_sum = 0.0
        for i in range(m):
            sw_sum += swb[i]
    else:
        sw_sum = float(m)
    scale = 1.0 / sw_sum

    fo = layer_sizes[n_layers]
    D = as_matrix(delta_buf, cap * slot_off[n_layers], m, fo)
    total = loss_output_delta(A, Yb, swb, loss, D)
    value = total * scale + 0.5 * alpha * sq_coef * scale
    if l1 != 0.0:
        value += l1 * _sum_abs(params, icpt_off[0]) * scale

    # backward: D holds d loss / d z of layer l's output
    for l in range(n_layers - 1, -1, -1):
        fi = layer_sizes[l]
        fo = layer_sizes[l + 1]
        W = as_matrix(params, coef_off[l], fi, fo)
        gW = as_matrix(grads, coef_off[l], fi, fo)
        gb = grads[icpt_off[l] : icpt_off[l] + fo]
        if l == 0:
            _first_grad(X, rows, Xb, D, W, alpha, scale, gW, gb)
        else:
            A_in = as_matrix(act_buf, cap * slot_off[l], m, fi)
            dense_grad(A_in, D, W, alpha, scale, gW, gb)
        if l1 != 0.0:
            _add_l1_sign(gW, W, l1 * scale)
        if l > 0:
            D_prev = as_matrix(delta_buf, cap * slot_off[l], m, fi)
            hidden_delta(D, W, A_in, hidden_activation, D_prev)
            D = D_prev
    return value


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
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
    """Full-batch loss (with L2 and L1) and flat gradient of ``params``.

    ``X`` is ``X[n, n_0]`` or a CSR tuple ``(indptr, indices, data)`` of n
    rows. ``act_buf`` and ``delta_buf`` hold at least ``n * sum(layer_sizes)``
    entries; ``l1`` (default 0) is the L1 strength (see contract).
    """
    coef_off, icpt_off, slot_off = _layout(layer_sizes)
    n = Y.shape[0]
    rows = np.arange(n)
    return _batch_loss_grad(
        X,
        _row_block(X, 0, n),
        rows,
        Y,
        sw,
        params,
        layer_sizes,
        coef_off,
        icpt_off,
        slot_off,
        n,
        hidden_activation,
        output_activation,
        loss,
        alpha,
        _sum_squares(params, icpt_off[0]),
        grads,
        act_buf,
        delta_buf,
        l1,
    )


def loss_grad_sparse(indptr, indices, data, *args):
    """``loss_grad`` for a CSR ``X`` (indptr, indices, data) of ``Y.shape[0]`` rows.

    The other arguments are :func:`loss_grad`'s, in its order.
    """
    return loss_grad((indptr, indices, data), *args)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
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
    """One epoch of minibatch training in one call; returns the epoch loss.

    ``X[n, n_0]`` (or a CSR tuple ``(indptr, indices, data)``, read in place
    and never densified), ``Y[n, n_L]`` and ``sw`` (length n or 0) are the
    whole training set; ``sample_idx`` (int64, length n) is the visiting
    order, shuffled in place first when ``seed >= 0``. ``hyper = [lr,
    momentum, nesterov, beta1, beta2, epsilon, alpha, l1]`` (a 7-entry
    ``hyper`` means ``l1 = 0``). ``act_buf``/``delta_buf`` hold ``batch_size
    * sum(layer_sizes)`` entries each.

    Everything runs in this one compiled function: the per-batch work is
    inlined here (numba re-optimises a callee's code inside every caller, so
    each extra level of functions cost seconds of cold compile) and works on
    borrowed arrays (:func:`borrow`): views cost no reference counting.
    """
    if seed >= 0:
        np.random.seed(seed)  # noqa: NPY002 (numba's per-thread generator)
        np.random.shuffle(sample_idx)  # noqa: NPY002
    n = sample_idx.shape[0]
    n_in = layer_sizes[0]
    n_out = layer_sizes[layer_sizes.shape[0] - 1]
    weighted = sw.shape[0] > 0
    csr = _is_csr(X)
    # Gathered targets/weights of one batch: small, so made once per epoch.
    ybuf_owned = np.empty(batch_size * n_out, dtype=Y.dtype)
    swbuf_owned = np.empty(batch_size if weighted else 0, dtype=Y.dtype)
    layout = _layout(layer_sizes)

    # Owner-less views from here on (arguments live for the whole call; the
    # arrays made here are kept alive by _keep_alive at the end).
    Xo, Y, sw, sample_idx = borrow_all(X), borrow(Y), borrow(sw), borrow(sample_idx)
    params, grads = borrow(params), borrow(grads)
    opt_m, opt_v, step = borrow(opt_m), borrow(opt_v), borrow(step)
    layer_sizes, act_buf, delta_buf = (
        borrow(layer_sizes),
        borrow(act_buf),
        borrow(delta_buf),
    )
    ybuf, swbuf = borrow(ybuf_owned), borrow(swbuf_owned)
    coef_off, icpt_off, slot_off = (
        borrow(layout[0]),
        borrow(layout[1]),
        borrow(layout[2]),
    )

    n_coef = icpt_off[0]
    lr = hyper[0]
    momentum = hyper[1]
    nesterov = hyper[2] != 0.0
    beta1 = hyper[3]
    beta2 = hyper[4]
    eps = hyper[5]
    alpha = hyper[6]
    l1 = hyper[7] if hyper.shape[0] > 7 else hyper.dtype.type(0)

    sq_coef = _sum_squares(params, n_coef)
    accumulated = 0.0
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        rows = sample_idx[start : start + m]
        # Dense rows are gathered; CSR rows are read in place by layer 0.
        Xb = as_matrix(act_buf, 0, 0 if csr else m, n_in)
        Yb = as_matrix(ybuf, 0, m, n_out)
        swb = swbuf[: m if weighted else 0]
        for r in range(m):
            src = rows[r]
            if not csr:
                _gather_row(Xo, src, Xb, r)
            for j in range(n_out):
                Yb[r, j] = Y[src, j]
            if weighted:
                swb[r] = sw[src]
        batch_loss = _batch_loss_grad(
            Xo,
            Xb,
            rows,
            Yb,
            swb,
            params,
            layer_sizes,
            coef_off,
            icpt_off,
            slot_off,
            batch_size,
            hidden_activation,
            output_activation,
            loss,
            alpha,
            sq_coef,
            grads,
            act_buf,
            delta_buf,
            l1,
        )
        accumulated += batch_loss * m
        if solver == ADAM:
            step[0] += 1
            sq_coef = adam_update(
                params, grads, opt_m, opt_v, step[0], lr, beta1, beta2, eps, n_coef
            )
        else:
            sq_coef = sgd_update(params, grads, opt_m, lr, momentum, nesterov, n_coef)
    _keep_alive(ybuf_owned, swbuf_owned, layout[0], layout[1], layout[2])
    return accumulated / n


def train_epoch_sparse(indptr, indices, data, *args):
    """``train_epoch`` for a CSR ``X`` (indptr, indices, data): never densified.

    The first layer reads each batch's CSR rows in place
    (:func:`sparse_dense_forward`, :func:`sparse_dense_grad`). The other
    arguments are :func:`train_epoch`'s, in its order.
    """
    return train_epoch((indptr, indices, data), *args)
