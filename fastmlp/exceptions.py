"""Exceptions and warnings raised by fastmlp."""

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["ConvergenceWarning", "InvalidParameterError", "NotFittedError"]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value.

    Subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's error
    of the same name does, so code written against scikit-learn catches it.
    """
