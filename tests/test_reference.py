"""The numpy oracle (tests/reference.py) against scikit-learn itself.

These tests touch scikit-learn privates (``_backprop``, ``_forward_pass_fast``,
the optimizer classes); the package never does. They prove the oracle is
scikit-learn's MLP, so every backend test against the oracle is, by
transitivity, a test against scikit-learn.
"""

import warnings
from itertools import pairwise

import numpy as np
import pytest
from fastmlp.kernels import ACTIVATION_CODES, param_layout
from reference import (
    ADAM,
    BINARY_LOG_LOSS,
    IDENTITY,
    LOG_LOSS,
    LOGISTIC,
    POISSON,
    SGD,
    SQUARED_ERROR,
    pack_params,
    ref_adam_update,
    ref_forward,
    ref_loss_grad,
    ref_sgd_update,
    ref_train_epoch,
    unpack_params,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# (sklearn estimator, output activation, sklearn loss, loss code, n_outputs)
OUTPUT_CASES = {
    "softmax-log_loss-3": (MLPClassifier, "softmax", "log_loss", LOG_LOSS, 3),
    "logistic-binary_log_loss-1": (
        MLPClassifier,
        "logistic",
        "log_loss",
        BINARY_LOG_LOSS,
        1,
    ),
    "logistic-binary_log_loss-2": (
        MLPClassifier,
        "logistic",
        "log_loss",
        BINARY_LOG_LOSS,
        2,
    ),
    "identity-squared_error-1": (
        MLPRegressor,
        "identity",
        "squared_error",
        SQUARED_ERROR,
        1,
    ),
    "identity-squared_error-2": (
        MLPRegressor,
        "identity",
        "squared_error",
        SQUARED_ERROR,
        2,
    ),
    "exp-poisson-1": (MLPRegressor, "exp", "poisson", POISSON, 1),
    "exp-poisson-2": (MLPRegressor, "exp", "poisson", POISSON, 2),
}


def make_targets(rng, out_activation, n_samples, n_outputs):
    """Targets in the form scikit-learn's ``_backprop`` receives them."""
    if out_activation == "softmax":
        return np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    if out_activation == "logistic":
        return rng.integers(0, 2, (n_samples, n_outputs)).astype(np.float64)
    if out_activation == "exp":
        return rng.poisson(1.5, (n_samples, n_outputs)).astype(np.float64)
    return rng.normal(size=(n_samples, n_outputs))


def random_params(rng, layer_sizes, scale=0.7):
    _, _, n_params = param_layout(layer_sizes)
    return rng.uniform(-scale, scale, n_params)


def make_problem(rng, case, n_samples=23, n_features=4, hidden=(5, 3)):
    _, out_activation, _, _, n_outputs = OUTPUT_CASES[case]
    layer_sizes = [n_features, *hidden, n_outputs]
    X = rng.normal(size=(n_samples, n_features))
    Y = make_targets(rng, out_activation, n_samples, n_outputs)
    sw = rng.uniform(0.2, 3.0, n_samples)
    return X, Y, sw, layer_sizes, random_params(rng, layer_sizes)


def sklearn_with_params(case, activation, alpha, layer_sizes, params):
    """An unfitted scikit-learn MLP given exactly the state ``_backprop`` reads."""
    estimator_cls, out_activation, loss, _, _ = OUTPUT_CASES[case]
    kwargs = {"loss": loss} if estimator_cls is MLPRegressor else {}
    est = estimator_cls(
        hidden_layer_sizes=layer_sizes[1:-1],
        activation=activation,
        alpha=alpha,
        **kwargs,
    )
    est.n_layers_ = len(layer_sizes)
    est.n_outputs_ = layer_sizes[-1]
    est.out_activation_ = out_activation
    coefs, intercepts = unpack_params(params.copy(), layer_sizes)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    return est


def sklearn_loss_grad(est, X, Y, sample_weight, layer_sizes):
    n_layers = len(layer_sizes)
    activations = [X] + [None] * (n_layers - 1)
    deltas = [None] * (n_layers - 1)
    coef_grads = [np.empty((a, b)) for a, b in pairwise(layer_sizes)]
    intercept_grads = [np.empty(b) for b in layer_sizes[1:]]
    loss, coef_grads, intercept_grads = est._backprop(
        X, Y, sample_weight, activations, deltas, coef_grads, intercept_grads
    )
    return loss, pack_params(coef_grads, intercept_grads)


def test_unpack_params_is_sklearn_pack_order():
    layer_sizes = [3, 4, 2]
    params = np.arange(param_layout(layer_sizes)[2], dtype=np.float64)
    coefs, intercepts = unpack_params(params, layer_sizes)
    assert [c.shape for c in coefs] == [(3, 4), (4, 2)]
    assert [b.shape for b in intercepts] == [(4,), (2,)]
    np.testing.assert_array_equal(coefs[0].ravel(), np.arange(12))
    np.testing.assert_array_equal(coefs[1].ravel(), np.arange(12, 20))
    np.testing.assert_array_equal(intercepts[0], np.arange(20, 24))
    np.testing.assert_array_equal(intercepts[1], np.arange(24, 26))
    np.testing.assert_array_equal(pack_params(coefs, intercepts), params)
    coefs[1][0, 0] = -1.0  # views, so the optimizers can update in place
    assert params[12] == -1.0


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_ref_loss_grad_matches_sklearn_backprop(case, activation, weighted):
    rng = np.random.default_rng(0)
    X, Y, sw, layer_sizes, params = make_problem(rng, case)
    alpha = 0.37
    est = sklearn_with_params(case, activation, alpha, layer_sizes, params)
    expected_loss, expected_grad = sklearn_loss_grad(
        est, X, Y, sw if weighted else None, layer_sizes
    )

    _, out_activation, _, loss_code, _ = OUTPUT_CASES[case]
    loss, grad = ref_loss_grad(
        X,
        Y,
        sw if weighted else np.empty(0),
        params,
        layer_sizes,
        ACTIVATION_CODES[activation],
        ACTIVATION_CODES[out_activation],
        loss_code,
        alpha,
    )
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_ref_loss_clips_log_loss_like_sklearn():
    # Saturated outputs: p rounds to exactly 0 or 1, so the clip decides the loss.
    rng = np.random.default_rng(7)
    case = "logistic-binary_log_loss-1"
    X, Y, _, layer_sizes, params = make_problem(rng, case)
    params *= 200.0
    est = sklearn_with_params(case, "tanh", 0.0, layer_sizes, params)
    expected_loss, expected_grad = sklearn_loss_grad(est, X, Y, None, layer_sizes)
    loss, grad = ref_loss_grad(
        X, Y, np.empty(0), params, layer_sizes, 2, LOGISTIC, BINARY_LOG_LOSS, 0.0
    )
    assert np.isfinite(loss)
    assert loss == pytest.approx(expected_loss, rel=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_ref_forward_matches_sklearn_predict_pass(case, activation):
    rng = np.random.default_rng(3)
    X, _, _, layer_sizes, params = make_problem(rng, case)
    est = sklearn_with_params(case, activation, 0.0, layer_sizes, params)
    expected = est._forward_pass_fast(X, check_input=False)
    out_activation = OUTPUT_CASES[case][1]
    got = ref_forward(
        X,
        params,
        layer_sizes,
        ACTIVATION_CODES[activation],
        ACTIVATION_CODES[out_activation],
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def split_like_sklearn(flat, layer_sizes):
    coefs, intercepts = unpack_params(flat.copy(), layer_sizes)
    return coefs + intercepts


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)]
)
def test_ref_sgd_update_matches_sklearn_sgd_optimizer(momentum, nesterov):
    rng = np.random.default_rng(11)
    layer_sizes = [3, 4, 2]
    n_coef = param_layout(layer_sizes)[1][0]
    params = random_params(rng, layer_sizes)
    sk_params = split_like_sklearn(params, layer_sizes)
    optimizer = SGDOptimizer(
        sk_params, learning_rate_init=0.05, momentum=momentum, nesterov=nesterov
    )
    velocity = np.zeros_like(params)
    for _ in range(4):
        grads = rng.normal(size=params.shape)
        optimizer.update_params(sk_params, split_like_sklearn(grads, layer_sizes))
        params, velocity, sq_norm = ref_sgd_update(
            params, grads, velocity, 0.05, momentum, nesterov, n_coef
        )
        np.testing.assert_allclose(params, pack_params([], sk_params), rtol=1e-13)
        np.testing.assert_allclose(
            velocity, pack_params([], optimizer.velocities), rtol=1e-13, atol=1e-15
        )
        assert sq_norm == pytest.approx(np.sum(params[:n_coef] ** 2), rel=1e-13)


