"""Training helpers of the playground: Playground-like estimators, train and
test loss per epoch, and counting parameters."""

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from .._mlp import FastMLPClassifier, FastMLPRegressor
from ..exceptions import ConvergenceWarning
from ..kernels import LOSS_CODES
from ..kernels.cpu.narrow import NARROW_MAX_WIDTH

__all__ = [
    "LearningCurves",
    "PlaygroundClassifier",
    "PlaygroundRegressor",
    "count_parameters",
    "fit_with_curves",
    "playground_classifier",
    "playground_params",
    "playground_regressor",
    "set_bias",
    "set_learning_rate",
    "set_weight",
    "split_model",
]

#: The Playground's activation names that scikit-learn spells otherwise.
ACTIVATION_ALIASES = {"sigmoid": "logistic", "linear": "identity"}

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


class _PlaygroundRules:
    """What the Playground's estimators do differently from fastmlp's.

    * L1 is the Playground's rule: after each step, every coefficient moves
      ``lr * r`` towards 0, one whose step crosses 0 is set to exactly 0 and
      is never updated again (its "dead" links; ``l1 = r * batch_size``).
      fastmlp's estimators use the subgradient ``sign(W)`` instead, which
      oscillates around 0.
    * ``shuffle=True`` shuffles the samples once, at the first epoch, and
      keeps that order for every later epoch and ``partial_fit`` call with
      as many samples (the Playground shuffles its data once, when it is
      made); ``shuffle=False`` keeps the order given.

    Training runs on the CPU, in the narrow epoch: layers at most 8 units
    wide (the Playground's limit), dense input, ``solver`` 'sgd' or 'adam'.
    """

    _l1_clips = True  # read by the engine: the kernels' clipping L1 rule

    def _fit(self, X, y, sample_weight=None, incremental=False, **kwargs):
        if self.device == "cuda":
            raise ValueError(
                f"{type(self).__name__} trains on the CPU (device='cpu' or 'auto')."
            )
        if self.l1 and self.solver == "lbfgs":
            raise ValueError(
                "The Playground's L1 rule is a step rule: use solver='sgd' "
                "(or 'adam') with l1 > 0, not 'lbfgs'."
            )
        if self.l1 and max(self._hidden_sizes() + [2]) > NARROW_MAX_WIDTH:
            raise ValueError(
                "The Playground's L1 rule runs for layers at most "
                f"{NARROW_MAX_WIDTH} units wide (the Playground's limit); got "
                f"hidden_layer_sizes={self.hidden_layer_sizes!r}."
            )
        if not self.shuffle or self.solver == "lbfgs":
            return super()._fit(X, y, sample_weight, incremental, **kwargs)
        n = len(y)
        order = getattr(self, "_playground_order", None)
        new_fit = not incremental and not self.warm_start
        if order is None or new_fit or len(order) != n:
            order = check_random_state(self.random_state).permutation(n)
        if hasattr(X, "iloc"):
            X = X.iloc[order]
        else:
            X = (X if hasattr(X, "shape") else np.asarray(X))[order]
        y = np.asarray(y)[order]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[order]
        self.shuffle = False  # the engine's per-epoch shuffle: off for this fit
        try:
            super()._fit(X, y, sample_weight, incremental, **kwargs)
        finally:
            self.shuffle = True
        self._playground_order = order
        return self


