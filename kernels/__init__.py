"""Compute kernels of fastmlp (installed as ``fastmlp.kernels``).

This package imports numpy and numba only; it never imports ``fastmlp``.
Every backend module (``fastmlp.kernels.cpu``, ``fastmlp.kernels.cuda``)
implements the same contract, listed in :data:`KERNEL_NAMES`, so the
engine calls ``backend.<name>`` without knowing the device.

Conventions of the contract
---------------------------
* Arrays are C-contiguous and of one floating dtype per call, float32 or
  float64 (index arrays are int64). Outputs are written in place into
  preallocated arrays; kernels allocate nothing on the hot path.
* Activations are integer codes (:data:`ACTIVATION_CODES`), losses too
  (:data:`LOSS_CODES`).
* A network with ``layer_sizes = [n_0, n_1, ..., n_L]`` keeps all its
  parameters in ONE flat vector in scikit-learn's ``_pack`` order: every
  coefficient matrix ``W_l`` of shape ``(n_l, n_{l+1})`` row-major, then every
  intercept ``b_l`` of shape ``(n_{l+1},)``. :func:`param_layout` gives the
  offsets. ``coefs_``/``intercepts_`` are views into that vector, the
  optimizers update it in one pass, and L-BFGS can use it as is.
* Per-layer work buffers for a batch of ``B`` rows live in one flat vector of
  ``B * sum(layer_sizes)`` entries; layer ``l`` starts at
  ``B * sum(layer_sizes[:l])`` (see :func:`workspace_size`).

Kernels (shapes for a batch of ``m`` rows)
------------------------------------------
to_device(host_array) -> array
    The array as the backend's kernels take it: the identity on the CPU, a
    copy in GPU memory for CUDA (device arrays pass through).
to_host(device_array) -> ndarray
    The inverse: the identity on the CPU, a new host copy for CUDA.
gemm_nn(A, B, C)
    ``C[m, n] = A[m, k] @ B[k, n]``.
gemm_nt(A, B, C)
    ``C[m, n] = A[m, k] @ B[n, k].T``.
gemm_tn(A, B, C)
    ``C[m, n] = A[k, m].T @ B[k, n]``.
apply_activation(Z, activation)
    ``Z[m, n] = f(Z)`` in place, ``f`` in identity, logistic, tanh, relu,
    softmax (row-max stabilised), exp. (leaky_relu ``z > 0 ? z : 0.01 z``,
    elu ``z > 0 ? z : expm1(z)`` and selu ``scale * (z > 0 ? z : alpha
    expm1(z))`` exist as the skeletons' pieces only: ``PIECE_ONLY_ACTIVATIONS``.)
dense_forward(A, W, b, activation, out)
    ``out[m, n] = f(A[m, k] @ W[k, n] + b[n])`` with bias and activation
    fused into the matmul epilogue.
loss_output_delta(P, Y, sw, loss, delta) -> float
    ``delta = (P - Y) * sw[:, None]`` (the canonical-link output delta) and
    the returned sum over rows of ``sw_i * loss_i`` (``sw`` of length 0 means
    unit weights). ``loss_i``: squared ``0.5 * mean_j (y - p)^2``; log
    ``-sum_j y log p``; binary log ``-sum_j y log p + (1 - y) log(1 - p)``
    (``p`` clipped to ``[eps, 1 - eps]`` as scikit-learn does); poisson
    ``sum_j xlogy(y, y / p) - y + p`` (scikit-learn's half deviance);
    tanh squared (the TensorFlow Playground's, ``P`` a tanh output): the
    squared loss with ``delta = (P - Y) * (1 - P^2) * sw[:, None]`` (the
    output is not the loss's canonical link, so its derivative stays).
hidden_delta(D_next, W, A, activation, out)
    ``out[m, k] = (D_next[m, n] @ W[k, n].T) * f'(A[m, k])`` with ``f'``
    written in terms of the activation output ``A``.
dense_grad(A, D, W, alpha, scale, gW, gb)
    ``gW[k, n] = (A[m, k].T @ D[m, n] + alpha * W) * scale`` and
    ``gb[n] = scale * sum_m D[m, n]``.
sgd_update(params, grads, velocity, lr, momentum, nesterov, n_coef) -> float
    ``v = momentum * v - lr * g``; ``params += v`` or, with Nesterov,
    ``params += momentum * v - lr * g``. Returns ``sum(params[:n_coef]**2)``
    after the update (the next L2 penalty), fused into the same pass.
adam_update(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef) -> float
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``params -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`` for
    step number ``t`` (>= 1). Returns ``sum(params[:n_coef]**2)``.
forward(X, params, layer_sizes, hidden_activation, output_activation, out)
    Prediction pass: ``out[n, n_L]`` = the network's output for ``X[n, n_0]``,
    processed in row chunks so activations stay in cache.
loss_grad(X, Y, sw, params, layer_sizes, hidden_activation,
          output_activation, loss, alpha, grads, act_buf, delta_buf,
          l1=0.0) -> float
    Loss (with ``0.5 * alpha * ||W||^2 / sum(sw)``) and its gradient with
    respect to ``params`` (flat, written into ``grads``) on the whole of ``X``
    as one batch, exactly as scikit-learn's ``_backprop``. A trailing
    ``l1 > 0`` adds the L1 penalty ``l1 * sum|W| / sum(sw)`` to the loss and
    ``l1 * sign(W) / sum(sw)`` (``sign(0) = 0``) to the coefficient gradients
    (intercepts are never penalised); ``l1 == 0`` is scikit-learn's loss.
train_epoch(X, Y, sw, sample_idx, seed, params, grads, layer_sizes,
            hidden_activation, output_activation, loss, batch_size, solver,
            hyper, opt_m, opt_v, step, act_buf, delta_buf) -> float
    One whole epoch in one call: shuffle ``sample_idx`` in place (when
    ``seed >= 0``), then for every minibatch gather rows, forward, loss,
    backward and the optimizer step. ``hyper = [lr, momentum, nesterov,
    beta1, beta2, epsilon, alpha, l1]`` (params dtype; ``l1`` is the L1
    strength of ``loss_grad``: always 8 entries, ``l1 = 0`` for scikit-learn's loss);
    ``solver`` is
    :data:`SOLVER_CODES`; ``step`` (int64, length 1) is Adam's step counter.
    Returns scikit-learn's epoch loss ``sum_b(batch_loss_b * m_b) / n``.
    The CPU backend takes fastmlp's own options by keyword (default: none):
    ``weight_decay`` (decoupled, AdamW/SGDW: ``W *= 1 - lr * weight_decay``
    on the coefficients before each step), ``dropout`` (one rate per hidden
    layer) with ``dropout_seed`` (inverted dropout, counter-based masks:
    ``kernels/cpu/dropout.py``); the engine passes them only when set and
    trains such fits on the CPU.

Sparse input (optional: :data:`SPARSE_KERNEL_NAMES`)
----------------------------------------------------
A CSR matrix enters as ``(indptr, indices, data)`` and is never densified:
the first layer reads the stored entries of the batch's rows.

sparse_dense_forward(indptr, indices, data, rows, W, b, activation, out)
    ``out[m, n] = f(X[rows] @ W[k, n] + b)``.
sparse_dense_grad(indptr, indices, data, rows, D, W, alpha, scale, gW, gb)
    ``gW = (X[rows].T @ D[m, n] + alpha W) * scale``; ``gb = scale sum_m D``.
forward_sparse / loss_grad_sparse / train_epoch_sparse
    ``forward`` / ``loss_grad`` / ``train_epoch`` with ``X`` replaced by
    ``indptr, indices, data`` (the row count comes from ``out`` or ``Y``).
A backend without them trains sparse input on the CPU.
"""

