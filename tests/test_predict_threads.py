"""Prediction split over threads gives the single-threaded result."""

import threading
import warnings

import numpy as np
import pytest
from fastmlp.kernels import ACTIVATION_CODES, cpu

from fastmlp import FastMLPClassifier, _engine


@pytest.fixture(scope="module")
def model_and_rows():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 6)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FastMLPClassifier(
            (16, 8), activation="tanh", max_iter=20, random_state=0
        ).fit(X, y)
    rows = rng.standard_normal((3 * _engine.PARALLEL_MIN_ROWS + 17, 6)).astype(
        np.float32
    )
    return model, rows


def single_threaded(model, X):
    out = np.empty((X.shape[0], model.n_outputs_), dtype=X.dtype)
    cpu.forward(
        X,
        model._params_vector(),
        np.array(model._layer_units),
        ACTIVATION_CODES[model.activation],
        ACTIVATION_CODES[model.out_activation_],
        out,
    )
    return out


def test_threaded_prediction_equals_single_threaded(model_and_rows, monkeypatch):
    model, X = model_and_rows
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    np.testing.assert_array_equal(model.predict_proba(X), single_threaded(model, X))


def test_concurrent_predict_calls_from_python_threads(model_and_rows):
    model, X = model_and_rows
    expected = single_threaded(model, X)
    results, errors = [None] * 4, []

    def work(i):
        try:
            results[i] = model.predict_proba(X)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_threadpoolctl_limit_caps_prediction_threads(model_and_rows, monkeypatch):
    from threadpoolctl import threadpool_limits

    model, X = model_and_rows
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    with threadpool_limits(limits=1, user_api="blas"):
        assert _engine.prediction_threads() == 1
        np.testing.assert_array_equal(model.predict_proba(X), single_threaded(model, X))
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert _engine.prediction_threads() == 1


@pytest.mark.parametrize("blas_threads", [1, None])
def test_fits_are_deterministic_for_a_seed_and_thread_count(blas_threads):
    from threadpoolctl import threadpool_limits

    rng = np.random.RandomState(1)
    X = rng.standard_normal((600, 40)).astype(np.float32)
    y = rng.randint(0, 4, 600)
    fits = []
    with (
        threadpool_limits(limits=blas_threads, user_api="blas"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        for _ in range(2):
            model = FastMLPClassifier((64, 32), max_iter=3, random_state=0)
            fits.append(model.fit(X, y))
    for a, b in zip(
        fits[0].coefs_ + fits[0].intercepts_,
        fits[1].coefs_ + fits[1].intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
