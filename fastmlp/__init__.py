"""fastmlp: scikit-learn compatible MLPs trained by Numba-compiled kernels."""

__version__ = "0.1.0"
