"""Drop-in by default: where fastmlp once was stricter, it now does what
scikit-learn does, side by side; ``fastmlp.config_context(strict=True)``
brings the stricter behaviour back."""

import re
import threading
import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor

rng = np.random.RandomState(0)
X = rng.rand(20, 3)
SKLEARN_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def pair(sk_cls, fast_cls, **params):
    return sk_cls(**params), fast_cls(**params)


@pytest.mark.parametrize("labels", [np.zeros(20, int), np.full(20, "spam")])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_single_class_trains_as_in_scikit_learn(labels, solver):
    sk, fast = pair(
        MLPClassifier,
        FastMLPClassifier,
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        random_state=0,
    )
    quietly(sk.fit, X, labels)
    quietly(fast.fit, X, labels)
    np.testing.assert_array_equal(fast.classes_, sk.classes_)
    assert (fast.n_outputs_, fast.out_activation_) == (
        sk.n_outputs_,
        sk.out_activation_,
    )
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))
    np.testing.assert_allclose(fast.predict_proba(X), sk.predict_proba(X), rtol=1e-6)
    assert fast.score(X, labels) == sk.score(X, labels) == 1.0


def test_a_single_class_in_partial_fit_classes_trains_as_in_scikit_learn():
    sk, fast = pair(MLPClassifier, FastMLPClassifier, hidden_layer_sizes=(5,))
    for est in (sk, fast):
        est.partial_fit(X, np.zeros(20, int), classes=[0])
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))


def test_strict_rejects_a_single_class():
    with fastmlp.config_context(strict=True):
        with pytest.raises(ValueError, match="only one class"):
            FastMLPClassifier(max_iter=5).fit(X, np.zeros(20, int))
    # Outside the block the default (scikit-learn's behaviour) is back.
    quietly(FastMLPClassifier(max_iter=5).fit, X, np.zeros(20, int))


def diverging(cls, **extra):
    return cls(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e6,
        max_iter=20,
        random_state=0,
        **extra,
    )


Y_BIG = rng.rand(20) * 1e6


def test_divergence_raises_scikit_learns_error_after_max_iter():
    ests = (diverging(MLPRegressor), diverging(FastMLPRegressor))
    for est in ests:
        with pytest.raises(ValueError, match=re.escape(SKLEARN_NON_FINITE) + "$"):
            quietly(est.fit, X * 1e6, Y_BIG)
    sk, fast = ests
    # Both went on to max_iter, recording the non-finite epochs.
    assert fast.n_iter_ == sk.n_iter_ == 20
    assert len(fast.loss_curve_) == len(sk.loss_curve_)
    assert (
        np.isfinite(fast.loss_curve_).tolist() == np.isfinite(sk.loss_curve_).tolist()
    )


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_divergence_with_early_stopping_never_raises(kind):
    # scikit-learn issue 29504: early stopping restores the best (finite) weights.
    if kind == "regressor":
        ests, y = (diverging(MLPRegressor, early_stopping=True),), Y_BIG
        ests += (diverging(FastMLPRegressor, early_stopping=True),)
    else:
        y = np.arange(20) % 2
        ests = tuple(
            diverging(cls, early_stopping=True, activation="identity")
            for cls in (MLPClassifier, FastMLPClassifier)
        )
    for est in ests:
        quietly(est.fit, X * 1e6, y)
        assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    assert ests[0].n_iter_ == ests[1].n_iter_


def test_strict_stops_at_the_first_non_finite_epoch():
    with fastmlp.config_context(strict=True):
        est = diverging(FastMLPRegressor)
        with pytest.raises(ValueError, match="Training diverged at epoch"):
            quietly(est.fit, X * 1e6, Y_BIG)
    assert est.n_iter_ < 20 and np.isfinite(est.loss_curve_).all()
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)