import numpy as np

#: Hidden/output activation codes shared by every backend.
ACTIVATION_CODES = {
    "identity": 0,
    "logistic": 1,
    "tanh": 2,
    "relu": 3,
    "softmax": 4,
    "exp": 5,
    "leaky_relu": 6,
    "elu": 7,
    "selu": 8,
}

#: Constants of the activations beyond scikit-learn's: leaky_relu's slope
#: (PyTorch's default), elu's alpha, and selu's alpha and scale
#: (Klambauer et al. 2017, as PyTorch and Keras use them).
LEAKY_RELU_SLOPE = 0.01
ELU_ALPHA = 1.0
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
#: The activations that exist as pieces only (the skeletons' path: training,
#: L-BFGS, prediction on the CPU); the per-kernel contract functions above and
#: the narrow epoch's run-time switch take scikit-learn's four and the outputs.
PIECE_ONLY_ACTIVATIONS = ("leaky_relu", "elu", "selu")

#: Loss codes shared by every backend. ``tanh_squared_error`` is the
#: TensorFlow Playground's classifier (squared error of a tanh output on labels
#: +-1): its delta carries the output's derivative (CPU kernels only).
LOSS_CODES = {
    "squared_error": 0,
    "log_loss": 1,
    "binary_log_loss": 2,
    "poisson": 3,
    "tanh_squared_error": 4,
}

