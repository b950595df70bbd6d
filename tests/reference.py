"""Slow, obviously-correct numpy oracle of every kernel in the contract.

Each ``ref_<name>`` mirrors the kernel ``<name>`` of :mod:`fastmlp.kernels`
(same argument order and codes), with one deliberate difference: the oracle
RETURNS new arrays instead of writing into preallocated outputs, and never
modifies its inputs. The output/work-buffer arguments of a kernel are
therefore dropped from the signature:

=====================  ==================================================
contract kernel        oracle
=====================  ==================================================
``gemm_nn(A, B, C)``   ``ref_gemm_nn(A, B) -> C``
``gemm_nt(A, B, C)``   ``ref_gemm_nt(A, B) -> C``
``gemm_tn(A, B, C)``   ``ref_gemm_tn(A, B) -> C``
``apply_activation``   ``ref_apply_activation(Z, activation) -> f(Z)``
``dense_forward``      ``ref_dense_forward(A, W, b, activation) -> out``
``loss_output_delta``  ``ref_loss_output_delta(P, Y, sw, loss)
                       -> (delta, weighted_loss_sum)``
``hidden_delta``       ``ref_hidden_delta(D_next, W, A, activation) -> out``
``dense_grad``         ``ref_dense_grad(A, D, W, alpha, scale) -> (gW, gb)``
``sgd_update``         ``ref_sgd_update(params, grads, velocity, lr, momentum,
                       nesterov, n_coef) -> (params, velocity, sq_norm)``
``adam_update``        ``ref_adam_update(params, grads, m, v, t, lr, beta1,
                       beta2, eps, n_coef) -> (params, m, v, sq_norm)``
``forward``            ``ref_forward(X, params, layer_sizes, hidden_activation,
                       output_activation) -> out``
``loss_grad``          ``ref_loss_grad(X, Y, sw, params, layer_sizes,
                       hidden_activation, output_activation, loss, alpha,
                       l1=0.0) -> (loss, grads)``
``train_epoch``        ``ref_train_epoch(X, Y, sw, sample_idx, params,
                       layer_sizes, hidden_activation, output_activation, loss,
                       batch_size, solver, hyper, opt_m, opt_v, step)
                       -> (epoch_loss, params, opt_m, opt_v, step)``
=====================  ==================================================

``ref_train_epoch`` takes ``sample_idx`` as the already-shuffled order (it has
no ``seed``: there is no RNG in the oracle) and returns the new Adam step
count as an int instead of updating ``step[0]``.

The semantics are scikit-learn 1.9's MLP (``sklearn/neural_network``):
``_base.py`` for activations, derivatives and losses, ``_backprop`` and
``_compute_loss_grad`` for the gradient, ``_fit_stochastic`` for an epoch and
``_stochastic_optimizers.py`` for SGD and Adam. Arithmetic is done in the dtype
of the inputs, as scikit-learn does. ``tests/test_reference.py`` checks the
oracle against scikit-learn itself.
"""

import numpy as np
from fastmlp.kernels import (  # the codes by name: the kernels' one table
    ADAM,
    BINARY_LOG_LOSS,
    ELU,
    ELU_ALPHA,
    EXP,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_RELU_SLOPE,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    RELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    SGD,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
    TANH_SQUARED_ERROR,
    param_layout,
)
from scipy.special import expit, xlogy
from sklearn.utils import gen_batches


# --------------------------------------------------------------------------
# Flat parameter vector
# --------------------------------------------------------------------------
def unpack_params(params, layer_sizes):
    """Split the flat parameter vector into scikit-learn's lists.

    Returns ``coefs`` (``W_l`` of shape ``(n_l, n_{l+1})``) and ``intercepts``
    (``b_l`` of shape ``(n_{l+1},)``), both lists of VIEWS into ``params``.
    """
    coef_offsets, intercept_offsets, n_params = param_layout(layer_sizes)
    if params.shape != (n_params,):
        raise ValueError(f"params has shape {params.shape}, expected ({n_params},)")
    sizes = [int(s) for s in layer_sizes]
    coefs, intercepts = [], []
    for i in range(len(sizes) - 1):
        start = int(coef_offsets[i])
        coefs.append(
            params[start : start + sizes[i] * sizes[i + 1]].reshape(
                sizes[i], sizes[i + 1]
            )
        )
        start = int(intercept_offsets[i])
        intercepts.append(params[start : start + sizes[i + 1]])
    return coefs, intercepts


