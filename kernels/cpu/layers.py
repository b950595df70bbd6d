"""One dense layer: activation, forward, delta and gradients (dense or CSR input).

Bias + activation, the activation derivative and the L2 term are fused into
the epilogue of the block that produced the values.
"""

import math

import numpy as np
from numba.extending import overload

from .._cache import njit
from ._common import (
    ELU,
    ELU_ALPHA,
    FASTMATH,
    IDENTITY,
    JIT_OPTIONS,
    LEAKY_RELU,
    LEAKY_RELU_SLOPE,
    LOGISTIC,
    RELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    TANH,
)
from .elementwise import _transcendental_rows, transcendental_rows_impl
from .gemm import (
    _OWN_NN,
    BLAS_MIN_WORK_NN,
    BLAS_MIN_WORK_NT,
    BLAS_MIN_WORK_TN,
    COL_BLOCK,
    _gemm_nn_block,
    _gemm_nt_row,
    _gemm_tn_block,
    blas_nn,
    blas_nt,
    blas_tn,
)

# --------------------------------------------------------------------------
# activations, one implementation per code
# --------------------------------------------------------------------------
# The helpers below are resolved when their caller is compiled. Called with an
# integer *literal* code (the specialised entry points of ``epoch`` and
# ``predict`` pass constants), each compiles the one activation it is given,
# nothing else; called with a run-time code, every branch.


def _code(activation):
    """The literal code of a numba integer type, or None for a run-time one."""
    return getattr(activation, "literal_value", None)


def _relu_rows(Z, i0, i1):
    n = Z.shape[1]
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(n):
            # 'z < 0' keeps NaN as NaN (a divergence must stay visible).
            if zi[j] < 0.0:
                zi[j] = 0.0


_relu_rows_jit = njit(inline="always", **JIT_OPTIONS)(_relu_rows)


# The activations beyond scikit-learn's, compiled only into their own pieces
# (a literal code): the run-time switches below, and so the narrow epoch and
# the contract kernels, never see them. Their derivatives are written with
# the output, as the other hidden activations' are.
def _leaky_relu_rows(Z, i0, i1, activation):
    slope = Z.dtype.type(LEAKY_RELU_SLOPE)
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(Z.shape[1]):
            if zi[j] < 0.0:  # NaN stays NaN
                zi[j] *= slope


def _elu_rows(Z, i0, i1, activation):
    alpha = Z.dtype.type(ELU_ALPHA)
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(Z.shape[1]):
            if zi[j] < 0.0:
                zi[j] = alpha * math.expm1(zi[j])


def _selu_rows(Z, i0, i1, activation):
    alpha = Z.dtype.type(SELU_ALPHA)
    scale = Z.dtype.type(SELU_SCALE)
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(Z.shape[1]):
            z = zi[j]
            zi[j] = scale * (alpha * math.expm1(z) if z < 0.0 else z)


_PIECE_ONLY_ROWS = {LEAKY_RELU: _leaky_relu_rows, ELU: _elu_rows, SELU: _selu_rows}


def _activate_rows(Z, i0, i1, activation):
    """Apply ``activation`` in place to rows ``i0:i1`` of ``Z``."""
    raise NotImplementedError("only inside numba-compiled code")


@overload(_activate_rows, jit_options=JIT_OPTIONS, prefer_literal=True)
def _ov_activate_rows(Z, i0, i1, activation):
    code = _code(activation)
    if code == IDENTITY:
        return lambda Z, i0, i1, activation: None
    if code == RELU:
        return lambda Z, i0, i1, activation: _relu_rows_jit(Z, i0, i1)
    if code in _PIECE_ONLY_ROWS:
        return _PIECE_ONLY_ROWS[code]
    if code is not None:
        return transcendental_rows_impl(Z, activation)

    def any_activation(Z, i0, i1, activation):
        if activation == RELU:
            _relu_rows_jit(Z, i0, i1)
        elif activation != IDENTITY:
            _transcendental_rows(Z, i0, i1, activation)

    return any_activation


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def apply_activation(Z, activation):
    """``Z[m, n] = f(Z)`` in place for an activation code (softmax by row)."""
    _activate_rows(Z, np.int64(0), Z.shape[0], activation)


