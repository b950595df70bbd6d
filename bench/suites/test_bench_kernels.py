"""pytest-benchmark of the CPU kernels: ``pytest bench/suites --benchmark-only``.

Each group puts fastmlp's kernel beside its yardstick, so the table of a group
reads as a comparison:

* ``gemm <op> ...``: the own GEMM kernels (``gemm_nn``, ``gemm_nt``,
  ``gemm_tn``) vs BLAS through ``np.dot`` inside a small ``@njit`` wrapper
  (:func:`bench.gemm_timing.numba_dot_nn` etc.), so both pay the same numba dispatch.
  ``python -m bench.gemm`` sweeps many more shapes.
* ``dense_forward ...``: the fused product + bias + activation vs the same
  steps in numpy (scikit-learn's way).
* ``softmax + log-loss ...``: softmax and ``loss_output_delta`` vs numpy.
* ``backward ...``: ``dense_grad`` + ``hidden_delta`` of a hidden layer vs numpy.
* ``adam ...``: ``adam_update`` on 100k parameters vs numpy (as scikit-learn).
* ``epoch digits``: one ``train_epoch`` of the digits workload vs one
  scikit-learn ``partial_fit`` epoch and the GEMM-only bound.

Every kernel is called once before timing (JIT compile or cache load); the
rounds and iterations are set from that call so each benchmark lasts about
:data:`TARGET_S`. Not part of the test suite (pyproject's ``testpaths`` is
``tests``).
"""

import dataclasses
import functools
import time

import numpy as np
import pytest
from fastmlp.kernels import (
    ACTIVATION_CODES,
    LOSS_CODES,
    SOLVER_CODES,
    cpu,
    param_layout,
    workspace_size,
)
from numba import njit
from scipy.special import xlogy

from bench.gemm_timing import (
    OPS,
    gemm_arrays,
    gemm_dims,
    numba_dot_nn,
    numba_dot_nt,
    numba_dot_tn,
)
from bench.peers import GemmBound
from bench.workloads import load_workload

#: Seconds of timed rounds per benchmark (the whole file runs in ~30 s).
TARGET_S = 0.3

#: Seconds per round; fast kernels run several iterations per round.
ROUND_S = 0.002

DTYPE = np.float32

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _bench(benchmark, fn, *args):
    """Warm up ``fn(*args)`` (compile), then time it for about TARGET_S."""
    fn(*args)
    start = time.perf_counter()
    fn(*args)
    one = max(time.perf_counter() - start, 1e-7)
    iterations = max(1, int(ROUND_S / one))
    rounds = max(5, min(1000, int(TARGET_S / (one * iterations))))
    return benchmark.pedantic(
        fn, args=args, rounds=rounds, iterations=iterations, warmup_rounds=1
    )


def _gflops(benchmark, flop):
    """Record GFLOP/s (median round) in the benchmark's extra_info."""
    benchmark.extra_info["flop"] = flop
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        benchmark.extra_info["gflops"] = flop / stats.stats.median / 1e9


# --------------------------------------------------------------------------
# GEMM: own kernels vs BLAS in numba

OWN_GEMM = {"nn": cpu.gemm_nn, "nt": cpu.gemm_nt, "tn": cpu.gemm_tn}
BLAS_GEMM = {"nn": numba_dot_nn, "nt": numba_dot_nt, "tn": numba_dot_tn}

#: (batch, fan_in, fan_out): layers of the playground, digits, mnist and wide
#: networks.
GEMM_SHAPES = [(10, 8, 8), (64, 64, 128), (256, 784, 256), (512, 512, 1024)]


@pytest.mark.parametrize("shape", GEMM_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}-{s[2]}")
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("impl", ["own", "blas"])
def test_gemm(benchmark, impl, op, shape):
    """One product of ``op`` for a batch through a layer (own vs BLAS)."""
    A, B, C = gemm_arrays(op, *shape, dtype=DTYPE)
    m, k, n = gemm_dims(op, *shape)
    fn = OWN_GEMM[op] if impl == "own" else BLAS_GEMM[op]
    benchmark.group = (
        f"gemm {op} {m}x{k}x{n} (batch {shape[0]}, {shape[1]}->{shape[2]})"
    )
    _bench(benchmark, fn, A, B, C)
    _gflops(benchmark, 2.0 * m * k * n)
    product = {"nn": lambda: A @ B, "nt": lambda: A @ B.T, "tn": lambda: A.T @ B}
    np.testing.assert_allclose(C, product[op](), rtol=1e-4, atol=1e-4 * k)


