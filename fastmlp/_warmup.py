"""Compile (or load from numba's on-disk cache) the kernels ahead of use."""

import time
from collections.abc import Sequence

import numpy as np


def warmup(
    dtypes: Sequence[str] = ("float32", "float64"),
    verbose: bool = False,
    narrow: bool = False,
) -> dict[str, float]:
    """Compile the default configurations' training and prediction kernels now.

    The CPU kernels are compiled per configuration (input kind, activation,
    loss, solver, L1, and whether every layer is at most 8 units wide, which
    trains through the narrow epoch): a fit compiles only what it runs. This
    fits and predicts, per dtype, the defaults (``relu``, ``adam``) of a
    binary and a multiclass classifier and of a regressor on a 64-unit
    network, so that numba compiles those kernels and writes them to its
    cache: later fits of these configurations start at full speed, in this
    process and in new ones.

    Parameters
    ----------
    dtypes : sequence of str, default=("float32", "float64")
        Floating dtypes to compile for.
    verbose : bool, default=False
        Print the seconds spent per dtype.
    narrow : bool, default=False
        Also compile the same three configurations for networks whose layers
        are all at most 8 units wide (the narrow epoch: TensorFlow-Playground
        networks, say). About doubles the time.

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
        start = time.perf_counter()
        # 400 x 8 through 64 units: every product is above its BLAS threshold.
        X = rng.rand(400, 8).astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for hidden in [(64,), (8,)] if narrow else [(64,)]:
                for n_classes in (2, 3):
                    clf = FastMLPClassifier(
                        hidden, max_iter=1, random_state=0, device="cpu"
                    )
                    clf.fit(X, np.arange(400) % n_classes).predict_proba(X)
                reg = FastMLPRegressor(
                    hidden_layer_sizes=hidden, max_iter=1, random_state=0, device="cpu"
                )
                reg.fit(X, rng.rand(400).astype(dtype)).predict(X)
        seconds[name] = time.perf_counter() - start
        if verbose:
            print(f"fastmlp.warmup: {name} ready in {seconds[name]:.2f} s")
    return seconds
