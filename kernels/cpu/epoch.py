"""The whole-network drivers: full-batch loss/gradient and one training epoch.

Both are *skeletons* (see :mod:`.pieces`): compiled once per dtype and input
kind (dense or CSR), they know no configuration. The activations, their
derivative and the output loss come in as piece addresses; the solver and the
L1 switch are run-time values. A new configuration therefore compiles only
its missing pieces, never a skeleton again. The small configuration-free work
(layout offsets, batch buffers, the row index of a full batch) is done by the
Python wrappers, so the compiled code calls no numpy allocator.
"""

import numpy as np
from numba.extending import overload

from .._cache import njit
from ._common import ADAM, ELU, JIT_OPTIONS, LEAKY_RELU, SELU
from .dropout import dropout_backward, dropout_base, dropout_forward
from .gemm import blas_nn, blas_nt, blas_tn
from .layers import _bias_grad, _grad_epilogue, sparse_product, sparse_product_tn
from .losses import _add_l1_sign, _sum_abs, _sum_squares
from .narrow import NARROW_MAX_WIDTH, narrow_epoch, narrow_lanes
from .network import (
    gather_rows,
    gather_targets,
    input_arrays,
    layout_offsets,
    readonly,
    shuffle_order,
)
from .optimizers import decay_coefficients
from .pieces import (
    BACKWARD,
    DERIVATIVE,
    FORWARD,
    HIDDEN,
    OPTIMIZER,
    OUTPUT,
    OUTPUT_DELTA,
    call_float64,
    call_void,
    piece_addresses,
)
from .views import as_matrix, as_readonly, borrow


def _batch_loss_grad(
    csr,
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
    fns,
    dropout,
    dropout_seed,
    start,
):
    """Forward, loss and backward for one batch of m rows; returns the loss.

    The batch is rows ``rows`` of the training set: of the dense ``X``,
    gathered into ``Xb[m, n_0]``, or, when ``csr = (indptr, indices, data)``
    holds a CSR matrix (``indptr`` not empty), read in place by the first
    layer (``Xb`` then has no rows). The input kind is a run-time value: one
    compiled skeleton serves both. ``fns`` holds the configuration's piece
    addresses (:func:`.pieces.piece_addresses`): the bias + activation of the
    hidden and output layers, the hidden derivative and the output
    loss/delta. Every matrix product goes to BLAS: the own loops, faster on
    products below ~640-4,096 multiply-adds alone (``bench.gemm``), made no
    measurable difference to a whole playground batch (2.77 vs 2.77 us) and
    cost 2-3 s of compile.

    ``sq_coef`` is ``sum(W ** 2)`` over all coefficients (the L2 penalty),
    passed in because the optimizer computed it in its own pass. A nonzero
    ``l1`` adds ``l1 * sum|W| / sw_sum`` to the loss and ``l1 * sign(W) /
    sw_sum`` to the coefficient gradients (``sign(0) = 0``).

    ``dropout`` (float64, one rate per hidden layer, or empty for none) drops
    hidden units with :mod:`.dropout`'s masks of the epoch's ``dropout_seed``
    for rows ``start ..`` of the epoch: the masked, rescaled outputs feed the
    next layer and its gradient, and the backward pass applies the same masks.
    """
    raise NotImplementedError("only inside numba-compiled code")