def pack_params(coefs, intercepts):
    """Inverse of :func:`unpack_params`: scikit-learn's ``_pack`` order."""
    return np.concatenate([np.ravel(a) for a in list(coefs) + list(intercepts)])


def n_coef_params(layer_sizes):
    """Number of coefficient (non-intercept) entries at the front of params."""
    _, intercept_offsets, _ = param_layout(layer_sizes)
    return int(intercept_offsets[0])


def _unit_weights_if_empty(sw, n_rows, dtype):
    """``sw`` of length 0 means every row has weight one."""
    if sw.shape[0] == 0:
        return np.ones(n_rows, dtype=dtype)
    return sw


# --------------------------------------------------------------------------
# Matrix products
# --------------------------------------------------------------------------
def ref_gemm_nn(A, B):
    """``C = A @ B`` for ``A (m, k)``, ``B (k, n)``."""
    return A @ B


def ref_gemm_nt(A, B):
    """``C = A @ B.T`` for ``A (m, k)``, ``B (n, k)``."""
    return A @ B.T


def ref_gemm_tn(A, B):
    """``C = A.T @ B`` for ``A (k, m)``, ``B (k, n)``."""
    return A.T @ B


# --------------------------------------------------------------------------
# Activations and their derivatives
# --------------------------------------------------------------------------
def ref_apply_activation(Z, activation):
    """``f(Z)`` for an activation code, as ``sklearn.neural_network._base``."""
    if activation == IDENTITY:
        return Z.copy()
    if activation == LOGISTIC:
        return expit(Z)
    if activation == TANH:
        return np.tanh(Z)
    if activation == RELU:
        return np.maximum(Z, 0)
    if activation == SOFTMAX:
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    if activation == EXP:
        return np.exp(Z)
    # beyond scikit-learn: PyTorch's definitions (torch.nn.LeakyReLU/ELU/SELU)
    if activation == LEAKY_RELU:
        return np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_RELU_SLOPE))
    if activation == ELU:
        return np.where(Z > 0, Z, Z.dtype.type(ELU_ALPHA) * np.expm1(Z))
    if activation == SELU:
        alpha, scale = Z.dtype.type(SELU_ALPHA), Z.dtype.type(SELU_SCALE)
        return scale * np.where(Z > 0, Z, alpha * np.expm1(Z))
    raise ValueError(f"unknown activation code {activation}")


def ref_activation_derivative(A, activation):
    """``f'`` written in terms of the activation OUTPUT ``A = f(Z)``."""
    if activation == IDENTITY:
        return np.ones_like(A)
    if activation == LOGISTIC:
        return A * (1 - A)
    if activation == TANH:
        return 1 - A**2
    if activation == RELU:
        # scikit-learn zeroes the delta exactly where the output is 0.
        return (A != 0).astype(A.dtype)
    # written with the output: for z <= 0, e^z = a / alpha + 1 (elu, selu)
    if activation == LEAKY_RELU:
        return np.where(A > 0, 1, LEAKY_RELU_SLOPE).astype(A.dtype)
    if activation == ELU:
        return np.where(A > 0, 1, A + ELU_ALPHA).astype(A.dtype)
    if activation == SELU:
        return np.where(A > 0, SELU_SCALE, A + SELU_SCALE * SELU_ALPHA).astype(A.dtype)
    raise ValueError(f"activation code {activation} has no hidden-layer derivative")


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------
def ref_dense_forward(A, W, b, activation):
    """``f(A @ W + b)``: ``A (m, k)``, ``W (k, n)``, ``b (n,)`` -> ``(m, n)``."""
    return ref_apply_activation(A @ W + b, activation)


