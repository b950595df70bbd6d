"""The hidden activations beyond scikit-learn's: leaky_relu, elu, selu.

Each is a piece (``kernels/cpu/pieces.py``) that the skeletons call: its
forward pass and its derivative (written with the output) are checked against
the numpy oracle and the oracle against finite differences and known values;
the prediction pass, the full-batch gradient and a training epoch against the
oracle; then the estimators (narrow widths, float32, summary, skops, the
refusals on CUDA and in ONNX).
"""

import warnings

import numpy as np
import pytest
from fastmlp.kernels import (
    ACTIVATION_CODES,
    ADAM,
    LOG_LOSS,
    SGD,
    SOFTMAX,
    cpu,
    param_layout,
    workspace_size,
)
from reference import (
    ref_activation_derivative,
    ref_apply_activation,
    ref_forward,
    ref_loss_grad,
    ref_train_epoch,
)

import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor

NEW = ["leaky_relu", "elu", "selu"]
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
RTOL = {np.float32: 2e-5, np.float64: 1e-12}
FAST = dict(learning_rate_init=0.02, max_iter=300, random_state=0)


@pytest.mark.parametrize(
    ("name", "z", "expected"),
    [
        ("leaky_relu", [-2.0, 0.0, 3.0], [-0.02, 0.0, 3.0]),
        ("elu", [-np.inf, -1.0, 2.0], [-1.0, np.expm1(-1.0), 2.0]),
        (
            "selu",
            [-np.inf, -1.0, 2.0],
            [
                -SELU_SCALE * SELU_ALPHA,
                SELU_SCALE * SELU_ALPHA * np.expm1(-1),
                2 * SELU_SCALE,
            ],
        ),
    ],
)
def test_oracle_activation_known_values(name, z, expected):
    got = ref_apply_activation(np.array([z]), ACTIVATION_CODES[name])
    np.testing.assert_allclose(got[0], expected, rtol=1e-15)


@pytest.mark.parametrize("name", NEW)
def test_oracle_derivative_from_the_output_is_the_finite_difference(name):
    code = ACTIVATION_CODES[name]
    z = np.linspace(-3, 3, 61).reshape(1, -1)
    z = z[np.abs(z) > 1e-3].reshape(1, -1)  # away from the kink at 0
    h = 1e-6
    numeric = (
        ref_apply_activation(z + h, code) - ref_apply_activation(z - h, code)
    ) / (2 * h)
    analytic = ref_activation_derivative(ref_apply_activation(z, code), code)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def small_net(seed, hidden_sizes, n_out, dtype, n_rows=23):
    rng = np.random.default_rng(seed)
    layer_sizes = np.array([5, *hidden_sizes, n_out], dtype=np.int64)
    n_params = param_layout(layer_sizes)[2]
    X = rng.normal(size=(n_rows, 5)).astype(dtype)
    params = rng.uniform(-0.9, 0.9, n_params).astype(dtype)
    Y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, n_rows)]
    return X, Y, params, layer_sizes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NEW)
def test_prediction_pass_matches_oracle(name, dtype):
    code = ACTIVATION_CODES[name]
    X, _, params, layer_sizes = small_net(1, [7, 6], 3, dtype)
    out = np.empty((X.shape[0], 3), dtype=dtype)
    cpu.forward(X, params, layer_sizes, code, SOFTMAX, out)
    expected = ref_forward(X, params, layer_sizes, code, SOFTMAX)
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=1e-6)


def loss_grad(X, Y, sw, params, layer_sizes, code, alpha=0.1):
    grads = np.empty_like(params)
    size = workspace_size(layer_sizes, X.shape[0])
    buffers = np.empty(size, X.dtype), np.empty(size, X.dtype)
    value = cpu.loss_grad(
        X, Y, sw, params, layer_sizes, code, SOFTMAX, LOG_LOSS, alpha, grads, *buffers
    )
    return value, grads


@pytest.mark.parametrize("name", NEW)
def test_full_batch_gradient_matches_oracle_and_finite_differences(name):
    code = ACTIVATION_CODES[name]
    X, Y, params, layer_sizes = small_net(2, [7, 6], 3, np.float64)
    sw = np.random.default_rng(0).uniform(0.5, 2, X.shape[0])
    value, grads = loss_grad(X, Y, sw, params, layer_sizes, code)
    ref_value, ref_grads = ref_loss_grad(
        X, Y, sw, params, layer_sizes, code, SOFTMAX, LOG_LOSS, 0.1
    )
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(grads, ref_grads, rtol=1e-10, atol=1e-13)
    h, numeric = 1e-6, np.empty_like(params)
    for i in range(params.size):
        shifted = params.copy()
        shifted[i] += h
        plus = loss_grad(X, Y, sw, shifted, layer_sizes, code)[0]
        shifted[i] -= 2 * h
        minus = loss_grad(X, Y, sw, shifted, layer_sizes, code)[0]
        numeric[i] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-7)
    assert np.abs(grads).max() > 1e-2


