"""Optimizer steps of fastmlp against scikit-learn's MLPs, to float tolerance.

Without shuffling, the only randomness of a fit is the Glorot-uniform
initialisation, and fastmlp draws it from the same ``RandomState`` calls as
scikit-learn. So for the same ``random_state`` a short full-batch (or
fixed-order minibatch) fit must give scikit-learn's ``coefs_``,
``intercepts_``, ``loss_`` and ``loss_curve_`` to rounding error: this pins
down the forward pass, every loss, the L2 term, sample weights, the backward
pass and the SGD / Nesterov / Adam updates at once.

Two further checks keep the comparison honest:

* the initial weights are made observable (a step of 1e-300 leaves them
  unchanged in float64) and compared with scikit-learn's and with an
  independent Glorot draw;
* identical, explicitly copied weights (``warm_start=True``) give the same
  step, so the match does not rest on the shared initialisation alone.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fastmlp import FastMLPClassifier, FastMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["tanh", "relu", "logistic", "identity"]
TASKS = ["binary", "multiclass", "multilabel", "regression-1", "regression-2"]
DTYPES = [np.float64, np.float32]
# (rtol, atol) per dtype; weights are O(1), so atol only matters near zero.
TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-5, 1e-6)}

N_SAMPLES = 24
N_FEATURES = 5
HIDDEN = (6, 4)


def dtype_id(dtype):
    return np.dtype(dtype).name


def make_task(task, dtype, seed=0):
    """Small X (in ``dtype``) and y of one task, and the two estimator classes."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(dtype)
    if task == "binary":
        y = rng.randint(0, 2, N_SAMPLES)
    elif task == "multiclass":
        y = rng.randint(0, 3, N_SAMPLES)
    elif task == "multilabel":
        y = rng.randint(0, 2, (N_SAMPLES, 3))
        y[:3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]  # every label seen both ways
        y[3:6] = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    elif task == "regression-1":
        y = X @ rng.normal(size=N_FEATURES) + 0.1 * rng.normal(size=N_SAMPLES)
    elif task == "regression-2":
        y = X @ rng.normal(size=(N_FEATURES, 2)) + 0.1 * rng.normal(size=(N_SAMPLES, 2))
    else:  # pragma: no cover
        raise ValueError(task)
    if task.startswith("regression"):
        return X, y, MLPRegressor, FastMLPRegressor
    return X, y, MLPClassifier, FastMLPClassifier


def fit_pair(task, dtype, sample_weight=None, **params):
    """Fit scikit-learn's and fastmlp's estimator with the same parameters."""
    X, y, SkCls, FastCls = make_task(task, dtype)
    params = {"hidden_layer_sizes": HIDDEN, "random_state": 0, **params}
    sk = SkCls(**params).fit(X, y, sample_weight=sample_weight)
    fast = FastCls(**params).fit(X, y, sample_weight=sample_weight)
    return sk, fast


def assert_same_model(sk, fast, dtype):
    """Same weights (in the same dtype), loss and loss curve as scikit-learn."""
    rtol, atol = TOL[dtype]
    assert len(fast.coefs_) == len(sk.coefs_)
    assert len(fast.intercepts_) == len(sk.intercepts_)
    for i, (got, want) in enumerate(zip(fast.coefs_, sk.coefs_, strict=True)):
        assert got.dtype == want.dtype == dtype, f"coefs_[{i}] dtype"
        assert got.shape == want.shape, f"coefs_[{i}] shape"
        np.testing.assert_allclose(
            got, want, rtol=rtol, atol=atol, err_msg=f"coefs_[{i}]"
        )
    for i, (got, want) in enumerate(zip(fast.intercepts_, sk.intercepts_, strict=True)):
        assert got.dtype == want.dtype == dtype, f"intercepts_[{i}] dtype"
        assert got.shape == want.shape, f"intercepts_[{i}] shape"
        np.testing.assert_allclose(
            got, want, rtol=rtol, atol=atol, err_msg=f"intercepts_[{i}]"
        )
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=rtol, atol=atol)
    assert fast.n_iter_ == sk.n_iter_
    assert fast.t_ == sk.t_
    assert fast.out_activation_ == sk.out_activation_


