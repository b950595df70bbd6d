"""The benchmark workloads of bench/WORKLOADS.md: data, network and schedule.

Every workload trains with the same hyperparameters (:data:`COMMON_PARAMS`):
Adam, learning rate 1e-3, L2 ``alpha`` 1e-4, shuffled minibatches,
``random_state=0`` and a fixed number of epochs (``tol=0``, no early
stopping, ``n_iter_no_change`` above ``max_iter``). Data is float32 and split
80/20 with ``train_test_split(random_state=0, stratify=y)``.

``quick=True`` shrinks the number of samples and epochs (not the networks) so
that every code path, JIT compilation included, runs in seconds.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from fastmlp.playground import make_spiral

__all__ = [
    "COMMON_PARAMS",
    "WORKLOAD_NAMES",
    "DEFAULT_WORKLOADS",
    "NETWORKS",
    "Network",
    "Workload",
    "load_workload",
    "make_gaussian_classes",
]

#: Hyperparameters shared by every workload and implementation.
COMMON_PARAMS = {
    "solver": "adam",
    "learning_rate_init": 1e-3,
    "alpha": 1e-4,
    "shuffle": True,
    "random_state": 0,
    "tol": 0.0,
    "early_stopping": False,
}


class Network(NamedTuple):
    """The network and schedule of a workload (one row of WORKLOADS.md)."""

    n_features: int
    hidden_layer_sizes: tuple
    activation: str
    batch_size: int
    epochs: int
    n_outputs: int

    @property
    def layer_sizes(self):
        """Layer sizes from input to output, e.g. ``(2, 8, 8, 1)``."""
        return (self.n_features, *self.hidden_layer_sizes, self.n_outputs)


#: Every workload's network and schedule, in the order of WORKLOADS.md (two
#: classes train one logistic output, as scikit-learn's).
NETWORKS = {
    "playground": Network(2, (8, 8), "tanh", 10, 30, 1),
    "digits": Network(64, (128,), "relu", 64, 30, 10),
    "mnist": Network(784, (256, 128), "relu", 256, 2, 10),
    "wide": Network(512, (1024, 1024), "relu", 512, 1, 10),
}

#: Every workload, in the order of WORKLOADS.md.
WORKLOAD_NAMES = tuple(NETWORKS)

#: The workloads ``python -m bench.run`` measures unless told otherwise.
DEFAULT_WORKLOADS = ("playground", "digits")


@dataclass
class Workload:
    """One benchmark problem: a train/test split, a network and a schedule.

    Attributes
    ----------
    name : str
    description : str
        One line on the data.
    X_train, X_test : ndarray of float32, shape (n, n_features)
    y_train, y_test : ndarray of int64, shape (n,)
    hidden_layer_sizes : tuple of int
    activation : str
        Hidden activation, a scikit-learn name.
    batch_size : int
    epochs : int
    """

    name: str
    description: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    hidden_layer_sizes: tuple
    activation: str
    batch_size: int
    epochs: int

    @property
    def n_train(self):
        """Number of training rows."""
        return self.X_train.shape[0]

    @property
    def n_features(self):
        """Number of input features."""
        return self.X_train.shape[1]

    @property
    def n_classes(self):
        """Number of distinct training labels."""
        return int(np.unique(self.y_train).shape[0])

    @property
    def train_samples(self):
        """Samples processed by one fit: ``n_train * epochs``."""
        return self.n_train * self.epochs

    @property
    def network(self):
        """Layer sizes from input to output, e.g. ``"2-8-8-1"``."""
        n_out = 1 if self.n_classes == 2 else self.n_classes
        sizes = (self.n_features, *self.hidden_layer_sizes, n_out)
        return "-".join(str(s) for s in sizes)

    def estimator_params(self):
        """Keyword arguments of ``MLPClassifier`` (and ``FastMLPClassifier``).

        ``max_iter`` is the number of epochs and ``n_iter_no_change`` exceeds
        it, so with ``tol=0`` the fit always runs every epoch.
        """
        return {
            **COMMON_PARAMS,
            "hidden_layer_sizes": tuple(self.hidden_layer_sizes),
            "activation": self.activation,
            "batch_size": self.batch_size,
            "max_iter": self.epochs,
            "n_iter_no_change": self.epochs + 1,
        }


def make_gaussian_classes(
    n_samples, n_features, n_classes, class_sep=4.0, random_state=0
):
    """Gaussian blobs: one random centre per class plus unit Gaussian noise.

    The centres are drawn ``N(0, s^2 I)`` with ``s = class_sep /
    sqrt(2 n_features)``, so two centres lie about ``class_sep`` noise standard
    deviations apart whatever the dimension, and the classes overlap a little.
    Labels are balanced (``i % n_classes``, then shuffled).

    Parameters
    ----------
    n_samples, n_features, n_classes : int
    class_sep : float, default=4.0
        Typical distance between two class centres in units of the noise.
    random_state : int, default=0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, n_features)
    y : ndarray of int64, shape (n_samples,)
    """
    rng = np.random.default_rng(random_state)
    scale = class_sep / np.sqrt(2.0 * n_features)
    centres = (rng.standard_normal((n_classes, n_features)) * scale).astype(np.float32)
    y = rng.permutation(np.arange(n_samples, dtype=np.int64) % n_classes)
    # Generated in float32 in place: the mnist-sized set is 188 MB, not 376.
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    X += centres[y]
    return X, y


def _workload(name, description, X, y, quick_epochs=None):
    """A :class:`Workload` from full data: float32, 80/20 stratified split.

    The network and schedule are :data:`NETWORKS`' (``quick_epochs`` instead
    of its epochs for a smoke test).
    """
    net = NETWORKS[name]
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    return Workload(
        name=name,
        description=description,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        hidden_layer_sizes=net.hidden_layer_sizes,
        activation=net.activation,
        batch_size=net.batch_size,
        epochs=net.epochs if quick_epochs is None else quick_epochs,
    )


def _playground(quick):
    n = 200 if quick else 1000
    X, y = make_spiral(n, noise=0.1, random_state=0, labels="binary")
    desc = f"TF-Playground spiral, {n} points, noise 0.1"
    return _workload("playground", desc, X, y, 3 if quick else None)


def _digits(quick):
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:600], y[:600]
    desc = f"load_digits X/16, {X.shape[0]} x 64, 10 classes"
    return _workload("digits", desc, X / 16.0, y, 2 if quick else None)


def _mnist(quick):
    n = 2000 if quick else 60000
    X, y = make_gaussian_classes(n, 784, 10, random_state=0)
    desc = f"synthetic Gaussian classes, {n} x 784, 10 classes"
    return _workload("mnist", desc, X, y, 1 if quick else None)


def _wide(quick):
    n = 1000 if quick else 20000
    X, y = make_gaussian_classes(n, 512, 10, random_state=1)
    desc = f"synthetic Gaussian classes, {n} x 512, 10 classes"
    return _workload("wide", desc, X, y)


_BUILDERS = {
    "playground": _playground,
    "digits": _digits,
    "mnist": _mnist,
    "wide": _wide,
}


def load_workload(name, quick=False):
    """Build the workload ``name`` (one of :data:`WORKLOAD_NAMES`).

    Parameters
    ----------
    name : str
    quick : bool, default=False
        Fewer samples and epochs, same network: a smoke test.

    Returns
    -------
    Workload
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown workload {name!r}; choose from {WORKLOAD_NAMES}.")
    return _BUILDERS[name](quick)