def ref_loss_output_delta(P, Y, sw, loss):
    """Output delta and the sample-weighted sum of per-row losses.

    Returns ``delta = (P - Y) * sw[:, None]`` (``(m, n)``) and
    ``sum_i sw_i * loss_i`` (not yet divided by ``sum(sw)``), where ``loss_i``
    is the per-row term of scikit-learn's loss:

    * squared error: ``0.5 * mean_j (y - p)^2``
    * log loss: ``-sum_j xlogy(y, clip(p))``
    * binary log loss: ``-sum_j xlogy(y, clip(p)) + xlogy(1 - y, 1 - clip(p))``
    * poisson (half deviance, with scikit-learn's constant term):
      ``sum_j xlogy(y, y / p) - y + p``

    ``clip`` is to ``[eps, 1 - eps]`` with ``eps = finfo(P.dtype).eps``. The
    delta uses the unclipped ``P``, as scikit-learn does.
    """
    w = _unit_weights_if_empty(sw, P.shape[0], P.dtype)
    delta = (P - Y) * w[:, None]
    eps = np.finfo(P.dtype).eps
    if loss == SQUARED_ERROR:
        per_row = 0.5 * np.mean((Y - P) ** 2, axis=1)
    elif loss == LOG_LOSS:
        Pc = np.clip(P, eps, 1 - eps)
        per_row = -np.sum(xlogy(Y, Pc), axis=1)
    elif loss == BINARY_LOG_LOSS:
        Pc = np.clip(P, eps, 1 - eps)
        per_row = -np.sum(xlogy(Y, Pc) + xlogy(1 - Y, 1 - Pc), axis=1)
    elif loss == POISSON:
        per_row = np.sum(xlogy(Y, Y / P) - Y + P, axis=1)
    elif loss == TANH_SQUARED_ERROR:
        # the Playground's: squared error of a tanh output, whose derivative
        # 1 - P^2 stays in the delta
        per_row = 0.5 * np.mean((Y - P) ** 2, axis=1)
        delta = delta * (1 - P**2)
    else:
        raise ValueError(f"unknown loss code {loss}")
    return delta, float(np.sum(w * per_row))


def ref_hidden_delta(D_next, W, A, activation):
    """``(D_next @ W.T) * f'(A)``: ``D_next (m, n)``, ``W (k, n)``, ``A (m, k)``."""
    return (D_next @ W.T) * ref_activation_derivative(A, activation)


def ref_dense_grad(A, D, W, alpha, scale):
    """``gW = (A.T @ D + alpha * W) * scale`` and ``gb = scale * sum_rows(D)``."""
    gW = (A.T @ D + alpha * W) * scale
    gb = scale * np.sum(D, axis=0)
    return gW, gb


# --------------------------------------------------------------------------
# Optimizers (scikit-learn's SGDOptimizer / AdamOptimizer on one flat vector)
# --------------------------------------------------------------------------
def ref_sgd_update(params, grads, velocity, lr, momentum, nesterov, n_coef):
    """One SGD step; returns new ``params``, ``velocity`` and
    ``sum(params[:n_coef]**2)`` after the step."""
    velocity = momentum * velocity - lr * grads
    if nesterov:
        update = momentum * velocity - lr * grads
    else:
        update = velocity
    params = params + update
    coefs = params[:n_coef]
    return params, velocity, float(np.dot(coefs, coefs))


def ref_adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """One Adam step with step number ``t`` (already incremented, ``t >= 1``);
    returns new ``params``, ``m``, ``v`` and ``sum(params[:n_coef]**2)``."""
    m = beta1 * m + (1 - beta1) * grads
    v = beta2 * v + (1 - beta2) * grads**2
    step_size = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    params = params - step_size * m / (np.sqrt(v) + eps)
    coefs = params[:n_coef]
    return params, m, v, float(np.dot(coefs, coefs))