class PlaygroundClassifier(_PlaygroundRules, FastMLPClassifier):
    """A binary :class:`~fastmlp.FastMLPClassifier` trained as the
    TensorFlow Playground trains its classifier.

    The output is a tanh unit on the labels -1 (``classes_[0]``) and +1
    (``classes_[1]``), trained on the squared error ``(o - t)^2 / 2``: the
    Playground's loss, not the log-loss of a logistic output
    (:class:`~fastmlp.FastMLPClassifier`, kept as it is). ``predict_proba``
    returns ``(1 + o) / 2`` for the positive class, ``predict`` the class of
    the sign of ``o``, and :meth:`layer_activations`' last entry the tanh
    output ``o`` itself, on the Playground's ``[-1, 1]`` scale. L1, shuffling
    and the device as in the Playground (see ``_PlaygroundRules``); the
    parameters are :class:`~fastmlp.FastMLPClassifier`'s, and
    :func:`playground_classifier` gives the Playground's defaults.
    """

    def _validate_input(self, X, y, incremental, reset):
        X, Y, labels = super()._validate_input(X, y, incremental, reset)
        if self._label_binarizer.y_type_ not in ("binary", "multilabel-indicator"):
            raise ValueError(
                "PlaygroundClassifier separates two classes (the Playground's "
                f"labels -1 and 1); y has {len(self.classes_)}: use "
                "FastMLPClassifier."
            )
        return X, (2 * Y - 1).astype(X.dtype), labels

    def _initialize(self, y, layer_units, dtype):
        super()._initialize(y, layer_units, dtype)
        self.out_activation_ = "tanh"

    def _loss_code(self):
        return LOSS_CODES["tanh_squared_error"]

    def _predict_from_output(self, y_pred):
        return super()._predict_from_output((1 + y_pred) / 2)

    def predict_proba(self, X):
        """Probability estimates: ``(1 + o) / 2`` for ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        positive = np.clip((1 + self._forward_checked(X)) / 2, 0.0, 1.0)
        if self.n_outputs_ > 1:
            return positive
        positive = positive.ravel()
        return np.vstack([1 - positive, positive]).T


class PlaygroundRegressor(_PlaygroundRules, FastMLPRegressor):
    """A :class:`~fastmlp.FastMLPRegressor` with the Playground's L1 rule and
    shuffling (see :class:`PlaygroundClassifier`); its loss, the squared
    error of a linear output, is already the Playground's."""


def playground_params(
    *,
    activation=None,
    learning_rate=None,
    regularization=None,
    regularization_rate=0.0,
    batch_size=None,
    **params,
):
    """Estimator parameters from the Playground's names and values.

    Parameters
    ----------
    activation : {"tanh", "relu", "sigmoid", "linear", "logistic", "identity"}
        The Playground's names are aliases of scikit-learn's.
    learning_rate : float or str, optional
        A number is the Playground's learning rate (``learning_rate_init``);
        a string is scikit-learn's schedule.
    regularization : {None, "none", "L1", "L2"}
    regularization_rate : float, default=0.0
        The Playground's rate ``r``: its step ``w -= lr * r * sign(w)`` (L1) or
        ``lr * r * w`` (L2) after each batch is fastmlp's ``l1`` or ``alpha``
        equal to ``r * batch_size`` (both are divided by the batch's size).
    batch_size : int, optional
    **params
        Other estimator parameters, passed on.

    Returns
    -------
    dict
    """
    out = dict(params)
    if activation is not None:
        out["activation"] = ACTIVATION_ALIASES.get(activation, activation)
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        out["learning_rate_init"] = float(learning_rate)
    elif learning_rate is not None:
        out["learning_rate"] = learning_rate
    if batch_size is not None:
        out["batch_size"] = batch_size
    if regularization in (None, "none"):
        if regularization_rate:
            raise ValueError("regularization_rate needs regularization='L1' or 'L2'.")
        return out
    if regularization not in ("L1", "L2"):
        raise ValueError(
            "regularization must be None, 'none', 'L1' or 'L2'; "
            f"got {regularization!r}."
        )
    if regularization_rate < 0:
        raise ValueError(
            f"regularization_rate must be >= 0; got {regularization_rate}."
        )
    batch = out.get("batch_size", PLAYGROUND_DEFAULTS["batch_size"])
    if not isinstance(batch, numbers.Integral):
        raise ValueError(
            "The Playground's regularization rate needs an integer batch_size."
        )
    strength = float(regularization_rate) * int(batch)
    out["l1" if regularization == "L1" else "alpha"] = strength
    return out


