"""The implementations the harness times, behind one estimator interface.

Each implementation is an :class:`Impl`: a name and a factory that turns the
workload's scikit-learn keyword arguments into an object with ``fit(X, y)``
and, unless ``predicts`` is false, ``predict(X)`` and ``predict_proba(X)``.

* ``fastmlp``: ``fastmlp.FastMLPClassifier(device="cpu", **params)``.
* ``fastmlp-cuda``: ``fastmlp.FastMLPClassifier(device="cuda", **params)``,
  only where a real CUDA GPU is usable (never the simulator).
* ``sklearn``: ``sklearn.neural_network.MLPClassifier(**params)``.
* ``torch``: :class:`TorchMLPClassifier`, a plain PyTorch CPU loop (two
  threads), only where ``import torch`` works.
* ``torch-cuda``: the same loop on a CUDA GPU in fp32 (TF32 off), only where
  torch sees one.
* ``jax``: :class:`bench.jax_impl.JaxMLPClassifier`, a ``jax.jit`` epoch
  (``lax.scan`` over minibatches, ``optax.adam``), only where jax and optax
  are installed (the ``bench`` extra brings them).
* ``gemm``: :class:`GemmBound`, the fit's matrix products alone through
  numpy's BLAS: an upper bound for any implementation built on those products.
"""

import functools
import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "IMPL_NAMES",
    "DEFAULT_IMPLS",
    "Impl",
    "GemmBound",
    "TorchMLPClassifier",
    "get_impl",
    "torch_available",
]

#: Every implementation the harness knows, in display order.
IMPL_NAMES = (
    "fastmlp",
    "fastmlp-cuda",
    "sklearn",
    "torch",
    "torch-cuda",
    "jax",
    "gemm",
)

#: Measured unless ``--impls`` says otherwise; the optional ones only where
#: available (torch installed, a CUDA GPU present).
DEFAULT_IMPLS = ("fastmlp", "fastmlp-cuda", "sklearn", "torch", "torch-cuda", "jax")

#: Left out without a word from the default set when unavailable.
OPTIONAL_IMPLS = ("fastmlp-cuda", "torch", "torch-cuda", "jax")


@dataclass
class Impl:
    """An implementation under test.

    Attributes
    ----------
    name : str
        Short name used in tables, JSON and plots.
    make : callable
        ``make(**params)`` returns an unfitted estimator; ``params`` are
        :meth:`bench.workloads.Workload.estimator_params`.
    description : str
        One line for the report.
    predicts : bool
        Whether the fitted object predicts (``gemm`` does not).
    jit : bool
        Whether its first fit in a process compiles code (fastmlp).
    """

    name: str
    make: Any
    description: str
    predicts: bool = True
    jit: bool = False


def torch_available():
    """Whether ``import torch`` can work, without importing it."""
    return importlib.util.find_spec("torch") is not None


def _glorot_bound(fan_in, fan_out, activation):
    """scikit-learn's Glorot-uniform init bound (factor 2 for logistic)."""
    factor = 2.0 if activation == "logistic" else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


