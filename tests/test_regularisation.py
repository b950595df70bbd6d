"""Regularisation beyond scikit-learn's: decoupled ``weight_decay`` (AdamW,
SGDW), the classifier's ``label_smoothing`` and ``dropout``."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
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
    ref_dropout_masks,
    ref_forward,
    ref_loss_grad,
    ref_train_epoch,
)
from sklearn.datasets import (
    load_iris,
    make_classification,
    make_multilabel_classification,
)
from sklearn.metrics import log_loss
from sklearn.utils import check_random_state

from fastmlp import FastMLPClassifier, FastMLPRegressor, _engine

RELU = ACTIVATION_CODES["relu"]
TANH = ACTIVATION_CODES["tanh"]
RTOL = {np.float32: 2e-5, np.float64: 1e-12}
ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def small_net(n_in, hidden, n_out, dtype, n=29, seed=0):
    rng = np.random.RandomState(seed)
    layer_sizes = np.array([n_in, *hidden, n_out], dtype=np.int64)
    params = (rng.standard_normal(param_layout(layer_sizes)[2]) * 0.5).astype(dtype)
    X = rng.standard_normal((n, n_in)).astype(dtype)
    Y = np.eye(n_out, dtype=dtype)[rng.randint(0, n_out, n)]
    return X, Y, params, layer_sizes


def run_epoch(X, Y, params, layer_sizes, hidden, solver, hyper, batch, **options):
    """One cpu.train_epoch (no shuffle) from zero moments; returns loss, params."""
    got = params.copy()
    size = workspace_size(layer_sizes, batch)
    loss = cpu.train_epoch(
        X, Y, np.empty(0, Y.dtype), np.arange(Y.shape[0], dtype=np.int64), -1, got,
        np.empty_like(got), layer_sizes, hidden, SOFTMAX, LOG_LOSS, batch, solver,
        hyper, np.zeros_like(got), np.zeros_like(got), np.zeros(1, np.int64),
        np.empty(size, Y.dtype), np.empty(size, Y.dtype), **options,
    )  # fmt: skip
    return loss, got


def assert_bitwise_equal(a, b):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------
# weight_decay
# --------------------------------------------------------------------------
@pytest.mark.parametrize("hidden_sizes", [[7, 6], [3, 4]], ids=["general", "narrow"])
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_decay_epoch_matches_oracle(dtype, solver, hidden_sizes):
    X, Y, params, layer_sizes = small_net(3, hidden_sizes, 3, dtype)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-3, 0.0], dtype=dtype)
    loss, got = run_epoch(
        X, Y, params, layer_sizes, TANH, solver, hyper, 8, weight_decay=0.3
    )
    ref_loss, ref_params, *_ = ref_train_epoch(
        X, Y, np.empty(0, dtype), np.arange(X.shape[0]), params, layer_sizes, TANH,
        SOFTMAX, LOG_LOSS, 8, solver, hyper, np.zeros_like(params),
        np.zeros_like(params), 0, weight_decay=0.3,
    )  # fmt: skip
    np.testing.assert_allclose(loss, ref_loss, rtol=RTOL[dtype] * 10)
    np.testing.assert_allclose(got, ref_params, rtol=RTOL[dtype] * 10, atol=1e-6)
    # and the decay did something: not the plain epoch
    _, plain = run_epoch(X, Y, params, layer_sizes, TANH, solver, hyper, 8)
    assert not np.allclose(got, plain)


@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
def test_one_step_is_adamw_and_sgdw(solver):
    """One batch, written out: PyTorch's AdamW step (decay, then Adam with
    bias correction), and SGD with momentum after the same shrink."""
    X, Y, params, layer_sizes = small_net(4, [5], 3, np.float64, n=6)
    lr, wd, mu, b1, b2, eps = 0.01, 0.5, 0.9, 0.9, 0.999, 1e-8
    hyper = np.array([lr, mu, 0.0, b1, b2, eps, 0.0, 0.0])
    grads = np.empty_like(params)
    size = workspace_size(layer_sizes, 6)
    cpu.loss_grad(
        X, Y, np.empty(0), params, layer_sizes, RELU, SOFTMAX, LOG_LOSS, 0.0, grads,
        np.empty(size), np.empty(size),
    )  # fmt: skip
    n_coef = param_layout(layer_sizes)[1][0]
    decayed = params.copy()
    decayed[:n_coef] *= 1 - lr * wd
    if solver == ADAM:
        m, v = (1 - b1) * grads, (1 - b2) * grads**2
        want = decayed - lr * np.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps)
    else:
        want = decayed - lr * grads  # velocity 0: v = -lr g, p += v
    _, got = run_epoch(
        X, Y, params, layer_sizes, RELU, solver, hyper, 6, weight_decay=wd
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # the intercepts are not decayed: with a zero gradient they stay
    assert n_coef < params.size


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_weight_decay_zero_is_sklearns_fit_bitwise(solver, monkeypatch):
    X, y = load_iris(return_X_y=True)
    calls = []
    train_epoch = cpu.train_epoch

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return train_epoch(*args, **kwargs)

    monkeypatch.setattr(cpu, "train_epoch", spy)
    kw = dict(solver=solver, max_iter=5, random_state=0, device="cpu")
    a = FastMLPClassifier((10,), **kw).fit(X, y)
    b = FastMLPClassifier((10,), weight_decay=0.0, label_smoothing=0.0, **kw).fit(X, y)
    assert_bitwise_equal(a, b)
    assert calls and all(c == {} for c in calls)  # the backend called as before


@ignore_convergence
def test_weight_decay_shrinks_the_weights():
    X, y = load_iris(return_X_y=True)
    kw = dict(max_iter=100, random_state=0, learning_rate_init=0.01)
    plain = FastMLPClassifier((32,), **kw).fit(X, y)
    decayed = FastMLPClassifier((32,), weight_decay=0.5, **kw).fit(X, y)
    norm = lambda c: sum(float((W**2).sum()) for W in c.coefs_)  # noqa: E731
    assert norm(decayed) < 0.8 * norm(plain)
    assert decayed.score(X, y) > 0.9


def test_weight_decay_is_refused_where_it_has_no_meaning():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="Use alpha .* with 'lbfgs'"):
        FastMLPClassifier(solver="lbfgs", weight_decay=0.1).fit(X, y)
    with pytest.raises(ValueError, match="'weight_decay' parameter"):
        FastMLPRegressor(weight_decay=-1.0).fit(X, y)
    assert "CPU only" in FastMLPClassifier(weight_decay=0.1)._cpu_only_reason()
    assert FastMLPClassifier()._cpu_only_reason() is None


# --------------------------------------------------------------------------
# label_smoothing
# --------------------------------------------------------------------------
def test_smoothed_targets_as_keras_and_pytorch_define_them():
    clf = FastMLPClassifier(label_smoothing=0.2)
    Y = np.eye(4)[[0, 3, 1]]
    clf.out_activation_ = "softmax"
    np.testing.assert_allclose(clf._training_targets(Y), Y * 0.8 + 0.05)
    assert clf._training_targets(Y).sum(axis=1) == pytest.approx(1.0)
    clf.out_activation_ = "logistic"  # binary or multilabel: two classes per unit
    Y = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    got = clf._training_targets(Y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [[0.1, 0.9], [0.9, 0.9]], rtol=1e-6)
    clf.label_smoothing = 0.0
    assert clf._training_targets(Y) is Y


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_label_smoothing_fit_is_the_oracle_on_smoothed_targets(kind):
    if kind == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=40, n_features=5, random_state=0
        )
        Y = y.astype(float)
    else:
        X, y = make_classification(
            n_samples=40, n_features=5, n_informative=3,
            n_classes=3 if kind == "multiclass" else 2, random_state=0,
        )  # fmt: skip
        Y = np.eye(3)[y] if kind == "multiclass" else y[:, None].astype(float)
    eps, K = 0.1, (3 if kind == "multiclass" else 2)
    clf = FastMLPClassifier(
        (6,), label_smoothing=eps, max_iter=1, shuffle=False, batch_size=16,
        random_state=0, learning_rate_init=0.05,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    sizes = np.array([5, 6, Y.shape[1]], dtype=np.int64)
    init = _engine.initial_params(
        "glorot", list(sizes), "relu", check_random_state(0), np.float64
    )
    out = SOFTMAX if kind == "multiclass" else ACTIVATION_CODES["logistic"]
    loss_code = LOG_LOSS if kind == "multiclass" else 2  # binary log loss
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0])
    ref_loss, ref_params, *_ = ref_train_epoch(
        X, Y * (1 - eps) + eps / K, np.empty(0), np.arange(40), init, sizes, RELU,
        out, loss_code, 16, ADAM, hyper, np.zeros_like(init), np.zeros_like(init), 0,
    )  # fmt: skip
    np.testing.assert_allclose(clf._packed, ref_params, rtol=1e-10, atol=1e-13)
    assert clf.loss_ == pytest.approx(ref_loss, rel=1e-10)


@ignore_convergence
def test_label_smoothing_softens_probabilities_and_keeps_validation_unsmoothed():
    X, y = load_iris(return_X_y=True)
    kw = dict(max_iter=300, random_state=0, learning_rate_init=0.01)
    sharp = FastMLPClassifier((32,), **kw).fit(X, y)
    smooth = FastMLPClassifier((32,), label_smoothing=0.2, **kw).fit(X, y)
    assert smooth.predict_proba(X).max() < sharp.predict_proba(X).max()
    # the smoothed target of the true class is 1 - 0.2 * 2 / 3 = 0.867
    assert np.median(smooth.predict_proba(X).max(axis=1)) < 0.9
    assert smooth.score(X, y) > 0.9
    # held-out: the plain log-loss of the labels as given (scoring='loss'
    # restores the epoch of the lowest one)
    rng = np.random.RandomState(0)
    val = rng.rand(len(y)) < 0.3
    es = FastMLPClassifier(
        (16,), label_smoothing=0.2, early_stopping=True, scoring="loss", **kw
    ).fit(X[~val], y[~val], X_val=X[val], y_val=y[val])
    assert min(es.validation_loss_curve_) == pytest.approx(
        log_loss(y[val], es.predict_proba(X[val])), rel=1e-9
    )


def test_label_smoothing_is_validated():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="'label_smoothing' parameter"):
        FastMLPClassifier(label_smoothing=1.0).fit(X, y)
    assert "label_smoothing" not in FastMLPRegressor().get_params()


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------
def test_oracle_dropout_gradient_is_the_finite_difference():
    """With the masks fixed the dropped network is a function of the
    weights; the oracle's gradient of it is checked by central differences."""
    X, Y, params, sizes = small_net(3, [5, 4], 3, np.float64, n=7)
    masks = ref_dropout_masks(3, 0, 7, [5, 4], [0.5, 0.25])
    assert all(((m == 0) | (m > 1)).all() for m in masks)
    args = (X, Y, np.empty(0), None, sizes, TANH, SOFTMAX, LOG_LOSS, 1e-3, 0.0, masks)

    def loss_at(p):
        return ref_loss_grad(*args[:3], p, *args[4:])[0]

    _, grad = ref_loss_grad(*args[:3], params, *args[4:])
    h = 1e-6
    fd = np.array(
        [
            (loss_at(params + h * e) - loss_at(params - h * e)) / (2 * h)
            for e in np.eye(params.size)
        ]
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_masks_drop_the_rate_and_depend_on_seed_row_and_unit():
    masks = ref_dropout_masks(11, 0, 4000, [50, 30], [0.3, 0.0])
    assert (masks[0] == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert (masks[1] == 1.0).all()
    again = ref_dropout_masks(11, 2000, 2000, [50, 30], [0.3, 0.0])
    np.testing.assert_array_equal(again[0], masks[0][2000:])  # rows by position
    other = ref_dropout_masks(12, 0, 4000, [50, 30], [0.3, 0.0])
    assert (other[0] != masks[0]).mean() > 0.3


@pytest.mark.parametrize("hidden_sizes", [[7, 6], [3, 4]], ids=["general", "narrow"])
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "tanh", "selu", "identity"])
@pytest.mark.parametrize("rates", [(0.5, 0.2), (0.0, 0.4)], ids=["both", "second"])
def test_dropout_epoch_matches_oracle(rates, activation, dtype, solver, hidden_sizes):
    X, Y, params, sizes = small_net(3, hidden_sizes, 3, dtype)
    code = ACTIVATION_CODES[activation]
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-3, 0.0], dtype=dtype)
    drop = np.array(rates)
    loss, got = run_epoch(
        X, Y, params, sizes, code, solver, hyper, 8, dropout=drop, dropout_seed=5
    )
    ref_loss, ref_params, *_ = ref_train_epoch(
        X, Y, np.empty(0, dtype), np.arange(X.shape[0]), params, sizes, code,
        SOFTMAX, LOG_LOSS, 8, solver, hyper, np.zeros_like(params),
        np.zeros_like(params), 0, dropout=rates, dropout_seed=5,
    )  # fmt: skip
    np.testing.assert_allclose(loss, ref_loss, rtol=RTOL[dtype] * 10)
    np.testing.assert_allclose(got, ref_params, rtol=RTOL[dtype] * 10, atol=1e-6)
    _, plain = run_epoch(X, Y, params, sizes, code, solver, hyper, 8)
    assert not np.allclose(got, plain)