# --------------------------------------------------------------------------
# fused dense forward


def _numpy_activation(Z, name):
    """In place, as scikit-learn's ACTIVATIONS."""
    if name == "relu":
        np.maximum(Z, 0, out=Z)
    elif name == "tanh":
        np.tanh(Z, out=Z)
    elif name == "softmax":
        Z -= Z.max(axis=1)[:, np.newaxis]
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1)[:, np.newaxis]


def _numpy_dense_forward(A, W, b, name, out):
    np.matmul(A, W, out=out)
    out += b
    _numpy_activation(out, name)


#: (workload, batch, fan_in, fan_out, activation)
DENSE_CASES = [
    ("playground", 10, 8, 8, "tanh"),
    ("digits", 64, 64, 128, "relu"),
    ("digits", 64, 128, 10, "softmax"),
    ("mnist", 256, 784, 256, "relu"),
    ("mnist", 256, 784, 256, "tanh"),
]


@pytest.mark.parametrize(
    "case", DENSE_CASES, ids=lambda c: f"{c[0]}-{c[1]}x{c[2]}-{c[3]}-{c[4]}"
)
@pytest.mark.parametrize("impl", ["fastmlp", "numpy"])
def test_dense_forward(benchmark, impl, case):
    """``f(A @ W + b)`` for one batch through one layer."""
    workload, batch, fan_in, fan_out, act = case
    rng = np.random.default_rng(0)
    A = rng.uniform(-1, 1, (batch, fan_in)).astype(DTYPE)
    W = rng.uniform(-0.1, 0.1, (fan_in, fan_out)).astype(DTYPE)
    b = rng.uniform(-0.1, 0.1, fan_out).astype(DTYPE)
    out = np.empty((batch, fan_out), dtype=DTYPE)
    benchmark.group = (
        f"dense_forward {act} batch {batch}, {fan_in}->{fan_out} ({workload})"
    )
    if impl == "fastmlp":
        _bench(benchmark, cpu.dense_forward, A, W, b, ACTIVATION_CODES[act], out)
    else:
        _bench(benchmark, _numpy_dense_forward, A, W, b, act, out)
    expected = A.astype(np.float64) @ W + b
    _numpy_activation(expected, act)
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4)


# --------------------------------------------------------------------------
# softmax output + log-loss delta

SOFTMAX = ACTIVATION_CODES["softmax"]
LOG_LOSS = LOSS_CODES["log_loss"]


@njit(cache=True)
def _fastmlp_softmax_loss(Z, P, Y, sw, delta):
    P[:] = Z
    cpu.apply_activation(P, SOFTMAX)
    return cpu.loss_output_delta(P, Y, sw, LOG_LOSS, delta)


def _numpy_softmax_loss(Z, P, Y, sw, delta):
    """scikit-learn's softmax, log_loss and output delta."""
    P[:] = Z
    _numpy_activation(P, "softmax")
    eps = np.finfo(P.dtype).eps
    loss = -xlogy(Y, np.clip(P, eps, 1 - eps)).sum()
    np.subtract(P, Y, out=delta)
    return loss


