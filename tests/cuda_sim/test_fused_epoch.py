"""The fused epoch (one launch per epoch, ``cuda.epoch``) against the
per-batch fused path and the CPU epoch, in the simulator.

The simulator runs cooperative grids of one block; ``FUSED_EPOCH_PARTS`` and
``FUSED_EPOCH_TILE_ROWS`` patched here split each batch into several tiles
and gradient parts, so the tile loop, the parts' reduction and a partial last
batch all run.
"""

import warnings

import numpy as np
import pytest
from fastmlp.kernels import config, cpu, cuda, param_layout, workspace_size
from reference import (
    ADAM,
    BINARY_LOG_LOSS,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    RELU,
    SGD,
    SOFTMAX,
    SQUARED_ERROR,
    TANH,
)

RTOL = {np.float32: 2e-4, np.float64: 1e-10}
CASES = {
    "tanh-softmax": (TANH, SOFTMAX, LOG_LOSS, 3),
    "relu-identity": (RELU, IDENTITY, SQUARED_ERROR, 2),
    "logistic-logistic": (LOGISTIC, LOGISTIC, BINARY_LOG_LOSS, 1),
}


def _problem(dtype, solver, case, n_rows=11, hidden=(5, 4)):
    hidden_code, output, loss, n_out = CASES[case]
    rng = np.random.default_rng([n_rows, solver, len(case), np.dtype(dtype).itemsize])
    sizes = np.array([3, *hidden, n_out], dtype=np.int64)
    _, _, n_params = param_layout(sizes)
    params = rng.uniform(-0.8, 0.8, n_params).astype(dtype)
    X = rng.normal(size=(n_rows, 3)).astype(dtype)
    if loss == LOG_LOSS:
        Y = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    elif loss == BINARY_LOG_LOSS:
        Y = rng.integers(0, 2, (n_rows, n_out))
    else:
        Y = rng.normal(size=(n_rows, n_out))
    sw = (
        rng.uniform(0.2, 3.0, n_rows).astype(dtype)
        if case != "relu-identity"
        else np.empty(0, dtype)
    )
    opt_m = (0.01 * rng.normal(size=n_params)).astype(dtype)
    opt_v = (
        rng.uniform(0, 1e-3, n_params).astype(dtype)
        if solver == ADAM
        else np.zeros(0, dtype)
    )
    orders = [rng.permutation(n_rows).astype(np.int64) for _ in range(3)]
    return {
        "X": X,
        "Y": Y.astype(dtype),
        "sw": sw,
        "params": params,
        "sizes": sizes,
        "codes": (hidden_code, output, loss),
        "opt_m": opt_m,
        "opt_v": opt_v,
        "orders": orders,
    }


def _epochs(backend, p, solver, batch_size, seeds, hyper):
    """Epochs of ``backend`` on copies of problem ``p``: with seed -1 the
    epoch visits ``p['orders'][e]``, else the device shuffles. Returns the
    losses and the final params, moments, step and order."""
    up, down = backend.to_device, backend.to_host
    dtype = p["params"].dtype
    d_X, d_Y, d_sw = up(p["X"]), up(p["Y"]), up(p["sw"])
    d_params = up(p["params"].copy())
    d_m, d_v = up(p["opt_m"].copy()), up(p["opt_v"].copy())
    size = workspace_size(p["sizes"], batch_size)
    act, delta = up(np.full(size, np.nan, dtype)), up(np.full(size, np.nan, dtype))
    grads = up(np.zeros_like(p["params"]))
    step = np.array([3 if solver == ADAM else 0], dtype=np.int64)
    losses = []
    idx = None
    for e, seed in enumerate(seeds):
        order = p["orders"][e] if seed < 0 else np.arange(len(p["X"]))
        idx = up(order.copy())
        losses.append(
            backend.train_epoch(
                d_X,
                d_Y,
                d_sw,
                idx,
                seed,
                d_params,
                grads,
                p["sizes"],
                *p["codes"],
                batch_size,
                solver,
                hyper,
                d_m,
                d_v,
                step,
                act,
                delta,
            )  # fmt: skip
        )
    return losses, down(d_params), down(d_m), down(d_v), int(step[0]), down(idx)


def _assert_same(got, want, dtype):
    rtol = RTOL[dtype]
    np.testing.assert_allclose(got[0], want[0], rtol=rtol)
    for g, w in zip(got[1:4], want[1:4], strict=True):
        mag = float(np.max(np.abs(w), initial=1.0))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * mag)
    assert got[4] == want[4]


GRID = [
    (np.float32, ADAM, "tanh-softmax", 0, 0),
    (np.float64, ADAM, "relu-identity", 1, 2),
    (np.float64, SGD, "logistic-logistic", 2, 3),
    (np.float32, SGD, "relu-identity", 1, 1),
    (np.float64, ADAM, "tanh-softmax", 3, 2),
]


