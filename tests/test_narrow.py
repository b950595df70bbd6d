"""The narrow epoch (every layer <= 32 units, padded to 8/16/32 lanes).

It must train exactly what the general epoch trains, to rounding: the same
visiting order, loss, parameters, optimizer state and last gradient, for every
lane class and its boundaries, every output/loss pair, L1, sample weights and
both solvers. The general epoch itself is checked against the numpy oracle in
``test_kernels_cpu.py`` (both paths run there).
"""

import numpy as np
import pytest
from fastmlp.kernels import (
    ACTIVATION_CODES,
    LOSS_CODES,
    SOLVER_CODES,
    cpu,
    workspace_size,
)
from fastmlp.kernels.cpu import narrow
from fastmlp.kernels.cpu.specialise import specialised_kernels
from test_kernels_cpu import assert_close, make_data, random_net, rng_for

A, L, S = ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES


@pytest.mark.parametrize(
    ("sizes", "lanes"),
    [
        ([2, 8, 8, 1], 8),
        ([1, 1], 8),
        ([3, 9, 1], 16),
        ([16, 16, 16], 16),
        ([17, 2], 32),
        ([2, 32, 32, 32], 32),
        ([2, 33, 1], 0),
        ([64, 8, 10], 0),
    ],
)
def test_narrow_lanes_is_the_smallest_class_holding_the_widest_layer(sizes, lanes):
    assert narrow.narrow_lanes(sizes, max_width=32) == lanes
    assert narrow.narrow_lanes(np.array(sizes, dtype=np.int64), max_width=32) == lanes


def test_narrow_lanes_honours_its_limit_which_is_8_by_default():
    assert narrow.NARROW_MAX_WIDTH == 8
    assert narrow.narrow_lanes([2, 8, 8, 1]) == 8
    assert narrow.narrow_lanes([2, 9, 1]) == 0
    assert narrow.narrow_lanes([2, 8, 1], max_width=0) == 0
    assert narrow.narrow_lanes([2, 8, 1], max_width=8) == 8
    assert narrow.narrow_lanes([2, 9, 1], max_width=8) == 0


def _epochs(path, monkeypatch, sizes, codes, solver, dtype, l1, weighted, batch):
    """Three shuffled epochs from one start; returns everything they change."""
    monkeypatch.setattr(narrow, "NARROW_MAX_WIDTH", 32 if path == "narrow" else 0)
    hidden, output, loss = codes
    rng = rng_for(len(sizes), sizes[1], solver, int(weighted), loss)
    params, layer_sizes = random_net(rng, sizes, dtype)
    n = 53
    X, Y = make_data(rng, n, layer_sizes, loss, dtype)
    sw = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else np.empty(0, dtype)
    hyper = np.array([0.02, 0.9, 1.0, 0.9, 0.999, 1e-8, 0.01, l1], dtype=dtype)
    opt_m = np.zeros_like(params)
    opt_v = np.zeros_like(params) if solver == S["adam"] else np.empty(0, dtype)
    step = np.zeros(1, np.int64)
    grads = np.full_like(params, np.nan)
    idx = np.arange(n, dtype=np.int64)
    size = workspace_size(layer_sizes, batch)
    act, delta = np.empty(size, dtype), np.empty(size, dtype)
    losses = [
        cpu.train_epoch(
            X,
            Y,
            sw,
            idx,
            seed,
            params,
            grads,
            layer_sizes,
            hidden,
            output,
            loss,
            batch,
            solver,
            hyper,
            opt_m,
            opt_v,
            step,
            act,
            delta,
        )  # fmt: skip
        for seed in (11, 12, 13)
    ]
    return losses, params, grads, opt_m, opt_v, step, idx


CASES = {
    # network, (hidden, output, loss)
    "playground-tanh-logistic": (
        [2, 8, 8, 1],
        (A["tanh"], A["logistic"], L["binary_log_loss"]),
    ),
    "one-unit-relu-identity": (
        [1, 1, 1],
        (A["relu"], A["identity"], L["squared_error"]),
    ),
    "9-wide-logistic-softmax": (
        [4, 9, 5, 3],
        (A["logistic"], A["softmax"], L["log_loss"]),
    ),
    "16-wide-identity-identity": (
        [16, 16, 2],
        (A["identity"], A["identity"], L["squared_error"]),
    ),
    "17-wide-tanh-softmax": ([5, 17, 12], (A["tanh"], A["softmax"], L["log_loss"])),
    "32-wide-relu-poisson": ([32, 32, 32, 2], (A["relu"], A["exp"], L["poisson"])),
}


# Each (case, solver, dtype) compiles two kernels: every case runs with both
# solvers, in float32 with one and float64 with the other.
GRID = [
    (case, solver, dtype)
    for i, case in enumerate(sorted(CASES))
    for solver, dtype in (
        [(S["sgd"], np.float32), (S["adam"], np.float64)]
        if i % 2
        else [(S["adam"], np.float32), (S["sgd"], np.float64)]
    )
]