def playground_classifier(hidden_layer_sizes=(4, 2), **params):
    """A :class:`PlaygroundClassifier` with the Playground's defaults.

    The Playground's defaults (:data:`PLAYGROUND_DEFAULTS`: tanh, plain SGD
    at 0.03 in batches of 10, no penalty, weights ``U(-0.5, 0.5)`` and biases
    0.1), every epoch run (no early stop), its tanh output with squared error
    and its L1 rule. ``params`` override them, in scikit-learn's names or the
    Playground's (:func:`playground_params`: ``regularization="L1"``,
    ``regularization_rate=0.01``, ``activation="sigmoid"``,
    ``learning_rate=0.1``...).
    """
    return PlaygroundClassifier(
        hidden_layer_sizes, **{**PLAYGROUND_DEFAULTS, **playground_params(**params)}
    )


def playground_regressor(hidden_layer_sizes=(4, 2), **params):
    """A :class:`PlaygroundRegressor` with the Playground's defaults (see
    :func:`playground_classifier`); squared error on a linear output."""
    return PlaygroundRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        **{**PLAYGROUND_DEFAULTS, **playground_params(**params)},
    )


def set_learning_rate(model, learning_rate):
    """Change the learning rate now, without a reset (the Playground's rule).

    Sets ``learning_rate_init`` and the rate of the optimizer a fitted model
    keeps for ``partial_fit``, so the next ``partial_fit`` (or
    :func:`fit_with_curves` epoch) steps with it; the weights stay. (A plain
    ``set_params(learning_rate_init=...)`` applies only from the next
    ``fit``, as in scikit-learn.)
    """
    _, mlp = split_model(model)
    mlp.set_params(learning_rate_init=float(learning_rate))
    optimizer = getattr(mlp, "_optimizer", None)
    if optimizer is not None:
        optimizer.learning_rate_init = float(learning_rate)
        optimizer.learning_rate = float(learning_rate)
    return model


def set_weight(model, layer, i, j, value):
    """Set the weight from unit ``i`` of layer ``layer`` to unit ``j`` of the
    next, by hand (the Playground's exercise 2).

    Layers count from 0 (the inputs). The same as
    ``model.coefs_[layer][i, j] = value``: ``coefs_`` and ``intercepts_`` are
    views of the weights the next ``partial_fit`` trains, so writing into
    them in place is the documented way; :func:`set_bias` sets a bias. A
    weight set to exactly 0 does not move while L1 is on (the Playground's
    dead links).
    """
    _, mlp = split_model(model)
    mlp.coefs_[layer][i, j] = value
    return model


def set_bias(model, layer, j, value):
    """Set the bias of unit ``j`` of layer ``layer + 1`` by hand:
    ``model.intercepts_[layer][j] = value`` (see :func:`set_weight`)."""
    _, mlp = split_model(model)
    mlp.intercepts_[layer][j] = value
    return model


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
    """The loss of ``model`` on X, y, as its training defines it.

    A :class:`PlaygroundClassifier`: the Playground's ``mean (o - t)^2 / 2``
    of its tanh output ``o`` on labels ``t = +-1``; other classifiers the
    log-loss; regressors half the mean squared error.
    """
    _, mlp = split_model(model)
    if isinstance(mlp, PlaygroundClassifier):
        output = 2 * model.predict_proba(X)[:, 1] - 1
        target = np.where(np.asarray(y) == mlp.classes_[1], 1.0, -1.0)
        return float(0.5 * np.mean((output - target) ** 2))
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
    and the integer back at the end; the Playground's estimators shuffle
    once and keep that order (:class:`PlaygroundClassifier`).

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
    reshuffles = mlp.shuffle and not isinstance(mlp, _PlaygroundRules)
    if reshuffles and seed is not None and not isinstance(seed, np.random.RandomState):
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