class TorchMLPClassifier:
    """PyTorch CPU baseline: ``nn.Sequential`` + ``Adam`` + a minibatch loop.

    Written the way a PyTorch user would (no fused or compiled code), with
    scikit-learn's choices where they change the work done: Glorot-uniform
    init, a single logistic output for two classes (softmax otherwise), the
    last partial batch kept, and the L2 penalty ``alpha ||W||^2 / (2 B)`` on
    the weights only, i.e. Adam ``weight_decay = alpha / batch_size``.

    Parameters
    ----------
    hidden_layer_sizes, activation, batch_size, learning_rate_init, alpha,
    max_iter, shuffle, random_state
        As scikit-learn's ``MLPClassifier``; other keyword arguments of the
        workload (solver, tol, ...) are accepted and ignored.
    n_threads : int, default=2
        ``torch.set_num_threads`` for fit and predict.
    device : {"cpu", "cuda"}, default="cpu"
        Where the model and the data live; on "cuda" float32 products run
        without TF32 (true fp32, as fastmlp's).
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        batch_size=200,
        learning_rate_init=1e-3,
        alpha=1e-4,
        max_iter=200,
        shuffle=True,
        random_state=0,
        n_threads=2,
        device="cpu",
        **ignored,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def _build(self, n_features, n_outputs):
        import torch
        from torch import nn

        activations = {
            "identity": nn.Identity,
            "logistic": nn.Sigmoid,
            "tanh": nn.Tanh,
            "relu": nn.ReLU,
        }
        sizes = [n_features, *self.hidden_layer_sizes, n_outputs]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            linear = nn.Linear(fan_in, fan_out)
            bound = _glorot_bound(fan_in, fan_out, self.activation)
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound)
                linear.bias.uniform_(-bound, bound)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(activations[self.activation]())
        return nn.Sequential(*layers)

    def fit(self, X, y):
        """Train for ``max_iter`` epochs on ``X`` (n, d) and labels ``y`` (n,)."""
        import torch
        from torch import nn

        torch.set_num_threads(self.n_threads)
        torch.manual_seed(self.random_state)
        dev = torch.device(self.device)
        if dev.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self._binary = self.classes_.shape[0] == 2
        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(dev)
        if self._binary:
            y_t = torch.from_numpy(y_index.astype(np.float32)).unsqueeze(1).to(dev)
            loss_fn = nn.BCEWithLogitsLoss()
        else:
            y_t = torch.from_numpy(y_index.astype(np.int64)).to(dev)
            loss_fn = nn.CrossEntropyLoss()
        n_outputs = 1 if self._binary else self.classes_.shape[0]
        model = self._build(X_t.shape[1], n_outputs).to(dev)
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
        optimizer = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": self.alpha / self.batch_size},
                {"params": biases, "weight_decay": 0.0},
            ],
            lr=self.learning_rate_init,
            betas=(0.9, 0.999),
            eps=1e-8,
        )
        generator = torch.Generator().manual_seed(self.random_state)
        n = X_t.shape[0]
        model.train()
        for _ in range(self.max_iter):
            if self.shuffle:
                order = torch.randperm(n, generator=generator).to(dev)
            else:
                order = torch.arange(n, device=dev)
            for start in range(0, n, self.batch_size):
                rows = order[start : start + self.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X_t[rows]), y_t[rows])
                loss.backward()
                optimizer.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        self.model_ = model.eval()
        self.n_iter_ = self.max_iter
        return self

    def predict_proba(self, X):
        """Class probabilities, shape (n, n_classes)."""
        import torch

        torch.set_num_threads(self.n_threads)
        with torch.inference_mode():
            logits = self.model_(
                torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(
                    self.device
                )
            )
            if self._binary:
                p = torch.sigmoid(logits)
                proba = torch.cat((1.0 - p, p), dim=1)
            else:
                proba = torch.softmax(logits, dim=1)
        return proba.cpu().numpy()

    def predict(self, X):
        """Most probable class of each row, shape (n,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class GemmBound:
    """The matrix products of a fit and nothing else, through numpy's BLAS.

    For every minibatch of ``B`` rows and every layer ``l`` with weights
    ``W_l`` (n_l, n_{l+1}): the forward ``A_l @ W_l``, the weight gradient
    ``A_l.T @ D_l`` and, below the top layer, the input gradient
    ``D_l @ W_l.T``, into preallocated float32 buffers. No gather, activation,
    loss or optimizer step: the time any implementation that computes these
    products with the same BLAS cannot beat.

    Parameters
    ----------
    hidden_layer_sizes, batch_size, max_iter
        As scikit-learn's ``MLPClassifier``; other keyword arguments are
        accepted and ignored.
    """

    def __init__(
        self, hidden_layer_sizes=(100,), batch_size=200, max_iter=200, **ignored
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter

    def fit(self, X, y):
        """Run ``max_iter`` epochs of the products for ``X`` (n, d)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        n_classes = np.unique(y).shape[0]
        n_out = 1 if n_classes == 2 else n_classes
        sizes = [X.shape[1], *self.hidden_layer_sizes, n_out]
        rng = np.random.default_rng(0)
        weights, grads, outs, deltas = [], [], [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            weights.append(rng.uniform(-0.1, 0.1, (fan_in, fan_out)).astype(np.float32))
            grads.append(np.empty((fan_in, fan_out), dtype=np.float32))
            outs.append(np.empty((self.batch_size, fan_out), dtype=np.float32))
            deltas.append(np.empty((self.batch_size, fan_out), dtype=np.float32))
        n = X.shape[0]
        for _ in range(self.max_iter):
            for start in range(0, n, self.batch_size):
                batch = X[start : start + self.batch_size]
                _batch_products(batch, weights, grads, outs, deltas)
        self.n_iter_ = self.max_iter
        return self


def _batch_products(batch, weights, grads, outs, deltas):
    """Forward, weight-gradient and input-gradient products of one batch.

    ``outs[l]`` and ``deltas[l]`` are (batch_size, n_{l+1}) buffers; a short
    last batch of ``m`` rows uses their first ``m`` rows.
    """
    m = batch.shape[0]
    inputs = [batch]
    for w, out in zip(weights, outs, strict=True):
        np.matmul(inputs[-1], w, out=out[:m])
        inputs.append(out[:m])
    delta = inputs[-1]  # values are irrelevant: only the products are timed
    for layer in range(len(weights) - 1, -1, -1):
        np.matmul(inputs[layer].T, delta, out=grads[layer])
        if layer > 0:
            np.matmul(delta, weights[layer].T, out=deltas[layer - 1][:m])
            delta = deltas[layer - 1][:m]


def _fastmlp_factory():
    """``FastMLPClassifier`` on the CPU; raises ImportError when unavailable."""
    import fastmlp

    cls = getattr(fastmlp, "FastMLPClassifier", None)
    if cls is None:
        raise ImportError(
            "fastmlp.FastMLPClassifier does not exist yet in this checkout"
        )
    return functools.partial(cls, device="cpu")


def _fastmlp_cuda_factory():
    """``FastMLPClassifier`` on a real GPU; raises ImportError without one."""
    from fastmlp._backend import real_gpu_available

    if not real_gpu_available():
        raise ImportError("no CUDA GPU usable by numba-cuda (fastmlp[cuda])")
    return functools.partial(_fastmlp_factory().func, device="cuda")


def get_impl(name, fastmlp_stand_in=False, torch_threads=2):
    """The :class:`Impl` called ``name`` (one of :data:`IMPL_NAMES`).

    Parameters
    ----------
    name : str
    fastmlp_stand_in : bool, default=False
        Build scikit-learn's ``MLPClassifier`` in the ``fastmlp`` slot: tests
        the harness before fastmlp's estimators exist.
    torch_threads : int, default=2
        ``torch.set_num_threads`` of the torch baseline.

    Raises
    ------
    ImportError
        When the implementation's package (fastmlp, torch) or, for
        ``fastmlp-cuda``, a CUDA GPU is unavailable.
    """
    from sklearn.neural_network import MLPClassifier

    if name == "fastmlp":
        if fastmlp_stand_in:
            return Impl(
                "fastmlp",
                MLPClassifier,
                "STAND-IN: scikit-learn MLPClassifier in the fastmlp slot",
                jit=True,
            )
        return Impl(
            "fastmlp",
            _fastmlp_factory(),
            'fastmlp.FastMLPClassifier(device="cpu")',
            jit=True,
        )
    if name == "fastmlp-cuda":
        return Impl(
            "fastmlp-cuda",
            _fastmlp_cuda_factory(),
            'fastmlp.FastMLPClassifier(device="cuda")',
            jit=True,
        )
    if name == "sklearn":
        return Impl("sklearn", MLPClassifier, "sklearn.neural_network.MLPClassifier")
    if name == "torch":
        if not torch_available():
            raise ImportError("torch is not installed")
        return Impl(
            "torch",
            functools.partial(TorchMLPClassifier, n_threads=torch_threads),
            f"PyTorch CPU: nn.Sequential + Adam + minibatch loop, "
            f"{torch_threads} threads",
        )
    if name == "torch-cuda":
        if not torch_available():
            raise ImportError("torch is not installed")
        import torch

        if not torch.cuda.is_available():
            raise ImportError("torch sees no CUDA GPU")
        return Impl(
            "torch-cuda",
            functools.partial(TorchMLPClassifier, device="cuda"),
            "PyTorch CUDA fp32 (TF32 off): nn.Sequential + Adam + minibatch loop",
        )
    if name == "jax":
        from .jax_impl import JaxMLPClassifier, jax_available

        if not jax_available():
            raise ImportError("jax and optax are not installed")
        return Impl(
            "jax",
            JaxMLPClassifier,
            "JAX CPU: jax.jit epoch (lax.scan over minibatches) + optax.adam",
            jit=True,
        )
    if name == "gemm":
        return Impl(
            "gemm",
            GemmBound,
            "GEMM-only bound: the fit's matrix products alone, numpy BLAS",
            predicts=False,
        )
    raise ValueError(f"unknown implementation {name!r}; choose from {IMPL_NAMES}.")