# An overload, not an inlined function: numba deep-copies an inlined
# function's IR at each call site (seconds for this one), while an overload's
# implementation is compiled once per signature and called.
@overload(_batch_loss_grad, jit_options=JIT_OPTIONS)
def _ov_batch_loss_grad(
    csr,
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
    fns,
    dropout,
    dropout_seed,
    start,
):
    def impl(
        csr,
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
        fns,
        dropout,
        dropout_seed,
        start,
    ):
        indptr, indices, data = csr
        sparse = indptr.shape[0] > 0
        m = rows.shape[0]
        n_layers = layer_sizes.shape[0] - 1
        use_l1 = l1 != 0.0
        use_dropout = dropout.shape[0] > 0
        width = 0  # summed hidden widths: the units of a row's masks
        for l in range(1, n_layers):
            width += layer_sizes[l]
        base = dropout_base(dropout_seed, start, width)

        # forward: layer l's output lives in slot l + 1 of act_buf
        A = Xb
        unit = 0  # first unit of hidden layer l in a row's masks
        for l in range(n_layers):
            fi = layer_sizes[l]
            fo = layer_sizes[l + 1]
            W = as_matrix(params, coef_off[l], fi, fo)
            b = params[icpt_off[l] : icpt_off[l] + fo]
            Z = as_matrix(act_buf, cap * slot_off[l + 1], m, fo)
            if sparse and l == 0:
                sparse_product(indptr, indices, data, rows, W, Z)
            else:
                blas_nn(A, W, Z)
            f = fns[OUTPUT] if l == n_layers - 1 else fns[HIDDEN]
            call_void(f, (Z, b, m, fo, FORWARD))
            if use_dropout and l < n_layers - 1:
                if dropout[l] > 0.0:
                    dropout_forward(Z, m, fo, base, width, unit, dropout[l])
                unit += fo
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
        total = call_float64(fns[OUTPUT_DELTA], (A, Yb, swb, D, m, fo, swb.shape[0]))
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
            # gW = (A_in.T @ D + alpha W) * scale, the first layer's product
            # read from the CSR rows in place when the input is sparse (inline:
            # as a function of its own it cost 0.46 s of every first fit)
            if sparse and l == 0:
                sparse_product_tn(indptr, indices, data, rows, D, gW)
            else:
                blas_tn(A_in, D, gW)
            a = W.dtype.type(alpha)
            sc = W.dtype.type(scale)
            _grad_epilogue(gW, W, a, sc, np.int64(0), fi)
            _bias_grad(D, sc, gb)
            if use_l1:
                _add_l1_sign(gW, W, l1 * scale)
            if l > 0:
                D_prev = as_matrix(delta_buf, cap * slot_off[l], m, fi)
                blas_nt(D, W, D_prev)
                if use_dropout:
                    unit -= fi  # hidden layer l - 1, whose output is A_in
                    if dropout[l - 1] > 0.0:
                        # A_in's writable view (A_in's type is Xb's, read-only)
                        A_h = as_matrix(act_buf, cap * slot_off[l], m, fi)
                        dropout_backward(
                            A_h, D_prev, m, fi, base, width, unit, dropout[l - 1]
                        )
                if fns[DERIVATIVE] != 0:
                    call_void(fns[DERIVATIVE], (A_in, D_prev, m, fi, BACKWARD))
                D = D_prev
        return value

    return impl