@pytest.mark.parametrize("batch", [64, 256])
@pytest.mark.parametrize("impl", ["fastmlp", "numpy"])
def test_softmax_log_loss(benchmark, impl, batch):
    """Softmax of the output logits, the log-loss and ``delta = P - Y``."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((batch, 10)).astype(DTYPE)
    Y = np.eye(10, dtype=DTYPE)[rng.integers(0, 10, batch)]
    sw = np.empty(0, dtype=DTYPE)
    P = np.empty_like(Z)
    delta = np.empty_like(Z)
    fn = _fastmlp_softmax_loss if impl == "fastmlp" else _numpy_softmax_loss
    benchmark.group = f"softmax + log-loss batch {batch} x 10 classes"
    loss = _bench(benchmark, fn, Z, P, Y, sw, delta)
    expected = _numpy_softmax_loss(Z, np.empty_like(Z), Y, sw, np.empty_like(Z))
    assert abs(loss - expected) <= 1e-3 * abs(expected)


# --------------------------------------------------------------------------
# backward step of a hidden layer

RELU = ACTIVATION_CODES["relu"]


@njit(cache=True)
def _fastmlp_backward(A_in, D, W, A_prev, alpha, scale, gW, gb, D_prev):
    cpu.dense_grad(A_in, D, W, alpha, scale, gW, gb)
    cpu.hidden_delta(D, W, A_prev, RELU, D_prev)


def _numpy_backward(A_in, D, W, A_prev, alpha, scale, gW, gb, D_prev):
    """scikit-learn's _compute_loss_grad + the relu delta of the layer below."""
    np.matmul(A_in.T, D, out=gW)
    gW += alpha * W
    gW *= scale
    np.sum(D, axis=0, out=gb)
    gb *= scale
    np.matmul(D, W.T, out=D_prev)
    D_prev[A_prev == 0] = 0


#: (workload, batch, fan_in, fan_out): the layer whose gradient is taken;
#: its input is a relu layer, whose delta is computed too.
BACKWARD_CASES = [("digits", 64, 128, 10), ("mnist", 256, 256, 128)]


@pytest.mark.parametrize(
    "case", BACKWARD_CASES, ids=lambda c: f"{c[0]}-{c[1]}x{c[2]}-{c[3]}"
)
@pytest.mark.parametrize("impl", ["fastmlp", "numpy"])
def test_backward(benchmark, impl, case):
    """``dense_grad`` (weights, bias) + ``hidden_delta`` for one layer."""
    workload, batch, fan_in, fan_out = case
    rng = np.random.default_rng(0)
    A_in = np.maximum(rng.standard_normal((batch, fan_in)), 0).astype(DTYPE)
    D = rng.standard_normal((batch, fan_out)).astype(DTYPE)
    W = rng.uniform(-0.1, 0.1, (fan_in, fan_out)).astype(DTYPE)
    gW = np.empty_like(W)
    gb = np.empty(fan_out, dtype=DTYPE)
    D_prev = np.empty((batch, fan_in), dtype=DTYPE)
    fn = _fastmlp_backward if impl == "fastmlp" else _numpy_backward
    benchmark.group = f"backward batch {batch}, {fan_in}->{fan_out} relu ({workload})"
    _bench(benchmark, fn, A_in, D, W, A_in, 1e-4, 1.0 / batch, gW, gb, D_prev)
    expected = (D @ W.T) * (A_in > 0)
    np.testing.assert_allclose(D_prev, expected, rtol=1e-3, atol=1e-4)


# --------------------------------------------------------------------------
# Adam over a flat parameter vector

N_PARAMS = 100_000


def _numpy_adam(params, grads, m, v, t, lr, beta1, beta2, eps, n_coef):
    """scikit-learn's AdamOptimizer step (one array instead of a list)."""
    m *= beta1
    m += (1 - beta1) * grads
    v *= beta2
    v += (1 - beta2) * grads**2
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    params -= lr_t * m / (np.sqrt(v) + eps)
    return float(np.dot(params[:n_coef], params[:n_coef]))


@pytest.mark.parametrize("impl", ["fastmlp", "numpy"])
def test_adam(benchmark, impl):
    """One Adam step on 100k float32 parameters (returns the new L2 sum)."""
    rng = np.random.default_rng(0)
    params = rng.uniform(-0.1, 0.1, N_PARAMS).astype(DTYPE)
    grads = rng.standard_normal(N_PARAMS).astype(DTYPE) * DTYPE(0.01)
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    fn = cpu.adam_update if impl == "fastmlp" else _numpy_adam
    benchmark.group = f"adam {N_PARAMS:,} params"
    _bench(benchmark, fn, params, grads, m, v, 10, 1e-3, 0.9, 0.999, 1e-8, 90_000)
    assert np.isfinite(params).all()


# --------------------------------------------------------------------------
# one epoch of the digits workload


@functools.cache
def _digits():
    return load_workload("digits")


