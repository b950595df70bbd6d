"""The peers fastmlp is measured against, in one place.

Each peer is an estimator with ``fit(X, y)`` taking scikit-learn's
``MLPClassifier`` keyword arguments (those of
:meth:`bench.workloads.Workload.estimator_params`; the ones that do not change
the work, such as ``solver`` or ``tol``, are accepted and ignored) and, but for
the bound, ``predict(X)`` and ``predict_proba(X)``. Where a choice changes the
work done, each makes scikit-learn's: Glorot-uniform initialisation
(:func:`glorot_bound`), one logistic output for two classes (softmax
otherwise), Adam (0.9, 0.999, 1e-8), the last partial batch kept, and the L2
penalty ``alpha ||W||^2 / (2 B)`` of a batch of ``B`` rows on the weights only.

* :class:`TorchMLPClassifier`: PyTorch as a PyTorch user writes it
  (``nn.Sequential``, ``Adam``, a minibatch loop), on the CPU or a CUDA GPU.
* :class:`JaxMLPClassifier`: JAX on the CPU, the strongest compiled peer: one
  ``jax.jit`` epoch (``lax.scan`` over the shuffled full minibatches, then the
  short last batch), ``optax.adam``; it compiles on the first fit of a shape,
  which the harness reports apart from the steady speed, as it does fastmlp's.
* :class:`GemmBound`: the fit's matrix products alone through numpy's BLAS,
  the time no implementation built on those products can beat.

torch, jax and optax are imported only when a peer that needs them fits.
"""

import functools
import importlib.util

import numpy as np

__all__ = [
    "GemmBound",
    "JaxMLPClassifier",
    "TorchMLPClassifier",
    "glorot_bound",
    "jax_available",
    "torch_available",
]


def torch_available():
    """Whether ``import torch`` can work, without importing it."""
    return importlib.util.find_spec("torch") is not None


def jax_available():
    """Whether ``import jax`` and ``import optax`` can work, without importing."""
    return all(importlib.util.find_spec(m) is not None for m in ("jax", "optax"))


def glorot_bound(fan_in, fan_out, activation):
    """scikit-learn's Glorot-uniform init bound (factor 2 for logistic)."""
    factor = 2.0 if activation == "logistic" else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


class _PeerClassifier:
    """scikit-learn's parameters that change a peer's work, and ``predict``.

    Parameters
    ----------
    hidden_layer_sizes, activation, batch_size, learning_rate_init, alpha,
    max_iter, shuffle, random_state
        As scikit-learn's ``MLPClassifier``; other keyword arguments of the
        workload (solver, tol, ...) are accepted and ignored.
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

    def _encode_labels(self, y):
        """Set ``classes_`` and ``_binary``; return ``y`` as class indices."""
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self._binary = self.classes_.shape[0] == 2
        return y_index

    def predict(self, X):
        """Most probable class of each row, shape (n,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


# --------------------------------------------------------------------------
# PyTorch


class TorchMLPClassifier(_PeerClassifier):
    """PyTorch baseline: ``nn.Sequential`` + ``Adam`` + a minibatch loop.

    Written the way a PyTorch user would (no fused or compiled code), with
    scikit-learn's choices where they change the work done (module
    docstring); the L2 penalty is Adam's ``weight_decay = alpha / batch_size``
    on the weights.

    Parameters
    ----------
    n_threads : int, default=2
        ``torch.set_num_threads`` for fit and predict.
    device : {"cpu", "cuda"}, default="cpu"
        Where the model and the data live; on "cuda" float32 products run
        without TF32 (true fp32, as fastmlp's).
    **params
        :class:`_PeerClassifier`'s, as scikit-learn's ``MLPClassifier``.
    """

    def __init__(self, *args, n_threads=2, device="cpu", **params):
        super().__init__(*args, **params)
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
            bound = glorot_bound(fan_in, fan_out, self.activation)
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
        y_index = self._encode_labels(y)
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


# --------------------------------------------------------------------------
# JAX


def _activation(name):
    import jax
    import jax.numpy as jnp

    return {
        "identity": lambda z: z,
        "logistic": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
    }[name]


def _forward(params, X, act):
    """The network's output logits for ``X`` (hidden activation ``act``)."""
    A = X
    for W, b in params[:-1]:
        A = act(A @ W + b)
    W, b = params[-1]
    return A @ W + b


@functools.cache
def _epoch_function(activation, binary, batch_size, alpha, learning_rate):
    """The jitted epoch for one configuration (cached: compiles once a shape)."""
    import jax
    import jax.numpy as jnp
    import optax

    act = _activation(activation)
    optimizer = optax.adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8)

    def loss_fn(params, Xb, Yb):
        logits = _forward(params, Xb, act)
        if binary:
            data = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, Yb))
        else:
            data = jnp.mean(optax.softmax_cross_entropy(logits, Yb))
        l2 = sum(jnp.sum(W * W) for W, _ in params)
        return data + 0.5 * alpha * l2 / Xb.shape[0]

    grad_fn = jax.value_and_grad(loss_fn)

    def step(carry, rows, X, Y):
        params, state = carry
        loss, grads = grad_fn(params, X[rows], Y[rows])
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    @jax.jit
    def epoch(params, state, X, Y, order):
        n = order.shape[0]
        n_full = n // batch_size
        full = order[: n_full * batch_size].reshape(n_full, batch_size)
        carry, losses = jax.lax.scan(
            lambda c, rows: step(c, rows, X, Y), (params, state), full
        )
        total = jnp.sum(losses) * batch_size
        if n % batch_size:  # the short last batch, as scikit-learn keeps it
            carry, last = step(carry, order[n_full * batch_size :], X, Y)
            total = total + last * (n % batch_size)
        return carry[0], carry[1], total / n

    return optimizer, epoch


