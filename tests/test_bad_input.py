"""Bad data and bad parameters: fastmlp fails as scikit-learn's MLPs fail.

For every case, scikit-learn's MLPClassifier / MLPRegressor is run first and
must raise the expected exception type with a message matching the given
key words; fastmlp must then raise an exception of the same type name (its
``InvalidParameterError`` is its own class, a ``ValueError`` and a
``TypeError`` as scikit-learn's is) whose message matches the same pattern.
Every failure must happen before any compute: a fresh estimator that failed
to fit has no ``coefs_``.

fastmlp's own errors (``device``; a single class and divergence under the
opt-in ``fastmlp.config_context(strict=True)``) and the missing
``partial_fit`` of solver='lbfgs' are checked for type, message and the state
they leave behind. By default a single class and divergence behave as in
scikit-learn: ``tests/test_dropin.py`` compares them side by side.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor

import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor
from fastmlp._backend import BackendUnavailableError

ESTIMATORS = {
    "classifier": (MLPClassifier, FastMLPClassifier),
    "regressor": (MLPRegressor, FastMLPRegressor),
}
KINDS = sorted(ESTIMATORS)
SMALL = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0}

RNG = np.random.RandomState(0)
X_OK = RNG.normal(size=(20, 4))
Y_OK = {"classifier": np.arange(20) % 2, "regressor": RNG.normal(size=20)}


def with_value(X, value):
    X = X.copy()
    X[3, 1] = value
    return X


def fitted_attributes(est):
    return sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("_"))


def assert_same_error(kind, exc_type, match, X=None, y=None, fit_params=None, **params):
    """scikit-learn raises ``exc_type`` matching ``match``; fastmlp does too."""
    sk_cls, fast_cls = ESTIMATORS[kind]
    X = X_OK if X is None else X
    y = Y_OK[kind] if y is None else y
    fit_params = fit_params or {}
    params = {**SMALL, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc_type, match=match) as sk_err:
            sk_cls(**params).fit(X, y, **fit_params)
        fast = fast_cls(**params)
        with pytest.raises(exc_type, match=match) as fast_err:
            fast.fit(X, y, **fit_params)
    assert type(fast_err.value).__name__ == type(sk_err.value).__name__, (
        f"fastmlp raised {type(fast_err.value)!r}, sklearn {type(sk_err.value)!r}"
    )
    # Failed before any compute: no weights, no loss, no iteration count.
    assert not hasattr(fast, "coefs_")
    assert not hasattr(fast, "loss_")
    assert not hasattr(fast, "n_iter_")
    return fast, fast_err.value


# ----------------------------------------------------------------------------
# bad X and y
# ----------------------------------------------------------------------------
DATA_CASES = {
    "nan-in-X": (with_value(X_OK, np.nan), None, "Input X contains NaN"),
    "inf-in-X": (with_value(X_OK, np.inf), None, "Input X contains infinity"),
    "neg-inf-in-X": (with_value(X_OK, -np.inf), None, "Input X contains infinity"),
    "empty-X": (
        np.empty((0, 4)),
        "empty",
        r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\) while a minimum of 1",
    ),
    "no-features": (np.empty((20, 0)), None, r"Found array with 0 feature\(s\)"),
    "1d-X": (X_OK[:, 0], None, "Expected 2D array, got 1D array instead"),
    "3d-X": (X_OK.reshape(20, 2, 2), None, "Found array with dim 3"),
    "X-y-length-mismatch": (
        X_OK[:15],
        None,
        re.escape(
            "Found input variables with inconsistent numbers of samples: [15, 20]"
        ),
    ),
    "complex-X": (X_OK + 1j, None, "Complex data not supported"),
    "string-X": (
        np.array([["a", "b", "c", "d"]] * 20, dtype=object),
        None,
        "could not convert string to float",
    ),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
@pytest.mark.parametrize("kind", KINDS)
def test_bad_X_raises_like_sklearn(kind, case):
    X, y_kind, match = DATA_CASES[case]
    y = Y_OK[kind][:0] if y_kind == "empty" else None
    fast, _ = assert_same_error(kind, ValueError, match, X=X, y=y)
    # Nothing was learnt from the bad data: not even the input width.
    assert fitted_attributes(fast) == []


@pytest.mark.parametrize(
    "value, match",
    [(np.nan, "Input y contains NaN"), (np.inf, "Input y contains infinity")],
)
def test_regressor_bad_y_raises_like_sklearn(value, match):
    y = Y_OK["regressor"].copy()
    y[5] = value
    assert_same_error("regressor", ValueError, match, y=y)


def test_classifier_nan_label_raises_like_sklearn():
    y = Y_OK["classifier"].astype(float)
    y[5] = np.nan
    assert_same_error("classifier", ValueError, "Input y contains NaN", y=y)


def test_classifier_continuous_y_raises_like_sklearn():
    y = np.linspace(0, 1, 20)
    assert_same_error("classifier", ValueError, "Unknown label type", y=y)


def test_sample_weight_of_wrong_length_raises_like_sklearn():
    for kind in KINDS:
        assert_same_error(
            kind,
            ValueError,
            re.escape("sample_weight.shape == (5,), expected (20,)!"),
            fit_params={"sample_weight": np.ones(5)},
        )


def test_sample_weight_with_nan_raises_like_sklearn():
    sw = np.ones(20)
    sw[2] = np.nan
    for kind in KINDS:
        assert_same_error(
            kind,
            ValueError,
            "Input sample_weight contains NaN",
            fit_params={"sample_weight": sw},
        )


@pytest.mark.parametrize("kind", KINDS)
def test_all_zero_sample_weight_raises_like_sklearn(kind):
    assert_same_error(
        kind,
        ValueError,
        r"(weight.*zero)|(zero.*weight)",
        fit_params={"sample_weight": np.zeros(20)},
    )


# ----------------------------------------------------------------------------
# bad parameters
# ----------------------------------------------------------------------------
def param_error(name, bound):
    """Pattern of scikit-learn's InvalidParameterError for ``name``."""
    return (
        rf"The '{name}' parameter of (Fast)?MLP(Classifier|Regressor) must be {bound}"
    )


