"""The whole-network drivers: full-batch loss/gradient and one training epoch.

Both are compiled per configuration (:mod:`.specialise`): the input kind
(dense or CSR), the activation, loss and solver codes and whether an L1
penalty is on are constants of the compiled code.
numba removes the branches they rule out before typing them, so a fit
compiles the code it runs and nothing else. The small configuration-free
work (layout offsets, batch buffers, the row index of a full batch) is done
by the Python wrappers, so the compiled code calls no numpy allocator.
"""

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from .._cache import njit
from ._common import ADAM, JIT_OPTIONS
from .gemm import blas_nn
from .layers import (
    _bias_activate_rows,
    _bias_grad,
    _delta_blas,
    _grad_blas,
    sparse_dense_forward,
    sparse_dense_grad,
)
from .losses import _add_l1_sign, _sum_abs, _sum_squares, loss_output_delta
from .narrow import narrow_epoch, narrow_lanes
from .network import (
    borrow_all,
    gather_rows,
    gather_targets,
    layout_offsets,
    shuffle_order,
)
from .optimizers import adam_update, sgd_update
from .specialise import specialised
from .views import as_matrix, borrow


def _literal(value, name):
    if not isinstance(value, types.Literal):
        raise TypingError(f"{name} must be a compile-time constant")
    return value.literal_value


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
    alpha,
    sq_coef,
    grads,
    act_buf,
    delta_buf,
    l1,
    hidden_activation,
    output_activation,
    loss,
    has_l1,
):
    """Forward, loss and backward for one batch of m rows; returns the loss.

    The batch is rows ``rows`` of ``X``: for a dense X gathered into
    ``Xb[m, n_0]``, for a CSR X (a tuple) read in place by the first layer
    (``Xb`` then has no rows). The last four arguments are compile-time
    constants (literals): the codes and ``has_l1``. Every matrix product goes
    to BLAS: the own loops, faster on products below ~640-4,096
    multiply-adds alone (``bench.gemm``), made no measurable difference to a
    whole playground batch (2.77 vs 2.77 us) and cost 2-3 s of compile.

    ``sq_coef`` is ``sum(W ** 2)`` over all coefficients (the L2 penalty),
    passed in because the optimizer computed it in its own pass. ``has_l1``
    adds ``l1 * sum|W| / sw_sum`` to the loss and ``l1 * sign(W) / sw_sum``
    to the coefficient gradients (``sign(0) = 0``).
    """
    raise NotImplementedError("only inside numba-compiled code")


@overload(_batch_loss_grad, jit_options=JIT_OPTIONS, prefer_literal=True)
def _ov_batch_loss_grad(
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
    alpha,
    sq_coef,
    grads,
    act_buf,
    delta_buf,
    l1,
    hidden_activation,
    output_activation,
    loss,
    has_l1,
):
    return _batch_impl(
        isinstance(X, types.BaseTuple),
        _literal(hidden_activation, "hidden_activation"),
        _literal(output_activation, "output_activation"),
        _literal(loss, "loss"),
        _literal(has_l1, "has_l1"),
    )


