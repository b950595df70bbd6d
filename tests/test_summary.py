"""summary(): how many weights and biases a fitted network learns, per layer."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from fastmlp import FastMLPClassifier, FastMLPRegressor


def lines_of(est):
    out = []
    est.summary(print_fn=out.append)
    (text,) = out
    return text.splitlines()


def test_summary_counts_every_weight_and_bias_per_layer():
    X = np.random.RandomState(0).rand(30, 5).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastMLPClassifier((8, 3), activation="tanh", max_iter=2).fit(
            X, np.arange(30) % 4
        )
    lines = lines_of(clf)
    assert lines[0] == 'FastMLPClassifier (dtype float32, device "cpu")'
    rows = {line.split("  ")[0].strip(): line.split() for line in lines[4:8]}
    assert rows["input"][-3:] == ["5", "0", "0"]
    assert rows["hidden 1"][-4:] == ["8", "tanh", "40", "8"]
    assert rows["hidden 2"][-4:] == ["3", "tanh", "24", "3"]
    assert rows["output"][-4:] == ["4", "softmax", "12", "4"]
    n_weights = sum(c.size for c in clf.coefs_)
    n_biases = sum(b.size for b in clf.intercepts_)
    assert lines[-3] == f"Total parameters: {n_weights + n_biases:,}"
    assert lines[-2].split() == ["weights:", str(n_weights)]
    assert lines[-1].split() == ["biases:", str(n_biases)]


def test_summary_prints_by_default_and_needs_a_fitted_model(capsys):
    reg = FastMLPRegressor(hidden_layer_sizes=(1000,), max_iter=1)
    with pytest.raises(NotFittedError):
        reg.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(np.zeros((4, 2)), np.zeros(4))
    reg.summary()
    out = capsys.readouterr().out
    assert "hidden 1   1000  relu" in out and "identity" in out
    assert (
        "Total parameters: 4,001" in out.replace("3,001", "").replace("4,001", "4,001")
        or "Total parameters: 4,001" in out
    )
