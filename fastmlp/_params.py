"""Validation of constructor parameters, before any data is touched.

A small constraint language with scikit-learn's semantics and messages
("The 'alpha' parameter of FastMLPClassifier must be a float in the range
[0.0, inf). Got -1 instead."), written here so the package relies on
scikit-learn's public API only.
"""

import math
import numbers

import numpy as np

from ._config import get_config
from .exceptions import InvalidParameterError


def _rejects_bool(value):
    """A Python bool as a number: scikit-learn takes it (``True`` is an
    ``Integral``), fastmlp's ``strict`` mode does not. numpy's bools are no
    ``numbers.Integral`` and so are rejected by both."""
    return isinstance(value, bool | np.bool_) and (
        isinstance(value, np.bool_) or get_config()["strict"]
    )


class Interval:
    """Numbers of ``kind`` (``numbers.Integral`` or ``numbers.Real``) in a range."""

    def __init__(self, kind, left, right, closed):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value):
        if _rejects_bool(value) or not isinstance(value, self.kind):
            return False
        if isinstance(value, float | np.floating) and not math.isfinite(value):
            return False  # NaN never, inf only through Options({np.inf})
        lo_ok = self.left is None or (
            value >= self.left if self.closed in ("left", "both") else value > self.left
        )
        hi_ok = self.right is None or (
            value <= self.right
            if self.closed in ("right", "both")
            else value < self.right
        )
        return lo_ok and hi_ok

    def __str__(self):
        integral = self.kind is numbers.Integral
        what = "an int" if integral else "a float"
        lo = (
            "-inf"
            if self.left is None
            else (self.left if integral else float(self.left))
        )
        hi = (
            "inf"
            if self.right is None
            else (self.right if integral else float(self.right))
        )
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{what} in the range {lb}{lo}, {hi}{rb}"


class Options:
    """One of a fixed set of values (strings or special numbers)."""

    def __init__(self, values, kind="str"):
        self.values, self.kind = values, kind

    def accepts(self, value):
        if self.kind == "str" and not isinstance(value, str):
            return False
        try:
            return value in self.values
        except TypeError:
            return False

    def __str__(self):
        shown = ", ".join(repr(v) for v in sorted(self.values, key=str))
        what = "a str among" if self.kind == "str" else f"a {self.kind} among"
        return f"{what} {{{shown}}}"


class Boolean:
    def accepts(self, value):
        return isinstance(value, bool | np.bool_)

    def __str__(self):
        return "an instance of 'bool' or an instance of 'numpy.bool'"


class InstanceOf:
    """An instance of ``kind`` (``dict``, ``list``, ...)."""

    def __init__(self, kind):
        self.kind = kind

    def accepts(self, value):
        return isinstance(value, self.kind)

    def __str__(self):
        return f"an instance of {self.kind.__qualname__!r}"


class NoneValue:
    def accepts(self, value):
        return value is None

    def __str__(self):
        return "None"


class CallableValue:
    def accepts(self, value):
        return callable(value)

    def __str__(self):
        return "a callable"


class RandomStateLike:
    def accepts(self, value):
        if value is None or isinstance(value, np.random.RandomState):
            return True
        is_int = isinstance(value, numbers.Integral) and not _rejects_bool(value)
        return is_int and 0 <= value <= 2**32 - 1

    def __str__(self):
        return (
            "an int in the range [0, 4294967295], an instance of "
            "'numpy.random.mtrand.RandomState' or None"
        )


class ArrayLikeOfPositiveInts:
    """``hidden_layer_sizes``: an int >= 1 or a 1-D array-like of them."""

    def accepts(self, value):
        if isinstance(value, numbers.Integral) and not _rejects_bool(value):
            return value >= 1
        # scikit-learn's "array-like": something with a length, a shape or an
        # ``__array__`` that is no scalar (str and numpy's scalars included).
        if np.isscalar(value):
            return False
        return any(hasattr(value, a) for a in ("__len__", "shape", "__array__"))

    def __str__(self):
        return "an array-like or an int in the range [1, inf)"


def validate_params(estimator, constraints):
    """Raise :class:`InvalidParameterError` for the first invalid parameter."""
    name = type(estimator).__name__
    for param, rules in constraints.items():
        value = getattr(estimator, param)
        if any(rule.accepts(value) for rule in rules):
            continue
        texts = [str(rule) for rule in rules]
        wanted = (
            texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
        )
        raise InvalidParameterError(
            f"The {param!r} parameter of {name} must be {wanted}. "
            f"Got {value!r} instead."
        )


Real, Integral = numbers.Real, numbers.Integral

#: The constraints of scikit-learn's MLP, plus fastmlp's own options
#: (``device``, ``weight_init``, ``l1``, ``scoring``, ``lr_schedule``, ...).
MLP_CONSTRAINTS = {
    "hidden_layer_sizes": [ArrayLikeOfPositiveInts()],
    "activation": [
        Options({"identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "selu"})
    ],
    "solver": [Options({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, "left")],
    "batch_size": [Options({"auto"}), Interval(Integral, 1, None, "left")],
    "learning_rate": [Options({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, "neither")],
    "power_t": [Interval(Real, 0, None, "left")],
    "max_iter": [Interval(Integral, 1, None, "left")],
    "shuffle": [Boolean()],
    "random_state": [RandomStateLike()],
    "tol": [Interval(Real, 0, None, "left")],
    "verbose": [Boolean(), Interval(Integral, 0, None, "left")],
    "warm_start": [Boolean()],
    "momentum": [Interval(Real, 0, 1, "both")],
    "nesterovs_momentum": [Boolean()],
    "early_stopping": [Boolean()],
    "validation_fraction": [Interval(Real, 0, 1, "left")],
    "beta_1": [Interval(Real, 0, 1, "left")],
    "beta_2": [Interval(Real, 0, 1, "left")],
    "epsilon": [Interval(Real, 0, None, "neither")],
    "n_iter_no_change": [
        Interval(Integral, 1, None, "left"),
        Options({np.inf}, "float"),
    ],
    "max_fun": [Interval(Integral, 1, None, "left")],
    "device": [Options({"auto", "cpu", "cuda"})],
    "weight_init": [Options({"glorot", "he_normal", "playground", "zeros"})],
    "l1": [Interval(Real, 0, None, "left")],
    "scoring": [InstanceOf(str), CallableValue(), NoneValue()],
    "lr_schedule": [Options({"cosine", "warmup_cosine", "one_cycle"}), NoneValue()],
    "lr_warmup": [Interval(Real, 0, 1, "left"), NoneValue()],
    "weight_decay": [Interval(Real, 0, None, "left")],
    "dropout": [Interval(Real, 0, 1, "left"), InstanceOf(tuple), InstanceOf(list)],
}

#: The classifier's own: ``class_weight`` as scikit-learn's forests take it.
CLASSIFIER_CONSTRAINTS = {
    **MLP_CONSTRAINTS,
    "class_weight": [
        Options({"balanced"}),
        InstanceOf(dict),
        InstanceOf(list),
        NoneValue(),
    ],
    "label_smoothing": [Interval(Real, 0, 1, "left")],
}
