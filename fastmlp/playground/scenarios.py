"""The course's Playground exercises as runnable, checkable scenarios.

Each scenario answers one question of the course with a small experiment on
fastmlp: it trains the models, measures the outcome (``metrics``), states it
in a few lines (``summary``) and, when asked, draws the pictures. The test
suite asserts every scenario's claim on its ``metrics``, so the course
material stays true as the engine changes.

Run one from the command line (``python -m fastmlp.playground list`` names
them)::

    python -m fastmlp.playground xor_features --out results/

Data: the Playground's 500 points, noise 0 unless said, split 50/50 into
train and test; models: :func:`~fastmlp.playground.playground_classifier`
(tanh, plain SGD at 0.03, batches of 10, the Playground's initialisation),
with fixed seeds so every number below is reproducible. Every scenario stays
within the Playground's limits (at most 8 neurons a layer, batches of at most
30) except two that say why: ``spiral_architectures``' 16-16 network (what
twice the Playground's width does) and ``sgd_hyperparameters``' batches of 50
and 250 (the full batch, for the contrast).
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.pipeline import make_pipeline

from ..exceptions import ConvergenceWarning
from ._datasets import (
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
    split_train_test,
)
from ._features import FEATURE_NAMES, PlaygroundFeatures
from ._training import (
    count_parameters,
    data_loss,
    fit_with_curves,
    playground_classifier,
    playground_regressor,
    set_bias,
    set_weight,
)

__all__ = ["SCENARIOS", "ScenarioResult", "run_scenario", "write_scenario"]


@dataclass
class ScenarioResult:
    """What a scenario measured and drew.

    ``metrics`` holds the numbers its claim rests on (the tests assert on
    them); ``summary`` is the text written next to the pictures; ``figures``
    maps a short name to a matplotlib Figure (empty with ``plots=False``).
    """

    name: str
    question: str
    summary: str
    metrics: dict
    figures: dict = field(default_factory=dict)


def _data(generator, noise=0.0, seed=0):
    """The Playground's 500 points, shuffled and split 50/50."""
    X, y = generator(500, noise=noise, random_state=seed)
    return split_train_test(X, y, train_fraction=0.5, random_state=seed)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _plots():
    from . import plots  # matplotlib only when pictures are wanted

    return plots


def _panel(model, data, title):
    X_train, X_test, y_train, y_test = data
    return {
        "model": model,
        "X": X_train,
        "y": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "title": title,
    }


