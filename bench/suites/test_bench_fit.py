"""pytest-benchmark timings of whole fits: ``pytest bench/suites --benchmark-only``.

Not part of the test suite (pyproject's ``testpaths`` is ``tests``). Fits run
the playground and digits workloads at :data:`EPOCHS` epochs instead of 30;
``predict_proba`` runs on :data:`PREDICT_ROWS` rows. Every benchmark has one
untimed warm-up round, so fastmlp's JIT compilation is not in the numbers
(``python -m bench.run`` reports it).
"""

import dataclasses
import functools

import numpy as np
import pytest

from bench.impls import get_impl
from bench.workloads import load_workload

#: Epochs per benchmarked fit (the workloads' own 30 take too long per round).
EPOCHS = 5

#: Rows of the ``predict_proba`` benchmark.
PREDICT_ROWS = 10_000

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

WORKLOADS = ("playground", "digits")
IMPLS = ("fastmlp", "sklearn")


def _impl(name):
    try:
        return get_impl(name)
    except ImportError as exc:
        pytest.skip(f"{name} unavailable: {exc}")


@functools.cache
def _workload(name):
    return dataclasses.replace(load_workload(name), epochs=EPOCHS)


@functools.cache
def _fitted(impl_name, workload_name):
    workload = _workload(workload_name)
    model = _impl(impl_name).make(**workload.estimator_params())
    return model.fit(workload.X_train, workload.y_train)


@pytest.mark.parametrize("workload_name", WORKLOADS)
@pytest.mark.parametrize("impl_name", IMPLS)
def test_fit(benchmark, impl_name, workload_name):
    """One fit of ``EPOCHS`` epochs on the workload's training split."""
    impl = _impl(impl_name)
    workload = _workload(workload_name)
    params = workload.estimator_params()

    def fresh_estimator():
        return (impl.make(**params),), {}

    def fit(model):
        return model.fit(workload.X_train, workload.y_train)

    benchmark.group = f"fit {workload_name} ({EPOCHS} epochs)"
    benchmark.extra_info["train_samples"] = workload.train_samples
    model = benchmark.pedantic(fit, setup=fresh_estimator, rounds=5, warmup_rounds=1)
    assert model.n_iter_ == EPOCHS


@pytest.mark.parametrize("workload_name", WORKLOADS)
@pytest.mark.parametrize("impl_name", IMPLS)
def test_predict_proba(benchmark, impl_name, workload_name):
    """``predict_proba`` on ``PREDICT_ROWS`` rows tiled from the test split."""
    model = _fitted(impl_name, workload_name)
    X_test = _workload(workload_name).X_test
    X = np.ascontiguousarray(X_test[np.arange(PREDICT_ROWS) % X_test.shape[0]])
    benchmark.group = f"predict_proba {workload_name} ({PREDICT_ROWS} rows)"
    proba = benchmark.pedantic(
        model.predict_proba, args=(X,), rounds=20, warmup_rounds=1
    )
    assert proba.shape[0] == PREDICT_ROWS
