"""fastmlp: scikit-learn compatible MLPs trained by Numba-compiled kernels.

``import fastmlp`` is light: it compiles nothing, never imports
``numba.cuda``, and loads the estimators (and scikit-learn, whose own import
is most of the cost) on first access to them. Kernels compile, or load from
numba's on-disk cache, on first use, or ahead with :func:`warmup`.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy names below are, for type checkers
    from ._mlp import FastMLPClassifier, FastMLPRegressor
    from ._persist import load, save
    from ._warmup import warmup

from ._config import config_context, get_config, set_config

__version__ = "0.1.0"

__all__ = [
    "FastMLPClassifier",
    "FastMLPRegressor",
    "config_context",
    "get_config",
    "load",
    "save",
    "set_config",
    "warmup",
    "__version__",
]

_LAZY = {
    "FastMLPClassifier": "._mlp",
    "FastMLPRegressor": "._mlp",
    "warmup": "._warmup",
    "save": "._persist",
    "load": "._persist",
}


def __getattr__(name):
    # PEP 562: import the estimators (and scikit-learn) when first asked for.
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