# --------------------------------------------------------------------------
# 1. logistic regression is a network without hidden layers
# --------------------------------------------------------------------------
def logistic_regression(plots=True):
    """Q1. 0 hidden layers on gauss: logistic regression, 3 parameters, SGD."""
    data = X_train, X_test, y_train, y_test = _data(make_gauss)
    model = playground_classifier((), random_state=0)
    model, curves = fit_with_curves(model, X_train, y_train, X_test, y_test, 200)
    w, b = model.coefs_[0].ravel(), float(model.intercepts_[0][0])
    # the Playground's output o = tanh(z) on labels +-1: (1 + o) / 2 = sigmoid(2 z)
    by_hand = expit(2 * (X_test @ w + b))
    gap = float(np.max(np.abs(model.predict_proba(X_test)[:, 1] - by_hand)))
    n_weights, n_biases = count_parameters(model)
    metrics = {
        "n_weights": n_weights,
        "n_biases": n_biases,
        "max_abs_diff_from_sigmoid_formula": gap,
        "test_accuracy": curves.final()["test_score"],
        "w": w.tolist(),
        "b": b,
    }
    summary = (
        "No hidden layer: the network's output is o = tanh(w1 X1 + w2 X2 + b) "
        "(the Playground's), so p(+1 | x) = (1 + o) / 2 = sigmoid(2 (w1 X1 + w2 X2 "
        "+ b)): logistic regression, with "
        f"{n_weights} weights + {n_biases} bias = {n_weights + n_biases} "
        "parameters.\n"
        f"Fitted by SGD (200 epochs): w = ({w[0]:.3f}, {w[1]:.3f}), b = {b:.3f}; "
        f"predict_proba equals the sigmoid formula to {gap:.1e}; "
        f"test accuracy {metrics['test_accuracy']:.3f}."
    )
    figures = {}
    if plots:
        p = _plots()
        figures["boundary"] = p.plot_decision_boundary(
            **_panel(model, data, "gauss, 0 hidden layers")
        )
        figures["loss"] = p.plot_loss_curves(curves, title="logistic regression, SGD")
    return ScenarioResult(
        "logistic_regression", "0 hidden layers on gauss", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# 2. noise 15 %: three runs, the same weights
# --------------------------------------------------------------------------
def noisy_gauss_runs(plots=True):
    """Q2. Gauss with noise 15 %: 3 runs of 1000 epochs give the same weights."""
    data = X_train, X_test, y_train, y_test = _data(make_gauss, noise=0.15)
    models, rows = [], []
    for seed in range(3):
        model = _fit(
            playground_classifier((), max_iter=1000, random_state=seed),
            X_train,
            y_train,
        )
        models.append(model)
        rows.append(np.r_[model.coefs_[0].ravel(), model.intercepts_[0]])
    weights = np.array(rows)
    spread = np.ptp(weights, axis=0) / np.abs(weights).mean(axis=0)
    scores = [float(m.score(X_test, y_test)) for m in models]
    metrics = {
        "weights": weights.tolist(),
        "max_relative_spread": float(spread.max()),
        "test_accuracy": scores,
    }
    lines = [
        f"run {i}: w1 = {r[0]:.3f}, w2 = {r[1]:.3f}, b = {r[2]:.3f}, "
        f"test accuracy {s:.3f}"
        for i, (r, s) in enumerate(zip(weights, scores, strict=True))
    ]
    summary = (
        "Gauss with noise 15 %, 3 runs of 1000 SGD epochs from different random "
        "initial weights:\n"
        + "\n".join(lines)
        + f"\nThe runs agree to {100 * spread.max():.1f} % (largest relative "
        "spread of a parameter): every run heads for the same minimum; noise "
        "moves the points, not the answer."
    )
    figures = {}
    if plots:
        panels = [_panel(m, data, f"run {i}") for i, m in enumerate(models)]
        figures["runs"] = _plots().plot_decision_boundaries(
            panels, suptitle="gauss, noise 15 %: three runs"
        )
    return ScenarioResult(
        "noisy_gauss_runs", "noise 15 % on gauss, 3 runs", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# 3. circle and xor: no hidden layer fails, engineered features fix it
# --------------------------------------------------------------------------
def xor_features(plots=True):
    """Q3. Circle and xor: 0 hidden layers fail; X1^2, X2^2 or X1X2 fix it."""
    cases = {
        "circle": (make_circle, ["X1", "X2", "X1^2", "X2^2"]),
        "xor": (make_xor, ["X1", "X2", "X1X2"]),
    }
    metrics, panels, lines = {}, [], []
    for name, (generator, features) in cases.items():
        data = X_train, X_test, y_train, y_test = _data(generator)
        plain = _fit(
            playground_classifier((), max_iter=300, random_state=0), X_train, y_train
        )
        engineered = _fit(
            make_pipeline(
                PlaygroundFeatures(features),
                playground_classifier((), max_iter=300, random_state=0),
            ),
            X_train,
            y_train,
        )
        a_plain = float(plain.score(X_test, y_test))
        a_feat = float(engineered.score(X_test, y_test))
        metrics[f"{name}_accuracy_x1_x2"] = a_plain
        metrics[f"{name}_accuracy_features"] = a_feat
        extra = ", ".join(features[2:])
        lines.append(
            f"{name}: X1, X2 only -> test accuracy {a_plain:.3f}; "
            f"with {extra} -> {a_feat:.3f}"
        )
        panels += [
            _panel(plain, data, f"{name}: X1, X2"),
            _panel(engineered, data, f"{name}: + {extra}"),
        ]
    summary = (
        "0 hidden layers draw a straight boundary in the input space:\n"
        + "\n".join(lines)
        + "\nA straight line in (X1^2, X2^2) is a circle in (X1, X2); the sign "
        "of X1X2 is xor: the right features make a linear model enough."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels, ncols=2)
    return ScenarioResult(
        "xor_features",
        "circle/xor: 0 hidden layers vs features",
        summary,
        metrics,
        figures,
    )


# --------------------------------------------------------------------------
# 4. one hidden layer: 1 neuron vs 4 neurons
# --------------------------------------------------------------------------
def hidden_neurons(plots=True):
    """Q4. Circle, X1 and X2 only: 1 hidden neuron fails, 4 learn the features."""
    data = X_train, X_test, y_train, y_test = _data(make_circle)
    metrics, models = {}, {}
    for width in (1, 2, 3, 4):
        scores = []
        for seed in range(3):
            model = _fit(
                playground_classifier((width,), max_iter=500, random_state=seed),
                X_train,
                y_train,
            )
            scores.append(float(model.score(X_test, y_test)))
            if seed == 0:
                models[width] = model
        metrics[f"accuracy_{width}"] = scores
    lines = [
        f"{w} neuron{'s' if w > 1 else ''}: test accuracy "
        + ", ".join(f"{s:.3f}" for s in metrics[f"accuracy_{w}"])
        for w in (1, 2, 3, 4)
    ]
    summary = (
        "Circle, inputs X1, X2 only, one hidden layer (3 seeds, 500 epochs):\n"
        + "\n".join(lines)
        + "\nEach hidden neuron learns one straight edge (its own feature); one "
        "edge cannot enclose the disc, three or four edges can: the network "
        "learns the features we engineered by hand."
    )
    figures = {}
    if plots:
        p = _plots()
        figures["boundaries"] = p.plot_decision_boundaries(
            [_panel(models[w], data, f"{w} hidden neuron(s)") for w in (1, 4)], ncols=2
        )
        figures["network_4"] = p.plot_network(
            models[4], X_train, y_train, title="circle, 4 hidden neurons"
        )
    return ScenarioResult(
        "hidden_neurons", "1 vs 4 hidden neurons on circle", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# 5. spiral: wider and deeper, restarts, parameter counts
# --------------------------------------------------------------------------
SPIRAL_ARCHITECTURES = ((4,), (8, 8), (16, 16))


def spiral_architectures(plots=True):
    """Q5. Spiral: wider/deeper networks, restarts, weights and biases."""
    data = X_train, X_test, y_train, y_test = _data(make_spiral)
    metrics, lines, panels = {}, [], []
    for hidden in SPIRAL_ARCHITECTURES:
        key = "-".join(map(str, hidden))
        scores, model = [], None
        for seed in range(3):
            model_seed = _fit(
                playground_classifier(hidden, max_iter=1000, random_state=seed),
                X_train,
                y_train,
            )
            scores.append(float(model_seed.score(X_test, y_test)))
            model = model if model is not None else model_seed
        n_weights, n_biases = count_parameters(model)
        metrics[key] = {
            "accuracy": scores,
            "n_weights": n_weights,
            "n_biases": n_biases,
        }
        lines.append(
            f"hidden {hidden}: {n_weights} weights + {n_biases} biases; test "
            f"accuracy over 3 restarts " + ", ".join(f"{s:.3f}" for s in scores)
        )
        panels.append(_panel(model, data, f"hidden {hidden}"))
    summary = (
        "Spiral (noise 0), inputs X1, X2, tanh, SGD 0.03, 1000 epochs:\n"
        + "\n".join(lines)
        + "\nOne small layer cannot follow the arms; 8-8 sometimes does and "
        "sometimes gets stuck (restarts differ); 16-16 does it every time."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels)
    return ScenarioResult(
        "spiral_architectures",
        "spiral: width, depth, restarts",
        summary,
        metrics,
        figures,
    )


# --------------------------------------------------------------------------
# 6. activations in a deep network
# --------------------------------------------------------------------------
DEEP = (6, 6, 6, 6)


def activations(plots=True):
    """Q6. Deep net with linear/sigmoid/tanh/relu: which learn the circle."""
    data = X_train, X_test, y_train, y_test = _data(make_circle)
    logistic = _fit(
        playground_classifier((), max_iter=300, random_state=0), X_train, y_train
    )
    metrics = {"logistic_regression_accuracy": float(logistic.score(X_test, y_test))}
    panels, lines = [_panel(logistic, data, "logistic regression")], []
    for act in ("identity", "logistic", "tanh", "relu"):
        model = _fit(
            playground_classifier(DEEP, activation=act, max_iter=300, random_state=0),
            X_train,
            y_train,
        )
        acc = float(model.score(X_test, y_test))
        loss = data_loss(model, X_train, y_train)
        metrics[f"{act}_accuracy"] = acc
        metrics[f"{act}_train_loss"] = loss
        lines.append(f"{act:>8}: test accuracy {acc:.3f}, train loss {loss:.3f}")
        panels.append(_panel(model, data, f"{act} {DEEP}"))
    summary = (
        f"Circle, hidden layers {DEEP}, 300 SGD epochs; logistic regression "
        f"(no hidden layer) reaches {metrics['logistic_regression_accuracy']:.3f}.\n"
        + "\n".join(lines)
        + "\nidentity: a stack of linear layers is one linear map, no better than "
        "logistic regression. logistic (sigmoid): its gradient (at most 1/4 per "
        "layer) vanishes through four layers and the loss stays near 0.5 (an "
        "output near 0 on labels +-1). tanh "
        "and relu learn the circle."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels)
    return ScenarioResult(
        "activations", "deep net: linear/sigmoid/relu/tanh", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# 7. features learned per layer
# --------------------------------------------------------------------------
def _linear_r2(Z, P):
    """R^2 of the least-squares fit of each column of Z by ``[P, 1]``."""
    design = np.column_stack((P, np.ones(P.shape[0])))
    coef, *_ = np.linalg.lstsq(design, Z, rcond=None)
    residual = ((Z - design @ coef) ** 2).sum(axis=0)
    total = ((Z - Z.mean(axis=0)) ** 2).sum(axis=0)
    return 1.0 - residual / np.maximum(total, 1e-300)


def layer_features(plots=True):
    """Q7. Features learned per layer: per-neuron pictures, linearity by depth."""
    X_train, X_test, y_train, y_test = _data(make_circle)
    model = _fit(
        playground_classifier((6, 6, 6), max_iter=300, random_state=0), X_train, y_train
    )
    ticks = np.linspace(-6, 6, 61)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(ticks, ticks)])
    acts = model.layer_activations(grid)
    r2 = []
    for layer, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        pre = acts[layer] @ W + b  # each neuron's input, before its activation
        r2.append(float(np.mean(_linear_r2(pre, grid))))
    metrics = {
        "mean_linear_r2_per_layer": r2,
        "test_accuracy": model.score(X_test, y_test),
    }
    lines = [
        f"{'output' if i == len(r2) - 1 else f'hidden {i + 1}'}: mean R^2 {v:.3f}"
        for i, v in enumerate(r2)
    ]
    summary = (
        "Circle, hidden layers (6, 6, 6), tanh. How linear is what each neuron "
        "sums (its pre-activation) in the inputs X1, X2? R^2 of the best "
        "plane through it over the input square:\n"
        + "\n".join(lines)
        + "\nLayer 1 neurons are exactly linear (R^2 = 1: half-planes); each "
        "layer combines the previous layer's features into curved ones; the "
        "output is the disc, far from any plane."
    )
    figures = {}
    if plots:
        figures["network"] = _plots().plot_network(
            model, X_train, y_train, title="circle, (6, 6, 6) tanh"
        )
    return ScenarioResult(
        "layer_features", "features learned per layer", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# 8. learning rate and batch size
# --------------------------------------------------------------------------
LEARNING_RATES = (0.0003, 0.003, 0.03, 0.3, 3.0)
BATCH_SIZES = (1, 10, 50, 250)


def _roughness(values, last=50):
    """Mean |change| of a curve over its last epochs (oscillation)."""
    tail = np.asarray(values[-last:])
    return float(np.abs(np.diff(tail)).mean()) if tail.size > 1 else 0.0


def sgd_hyperparameters(plots=True):
    """Q8. SGD learning-rate and batch-size sweeps and their loss curves."""
    X_train, X_test, y_train, y_test = _data(make_circle)
    epochs = 200
    lr_curves, batch_curves, metrics = {}, {}, {"lr": {}, "batch": {}}
    for lr in LEARNING_RATES:
        model = playground_classifier((4, 2), learning_rate_init=lr, random_state=0)
        _, curves = fit_with_curves(model, X_train, y_train, X_test, y_test, epochs)
        lr_curves[f"lr {lr:g}"] = curves
        metrics["lr"][lr] = {
            **curves.final(),
            "roughness": _roughness(curves.train_loss),
            "diverged": curves.diverged,
        }
    for batch in BATCH_SIZES:
        model = playground_classifier((4, 2), batch_size=batch, random_state=0)
        _, curves = fit_with_curves(model, X_train, y_train, X_test, y_test, epochs)
        batch_curves[f"batch {batch}"] = curves
        metrics["batch"][batch] = {
            **curves.final(),
            "mean_train_loss": float(np.mean(curves.train_loss)),
            "updates": epochs * -(-250 // batch),
        }
    lr_lines = [
        f"lr {lr:g}: train loss {m['train_loss']:.3f}, test loss {m['test_loss']:.3f}, "
        f"test accuracy {m['test_score']:.3f}, oscillation {m['roughness']:.4f}"
        for lr, m in metrics["lr"].items()
    ]
    batch_lines = [
        f"batch {b}: {m['updates']} updates, mean train loss over the run "
        f"{m['mean_train_loss']:.3f}, final train loss {m['train_loss']:.3f}, "
        f"test accuracy {m['test_score']:.3f}"
        for b, m in metrics["batch"].items()
    ]
    summary = (
        f"Circle, hidden (4, 2), tanh, plain SGD, {epochs} epochs.\n"
        "Learning rate (batch 10):\n"
        + "\n".join(lr_lines)
        + "\nToo small: the loss hardly moves from 0.5 (an output near 0 on labels "
        "+-1). Right: fast and "
        "smooth. Large: the training loss drops fastest, the test loss less. "
        "Too large: the steps overshoot and the loss jumps about.\n"
        "Batch size (learning rate 0.03):\n"
        + "\n".join(batch_lines)
        + "\nAt a fixed number of epochs, small batches make many more (noisier) "
        "steps: the loss falls much faster per epoch (a lower mean over the run); "
        "the full batch (250) makes one step per epoch. Batch 1 at this rate "
        "never settles: its last epochs jump about, and where they end is down "
        "to chance (a change in the last bit of the data moves it)."
    )
    figures = {}
    if plots:
        p = _plots()
        figures["learning_rate"] = p.plot_loss_curves(
            lr_curves, title="learning rate sweep (batch 10)", log=True
        )
        figures["batch_size"] = p.plot_loss_curves(
            batch_curves, title="batch size sweep (lr 0.03)", log=True
        )
    return ScenarioResult(
        "sgd_hyperparameters",
        "SGD: learning rate and batch size",
        summary,
        metrics,
        figures,
    )


# --------------------------------------------------------------------------
# 9. all-zero initialisation
# --------------------------------------------------------------------------
def _unit_spread(model):
    """Largest difference between two units of the same hidden layer: their
    incoming weights, biases and outgoing weights."""
    spread = 0.0
    for layer in range(len(model.coefs_) - 1):
        W_in = np.asarray(model.coefs_[layer])
        b = np.asarray(model.intercepts_[layer])
        W_out = np.asarray(model.coefs_[layer + 1])
        spread = max(
            spread,
            float(np.ptp(W_in, axis=1).max()),
            float(np.ptp(b)),
            float(np.ptp(W_out, axis=0).max()) if W_out.shape[0] > 1 else 0.0,
        )
    return spread


def zero_init(plots=True):
    """Q9. All-zero initialisation: hidden units stay identical."""
    data = X_train, X_test, y_train, y_test = _data(make_circle)
    metrics, panels, lines = {}, [], []
    for act in ("tanh", "logistic"):
        for init in ("zeros", "playground"):
            model = _fit(
                playground_classifier(
                    (4, 4),
                    activation=act,
                    weight_init=init,
                    max_iter=300,
                    random_state=0,
                ),
                X_train,
                y_train,
            )
            key = f"{act}_{init}"
            moved = max(float(np.abs(w).max()) for w in model.coefs_)
            metrics[key] = {
                "unit_spread": _unit_spread(model),
                "max_abs_weight": moved,
                "test_accuracy": float(model.score(X_test, y_test)),
            }
            m = metrics[key]
            lines.append(
                f"{act}, {init} init: largest difference between units of a layer "
                f"{m['unit_spread']:.2e}, largest |weight| {moved:.3g}, test "
                f"accuracy {m['test_accuracy']:.3f}"
            )
            panels.append(_panel(model, data, f"{act}, {init} init"))
    summary = (
        "Circle, hidden (4, 4), 300 SGD epochs, weights initialised to zero or "
        "randomly:\n"
        + "\n".join(lines)
        + "\nFrom all-zero weights every unit of a layer computes the same "
        "function and gets the same gradient, so the units stay identical "
        "forever: the layer is worth one neuron. With tanh (tanh(0) = 0) no "
        "gradient reaches any weight at all. Random initialisation breaks the "
        "symmetry."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels, ncols=2)
    return ScenarioResult(
        "zero_init", "all-zero initialisation", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# exercise 1: what the features and the colours mean
# --------------------------------------------------------------------------
def features_and_colours(plots=True):
    """Ex. 1. The seven input features and the colours: each input's picture."""
    ticks = np.linspace(-6, 6, 101)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(ticks, ticks)])
    values = PlaygroundFeatures(list(FEATURE_NAMES)).fit(grid).transform(grid)
    metrics, lines = {}, []
    for name, column in zip(FEATURE_NAMES, values.T, strict=True):
        metrics[name] = {
            "min": float(column.min()),
            "max": float(column.max()),
            # the share of the plane drawn in the darkest orange or blue
            "saturated": float(np.mean(np.abs(column) >= 1)),
        }
        m = metrics[name]
        lines.append(
            f"{name:>7}: from {m['min']:.2f} to {m['max']:.2f}, darkest colour "
            f"on {100 * m['saturated']:.0f} % of the square"
        )
    X_train, X_test, y_train, y_test = data = _data(make_circle)
    model = _fit(
        make_pipeline(
            PlaygroundFeatures(list(FEATURE_NAMES)),
            playground_classifier((), max_iter=100, random_state=0),
        ),
        X_train,
        y_train,
    )
    inside = np.hypot(X_train[:, 0], X_train[:, 1]) < 2.5
    metrics["inner_points_are_blue"] = bool(np.all(y_train[inside] == 1))
    metrics["outer_points_are_orange"] = bool(np.all(y_train[~inside] == -1))
    metrics["test_accuracy"] = float(model.score(X_test, y_test))
    summary = (
        "Colours: blue is +1, orange -1, light grey 0, on the fixed scale "
        "[-1, 1] (values beyond are the darkest shade). A point's colour is "
        "its label (the circle's inner points are blue, the ring's orange); a "
        "picture's colour at (X1, X2) is what that input or neuron outputs "
        "there. The seven inputs over the square [-6, 6]^2:\n"
        + "\n".join(lines)
        + "\nX1 and X2 are blue right of (above) the axis and saturate beyond 1; "
        "X1^2 and X2^2 are never orange (a square is >= 0); X1X2 is blue in the "
        "quadrants where X1 and X2 agree; the sines alternate every pi and "
        "never saturate. With all seven inputs and no hidden layer the output "
        f"colours the circle: test accuracy {metrics['test_accuracy']:.3f}."
    )
    figures = {}
    if plots:
        p = _plots()
        figures["network"] = p.plot_network(
            model, X_train, y_train, title="circle: the seven inputs, no hidden layer"
        )
        figures["output"] = p.plot_decision_boundary(
            **_panel(model, data, "the output's colours and the points' labels")
        )
    return ScenarioResult(
        "features_and_colours",
        "what the features and colours mean",
        summary,
        metrics,
        figures,
    )


# --------------------------------------------------------------------------
# exercise 2: weights chosen by hand
# --------------------------------------------------------------------------
def _set_up(model, X, y):
    """A fitted model to write weights into (one epoch on the data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.partial_fit(X, y, classes=[-1, 1])


def hand_weights(plots=True):
    """Ex. 2. Weights and biases chosen by hand (set_weight, set_bias)."""
    metrics, panels, lines = {}, [], []
    # gauss: the clusters sit about (2, 2) (+1) and (-2, -2) (-1): X1 + X2
    data = X_train, X_test, y_train, y_test = _data(make_gauss)
    gauss = _set_up(playground_classifier((), random_state=0), X_train, y_train)
    set_weight(gauss, 0, 0, 0, 1.0)  # X1 -> output
    set_weight(gauss, 0, 1, 0, 1.0)  # X2 -> output
    set_bias(gauss, 0, 0, 0.0)
    metrics["gauss_accuracy"] = float(gauss.score(X_test, y_test))
    metrics["gauss_loss"] = data_loss(gauss, X_test, y_test)
    lines.append(
        "gauss, o = tanh(X1 + X2): test accuracy "
        f"{metrics['gauss_accuracy']:.3f}, loss {metrics['gauss_loss']:.2e}"
    )
    panels.append(_panel(gauss, data, "gauss: w = (1, 1), b = 0"))
    # circle: inner points r < 2.5 (+1), the ring 3.5 < r < 5 (-1)
    data = X_train, X_test, y_train, y_test = _data(make_circle)
    circle = make_pipeline(
        PlaygroundFeatures(["X1^2", "X2^2"]), playground_classifier((), random_state=0)
    )
    circle[0].fit(X_train)
    _set_up(circle[-1], circle[0].transform(X_train), y_train)
    set_weight(circle, 0, 0, 0, -1.0)
    set_weight(circle, 0, 1, 0, -1.0)
    set_bias(circle, 0, 0, 9.0)  # o = tanh(9 - r^2): the boundary r = 3
    features_test = circle[0].transform(X_test)
    metrics["circle_accuracy"] = float(circle.score(X_test, y_test))
    metrics["circle_loss"] = data_loss(circle[-1], features_test, y_test)
    for _ in range(20):  # training from there
        circle[-1].partial_fit(circle[0].transform(X_train), y_train)
    metrics["circle_loss_after_20_epochs"] = data_loss(
        circle[-1], features_test, y_test
    )
    lines.append(
        "circle, o = tanh(9 - X1^2 - X2^2): test accuracy "
        f"{metrics['circle_accuracy']:.3f}, loss {metrics['circle_loss']:.2e}; "
        "20 epochs of training from these weights: loss "
        f"{metrics['circle_loss_after_20_epochs']:.2e}"
    )
    panels.append(_panel(circle, data, "circle: X1^2, X2^2 by hand"))
    summary = (
        "No training: the weights are set by hand, as in the Playground (click a "
        "link or a bias and type a value): set_weight(model, layer, i, j, w) "
        "and set_bias(model, layer, j, b) write into coefs_ and intercepts_, "
        "which the next partial_fit trains from.\n"
        + "\n".join(lines)
        + "\nA straight line through the origin separates the two Gaussian "
        "clusters; the circle of radius 3 separates the disc from the ring. "
        "Training from a good start only sharpens the output (larger weights, "
        "o closer to +-1)."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels, ncols=2)
    return ScenarioResult(
        "hand_weights", "weights chosen by hand", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# regularisation: L1 switches useless features off
# --------------------------------------------------------------------------
def regularization(plots=True):
    """L1 vs L2: the Playground's L1 sets useless inputs' weights to exactly 0."""
    data = X_train, X_test, y_train, y_test = _data(make_circle)
    metrics, panels, lines = {}, [], []
    for name in ("none", "L1", "L2"):
        rate = 0.0 if name == "none" else 0.01
        model = _fit(
            make_pipeline(
                PlaygroundFeatures(list(FEATURE_NAMES)),
                playground_classifier(
                    (),
                    regularization=name,
                    regularization_rate=rate,
                    max_iter=300,
                    random_state=0,
                ),
            ),
            X_train,
            y_train,
        )
        w = model[-1].coefs_[0].ravel()
        metrics[name] = {
            "weights": dict(zip(FEATURE_NAMES, w.tolist(), strict=True)),
            "zero_weights": [
                f for f, v in zip(FEATURE_NAMES, w, strict=True) if v == 0
            ],
            "test_accuracy": float(model.score(X_test, y_test)),
        }
        m = metrics[name]
        weights = ", ".join(f"{f} {v:+.3f}" for f, v in m["weights"].items())
        lines.append(
            f"{name} (rate {rate:g}): {weights}; exactly 0: "
            f"{', '.join(m['zero_weights']) or 'none'}; test accuracy "
            f"{m['test_accuracy']:.3f}"
        )
        panels.append(_panel(model, data, f"regularization {name}"))
    summary = (
        "Circle, all seven inputs, no hidden layer, 300 epochs, regularisation "
        "rate 0.01 (the Playground's rate: alpha or l1 = rate x batch size):\n"
        + "\n".join(lines)
        + "\nOnly X1^2 and X2^2 matter for a circle. L1 moves every weight a "
        "fixed step towards 0 and, as the Playground, sets a weight whose step "
        "crosses 0 to exactly 0 for good: the useless inputs are switched off. "
        "L2 shrinks every weight in proportion: small, never exactly 0."
    )
    figures = {}
    if plots:
        p = _plots()
        figures["boundaries"] = p.plot_decision_boundaries(panels)
        figures["network_L1"] = p.plot_network(
            panels[1]["model"], X_train, y_train, title="L1: the dead links"
        )
    return ScenarioResult(
        "regularization", "L1 vs L2 on useless inputs", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# regression
# --------------------------------------------------------------------------
def regression(plots=True):
    """Regression: the plane needs no hidden layer, the Gaussians do."""
    metrics, panels, lines = {}, [], []
    for name, generator in (("plane", make_plane), ("multi_gauss", make_multi_gauss)):
        X, y = generator(1200, random_state=0)  # the Playground's 1200 points
        data = X_train, X_test, y_train, y_test = split_train_test(
            X, y, train_fraction=0.5, random_state=0
        )
        for hidden in ((), (8, 8)):
            model = _fit(
                playground_regressor(hidden, max_iter=200, random_state=0),
                X_train,
                y_train,
            )
            key = f"{name}_{'-'.join(map(str, hidden)) or 'linear'}"
            metrics[key] = data_loss(model, X_test, y_test)
            lines.append(f"{name}, hidden {hidden}: test loss {metrics[key]:.2e}")
            panels.append(_panel(model, data, f"{name}, hidden {hidden}"))
    summary = (
        "Regression (the Playground's problem type): a linear output and the "
        "loss (o - t)^2 / 2; 1200 points, 200 epochs:\n"
        + "\n".join(lines)
        + "\nThe plane's target is linear in X1, X2: no hidden layer fits it "
        "exactly. The Gaussians' bumps are not: a linear model leaves a large "
        "loss, two hidden layers of 8 bring it down."
    )
    figures = {}
    if plots:
        figures["surfaces"] = _plots().plot_decision_boundaries(panels, ncols=2)
    return ScenarioResult(
        "regression", "regression: plane and Gaussians", summary, metrics, figures
    )


# --------------------------------------------------------------------------
# the sin features on the spiral
# --------------------------------------------------------------------------
SIN_FEATURE_SETS = {
    "X1, X2": ["X1", "X2"],
    "+ sin": ["X1", "X2", "sin(X1)", "sin(X2)"],
    "all seven": list(FEATURE_NAMES),
}


def sin_features(plots=True):
    """Spiral with 8-8 neurons: the sin features make it learnable."""
    data = X_train, X_test, y_train, y_test = _data(make_spiral)
    metrics, panels, lines = {}, [], []
    for label, features in SIN_FEATURE_SETS.items():
        scores, first = [], None
        for seed in range(3):
            model = _fit(
                make_pipeline(
                    PlaygroundFeatures(features),
                    playground_classifier((8, 8), max_iter=500, random_state=seed),
                ),
                X_train,
                y_train,
            )
            scores.append(float(model.score(X_test, y_test)))
            first = model if first is None else first
        metrics[label] = scores
        lines.append(
            f"{label}: test accuracy over 3 seeds "
            + ", ".join(f"{s:.3f}" for s in scores)
        )
        panels.append(_panel(first, data, f"spiral, 8-8, {label}"))
    summary = (
        "Spiral (noise 0), two hidden layers of 8 (the Playground's widest), "
        "500 epochs:\n"
        + "\n".join(lines)
        + "\nFrom X1, X2 alone the network must build the turns of the arms "
        "itself and mostly fails; sin(X1) and sin(X2) already oscillate across "
        "the plane, and with them the same small network follows the spiral."
    )
    figures = {}
    if plots:
        figures["boundaries"] = _plots().plot_decision_boundaries(panels)
    return ScenarioResult(
        "sin_features", "spiral: the sin features", summary, metrics, figures
    )


#: Scenario name -> function ``(plots=True) -> ScenarioResult``, in course order.
SCENARIOS = {
    "features_and_colours": features_and_colours,
    "hand_weights": hand_weights,
    "logistic_regression": logistic_regression,
    "noisy_gauss_runs": noisy_gauss_runs,
    "xor_features": xor_features,
    "hidden_neurons": hidden_neurons,
    "spiral_architectures": spiral_architectures,
    "activations": activations,
    "layer_features": layer_features,
    "sgd_hyperparameters": sgd_hyperparameters,
    "zero_init": zero_init,
    "regularization": regularization,
    "regression": regression,
    "sin_features": sin_features,
}


def run_scenario(name, plots=True):
    """Run the scenario ``name`` (a key of :data:`SCENARIOS`)."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; choose among {list(SCENARIOS)}."
        ) from None
    return scenario(plots=plots)


def write_scenario(result, out_dir):
    """Write ``<name>_<figure>.png`` files and ``<name>.txt`` into ``out_dir``.

    Returns the list of written paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for key, fig in result.figures.items():
        path = out_dir / f"{result.name}_{key}.png"
        fig.savefig(path, dpi=100)
        written.append(path)
    text = out_dir / f"{result.name}.txt"
    text.write_text(f"{result.name}: {result.question}\n\n{result.summary}\n")
    written.append(text)
    return written
