"""Whole network: host-side layout and the device scalars of a run of
minibatches."""

import numpy as np

from .. import param_layout
from ._common import _blocks, _tpb, cuda, fused_mlp_supported


class _Net:
    """Host-side layout of a network and its device metadata."""

    def __init__(self, layer_sizes):
        self.sizes = [int(s) for s in layer_sizes]
        self.n_layers = len(self.sizes) - 1
        coef_off, icpt_off, _ = param_layout(self.sizes)
        self.coef_off = [int(c) for c in coef_off]
        self.icpt_off = [int(c) for c in icpt_off]
        self.n_coef = self.icpt_off[0]
        self.slot_off = [int(s) for s in np.concatenate([[0], np.cumsum(self.sizes)])]
        self.fused = fused_mlp_supported(self.sizes)
        meta = self.sizes + self.coef_off + self.icpt_off + self.slot_off[:-1]
        self.meta = cuda.to_device(np.array(meta, dtype=np.int64))

    def views(self, params, grads, act_buf, delta_buf, cap, m):
        """Per-layer device views ``(W, b, gW, gb, A_out, D_out)`` for ``m`` rows."""
        out = []
        for layer in range(self.n_layers):
            fi, fo = self.sizes[layer], self.sizes[layer + 1]
            c, b = self.coef_off[layer], self.icpt_off[layer]
            s = cap * self.slot_off[layer + 1]
            out.append(
                (
                    params[c : c + fi * fo].reshape(fi, fo),
                    params[b : b + fo],
                    grads[c : c + fi * fo].reshape(fi, fo),
                    grads[b : b + fo],
                    act_buf[s : s + m * fo].reshape(m, fo),
                    delta_buf[s : s + m * fo].reshape(m, fo),
                )
            )
        return out


class _Batch:
    """Device scalars of a run of minibatches: gradient scales ``1 / sum(sw_b)``
    (``scale[b]``), L2 and L1 sums of the coefficients before batch ``b``
    (``sq[b]``, ``ab[b]``; batch ``b``'s optimizer pass fills slot ``b + 1``)
    and the float64 loss accumulator."""

    def __init__(self, ns, params, n_coef, sw, idx, n, batch_size):
        tpb = _tpb()
        self.n_batches = (n + batch_size - 1) // batch_size
        self.scale = cuda.device_array(self.n_batches, dtype=np.float64)
        ns.batch_scale[self.n_batches, tpb](sw, idx, n, batch_size, self.scale)
        zeros = np.zeros(2 * (self.n_batches + 1) + 1)
        acc = cuda.to_device(zeros)
        self.sq = acc[: self.n_batches + 1]
        self.ab = acc[self.n_batches + 1 : 2 * (self.n_batches + 1)]
        self.loss = acc[2 * (self.n_batches + 1) :]
        ns.norms[_blocks(n_coef, tpb), tpb](params, n_coef, self.sq, self.ab, 0)

    def read_loss(self):
        return float(self.loss.copy_to_host()[0])