PARAM_CASES = {
    "activation-unknown": (
        {"activation": "softplus"},
        param_error("activation", "a str among"),
    ),
    "solver-unknown": ({"solver": "newton"}, param_error("solver", "a str among")),
    "alpha-negative": (
        {"alpha": -1.0},
        param_error("alpha", re.escape("a float in the range [0.0, inf)")),
    ),
    "alpha-nan": ({"alpha": np.nan}, param_error("alpha", "a float")),
    "learning_rate_init-zero": (
        {"learning_rate_init": 0},
        param_error("learning_rate_init", re.escape("a float in the range (0.0, inf)")),
    ),
    "learning_rate-unknown": (
        {"learning_rate": "optimal"},
        param_error("learning_rate", "a str among"),
    ),
    "batch_size-zero": (
        {"batch_size": 0},
        param_error("batch_size", re.escape("a str among {'auto'} or an int")),
    ),
    "batch_size-float": ({"batch_size": 2.0}, param_error("batch_size", "a str")),
    "max_iter-zero": (
        {"max_iter": 0},
        param_error("max_iter", re.escape("an int in the range [1, inf)")),
    ),
    "max_iter-float": ({"max_iter": 2.0}, param_error("max_iter", "an int")),
    "momentum-two": (
        {"momentum": 2},
        param_error("momentum", re.escape("a float in the range [0.0, 1.0]")),
    ),
    "validation_fraction-one": (
        {"validation_fraction": 1},
        param_error(
            "validation_fraction", re.escape("a float in the range [0.0, 1.0)")
        ),
    ),
    "beta_1-one": (
        {"beta_1": 1},
        param_error("beta_1", re.escape("a float in the range [0.0, 1.0)")),
    ),
    "beta_2-one": ({"beta_2": 1.0}, param_error("beta_2", "a float in the range")),
    "epsilon-zero": ({"epsilon": 0}, param_error("epsilon", "a float in the range")),
    "n_iter_no_change-zero": (
        {"n_iter_no_change": 0},
        param_error("n_iter_no_change", re.escape("an int in the range [1, inf)")),
    ),
    "tol-negative": ({"tol": -1}, param_error("tol", "a float in the range")),
    "power_t-negative": (
        {"power_t": -1},
        param_error("power_t", "a float in the range"),
    ),
    "shuffle-int": ({"shuffle": 1}, param_error("shuffle", "an instance of 'bool'")),
    "random_state-negative": (
        {"random_state": -1},
        param_error("random_state", re.escape("an int in the range [0, 4294967295]")),
    ),
    "max_fun-zero": ({"max_fun": 0}, param_error("max_fun", "an int in the range")),
    "hidden_layer_sizes-None": (
        {"hidden_layer_sizes": None},
        param_error("hidden_layer_sizes", "an array-like or an int"),
    ),
    "hidden_layer_sizes-str": (
        {"hidden_layer_sizes": "abc"},
        param_error("hidden_layer_sizes", "an array-like or an int"),
    ),
}

