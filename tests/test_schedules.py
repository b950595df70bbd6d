"""Learning-rate schedules (``lr_schedule``, ``lr_warmup``) of sgd and adam."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from fastmlp import FastMLPClassifier
from fastmlp._engine.epochs import EpochRunner
from fastmlp._engine.schedules import schedule_factor

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def assert_bitwise_equal(a, b):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(x, y)


def reference_factor(schedule, e, T, warmup):
    """The schedules written out from their published definitions."""
    e = min(e, T - 1)
    if schedule == "cosine":  # Keras CosineDecay(alpha=0)
        return 0.5 * (1 + np.cos(np.pi * e / T))
    if schedule == "warmup_cosine":
        W = min(round(warmup * T), T - 1)
        return (
            (e + 1) / (W + 1)
            if e < W
            else 0.5 * (1 + np.cos(np.pi * (e - W) / (T - W)))
        )
    # PyTorch OneCycleLR(max_lr=1, pct_start=warmup, anneal_strategy='cos',
    # div_factor=25, final_div_factor=1e4, three_phase=False), its get_lr()
    initial, final = 1 / 25, 1 / 25 / 1e4
    end1 = warmup * T - 1
    if e <= end1:
        pct = e / end1 if end1 > 0 else 1.0
        start, end = initial, 1.0
    else:
        pct = (e - end1) / (T - 1 - end1)
        start, end = 1.0, final
    return end + (start - end) / 2 * (np.cos(np.pi * pct) + 1)


@pytest.mark.parametrize("schedule", ["cosine", "warmup_cosine", "one_cycle"])
@pytest.mark.parametrize("T", [1, 2, 7, 50, 200])
@pytest.mark.parametrize("warmup", [None, 0.0, 0.25])
def test_schedule_factor_matches_its_definition(schedule, T, warmup):
    if schedule == "cosine" and warmup:
        return
    w = {"cosine": 0.0, "warmup_cosine": 0.1, "one_cycle": 0.3}[schedule]
    w = w if warmup is None else warmup
    got = [schedule_factor(schedule, e, T, warmup) for e in range(T + 3)]
    want = [reference_factor(schedule, e, T, w) for e in range(T + 3)]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    assert all(0 < f <= 1 for f in got[:T]) or schedule == "cosine" and T == 1


def test_cosine_is_optax_cosine_decay():
    optax = pytest.importorskip("optax")
    sched = optax.cosine_decay_schedule(1.0, 40)  # float32
    got = [schedule_factor("cosine", e, 40) for e in range(40)]
    np.testing.assert_allclose(got, [float(sched(e)) for e in range(40)], atol=1e-6)


def test_warmup_cosine_rises_then_decays():
    f = [schedule_factor("warmup_cosine", e, 100, 0.1) for e in range(100)]
    assert f[:10] == pytest.approx([(e + 1) / 11 for e in range(10)])
    assert f[10] == 1.0 and all(a >= b for a, b in zip(f[10:-1], f[11:], strict=True))


def _recorded_rates(monkeypatch):
    rates = []
    run = EpochRunner.run

    def spy(self, params, grads, state, hyper, seed):
        rates.append(float(hyper[0]))
        return run(self, params, grads, state, hyper, seed)

    monkeypatch.setattr(EpochRunner, "run", spy)
    return rates


@pytest.fixture
def data():
    return make_classification(n_samples=120, n_features=6, random_state=0)


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("schedule", ["cosine", "warmup_cosine", "one_cycle"])
def test_each_epoch_steps_with_the_scheduled_rate(monkeypatch, data, solver, schedule):
    X, y = data
    rates = _recorded_rates(monkeypatch)
    T = 12
    FastMLPClassifier(
        (5,), solver=solver, max_iter=T, learning_rate_init=0.05, tol=0,
        lr_schedule=schedule, random_state=0,
    ).fit(X, y)  # fmt: skip
    want = [0.05 * schedule_factor(schedule, e, T) for e in range(T)]
    assert rates == pytest.approx(want, rel=1e-6)  # hyper is float64 here


@ignore_convergence
def test_schedule_multiplies_invscaling(monkeypatch, data):
    X, y = data
    rates = _recorded_rates(monkeypatch)
    T = 6
    FastMLPClassifier(
        (5,), solver="sgd", learning_rate="invscaling", max_iter=T, tol=0,
        learning_rate_init=0.1, lr_schedule="cosine", random_state=0,
    ).fit(X, y)  # fmt: skip
    n = X.shape[0]
    want = [
        (0.1 if e == 0 else 0.1 / (e * n + 1) ** 0.5) * schedule_factor("cosine", e, T)
        for e in range(T)
    ]
    assert rates == pytest.approx(want, rel=1e-12)


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_none_steps_with_sklearns_rate_exactly(monkeypatch, data, solver):
    X, y = data
    rates = _recorded_rates(monkeypatch)
    clf = FastMLPClassifier((5,), solver=solver, max_iter=5, random_state=0, tol=0)
    clf.fit(X, y)
    assert rates == [0.001] * 5
    twin = FastMLPClassifier(
        (5,), solver=solver, max_iter=5, random_state=0, tol=0, lr_schedule=None
    ).fit(X, y)
    assert_bitwise_equal(clf, twin)


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_scheduled_fit_equals_partial_fits_at_those_rates(data, solver):
    """A fit with a schedule is bitwise the same as partial_fit epochs whose
    rate is set by hand to the schedule's (shuffle off: no seeds to align)."""
    X, y = data
    T, lr = 8, 0.02
    kw = dict(solver=solver, shuffle=False, random_state=0, max_iter=T)
    fit = FastMLPClassifier(
        (6,), learning_rate_init=lr, tol=0, lr_schedule="one_cycle", **kw
    ).fit(X, y)
    replay = FastMLPClassifier((6,), learning_rate_init=lr, **kw)
    for e in range(T):
        rate = lr * schedule_factor("one_cycle", e, T)
        if e == 0:  # the optimizer starts at learning_rate_init
            replay.set_params(learning_rate_init=rate)
            replay.partial_fit(X, y, classes=np.unique(y))
        else:
            replay._optimizer.learning_rate = rate
            replay.partial_fit(X, y)
    assert fit.n_iter_ == T
    assert_bitwise_equal(fit, replay)
    assert fit.loss_curve_ == replay.loss_curve_


@ignore_convergence
def test_partial_fit_counts_epochs_across_calls(data):
    X, y = data
    clf = FastMLPClassifier((4,), max_iter=4, lr_schedule="cosine", random_state=0)
    for _ in range(6):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf._optimizer.epochs == 6
    assert clf._optimizer.epoch_learning_rate() == pytest.approx(
        0.001 * schedule_factor("cosine", 3, 4)
    )


def test_lr_warmup_needs_a_warmup_schedule(data):
    X, y = data
    with pytest.raises(ValueError, match="lr_warmup is the warm-up share"):
        FastMLPClassifier(lr_warmup=0.1, lr_schedule="cosine").fit(X, y)
    with pytest.raises(ValueError, match="'lr_schedule' parameter"):
        FastMLPClassifier(lr_schedule="step").fit(X, y)
    with pytest.raises(ValueError, match="'lr_warmup' parameter"):
        FastMLPClassifier(lr_schedule="one_cycle", lr_warmup=1.0).fit(X, y)