def _batch_impl(csr, hidden, output, loss_code, use_l1):
    """The batch code of one configuration; its branches on these constants
    are removed before typing."""

    def impl(
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
        alpha,
        sq_coef,
        grads,
        act_buf,
        delta_buf,
        l1,
        hidden_activation,
        output_activation,
        loss,
        has_l1,
    ):
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
            last = l == n_layers - 1
            if csr and l == 0:
                if last:
                    sparse_dense_forward(X[0], X[1], X[2], rows, W, b, output, Z)
                else:
                    sparse_dense_forward(X[0], X[1], X[2], rows, W, b, hidden, Z)
            else:
                blas_nn(A, W, Z)
                for i0 in range(0, m, 8):
                    i1 = i0 + 8 if i0 + 8 < m else m
                    if last:
                        _bias_activate_rows(Z, b, i0, i1, output)
                    else:
                        _bias_activate_rows(Z, b, i0, i1, hidden)
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
        total = loss_output_delta(A, Yb, swb, loss_code, D)
        value = total * scale + 0.5 * alpha * sq_coef * scale
        if use_l1:
            value += l1 * _sum_abs(params, icpt_off[0]) * scale

        # backward: D holds d loss / d z of layer l's output
        for l in range(n_layers - 1, -1, -1):
            fi = layer_sizes[l]
            fo = layer_sizes[l + 1]
            W = as_matrix(params, coef_off[l], fi, fo)
            gW = as_matrix(grads, coef_off[l], fi, fo)
            gb = grads[icpt_off[l] : icpt_off[l] + fo]
            # The batch's input (l == 0) or layer l's output.
            A_in = Xb if l == 0 else as_matrix(act_buf, cap * slot_off[l], m, fi)
            if csr and l == 0:
                sparse_dense_grad(X[0], X[1], X[2], rows, D, W, alpha, scale, gW, gb)
            else:
                a = W.dtype.type(alpha)
                sc = W.dtype.type(scale)
                _grad_blas(A_in, D, W, a, sc, gW)
                _bias_grad(D, sc, gb)
            if use_l1:
                _add_l1_sign(gW, W, l1 * scale)
            if l > 0:
                D_prev = as_matrix(delta_buf, cap * slot_off[l], m, fi)
                _delta_blas(D, W, A_in, hidden, D_prev)
                D = D_prev
        return value

    return impl