for _name, _bound in [
    ("alpha", "[0.0, inf)"),
    ("learning_rate_init", "(0.0, inf)"),
    ("tol", "[0.0, inf)"),
    ("power_t", "[0.0, inf)"),
    ("epsilon", "(0.0, inf)"),
]:
    PARAM_CASES[f"{_name}-inf"] = (
        {_name: np.inf},
        param_error(_name, re.escape(f"a float in the range {_bound}")),
    )

PARAM_CASES["hidden_layer_sizes-int-zero"] = (
    {"hidden_layer_sizes": 0},
    param_error("hidden_layer_sizes", "an array-like or an int"),
)
PARAM_CASES["hidden_layer_sizes-int-negative"] = (
    {"hidden_layer_sizes": -2},
    param_error("hidden_layer_sizes", "an array-like or an int"),
)


def param_cases():
    for case in sorted(PARAM_CASES):
        params, match, *marks = PARAM_CASES[case]
        yield pytest.param(params, match, id=case, marks=marks)


@pytest.mark.parametrize("params, match", list(param_cases()))
@pytest.mark.parametrize("kind", KINDS)
def test_invalid_parameter_raises_like_sklearn(kind, params, match):
    fast, err = assert_same_error(kind, ValueError, match, **params)
    assert isinstance(err, ValueError) and isinstance(err, TypeError)
    assert fitted_attributes(fast) == []  # checked before the data is touched


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_parameter_is_reported_before_bad_data(kind):
    # Both libraries validate parameters first, whatever the data.
    assert_same_error(
        kind,
        ValueError,
        param_error("alpha", "a float"),
        X=with_value(X_OK, np.nan),
        alpha=-1.0,
    )


def test_invalid_loss_raises_like_sklearn():
    assert_same_error(
        "regressor", ValueError, param_error("loss", "a str among"), loss="huber"
    )


@pytest.mark.parametrize("sizes", [(-1,), (0,), (4, 0), [3, -2, 5]])
@pytest.mark.parametrize("kind", KINDS)
def test_non_positive_hidden_layer_sizes_raise_like_sklearn(kind, sizes):
    assert_same_error(
        kind,
        ValueError,
        re.escape(f"hidden_layer_sizes must be > 0, got {list(sizes)}."),
        hidden_layer_sizes=sizes,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_fractional_hidden_layer_size_raises_like_sklearn(kind):
    assert_same_error(kind, TypeError, "", hidden_layer_sizes=(2.5,))


@pytest.mark.parametrize("kind", KINDS)
def test_device_gpu_is_an_invalid_parameter(kind):
    _, fast_cls = ESTIMATORS[kind]
    est = fast_cls(device="gpu", **SMALL)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"The 'device' parameter of {fast_cls.__name__} must be a str among "
            "{'auto', 'cpu', 'cuda'}. Got 'gpu' instead."
        ),
    ) as err:
        est.fit(X_OK, Y_OK[kind])
    assert isinstance(err.value, TypeError)  # InvalidParameterError, as sklearn's
    assert fitted_attributes(est) == []


