"""fastmlp: scikit-learn compatible MLPs trained by Numba-compiled kernels.

``import fastmlp`` compiles nothing and never imports ``numba.cuda``; kernels
compile (or load from numba's cache) on first use, or ahead with
:func:`warmup`.
"""

from ._mlp import FastMLPClassifier, FastMLPRegressor
from ._warmup import warmup

__version__ = "0.1.0"
__all__ = ["FastMLPClassifier", "FastMLPRegressor", "warmup", "__version__"]
