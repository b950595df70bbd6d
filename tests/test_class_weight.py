"""``class_weight`` on the classifier, side by side with scikit-learn.

scikit-learn's MLP has no ``class_weight``; its other classifiers multiply
``compute_sample_weight(class_weight, y)`` into ``sample_weight``. So a
class-weighted fastmlp fit must equal scikit-learn's MLP fitted with those
sample weights, and its errors must be the forests' and SGD's.
"""

import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight

from fastmlp import FastMLPClassifier
from fastmlp.exceptions import InvalidParameterError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ONE_STEP = dict(
    hidden_layer_sizes=(6,),
    solver="sgd",
    max_iter=2,
    shuffle=False,
    batch_size=8,
    random_state=0,
)


def make_data(kind, n=40):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    if kind == "binary":
        y = np.where(rng.rand(n) < 0.25, "rare", "common")
    elif kind == "multiclass":
        y = rng.choice([3, 5, 7], size=n, p=[0.6, 0.3, 0.1])
        y[:3] = [3, 5, 7]
    else:
        y = rng.randint(0, 2, (n, 3))
        y[:2] = [[0, 0, 0], [1, 1, 1]]
    return X, y


def assert_same_weights(a, b, rtol=1e-10, atol=1e-12):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=atol)


CASES = [
    ("binary", "balanced"),
    ("binary", {"rare": 5.0, "common": 0.5}),
    ("multiclass", "balanced"),
    ("multiclass", {3: 1.0, 5: 2.0, 7: 10.0}),
    ("multilabel", "balanced"),
    ("multilabel", [{0: 1, 1: 3}, {0: 2, 1: 1}, {0: 1, 1: 1}]),
]


@pytest.mark.parametrize(("kind", "class_weight"), CASES)
def test_class_weight_equals_sklearn_mlp_with_its_sample_weight(kind, class_weight):
    X, y = make_data(kind)
    sw = compute_sample_weight(class_weight, y)
    sk = MLPClassifier(**ONE_STEP).fit(X, y, sample_weight=sw)
    fast = FastMLPClassifier(class_weight=class_weight, **ONE_STEP).fit(X, y)
    assert_same_weights(fast, sk)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize(("kind", "class_weight"), CASES[::2])
def test_class_weight_multiplies_sample_weight(kind, class_weight):
    X, y = make_data(kind)
    sw = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0])
    both = FastMLPClassifier(class_weight=class_weight, **ONE_STEP)
    both.fit(X, y, sample_weight=sw)
    product = FastMLPClassifier(**ONE_STEP).fit(
        X, y, sample_weight=sw * compute_sample_weight(class_weight, y)
    )
    assert_same_weights(both, product, rtol=1e-14, atol=0)


def test_class_weight_changes_the_fit():
    # Guards the tests above: the weights are not silently ignored by both.
    X, y = make_data("multiclass")
    plain = FastMLPClassifier(**ONE_STEP).fit(X, y)
    weighted = FastMLPClassifier(class_weight="balanced", **ONE_STEP).fit(X, y)
    assert not np.allclose(plain.coefs_[0], weighted.coefs_[0])


def test_balanced_class_weight_raises_the_recall_of_a_rare_class():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=400) > 1.4).astype(int)  # ~10 % ones
    params = dict(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    plain = FastMLPClassifier(**params).fit(X, y)
    balanced = FastMLPClassifier(class_weight="balanced", **params).fit(X, y)
    recall = [(m.predict(X)[y == 1] == 1).mean() for m in (plain, balanced)]
    assert recall[1] > recall[0] + 0.1


@pytest.mark.parametrize(
    ("kind", "class_weight"),
    [
        ("multiclass", {3: 1.0, 5: 2.0, 9: 1.0}),  # a class of y missing
        ("multilabel", {0: 1.0, 1: 2.0}),  # a dict for several outputs
        ("multilabel", [{0: 1, 1: 2}]),  # a list of the wrong length
    ],
)
def test_invalid_class_weight_raises_the_forests_error(kind, class_weight):
    X, y = make_data(kind)
    with pytest.raises(ValueError) as expected:
        RandomForestClassifier(n_estimators=2, class_weight=class_weight).fit(X, y)
    with pytest.raises(ValueError) as got:
        FastMLPClassifier(class_weight=class_weight, max_iter=1).fit(X, y)
    assert str(got.value) == str(expected.value)


def test_class_weight_of_another_type_is_an_invalid_parameter():
    X, y = make_data("binary")
    with pytest.raises(InvalidParameterError, match="'class_weight' parameter"):
        FastMLPClassifier(class_weight="balanced_subsample").fit(X, y)


def test_partial_fit_refuses_balanced_with_sgd_classifiers_message():
    X, y = make_data("binary")
    with pytest.raises(ValueError) as expected:
        SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))
    with pytest.raises(ValueError) as got:
        FastMLPClassifier(class_weight="balanced").partial_fit(
            X, y, classes=np.unique(y)
        )
    assert str(got.value) == str(expected.value)


def test_partial_fit_weighs_each_batch_by_the_dict():
    X, y = make_data("multiclass")
    class_weight = {3: 1.0, 5: 2.0, 7: 10.0}
    params = dict(hidden_layer_sizes=(6,), solver="sgd", shuffle=False, random_state=0)
    weighted = FastMLPClassifier(class_weight=class_weight, **params)
    weighted.partial_fit(X, y, classes=[3, 5, 7])
    plain = FastMLPClassifier(**params).partial_fit(
        X, y, classes=[3, 5, 7], sample_weight=compute_sample_weight(class_weight, y)
    )
    assert_same_weights(weighted, plain, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "y", [np.array([False] * 19 + [True]), np.array(["a"] * 19 + ["b"])]
)
def test_early_stopping_split_names_a_lonely_class_as_sklearn(y):
    # scikit-learn stratifies on its binarized labels as bool: ['True'] for
    # either labelling, where fastmlp once said ['1.0'].
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError) as expected:
        MLPClassifier(early_stopping=True, max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as got:
            FastMLPClassifier(early_stopping=True, max_iter=2).fit(X, y)
    assert "['True']" in str(expected.value)
    assert str(got.value) == str(expected.value)
