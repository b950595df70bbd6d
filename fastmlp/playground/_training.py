"""Training helpers of the playground: Playground-like estimators, train and
test loss per epoch, and counting parameters."""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline

from .._mlp import FastMLPClassifier, FastMLPRegressor
from ..exceptions import ConvergenceWarning

__all__ = [
    "LearningCurves",
    "count_parameters",
    "fit_with_curves",
    "playground_classifier",
    "playground_regressor",
    "split_model",
]

#: The Playground's defaults: plain SGD (no momentum), learning rate 0.03,
#: batch size 10, tanh, no regularisation, its uniform initialisation.
PLAYGROUND_DEFAULTS = {
    "activation": "tanh",
    "solver": "sgd",
    "learning_rate_init": 0.03,
    "batch_size": 10,
    "momentum": 0.0,
    "nesterovs_momentum": False,
    "alpha": 0.0,
    "weight_init": "playground",
    "max_iter": 200,
    "tol": 0.0,
    "n_iter_no_change": np.inf,
}


def playground_classifier(hidden_layer_sizes=(4, 2), **params):
    """A :class:`~fastmlp.FastMLPClassifier` set up as the Playground trains.

    The Playground's defaults (:data:`PLAYGROUND_DEFAULTS`: tanh, plain SGD
    at 0.03 in batches of 10, no penalty, weights ``U(-0.5, 0.5)`` and biases
    0.1), every epoch run (no early stop); ``params`` override them. One
    difference remains: fastmlp minimises the log-loss of a logistic output
    where the Playground minimises the squared error of a tanh output.
    """
    return FastMLPClassifier(hidden_layer_sizes, **{**PLAYGROUND_DEFAULTS, **params})


def playground_regressor(hidden_layer_sizes=(4, 2), **params):
    """A :class:`~fastmlp.FastMLPRegressor` with the Playground's defaults
    (see :func:`playground_classifier`); squared error on a linear output."""
    return FastMLPRegressor(
        hidden_layer_sizes=hidden_layer_sizes, **{**PLAYGROUND_DEFAULTS, **params}
    )


def split_model(model):
    """``(transform, mlp)`` of a fastmlp estimator or a Pipeline ending in one.

    ``transform(X)`` applies every step before the MLP (the identity for a
    bare estimator), so ``mlp.layer_activations(transform(X))`` is what every
    neuron computes on raw X.
    """
    if isinstance(model, Pipeline):
        head = model[:-1]
        return head.transform, model[-1]
    return (lambda X: X), model


def count_parameters(model):
    """``(n_weights, n_biases)`` of a fitted fastmlp estimator (or Pipeline).

    A network with layers ``n_0, ..., n_L`` has ``sum n_l n_{l+1}`` weights
    and ``sum n_{l+1}`` biases.
    """
    _, mlp = split_model(model)
    n_weights = int(sum(np.asarray(w).size for w in mlp.coefs_))
    n_biases = int(sum(np.asarray(b).size for b in mlp.intercepts_))
    return n_weights, n_biases


@dataclass
class LearningCurves:
    """Train and test loss (and score) after every recorded epoch.

    ``train_loss``/``test_loss`` are the data loss of the whole set with the
    weights at the end of the epoch (log-loss for classifiers, half the mean
    squared error for regressors, as the estimators' ``loss_`` without the
    penalty); ``train_score``/``test_score`` are ``model.score``.
    ``diverged`` is True when training stopped on a non-finite loss.
    """

    epochs: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_score: list = field(default_factory=list)
    test_score: list = field(default_factory=list)
    diverged: bool = False

    def final(self):
        """The last record as a dict (``nan`` where nothing was recorded)."""
        last = {}
        for name in ("train_loss", "test_loss", "train_score", "test_score"):
            values = getattr(self, name)
            last[name] = float(values[-1]) if values else float("nan")
        return last


def data_loss(model, X, y):
    """Log-loss (classifier) or half mean squared error (regressor) on X, y."""
    if is_classifier(model):
        proba = np.clip(model.predict_proba(X), 1e-15, 1.0)
        classes = list(model.classes_)
        cols = np.searchsorted(classes, y)
        return float(-np.mean(np.log(proba[np.arange(len(y)), cols])))
    residual = np.asarray(model.predict(X), dtype=np.float64) - np.asarray(y)
    return float(0.5 * np.mean(residual**2))


def fit_with_curves(model, X, y, X_test=None, y_test=None, epochs=100, record_every=1):
    """Train ``model`` epoch by epoch, recording train and test loss.

    One ``partial_fit`` per epoch (a Pipeline's leading steps are fitted once
    on X, then its MLP is trained the same way), so any fastmlp estimator
    with the 'sgd' or 'adam' solver works. ``fit``'s signature stays
    scikit-learn's; this is where held-out curves come from. With an integer
    ``random_state`` the estimator gets a ``RandomState`` seeded with it for
    the run (the same initial weights as ``fit``, a new shuffle every epoch)
    and the integer back at the end.

    Parameters
    ----------
    model : FastMLPClassifier, FastMLPRegressor, or Pipeline ending in one
        Trained from scratch (its previous weights are discarded); modified in
        place and returned.
    X, y : arrays of shape (n, n_features) and (n,)
    X_test, y_test : arrays or None, default=None
        Held-out set; without it ``test_loss``/``test_score`` stay empty.
    epochs : int, default=100
    record_every : int, default=1
        Record after every ``record_every``-th epoch (and the last).

    Returns
    -------
    model : the fitted model
    curves : LearningCurves
    """
    transform, mlp = split_model(model)
    if mlp.solver not in ("sgd", "adam"):
        raise ValueError(
            f"fit_with_curves trains epoch by epoch with partial_fit: use "
            f"solver='sgd' or 'adam', not {mlp.solver!r}."
        )
    if isinstance(model, Pipeline):
        model[:-1].fit(X, y)
    Xt = transform(X)
    Xt_test = None if X_test is None else transform(X_test)
    constructor = mlp.get_params(deep=False)
    for attr in list(vars(mlp)):
        if attr not in constructor:
            delattr(mlp, attr)  # fitted and solver state: start from scratch
    seed = mlp.random_state
    if seed is not None and not isinstance(seed, np.random.RandomState):
        mlp.random_state = np.random.RandomState(seed)
    extra = {"classes": np.unique(y)} if is_classifier(mlp) else {}
    curves = LearningCurves()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for epoch in range(1, int(epochs) + 1):
                try:
                    mlp.partial_fit(Xt, y, **extra)
                except ValueError as error:
                    if "non-finite" not in str(error):
                        raise
                    curves.diverged = True
                    break
                extra = {}
                if epoch % record_every and epoch != epochs:
                    continue
                curves.epochs.append(epoch)
                curves.train_loss.append(data_loss(mlp, Xt, y))
                curves.train_score.append(float(mlp.score(Xt, y)))
                if Xt_test is not None:
                    curves.test_loss.append(data_loss(mlp, Xt_test, y_test))
                    curves.test_score.append(float(mlp.score(Xt_test, y_test)))
    finally:
        mlp.random_state = seed
    return model, curves


def clone_with(model, **params):
    """``clone(model)`` with ``params`` set on its MLP (last step)."""
    model = clone(model)
    split_model(model)[1].set_params(**params)
    return model
