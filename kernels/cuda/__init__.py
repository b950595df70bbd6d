"""numba-cuda backend of the fastmlp kernel contract.

Every name of :data:`fastmlp.kernels.KERNEL_NAMES` is defined here with the
semantics documented in :mod:`fastmlp.kernels`, on device arrays: data and
outputs (``X``, ``Y``, ``sw``, ``sample_idx``, ``params``, ``grads``, optimizer
moments, work buffers) are CUDA device arrays (``to_device``), while control
values stay on the host: ``layer_sizes`` (int64), ``hyper`` and Adam's
``step`` counter (int64, length 1, incremented on the host, which computes
the bias-corrected rate). Kernels returning a float read one device scalar.

Import this module only when the CUDA backend is asked for: the kernels are
lazy ``@cuda.jit`` (no eager signatures, which fail on a machine without a
driver), built per dtype and per :mod:`fastmlp.kernels.config` setting by
small factories, so tile sizes are compile-time constants and float32 math
stays float32 (numba promotes ``float32 op 1.0`` to float64).

Modules (this package re-exports the contract; import it, not them):

* :mod:`._common`: ``numba.cuda`` (imported once, after the cache folder is
  made writable and numpy given back ``row_stack``), code constants,
  ``to_device``/``to_host``, ``fused_mlp_supported``, ``self_test`` (a probe
  kernel), the launch-limit checks and launch helpers;
* :mod:`.device`: device functions (activations and derivatives, softmax
  row, loss and delta, penalty, block reductions, the Feistel hash);
* :mod:`.gemm`: the tiled GEMM kernel factory and its launch;
* :mod:`.kernels1d`: the 1-D kernels (``_kernels``, ``_ns``);
* :mod:`.fused`: the fully fused MLP kernel;
* :mod:`.layers`: contract GEMMs, activations and layers;
* :mod:`.optimizers`: contract SGD and Adam updates and their launches;
* :mod:`.network`: host layout of a network and per-run device scalars;
* :mod:`.train`: ``loss_grad``, ``train_epoch``, tiled backprop, shuffle
  (and the two training paths, fused and tiled);
* :mod:`.predict`: ``forward``.
"""

from ._common import fused_mlp_supported, self_test, to_device, to_host
from .gemm import _gemm_config as _gemm_config
from .gemm import _gemm_kernel as _gemm_kernel
from .kernels1d import _kernel_config as _kernel_config
from .kernels1d import _kernels as _kernels
from .kernels1d import _ns as _ns
from .layers import (
    apply_activation,
    dense_forward,
    dense_grad,
    gemm_nn,
    gemm_nt,
    gemm_tn,
    hidden_delta,
    loss_output_delta,
)
from .optimizers import adam_update, sgd_update
from .predict import forward
from .train import _shuffle as _shuffle
from .train import loss_grad, train_epoch

# The contract; the private names imported ``as`` themselves above are
# re-exported for the tests and benchmarks.
__all__ = [
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
    "fused_mlp_supported",
    "self_test",
]
