"""A tabular recipe that is good by default, after RealMLP.

Holzmüller, Grinsztajn and Steinwart, "Better by default: strong pre-tuned
MLPs and boosted trees on tabular data" (NeurIPS 2024) publish RealMLP-TD's
defaults. This module follows those that fastmlp has:

* :class:`RobustScaleSmoothClip`, their preprocessing as a scikit-learn
  transformer: each column centred on its median and divided by its
  interquartile range (half its range where that is 0; constant columns
  become 0), then smoothly clipped, ``x / sqrt(1 + (x / 3)^2)``.
* :func:`realmlp_classifier` / :func:`realmlp_regressor`: that transformer in
  a :class:`~sklearn.pipeline.Pipeline` before a
  :class:`~fastmlp.FastMLPClassifier` / :class:`~fastmlp.FastMLPRegressor`
  with three hidden layers of 256 units, SELU (RealMLP uses Mish for
  regression; fastmlp has no Mish yet, so SELU there too), Adam with decoupled
  weight decay, dropout 0.15, label smoothing 0.1 (classifier), a cosine
  learning-rate schedule, and the best epoch on a held-out fifth restored.

Not followed (fastmlp has no equivalent yet): RealMLP's numerical embeddings
(periodic bias-linear), its diagonal scaling layer and per-parameter
learning-rate factors, NTK parametrisation, the scheduled dropout and weight
decay (flat-cosine), one-hot encoding of categorical columns (do it in the
pipeline), and its epoch count (256).
"""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ._mlp import FastMLPClassifier, FastMLPRegressor


class RobustScaleSmoothClip(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Robust scaling with smooth clipping (RealMLP's preprocessing).

    ``z = (x - median) * scale`` with ``scale = 1 / (q75 - q25)``, or
    ``2 / (max - min)`` for a column whose quartiles coincide, or 0 for a
    constant column; then ``z / sqrt(1 + (z / clip)^2)``, which is ``z`` near
    0 and tends to ``+-clip`` for outliers.

    Parameters
    ----------
    clip : float, default=3.0
        Where the smooth clipping levels off.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Column medians.
    scale_ : ndarray of shape (n_features,)
        Column factors.
    n_features_in_ : int
    """

    def __init__(self, clip=3.0):
        self.clip = clip

    def fit(self, X, y=None):
        """Learn each column's median and scale from ``X (n, n_features)``."""
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        q25, median, q75 = np.quantile(X, [0.25, 0.5, 0.75], axis=0)
        lo, hi = X.min(axis=0), X.max(axis=0)
        iqr, span = q75 - q25, hi - lo
        with np.errstate(divide="ignore"):
            scale = np.where(iqr > 0, 1.0 / iqr, np.where(span > 0, 2.0 / span, 0.0))
        self.center_ = median
        self.scale_ = scale
        return self

    def transform(self, X):
        """``X`` robustly scaled and smoothly clipped, same shape and dtype."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        Z = (X - self.center_) * self.scale_
        return (Z / np.sqrt(1.0 + (Z / self.clip) ** 2)).astype(X.dtype, copy=False)


#: The MLP's settings shared by both recipes (see the module docstring).
RECIPE = dict(
    hidden_layer_sizes=(256, 256, 256),
    activation="selu",
    solver="adam",
    alpha=0.0,
    batch_size="auto",  # min(200, n): RealMLP uses 256
    learning_rate_init=1e-3,
    max_iter=40,
    lr_schedule="cosine",
    weight_decay=1e-2,
    dropout=0.15,
    early_stopping=True,
    validation_fraction=0.2,
    # run every epoch, then restore the best one on the held-out fifth
    n_iter_no_change=np.inf,
    tol=0.0,
)


def realmlp_classifier(**params):
    """RealMLP-style classifier: ``Pipeline([scale, FastMLPClassifier])``.

    ``params`` override the MLP's settings (:data:`RECIPE`, and
    ``label_smoothing=0.1``), e.g. ``random_state=0`` or ``max_iter=100``.
    """
    settings = {**RECIPE, "label_smoothing": 0.1, **params}
    return Pipeline(
        [("scale", RobustScaleSmoothClip()), ("mlp", FastMLPClassifier(**settings))]
    )


def realmlp_regressor(**params):
    """RealMLP-style regressor: the targets standardised
    (:class:`~sklearn.compose.TransformedTargetRegressor` with a
    ``StandardScaler``, as RealMLP does), around ``Pipeline([scale,
    FastMLPRegressor])``.

    ``params`` override the MLP's settings (:data:`RECIPE`).
    """
    settings = {**RECIPE, **params}
    pipeline = Pipeline(
        [("scale", RobustScaleSmoothClip()), ("mlp", FastMLPRegressor(**settings))]
    )
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())