@pytest.mark.parametrize("hidden_sizes", [[7, 6], [3, 4]], ids=["general", "narrow"])
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NEW)
def test_training_epoch_matches_oracle(name, dtype, solver, hidden_sizes):
    code = ACTIVATION_CODES[name]
    X, Y, params, layer_sizes = small_net(3, hidden_sizes, 3, dtype)
    sw = np.empty(0, dtype=dtype)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-3, 0.0], dtype=dtype)
    batch = 8
    idx = np.arange(X.shape[0], dtype=np.int64)
    m, v = np.zeros_like(params), np.zeros_like(params)
    step = np.zeros(1, dtype=np.int64)
    size = workspace_size(layer_sizes, batch)
    got = params.copy()
    loss = cpu.train_epoch(
        X, Y, sw, idx, -1, got, np.empty_like(params), layer_sizes, code, SOFTMAX,
        LOG_LOSS, batch, solver, hyper, m, v, step, np.empty(size, dtype),
        np.empty(size, dtype),
    )  # fmt: skip
    ref_loss, ref_params, *_ = ref_train_epoch(
        X, Y, sw, idx, params, layer_sizes, code, SOFTMAX, LOG_LOSS, batch, solver,
        hyper, np.zeros_like(params), np.zeros_like(params), 0,
    )  # fmt: skip
    np.testing.assert_allclose(loss, ref_loss, rtol=RTOL[dtype] * 10)
    np.testing.assert_allclose(got, ref_params, rtol=RTOL[dtype] * 10, atol=1e-6)


@pytest.mark.parametrize("hidden", [(16,), (4, 3)], ids=["general", "narrow"])
@pytest.mark.parametrize("name", NEW)
def test_estimators_train_with_the_new_activations(name, hidden):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastMLPClassifier(hidden, activation=name, **FAST)
        clf.fit(X, y)
        reg = FastMLPRegressor(
            hidden_layer_sizes=hidden, activation=name, solver="lbfgs", random_state=0
        )
        reg.fit(X.astype(np.float32), X[:, 0] * X[:, 1])
    assert clf.score(X, y) > 0.85
    assert reg.score(X, X[:, 0] * X[:, 1]) > 0.8
    again = FastMLPClassifier(hidden, activation=name, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again.fit(X, y)
    np.testing.assert_array_equal(again.coefs_[0], clf.coefs_[0])  # reproducible
    # layer_activations runs the same pieces as predict
    hidden_out = clf.layer_activations(X[:5])[1]
    first = ref_apply_activation(
        X[:5] @ clf.coefs_[0] + clf.intercepts_[0], ACTIVATION_CODES[name]
    )
    np.testing.assert_allclose(hidden_out, first, rtol=1e-12)


def test_summary_names_the_activation():
    clf = FastMLPClassifier((3,), activation="selu", max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0])
    lines = []
    clf.summary(print_fn=lines.append)
    assert "hidden 1      3  selu" in lines[0]


def test_skops_round_trips_the_new_activations(tmp_path):
    pytest.importorskip("skops")
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastMLPClassifier((5,), activation="elu", max_iter=5).fit(X, y)
    path = tmp_path / "model.skops"
    fastmlp.save(clf, path)
    loaded = fastmlp.load(path)
    assert loaded.activation == "elu"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_onnx_export_refuses_naming_the_activation():
    pytest.importorskip("skl2onnx")
    import fastmlp.onnx

    X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastMLPClassifier((5,), activation="leaky_relu", max_iter=2).fit(
            X, X[:, 0] > 0
        )
    with pytest.raises(ValueError, match="no 'leaky_relu' activation"):
        fastmlp.onnx.to_onnx(clf, X[:1])


def test_cuda_refuses_and_auto_trains_on_the_cpu(monkeypatch):
    import fastmlp._mlp as mlp

    monkeypatch.setattr(mlp, "resolve_device", lambda device, *args: "cuda")
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="runs on the CPU only"):
        FastMLPClassifier((5,), activation="selu", device="cuda").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastMLPClassifier((5,), activation="selu", max_iter=2).fit(X, y)
    assert clf.device_ == "cpu"
