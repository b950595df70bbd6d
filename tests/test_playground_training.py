"""The Playground's estimators train as the TensorFlow Playground does.

The oracle is a per-example re-implementation of the Playground's training
(``nn.ts``: forward and backward one point at a time, derivatives accumulated
and applied every ``batch`` points, the regularisation step after the data
step, L1's dead links), written here from its behaviour, independent of the
kernels' batched form.
"""

import numpy as np
import pytest

from fastmlp.playground import (
    PlaygroundClassifier,
    PlaygroundRegressor,
    fit_with_curves,
    make_circle,
    make_plane,
    playground_classifier,
    playground_params,
    playground_regressor,
    set_bias,
    set_learning_rate,
    set_weight,
    split_train_test,
)
from fastmlp.playground._training import data_loss

ACT = {
    "tanh": (np.tanh, lambda a: 1 - a**2),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(float)),
    "identity": (lambda z: z, lambda a: np.ones_like(a)),
}


def playground_epochs(X, t, Ws, bs, *, lr, rate, reg, batch, epochs, hidden, out):
    """The Playground's ``oneStep`` ``epochs`` times; returns (Ws, bs)."""
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    dead = [np.zeros(W.shape, bool) for W in Ws]
    acc_W = [np.zeros_like(W) for W in Ws]
    acc_b = [np.zeros_like(b) for b in bs]
    count = 0
    for _ in range(epochs):
        for i in range(len(X)):
            acts = [X[i]]
            for layer, (W, b) in enumerate(zip(Ws, bs, strict=True)):
                f = ACT[out if layer == len(Ws) - 1 else hidden][0]
                acts.append(f(acts[-1] @ W + b))
            d = (acts[-1] - t[i]) * ACT[out][1](acts[-1])
            for layer in range(len(Ws) - 1, -1, -1):
                acc_W[layer] += np.where(dead[layer], 0, np.outer(acts[layer], d))
                acc_b[layer] += d
                if layer:
                    d = (Ws[layer] @ d) * ACT[hidden][1](acts[layer])
            count += 1
            if count % batch:
                continue
            for layer, W in enumerate(Ws):
                bs[layer] -= lr * acc_b[layer] / batch
                der = {"L1": np.sign(W), "L2": W, None: 0 * W}[reg]
                stepped = W - lr * acc_W[layer] / batch
                new = stepped - lr * rate * der
                crossed = (reg == "L1") & (stepped * new < 0) & ~dead[layer]
                new = np.where(crossed, 0.0, new)
                dead[layer] |= crossed
                Ws[layer] = np.where(dead[layer] & ~crossed, W, new)
                acc_W[layer][:] = 0
                acc_b[layer][:] = 0
    return Ws, bs


def _circle(n=200):
    X, y = make_circle(n, noise=0.1, random_state=3)
    return X, y


@pytest.mark.parametrize(
    "reg,rate,hidden", [(None, 0.0, "tanh"), ("L1", 0.01, "tanh"), ("L2", 0.03, "relu")]
)
def test_classifier_matches_the_playground_step_by_step(reg, rate, hidden):
    X, y = _circle(200)  # 20 full batches of 10
    model = playground_classifier(
        (4, 2),
        activation=hidden,
        regularization=reg,
        regularization_rate=rate,
        learning_rate=0.1,
        shuffle=False,
        random_state=0,
    )
    model.partial_fit(X[:10], y[:10], classes=[-1, 1])  # weights to copy
    Ws0 = [W.copy() for W in model.coefs_]
    bs0 = [b.copy() for b in model.intercepts_]
    model.coefs_ = [W.copy() for W in Ws0]
    model.intercepts_ = [b.copy() for b in bs0]
    for _ in range(5):
        model.partial_fit(X, y)
    Ws, bs = playground_epochs(
        X, y.astype(float)[:, None], Ws0, bs0, lr=0.1, rate=rate, reg=reg,
        batch=10, epochs=5, hidden=hidden, out="tanh",
    )  # fmt: skip
    for got, want in zip(model.coefs_ + model.intercepts_, Ws + bs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    if reg == "L1":
        assert sum(int((W == 0).sum()) for W in Ws) > 0  # some links died
        for got, want in zip(model.coefs_, Ws, strict=True):
            np.testing.assert_array_equal(got == 0, want == 0)


def test_regressor_l1_matches_the_playground():
    X, y = make_plane(120, noise=0.1, random_state=1)
    model = playground_regressor(
        (3,), regularization="L1", regularization_rate=0.05, shuffle=False,
        random_state=0,
    )  # fmt: skip
    model.partial_fit(X[:10], y[:10])
    Ws0 = [W.copy() for W in model.coefs_]
    bs0 = [b.copy() for b in model.intercepts_]
    model.coefs_ = [W.copy() for W in Ws0]
    model.intercepts_ = [b.copy() for b in bs0]
    for _ in range(4):
        model.partial_fit(X, y)
    Ws, bs = playground_epochs(
        X, y[:, None], Ws0, bs0, lr=0.03, rate=0.05, reg="L1", batch=10,
        epochs=4, hidden="tanh", out="identity",
    )  # fmt: skip
    for got, want in zip(model.coefs_ + model.intercepts_, Ws + bs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_dead_weights_stay_zero_and_loss_is_the_playgrounds():
    X, y = _circle(300)
    model = playground_classifier(
        (4, 2), regularization="L1", regularization_rate=0.005, random_state=0,
        max_iter=50,
    ).fit(X, y)  # fmt: skip
    dead = [W == 0 for W in model.coefs_]
    assert sum(int(d.sum()) for d in dead) > 0
    for _ in range(5):
        model.partial_fit(X, y)
    for W, d in zip(model.coefs_, dead, strict=True):
        assert np.all(W[d] == 0)
    assert isinstance(model, PlaygroundClassifier)
    assert model.out_activation_ == "tanh"
    out = model.layer_activations(X)[-1].ravel()
    assert out.min() >= -1 and out.max() <= 1 and out.min() < 0 < out.max()
    expected = 0.5 * np.mean((out - y) ** 2)  # labels +-1
    assert data_loss(model, X, y) == pytest.approx(expected)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], (1 + out) / 2)
    np.testing.assert_array_equal(model.predict(X), np.where(out >= 0, 1, -1))


