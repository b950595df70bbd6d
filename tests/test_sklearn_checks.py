"""scikit-learn's own estimator checks, run on both estimators."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastmlp import FastMLPClassifier, FastMLPRegressor

# Small, quick settings: the checks fit hundreds of times; convergence is not
# what they test (scikit-learn's own MLP checks use max_iter=200 similarly).
ESTIMATORS = [
    FastMLPClassifier(max_iter=200, random_state=0),
    FastMLPRegressor(max_iter=200, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