# ----------------------------------------------------------------------------
# prediction errors
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_predict_with_other_number_of_features_raises_like_sklearn(kind):
    sk_cls, fast_cls = ESTIMATORS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = sk_cls(**SMALL).fit(X_OK, Y_OK[kind])
        fast = fast_cls(**SMALL).fit(X_OK, Y_OK[kind])
    pattern = (
        r"X has 3 features, but (Fast)?MLP(Classifier|Regressor) is expecting "
        r"4 features"
    )
    methods = ["predict"] + (
        ["predict_proba", "predict_log_proba"] if kind == "classifier" else []
    )
    for method in methods:
        with pytest.raises(ValueError, match=pattern):
            getattr(sk, method)(X_OK[:, :3])
        with pytest.raises(ValueError, match=pattern):
            getattr(fast, method)(X_OK[:, :3])
    with pytest.raises(ValueError, match=pattern):
        fast.score(X_OK[:, :3], Y_OK[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_predict_with_nan_raises_like_sklearn(kind):
    sk_cls, fast_cls = ESTIMATORS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = sk_cls(**SMALL).fit(X_OK, Y_OK[kind])
        fast = fast_cls(**SMALL).fit(X_OK, Y_OK[kind])
    for est in (sk, fast):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            est.predict(with_value(X_OK, np.nan))


@pytest.mark.parametrize("kind", KINDS)
def test_predict_before_fit_raises_not_fitted_error(kind):
    sk_cls, fast_cls = ESTIMATORS[kind]
    methods = ["predict"] + (
        ["predict_proba", "predict_log_proba"] if kind == "classifier" else []
    )
    for method in methods:
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            getattr(sk_cls(), method)(X_OK)
        with pytest.raises(
            NotFittedError, match=f"This {fast_cls.__name__} instance is not fitted yet"
        ):
            getattr(fast_cls(), method)(X_OK)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_after_failed_fit_is_still_not_fitted(kind):
    _, fast_cls = ESTIMATORS[kind]
    est = fast_cls(**SMALL)
    with pytest.raises(ValueError):
        est.fit(with_value(X_OK, np.nan), Y_OK[kind])
    with pytest.raises(NotFittedError):
        est.predict(X_OK)


# ----------------------------------------------------------------------------
# fastmlp's own errors
# ----------------------------------------------------------------------------
@pytest.fixture
def strict():
    """fastmlp's stricter checks, which are opt-in."""
    with fastmlp.config_context(strict=True):
        yield


@pytest.mark.usefixtures("strict")
def test_single_class_raises_value_error():
    # Opt-in: scikit-learn (and fastmlp by default) trains a one-class model.
    y = np.zeros(20, dtype=int)
    est = FastMLPClassifier(**SMALL)
    with pytest.raises(ValueError, match="at least 2 classes.*only one class"):
        est.fit(X_OK, y)
    assert not hasattr(est, "coefs_")
    for labels in (np.full(20, "spam"), np.ones(20, dtype=bool)):
        with pytest.raises(ValueError, match="only one class"):
            FastMLPClassifier(**SMALL).fit(X_OK, labels)


def test_single_class_partial_fit_batch_is_allowed_when_classes_are_given():
    # Only the declared classes count: a batch of one class is normal streaming.
    est = FastMLPClassifier(**SMALL)
    est.partial_fit(X_OK, np.zeros(20, dtype=int), classes=[0, 1])
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.predict_proba(X_OK).shape == (20, 2)


@pytest.mark.usefixtures("strict")
def test_single_class_in_partial_fit_classes_raises():
    with pytest.raises(ValueError, match="only one class"):
        FastMLPClassifier(**SMALL).partial_fit(X_OK, np.zeros(20, int), classes=[0])


def test_single_class_multilabel_column_is_allowed():
    # A multilabel indicator y is not "one class" even if it has one column.
    Y = np.column_stack([np.arange(20) % 2, np.arange(20) % 3 == 0]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = FastMLPClassifier(**SMALL).fit(X_OK, Y)
    assert est.n_outputs_ == 2


@pytest.mark.usefixtures("strict")
def test_failed_single_class_fit_leaves_no_fitted_state():
    est = FastMLPClassifier(**SMALL)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(X_OK, np.zeros(20, dtype=int))
    assert fitted_attributes(est) == []
    est.partial_fit(X_OK, Y_OK["classifier"], classes=[0, 1])


@pytest.mark.parametrize("kind", KINDS)
def test_device_cuda_says_what_to_do(kind):
    _, fast_cls = ESTIMATORS[kind]
    est = fast_cls(device="cuda", **SMALL)
    with pytest.raises(BackendUnavailableError, match="device='cuda'") as err:
        est.fit(X_OK, Y_OK[kind])
    message = str(err.value)
    assert "device='cpu'" in message  # the fix is spelled out
    assert isinstance(err.value, RuntimeError)
    assert not hasattr(est, "coefs_")
    # It is a device problem, not bad data: raised even for valid input, and
    # before the data is looked at.
    with pytest.raises(BackendUnavailableError):
        fast_cls(device="cuda", **SMALL).fit(with_value(X_OK, np.nan), Y_OK[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_lbfgs_has_no_partial_fit(kind):
    _, fast_cls = ESTIMATORS[kind]
    extra = {"classes": [0, 1]} if kind == "classifier" else {}
    est = fast_cls(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit(X_OK, Y_OK[kind], **extra)
    assert not hasattr(est, "coefs_")
    for solver in ("sgd", "adam"):
        assert hasattr(fast_cls(solver=solver), "partial_fit")
    # scikit-learn's classifier agrees. (Its regressor's available_if tests
    # ``est._check_solver`` without calling it, so it runs L-BFGS instead.)
    if kind == "classifier":
        assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
        with pytest.raises(AttributeError):
            MLPClassifier(solver="lbfgs").partial_fit(X_OK, Y_OK[kind], **extra)


@pytest.mark.parametrize("kind", KINDS)
def test_lbfgs_rejects_bad_input_like_the_stochastic_solvers(kind):
    assert_same_error(
        kind,
        ValueError,
        "Input X contains NaN",
        X=with_value(X_OK, np.nan),
        solver="lbfgs",
    )
    assert_same_error(
        kind, ValueError, param_error("max_fun", "an int"), solver="lbfgs", max_fun=0
    )


# ----------------------------------------------------------------------------
# divergence
# ----------------------------------------------------------------------------
def diverging_fit(est, X, y):
    with pytest.raises(ValueError, match="non-finite") as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
    return err.value


def assert_finite_weights(est):
    assert hasattr(est, "coefs_")
    for w in est.coefs_ + est.intercepts_:
        assert np.isfinite(w).all()


@pytest.mark.usefixtures("strict")
def test_huge_learning_rate_regressor_diverges_with_value_error():
    est = FastMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e6,
        max_iter=20,
        random_state=0,
    )
    err = diverging_fit(est, X_OK * 1e6, Y_OK["regressor"] * 1e6)
    assert "learning_rate_init" in str(err)  # says what to change
    assert_finite_weights(est)
    assert len(est.loss_curve_) == est.n_iter_
    assert all(np.isfinite(est.loss_curve_))
    # The kept weights are those of the last finite epoch: huge but usable.
    assert est.predict(X_OK).shape == (20,)
    # scikit-learn diverges on the same problem too (it only checks at the end).
    with pytest.raises(ValueError, match="non-finite"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(
                hidden_layer_sizes=(8,),
                solver="sgd",
                learning_rate_init=1e6,
                max_iter=20,
                random_state=0,
            ).fit(X_OK * 1e6, Y_OK["regressor"] * 1e6)


@pytest.mark.usefixtures("strict")
def test_huge_learning_rate_float32_classifier_diverges_with_value_error():
    y = np.arange(20) % 3
    est = FastMLPClassifier(
        hidden_layer_sizes=(8,),
        activation="identity",
        solver="sgd",
        learning_rate_init=1e6,
        max_iter=20,
        random_state=0,
    )
    diverging_fit(est, (X_OK * 1e6).astype(np.float32), y)
    assert est.coefs_[0].dtype == np.float32
    assert_finite_weights(est)


@pytest.mark.usefixtures("strict")
def test_divergence_in_warm_start_keeps_the_last_finite_weights():
    est = FastMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e-3,
        max_iter=5,
        random_state=0,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X_OK, Y_OK["regressor"])
    n_before = len(est.loss_curve_)
    est.set_params(learning_rate_init=1e6)
    diverging_fit(est, X_OK * 1e6, Y_OK["regressor"] * 1e6)
    assert_finite_weights(est)
    assert len(est.loss_curve_) >= n_before
    assert all(np.isfinite(est.loss_curve_))
    assert est.predict(X_OK).shape == (20,)


@pytest.mark.usefixtures("strict")
def test_divergence_in_partial_fit_keeps_previous_weights():
    est = FastMLPRegressor(
        hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e6, random_state=0
    )
    X, y = X_OK * 1e6, Y_OK["regressor"] * 1e6
    with pytest.raises(ValueError, match="non-finite"):
        for _ in range(30):
            est.partial_fit(X, y)
    assert_finite_weights(est)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fit_that_fails_on_string_y_resets_the_optimizer_like_sklearn(solver):
    """Found by the long fuzz profile: a regressor's fit with y of strings
    fails where the loss first uses y, after scikit-learn set up a new
    optimizer; a partial_fit afterwards goes on from that new optimizer, not
    from the one a diverged earlier partial_fit left (NaN moments)."""
    calls = [
        ("partial_fit", np.array([[1e300]]), np.array([1.76405235])),
        ("fit", np.array([[1.76405235]]), np.array(["1.764052345967664"])),
        ("partial_fit", np.array([[1.76405235]]), np.array([1.76405235])),
    ]
    models, outcomes = {}, {}
    for cls in (MLPRegressor, FastMLPRegressor):
        est = cls(hidden_layer_sizes=(3,), solver=solver, max_iter=1, random_state=0)
        outcomes[cls] = []
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for method, X, y in calls:
                try:
                    getattr(est, method)(X, y)
                    outcomes[cls].append("ok")
                except (ValueError, TypeError) as error:
                    outcomes[cls].append(type(error).__name__)
        models[cls] = est
    assert outcomes[FastMLPRegressor] == outcomes[MLPRegressor]
    assert outcomes[MLPRegressor][-1] == "ok"
    sk, fast = models[MLPRegressor], models[FastMLPRegressor]
    for a, b in zip(
        sk.coefs_ + sk.intercepts_, fast.coefs_ + fast.intercepts_, strict=True
    ):
        np.testing.assert_allclose(b, a, rtol=1e-10)
