"""Sparse X trains and predicts exactly as its dense twin, never densified."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from fastmlp import FastMLPClassifier, FastMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(120, 30)
    X[X < 0.7] = 0.0
    y_clf = (X[:, :5].sum(axis=1) > 0.8).astype(int) + (X[:, 5] > 0.5)
    y_reg = X[:, :3] @ [1.0, -2.0, 0.5]
    return X, y_clf, y_reg


def weights(model):
    return [*model.coefs_, *model.intercepts_]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classifier_sparse_fit_equals_dense_fit(data, fmt, solver, dtype):
    X, y, _ = data
    X = X.astype(dtype)
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=15, random_state=0)
    dense = FastMLPClassifier(**params).fit(X, y)
    sparse = FastMLPClassifier(**params).fit(sp.csr_matrix(X).asformat(fmt), y)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(weights(dense), weights(sparse), strict=True):
        # L-BFGS ends in float64, as scikit-learn's; sgd/adam keep X's dtype.
        assert b.dtype == (np.float64 if solver == "lbfgs" else dtype)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X).asformat(fmt)),
        dense.predict_proba(X),
        rtol=tol,
        atol=tol,
    )


def test_regressor_sparse_with_early_stopping_and_weights_equals_dense(data):
    X, _, y = data
    sw = np.random.RandomState(1).rand(X.shape[0])
    params = dict(
        hidden_layer_sizes=(6,), max_iter=20, early_stopping=True, random_state=0
    )
    dense = FastMLPRegressor(**params).fit(X, y, sample_weight=sw)
    sparse = FastMLPRegressor(**params).fit(sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(dense.validation_scores_, sparse.validation_scores_)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_partial_fit_on_sparse_batches_equals_dense(data):
    X, y, _ = data
    dense = FastMLPClassifier((5,), random_state=0)
    sparse = FastMLPClassifier((5,), random_state=0)
    for rows in np.array_split(np.arange(X.shape[0]), 3):
        dense.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        sparse.partial_fit(sp.csr_matrix(X[rows]), y[rows], classes=[0, 1, 2])
    for a, b in zip(weights(dense), weights(sparse), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sparse_rows_with_no_stored_entries(data):
    X, y, _ = data
    X = X.copy()
    X[:10] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FastMLPClassifier((4,), max_iter=5, random_state=0)
        model.fit(sp.csr_matrix(X), y)
    proba = model.predict_proba(sp.csr_matrix(X[:10]))
    np.testing.assert_allclose(proba, model.predict_proba(X[:10]))
