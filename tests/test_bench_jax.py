"""The JAX baseline of ``bench`` (``bench.peers``) trains what it claims.

``bench`` is not an installed package: it is loaded from the repository by
path, without putting the repository root on ``sys.path`` (where a bare
``import kernels`` would then work and hide import bugs). Skipped where jax
or optax is missing (the ``test`` and ``bench`` extras bring them).
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")


def _load_bench():
    """The repository's ``bench`` package, imported from its folder."""
    if "bench" not in sys.modules:
        folder = Path(__file__).resolve().parents[1] / "bench"
        spec = importlib.util.spec_from_file_location(
            "bench", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench"]


_load_bench()
from bench.impls import get_impl  # noqa: E402
from bench.peers import JaxMLPClassifier  # noqa: E402


def blobs(n_classes, n=240, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_classes, 4))
    y = np.arange(n) % n_classes
    X = (centres[y] + rng.normal(size=(n, 4))).astype(np.float32)
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
def test_jax_baseline_learns_and_predicts_probabilities(n_classes):
    X, y = blobs(n_classes)
    clf = JaxMLPClassifier((16,), batch_size=32, max_iter=30, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (clf.predict(X) == y).mean() > 0.9
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


def test_jax_baseline_loss_is_scikit_learns_with_the_l2_term():
    # With a zero learning rate the weights stay as drawn: the epoch loss of
    # one full batch is log-loss + 0.5 * alpha * ||W||^2 / n, as scikit-learn.
    X, y = blobs(3, n=60)
    alpha = 0.5
    clf = JaxMLPClassifier(
        (8,),
        batch_size=60,
        max_iter=1,
        shuffle=False,
        alpha=alpha,
        learning_rate_init=0.0,
    ).fit(X, y)
    (W1, b1), (W2, b2) = [(np.asarray(W), np.asarray(b)) for W, b in clf.params_]
    H = np.maximum(X @ W1 + b1, 0.0)
    Z = H @ W2 + b2
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    log_loss = -np.mean(np.log(P[np.arange(60), y]))
    l2 = 0.5 * alpha * ((W1**2).sum() + (W2**2).sum()) / 60
    assert clf.loss_curve_[0] == pytest.approx(log_loss + l2, rel=1e-5)


def test_jax_is_a_compiled_implementation_of_the_harness():
    impl = get_impl("jax")
    assert impl.jit and impl.predicts
    clf = impl.make(hidden_layer_sizes=(4,), max_iter=2, batch_size=16, solver="adam")
    assert isinstance(clf, JaxMLPClassifier)
