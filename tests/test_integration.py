"""fastmlp inside scikit-learn's tooling: pipelines, searches, ensembles, processes."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_iris
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def small_clf(**kw):
    return FastMLPClassifier(
        (16,), learning_rate_init=0.01, max_iter=200, random_state=0, **kw
    )


def test_pipeline_with_scaler_learns_iris(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), small_clf()).fit(X, y)
    assert pipe.score(X, y) > 0.9


def test_grid_search_in_two_worker_processes(iris):
    X, y = iris
    search = GridSearchCV(
        make_pipeline(StandardScaler(), small_clf()),
        {"fastmlpclassifier__alpha": [1e-4, 1e-1]},
        cv=2,
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert search.best_score_ > 0.85
    assert search.best_estimator_.score(X, y) > 0.9


def test_cross_val_score(iris):
    X, y = iris
    scores = cross_val_score(make_pipeline(StandardScaler(), small_clf()), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.85


def test_calibrated_classifier(iris):
    X, y = iris
    Xs = StandardScaler().fit_transform(X)
    cal = CalibratedClassifierCV(small_clf(), cv=3).fit(Xs, y)
    proba = cal.predict_proba(Xs)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert cal.score(Xs, y) > 0.85


def test_soft_voting_with_another_model(iris):
    X, y = iris
    Xs = StandardScaler().fit_transform(X)
    vote = VotingClassifier(
        [("mlp", small_clf()), ("lr", LogisticRegression(max_iter=500))], voting="soft"
    ).fit(Xs, y)
    assert vote.score(Xs, y) > 0.9


def test_pandas_feature_names_and_mismatch_warning():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = small_clf().fit(X, y)
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns.to_numpy())
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X.to_numpy())
    renamed = X.rename(columns={X.columns[0]: "other"})
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)
    assert isinstance(pd.Series(clf.predict(X)).iloc[0], np.integer | int)


def test_regressor_accepts_a_one_column_y():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3)
    y = X @ [1.0, -2.0, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = FastMLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
        with pytest.warns(Warning, match="column-vector y"):
            reg.fit(X, y.reshape(-1, 1))
    assert reg.predict(X).shape == (60,)


FRESH_PROCESS = """
import warnings
import numpy as np
import fastmlp
from fastmlp.kernels import cpu
X = np.random.RandomState(0).rand(30, 4)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    clf = fastmlp.FastMLPClassifier((5,), max_iter=2, random_state=0)
    clf.fit(X, np.arange(30) % 3)
stats = cpu.cache_stats()
print(stats["misses"])
print(stats["hits"])
"""


def test_a_fresh_process_loads_kernels_from_the_numba_cache(tmp_path):
    # This process compiles (or loads) the float64 kernels and caches them.
    X = np.random.RandomState(1).rand(30, 4)
    FastMLPClassifier((5,), max_iter=2, random_state=0).fit(X, np.arange(30) % 3)
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    misses, hits = (int(v) for v in out.stdout.split())
    assert misses == 0
    assert hits >= 1
