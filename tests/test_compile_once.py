"""Compile once: a new configuration compiles pieces, never a skeleton again.

The skeletons (:mod:`fastmlp.kernels.cpu.epoch`, ``narrow``, ``predict``) are
compiled once per dtype; these tests count their signatures around fits that
change every configuration axis an estimator has (activation, output/loss,
solver, L1, input kind, read-only inputs), and check which pieces appear.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from fastmlp.kernels import ACTIVATION_CODES as A
from fastmlp.kernels import LOSS_CODES as L
from fastmlp.kernels.cpu import epoch, narrow, pieces, predict
from sklearn.datasets import load_digits

from fastmlp import FastMLPClassifier, FastMLPRegressor


def skeleton_signatures():
    return {
        "train": len(epoch.train_epoch_skeleton.signatures),
        "loss_grad": len(epoch.loss_grad_skeleton.signatures),
        "forward": len(predict.forward_skeleton.signatures),
        "narrow": len(narrow.narrow_epoch_kernel(8).signatures),
    }


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300, :16] / 16, y[:300]


def fit_all(estimators, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in estimators:
            est.fit(X, y).predict(X)


def test_every_configuration_runs_on_the_skeletons_of_the_first(digits):
    X, y = digits
    # the first fits of this dtype: general, narrow, full-batch, dense and CSR
    fit_all(
        [
            FastMLPClassifier((20,), max_iter=2, random_state=0),
            FastMLPClassifier((4,), max_iter=2, random_state=0),
            FastMLPClassifier((20,), solver="lbfgs", max_iter=2, random_state=0),
        ],
        X,
        y,
    )
    fit_all([FastMLPClassifier((20,), max_iter=2)], sp.csr_matrix(X), y)
    before = skeleton_signatures()
    others = [
        FastMLPClassifier((20,), activation=act, solver=solver, max_iter=2)
        for act in ("identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "selu")
        for solver in ("sgd", "adam", "lbfgs")
    ]
    # narrow widths: the activations beyond scikit-learn's take the general epoch
    others += [FastMLPClassifier((4,), activation="selu", max_iter=2)]
    # fastmlp's own options: decoupled weight decay (narrow widths take the
    # general epoch), label smoothing, a learning-rate schedule
    others += [
        FastMLPClassifier((20,), solver=s, weight_decay=1e-2, max_iter=2)
        for s in ("sgd", "adam")
    ]
    others += [
        FastMLPClassifier((4,), weight_decay=1e-2, max_iter=2),
        FastMLPClassifier((20,), label_smoothing=0.1, lr_schedule="cosine", max_iter=2),
        FastMLPClassifier((20, 10), dropout=(0.2, 0.1), max_iter=2),
        FastMLPClassifier((4,), solver="sgd", dropout=0.3, max_iter=2),
    ]
    others += [
        FastMLPClassifier((20,), l1=1e-3, max_iter=2),
        FastMLPClassifier((4,), activation="tanh", solver="sgd", l1=1e-3, max_iter=2),
    ]
    fit_all(others, X, y)
    fit_all(others[:3], X, y % 2)  # binary: logistic output, binary log loss
    fit_all(others[:3], sp.csr_matrix(X), y)
    fit_all([FastMLPClassifier((20,), dropout=0.2, max_iter=2)], sp.csr_matrix(X), y)
    fit_all(
        [FastMLPRegressor(hidden_layer_sizes=h, max_iter=2) for h in [(20,), (4,)]],
        X,
        y.astype(float),
    )
    assert skeleton_signatures() == before
    made = pieces.made_pieces()
    for code in A.values():
        if code != A["exp"]:
            assert ("activation", code, "float64") in made
    for name in ("log_loss", "binary_log_loss", "squared_error"):
        assert ("output_delta", L[name], "float64") in made


def test_read_only_inputs_compile_nothing_more(digits, tmp_path):
    """``GridSearchCV(n_jobs > 1)`` gives its workers read-only memory maps:
    the skeletons see every input read-only, so those compile nothing new."""
    X, y = digits
    fit_all(
        [
            FastMLPClassifier((20,), max_iter=2),
            FastMLPClassifier((4,), max_iter=2),
            FastMLPClassifier((20,), solver="lbfgs", max_iter=2),
        ],
        X,
        y,
    )
    fit_all([FastMLPClassifier((20,), max_iter=2)], sp.csr_matrix(X), y)
    before = skeleton_signatures()
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    assert not mapped.flags.writeable
    labels = y.copy()
    labels.flags.writeable = False
    fit_all(
        [
            FastMLPClassifier((20,), max_iter=2),
            FastMLPClassifier((4,), max_iter=2),
            FastMLPClassifier((20,), solver="lbfgs", max_iter=2),
        ],
        mapped,
        labels,
    )
    csr = sp.csr_matrix(X)
    for a in (csr.data, csr.indices, csr.indptr):
        a.flags.writeable = False
    fit_all([FastMLPClassifier((20,), max_iter=2)], csr, labels)
    assert skeleton_signatures() == before


def test_read_only_and_writeable_inputs_train_alike(digits, tmp_path):
    X, y = digits
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    a = FastMLPClassifier((20,), max_iter=3, random_state=0)
    b = FastMLPClassifier((20,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.fit(X, y)
        b.fit(mapped, y)
    for ca, cb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(ca, cb)