def test_playground_names_translate():
    params = playground_params(
        activation="sigmoid", learning_rate=0.1, regularization="L2",
        regularization_rate=0.003, batch_size=20,
    )  # fmt: skip
    assert params == {
        "activation": "logistic",
        "learning_rate_init": 0.1,
        "batch_size": 20,
        "alpha": pytest.approx(0.06),
    }
    assert playground_params(activation="linear")["activation"] == "identity"
    assert playground_params(regularization="L1", regularization_rate=0.01)[
        "l1"
    ] == pytest.approx(0.1)  # the default batch of 10
    assert playground_params(learning_rate="adaptive") == {"learning_rate": "adaptive"}
    with pytest.raises(ValueError, match="L1"):
        playground_params(regularization="L3")
    with pytest.raises(ValueError, match="regularization"):
        playground_params(regularization_rate=0.1)
    model = playground_classifier((3,), activation="linear")
    assert model.activation == "identity"
    assert isinstance(playground_regressor(), PlaygroundRegressor)


def test_shuffled_once_then_never_again():
    X, y = _circle(100)
    a = playground_classifier((3,), random_state=0)
    a.partial_fit(X, y, classes=[-1, 1])
    order = a._playground_order.copy()
    a.partial_fit(X, y)
    np.testing.assert_array_equal(a._playground_order, order)
    b = playground_classifier((3,), random_state=0, shuffle=False)
    b.partial_fit(X[order], y[order], classes=[-1, 1])
    b.partial_fit(X[order], y[order])
    for got, want in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(got, want)


def test_learning_rate_applies_at_once_between_partial_fits():
    X, y = _circle(100)
    a = playground_classifier((3,), random_state=0, shuffle=False)
    a.partial_fit(X, y, classes=[-1, 1])
    b = playground_classifier((3,), random_state=0, shuffle=False, learning_rate=0.3)
    b.partial_fit(X, y, classes=[-1, 1])
    b.coefs_ = [W.copy() for W in a.coefs_]
    b.intercepts_ = [v.copy() for v in a.intercepts_]
    set_learning_rate(a, 0.3)
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    for got, want in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert a.learning_rate_init == 0.3


def test_weights_set_by_hand_are_trained_from():
    X, y = _circle(100)
    model = playground_classifier((2,), random_state=0, shuffle=False)
    model.partial_fit(X, y, classes=[-1, 1])
    set_weight(model, 0, 1, 0, 2.5)
    set_bias(model, 1, 0, -0.25)
    assert model.coefs_[0][1, 0] == 2.5 and model.intercepts_[1][0] == -0.25
    packed = model._params_vector()
    assert np.shares_memory(packed, model.coefs_[0])  # trained in place
    before = model.coefs_[0].copy()
    model.partial_fit(X, y)
    assert not np.array_equal(model.coefs_[0], before)


def test_refusals_say_what_to_change():
    X, y = _circle(60)
    with pytest.raises(ValueError, match="two classes"):
        playground_classifier((2,)).fit(np.vstack([X, X]), np.r_[y, y + 5])
    with pytest.raises(ValueError, match="8 units"):
        playground_classifier((16,), regularization="L1", regularization_rate=0.1).fit(
            X, y
        )
    with pytest.raises(ValueError, match="lbfgs"):
        playground_classifier((2,), solver="lbfgs", l1=0.1).fit(X, y)


def test_fit_with_curves_records_the_playgrounds_loss():
    X, y = _circle(200)
    X_train, X_test, y_train, y_test = split_train_test(X, y, random_state=0)
    model, curves = fit_with_curves(
        playground_classifier((4, 2), random_state=0), X_train, y_train, X_test,
        y_test, 30,
    )  # fmt: skip
    assert curves.train_loss[-1] < curves.train_loss[0]
    assert curves.train_loss[-1] == pytest.approx(data_loss(model, X_train, y_train))
    assert curves.train_loss[0] < 1.0  # squared error of tanh: at most 2
