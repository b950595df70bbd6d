"""Whole network: prediction (fully fused, or tiled layers in row chunks)."""

import numpy as np

from .. import config
from ._common import (
    _blocks,
    _dtype_of,
    _empty,
    check_fused_config,
    cuda,
    quiet_launches,
)
from .kernels1d import _ns
from .layers import dense_forward
from .network import _Net


@quiet_launches
def forward(X, params, layer_sizes, hidden_activation, output_activation, out):
    """Prediction ``out[n, n_L] = net(X[n, n_0])`` on device arrays: one fully
    fused launch for narrow nets, else tiled layers in row chunks of
    ``config.PREDICT_CHUNK``."""
    net = _Net(layer_sizes)
    dtype = _dtype_of(params)
    ns = _ns(dtype)
    n = X.shape[0]
    if n == 0:
        return
    if net.fused:
        check_fused_config(dtype)
        rows = config.FUSED_ROWS
        f1 = _empty(np.float64, 1)
        ns.fused_forward[_blocks(n, rows), config.FUSED_THREADS](
            X,
            _empty(dtype, 2),
            _empty(dtype, 1),
            _empty(np.int64, 1),
            0,
            False,
            n,
            params,
            _empty(dtype, 1),
            net.meta,
            net.n_layers,
            hidden_activation,
            output_activation,
            0,
            0.0,
            _empty(dtype, 1),
            0,
            f1,
            0,
            f1,
            0.0,
            0.0,
            f1,
            f1,
            0,
            out,
        )
        return
    chunk = min(int(config.PREDICT_CHUNK), n)
    widest = max(net.sizes[1:-1], default=1)
    bufs = [cuda.device_array(chunk * widest, dtype=dtype) for _ in range(2)]
    L = net.n_layers
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        A = X[start : start + m]
        for layer in range(L):
            fi, fo = net.sizes[layer], net.sizes[layer + 1]
            c, b = net.coef_off[layer], net.icpt_off[layer]
            W = params[c : c + fi * fo].reshape(fi, fo)
            bias = params[b : b + fo]
            if layer == L - 1:
                dense_forward(A, W, bias, output_activation, out[start : start + m])
            else:
                Z = bufs[layer % 2][: m * fo].reshape(m, fo)
                dense_forward(A, W, bias, hidden_activation, Z)
                A = Z