@functools.cache
def _predict_function(activation, binary):
    import jax

    act = _activation(activation)

    @jax.jit
    def proba(params, X):
        logits = _forward(params, X, act)
        if binary:
            p = jax.nn.sigmoid(logits)
            return jax.numpy.concatenate((1.0 - p, p), axis=1)
        return jax.nn.softmax(logits, axis=1)

    return proba


class JaxMLPClassifier(_PeerClassifier):
    """JAX CPU baseline: a jitted ``lax.scan`` epoch with ``optax.adam``.

    Parameters: :class:`_PeerClassifier`'s, as scikit-learn's
    ``MLPClassifier``.
    """

    def fit(self, X, y):
        """Train for ``max_iter`` epochs on ``X`` (n, d) and labels ``y`` (n,)."""
        import jax

        X = np.ascontiguousarray(X, dtype=np.float32)
        y_index = self._encode_labels(y)
        if self._binary:
            Y = y_index.astype(np.float32)[:, None]
        else:
            Y = np.eye(self.classes_.shape[0], dtype=np.float32)[y_index]
        sizes = [X.shape[1], *self.hidden_layer_sizes, Y.shape[1]]
        rng = np.random.default_rng(self.random_state)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = glorot_bound(fan_in, fan_out, self.activation)
            W = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
            b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
            params.append((jax.numpy.asarray(W), jax.numpy.asarray(b)))
        batch = int(min(self.batch_size, X.shape[0]))
        optimizer, epoch = _epoch_function(
            self.activation,
            self._binary,
            batch,
            float(self.alpha),
            float(self.learning_rate_init),
        )
        state = optimizer.init(params)
        X_dev, Y_dev = jax.numpy.asarray(X), jax.numpy.asarray(Y)
        n = X.shape[0]
        self.loss_curve_ = []
        for _ in range(self.max_iter):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            params, state, loss = epoch(
                params, state, X_dev, Y_dev, jax.numpy.asarray(order, dtype="int32")
            )
            self.loss_curve_.append(loss)
        jax.block_until_ready(params)
        self.loss_curve_ = [float(v) for v in self.loss_curve_]
        self.params_ = params
        self.n_iter_ = self.max_iter
        return self

    def predict_proba(self, X):
        """Class probabilities, shape (n, n_classes)."""
        proba = _predict_function(self.activation, self._binary)
        return np.asarray(proba(self.params_, np.ascontiguousarray(X, np.float32)))


# --------------------------------------------------------------------------
# The products alone


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