@pytest.mark.parametrize(
    "dtype, solver, case, tile_rows, parts",
    GRID,
    ids=[
        f"{np.dtype(d).name}-{'adam' if s else 'sgd'}-{c}-rows{r}-parts{q}"
        for d, s, c, r, q in GRID
    ],
)
def test_fused_epoch_equals_cpu_epoch_over_three_epochs(
    monkeypatch, dtype, solver, case, tile_rows, parts
):
    """11 rows in batches of 4 (a short last batch of 3), three epochs in
    given orders, weighted rows (but one case), L2 + L1: the fused epoch's
    losses, params, moments and Adam step equal the CPU backend's, and one
    launch of the epoch kernel runs per epoch."""
    from bench.gpu import count_launches

    monkeypatch.setattr(config, "FUSED_EPOCH_TILE_ROWS", tile_rows)
    monkeypatch.setattr(config, "FUSED_EPOCH_PARTS", parts)
    p = _problem(dtype, solver, case)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 0.1, 0.01], dtype=dtype)
    with count_launches() as n:
        got = _epochs(cuda, p, solver, 4, [-1, -1, -1], hyper)
    want = _epochs(cpu, p, solver, 4, [-1, -1, -1], hyper)
    _assert_same(got, want, dtype)
    # per epoch: the batch scales, the L2/L1 sums, the epoch kernel
    assert n[0] == 3 * 3


@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fused_epoch_equals_per_batch_fused_path_with_device_shuffle(
    monkeypatch, dtype, solver
):
    """Shuffled on the device (seeds 0, 1, 2), 13 rows in batches of 5: the
    fused epoch and the per-batch fused path (``FUSED_EPOCH = False``) give
    the same losses, params, moments, step and final order."""
    p = _problem(dtype, solver, "tanh-softmax", n_rows=13)
    hyper = np.array([0.05, 0.9, 0.0, 0.9, 0.999, 1e-8, 1e-3, 0.0], dtype=dtype)
    got = _epochs(cuda, p, solver, 5, [0, 1, 2], hyper)
    monkeypatch.setattr(config, "FUSED_EPOCH", False)
    want = _epochs(cuda, p, solver, 5, [0, 1, 2], hyper)
    _assert_same(got, want, dtype)
    np.testing.assert_array_equal(got[5], want[5])


def test_fused_epoch_is_reproducible():
    """Two runs of the same epochs give bit-identical results (the gradient
    parts are summed in a fixed order, no atomics on the gradient)."""
    p = _problem(np.float64, ADAM, "tanh-softmax")
    hyper = np.array([0.05, 0.9, 0.0, 0.9, 0.999, 1e-8, 1e-3, 0.0])
    a = _epochs(cuda, p, ADAM, 4, [-1, -1], hyper)
    b = _epochs(cuda, p, ADAM, 4, [-1, -1], hyper)
    assert a[0] == b[0]
    for x, y in zip(a[1:4], b[1:4], strict=True):
        np.testing.assert_array_equal(x, y)


def test_estimator_with_early_stopping_same_on_both_fused_paths(monkeypatch):
    """A classifier with early stopping (validation scores each epoch) fits
    the same on the fused epoch and the per-batch fused path."""
    from fastmlp import FastMLPClassifier

    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return FastMLPClassifier(
                hidden_layer_sizes=(4,),
                max_iter=4,
                batch_size=7,
                early_stopping=True,
                validation_fraction=0.3,
                n_iter_no_change=10,
                random_state=0,
                device="cuda",
            ).fit(X, y)

    new = fit()
    monkeypatch.setattr(config, "FUSED_EPOCH", False)
    old = fit()
    np.testing.assert_allclose(new.loss_curve_, old.loss_curve_, rtol=2e-4)
    np.testing.assert_allclose(
        new.validation_scores_, old.validation_scores_, rtol=1e-6
    )
    for a, b in zip(new.coefs_, old.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def test_fused_epoch_falls_back_to_per_batch_path_when_it_cannot_launch(
    monkeypatch,
):
    """On a device where the cooperative launch fails (no cudadevrt, ...),
    the epoch runs on the per-batch path with one warning, and later epochs
    go straight there."""
    from fastmlp.kernels.cuda import epoch

    p = _problem(np.float64, SGD, "tanh-softmax")
    hyper = np.array([0.05, 0.9, 0.0, 0.9, 0.999, 1e-8, 0.0, 0.0])
    want = _epochs(cuda, p, SGD, 4, [-1, -1], hyper)

    def broken(*args, **kwargs):
        raise RuntimeError("cooperative launch unavailable")

    monkeypatch.setattr(epoch, "_simulated", lambda: False)
    monkeypatch.setattr(epoch, "_grid_blocks", broken)
    monkeypatch.setattr(epoch, "_failure", None)
    with pytest.warns(RuntimeWarning, match="one launch per minibatch"):
        got = _epochs(cuda, p, SGD, 4, [-1, -1], hyper)
    assert "cooperative launch unavailable" in epoch.fused_epoch_failure()
    _assert_same(got, want, np.float64)