def _derivative_rows(A, D, i0, i1, activation):
    """``D[i] *= f'(.)`` written with the activation output ``A`` (rows i0:i1)."""
    raise NotImplementedError("only inside numba-compiled code")


def _logistic_derivative(A, D, i0, i1, activation):
    n = A.shape[1]
    one = A.dtype.type(1)
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(n):
            di[j] *= ai[j] * (one - ai[j])


def _tanh_derivative(A, D, i0, i1, activation):
    n = A.shape[1]
    one = A.dtype.type(1)
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(n):
            di[j] *= one - ai[j] * ai[j]


def _relu_derivative(A, D, i0, i1, activation):
    n = A.shape[1]
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(n):
            if ai[j] == 0.0:
                di[j] = 0.0


def _leaky_relu_derivative(A, D, i0, i1, activation):
    slope = A.dtype.type(LEAKY_RELU_SLOPE)
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(A.shape[1]):
            if not ai[j] > 0.0:
                di[j] *= slope


def _elu_derivative(A, D, i0, i1, activation):
    # f'(z) = alpha e^z = a + alpha for z <= 0
    alpha = A.dtype.type(ELU_ALPHA)
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(A.shape[1]):
            if not ai[j] > 0.0:
                di[j] *= ai[j] + alpha


def _selu_derivative(A, D, i0, i1, activation):
    # f'(z) = scale alpha e^z = a + scale alpha for z <= 0, scale above
    scale = A.dtype.type(SELU_SCALE)
    scale_alpha = A.dtype.type(SELU_SCALE * SELU_ALPHA)
    for i in range(i0, i1):
        ai = A[i]
        di = D[i]
        for j in range(A.shape[1]):
            di[j] *= scale if ai[j] > 0.0 else ai[j] + scale_alpha


_DERIVATIVES = {
    LOGISTIC: _logistic_derivative,
    TANH: _tanh_derivative,
    RELU: _relu_derivative,
    LEAKY_RELU: _leaky_relu_derivative,
    ELU: _elu_derivative,
    SELU: _selu_derivative,
}
_DERIVATIVES_JIT = {
    k: njit(inline="always", **JIT_OPTIONS)(_DERIVATIVES[k])
    for k in (LOGISTIC, TANH, RELU)
}


@overload(_derivative_rows, jit_options=JIT_OPTIONS, prefer_literal=True)
def _ov_derivative_rows(A, D, i0, i1, activation):
    code = _code(activation)
    if code is not None:
        return _DERIVATIVES.get(code, lambda A, D, i0, i1, activation: None)
    logistic = _DERIVATIVES_JIT[LOGISTIC]
    tanh = _DERIVATIVES_JIT[TANH]
    relu = _DERIVATIVES_JIT[RELU]

    def any_derivative(A, D, i0, i1, activation):
        if activation == LOGISTIC:
            logistic(A, D, i0, i1, activation)
        elif activation == TANH:
            tanh(A, D, i0, i1, activation)
        elif activation == RELU:
            relu(A, D, i0, i1, activation)

    return any_derivative


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------
def _bias_activate_rows(Z, b, i0, i1, activation):
    """``Z[i0:i1] = f(Z[i0:i1] + b)`` (the epilogue after a BLAS product)."""
    raise NotImplementedError("only inside numba-compiled code")


@njit(inline="always", **JIT_OPTIONS)
def _add_bias_rows(Z, b, i0, i1):
    n = Z.shape[1]
    for i in range(i0, i1):
        zi = Z[i]
        for j in range(n):
            zi[j] += b[j]