def test_dropout_epoch_on_csr_input_equals_dense():
    X, Y, params, sizes = small_net(6, [9], 3, np.float64)
    X[X < 0.3] = 0.0
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-3, 0.0])
    kw = dict(dropout=np.array([0.3]), dropout_seed=9)
    dense_loss, dense = run_epoch(X, Y, params, sizes, RELU, ADAM, hyper, 8, **kw)
    A = sp.csr_matrix(X)
    csr = (A.indptr, A.indices, A.data)
    csr_loss, got = run_epoch(csr, Y, params, sizes, RELU, ADAM, hyper, 8, **kw)
    np.testing.assert_allclose(got, dense, rtol=1e-12, atol=1e-14)
    assert csr_loss == pytest.approx(dense_loss, rel=1e-12)


@ignore_convergence
def test_dropout_fit_is_the_oracle_with_masks_from_random_state():
    """One epoch of a fit: weights from random_state, then one draw for the
    epoch's masks (shuffle off: no shuffle draw), then the oracle's epoch."""
    X, y = make_classification(n_samples=40, n_features=5, n_classes=3,
                               n_informative=3, random_state=0)  # fmt: skip
    clf = FastMLPClassifier(
        (6, 5), dropout=(0.3, 0.1), max_iter=1, shuffle=False, batch_size=16,
        random_state=0, learning_rate_init=0.05,
    ).fit(X, y)  # fmt: skip
    sizes = np.array([5, 6, 5, 3], dtype=np.int64)
    rs = check_random_state(0)
    init = _engine.initial_params("glorot", list(sizes), "relu", rs, np.float64)
    seed = rs.randint(0, 2**31 - 1)
    hyper = np.array([0.05, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0])
    ref_loss, ref_params, *_ = ref_train_epoch(
        X, np.eye(3)[y], np.empty(0), np.arange(40), init, sizes, RELU, SOFTMAX,
        LOG_LOSS, 16, ADAM, hyper, np.zeros_like(init), np.zeros_like(init), 0,
        dropout=(0.3, 0.1), dropout_seed=seed,
    )  # fmt: skip
    np.testing.assert_allclose(clf._packed, ref_params, rtol=1e-10, atol=1e-13)
    assert clf.loss_ == pytest.approx(ref_loss, rel=1e-10)
    # off at predict: the network as is
    np.testing.assert_allclose(
        clf.predict_proba(X),
        ref_forward(X, clf._packed, sizes, RELU, SOFTMAX),
        rtol=1e-12,
    )