#: Stochastic solver codes for ``train_epoch``.
SOLVER_CODES = {"sgd": 0, "adam": 1}

# The same codes by name, for the kernels and the oracle (one table: the
# dictionaries above; every module imports these names from here).
IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX, EXP = (
    ACTIVATION_CODES[k]
    for k in ("identity", "logistic", "tanh", "relu", "softmax", "exp")
)
LEAKY_RELU, ELU, SELU = (ACTIVATION_CODES[k] for k in PIECE_ONLY_ACTIVATIONS)
SQUARED_ERROR, LOG_LOSS, BINARY_LOG_LOSS, POISSON, TANH_SQUARED_ERROR = (
    LOSS_CODES[k]
    for k in (
        "squared_error",
        "log_loss",
        "binary_log_loss",
        "poisson",
        "tanh_squared_error",
    )
)
SGD, ADAM = SOLVER_CODES["sgd"], SOLVER_CODES["adam"]

#: The kernel contract: every backend module defines each of these names.
KERNEL_NAMES = (
    "to_device",
    "to_host",
    "gemm_nn",
    "gemm_nt",
    "gemm_tn",
    "apply_activation",
    "dense_forward",
    "loss_output_delta",
    "hidden_delta",
    "dense_grad",
    "sgd_update",
    "adam_update",
    "forward",
    "loss_grad",
    "train_epoch",
)

#: Optional kernels for CSR input (the CPU backend has them).
SPARSE_KERNEL_NAMES = (
    "sparse_dense_forward",
    "sparse_dense_grad",
    "forward_sparse",
    "loss_grad_sparse",
    "train_epoch_sparse",
)


def param_layout(layer_sizes):
    """Offsets of each layer's parameters in the flat parameter vector.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1
        Units per layer, input first.

    Returns
    -------
    coef_offsets : ndarray of int64, shape (L,)
    intercept_offsets : ndarray of int64, shape (L,)
    n_params : int
        Length of the flat vector; the coefficients occupy ``[0, n_coef)``
        with ``n_coef = intercept_offsets[0]``.
    """
    sizes = np.asarray(layer_sizes, dtype=np.int64)
    n_layers = sizes.shape[0] - 1
    coef_offsets = np.zeros(n_layers, dtype=np.int64)
    intercept_offsets = np.zeros(n_layers, dtype=np.int64)
    pos = 0
    for i in range(n_layers):
        coef_offsets[i] = pos
        pos += int(sizes[i] * sizes[i + 1])
    for i in range(n_layers):
        intercept_offsets[i] = pos
        pos += int(sizes[i + 1])
    return coef_offsets, intercept_offsets, pos


def workspace_size(layer_sizes, batch_size):
    """Length of one flat activation (or delta) buffer for ``batch_size`` rows."""
    return int(batch_size) * int(np.sum(np.asarray(layer_sizes, dtype=np.int64)))
