"""Compile (or load from numba's on-disk cache) the kernels ahead of use."""

import time
from collections.abc import Sequence

import numpy as np

# The configurations a default estimator reaches: relu hidden layers; a
# binary, multiclass or regression output with its loss.
_DEFAULT_OUTPUTS = (("logistic", "binary_log_loss"), ("softmax", "log_loss"))
_DEFAULT_REGRESSION = ("identity", "squared_error")


def _run_skeletons(dtype, narrow, index_dtypes):
    """Call every skeleton once on tiny data (relu, softmax, log loss)."""
    from .kernels import (
        ACTIVATION_CODES,
        LOSS_CODES,
        SOLVER_CODES,
        cpu,
        param_layout,
        workspace_size,
    )

    # the flush-to-zero switch every fit sets around its epochs
    cpu.flush_denormals_exit(cpu.flush_denormals_enter())
    rng = np.random.RandomState(0)
    relu, softmax = ACTIVATION_CODES["relu"], ACTIVATION_CODES["softmax"]
    log_loss = LOSS_CODES["log_loss"]
    X = rng.rand(12, 3).astype(dtype)
    Y = np.eye(3, dtype=dtype)[np.arange(12) % 3]
    no_weights = np.empty(0, dtype)
    # 16 units trains through the general epoch, 4 through the narrow one.
    for hidden in (16, 4) if narrow else (16,):
        sizes = np.array([3, hidden, 3], dtype=np.int64)
        n_params = param_layout(sizes)[2]
        params = (rng.rand(n_params) - 0.5).astype(dtype)
        size = workspace_size(sizes, 12)
        inputs = [X]
        if hidden == 16:  # CSR input always trains through the general epoch
            for index in index_dtypes:
                inputs.append(
                    (
                        np.arange(0, 37, 3, dtype=index),
                        np.tile(np.arange(3, dtype=index), 12),
                        X.ravel().copy(),
                    )
                )
        for data in inputs:
            for solver in SOLVER_CODES.values():
                cpu.train_epoch(
                    data, Y, no_weights, np.arange(12), 0, params.copy(),
                    np.zeros_like(params), sizes, relu, softmax, log_loss, 4,
                    solver, np.array([1e-3, 0.9, 1, 0.9, 0.999, 1e-8, 1e-4, 0],
                                     dtype=dtype),
                    np.zeros_like(params), np.zeros_like(params),
                    np.zeros(1, np.int64), np.empty(size, dtype),
                    np.empty(size, dtype),
                )  # fmt: skip
            if hidden != 16:
                continue
            cpu.loss_grad(
                data, Y, no_weights, params, sizes, relu, softmax, log_loss,
                1e-4, np.empty_like(params), np.empty(size, dtype),
                np.empty(size, dtype),
            )  # fmt: skip
            cpu.forward(data, params, sizes, relu, softmax, np.empty((12, 3), dtype))


def warmup(
    dtypes: Sequence[str] = ("float32", "float64"),
    verbose: bool = False,
    narrow: bool = False,
    complete: bool = False,
) -> dict[str, float]:
    """Compile the CPU kernels now (or load them from numba's on-disk cache).

    The CPU kernels come in two kinds (see the README, "How a configuration
    becomes compiled code"): *skeletons*, the whole-network loops (a training
    epoch, the full-batch loss and gradient for ``lbfgs``, the prediction
    pass), compiled once per dtype whatever the configuration, and *pieces*,
    one small function per activation and per loss. This compiles the
    skeletons for dense and CSR input and the pieces of the default
    configurations (``relu`` with a binary, multiclass or regression output),
    so that later fits start at full speed, in this process and in new ones;
    any other configuration then compiles only its missing pieces (well under
    a second each).

    An x86-64 wheel ships the complete set compiled (README, "Nothing compiles
    after install"): with it, this only loads. It is for source installs, other
    platforms, and environments whose numba, llvmlite or numpy differ from the
    wheel's build.

    Parameters
    ----------
    dtypes : sequence of str, default=("float32", "float64")
        Floating dtypes to compile for.
    verbose : bool, default=False
        Print the seconds spent per dtype.
    narrow : bool, default=False
        Also compile the narrow epoch: the skeleton of networks whose layers
        are all at most 8 units wide (TensorFlow-Playground networks, say).
    complete : bool, default=False
        Compile the complete kernel set: every skeleton (the narrow epoch
        included, and CSR input with int32 and int64 indices) and every piece
        (each activation and each loss), so that nothing any estimator can
        reach is left to compile.

    Returns
    -------
    seconds : dict
        Seconds spent per dtype (compile or cache load).
    """
    from .kernels import ACTIVATION_CODES, LOSS_CODES
    from .kernels.cpu import pieces

    narrow = narrow or complete
    index_dtypes = (np.int32, np.int64) if complete else (np.int32,)
    seconds = {}
    for name in dtypes:
        dtype = np.dtype(name)
        start = time.perf_counter()
        _run_skeletons(dtype, narrow, index_dtypes)
        if complete:
            pieces.every_piece((name,))
        else:
            relu = ACTIVATION_CODES["relu"]
            for output, loss in (*_DEFAULT_OUTPUTS, _DEFAULT_REGRESSION):
                pieces.piece_addresses(
                    relu, ACTIVATION_CODES[output], LOSS_CODES[loss], dtype
                )
        seconds[name] = time.perf_counter() - start
        if verbose:
            print(f"fastmlp.warmup: {name} ready in {seconds[name]:.2f} s")
    return seconds