# --------------------------------------------------------------------------
# full-batch loss and gradient (L-BFGS)
# --------------------------------------------------------------------------
@specialised
def loss_grad_kernel(csr, hidden, output, loss, use_l1):
    """The compiled :func:`loss_grad` for one configuration (constants)."""

    @njit(cache=True, **JIT_OPTIONS)
    def loss_grad_compiled(
        X,
        Xb,
        rows,
        Y,
        sw,
        params,
        layer_sizes,
        alpha,
        grads,
        act_buf,
        delta_buf,
        l1,
        coef_off,
        icpt_off,
        slot_off,
    ):
        return _batch_loss_grad(
            X,
            Xb,
            rows,
            Y,
            sw,
            params,
            layer_sizes,
            coef_off,
            icpt_off,
            slot_off,
            rows.shape[0],
            alpha,
            _sum_squares(params, icpt_off[0]),
            grads,
            act_buf,
            delta_buf,
            l1,
            hidden,
            output,
            loss,
            use_l1,
        )

    return loss_grad_compiled


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
    entries; ``l1`` (default 0) is the L1 strength (see contract). Runs the
    :func:`loss_grad_kernel` of this configuration.
    """
    csr = isinstance(X, tuple)
    n = Y.shape[0]
    l1 = float(l1)
    kernel = loss_grad_kernel(
        csr,
        int(hidden_activation),
        int(output_activation),
        int(loss),
        l1 != 0.0,
    )
    Xb = np.empty((0, int(layer_sizes[0])), dtype=Y.dtype) if csr else X
    return kernel(
        X,
        Xb,
        np.arange(n),
        Y,
        sw,
        params,
        layer_sizes,
        float(alpha),
        grads,
        act_buf,
        delta_buf,
        l1,
        *layout_offsets(layer_sizes),
    )


def loss_grad_sparse(indptr, indices, data, *args):
    """``loss_grad`` for a CSR ``X`` (indptr, indices, data) of ``Y.shape[0]`` rows.

    The other arguments are :func:`loss_grad`'s, in its order.
    """
    return loss_grad((indptr, indices, data), *args)


# --------------------------------------------------------------------------
# one training epoch
# --------------------------------------------------------------------------
@specialised
def train_epoch_kernel(csr, hidden, output, loss, solver, use_l1):
    """The compiled epoch for one configuration (see the module docstring).

    Each configuration compiles once per dtype, on first use, and is cached on
    disk like every kernel (the constants are in numba's cache key).
    """

    @njit(cache=True, **JIT_OPTIONS)
    def train_epoch_compiled(
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
        act_buf,
        delta_buf,
        ybuf,
        swbuf,
        coef_off,
        icpt_off,
        slot_off,
    ):
        if seed >= 0:
            shuffle_order(sample_idx, seed)
        n = sample_idx.shape[0]
        n_in = layer_sizes[0]
        n_out = layer_sizes[layer_sizes.shape[0] - 1]
        weighted = sw.shape[0] > 0

        # Owner-less views (arguments live for the whole call): views of
        # them cost no reference counting.
        Xo, Y, sw, sample_idx = borrow_all(X), borrow(Y), borrow(sw), borrow(sample_idx)
        params, grads = borrow(params), borrow(grads)
        opt_m, opt_v, step = borrow(opt_m), borrow(opt_v), borrow(step)
        layer_sizes, act_buf, delta_buf = (
            borrow(layer_sizes),
            borrow(act_buf),
            borrow(delta_buf),
        )
        ybuf, swbuf = borrow(ybuf), borrow(swbuf)
        coef_off, icpt_off, slot_off = (
            borrow(coef_off),
            borrow(icpt_off),
            borrow(slot_off),
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
            m = n - start if n - start < batch_size else batch_size
            rows = sample_idx[start : start + m]
            # Dense rows are gathered into slot 0; CSR rows are read in place.
            Xb = as_matrix(act_buf, 0, 0 if csr else m, n_in)
            Yb = as_matrix(ybuf, 0, m, n_out)
            swb = swbuf[: m if weighted else 0]
            if csr:
                pass
            else:
                gather_rows(Xo, rows, Xb)
            gather_targets(Y, sw, rows, Yb, swb)
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
                alpha,
                sq_coef,
                grads,
                act_buf,
                delta_buf,
                l1,
                hidden,
                output,
                loss,
                use_l1,
            )
            accumulated += batch_loss * m
            if solver == ADAM:
                step[0] += 1
                sq_coef = adam_update(
                    params, grads, opt_m, opt_v, step[0], lr, beta1, beta2, eps, n_coef
                )
            else:
                sq_coef = sgd_update(
                    params, grads, opt_m, lr, momentum, nesterov, n_coef
                )
        return accumulated / n

    return train_epoch_compiled


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
    order, shuffled in place first when ``seed >= 0`` (fastmlp's own
    generator: the same seed gives the same order). ``hyper = [lr, momentum,
    nesterov, beta1, beta2, epsilon, alpha, l1]`` (a 7-entry ``hyper`` means
    ``l1 = 0``). ``act_buf``/``delta_buf`` hold ``batch_size *
    sum(layer_sizes)`` entries each.

    Runs the :func:`train_epoch_kernel` of this configuration: shuffle,
    gather, forward, loss, backward and the optimizer step of every minibatch
    in one compiled call, on borrowed arrays (:func:`borrow`: views cost no
    reference counting).
    """
    csr = isinstance(X, tuple)
    batch_size = int(batch_size)
    l1 = hyper[7] if hyper.shape[0] > 7 else 0.0
    codes = (
        int(hidden_activation),
        int(output_activation),
        int(loss),
        int(solver),
        bool(l1 != 0.0),
    )
    coef_off, icpt_off, slot_off = layout_offsets(layer_sizes)
    lanes = 0 if csr else narrow_lanes(layer_sizes)
    if lanes:
        return narrow_epoch(
            codes,
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
        )
    n_out = int(layer_sizes[-1])
    ybuf = np.empty(batch_size * n_out, dtype=Y.dtype)
    swbuf = np.empty(batch_size if sw.shape[0] else 0, dtype=Y.dtype)
    kernel = train_epoch_kernel(csr, *codes)
    return kernel(
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
        act_buf,
        delta_buf,
        ybuf,
        swbuf,
        coef_off,
        icpt_off,
        slot_off,
    )


def train_epoch_sparse(indptr, indices, data, *args):
    """``train_epoch`` for a CSR ``X`` (indptr, indices, data): never densified.

    The first layer reads each batch's CSR rows in place
    (:func:`sparse_dense_forward`, :func:`sparse_dense_grad`). The other
    arguments are :func:`train_epoch`'s, in its order.
    """
    return train_epoch((indptr, indices, data), *args)
