"""ONNX export: skl2onnx's MLP converters on fastmlp models, run by onnxruntime."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor

fastmlp_onnx = pytest.importorskip("fastmlp.onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

rng = np.random.RandomState(0)
X = rng.rand(60, 4).astype(np.float32)
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
TARGETS = {
    "binary": np.arange(60) % 2,
    "multiclass": np.arange(60) % 3,
    "multilabel": np.column_stack([np.arange(60) % 2, np.arange(60) % 3 == 0]),
    "strings": np.array(["spam", "ham", "eggs"])[np.arange(60) % 3],
}


def fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def run(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_classifier_outputs_equal_fastmlps(activation, target):
    y = TARGETS[target]
    clf = fit(FastMLPClassifier((7, 5), activation=activation, max_iter=30), X, y)
    labels, proba = run(fastmlp_onnx.to_onnx(clf, X[:1], options={"zipmap": False}), X)
    np.testing.assert_array_equal(labels.reshape(clf.predict(X).shape), clf.predict(X))
    if target == "multilabel":
        # skl2onnx's layout (for scikit-learn's MLP too): P(0) of each label,
        # then P(1) of each label.
        n_labels = y.shape[1]
        np.testing.assert_allclose(proba[:, :n_labels], 1 - proba[:, n_labels:])
        proba = proba[:, n_labels:]
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("outputs", [1, 2])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_regressor_outputs_equal_fastmlps(activation, outputs):
    y = X @ rng.rand(4, outputs)
    reg = fit(FastMLPRegressor(hidden_layer_sizes=(6,), activation=activation), X, y)
    (pred,) = run(fastmlp_onnx.to_onnx(reg, X[:1]), X)
    np.testing.assert_allclose(
        pred.reshape(reg.predict(X).shape), reg.predict(X), rtol=1e-5, atol=1e-5
    )


def test_a_pipeline_converts_with_skl2onnx_itself():
    pipe = fit(
        make_pipeline(StandardScaler(), FastMLPClassifier(max_iter=30, random_state=0)),
        X,
        TARGETS["multiclass"],
    )
    onx = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    labels, proba = run(onx, X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)


def test_options_zipmap_and_float64():
    clf = fit(FastMLPClassifier(max_iter=30, random_state=0), X, TARGETS["multiclass"])
    labels, dicts = run(fastmlp_onnx.to_onnx(clf, X[:1]), X)  # zipmap on by default
    expected = clf.predict_proba(X)
    assert [sorted(d) for d in dicts[:1]] == [list(clf.classes_)]
    got = np.array([[d[c] for c in clf.classes_] for d in dicts])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    X64 = X.astype(np.float64)
    clf64 = fit(FastMLPClassifier(max_iter=30, random_state=0), X64, TARGETS["binary"])
    onx = fastmlp_onnx.to_onnx(clf64, X64[:1], options={"zipmap": False})
    labels, proba = run(onx, X64)
    np.testing.assert_array_equal(labels, clf64.predict(X64))
    np.testing.assert_allclose(proba, clf64.predict_proba(X64), atol=1e-12)


def test_poisson_regressor_says_it_cannot_be_exported():
    reg = fit(FastMLPRegressor(loss="poisson", max_iter=5), X, np.arange(60) % 4)
    with pytest.raises(ValueError, match="poisson"):
        fastmlp_onnx.to_onnx(reg, X[:1])


def test_import_fastmlp_does_not_import_onnx_machinery():
    code = (
        "import sys, fastmlp\n"
        "fastmlp.FastMLPClassifier\n"
        "print([m for m in ('skl2onnx', 'onnx', 'onnxruntime') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
