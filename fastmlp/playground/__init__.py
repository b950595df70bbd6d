"""The TensorFlow Playground in Python, on fastmlp's kernels.

* Data sets with the Playground's generators and noise: :func:`make_circle`,
  :func:`make_xor`, :func:`make_gauss`, :func:`make_spiral`,
  :func:`make_plane`, :func:`make_multi_gauss`, and
  :func:`split_train_test`.
* :class:`PlaygroundFeatures`: the inputs X1, X2, X1^2, X2^2, X1X2, sin(X1),
  sin(X2) as a scikit-learn transformer.
* Training as the Playground trains: :class:`PlaygroundClassifier` (tanh
  output, squared error on labels +-1) and :class:`PlaygroundRegressor`
  (both with its L1 rule and its shuffle-once), made with its defaults and
  names by :func:`playground_classifier`/:func:`playground_regressor`
  (:func:`playground_params`: ``regularization="L1"``,
  ``regularization_rate``, ``activation="sigmoid"``); :func:`set_weight`,
  :func:`set_bias` and :func:`set_learning_rate` between ``partial_fit``
  calls; :func:`fit_with_curves` (train and test loss per epoch),
  :func:`count_parameters`.
* Pictures (need matplotlib, the ``plot`` extra; imported on first use):
  :func:`plot_decision_boundary`, :func:`plot_network`,
  :func:`plot_loss_curves`.
* The course's exercises: ``python -m fastmlp.playground list`` and
  ``python -m fastmlp.playground <scenario> --out DIR``
  (:mod:`fastmlp.playground.scenarios`).

``import fastmlp`` does not import this package, and importing it does not
import matplotlib.
"""

import importlib

from ._datasets import (
    CLASSIFICATION_DATASETS,
    REGRESSION_DATASETS,
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
    multi_gauss_target,
    split_train_test,
)
from ._features import FEATURE_NAMES, PlaygroundFeatures
from ._training import (
    PLAYGROUND_DEFAULTS,
    LearningCurves,
    PlaygroundClassifier,
    PlaygroundRegressor,
    count_parameters,
    fit_with_curves,
    playground_classifier,
    playground_params,
    playground_regressor,
    set_bias,
    set_learning_rate,
    set_weight,
)

#: Names served lazily by :mod:`fastmlp.playground.plots` (matplotlib).
_PLOT_NAMES = (
    "PLAYGROUND_CMAP",
    "plot_decision_boundary",
    "plot_loss_curves",
    "plot_network",
)

__all__ = [
    "CLASSIFICATION_DATASETS",
    "FEATURE_NAMES",
    "PLAYGROUND_DEFAULTS",
    "REGRESSION_DATASETS",
    "LearningCurves",
    "PlaygroundClassifier",
    "PlaygroundFeatures",
    "PlaygroundRegressor",
    "count_parameters",
    "fit_with_curves",
    "make_circle",
    "make_gauss",
    "make_multi_gauss",
    "make_plane",
    "make_spiral",
    "make_xor",
    "multi_gauss_target",
    "playground_classifier",
    "playground_params",
    "playground_regressor",
    "set_bias",
    "set_learning_rate",
    "set_weight",
    "split_train_test",
]  # the plot names stay out: ``import *`` must not need matplotlib


def __getattr__(name):
    if name in _PLOT_NAMES:
        return getattr(importlib.import_module(".plots", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PLOT_NAMES))
