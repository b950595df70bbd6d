"""The Playground's input features as a scikit-learn transformer."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["FEATURE_NAMES", "PlaygroundFeatures"]

#: The seven input features of the Playground, in its order.
FEATURE_NAMES = ("X1", "X2", "X1^2", "X2^2", "X1X2", "sin(X1)", "sin(X2)")

# Spelling-insensitive lookup: "x1^2", "X1 X2", "sin(x1)" all name a feature.
_CANONICAL = {name.lower(): name for name in FEATURE_NAMES}


def _canonical(name):
    if not isinstance(name, str):
        raise TypeError(f"feature names are strings; got {name!r}.")
    key = name.replace(" ", "").replace("*", "").lower()
    try:
        return _CANONICAL[key]
    except KeyError:
        raise ValueError(
            f"unknown Playground feature {name!r}; choose among {FEATURE_NAMES}."
        ) from None


def _compute(name, x1, x2):
    """Column ``name`` of the features for inputs ``x1``, ``x2`` (n,)."""
    if name == "X1":
        return x1
    if name == "X2":
        return x2
    if name == "X1^2":
        return x1 * x1
    if name == "X2^2":
        return x2 * x2
    if name == "X1X2":
        return x1 * x2
    if name == "sin(X1)":
        return np.sin(x1)
    return np.sin(x2)


class PlaygroundFeatures(TransformerMixin, BaseEstimator):
    """Any subset of the Playground's inputs X1, X2, X1^2, X2^2, X1X2, sin(X1),
    sin(X2), computed from two input columns.

    A stateless transformer: ``fit`` only validates X (and records
    ``n_features_in_``), so it fits in a :class:`~sklearn.pipeline.Pipeline`
    in front of an estimator, e.g. logistic regression on X1X2 solves xor::

        make_pipeline(PlaygroundFeatures(["X1", "X2", "X1X2"]),
                      FastMLPClassifier(hidden_layer_sizes=()))

    Parameters
    ----------
    features : sequence of str or None, default=None
        Names from :data:`FEATURE_NAMES` (spaces, ``*`` and case ignored:
        ``"x1*x2"`` is ``"X1X2"``), output in the given order; ``None``
        gives all seven in the Playground's order.

    Attributes
    ----------
    features_ : tuple of str
        The canonical names of the output columns.
    n_features_in_ : int
        Always 2.
    feature_names_in_ : ndarray of str
        Input column names, when X had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.playground import PlaygroundFeatures
    >>> PlaygroundFeatures(["X1X2", "X1^2"]).fit_transform(np.array([[2.0, 3.0]]))
    array([[6., 4.]])
    """

    def __init__(self, features=None):
        self.features = features

    def _resolve(self):
        if self.features is None:
            return FEATURE_NAMES
        if isinstance(self.features, str):
            raise TypeError(
                "features must be a sequence of names, e.g. ['X1', 'X2']; "
                f"got the string {self.features!r}."
            )
        names = tuple(_canonical(f) for f in self.features)
        if not names:
            raise ValueError("features must name at least one feature.")
        if len(set(names)) != len(names):
            raise ValueError(f"features has duplicates: {list(self.features)}.")
        return names

    def fit(self, X, y=None):
        """Validate the parameters and X, which must have 2 columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2)
        y : ignored

        Returns
        -------
        self : object
        """
        features = self._resolve()
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        if X.shape[1] != 2:
            raise ValueError(
                f"PlaygroundFeatures needs exactly 2 input columns (X1, X2); got "
                f"X with {X.shape[1]} columns."
            )
        self.features_ = features
        return self

    def transform(self, X):
        """The chosen features of every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples, len(features_)), X's float dtype
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        x1, x2 = X[:, 0], X[:, 1]
        columns = [_compute(name, x1, x2) for name in self.features_]
        return np.ascontiguousarray(np.column_stack(columns), dtype=X.dtype)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        With the default input names (none, or ``x0, x1``) these are the
        Playground's (``"X1X2"``, ``"sin(X1)"``...); with named input columns
        ``a, b`` they are written in those names (``"a b"``, ``"sin(a)"``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        ndarray of str (object dtype)
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None or list(input_features) == ["x0", "x1"]:
            return np.asarray(self.features_, dtype=object)
        if len(input_features) != 2:
            raise ValueError(
                f"input_features should have length 2; got {len(input_features)}."
            )
        if hasattr(self, "feature_names_in_") and not np.array_equal(
            np.asarray(input_features, dtype=object), self.feature_names_in_
        ):
            raise ValueError("input_features is not equal to feature_names_in_")
        a, b = (str(f) for f in input_features)
        written = {
            "X1": a,
            "X2": b,
            "X1^2": f"{a}^2",
            "X2^2": f"{b}^2",
            "X1X2": f"{a} {b}",
            "sin(X1)": f"sin({a})",
            "sin(X2)": f"sin({b})",
        }
        return np.asarray([written[n] for n in self.features_], dtype=object)
