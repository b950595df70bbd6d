"""Compile (or load from numba's on-disk cache) the kernels ahead of use."""

import time
from collections.abc import Sequence

import numpy as np


def warmup(
    dtypes: Sequence[str] = ("float32", "float64"), verbose: bool = False
) -> dict[str, float]:
    """Compile the default training and prediction kernels now.

    One tiny fit and predict per dtype makes numba compile every kernel of
    the CPU path (all activations and losses share one compiled function per
    dtype) and write it to its cache, so later fits start at full speed.

    Parameters
    ----------
    dtypes : sequence of str, default=("float32", "float64")
        Floating dtypes to compile for.
    verbose : bool, default=False
        Print the seconds spent per dtype.

    Returns
    -------
    seconds : dict
        Seconds spent per dtype (compile or cache load).
    """
    import warnings

    from ._mlp import FastMLPClassifier, FastMLPRegressor

    rng = np.random.RandomState(0)
    seconds = {}
    for name in dtypes:
        dtype = np.dtype(name)
        X = rng.rand(8, 3).astype(dtype)
        y = np.arange(8) % 3
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = FastMLPClassifier((4,), max_iter=1, random_state=0, device="cpu")
            clf.fit(X, y).predict_proba(X)
            reg = FastMLPRegressor(
                hidden_layer_sizes=(4,), max_iter=1, random_state=0, device="cpu"
            )
            reg.fit(X, y.astype(dtype), sample_weight=np.ones(8)).predict(X)
        seconds[name] = time.perf_counter() - start
        if verbose:
            print(f"fastmlp.warmup: {name} ready in {seconds[name]:.2f} s")
    return seconds
