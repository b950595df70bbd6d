"""Contract: matrix products, activations, layers."""

import numpy as np

from ._common import (
    EPI_BIAS_ACT,
    EPI_DERIV,
    EPI_GRAD,
    EPI_STORE,
    IDENTITY,
    NN,
    NT,
    SOFTMAX,
    TN,
    _blocks,
    _empty,
    _tpb,
    cuda,
    quiet_launches,
)
from .gemm import _launch_gemm
from .kernels1d import _ns


@quiet_launches
def gemm_nn(A, B, C):
    """``C[m, n] = A[m, k] @ B[k, n]``; device arrays, one float dtype (tiled)."""
    _launch_gemm(NN, EPI_STORE, A, B, C)


@quiet_launches
def gemm_nt(A, B, C):
    """``C[m, n] = A[m, k] @ B[n, k].T``; device arrays, one float dtype (tiled)."""
    _launch_gemm(NT, EPI_STORE, A, B, C)


@quiet_launches
def gemm_tn(A, B, C):
    """``C[m, n] = A[k, m].T @ B[k, n]``; device arrays, one float dtype (tiled)."""
    _launch_gemm(TN, EPI_STORE, A, B, C)


@quiet_launches
def apply_activation(Z, activation):
    """``Z[m, n] = f(Z)`` in place on the device (softmax by row, max subtracted)."""
    ns = _ns(Z.dtype)
    tpb = _tpb()
    if activation == SOFTMAX:
        ns.softmax[_blocks(Z.shape[0], tpb), tpb](Z)
    elif activation != IDENTITY:
        ns.activation[_blocks(Z.size, tpb), tpb](Z, activation)


@quiet_launches
def dense_forward(A, W, b, activation, out):
    """``out[m, n] = f(A[m, k] @ W[k, n] + b[n])``: bias and f in the GEMM
    epilogue (softmax, a row operation, in a second launch)."""
    act = IDENTITY if activation == SOFTMAX else activation
    _launch_gemm(NN, EPI_BIAS_ACT, A, W, out, bias=b, act=act)
    if activation == SOFTMAX:
        apply_activation(out, SOFTMAX)


@quiet_launches
def hidden_delta(D_next, W, A, activation, out):
    """``out[m, k] = (D_next[m, n] @ W[k, n].T) * f'(A[m, k])`` (nt GEMM,
    derivative fused in its epilogue)."""
    _launch_gemm(NT, EPI_DERIV, D_next, W, out, act=activation, Aact=A)


@quiet_launches
def dense_grad(A, D, W, alpha, scale, gW, gb):
    """``gW[k, n] = (A[m, k].T @ D[m, n] + alpha W) * scale`` and
    ``gb[n] = scale * sum_m D[m, n]``: one tn GEMM launch, the L2 term, the
    scale and the bias column sums fused."""
    scale_arr = cuda.to_device(np.array([scale], dtype=np.float64))
    _launch_gemm(TN, EPI_GRAD, A, D, gW, W=W, alpha=alpha, scale=scale_arr, gb=gb)


@quiet_launches
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