def test_config_switches_and_their_scope():
    assert fastmlp.get_config() == {"strict": False}
    with fastmlp.config_context(strict=True):
        assert fastmlp.get_config()["strict"]
        with fastmlp.config_context(strict=False):
            assert not fastmlp.get_config()["strict"]
        with fastmlp.config_context():  # None keeps the surrounding value
            assert fastmlp.get_config()["strict"]
        seen = []
        thread = threading.Thread(target=lambda: seen.append(fastmlp.get_config()))
        thread.start()
        thread.join()
        assert seen == [{"strict": False}]  # a context is not global
    try:
        fastmlp.set_config(strict=True)
        assert fastmlp.get_config()["strict"]
    finally:
        fastmlp.set_config(strict=False)
    with pytest.raises(TypeError, match="strict must be a bool"):
        fastmlp.set_config(strict="yes")


TWO_FAULTS = {
    # Parameter constraints first, then hidden_layer_sizes > 0, then the
    # data, and only then the integer check of hidden_layer_sizes.
    "float hidden, empty X": ({"hidden_layer_sizes": (2.5,)}, np.empty((0, 3))),
    "negative hidden, NaN X": ({"hidden_layer_sizes": (-1,)}, np.full((20, 3), np.nan)),
    "bad batch_size, NaN X": ({"batch_size": 0}, np.full((20, 3), np.nan)),
    "float hidden, NaN X": ({"hidden_layer_sizes": (2.5,)}, np.full((20, 3), np.nan)),
    "float hidden, 1-D X": ({"hidden_layer_sizes": (2.5,)}, np.zeros(20)),
}


@pytest.mark.parametrize("case", TWO_FAULTS)
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_two_faults_raise_what_scikit_learn_raises_first(case, kind):
    params, X_bad = TWO_FAULTS[case]
    sk_cls, fast_cls = {
        "classifier": (MLPClassifier, FastMLPClassifier),
        "regressor": (MLPRegressor, FastMLPRegressor),
    }[kind]
    y = np.arange(X_bad.shape[0]) % 2
    errors = []
    for cls in (sk_cls, fast_cls):
        with pytest.raises(Exception) as err:
            quietly(cls(**params).fit, X_bad, y)
        errors.append(err.value)
    sk_err, fast_err = errors
    # The same class, or (InvalidParameterError lives in a private module of
    # scikit-learn) one of the same name with the same built-in bases.
    assert type(fast_err).__name__ == type(sk_err).__name__, (sk_err, fast_err)
    builtin_bases = [b for b in type(sk_err).__mro__ if b.__module__ == "builtins"]
    assert all(isinstance(fast_err, base) for base in builtin_bases)
    if not str(fast_err).startswith("hidden_layer_sizes must contain integers"):
        assert str(fast_err) == str(sk_err).replace(sk_cls.__name__, fast_cls.__name__)


@pytest.mark.parametrize(
    "new_hidden, outputs, error",
    [((7,), 1, None), ((7, 8), 1, TypeError), ((5,), 2, ValueError)],
)
def test_warm_start_with_another_network_shape_as_in_scikit_learn(
    new_hidden, outputs, error
):
    y = rng.rand(20)
    y_new = y if outputs == 1 else np.c_[y, y]
    ests = pair(
        MLPRegressor,
        FastMLPRegressor,
        hidden_layer_sizes=(5,),
        warm_start=True,
        max_iter=3,
        random_state=0,
    )
    for est in ests:
        quietly(est.fit, X, y)
        est.set_params(hidden_layer_sizes=new_hidden)
        if error is None:  # same depth: both go on with the network they have
            quietly(est.fit, X, y_new)
            assert [c.shape for c in est.coefs_] == [(3, 5), (5, 1)]
        else:
            with pytest.raises(error):
                quietly(est.fit, X, y_new)
    with fastmlp.config_context(strict=True):
        with pytest.raises(ValueError, match="network shape changed"):
            quietly(ests[1].set_params(hidden_layer_sizes=(9,)).fit, X, y)
