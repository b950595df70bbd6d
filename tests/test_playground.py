"""fastmlp.playground: data sets, features, estimator options, pictures, and
the course's scenarios, each claim asserted on what the scenario measured."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from fastmlp import FastMLPClassifier, FastMLPRegressor, _engine
from fastmlp.exceptions import InvalidParameterError
from fastmlp.playground import (
    FEATURE_NAMES,
    PlaygroundFeatures,
    count_parameters,
    fit_with_curves,
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
    multi_gauss_target,
    playground_classifier,
    split_train_test,
)
from fastmlp.playground.scenarios import SCENARIOS, run_scenario, write_scenario

CLASSIFICATION = [make_circle, make_xor, make_gauss, make_spiral]
REGRESSION = [make_plane, make_multi_gauss]


# --------------------------------------------------------------------------
# data sets
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make", CLASSIFICATION, ids=lambda f: f.__name__)
def test_classification_sets_shape_labels_and_reproducibility(make):
    X, y = make(101, noise=0.2, random_state=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.dtype == np.int64 and set(np.unique(y)) <= {-1, 1}
    X2, y2 = make(101, noise=0.2, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    _, yb = make(101, noise=0.2, random_state=3, labels="binary")
    np.testing.assert_array_equal(yb, (y > 0).astype(np.int64))
    with pytest.raises(ValueError, match="labels"):
        make(10, labels="pm1")
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=-0.1)
    with pytest.raises(ValueError, match="n_samples"):
        make(1)


def test_circle_geometry_and_noise_flips_labels_without_moving_points():
    X, y = make_circle(2000, noise=0.0, random_state=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r[:1000] <= 2.5) and np.all((r[1000:] >= 3.5) & (r[1000:] <= 5))
    np.testing.assert_array_equal(y, np.where(r < 2.5, 1, -1))
    Xn, yn = make_circle(2000, noise=0.5, random_state=0)
    np.testing.assert_array_equal(Xn, X)  # noise moves the labelling point only
    flipped = np.mean(yn != y)
    assert 0.05 < flipped < 0.5


def test_xor_padding_labels_and_noise():
    X, y = make_xor(2000, noise=0.0, random_state=1)
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3
    np.testing.assert_array_equal(y, np.where(X[:, 0] * X[:, 1] >= 0, 1, -1))
    Xn, yn = make_xor(2000, noise=0.3, random_state=1)
    np.testing.assert_array_equal(Xn, X)
    assert 0.02 < np.mean(yn != y) < 0.4


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_gauss_variance_follows_the_playground_scale(noise):
    X, y = make_gauss(20000, noise=noise, random_state=2)
    assert np.all(y[:10000] == 1) and np.all(y[10000:] == -1)
    np.testing.assert_allclose(X[:10000].mean(axis=0), [2, 2], atol=0.08)
    np.testing.assert_allclose(X[10000:].mean(axis=0), [-2, -2], atol=0.08)
    np.testing.assert_allclose(X[:10000].var(axis=0), 0.5 + 7 * noise, rtol=0.05)


def test_spiral_is_unchanged_and_noise_moves_points():
    X, y = make_spiral(8, noise=0.0, random_state=0)
    i = np.arange(4)
    r, t = i / 4 * 5, 1.75 * i / 4 * 2 * np.pi
    np.testing.assert_allclose(X[:4], np.column_stack((r * np.sin(t), r * np.cos(t))))
    np.testing.assert_allclose(X[4:], -X[:4], atol=1e-12)
    np.testing.assert_array_equal(y, [1, 1, 1, 1, -1, -1, -1, -1])
    Xn, _ = make_spiral(8, noise=0.3, random_state=0)
    assert 0 < np.abs(Xn - X).max() <= 0.3


@pytest.mark.parametrize("make", CLASSIFICATION, ids=lambda f: f.__name__)
def test_classification_defaults_are_the_playgrounds_500_points_noise_0(make):
    defaults = inspect.signature(make).parameters
    assert defaults["n_samples"].default == 500 and defaults["noise"].default == 0


def test_regression_sets_targets_and_noise():
    X, y = make_plane(500, noise=0.0, random_state=0)
    assert X.shape == (500, 2) and np.abs(X).max() <= 6
    np.testing.assert_allclose(y, X.sum(axis=1) / 10)
    Xn, yn = make_plane(500, noise=0.4, random_state=0)
    np.testing.assert_array_equal(Xn, X)
    assert np.abs(yn - y).max() > 0.05
    X, y = make_multi_gauss(500, random_state=0)
    assert np.abs(y).max() <= 1
    centres = np.array(
        [[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]]
    )
    np.testing.assert_allclose(multi_gauss_target(centres), [1, -1, 1, -1, 1, -1])
    np.testing.assert_allclose(multi_gauss_target(np.array([[-4, 0.0]])), [0.0])


def test_split_train_test_is_the_playground_split():
    X, y = make_circle(11, random_state=0)
    X_train, X_test, y_train, y_test = split_train_test(X, y, 0.5, random_state=0)
    assert len(X_train) == 5 and len(X_test) == 6
    both = np.concatenate((X_train, X_test))
    assert sorted(map(tuple, both)) == sorted(map(tuple, X))


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------
def test_playground_features_values_order_and_names():
    X = np.array([[2.0, 3.0], [-1.0, 0.5]])
    all_features = PlaygroundFeatures().fit(X)
    out = all_features.transform(X)
    x1, x2 = X[:, 0], X[:, 1]
    expected = np.column_stack((x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)))
    np.testing.assert_allclose(out, expected)
    assert list(all_features.get_feature_names_out()) == list(FEATURE_NAMES)
    some = PlaygroundFeatures(["x1*x2", "sin(X2)", "X1^2"]).fit(X)
    np.testing.assert_allclose(some.transform(X), expected[:, [4, 6, 2]])
    assert list(some.get_feature_names_out()) == ["X1X2", "sin(X2)", "X1^2"]
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b"])
    named = PlaygroundFeatures(["X1X2", "sin(X1)"]).fit(frame)
    assert list(named.get_feature_names_out()) == ["a b", "sin(a)"]


def test_playground_features_validation_and_sklearn_basics():
    X = np.random.default_rng(0).normal(size=(20, 2))
    transformer = PlaygroundFeatures(["X1", "X1X2"])
    with pytest.raises(NotFittedError):
        transformer.transform(X)
    assert transformer.fit(X) is transformer and transformer.n_features_in_ == 2
    assert clone(transformer).get_params() == {"features": ["X1", "X1X2"]}
    assert transformer.transform(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="2 input columns"):
        PlaygroundFeatures().fit(np.ones((5, 3)))
    with pytest.raises(ValueError, match="features"):
        transformer.transform(np.ones((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        transformer.transform(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="unknown Playground feature"):
        PlaygroundFeatures(["X3"]).fit(X)
    with pytest.raises(TypeError):
        PlaygroundFeatures("X1").fit(X)


# --------------------------------------------------------------------------
# estimator options: weight_init, l1, layer_activations
# --------------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [FastMLPClassifier, FastMLPRegressor])
def test_new_options_are_keyword_only_after_device_with_sklearn_defaults(Estimator):
    params = list(inspect.signature(Estimator).parameters.values())
    names = [p.name for p in params]
    new = params[names.index("device") : names.index("l1") + 1]
    assert [p.name for p in new] == ["device", "weight_init", "l1"]
    assert all(p.kind is p.KEYWORD_ONLY for p in new)
    est = Estimator()
    assert est.weight_init == "glorot" and est.l1 == 0.0
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    with pytest.raises(InvalidParameterError, match="weight_init"):
        Estimator(weight_init="ones").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'l1'"):
        Estimator(l1=-1.0).fit(X, y)


def test_weight_inits():
    units, rs = [3, 5, 2], np.random.RandomState
    glorot = _engine.initial_params("glorot", units, "relu", rs(0), np.float64)
    np.testing.assert_array_equal(
        glorot, _engine.glorot_init(units, "relu", rs(0), np.float64)
    )
    play = _engine.initial_params("playground", units, "tanh", rs(0), np.float32)
    coefs, intercepts = _engine.unpack(play, units)
    assert play.dtype == np.float32
    assert all(np.abs(w).max() <= 0.5 and np.abs(w).std() > 0.1 for w in coefs)
    assert all(np.all(b == np.float32(0.1)) for b in intercepts)
    assert not _engine.initial_params("zeros", units, "tanh", rs(0), np.float64).any()
    he = _engine.initial_params("he_normal", [400, 300, 1], "relu", rs(0), np.float64)
    w0 = _engine.unpack(he, [400, 300, 1])[0][0]
    assert w0.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_l1_shrinks_and_sparsifies_weights(solver):
    X, y = make_gauss(200, noise=0.1, random_state=0, labels="binary")
    X = np.column_stack((X, np.random.default_rng(0).normal(size=(200, 3))))
    kw = {"solver": solver, "max_iter": 300, "random_state": 0, "alpha": 0.0}
    kw["learning_rate_init"] = 0.05
    plain = FastMLPClassifier((), **kw).fit(X, y)
    sparse = FastMLPClassifier((), l1=5.0, **kw).fit(X, y)
    assert np.abs(sparse.coefs_[0]).sum() < 0.8 * np.abs(plain.coefs_[0]).sum()
    # The three noise columns are pushed (nearly) to zero.
    assert np.abs(sparse.coefs_[0][2:]).max() < 0.1 * np.abs(sparse.coefs_[0][:2]).max()
    assert sparse.score(X, y) > 0.95


def test_layer_activations_are_every_layer_of_the_forward_pass():
    X, y = make_circle(100, random_state=0, labels="binary")
    clf = FastMLPClassifier((5, 3), activation="tanh", max_iter=20, random_state=0)
    clf.fit(X, y)
    acts = clf.layer_activations(X)
    assert [a.shape for a in acts] == [(100, 2), (100, 5), (100, 3), (100, 1)]
    np.testing.assert_array_equal(acts[0], X)
    np.testing.assert_allclose(acts[1], np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0]))
    np.testing.assert_allclose(acts[-1][:, 0], clf.predict_proba(X)[:, 1])
    reg = FastMLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    reg.fit(X, X[:, 0])
    np.testing.assert_allclose(reg.layer_activations(X)[-1][:, 0], reg.predict(X))
    with pytest.raises(NotFittedError):
        FastMLPClassifier().layer_activations(X)


# --------------------------------------------------------------------------
# training helpers
# --------------------------------------------------------------------------
def test_fit_with_curves_records_train_and_test_loss_per_epoch():
    X, y = make_circle(200, random_state=0)
    X_train, X_test, y_train, y_test = split_train_test(X, y, random_state=0)
    model = make_pipeline(
        PlaygroundFeatures(["X1^2", "X2^2"]), playground_classifier((), random_state=0)
    )
    model, curves = fit_with_curves(model, X_train, y_train, X_test, y_test, 30, 10)
    assert curves.epochs == [10, 20, 30]
    assert len(curves.train_loss) == len(curves.test_loss) == 3
    assert curves.train_loss[-1] < curves.train_loss[0]
    assert curves.final()["test_score"] > 0.9 and not curves.diverged
    assert model[-1].n_iter_ == 1 and model[-1].t_ == 30 * 100
    assert model[-1].random_state == 0  # the integer is given back
    # Trained from scratch: a second run repeats the first exactly.
    _, again = fit_with_curves(model, X_train, y_train, X_test, y_test, 30, 10)
    assert again.train_loss == curves.train_loss
    with pytest.raises(ValueError, match="partial_fit"):
        fit_with_curves(FastMLPClassifier(solver="lbfgs"), X, y)


def test_count_parameters():
    X, y = make_xor(60, random_state=0)
    model = playground_classifier((4, 2), max_iter=1, random_state=0).fit(X, y)
    assert count_parameters(model) == (2 * 4 + 4 * 2 + 2 * 1, 4 + 2 + 1)


# --------------------------------------------------------------------------
# pictures (headless)
# --------------------------------------------------------------------------
def _assert_picture(path, min_width=200, min_height=200):
    image = pytest.importorskip("matplotlib.image").imread(path)
    assert image.shape[0] >= min_height and image.shape[1] >= min_width
    rgb = image[..., :3].reshape(-1, 3)
    assert rgb.std() > 0.05  # not blank
    assert len(np.unique((rgb * 255).astype(np.uint8), axis=0)) > 50  # a heatmap


def test_pictures_render_headless_and_are_not_blank(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from fastmlp.playground import (
        plot_decision_boundary,
        plot_loss_curves,
        plot_network,
    )

    X, y = make_circle(200, random_state=0)
    X_train, X_test, y_train, y_test = split_train_test(X, y, random_state=0)
    model = make_pipeline(
        PlaygroundFeatures(["X1", "X2", "X1X2"]),
        playground_classifier((4, 2), random_state=0),
    )
    model, curves = fit_with_curves(model, X_train, y_train, X_test, y_test, 40)
    fig = plot_decision_boundary(
        model, X_train, y_train, X_test, y_test, path=tmp_path / "b.png", resolution=40
    )
    assert isinstance(fig, Figure)
    _assert_picture(tmp_path / "b.png")
    fig = plot_network(model, X_train, y_train, path=tmp_path / "n.png", resolution=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 1 + 3 + 4 + 2 + 1
    _assert_picture(tmp_path / "n.png", 600, 400)
    assert isinstance(plot_loss_curves({"a": curves}, path=tmp_path / "l.png"), Figure)
    _assert_picture(tmp_path / "l.png")
    Xr, yr = make_multi_gauss(300, random_state=0)
    reg = FastMLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(
        Xr, yr
    )
    plot_decision_boundary(reg, Xr, yr, path=tmp_path / "r.png", resolution=40)
    _assert_picture(tmp_path / "r.png")


def test_heatmaps_use_the_playgrounds_shades_opacity_and_discretize():
    pytest.importorskip("matplotlib")
    from fastmlp.playground import plots

    assert plots.PLAYGROUND_SHADES.N == 31  # NUM_SHADES = 30 steps
    X, y = make_xor(100, random_state=0)
    model = playground_classifier((3,), max_iter=5, random_state=0).fit(X, y)
    for discretize in (False, True):
        fig = plots.plot_decision_boundary(model, X, y, discretize=discretize)
        image = fig.axes[0].images[0]
        assert image.get_alpha() == pytest.approx(160 / 255)
        values = np.unique(image.get_array())
        assert values.min() >= -1 and values.max() <= 1
        if discretize:
            assert set(values.tolist()) <= {-1.0, 1.0}
    # the shade of a value: its bin of 31 equal bins of [-1, 1]
    rgba = image.cmap(image.norm(np.array([-1.0, -0.9, 0.0, 0.99, 1.0])))
    np.testing.assert_allclose(rgba[0], plots.PLAYGROUND_CMAP(0.0))
    np.testing.assert_allclose(rgba[2], plots.PLAYGROUND_CMAP(0.5))
    np.testing.assert_allclose(rgba[4], plots.PLAYGROUND_CMAP(1.0))
    np.testing.assert_allclose(rgba[3], rgba[4])


def test_plot_network_draws_biases_absolute_link_widths_fixed_scale():
    pytest.importorskip("matplotlib")
    from matplotlib.patches import Rectangle

    from fastmlp.playground import plots, set_bias, set_weight

    assert plots.link_width(0) == pytest.approx(plots.LINK_UNIT)
    assert plots.link_width(-2.5) == pytest.approx(5.5 * plots.LINK_UNIT)
    assert plots.link_width(50) == plots.link_width(5) == 10 * plots.LINK_UNIT
    X, y = make_circle(100, random_state=0)
    model = playground_classifier((3,), max_iter=2, random_state=0).fit(X, y)
    set_weight(model, 0, 0, 0, 4.0)
    set_bias(model, 0, 1, -0.7)
    fig = plots.plot_network(model, title="a title", resolution=5)
    back = fig.axes[0]
    biases = [p for p in back.patches if isinstance(p, Rectangle)]
    assert len(biases) == 3 + 1  # every hidden and output neuron, no input
    assert biases[1].get_facecolor() == pytest.approx(
        plots.PLAYGROUND_CMAP(plots._MINUS_ONE_TO_ONE(-0.7))
    )
    widths = sorted(line.get_linewidth() for line in back.lines)
    expected = sorted(plots.link_width(w) for W in model.coefs_ for w in np.ravel(W))
    np.testing.assert_allclose(widths, expected)  # not scaled per layer
    assert max(widths) == pytest.approx(plots.link_width(4.0))
    texts = {t.get_text(): t.get_position()[1] for t in back.texts}
    assert texts["a title"] > texts["inputs"] + 0.2  # not over the header
    maps = [ax.images[0].get_array() for ax in fig.axes[1:]]
    assert all(m.shape == (5, 5) and np.abs(m).max() <= 1 for m in maps)


def test_import_fastmlp_imports_neither_playground_nor_matplotlib():
    code = (
        "import sys, fastmlp\n"
        "assert 'fastmlp.playground' not in sys.modules\n"
        "from fastmlp.playground import make_spiral, PlaygroundFeatures\n"
        "from fastmlp.playground import *\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# the course's scenarios: each claim, measured
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def measured():
    """Every scenario run once without pictures (shared by the claims)."""
    return {}


def _run(measured, name):
    if name not in measured:
        measured[name] = run_scenario(name, plots=False).metrics
    return measured[name]


def test_q1_no_hidden_layer_is_logistic_regression(measured):
    m = _run(measured, "logistic_regression")
    assert (m["n_weights"], m["n_biases"]) == (2, 1)
    assert m["max_abs_diff_from_sigmoid_formula"] < 1e-12
    assert m["test_accuracy"] > 0.97


def test_q2_noisy_gauss_runs_find_the_same_weights(measured):
    m = _run(measured, "noisy_gauss_runs")
    assert m["max_relative_spread"] < 0.05
    assert min(m["test_accuracy"]) > 0.95


def test_q3_features_fix_circle_and_xor_without_hidden_layers(measured):
    m = _run(measured, "xor_features")
    assert m["xor_accuracy_x1_x2"] < 0.7 and m["xor_accuracy_features"] > 0.95
    assert m["circle_accuracy_x1_x2"] < 0.7 and m["circle_accuracy_features"] > 0.95


def test_q4_one_hidden_neuron_fails_four_learn_the_circle(measured):
    m = _run(measured, "hidden_neurons")
    assert max(m["accuracy_1"]) < 0.75
    assert min(m["accuracy_4"]) > 0.95


def test_q5_spiral_needs_width_and_depth(measured):
    m = _run(measured, "spiral_architectures")
    assert max(m["4"]["accuracy"]) < 0.75
    assert min(m["16-16"]["accuracy"]) > 0.95
    assert np.ptp(m["16-16"]["accuracy"]) < np.ptp(m["8-8"]["accuracy"])
    assert (m["8-8"]["n_weights"], m["8-8"]["n_biases"]) == (88, 17)


def test_q6_linear_deep_net_is_no_better_than_logistic_regression(measured):
    m = _run(measured, "activations")
    # both about chance on the circle: a stack of linear layers is linear
    assert m["identity_accuracy"] < 0.7 and m["logistic_regression_accuracy"] < 0.7
    # sigmoid: vanishing gradients, stuck near 0.5 (output ~0, labels +-1)
    assert m["logistic_train_loss"] > 0.45
    assert m["tanh_accuracy"] > 0.95 and m["relu_accuracy"] > 0.95


def test_q7_features_get_less_linear_with_depth(measured):
    r2 = _run(measured, "layer_features")["mean_linear_r2_per_layer"]
    assert r2[0] > 0.999999  # first layer: exactly linear in X1, X2
    assert all(a > b for a, b in zip(r2, r2[1:], strict=False))
    assert r2[-1] < 0.1


def test_q8_learning_rate_and_batch_size(measured):
    lr = _run(measured, "sgd_hyperparameters")["lr"]
    assert lr[0.0003]["train_loss"] > 0.45  # too small: stays near 0.5
    assert lr[0.03]["train_loss"] < 0.05
    assert lr[3.0]["train_loss"] > 10 * lr[0.03]["train_loss"]  # too large
    assert lr[3.0]["roughness"] > 20 * lr[0.03]["roughness"]
    batch = _run(measured, "sgd_hyperparameters")["batch"]
    # Fewer updates per epoch: the loss falls more slowly over the run. The
    # final loss of batch 1 is not compared: at lr 0.03 it keeps jumping, and
    # a 1e-15 relative change of X moves its last epoch from 0.09 to 0.001.
    # (Batch 1 at lr 0.03 is the noisiest: with the Playground's squared
    # error of a tanh output its mean loss over the run is above batch 10's.)
    losses = [batch[b]["mean_train_loss"] for b in (10, 50, 250)]
    assert losses == sorted(losses)
    assert batch[10]["train_loss"] < batch[50]["train_loss"] < batch[250]["train_loss"]


def test_q9_zero_init_units_stay_identical(measured):
    m = _run(measured, "zero_init")
    for act in ("tanh", "logistic"):
        assert m[f"{act}_zeros"]["unit_spread"] == 0.0
        assert m[f"{act}_playground"]["unit_spread"] > 0.1
    assert m["logistic_zeros"]["max_abs_weight"] > 0  # it trains, symmetrically
    assert m["tanh_zeros"]["max_abs_weight"] == 0  # tanh(0) = 0: nothing moves
    assert m["tanh_playground"]["test_accuracy"] > 0.95


def test_ex1_features_and_colours(measured):
    m = _run(measured, "features_and_colours")
    assert m["X1^2"]["min"] >= 0 and m["X2^2"]["min"] >= 0  # never orange
    assert m["X1"]["saturated"] == pytest.approx(5 / 6, abs=0.01)  # |X1| >= 1
    assert m["sin(X1)"]["max"] <= 1 and m["sin(X1)"]["saturated"] < 0.05
    assert m["X1X2"]["min"] == -36 and m["X1X2"]["max"] == 36
    assert m["inner_points_are_blue"] and m["outer_points_are_orange"]
    assert m["test_accuracy"] > 0.98


def test_ex2_weights_chosen_by_hand_solve_gauss_and_circle(measured):
    m = _run(measured, "hand_weights")
    assert m["gauss_accuracy"] == 1.0 and m["circle_accuracy"] == 1.0
    assert m["gauss_loss"] < 0.01 and m["circle_loss"] < 0.01
    assert m["circle_loss_after_20_epochs"] <= m["circle_loss"]


def test_l1_switches_useless_inputs_off_l2_only_shrinks(measured):
    m = _run(measured, "regularization")
    useless = {"X1", "X2", "X1X2", "sin(X1)", "sin(X2)"}
    assert set(m["L1"]["zero_weights"]) == useless  # exactly 0, the rest kept
    assert m["L2"]["zero_weights"] == [] and m["none"]["zero_weights"] == []
    for name in ("none", "L1", "L2"):
        assert m[name]["test_accuracy"] > 0.98
        assert abs(m[name]["weights"]["X1^2"]) > 0.2


def test_regression_plane_is_linear_gaussians_need_hidden_layers(measured):
    m = _run(measured, "regression")
    assert m["plane_linear"] < 1e-8
    assert m["multi_gauss_8-8"] < 0.6 * m["multi_gauss_linear"]


def test_sin_features_let_an_8_8_network_learn_the_spiral(measured):
    m = _run(measured, "sin_features")
    assert min(m["+ sin"]) > 0.95 and min(m["all seven"]) > 0.95
    assert max(m["X1, X2"]) < 0.9


def test_every_scenario_has_a_claim_test():
    tested = {"logistic_regression", "noisy_gauss_runs", "xor_features",
              "hidden_neurons", "spiral_architectures", "activations",
              "layer_features", "sgd_hyperparameters", "zero_init",
              "features_and_colours", "hand_weights", "regularization",
              "regression", "sin_features"}  # fmt: skip
    assert set(SCENARIOS) == tested


def test_scenario_command_writes_pictures_and_summary(tmp_path):
    pytest.importorskip("matplotlib")
    from fastmlp.playground.__main__ import main

    assert main(["list"]) == 0
    assert main(["xor_features", "--out", str(tmp_path)]) == 0
    _assert_picture(tmp_path / "xor_features_boundaries.png", 500, 500)
    text = (tmp_path / "xor_features.txt").read_text()
    assert "xor: X1, X2 only -> test accuracy" in text
    result = run_scenario("layer_features")
    paths = write_scenario(result, tmp_path / "q7")
    _assert_picture(paths[0], 600, 400)