@ignore_convergence
def test_dropout_fits_are_bitwise_reproducible():
    X, y = load_iris(return_X_y=True)
    kw = dict(dropout=0.3, max_iter=20, learning_rate_init=0.01)
    a = FastMLPClassifier((16, 16), random_state=3, **kw).fit(X, y)
    b = FastMLPClassifier((16, 16), random_state=3, **kw).fit(X, y)
    assert_bitwise_equal(a, b)
    assert a.loss_curve_ == b.loss_curve_
    c = FastMLPClassifier((16, 16), random_state=4, **kw).fit(X, y)
    assert not np.array_equal(a.coefs_[1], c.coefs_[1])
    # a rate of 0 everywhere is no dropout: scikit-learn's fit, bitwise
    plain = FastMLPClassifier(
        (16, 16), random_state=3, max_iter=20, learning_rate_init=0.01
    )
    zero = FastMLPClassifier(
        (16, 16),
        random_state=3,
        max_iter=20,
        learning_rate_init=0.01,
        dropout=(0.0, 0.0),
    )
    assert_bitwise_equal(plain.fit(X, y), zero.fit(X, y))


def test_dropout_is_validated():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        FastMLPClassifier((4, 4), dropout=(0.1,)).fit(X, y)
    with pytest.raises(
        ValueError, match=r"Each rate in dropout must be a float in \[0, 1\)"
    ):
        FastMLPClassifier((4,), dropout=(1.0,)).fit(X, y)
    with pytest.raises(ValueError, match="'dropout' parameter"):
        FastMLPClassifier(dropout=1.5).fit(X, y)
    with pytest.raises(ValueError, match="stochastic solvers"):
        FastMLPRegressor(solver="lbfgs", dropout=0.1).fit(X, y)
    assert "CPU only" in FastMLPClassifier(dropout=0.1)._cpu_only_reason()