def one_step_sgd(**extra):
    return {
        "solver": "sgd",
        "momentum": 0.0,
        "batch_size": N_SAMPLES,
        "shuffle": False,
        "max_iter": 1,
        "learning_rate_init": 0.1,
        "alpha": 0.01,
        **extra,
    }


def one_step_adam(**extra):
    return {
        "solver": "adam",
        "batch_size": N_SAMPLES,
        "shuffle": False,
        "max_iter": 1,
        "learning_rate_init": 0.01,
        "alpha": 0.01,
        **extra,
    }


def nesterov_three_epochs(**extra):
    return {
        "solver": "sgd",
        "momentum": 0.9,
        "nesterovs_momentum": True,
        "batch_size": N_SAMPLES,
        "shuffle": False,
        "max_iter": 3,
        "learning_rate_init": 0.05,
        "alpha": 0.01,
        **extra,
    }


def glorot_draw(layer_units, activation, random_state):
    """scikit-learn's initialisation written out: W then b per layer, U(-r, r)."""
    rs = np.random.RandomState(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return coefs, intercepts


# ----------------------------------------------------------------------------
# initial weights
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", ["multiclass", "regression-2"])
def test_initial_weights_are_sklearns_glorot_draw_for_same_random_state(
    task, activation
):
    # A float64 SGD step of 1e-300 cannot move any weight of magnitude > 1e-284,
    # so after one epoch the weights ARE the initial weights.
    params = one_step_sgd(learning_rate_init=1e-300, alpha=0.0, activation=activation)
    params["random_state"] = 7
    sk, fast = fit_pair(task, np.float64, **params)
    n_out = sk.n_outputs_
    coefs, intercepts = glorot_draw(
        [N_FEATURES, *HIDDEN, n_out], activation, random_state=7
    )
    for got, skw, want in zip(fast.coefs_, sk.coefs_, coefs, strict=True):
        np.testing.assert_array_equal(skw, want)  # the oracle is sklearn's draw
        np.testing.assert_array_equal(got, want)
    for got, skw, want in zip(
        fast.intercepts_, sk.intercepts_, intercepts, strict=True
    ):
        np.testing.assert_array_equal(skw, want)
        np.testing.assert_array_equal(got, want)


def test_initial_weights_depend_on_random_state():
    params = one_step_sgd(learning_rate_init=1e-300, alpha=0.0)
    _, a = fit_pair("multiclass", np.float64, **{**params, "random_state": 1})
    _, b = fit_pair("multiclass", np.float64, **{**params, "random_state": 2})
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


# ----------------------------------------------------------------------------
# one SGD step, one Adam step, three Nesterov epochs
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", TASKS)
def test_one_full_batch_sgd_step_matches_sklearn(task, activation, dtype):
    sk, fast = fit_pair(task, dtype, **one_step_sgd(activation=activation))
    assert_same_model(sk, fast, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", TASKS)
def test_one_full_batch_adam_step_matches_sklearn(task, activation, dtype):
    sk, fast = fit_pair(task, dtype, **one_step_adam(activation=activation))
    assert_same_model(sk, fast, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("task", TASKS)
def test_three_nesterov_momentum_epochs_match_sklearn(task, activation, dtype):
    sk, fast = fit_pair(task, dtype, **nesterov_three_epochs(activation=activation))
    assert len(fast.loss_curve_) == 3
    assert_same_model(sk, fast, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("task", ["multiclass", "regression-1"])
def test_three_classical_momentum_epochs_match_sklearn(task, dtype):
    params = nesterov_three_epochs(nesterovs_momentum=False, activation="tanh")
    sk, fast = fit_pair(task, dtype, **params)
    assert_same_model(sk, fast, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression-2"])
def test_fixed_order_minibatches_match_sklearn(task, solver, dtype):
    # 24 rows in batches of 7: three full batches and a ragged one of 3, twice.
    params = (one_step_sgd if solver == "sgd" else one_step_adam)(
        activation="tanh", batch_size=7, max_iter=2
    )
    if solver == "sgd":
        params["momentum"] = 0.9
    sk, fast = fit_pair(task, dtype, **params)
    assert_same_model(sk, fast, dtype)


# ----------------------------------------------------------------------------
# sample weights
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    "make_params", [one_step_sgd, one_step_adam, nesterov_three_epochs]
)
@pytest.mark.parametrize("task", TASKS)
def test_sample_weighted_steps_match_sklearn(task, make_params, dtype):
    sw = np.random.RandomState(3).uniform(0.1, 3.0, N_SAMPLES)
    sk, fast = fit_pair(task, dtype, sample_weight=sw, **make_params(activation="relu"))
    assert_same_model(sk, fast, dtype)


def test_sample_weights_change_the_step():
    # Guards the test above: the weights are not silently ignored by both.
    sw = np.random.RandomState(3).uniform(0.1, 3.0, N_SAMPLES)
    _, weighted = fit_pair("multiclass", np.float64, sample_weight=sw, **one_step_sgd())
    _, plain = fit_pair("multiclass", np.float64, **one_step_sgd())
    assert not np.allclose(weighted.coefs_[0], plain.coefs_[0])
    assert weighted.loss_ != pytest.approx(plain.loss_)


def test_unit_sample_weights_equal_no_sample_weights():
    _, weighted = fit_pair(
        "multiclass", np.float64, sample_weight=np.ones(N_SAMPLES), **one_step_adam()
    )
    _, plain = fit_pair("multiclass", np.float64, **one_step_adam())
    for a, b in zip(
        weighted.coefs_ + weighted.intercepts_,
        plain.coefs_ + plain.intercepts_,
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert weighted.loss_ == pytest.approx(plain.loss_, rel=1e-12)


# ----------------------------------------------------------------------------
# explicitly copied weights
# ----------------------------------------------------------------------------
def copied_weight_step(task, dtype, params, seed=11):
    """One more warm-start fit of both estimators from identical, set weights."""
    X, y, SkCls, FastCls = make_task(task, dtype)
    common = {"hidden_layer_sizes": HIDDEN, **params, "warm_start": True}
    # Different random_state: the copied weights alone must make them agree.
    sk = SkCls(random_state=1, **common).fit(X, y)
    fast = FastCls(random_state=2, **common).fit(X, y)
    rng = np.random.RandomState(seed)
    coefs = [rng.uniform(-0.5, 0.5, w.shape).astype(dtype) for w in sk.coefs_]
    intercepts = [rng.uniform(-0.5, 0.5, b.shape).astype(dtype) for b in sk.intercepts_]
    sk.coefs_ = [w.copy() for w in coefs]
    sk.intercepts_ = [b.copy() for b in intercepts]
    fast.coefs_ = [w.copy() for w in coefs]
    fast.intercepts_ = [b.copy() for b in intercepts]
    sk.fit(X, y)
    fast.fit(X, y)
    return sk, fast, coefs


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    "make_params", [one_step_sgd, one_step_adam, nesterov_three_epochs]
)
@pytest.mark.parametrize("task", TASKS)
def test_step_from_explicitly_copied_weights_matches_sklearn(task, make_params, dtype):
    sk, fast, start = copied_weight_step(task, dtype, make_params(activation="tanh"))
    rtol, atol = TOL[dtype]
    for got, want in zip(
        fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_, strict=True
    ):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=rtol, atol=atol)
    # ... and the step really started from the copied weights and moved them.
    assert not np.allclose(fast.coefs_[0], start[0], rtol=0, atol=1e-6)
    assert np.abs(fast.coefs_[0] - start[0]).max() < 0.5


# ----------------------------------------------------------------------------
# learning-rate schedules over a few full-batch epochs
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_learning_rate_schedules_match_sklearn_over_epochs(schedule):
    # invscaling: lr = lr0 / (t_ + 1) ** power_t after every epoch. adaptive:
    # tol=10 makes every epoch "no improvement", so with n_iter_no_change=1 the
    # rate is divided by 5 every second epoch where other schedules would stop.
    params = nesterov_three_epochs(
        learning_rate=schedule, power_t=0.5, max_iter=6, activation="tanh"
    )
    if schedule == "adaptive":
        params.update(tol=10.0, n_iter_no_change=1)
    sk, fast = fit_pair("multiclass", np.float64, **params)
    assert_same_model(sk, fast, np.float64)
    assert fast.n_iter_ == 6
    lr_sk = sk._optimizer.learning_rate
    assert lr_sk < 0.05 / 4  # the schedule really moved the rate
    assert fast._optimizer.learning_rate == pytest.approx(lr_sk, rel=1e-12)


def test_one_epoch_fit_warns_convergence_like_sklearn():
    # The comparisons above hit max_iter; make sure both really warn there, so
    # filtering the warning hides nothing else.
    X, y, SkCls, FastCls = make_task("binary", np.float64)
    for cls in (SkCls, FastCls):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cls(hidden_layer_sizes=HIDDEN, **one_step_sgd()).fit(X, y)
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("make_params", [one_step_sgd, one_step_adam])
def test_poisson_loss_step_matches_sklearn(make_params, dtype):
    X, _, _, _ = make_task("regression-1", dtype)
    y = np.random.RandomState(5).poisson(2.0, N_SAMPLES).astype(float)
    params = {
        "hidden_layer_sizes": HIDDEN,
        "random_state": 0,
        "loss": "poisson",
        **make_params(activation="tanh"),
    }
    sk = MLPRegressor(**params).fit(X, y)
    fast = FastMLPRegressor(**params).fit(X, y)
    assert fast.out_activation_ == sk.out_activation_ == "exp"
    assert_same_model(sk, fast, dtype)


# ----------------------------------------------------------------------------
# L-BFGS (scipy's L-BFGS-B on the same loss and gradient)
# ----------------------------------------------------------------------------
# A few iterations only: L-BFGS-B's line search amplifies rounding differences
# over long runs, so later iterates of two correct implementations part ways.
LBFGS_TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
@pytest.mark.parametrize("task", TASKS)
def test_five_lbfgs_iterations_match_sklearn(task, activation, dtype):
    params = {"solver": "lbfgs", "max_iter": 5, "alpha": 0.01, "activation": activation}
    sk, fast = fit_pair(task, dtype, **params)
    rtol, atol = LBFGS_TOL[dtype]
    for got, want in zip(
        fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_, strict=True
    ):
        # scikit-learn's L-BFGS ends in float64 whatever X's dtype: so does ours.
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=rtol, atol=atol)
    assert fast.n_iter_ == sk.n_iter_ == 5
    assert not hasattr(fast, "loss_curve_") and not hasattr(sk, "loss_curve_")


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression-2"])
def test_sample_weighted_lbfgs_iterations_match_sklearn(task):
    sw = np.random.RandomState(3).uniform(0.1, 3.0, N_SAMPLES)
    params = {"solver": "lbfgs", "max_iter": 5, "alpha": 0.01, "activation": "tanh"}
    sk, fast = fit_pair(task, np.float64, sample_weight=sw, **params)
    for got, want in zip(
        fast.coefs_ + fast.intercepts_, sk.coefs_ + sk.intercepts_, strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.loss_, sk.loss_, rtol=1e-8)
