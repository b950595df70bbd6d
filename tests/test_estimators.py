"""FastMLPClassifier / FastMLPRegressor as scikit-learn estimators.

Accuracy on real data sets (against scikit-learn with the same parameters),
dtypes, determinism, pickling, the meta-estimator protocol, fitted
attributes, warnings, ``partial_fit``, ``warm_start``, learning-rate
schedules, early stopping, ``verbose`` and the edge cases of the network
shape. scikit-learn 1.9's MLPs are the reference for every behaviour.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=120,
        n_features=6,
        n_informative=4,
        n_classes=3,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=120, n_features=6, noise=1.0, random_state=0)
    return X, y / 100.0


def all_weights(model):
    return model.coefs_ + model.intercepts_


def assert_same_weights(a, b):
    for wa, wb in zip(all_weights(a), all_weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)


# ----------------------------------------------------------------------------
# accuracy on real data
# ----------------------------------------------------------------------------
@ignore_convergence
def test_digits_held_out_accuracy_at_least_95_percent():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=0, stratify=y
    )
    clf = FastMLPClassifier(
        hidden_layer_sizes=(128,), batch_size=64, max_iter=30, random_state=0
    ).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.95


@ignore_convergence
@pytest.mark.parametrize(
    "loader, params",
    [
        (load_breast_cancer, {"hidden_layer_sizes": (32,), "max_iter": 100}),
        (
            load_iris,
            {"hidden_layer_sizes": (16,), "max_iter": 300, "learning_rate_init": 0.01},
        ),
    ],
    ids=["breast_cancer", "iris"],
)
def test_held_out_accuracy_within_two_points_of_sklearn(loader, params):
    X, y = loader(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    scores = {}
    for cls in (MLPClassifier, FastMLPClassifier):
        model = make_pipeline(StandardScaler(), cls(random_state=0, **params))
        scores[cls] = model.fit(X_tr, y_tr).score(X_te, y_te)
    assert scores[FastMLPClassifier] >= 0.9
    assert abs(scores[FastMLPClassifier] - scores[MLPClassifier]) <= 0.02


@ignore_convergence
def test_regression_held_out_r2_within_002_of_sklearn():
    X, y = make_regression(n_samples=400, n_features=8, noise=5.0, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y / 100.0, random_state=0)
    params = {
        "hidden_layer_sizes": (32,),
        "max_iter": 200,
        "learning_rate_init": 0.01,
        "random_state": 0,
    }
    r2_fast = FastMLPRegressor(**params).fit(X_tr, y_tr).score(X_te, y_te)
    r2_sk = MLPRegressor(**params).fit(X_tr, y_tr).score(X_te, y_te)
    assert r2_fast >= 0.95
    assert abs(r2_fast - r2_sk) <= 0.02


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------
@ignore_convergence
def test_float32_input_trains_and_predicts_in_float32(clf_data, reg_data):
    X, y = clf_data
    clf = FastMLPClassifier((8,), max_iter=3, random_state=0).fit(
        X.astype(np.float32), y
    )
    assert all(w.dtype == np.float32 for w in all_weights(clf))
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert isinstance(clf.loss_, float)
    Xr, yr = reg_data
    reg = FastMLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    reg.fit(Xr.astype(np.float32), yr)
    assert all(w.dtype == np.float32 for w in all_weights(reg))
    assert reg.predict(Xr.astype(np.float32)).dtype == np.float32


@ignore_convergence
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32, np.float16])
def test_non_float32_input_trains_in_float64(clf_data, dtype):
    X, y = clf_data
    Xd = (X * 4).astype(dtype)
    clf = FastMLPClassifier((8,), max_iter=3, random_state=0).fit(Xd, y)
    assert all(w.dtype == np.float64 for w in all_weights(clf))
    assert clf.predict_proba(Xd).dtype == np.float64
    sk = MLPClassifier((8,), max_iter=3, random_state=0).fit(Xd, y)
    assert sk.coefs_[0].dtype == clf.coefs_[0].dtype


@ignore_convergence
def test_float64_model_predicts_float32_input_like_sklearn(clf_data):
    X, y = clf_data
    fast = FastMLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    sk = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(
        fast.predict_proba(X32), sk.predict_proba(X32), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_array_equal(fast.predict(X32), sk.predict(X32))


@ignore_convergence
def test_float64_model_output_dtype_for_float32_input_like_sklearn(clf_data):
    X, y = clf_data
    fast = FastMLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    sk = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    X32 = X.astype(np.float32)
    assert sk.predict_proba(X32).dtype == np.float64
    assert fast.predict_proba(X32).dtype == np.float64


# ----------------------------------------------------------------------------
# determinism
# ----------------------------------------------------------------------------
@ignore_convergence
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_same_random_state_gives_identical_weights(clf_data, solver):
    # Default shuffle=True and minibatches: shuffling must be seeded too.
    X, y = clf_data
    params = {"hidden_layer_sizes": (8, 5), "batch_size": 16, "max_iter": 5}
    a = FastMLPClassifier(solver=solver, random_state=3, **params).fit(X, y)
    b = FastMLPClassifier(solver=solver, random_state=3, **params).fit(X, y)
    assert_same_weights(a, b)
    assert a.loss_curve_ == b.loss_curve_


@ignore_convergence
def test_same_random_state_instance_state_gives_identical_weights(clf_data):
    X, y = clf_data
    a = FastMLPClassifier((8,), max_iter=3, random_state=np.random.RandomState(4))
    b = FastMLPClassifier((8,), max_iter=3, random_state=np.random.RandomState(4))
    assert_same_weights(a.fit(X, y), b.fit(X, y))


@ignore_convergence
def test_different_random_state_gives_different_weights(clf_data):
    X, y = clf_data
    a = FastMLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    b = FastMLPClassifier((8,), max_iter=3, random_state=1).fit(X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


@ignore_convergence
def test_shuffling_changes_the_fit(clf_data):
    X, y = clf_data
    params = {"hidden_layer_sizes": (8,), "batch_size": 16, "max_iter": 3}
    a = FastMLPClassifier(shuffle=True, random_state=0, **params).fit(X, y)
    b = FastMLPClassifier(shuffle=False, random_state=0, **params).fit(X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


# ----------------------------------------------------------------------------
# pickling
# ----------------------------------------------------------------------------
@ignore_convergence
def test_pickle_round_trip_predicts_identically_and_keeps_training(clf_data):
    X, y = clf_data
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    clf = FastMLPClassifier(**params).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert_same_weights(restored, clf)
    for name in ("classes_", "loss_curve_", "n_iter_", "t_", "out_activation_"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(clf, name))

    # The restored model keeps learning exactly like a never-pickled twin
    twin = FastMLPClassifier(**params).fit(X, y)
    twin.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_same_weights(restored, twin)
    assert restored.t_ == twin.t_

    restored.set_params(warm_start=True, max_iter=2)
    before = restored.loss_curve_[-1]
    restored.fit(X, y)
    assert len(restored.loss_curve_) == 5 + 1 + 2
    assert restored.loss_curve_[-1] < before


@ignore_convergence
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_pickling_does_not_change_the_original_model(clf_data, how):
    import copy

    X, y = clf_data
    clf = FastMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    twin = FastMLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    if how == "pickle":
        pickle.dumps(clf)
    else:
        copy.deepcopy(clf)
    clf.partial_fit(X, y)  # AttributeError: no attribute '_packed'
    twin.partial_fit(X, y)
    assert_same_weights(clf, twin)


@ignore_convergence
def test_pickle_round_trip_regressor_float32(reg_data):
    X, y = reg_data
    X = X.astype(np.float32)
    reg = FastMLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    reg.fit(X, y)
    restored = pickle.loads(pickle.dumps(reg))
    assert restored.coefs_[0].dtype == np.float32
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


# ----------------------------------------------------------------------------
# scikit-learn meta-estimator protocol
# ----------------------------------------------------------------------------
#: fastmlp's own options and their defaults, which keep scikit-learn's behaviour.
OWN_OPTIONS = {
    "device": "auto",
    "weight_init": "glorot",
    "l1": 0.0,
    "scoring": None,
    "lr_schedule": None,
    "lr_warmup": None,
    "weight_decay": 0.0,
    "dropout": 0.0,
}
CLASSIFIER_OPTIONS = {"class_weight": None, "label_smoothing": 0.0}


def test_get_params_lists_sklearns_parameters_and_device():
    for fast_cls, sk_cls, own in (
        (FastMLPClassifier, MLPClassifier, {**OWN_OPTIONS, **CLASSIFIER_OPTIONS}),
        (FastMLPRegressor, MLPRegressor, OWN_OPTIONS),
    ):
        fast_params = fast_cls().get_params()
        sk_params = sk_cls().get_params()
        assert set(fast_params) == set(sk_params) | set(own)
        for name, value in sk_params.items():
            assert fast_params[name] == value, name
        for name, value in own.items():
            assert fast_params[name] == value, name


@ignore_convergence
def test_set_params_and_clone(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((8,), max_iter=3, random_state=0)
    assert clf.set_params(alpha=0.5, max_iter=4) is clf
    assert clf.get_params()["alpha"] == 0.5
    clf.fit(X, y)
    twin = clone(clf)
    assert not hasattr(twin, "coefs_")
    assert twin.get_params() == clf.get_params()
    assert_same_weights(twin.fit(X, y), clf)


@ignore_convergence
def test_pipeline_with_standard_scaler(clf_data):
    X, y = clf_data
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                FastMLPClassifier(
                    (16,), learning_rate_init=0.01, max_iter=100, random_state=0
                ),
            ),
        ]
    ).fit(X, y)
    assert pipe.score(X, y) > 0.8
    np.testing.assert_allclose(pipe.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_array_equal(pipe.classes_, np.unique(y))


@ignore_convergence
def test_grid_search_cv_picks_among_two_values(clf_data):
    X, y = clf_data
    search = GridSearchCV(
        FastMLPClassifier((8,), max_iter=20, random_state=0),
        {"alpha": [1e-4, 10.0]},
        cv=2,
        n_jobs=1,
    ).fit(X, y)
    assert search.best_params_["alpha"] in (1e-4, 10.0)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert isinstance(search.best_estimator_, FastMLPClassifier)
    assert search.best_estimator_.alpha == search.best_params_["alpha"]


@ignore_convergence
def test_cross_val_score_of_regressor(reg_data):
    X, y = reg_data
    scores = cross_val_score(
        FastMLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
        X,
        y,
        cv=3,
    )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.5


# ----------------------------------------------------------------------------
# fitted attributes
# ----------------------------------------------------------------------------
@ignore_convergence
def test_classifier_fitted_attributes_types_and_shapes(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((7, 5), max_iter=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert [w.shape for w in clf.coefs_] == [(6, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    assert all(isinstance(w, np.ndarray) for w in all_weights(clf))
    assert isinstance(clf.loss_, float) and np.isfinite(clf.loss_)
    assert isinstance(clf.best_loss_, float)
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert isinstance(clf.loss_curve_, list) and len(clf.loss_curve_) == 4
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.n_iter_ == 4
    assert clf.t_ == 4 * X.shape[0]
    assert clf.n_layers_ == 4
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    assert clf.n_features_in_ == 6
    assert clf.device_ == "cpu"
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None
    for name in ("n_iter_", "t_", "n_layers_", "n_outputs_", "n_features_in_"):
        assert isinstance(getattr(clf, name), int), name


@ignore_convergence
def test_fitted_attributes_match_sklearn_names_and_values(clf_data, reg_data):
    for fast_cls, sk_cls, (X, y) in (
        (FastMLPClassifier, MLPClassifier, clf_data),
        (FastMLPRegressor, MLPRegressor, reg_data),
    ):
        params = {"hidden_layer_sizes": (5,), "max_iter": 2, "random_state": 0}
        fast = fast_cls(**params).fit(X, y)
        sk = sk_cls(**params).fit(X, y)
        for name in (
            "n_iter_",
            "t_",
            "n_layers_",
            "n_outputs_",
            "out_activation_",
            "n_features_in_",
            "validation_scores_",
            "best_validation_score_",
        ):
            assert getattr(fast, name) == getattr(sk, name), name


@ignore_convergence
def test_binary_and_multilabel_classifier_output_layers(clf_data):
    X, y = clf_data
    binary = FastMLPClassifier((5,), max_iter=2, random_state=0).fit(X, y == 1)
    assert binary.out_activation_ == "logistic"
    assert binary.n_outputs_ == 1
    assert binary.coefs_[-1].shape == (5, 1)
    np.testing.assert_array_equal(binary.classes_, [False, True])
    assert binary.predict_proba(X).shape == (X.shape[0], 2)
    assert binary.predict(X).dtype == bool

    Y = np.column_stack([y == 0, y == 1, y == 2, y != 1]).astype(int)
    multi = FastMLPClassifier((5,), max_iter=2, random_state=0).fit(X, Y)
    assert multi.out_activation_ == "logistic"
    assert multi.n_outputs_ == 4
    assert multi.predict(X).shape == Y.shape
    assert set(np.unique(multi.predict(X))) <= {0, 1}
    proba = multi.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba >= 0) & (proba <= 1))


@ignore_convergence
def test_string_labels_round_trip(clf_data):
    X, y = clf_data
    names = np.array(["ant", "bee", "cat"])[y]
    clf = FastMLPClassifier((16,), max_iter=50, random_state=0).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["ant", "bee", "cat"])
    assert set(clf.predict(X)) <= set(names)
    assert clf.score(X, names) > 0.6


@ignore_convergence
def test_regressor_fitted_attributes_one_and_two_outputs(reg_data):
    X, y = reg_data
    reg = FastMLPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    reg.fit(X, y)
    assert reg.out_activation_ == "identity"
    assert reg.n_outputs_ == 1
    assert reg.predict(X).shape == (X.shape[0],)
    assert not hasattr(reg, "classes_")
    Y = np.column_stack([y, -y])
    reg2 = FastMLPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    reg2.fit(X, Y)
    assert reg2.n_outputs_ == 2
    assert reg2.coefs_[-1].shape == (5, 2)
    assert reg2.predict(X).shape == (X.shape[0], 2)


def test_column_vector_y_warns_and_is_raveled_like_sklearn(reg_data):
    from sklearn.exceptions import DataConversionWarning

    X, y = reg_data
    reg = FastMLPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    with pytest.warns(DataConversionWarning):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, y.reshape(-1, 1))
    assert reg.n_outputs_ == 1


# ----------------------------------------------------------------------------
# convergence warnings
# ----------------------------------------------------------------------------
MAX_ITER_MSG = "Stochastic Optimizer: Maximum iterations"


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_convergence_warning_when_max_iter_is_hit(
    clf_data, reg_data, estimator, solver
):
    if estimator == "classifier":
        cls, sk_cls, (X, y) = FastMLPClassifier, MLPClassifier, clf_data
    else:
        cls, sk_cls, (X, y) = FastMLPRegressor, MLPRegressor, reg_data
    params = {"hidden_layer_sizes": (5,), "solver": solver, "max_iter": 3}
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        sk_cls(random_state=0, **params).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=MAX_ITER_MSG) as record:
        model = cls(random_state=0, **params).fit(X, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert messages == [
        "Stochastic Optimizer: Maximum iterations (3) reached and the "
        "optimization hasn't converged yet."
    ]
    assert model.n_iter_ == 3


def test_no_convergence_warning_when_loss_stops_improving_early(clf_data):
    X, y = clf_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = FastMLPClassifier(
            (5,), max_iter=50, tol=1e3, n_iter_no_change=2, random_state=0
        ).fit(X, y)
        sk = MLPClassifier(
            (5,), max_iter=50, tol=1e3, n_iter_no_change=2, random_state=0
        ).fit(X, y)
    # Epoch 1 sets best_loss_; epochs 2-4 do not improve it by 1000, and the
    # third such epoch exceeds n_iter_no_change=2.
    assert sk.n_iter_ == 4
    assert clf.n_iter_ == 4


# ----------------------------------------------------------------------------
# partial_fit
# ----------------------------------------------------------------------------
def test_partial_fit_requires_classes_on_first_call(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier((5,)).partial_fit(X, y)
    clf = FastMLPClassifier((5,))
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_rejects_labels_not_in_classes(clf_data):
    X, y = clf_data
    for cls in (MLPClassifier, FastMLPClassifier):
        model = cls((5,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        before = [w.copy() for w in all_weights(model)]
        with pytest.raises(ValueError, match="classes not in"):
            model.partial_fit(X, np.where(y == 2, 7, y))
        for w, b in zip(all_weights(model), before, strict=True):
            np.testing.assert_array_equal(w, b)


def test_partial_fit_rejects_different_classes_argument(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((5,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_partial_fit_accepts_a_batch_missing_some_classes(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((5,), random_state=0)
    clf.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (X.shape[0], 3)


def test_partial_fit_accumulates_samples_seen_and_loss_curve(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((5,), random_state=0)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    assert clf.t_ == 50 and len(clf.loss_curve_) == 1
    clf.partial_fit(X[50:], y[50:])
    assert clf.t_ == X.shape[0] and len(clf.loss_curve_) == 2
    clf.partial_fit(X, y)
    assert clf.t_ == 2 * X.shape[0] and len(clf.loss_curve_) == 3


def test_partial_fit_matches_sklearn_step_by_step(clf_data, reg_data):
    for fast_cls, sk_cls, (X, y), extra in (
        (FastMLPClassifier, MLPClassifier, clf_data, {"classes": [0, 1, 2]}),
        (FastMLPRegressor, MLPRegressor, reg_data, {}),
    ):
        params = {
            "hidden_layer_sizes": (6,),
            "batch_size": 40,
            "shuffle": False,
            "random_state": 0,
        }
        fast, sk = fast_cls(**params), sk_cls(**params)
        for _ in range(3):
            fast.partial_fit(X, y, **extra)
            sk.partial_fit(X, y, **extra)
        for a, b in zip(all_weights(fast), all_weights(sk), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-9)
        assert fast.t_ == sk.t_


def test_partial_fit_n_iter_counts_like_sklearn(clf_data):
    X, y = clf_data
    fast = FastMLPClassifier((5,), random_state=0)
    sk = MLPClassifier((5,), random_state=0)
    for _ in range(2):
        fast.partial_fit(X, y, classes=[0, 1, 2])
        sk.partial_fit(X, y, classes=[0, 1, 2])
    assert fast.n_iter_ == sk.n_iter_


def test_partial_fit_unavailable_for_lbfgs(clf_data):
    X, y = clf_data
    with pytest.raises(AttributeError, match="partial_fit"):
        FastMLPClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])


def test_partial_fit_rejects_early_stopping(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        FastMLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


# ----------------------------------------------------------------------------
# warm_start
# ----------------------------------------------------------------------------
@ignore_convergence
def test_warm_start_continues_from_previous_weights(clf_data):
    X, y = clf_data
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    warm = FastMLPClassifier(warm_start=True, **params).fit(X, y)
    first_curve = list(warm.loss_curve_)
    warm.fit(X, y)
    assert warm.loss_curve_[:5] == first_curve
    assert len(warm.loss_curve_) == 10
    assert warm.loss_curve_[5] < first_curve[-1]  # picks up where it stopped
    assert warm.loss_ < first_curve[-1]
    assert warm.t_ == 10 * X.shape[0]

    # Without warm_start the second fit starts over: same as the first.
    cold = FastMLPClassifier(**params).fit(X, y)
    cold.fit(X, y)
    assert cold.loss_curve_ == first_curve


@ignore_convergence
def test_warm_start_loss_curve_matches_sklearn(clf_data):
    X, y = clf_data
    params = {
        "hidden_layer_sizes": (8,),
        "max_iter": 4,
        "batch_size": X.shape[0],
        "shuffle": False,
        "solver": "sgd",
        "random_state": 0,
        "warm_start": True,
    }
    fast = FastMLPClassifier(**params).fit(X, y).fit(X, y)
    sk = MLPClassifier(**params).fit(X, y).fit(X, y)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-9)
    assert fast.t_ == sk.t_


def test_warm_start_n_iter_and_convergence_warning_like_sklearn(clf_data):
    X, y = clf_data
    for cls in (MLPClassifier, FastMLPClassifier):
        model = cls((5,), warm_start=True, max_iter=3, random_state=0)
        with pytest.warns(ConvergenceWarning, match=MAX_ITER_MSG):
            model.fit(X, y)
        assert model.n_iter_ == 3
        # A second warm fit runs max_iter more epochs: it warns again and
        # n_iter_ counts the epochs of this call (fastmlp: no warning, 6).
        with pytest.warns(ConvergenceWarning, match=MAX_ITER_MSG):
            model.fit(X, y)
        assert model.n_iter_ == 3
        assert model.t_ == 6 * X.shape[0]
        assert len(model.loss_curve_) == 6


@ignore_convergence
def test_warm_start_rejects_different_classes(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((5,), warm_start=True, max_iter=2, random_state=0)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has"):
        clf.fit(X[y != 2], y[y != 2])


@ignore_convergence
def test_warm_start_with_changed_layers_raises_under_strict(clf_data):
    # By default it goes on as scikit-learn does (tests/test_dropin.py).
    X, y = clf_data
    clf = FastMLPClassifier((5,), warm_start=True, max_iter=2, random_state=0)
    clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(6,))
    with fastmlp.config_context(strict=True), pytest.raises(ValueError):
        clf.fit(X, y)


@ignore_convergence
def test_warm_start_from_user_set_weights(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier((5,), warm_start=True, max_iter=1, random_state=0)
    clf.fit(X, y)
    clf.coefs_ = [np.zeros_like(w) for w in clf.coefs_]
    clf.intercepts_ = [np.zeros_like(b) for b in clf.intercepts_]
    # All-zero weights: uniform probabilities, loss = log(3) + nothing.
    np.testing.assert_allclose(clf.predict_proba(X), 1.0 / 3.0)
    clf.set_params(solver="sgd", momentum=0.0, batch_size=X.shape[0], shuffle=False)
    clf.fit(X, y)
    assert clf.loss_curve_[-1] == pytest.approx(np.log(3.0), rel=1e-12)


# ----------------------------------------------------------------------------
# learning-rate schedules
# ----------------------------------------------------------------------------
def full_batch_sgd(n_samples, **extra):
    return {
        "solver": "sgd",
        "batch_size": n_samples,
        "shuffle": False,
        "random_state": 0,
        **extra,
    }


def test_adaptive_learning_rate_drops_and_matches_sklearn(clf_data, capsys):
    X, y = clf_data
    X = StandardScaler().fit_transform(X)
    params = full_batch_sgd(
        X.shape[0],
        hidden_layer_sizes=(16,),
        learning_rate="adaptive",
        learning_rate_init=0.5,
        max_iter=300,
        tol=1e-3,
        n_iter_no_change=3,
        verbose=True,
    )
    sk = MLPClassifier(**params).fit(X, y)
    capsys.readouterr()
    fast = FastMLPClassifier(**params).fit(X, y)
    out = capsys.readouterr().out
    # The rate was divided by 5 until it fell below 1e-6, then training stopped
    # before max_iter (so no ConvergenceWarning was needed).
    assert "Setting learning rate to 0.100000" in out
    assert "Learning rate too small. Stopping." in out
    assert fast.n_iter_ == sk.n_iter_ < 300
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-8)


@ignore_convergence
def test_invscaling_learning_rate_matches_sklearn(clf_data):
    X, y = clf_data
    params = full_batch_sgd(
        X.shape[0],
        hidden_layer_sizes=(16,),
        learning_rate="invscaling",
        learning_rate_init=0.5,
        power_t=0.25,
        max_iter=15,
    )
    sk = MLPClassifier(**params).fit(X, y)
    fast = FastMLPClassifier(**params).fit(X, y)
    np.testing.assert_allclose(fast.loss_curve_, sk.loss_curve_, rtol=1e-8)
    # ... and the schedule matters: a constant rate gives another curve.
    const = FastMLPClassifier(**{**params, "learning_rate": "constant"}).fit(X, y)
    assert not np.allclose(const.loss_curve_, fast.loss_curve_)


# ----------------------------------------------------------------------------
# early stopping
# ----------------------------------------------------------------------------
def validation_split(X, y, layer_units, activation, seed, fraction, classifier):
    """The held-out split of an early-stopping fit, re-derived independently.

    scikit-learn (and fastmlp) draw the initial weights from
    ``RandomState(seed)`` first (W then b, layer by layer), then split with the
    same, advanced ``RandomState``; a single-output classifier stratifies on
    the label-binarized targets.
    """
    rs = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        bound = np.sqrt(factor / (fan_in + fan_out))
        rs.uniform(-bound, bound, (fan_in, fan_out))
        rs.uniform(-bound, bound, fan_out)
    stratify = LabelBinarizer().fit_transform(y) if classifier else None
    _, X_val, _, y_val = train_test_split(
        X, y, random_state=rs, test_size=fraction, stratify=stratify
    )
    return X_val, y_val


@ignore_convergence
def test_early_stopping_classifier_restores_best_weights(clf_data):
    X, y = clf_data
    clf = FastMLPClassifier(
        (16,),
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        learning_rate_init=0.05,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    assert isinstance(clf.validation_scores_, list)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    X_val, y_val = validation_split(X, y, [6, 16, 3], "relu", 0, 0.25, True)
    assert accuracy_score(y_val, clf.predict(X_val)) == clf.best_validation_score_


@ignore_convergence
def test_early_stopping_regressor_restores_best_not_last_weights(reg_data):
    X, y = reg_data
    reg = FastMLPRegressor(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    X_val, y_val = validation_split(X, y, [6, 32, 1], "relu", 0, 0.2, False)
    final = r2_score(y_val, reg.predict(X_val))
    assert final == pytest.approx(reg.best_validation_score_, rel=1e-12, abs=1e-12)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    # It stopped because the score stalled, so the last epoch was not the best.
    assert reg.n_iter_ < 300
    assert reg.validation_scores_[-1] < reg.best_validation_score_


@ignore_convergence
def test_early_stopping_scores_match_sklearn_without_shuffle(clf_data):
    X, y = clf_data
    params = full_batch_sgd(
        X.shape[0],
        hidden_layer_sizes=(8,),
        early_stopping=True,
        learning_rate_init=0.2,
        validation_fraction=0.2,
        n_iter_no_change=4,
        max_iter=40,
    )
    # batch_size > training rows: both clip it (and warn); ignore the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sk = MLPClassifier(**params).fit(X, y)
        fast = FastMLPClassifier(**params).fit(X, y)
    assert fast.validation_scores_ == sk.validation_scores_
    assert fast.best_validation_score_ == sk.best_validation_score_
    assert fast.n_iter_ == sk.n_iter_
    for a, b in zip(all_weights(fast), all_weights(sk), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_early_stopping_with_too_small_validation_set_raises():
    X = np.random.RandomState(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    for cls in (MLPRegressor, FastMLPRegressor):
        with pytest.raises(ValueError, match="validation set is too small"):
            cls(early_stopping=True, validation_fraction=0.1).fit(X, y)


# ----------------------------------------------------------------------------
# verbose, predict_log_proba, network shapes
# ----------------------------------------------------------------------------
@ignore_convergence
def test_verbose_prints_iteration_losses(clf_data, capsys):
    X, y = clf_data
    clf = FastMLPClassifier((5,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("Iteration")]
    assert len(lines) == 3
    assert lines[0].startswith("Iteration 1, loss = ")
    assert lines[0] == f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}"


@ignore_convergence
def test_not_verbose_prints_nothing(clf_data, capsys):
    X, y = clf_data
    FastMLPClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


@ignore_convergence
@pytest.mark.parametrize("binary", [False, True], ids=["multiclass", "binary"])
def test_predict_log_proba_is_log_of_predict_proba(clf_data, binary):
    X, y = clf_data
    y = y == 0 if binary else y
    clf = FastMLPClassifier((8,), max_iter=10, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


@ignore_convergence
def test_no_hidden_layers_is_a_linear_model(clf_data, reg_data):
    X, y = clf_data
    clf = FastMLPClassifier(hidden_layer_sizes=(), max_iter=30, random_state=0)
    clf.fit(X, y)
    sk = MLPClassifier(hidden_layer_sizes=(), max_iter=30, random_state=0).fit(X, y)
    assert clf.n_layers_ == sk.n_layers_ == 2
    assert [w.shape for w in clf.coefs_] == [(6, 3)]
    np.testing.assert_allclose(clf.loss_curve_, sk.loss_curve_, rtol=1e-8)
    # No hidden layer: the logits are exactly X @ W + b.
    logits = X @ clf.coefs_[0] + clf.intercepts_[0]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[logits.argmax(1)])

    Xr, yr = reg_data
    reg = FastMLPRegressor(hidden_layer_sizes=[], max_iter=5, random_state=0)
    reg.fit(Xr, yr)
    np.testing.assert_allclose(
        reg.predict(Xr), Xr @ reg.coefs_[0][:, 0] + reg.intercepts_[0][0], rtol=1e-10
    )


@pytest.mark.parametrize("sizes", [(0,), (5, 0), [3, 0, 2]])
def test_zero_size_hidden_layer_raises_value_error(clf_data, sizes):
    X, y = clf_data
    with pytest.raises(ValueError, match=re.escape("hidden_layer_sizes must be > 0")):
        MLPClassifier(hidden_layer_sizes=sizes).fit(X, y)
    clf = FastMLPClassifier(hidden_layer_sizes=sizes)
    with pytest.raises(ValueError, match=re.escape("hidden_layer_sizes must be > 0")):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


@ignore_convergence
def test_int_and_numpy_int_hidden_layer_sizes(clf_data):
    X, y = clf_data
    a = FastMLPClassifier(hidden_layer_sizes=7, max_iter=2, random_state=0).fit(X, y)
    b = FastMLPClassifier(
        hidden_layer_sizes=np.array([7]), max_iter=2, random_state=0
    ).fit(X, y)
    assert [w.shape for w in a.coefs_] == [(6, 7), (7, 3)]
    assert_same_weights(a, b)


@ignore_convergence
def test_batch_size_larger_than_samples_warns_and_clips(clf_data):
    X, y = clf_data
    for cls in (MLPClassifier, FastMLPClassifier):
        with pytest.warns(UserWarning, match="It is going to be clipped"):
            cls((5,), batch_size=1000, max_iter=2, random_state=0).fit(X, y)


@ignore_convergence
def test_sample_weight_zero_rows_are_ignored_like_dropping_them(clf_data):
    # Full-batch SGD: weight-0 rows contribute nothing, so the fit equals the
    # fit on the remaining rows (the loss is normalised by sum(sw) = n_kept).
    X, y = clf_data
    keep = np.arange(X.shape[0]) % 3 != 0
    params = full_batch_sgd(
        X.shape[0], hidden_layer_sizes=(8,), max_iter=5, momentum=0.0
    )
    weighted = FastMLPClassifier(**params).fit(X, y, sample_weight=keep.astype(float))
    params["batch_size"] = int(keep.sum())
    dropped = FastMLPClassifier(**params).fit(X[keep], y[keep])
    for a, b in zip(all_weights(weighted), all_weights(dropped), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------
# L-BFGS
# ----------------------------------------------------------------------------
def test_lbfgs_convergence_warning_matches_sklearn(clf_data):
    X, y = clf_data
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "max_iter": 3}
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge") as sk_w:
        MLPClassifier(random_state=0, **params).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge") as fast_w:
        clf = FastMLPClassifier(random_state=0, **params).fit(X, y)
    assert [str(w.message) for w in fast_w if w.category is ConvergenceWarning] == [
        str(w.message) for w in sk_w if w.category is ConvergenceWarning
    ]
    assert "max_iter=3" in str(fast_w[0].message)
    assert clf.n_iter_ == 3


def test_lbfgs_converged_fit_is_accurate_and_silent(clf_data):
    X, y = clf_data
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = FastMLPClassifier(
            (8,), solver="lbfgs", max_iter=2000, alpha=1.0, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ < 2000
    assert clf.score(X, y) > 0.85
    assert isinstance(clf.loss_, float) and np.isfinite(clf.loss_)
    assert clf.device_ == "cpu"
    sk = MLPClassifier(
        (8,), solver="lbfgs", max_iter=2000, alpha=1.0, random_state=0
    ).fit(X, y)
    # alpha=1 makes the problem well conditioned: both reach the same minimum.
    assert clf.loss_ == pytest.approx(sk.loss_, rel=1e-4)


@ignore_convergence
def test_lbfgs_warm_start_continues_from_previous_weights(reg_data):
    X, y = reg_data
    reg = FastMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        max_iter=5,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    first = reg.loss_
    reg.fit(X, y)
    assert reg.loss_ < first
    sk = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        max_iter=5,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    sk.fit(X, y)
    assert reg.loss_ == pytest.approx(sk.loss_, rel=1e-6)