# --------------------------------------------------------------------------
# Whole network
# --------------------------------------------------------------------------
def ref_forward_activations(
    X, params, layer_sizes, hidden_activation, output_activation
):
    """All layer outputs ``[X, A_1, ..., A_L]`` (scikit-learn's ``_forward_pass``)."""
    coefs, intercepts = unpack_params(params, layer_sizes)
    activations = [X]
    n_layers = len(coefs)
    for i in range(n_layers):
        code = output_activation if i == n_layers - 1 else hidden_activation
        activations.append(
            ref_dense_forward(activations[-1], coefs[i], intercepts[i], code)
        )
    return activations


def ref_forward(X, params, layer_sizes, hidden_activation, output_activation):
    """The network's output ``(n, n_L)`` for ``X (n, n_0)``."""
    return ref_forward_activations(
        X, params, layer_sizes, hidden_activation, output_activation
    )[-1]


def ref_mix64(z):
    """SplitMix64's finaliser on uint64 values (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def ref_dropout_masks(seed, start, m, hidden_widths, rates):
    """Inverted-dropout scales ``(m, width_h)`` per hidden layer: 0 for a
    dropped unit, ``1 / (1 - p)`` for a kept one, for rows ``start ..
    start + m`` of an epoch with ``seed`` (the counters of
    ``kernels/cpu/dropout.py``)."""
    W = int(sum(hidden_widths))
    base = ref_mix64(np.uint64(seed))
    masks, offset = [], 0
    for width, p in zip(hidden_widths, rates, strict=True):
        rows = np.arange(start, start + m, dtype=np.uint64)[:, None]
        units = np.arange(offset, offset + width, dtype=np.uint64)[None, :]
        with np.errstate(over="ignore"):
            counters = base + rows * np.uint64(W) + units
        u = ref_mix64(counters) >> np.uint64(11)
        keep = u >= np.uint64(p * 2.0**53)
        masks.append(np.where(keep, 1.0 / (1.0 - p), 0.0))
        offset += width
    return masks


def ref_loss_grad(
    X,
    Y,
    sw,
    params,
    layer_sizes,
    hidden_activation,
    output_activation,
    loss,
    alpha,
    l1=0.0,
    masks=None,
):
    """scikit-learn's ``_backprop`` on ``X`` as one batch, plus fastmlp's L1.

    Returns ``(loss, grads)`` with ``grads`` flat in ``_pack`` order::

        loss = sum_i sw_i loss_i / sw_sum + 0.5 * alpha * ||W||^2 / sw_sum
               + l1 * sum|W| / sw_sum
        gW_l = (A_l.T @ D_l + alpha * W_l + l1 * sign(W_l)) / sw_sum
        gb_l = sum_rows(D_l) / sw_sum
        D_L = (P - Y) * sw,  D_{l-1} = (D_l @ W_l.T) * f'(A_l)

    with ``sw_sum = sum(sw)`` (``n`` rows when ``sw`` is empty); ``l1 = 0`` is
    scikit-learn exactly. ``masks`` (one ``(n, width)`` array of scales per
    hidden layer, :func:`ref_dropout_masks`) is inverted dropout, textbook:
    ``A_l = f(Z_l) * mask_l`` feeds layer ``l + 1`` and its gradient, and
    ``D_{l-1} = (D_l @ W_l.T) * mask * f'(f(Z))``.
    """
    coefs, intercepts = unpack_params(params, layer_sizes)
    if masks is None:
        activations = ref_forward_activations(
            X, params, layer_sizes, hidden_activation, output_activation
        )
        undropped = activations
    else:
        activations, undropped = [X], [X]
        for i in range(len(coefs)):
            last = i == len(coefs) - 1
            code = output_activation if last else hidden_activation
            out = ref_dense_forward(activations[-1], coefs[i], intercepts[i], code)
            undropped.append(out)
            activations.append(out if last else out * masks[i])
    delta, weighted_loss_sum = ref_loss_output_delta(activations[-1], Y, sw, loss)
    sw_sum = float(X.shape[0]) if sw.shape[0] == 0 else float(np.sum(sw))

    squared_norm = sum(float(np.dot(W.ravel(), W.ravel())) for W in coefs)
    total_loss = weighted_loss_sum / sw_sum + 0.5 * alpha * squared_norm / sw_sum
    if l1:
        abs_norm = sum(float(np.abs(W).sum()) for W in coefs)
        total_loss += l1 * abs_norm / sw_sum

    grads = np.empty_like(params)
    coef_grads, intercept_grads = unpack_params(grads, layer_sizes)
    scale = 1.0 / sw_sum
    for i in range(len(coefs) - 1, -1, -1):
        gW, gb = ref_dense_grad(activations[i], delta, coefs[i], alpha, scale)
        if l1:
            gW = gW + (l1 * scale) * np.sign(coefs[i])
        coef_grads[i][...] = gW
        intercept_grads[i][...] = gb
        if i > 0:
            if masks is None:
                delta = ref_hidden_delta(
                    delta, coefs[i], activations[i], hidden_activation
                )
            else:
                delta = (delta @ coefs[i].T) * masks[i - 1]
                delta = delta * ref_activation_derivative(
                    undropped[i], hidden_activation
                )
    return float(total_loss), grads


def ref_train_epoch(
    X,
    Y,
    sw,
    sample_idx,
    params,
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
    weight_decay=0.0,
    dropout=None,
    dropout_seed=0,
):
    """One epoch of scikit-learn's ``_fit_stochastic`` in the order ``sample_idx``.

    ``hyper = [lr, momentum, nesterov, beta1, beta2, epsilon, alpha, l1]``;
    ``opt_m`` is SGD's velocity or Adam's first moment, ``opt_v`` Adam's second
    moment (unused by SGD); ``step`` is Adam's step count before the epoch (int
    or length-1 array). Each minibatch ``sample_idx[gen_batches(n, batch_size)]``
    is gathered, its loss and gradient computed by :func:`ref_loss_grad`, then
    the optimizer steps (Adam's ``t`` is incremented before use). A nonzero
    ``weight_decay`` is decoupled weight decay as PyTorch's AdamW applies it,
    on the coefficients only: ``W *= 1 - lr * weight_decay`` after the
    gradient and before the step (the same for sgd). ``dropout`` (one rate
    per hidden layer) applies :func:`ref_dropout_masks` of ``dropout_seed``
    to each batch's rows (their positions in the epoch).

    Returns ``(epoch_loss, params, opt_m, opt_v, step)`` where
    ``epoch_loss = sum_b batch_loss_b * len_b / n``.
    """
    lr, momentum, nesterov, beta1, beta2, epsilon, alpha, l1 = (
        hyper[i] for i in range(8)
    )
    params = params.copy()
    opt_m = opt_m.copy()
    opt_v = opt_v.copy()
    t = int(np.asarray(step).ravel()[0]) if np.ndim(step) else int(step)
    n_coef = n_coef_params(layer_sizes)
    n_samples = X.shape[0]

    accumulated_loss = 0.0
    for batch in gen_batches(n_samples, batch_size):
        idx = sample_idx[batch]
        sw_batch = sw if sw.shape[0] == 0 else sw[idx]
        masks = None
        if dropout is not None:
            masks = ref_dropout_masks(
                dropout_seed, batch.start, batch.stop - batch.start,
                list(layer_sizes[1:-1]), list(dropout),
            )  # fmt: skip
        batch_loss, grads = ref_loss_grad(
            X[idx],
            Y[idx],
            sw_batch,
            params,
            layer_sizes,
            hidden_activation,
            output_activation,
            loss,
            alpha,
            l1,
            masks,
        )
        accumulated_loss += batch_loss * (batch.stop - batch.start)
        if weight_decay:
            params[:n_coef] *= params.dtype.type(1.0 - float(lr) * weight_decay)
        if solver == SGD:
            params, opt_m, _ = ref_sgd_update(
                params, grads, opt_m, lr, momentum, bool(nesterov), n_coef
            )
        elif solver == ADAM:
            t += 1
            params, opt_m, opt_v, _ = ref_adam_update(
                params, grads, opt_m, opt_v, t, lr, beta1, beta2, epsilon, n_coef
            )
        else:
            raise ValueError(f"unknown solver code {solver}")
    return accumulated_loss / n_samples, params, opt_m, opt_v, t
