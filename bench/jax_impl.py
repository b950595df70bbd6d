"""JAX on the CPU: the strongest compiled peer, written as a JAX user would.

One ``jax.jit`` function per configuration runs a whole epoch: ``lax.scan``
over the shuffled full minibatches (gather, forward, loss, ``value_and_grad``,
``optax.adam`` update), then the short last batch, as scikit-learn keeps it.
The same choices as the other implementations where they change the work:
scikit-learn's Glorot-uniform initialisation, one logistic output for two
classes (softmax otherwise), Adam (0.9, 0.999, 1e-8) and the L2 penalty
``alpha * ||W||^2 / (2 m)`` of a batch of ``m`` rows on the weights only.
Compilation happens on the first fit of a shape; the harness reports it
apart from the steady speed, as it does fastmlp's.
"""

import functools
import importlib.util

import numpy as np

__all__ = ["JaxMLPClassifier", "jax_available"]


def jax_available():
    """Whether ``import jax`` and ``import optax`` can work, without importing."""
    return all(importlib.util.find_spec(m) is not None for m in ("jax", "optax"))


def _glorot_bound(fan_in, fan_out, activation):
    factor = 2.0 if activation == "logistic" else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


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


class JaxMLPClassifier:
    """JAX CPU baseline: a jitted ``lax.scan`` epoch with ``optax.adam``.

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

    def fit(self, X, y):
        """Train for ``max_iter`` epochs on ``X`` (n, d) and labels ``y`` (n,)."""
        import jax

        X = np.ascontiguousarray(X, dtype=np.float32)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self._binary = self.classes_.shape[0] == 2
        if self._binary:
            Y = y_index.astype(np.float32)[:, None]
        else:
            Y = np.eye(self.classes_.shape[0], dtype=np.float32)[y_index]
        sizes = [X.shape[1], *self.hidden_layer_sizes, Y.shape[1]]
        rng = np.random.default_rng(self.random_state)
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = _glorot_bound(fan_in, fan_out, self.activation)
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

    def predict(self, X):
        """Most probable class of each row, shape (n,)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