# --------------------------------------------------------------------------
# full-batch loss and gradient (L-BFGS)
# --------------------------------------------------------------------------
@njit(cache=True, **JIT_OPTIONS)
def loss_grad_skeleton(
    X,
    indptr,
    indices,
    data,
    rows,
    Y,
    sw,
    params,
    layer_sizes,
    alpha,
    l1,
    grads,
    act_buf,
    delta_buf,
    coef_off,
    icpt_off,
    slot_off,
    fns,
):
    """The compiled :func:`loss_grad`: one batch of every row (see
    :func:`_batch_loss_grad`); one per dtype, dense or CSR ``X``."""
    return _batch_loss_grad(
        (indptr, indices, data),
        X,
        as_readonly(rows),
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
        fns,
        np.empty(0, np.float64),  # no dropout
        np.int64(0),
        np.int64(0),
    )


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
    entries; ``l1`` (default 0) is the L1 strength (see contract). Runs
    :func:`loss_grad_skeleton` with this configuration's pieces.
    """
    n = Y.shape[0]
    fns = piece_addresses(hidden_activation, output_activation, loss, Y.dtype)
    return loss_grad_skeleton(
        *input_arrays(X, layer_sizes[0], Y.dtype),
        np.arange(n),
        readonly(Y),
        readonly(sw),
        params,
        layer_sizes,
        float(alpha),
        float(l1),
        grads,
        act_buf,
        delta_buf,
        *layout_offsets(layer_sizes),
        fns,
    )


def loss_grad_sparse(indptr, indices, data, *args):
    """``loss_grad`` for a CSR ``X`` (indptr, indices, data) of ``Y.shape[0]`` rows.

    The other arguments are :func:`loss_grad`'s, in its order.
    """
    return loss_grad((indptr, indices, data), *args)


# --------------------------------------------------------------------------
# one training epoch
# --------------------------------------------------------------------------
@njit(cache=True, **JIT_OPTIONS)
def train_epoch_skeleton(
    X,
    indptr,
    indices,
    data,
    Y,
    sw,
    sample_idx,
    seed,
    params,
    grads,
    layer_sizes,
    batch_size,
    solver,
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
    fns,
    weight_decay,
    dropout,
    dropout_seed,
):
    """The compiled epoch (see :func:`train_epoch`); one per dtype, dense or
    CSR ``X``, whatever the configuration (its pieces are ``fns``)."""
    if seed >= 0:
        shuffle_order(sample_idx, seed)
    n = sample_idx.shape[0]
    n_in = layer_sizes[0]
    n_out = layer_sizes[layer_sizes.shape[0] - 1]
    weighted = sw.shape[0] > 0

    # Owner-less views (arguments live for the whole call): views of
    # them cost no reference counting.
    X, Y, sw, sample_idx = borrow(X), borrow(Y), borrow(sw), borrow(sample_idx)
    csr = (borrow(indptr), borrow(indices), borrow(data))
    sparse = indptr.shape[0] > 0
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
    fns, dropout = borrow(fns), borrow(dropout)

    n_coef = icpt_off[0]
    # float64 as loss_grad_skeleton's: one compiled batch (float() keeps float32)
    alpha = np.float64(hyper[6])
    l1 = np.float64(hyper[7])

    sq_coef = _sum_squares(params, n_coef)
    accumulated = 0.0
    for start in range(0, n, batch_size):
        m = n - start if n - start < batch_size else batch_size
        rows = sample_idx[start : start + m]
        # Dense rows are gathered into slot 0; CSR rows are read in place.
        Xb = as_matrix(act_buf, 0, 0 if sparse else m, n_in)
        Yb = as_matrix(ybuf, 0, m, n_out)
        swb = swbuf[: m if weighted else 0]
        if not sparse:
            gather_rows(X, rows, Xb)
        gather_targets(Y, sw, rows, Yb, swb)
        # read-only, as loss_grad_skeleton passes them: one compiled batch
        batch_loss = _batch_loss_grad(
            csr,
            as_readonly(Xb),
            as_readonly(rows),
            as_readonly(Yb),
            as_readonly(swb),
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
            fns,
            dropout,
            dropout_seed,
            np.int64(start),
        )
        accumulated += batch_loss * m
        if solver == ADAM:
            step[0] += 1
        if weight_decay != 0.0:
            # decoupled (AdamW, SGDW): W *= 1 - lr wd before the solver's step
            decay_coefficients(
                params, n_coef, 1.0 - np.float64(hyper[0]) * weight_decay
            )
        # the solver's step is a piece too: compiled only for the solvers used
        sq_coef = call_float64(
            fns[OPTIMIZER],
            (params, grads, opt_m, opt_v, params.shape[0], n_coef, hyper, step[0]),
        )
    return accumulated / n


#: ``dropout`` when there is none (one array: no allocation per epoch)
_NO_DROPOUT = np.empty(0, np.float64)


def check_hyper(hyper):
    """``hyper`` as the skeletons read it: 8 entries, or a ``ValueError``."""
    if hyper.shape[0] != 8:
        raise ValueError(
            "hyper must hold 8 values [lr, momentum, nesterov, beta1, beta2, "
            f"epsilon, alpha, l1], got {hyper.shape[0]}"
        )
    return hyper


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
    weight_decay=0.0,
    dropout=None,
    dropout_seed=0,
):
    """One epoch of minibatch training in one call; returns the epoch loss.

    ``X[n, n_0]`` (or a CSR tuple ``(indptr, indices, data)``, read in place
    and never densified), ``Y[n, n_L]`` and ``sw`` (length n or 0) are the
    whole training set; ``sample_idx`` (int64, length n) is the visiting
    order, shuffled in place first when ``seed >= 0`` (fastmlp's own
    generator: the same seed gives the same order). ``hyper = [lr, momentum,
    nesterov, beta1, beta2, epsilon, alpha, l1]`` (8 entries; ``l1 = 0`` is
    scikit-learn's loss; ``l1 < 0`` asks for the TensorFlow Playground's L1
    rule of strength ``-l1``, narrow networks only: see ``narrow._clip_l1``).
    ``act_buf``/``delta_buf`` hold ``batch_size * sum(layer_sizes)`` entries
    each. ``weight_decay`` (CPU only, default 0) is decoupled weight decay
    (AdamW, SGDW): before each step ``W *= 1 - lr * weight_decay`` on the
    coefficients (not the intercepts). ``dropout`` (CPU only; float64, one
    rate in [0, 1) per hidden layer, or None) is inverted dropout with the
    counter-based masks of :mod:`.dropout` for the epoch's ``dropout_seed``
    (int, >= 0). Either trains in the general epoch.

    Runs :func:`train_epoch_skeleton` (or, for networks at most 8 units wide,
    the narrow epoch) with this configuration's pieces: shuffle, gather,
    forward, loss, backward and the optimizer step of every minibatch in one
    compiled call, on borrowed arrays (:func:`borrow`: views cost no
    reference counting).
    """
    csr = isinstance(X, tuple)
    batch_size = int(batch_size)
    hyper = check_hyper(hyper)
    coef_off, icpt_off, slot_off = layout_offsets(layer_sizes)
    # the narrow epoch's run-time switch knows scikit-learn's activations only
    piece_only = int(hidden_activation) in (LEAKY_RELU, ELU, SELU)
    # the narrow epoch steps its padded copies itself, without weight decay
    if dropout is None:
        dropout = _NO_DROPOUT
    else:  # a writable float64 copy: the one compiled type
        dropout = np.array(dropout, dtype=np.float64).reshape(-1)
    if dropout.shape[0] and dropout.shape[0] != len(layer_sizes) - 2:
        raise ValueError(
            f"dropout must hold one rate per hidden layer ({len(layer_sizes) - 2}), "
            f"got {dropout.shape[0]}"
        )
    general = csr or piece_only or weight_decay != 0.0 or dropout.shape[0] > 0
    lanes = 0 if general else narrow_lanes(layer_sizes)
    if hyper[7] < 0 and not lanes:
        raise ValueError(
            "The TensorFlow Playground's L1 rule (l1 < 0 in hyper) runs in the "
            "narrow epoch only: dense input and layers at most "
            f"{NARROW_MAX_WIDTH} units wide, got {list(layer_sizes)}."
        )
    # the narrow epoch steps its padded copies itself: no optimizer piece
    fns = piece_addresses(
        hidden_activation, output_activation, loss, Y.dtype, -1 if lanes else solver
    )
    if lanes:
        return narrow_epoch(
            fns,
            int(solver),
            int(hidden_activation),
            lanes,
            readonly(X),
            readonly(Y),
            readonly(sw),
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
    return train_epoch_skeleton(
        *input_arrays(X, layer_sizes[0], Y.dtype),
        readonly(Y),
        readonly(sw),
        sample_idx,
        seed,
        params,
        grads,
        layer_sizes,
        batch_size,
        int(solver),
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
        fns,
        float(weight_decay),
        dropout,
        int(dropout_seed),
    )


def train_epoch_sparse(indptr, indices, data, *args, **options):
    """``train_epoch`` for a CSR ``X`` (indptr, indices, data): never densified.

    The first layer reads each batch's CSR rows in place
    (:func:`sparse_product`, :func:`sparse_product_tn`). The other
    arguments are :func:`train_epoch`'s, in its order, and its options by
    keyword.
    """
    return train_epoch((indptr, indices, data), *args, **options)
