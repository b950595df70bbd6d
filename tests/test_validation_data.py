"""Validation data passed to ``fit``, ``scoring`` and ``validation_loss_curve_``.

``fit(X, y, sample_weight, *, X_val, y_val, sample_weight_val)`` follows
scikit-learn's ``HistGradientBoostingClassifier.fit``: the same rules and
messages (compared side by side). The validation loss and scores are checked
against scikit-learn's metrics on the restored best weights.
"""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor
from fastmlp.exceptions import InvalidParameterError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PARAMS = dict(
    hidden_layer_sizes=(16,),
    early_stopping=True,
    n_iter_no_change=1000,
    max_iter=12,
    random_state=0,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:600], y[:600], X[600:900], y[600:900]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=400, n_features=6, noise=5.0, random_state=0)
    y = y / y.std()
    return X[:300], y[:300], X[300:], y[300:]


def test_validation_data_is_scored_every_epoch_and_the_best_epoch_restored(digits):
    X, y, X_val, y_val = digits
    clf = FastMLPClassifier(**PARAMS).fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 12
    # the restored weights are those of the best epoch, scored on X_val
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    best = int(np.argmax(clf.validation_scores_))
    expected_loss = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
    assert clf.validation_loss_curve_[best] == pytest.approx(expected_loss, rel=1e-10)


def test_scoring_loss_stops_on_the_validation_loss(digits):
    X, y, X_val, y_val = digits
    clf = FastMLPClassifier(scoring="loss", **PARAMS)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(
        clf.validation_scores_, -np.array(clf.validation_loss_curve_)
    )
    assert -clf.best_validation_score_ == pytest.approx(
        log_loss(y_val, clf.predict_proba(X_val)), rel=1e-10
    )


def test_regressor_validation_loss_is_half_the_mean_squared_error(regression):
    X, y, X_val, y_val = regression
    reg = FastMLPRegressor(scoring="loss", **PARAMS).fit(X, y, X_val=X_val, y_val=y_val)
    assert min(reg.validation_loss_curve_) == pytest.approx(
        0.5 * mean_squared_error(y_val, reg.predict(X_val)), rel=1e-10
    )


def test_scorer_names_and_callables_are_scikit_learn_scorers(digits):
    X, y, X_val, y_val = digits
    named = FastMLPClassifier(scoring="balanced_accuracy", **PARAMS)
    named.fit(X, y, X_val=X_val, y_val=y_val)
    assert named.best_validation_score_ == pytest.approx(
        balanced_accuracy_score(y_val, named.predict(X_val))
    )
    calls = []

    def scorer(est, X_, y_):
        calls.append((X_.shape, np.asarray(y_).shape))
        return accuracy_score(y_, est.predict(X_))

    FastMLPClassifier(scoring=scorer, **PARAMS).fit(X, y, X_val=X_val, y_val=y_val)
    assert calls == [(X_val.shape, y_val.shape)] * 12


def test_sample_weight_val_weighs_the_validation_score(digits):
    X, y, X_val, y_val = digits
    sw_val = np.random.RandomState(0).uniform(0.1, 2.0, y_val.shape[0])
    clf = FastMLPClassifier(**PARAMS)
    clf.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
    assert clf.best_validation_score_ == pytest.approx(
        accuracy_score(y_val, clf.predict(X_val), sample_weight=sw_val)
    )


def test_without_early_stopping_there_is_no_validation_curve(digits):
    X, y, _, _ = digits
    clf = FastMLPClassifier(hidden_layer_sizes=(8,), max_iter=3).fit(X, y)
    assert clf.validation_loss_curve_ is None and clf.validation_scores_ is None


def test_validation_fraction_split_also_gets_a_loss_curve(digits):
    X, y, _, _ = digits
    clf = FastMLPClassifier(**PARAMS).fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_


def test_default_scoring_keeps_the_validation_scores(digits):
    # scoring=None and "accuracy" are the same scores (scikit-learn's own)
    X, y, _, _ = digits
    plain = FastMLPClassifier(**PARAMS).fit(X, y)
    named = FastMLPClassifier(scoring="accuracy", **PARAMS).fit(X, y)
    np.testing.assert_array_equal(plain.validation_scores_, named.validation_scores_)
    np.testing.assert_array_equal(plain.coefs_[0], named.coefs_[0])


@pytest.mark.parametrize(
    "given",
    [
        {"X_val": "X"},
        {"y_val": "y"},
        {"X_val": "X3", "y_val": "y"},
        {"X_val": "X", "y_val": "y_unseen"},
        {"X_val": "X", "y_val": "y_short"},
        {"X_val": "X", "y_val": "y", "sample_weight_val": "sw_short"},
    ],
)
def test_validation_data_errors_are_gradient_boostings(digits, given):
    X, y, _, _ = digits
    values = {
        "X": X[:50],
        "X3": X[:50, :3],
        "y": y[:50],
        "y_unseen": np.r_[y[:49], 42],
        "y_short": y[:40],
        "sw_short": np.ones(40),
    }
    kwargs = {k: values[v] for k, v in given.items()}
    with pytest.raises(ValueError) as expected:
        HistGradientBoostingClassifier(early_stopping=True).fit(X, y, **kwargs)
    with pytest.raises(ValueError) as got:
        FastMLPClassifier(early_stopping=True, max_iter=1).fit(X, y, **kwargs)
    want = str(expected.value).replace(
        "HistGradientBoostingClassifier", "FastMLPClassifier"
    )
    assert str(got.value) == want


def test_validation_data_without_early_stopping_is_refused_as_gradient_boosting(
    digits,
):
    X, y, X_val, y_val = digits
    with pytest.raises(ValueError) as expected:
        HistGradientBoostingClassifier(early_stopping=False).fit(
            X, y, X_val=X_val, y_val=y_val
        )
    with pytest.raises(ValueError) as got:
        FastMLPClassifier(max_iter=1).fit(X, y, X_val=X_val, y_val=y_val)
    first_sentence = str(expected.value).split(". ")[0]
    assert str(got.value).startswith(first_sentence)
    assert "early_stopping should be set to True" in str(got.value)


def test_validation_data_with_lbfgs_says_what_to_change(digits):
    X, y, X_val, y_val = digits
    with pytest.raises(ValueError, match="only the stochastic solvers"):
        FastMLPClassifier(solver="lbfgs", early_stopping=True).fit(
            X, y, X_val=X_val, y_val=y_val
        )


def test_invalid_scoring(digits):
    X, y, X_val, y_val = digits
    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        FastMLPClassifier(scoring=3).fit(X, y)
    with pytest.raises(ValueError, match="not a valid scoring value"):
        FastMLPClassifier(scoring="no_such_score", **PARAMS).fit(
            X, y, X_val=X_val, y_val=y_val
        )


def test_multilabel_validation_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5))
    Y = (X[:, :3] > 0).astype(int)
    clf = FastMLPClassifier(scoring="loss", **PARAMS)
    clf.fit(X[:80], Y[:80], X_val=X[80:], y_val=Y[80:])
    assert len(clf.validation_loss_curve_) == 12


def test_pipeline_transforms_x_val_as_scikit_learn_does(digits):
    X, y, X_val, y_val = digits
    with sklearn.config_context(enable_metadata_routing=True):
        model = FastMLPClassifier(**PARAMS).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", model)], transform_input=["X_val"]
        )
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    assert pipe[-1].best_validation_score_ == pytest.approx(pipe.score(X_val, y_val))
