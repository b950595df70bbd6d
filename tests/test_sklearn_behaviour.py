"""Behaviours of scikit-learn's MLPs that fastmlp reproduces, side by side."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fastmlp import FastMLPClassifier, FastMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 0.8)
    return X, y


def weights(model):
    return [*model.coefs_, *model.intercepts_]


def assert_same_weights(a, b, rtol=1e-9, atol=1e-12):
    for wa, wb in zip(weights(a), weights(b), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=atol)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_integer_sample_weight_equals_repeating_rows(clf_data, solver):
    X, y = clf_data
    counts = np.random.RandomState(1).randint(0, 4, X.shape[0])
    counts[:3] = 1  # keep every class present
    X_rep, y_rep = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    # Full batches in a fixed order: the weighted and the repeated gradients
    # are then the same sums.
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        max_iter=15,
        shuffle=False,
        batch_size=10_000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
        weighted = FastMLPClassifier(**params).fit(X, y, sample_weight=counts)
        repeated = FastMLPClassifier(**params).fit(X_rep, y_rep)
    assert_same_weights(weighted, repeated, rtol=1e-7, atol=1e-10)


def test_lbfgs_respects_max_fun_like_sklearn(clf_data):
    X, y = clf_data
    params = dict(
        hidden_layer_sizes=(5,), solver="lbfgs", max_fun=7, max_iter=500, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        fast = FastMLPClassifier(**params).fit(X, y)
    sk = MLPClassifier(**params).fit(X, y)
    assert fast.n_iter_ == sk.n_iter_ <= 7
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=1e-8)


def test_n_iter_no_change_inf_trains_every_epoch(clf_data):
    X, y = clf_data
    model = FastMLPClassifier(
        (4,), tol=1e3, n_iter_no_change=np.inf, max_iter=12, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        model.fit(X, y)
    assert model.n_iter_ == 12
    # With a finite patience the same huge tol stops it early, as scikit-learn.
    early = FastMLPClassifier(
        (4,), tol=1e3, n_iter_no_change=2, max_iter=12, random_state=0
    ).fit(X, y)
    sk = MLPClassifier(
        (4,), tol=1e3, n_iter_no_change=2, max_iter=12, random_state=0
    ).fit(X, y)
    assert early.n_iter_ == sk.n_iter_ < 12


def test_fit_equals_repeated_partial_fit_without_shuffling(clf_data):
    X, y = clf_data
    params = dict(
        hidden_layer_sizes=(5,), shuffle=False, batch_size=16, tol=0, random_state=0
    )
    fitted = FastMLPClassifier(max_iter=4, n_iter_no_change=100, **params).fit(X, y)
    stepped = FastMLPClassifier(**params)
    sk = MLPClassifier(**params)
    for _ in range(4):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
        sk.partial_fit(X, y, classes=[0, 1, 2])
    assert_same_weights(fitted, stepped)
    assert_same_weights(stepped, sk)
    assert stepped.t_ == fitted.t_ == 4 * X.shape[0]


def test_multilabel_predictions_match_sklearn():
    X, Y = make_multilabel_classification(
        n_samples=80, n_features=6, n_classes=4, random_state=0
    )
    params = dict(hidden_layer_sizes=(10,), max_iter=40, shuffle=False, random_state=0)
    fast = FastMLPClassifier(**params).fit(X, Y)
    sk = MLPClassifier(**params).fit(X, Y)
    assert fast.out_activation_ == sk.out_activation_ == "logistic"
    np.testing.assert_array_equal(fast.predict(X), sk.predict(X))
    np.testing.assert_allclose(fast.predict_proba(X), sk.predict_proba(X), rtol=1e-8)
    assert fast.predict(X).shape == Y.shape


def test_multioutput_regression_matches_sklearn():
    rng = np.random.RandomState(0)
    X = rng.rand(50, 3)
    Y = np.column_stack([X @ [1, 2, 3], np.sin(X[:, 0])])
    params = dict(hidden_layer_sizes=(7,), max_iter=30, shuffle=False, random_state=0)
    fast = FastMLPRegressor(**params).fit(X, Y)
    sk = MLPRegressor(**params).fit(X, Y)
    np.testing.assert_allclose(fast.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-9)


def test_poisson_rejects_negative_targets():
    # A deliberate deviation: scikit-learn 1.9 trains on them and returns a
    # meaningless model (the Poisson deviance is undefined for y < 0).
    X = np.random.RandomState(0).rand(10, 2)
    model = FastMLPRegressor(loss="poisson")
    with pytest.raises(ValueError, match="negative which is not allowed for Poisson"):
        model.fit(X, np.linspace(-1, 1, 10))
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("cls", [FastMLPRegressor, MLPRegressor])
def test_validation_set_too_small_is_an_error(cls):
    X = np.random.RandomState(0).rand(10, 2)
    with pytest.raises(ValueError, match="validation set is too small"):
        cls(early_stopping=True, validation_fraction=0.1).fit(X, X[:, 0])


def test_poisson_regression_matches_sklearn():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = rng.poisson(np.exp(X @ [0.5, 1.0, -0.5]))
    params = dict(
        loss="poisson",
        hidden_layer_sizes=(4,),
        max_iter=20,
        shuffle=False,
        random_state=0,
    )
    fast = FastMLPRegressor(**params).fit(X, y)
    sk = MLPRegressor(**params).fit(X, y)
    assert fast.out_activation_ == "exp"
    np.testing.assert_allclose(fast.predict(X), sk.predict(X), rtol=1e-8)


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 3, 3, 1]),
        np.array([0, 1, 2, 1, 0, 7], dtype=np.int32),
        np.array([-5, 2, 2, 9], dtype=np.int8),
        np.array([4, 200, 4], dtype=np.uint8),
        np.array([True, False, True]),
        np.array([2**40, -(2**40), 0, 5], dtype=np.int64),
        np.array([7, 7, 8], dtype=np.uint64),
    ],
)
def test_integer_label_fast_path_equals_label_binarizer(y):
    from sklearn.preprocessing import LabelBinarizer

    from fastmlp._mlp import _binarize_int_labels

    binarizer, Y = _binarize_int_labels(y, np.float32)
    reference = LabelBinarizer().fit(y)
    assert vars(binarizer).keys() == vars(reference).keys()
    assert binarizer.get_params() == reference.get_params()
    assert binarizer.y_type_ == reference.y_type_
    assert binarizer.sparse_input_ is reference.sparse_input_
    assert binarizer.classes_.dtype == reference.classes_.dtype
    np.testing.assert_array_equal(binarizer.classes_, reference.classes_)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, reference.transform(y))
    np.testing.assert_array_equal(binarizer.inverse_transform(Y), y)


def test_integer_label_fast_path_leaves_other_labels_to_label_binarizer():
    from fastmlp._mlp import _binarize_int_labels

    assert _binarize_int_labels(np.array([1, 1, 1]), np.float64) is None
    assert _binarize_int_labels(np.array(["a", "b"]), np.float64) is None
    assert _binarize_int_labels(np.array([0.0, 1.0]), np.float64) is None
    assert _binarize_int_labels(np.eye(3, dtype=int), np.float64) is None