def _epoch_args(workload):
    """The arguments of ``cpu.train_epoch`` as the estimator builds them."""
    layer_sizes = np.array(
        [workload.n_features, *workload.hidden_layer_sizes, workload.n_classes],
        dtype=np.int64,
    )
    _, icpt_off, n_params = param_layout(layer_sizes)
    rng = np.random.default_rng(0)
    params = np.zeros(n_params, dtype=DTYPE)
    for fi, fo, off in zip(
        layer_sizes[:-1], layer_sizes[1:], param_layout(layer_sizes)[0], strict=True
    ):
        bound = np.sqrt(6.0 / (fi + fo))
        params[off : off + fi * fo] = rng.uniform(-bound, bound, fi * fo)
    X = np.ascontiguousarray(workload.X_train, dtype=DTYPE)
    Y = np.eye(workload.n_classes, dtype=DTYPE)[workload.y_train]
    size = workspace_size(layer_sizes, workload.batch_size)
    hyper = np.array([1e-3, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0], dtype=DTYPE)
    return (
        X,
        Y,
        np.empty(0, dtype=DTYPE),
        np.arange(X.shape[0], dtype=np.int64),
        0,
        params,
        np.empty_like(params),
        layer_sizes,
        ACTIVATION_CODES[workload.activation],
        SOFTMAX,
        LOG_LOSS,
        workload.batch_size,
        SOLVER_CODES["adam"],
        hyper,
        np.zeros_like(params),
        np.zeros_like(params),
        np.zeros(1, dtype=np.int64),
        np.empty(size, dtype=DTYPE),
        np.empty(size, dtype=DTYPE),
    )


#: Epochs trained before the "fastmlp-late" benchmark: by then many float32
#: gradients and Adam moments are subnormal, and an epoch is several times
#: slower (subnormal arithmetic) although the work is the same.
LATE_EPOCHS = 150


def _bench_from_state(benchmark, fn, args, state):
    """Time ``fn(*args)`` with the arrays ``state`` restored before each round."""
    saved = [a.copy() for a in state]

    def restore():
        for dst, src in zip(state, saved, strict=True):
            dst[...] = src
        return args, {}

    fn(*restore()[0])  # compile or load from the cache
    restore()
    start = time.perf_counter()
    fn(*args)
    one = max(time.perf_counter() - start, 1e-7)
    rounds = max(5, min(1000, int(TARGET_S / one)))
    return benchmark.pedantic(fn, setup=restore, rounds=rounds, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["fastmlp", "fastmlp-late", "sklearn", "gemm-bound"])
def test_epoch_digits(benchmark, impl):
    """One training epoch of digits (1437 rows, 64-128-10 relu, batch 64, Adam).

    ``fastmlp``: ``cpu.train_epoch`` from the initial weights every round;
    ``fastmlp-late``: the same from the state after :data:`LATE_EPOCHS`
    epochs; ``sklearn``: one more ``partial_fit`` epoch of an
    ``MLPClassifier`` per round; ``gemm-bound``: the epoch's matrix products
    alone through numpy (:class:`bench.peers.GemmBound`).
    """
    workload = dataclasses.replace(_digits(), epochs=1)
    benchmark.group = (
        f"epoch digits ({workload.n_train} rows, {workload.network}, "
        f"batch {workload.batch_size})"
    )
    benchmark.extra_info["train_samples"] = workload.n_train
    if impl.startswith("fastmlp"):
        args = _epoch_args(workload)
        if impl == "fastmlp-late":
            for _ in range(LATE_EPOCHS):
                cpu.train_epoch(*args)
        # sample_idx, params, opt_m, opt_v, step: what an epoch changes
        state = [args[3], args[5], args[14], args[15], args[16]]
        loss = _bench_from_state(benchmark, cpu.train_epoch, args, state)
        assert np.isfinite(loss)
    elif impl == "sklearn":
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(**workload.estimator_params())
        model.fit(workload.X_train, workload.y_train)
        _bench(benchmark, model.partial_fit, workload.X_train, workload.y_train)
    else:
        model = GemmBound(**workload.estimator_params())
        _bench(benchmark, model.fit, workload.X_train, workload.y_train)