@overload(_bias_activate_rows, jit_options=JIT_OPTIONS, prefer_literal=True)
def _ov_bias_activate_rows(Z, b, i0, i1, activation):
    code = _code(activation)
    if code == IDENTITY:
        return lambda Z, b, i0, i1, activation: _add_bias_rows(Z, b, i0, i1)
    if code == RELU:

        def bias_relu(Z, b, i0, i1, activation):
            n = Z.shape[1]
            zero = Z.dtype.type(0)
            for i in range(i0, i1):
                zi = Z[i]
                for j in range(n):
                    z = zi[j] + b[j]
                    # 'z < 0' keeps NaN as NaN (a divergence must stay visible).
                    zi[j] = zero if z < zero else z

        return bias_relu

    def bias_then_activation(Z, b, i0, i1, activation):
        _add_bias_rows(Z, b, i0, i1)
        _activate_rows(Z, i0, i1, activation)

    return bias_then_activation


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dense_forward(A, W, b, activation, out):
    """``out[m, n] = f(A[m, k] @ W[k, n] + b[n])``, bias and f fused per block."""
    m = A.shape[0]
    n = W.shape[1]
    if _OWN_NN:  # a compile-time constant: the own loops compile only if used
        if m * A.shape[1] * n < BLAS_MIN_WORK_NN:
            for i0 in range(0, m, 4):
                i1 = min(i0 + 4, m)
                for j0 in range(0, n, COL_BLOCK):
                    j1 = min(j0 + COL_BLOCK, n)
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            out[i, j] = b[j]
                    _gemm_nn_block(A, W, out, i0, i1, j0, j1)
                _activate_rows(out, i0, i1, activation)
            return
    blas_nn(A, W, out)
    for i0 in range(0, m, 8):
        _bias_activate_rows(out, b, i0, min(i0 + 8, m), activation)


@njit(inline="always", **JIT_OPTIONS)
def _delta_blas(D_next, W, A, activation, out):
    """:func:`hidden_delta` with BLAS's product, then f' in 8-row blocks."""
    m = D_next.shape[0]
    blas_nt(D_next, W, out)
    for i0 in range(0, m, 8):
        _derivative_rows(A, out, i0, i0 + 8 if i0 + 8 < m else m, activation)


@njit(inline="always", **JIT_OPTIONS)
def _delta_own(D_next, W, A, activation, out):
    """:func:`hidden_delta` with the own product, fused by row."""
    for i in range(D_next.shape[0]):
        _gemm_nt_row(D_next, W, out, i)
        _derivative_rows(A, out, i, i + 1, activation)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def hidden_delta(D_next, W, A, activation, out):
    """``out[m, k] = (D_next[m, n] @ W[k, n].T) * f'(A[m, k])``, fused by row."""
    if D_next.shape[0] * W.shape[0] * W.shape[1] >= BLAS_MIN_WORK_NT:
        _delta_blas(D_next, W, A, activation, out)
    else:
        _delta_own(D_next, W, A, activation, out)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _grad_epilogue(gW, W, a, sc, i0, i1):
    """``gW[i0:i1] = (gW[i0:i1] + a * W[i0:i1]) * sc``."""
    n = gW.shape[1]
    for i in range(i0, i1):
        gi = gW[i]
        wi = W[i]
        for j in range(n):
            gi[j] = (gi[j] + a * wi[j]) * sc


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _bias_grad(D, sc, gb):
    """``gb[n] = sc * sum_m D[m, n]`` (the intercept gradient)."""
    n = D.shape[1]
    for j in range(n):
        gb[j] = 0.0
    for r in range(D.shape[0]):
        dr = D[r]
        for j in range(n):
            gb[j] += dr[j]
    for j in range(n):
        gb[j] *= sc


@njit(inline="always", **JIT_OPTIONS)
def _grad_blas(A, D, W, a, sc, gW):
    """``gW = (A.T @ D + a W) * sc`` with BLAS's product."""
    blas_tn(A, D, gW)
    _grad_epilogue(gW, W, a, sc, np.int64(0), A.shape[1])