def test_ref_adam_update_matches_sklearn_adam_optimizer():
    rng = np.random.default_rng(12)
    layer_sizes = [3, 4, 2]
    n_coef = param_layout(layer_sizes)[1][0]
    params = random_params(rng, layer_sizes)
    sk_params = split_like_sklearn(params, layer_sizes)
    optimizer = AdamOptimizer(
        sk_params, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7
    )
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    for t in range(1, 6):  # the step number is incremented before use: 1, 2, ...
        grads = rng.normal(size=params.shape)
        optimizer.update_params(sk_params, split_like_sklearn(grads, layer_sizes))
        assert optimizer.t == t
        params, m, v, sq_norm = ref_adam_update(
            params, grads, m, v, t, 0.01, 0.8, 0.99, 1e-7, n_coef
        )
        np.testing.assert_allclose(params, pack_params([], sk_params), rtol=1e-13)
        np.testing.assert_allclose(m, pack_params([], optimizer.ms), rtol=1e-13)
        np.testing.assert_allclose(v, pack_params([], optimizer.vs), rtol=1e-13)
        assert sq_norm == pytest.approx(np.sum(params[:n_coef] ** 2), rel=1e-13)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [5, 7, 30], ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    "case", ["softmax-log_loss-3", "identity-squared_error-2", "exp-poisson-1"]
)
def test_ref_train_epoch_matches_one_sklearn_epoch(solver, batch_size, weighted, case):
    """One epoch of ``fit(shuffle=False)`` from given weights == ref_train_epoch.

    30 samples: batches of 5 divide n, batches of 7 leave a short last batch.
    """
    rng = np.random.default_rng(5)
    estimator_cls, out_activation, loss, loss_code, n_outputs = OUTPUT_CASES[case]
    n_samples, hidden = 30, (5, 4)
    X = rng.normal(size=(n_samples, 3))
    Y = make_targets(rng, out_activation, n_samples, n_outputs)
    if out_activation == "softmax":
        y_fit = Y.argmax(axis=1)  # labels 0..2, binarised back to Y by sklearn
    else:
        y_fit = Y[:, 0] if n_outputs == 1 else Y
    sw = rng.uniform(0.2, 3.0, n_samples) if weighted else None
    hyper = dict(lr=0.05, momentum=0.8, nesterov=True, beta1=0.85, beta2=0.99, eps=1e-7)
    alpha = 0.3

    kwargs = {"loss": loss} if estimator_cls is MLPRegressor else {}
    est = estimator_cls(
        hidden_layer_sizes=hidden,
        activation="tanh",
        solver=solver,
        alpha=alpha,
        batch_size=batch_size,
        learning_rate_init=hyper["lr"],
        momentum=hyper["momentum"],
        nesterovs_momentum=hyper["nesterov"],
        beta_1=hyper["beta1"],
        beta_2=hyper["beta2"],
        epsilon=hyper["eps"],
        shuffle=False,
        max_iter=1,
        warm_start=True,
        random_state=0,
        **kwargs,
    )
    layer_sizes = [3, *hidden, n_outputs]
    params = random_params(rng, layer_sizes, scale=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y_fit, sample_weight=sw)  # initialises the estimator
        coefs, intercepts = unpack_params(params.copy(), layer_sizes)
        est.coefs_ = [c.copy() for c in coefs]
        est.intercepts_ = [b.copy() for b in intercepts]
        est.fit(X, y_fit, sample_weight=sw)  # warm start: fresh optimizer, 1 epoch
    assert est.out_activation_ == out_activation
    assert est.n_outputs_ == n_outputs

    hyper_vec = np.array(
        [
            hyper["lr"],
            hyper["momentum"],
            float(hyper["nesterov"]),
            hyper["beta1"],
            hyper["beta2"],
            hyper["eps"],
            alpha,
            0.0,  # l1
        ]
    )
    epoch_loss, new_params, _, _, step = ref_train_epoch(
        X,
        Y,
        np.empty(0) if sw is None else sw,
        np.arange(n_samples),
        params,
        layer_sizes,
        ACTIVATION_CODES["tanh"],
        ACTIVATION_CODES[out_activation],
        loss_code,
        batch_size,
        SGD if solver == "sgd" else ADAM,
        hyper_vec,
        np.zeros_like(params),
        np.zeros_like(params),
        np.zeros(1, dtype=np.int64),
    )
    assert epoch_loss == pytest.approx(est.loss_curve_[-1], rel=1e-10)
    np.testing.assert_allclose(
        new_params, pack_params(est.coefs_, est.intercepts_), rtol=1e-10, atol=1e-12
    )
    if solver == "adam":
        assert step == -(-n_samples // batch_size)  # one step per minibatch


def test_ref_train_epoch_follows_sample_idx_order():
    """Permuting the rows and sample_idx together gives the same epoch."""
    rng = np.random.default_rng(8)
    n_samples, layer_sizes = 17, [3, 4, 1]
    X = rng.normal(size=(n_samples, 3))
    Y = rng.normal(size=(n_samples, 1))
    sw = rng.uniform(0.5, 2.0, n_samples)
    params = random_params(rng, layer_sizes)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-3, 0.0])
    order = rng.permutation(n_samples)
    common = (IDENTITY, IDENTITY, SQUARED_ERROR, 4, SGD, hyper)
    zeros = (np.zeros_like(params), np.zeros_like(params), 0)
    a = ref_train_epoch(X, Y, sw, order, params, layer_sizes, *common, *zeros)
    b = ref_train_epoch(
        X[order],
        Y[order],
        sw[order],
        np.arange(n_samples),
        params,
        layer_sizes,
        *common,
        *zeros,
    )
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14)
    c = ref_train_epoch(
        X, Y, sw, np.arange(n_samples), params, layer_sizes, *common, *zeros
    )
    assert not np.allclose(a[1], c[1])