@pytest.mark.parametrize(
    ("case", "solver", "dtype"),
    GRID,
    ids=[f"{c}-{'adam' if s == S['adam'] else 'sgd'}-{d.__name__}" for c, s, d in GRID],
)
def test_narrow_epoch_trains_as_the_general_epoch(case, solver, dtype, monkeypatch):
    """Same order, loss, params, optimizer state and last gradient, to rounding;
    with L1, sample weights and a short last batch (53 rows, batches of 10)."""
    sizes, codes = CASES[case]
    args = (sizes, codes, solver, dtype, 0.001, True, 10)
    got = _epochs("narrow", monkeypatch, *args)
    want = _epochs("general", monkeypatch, *args)
    np.testing.assert_array_equal(got[6], want[6])  # the visiting order
    rtol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got[0], want[0], rtol=rtol)
    for g, w in zip(got[1:5], want[1:5], strict=True):
        assert np.all(np.isfinite(g))
        assert_close(
            g, w, dtype, magnitude=max(1.0, float(np.max(np.abs(w), initial=0)))
        )
    assert got[5][0] == want[5][0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_narrow_epoch_is_bitwise_reproducible(dtype, monkeypatch):
    sizes, codes = CASES["playground-tanh-logistic"]
    args = (sizes, codes, S["adam"], dtype, 0.0, False, 10)
    first = _epochs("narrow", monkeypatch, *args)
    second = _epochs("narrow", monkeypatch, *args)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_small_network_trains_narrow_and_a_wide_one_does_not(monkeypatch):
    """Which skeleton a fit runs: narrow for 2-8-8-1, general past 8 units."""
    from fastmlp.kernels.cpu import epoch

    from fastmlp import FastMLPClassifier

    calls = []
    general, narrow_kernel = epoch.train_epoch_skeleton, narrow.narrow_epoch_kernel

    def count_general(*args):
        calls.append("general")
        return general(*args)

    def count_narrow(lanes):
        calls.append(("narrow", lanes))
        return narrow_kernel(lanes)

    monkeypatch.setattr(epoch, "train_epoch_skeleton", count_general)
    monkeypatch.setattr(narrow, "narrow_epoch_kernel", count_narrow)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    FastMLPClassifier((8, 8), activation="tanh", max_iter=2).fit(X, y)
    assert set(calls) == {("narrow", 8)}
    calls.clear()
    FastMLPClassifier((40,), activation="tanh", max_iter=2).fit(X, y)
    assert set(calls) == {"general"}


def test_narrow_epoch_keeps_a_diverged_loss_visible(monkeypatch):
    """A learning rate that blows the weights up gives a non-finite loss, as
    the general epoch does (the engine reports divergence from it)."""
    sizes, codes = CASES["16-wide-identity-identity"]
    results = []
    for path in ("narrow", "general"):
        monkeypatch.setattr(narrow, "NARROW_MAX_WIDTH", 32 if path == "narrow" else 0)
        rng = rng_for(7)
        params, layer_sizes = random_net(rng, sizes, np.float64)
        X, Y = make_data(rng, 40, layer_sizes, codes[2], np.float64)
        X *= 1e3
        hyper = np.array([1e6, 0.0, 0.0, 0.9, 0.999, 1e-8, 0.0, 0.0], dtype=np.float64)
        m = np.zeros_like(params)
        step = np.zeros(1, np.int64)
        idx = np.arange(40, dtype=np.int64)
        size = workspace_size(layer_sizes, 5)
        with np.errstate(all="ignore"):
            losses = [
                cpu.train_epoch(
                    X,
                    Y,
                    np.empty(0),
                    idx,
                    1,
                    params,
                    np.empty_like(params),
                    layer_sizes,
                    *codes,
                    5,
                    S["sgd"],
                    hyper,
                    m,
                    np.empty(0),
                    step,
                    np.empty(size),
                    np.empty(size),
                )  # fmt: skip
                for _ in range(3)
            ]
        results.append((np.isfinite(losses), np.isfinite(params)))
    assert not results[0][0].all()
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warmup_with_narrow_compiles_the_narrow_epoch_and_the_default_pieces():
    """``warmup(narrow=True)`` also readies the narrow skeleton, and the pieces
    of the default binary, multiclass and regression configurations (relu)."""
    from fastmlp.kernels.cpu import pieces

    import fastmlp

    fastmlp.warmup(("float32",), narrow=True)
    assert ("narrow_epoch_kernel", (8,)) in specialised_kernels()
    assert specialised_kernels()[("narrow_epoch_kernel", (8,))].signatures
    made = pieces.made_pieces()
    for kind, code in [
        ("activation", A["relu"]),
        ("activation", A["logistic"]),
        ("activation", A["softmax"]),
        ("activation", A["identity"]),
        ("output_delta", L["binary_log_loss"]),
        ("output_delta", L["log_loss"]),
        ("output_delta", L["squared_error"]),
    ]:
        assert (kind, code, "float32") in made