@njit(inline="always", **JIT_OPTIONS)
def _grad_own(A, D, W, a, sc, gW):
    """``gW = (A.T @ D + a W) * sc`` with the own product, 4 rows of gW a block."""
    k = A.shape[1]
    for i0 in range(0, k, 4):
        i1 = i0 + 4 if i0 + 4 < k else k
        _gemm_tn_block(A, D, gW, i0, i1)
        _grad_epilogue(gW, W, a, sc, i0, i1)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def dense_grad(A, D, W, alpha, scale, gW, gb):
    """``gW = (A[m, k].T @ D[m, n] + alpha W) * scale``; ``gb = scale * sum_m D``."""
    a = W.dtype.type(alpha)
    sc = W.dtype.type(scale)
    if A.shape[0] * A.shape[1] * D.shape[1] >= BLAS_MIN_WORK_TN:
        _grad_blas(A, D, W, a, sc, gW)
    else:
        _grad_own(A, D, W, a, sc, gW)
    _bias_grad(D, sc, gb)


# --------------------------------------------------------------------------
# sparse first layer (CSR input, never densified)
# --------------------------------------------------------------------------
@njit(inline="always", **JIT_OPTIONS)
def sparse_product(indptr, indices, data, rows, W, out):
    """``out[m, n] = X[rows] @ W[k, n]`` for CSR ``X`` (indptr, indices, data).

    Row ``i`` of ``out`` is ``sum_p data[p] * W[indices[p]]`` over the stored
    entries ``p`` of CSR row ``rows[i]`` (the bias and activation follow, as
    after a dense product).
    """
    n = W.shape[1]
    for i in range(rows.shape[0]):
        oi = out[i]
        for j in range(n):
            oi[j] = 0.0
        r = rows[i]
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            wk = W[indices[p]]
            for j in range(n):
                oi[j] += v * wk[j]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def sparse_dense_forward(indptr, indices, data, rows, W, b, activation, out):
    """``out[m, n] = f(X[rows] @ W[k, n] + b)`` for CSR ``X`` (indptr, indices, data).

    Row ``i`` of ``out`` is ``f(sum_p data[p] * W[indices[p]] + b)`` over the
    stored entries ``p`` of CSR row ``rows[i]``.
    """
    m = rows.shape[0]
    sparse_product(indptr, indices, data, rows, W, out)
    _add_bias_rows(out, b, np.int64(0), m)
    _activate_rows(out, np.int64(0), m, activation)


@njit(inline="always", **JIT_OPTIONS)
def sparse_product_tn(indptr, indices, data, rows, D, out):
    """``out[k, n] = X[rows].T @ D[m, n]`` for CSR ``X`` (indptr, indices, data).

    Only the rows of ``out`` that the batch's stored entries touch get terms;
    every row is zeroed first.
    """
    n = out.shape[1]
    for i in range(out.shape[0]):
        oi = out[i]
        for j in range(n):
            oi[j] = 0.0
    for i in range(rows.shape[0]):
        di = D[i]
        r = rows[i]
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            ok = out[indices[p]]
            for j in range(n):
                ok[j] += v * di[j]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def sparse_dense_grad(indptr, indices, data, rows, D, W, alpha, scale, gW, gb):
    """``gW = (X[rows].T @ D[m, n] + alpha W) * scale``; ``gb = scale sum_m D``.

    ``X`` is CSR; only the rows of W that the batch touches get data terms,
    every row gets the L2 term (as the dense kernel).
    """
    a = W.dtype.type(alpha)
    sc = W.dtype.type(scale)
    sparse_product_tn(indptr, indices, data, rows, D, gW)
    _grad_epilogue(gW, W, a, sc, np.int64(0), W.shape[0])
    _bias_grad(D, sc, gb)
