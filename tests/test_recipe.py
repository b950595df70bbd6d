"""The RealMLP-style recipe: its transformer and its preset estimators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.utils.estimator_checks import check_estimator

from fastmlp.recipe import RobustScaleSmoothClip, realmlp_classifier, realmlp_regressor

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def test_robust_scaling_and_smooth_clipping_by_hand():
    X = np.array([[0.0, 5.0, 1.0], [1.0, 5.0, 1.0], [2.0, 5.0, 1.0], [3.0, 5.0, 9.0],
                  [100.0, 5.0, 1.0]])  # fmt: skip
    t = RobustScaleSmoothClip().fit(X)
    # column 0: median 2, quartiles 1 and 3; column 1 constant; column 2's
    # quartiles coincide: half its range
    np.testing.assert_allclose(t.center_, [2.0, 5.0, 1.0])
    np.testing.assert_allclose(t.scale_, [0.5, 0.0, 2.0 / 8.0])
    z = (X - t.center_) * t.scale_
    np.testing.assert_allclose(t.transform(X), z / np.sqrt(1 + (z / 3) ** 2))
    out = t.transform(X)
    assert out[4, 0] == pytest.approx(49 / np.sqrt(1 + (49 / 3) ** 2))
    assert np.abs(out).max() < 3  # outliers level off below clip
    assert (out[:, 1] == 0).all()


def test_transformer_passes_sklearns_checks():
    check_estimator(RobustScaleSmoothClip())


@ignore_convergence
def test_presets_follow_the_recipe_and_fit():
    clf = realmlp_classifier(random_state=0, max_iter=5)
    mlp = clf.named_steps["mlp"]
    assert mlp.hidden_layer_sizes == (256, 256, 256) and mlp.activation == "selu"
    assert mlp.label_smoothing == 0.1 and mlp.lr_schedule == "cosine"
    assert mlp.weight_decay > 0 and mlp.dropout > 0 and mlp.early_stopping
    X, y = load_iris(return_X_y=True)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.6
    twin = clone(clf).fit(X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    X, y = load_diabetes(return_X_y=True)
    reg = realmlp_regressor(random_state=0, max_iter=5).fit(X, y)
    assert reg.score(X, y) > 0.2
    assert realmlp_classifier(max_iter=7).named_steps["mlp"].max_iter == 7
