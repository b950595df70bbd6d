"""Mean held-out score over 5 seeds matches scikit-learn's, for every solver.

The full table over every bundled dataset is ``python -m bench.parity``;
this test runs the quick datasets so CI keeps the claim true.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor

SEEDS = range(5)


def mean_scores(X, y, fast_cls, sk_cls, solver, stratify):
    fast, sk = [], []
    for seed in SEEDS:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y if stratify else None
        )
        for cls, scores in ((fast_cls, fast), (sk_cls, sk)):
            model = make_pipeline(
                StandardScaler(), cls(solver=solver, max_iter=200, random_state=seed)
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_tr, y_tr)
            scores.append(model.score(X_te, y_te))
    return np.mean(fast), np.mean(sk)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("loader", [load_iris, load_wine], ids=["iris", "wine"])
def test_classifier_accuracy_within_one_point_of_sklearn(loader, solver):
    X, y = loader(return_X_y=True)
    fast, sk = mean_scores(X, y, FastMLPClassifier, MLPClassifier, solver, True)
    assert abs(fast - sk) <= 0.01


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_r2_within_0_01_of_sklearn_on_diabetes(solver):
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    fast, sk = mean_scores(X, y, FastMLPRegressor, MLPRegressor, solver, False)
    assert abs(fast - sk) <= 0.01
