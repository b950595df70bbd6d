"""fastmlp.save / fastmlp.load: skops files, loaded trusting fastmlp's types only."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastmlp
from fastmlp import FastMLPClassifier, FastMLPRegressor

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

rng = np.random.RandomState(0)
X = rng.rand(40, 4)
Y = {"classifier": np.arange(40) % 3, "regressor": X @ [1.0, -2.0, 0.5, 3.0]}


def fitted(cls, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(hidden_layer_sizes=(6,), max_iter=5, random_state=0, **params).fit(
            X, y
        )


def assert_same_model(a, b, X):
    assert type(a) is type(b)
    assert a.get_params() == b.get_params()
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_round_trip(tmp_path, kind, solver, dtype):
    cls = FastMLPClassifier if kind == "classifier" else FastMLPRegressor
    Xd = X.astype(dtype)
    model = fitted(cls, Xd, Y[kind], solver=solver)
    fastmlp.save(model, tmp_path / "m.skops")
    loaded = fastmlp.load(tmp_path / "m.skops")
    assert_same_model(model, loaded, Xd)
    assert loaded.n_iter_ == model.n_iter_
    if solver != "lbfgs":  # the solver state comes back: partial_fit goes on
        assert loaded.loss_curve_ == model.loss_curve_
        model.partial_fit(Xd, Y[kind])
        loaded.partial_fit(Xd, Y[kind])
        assert_same_model(model, loaded, Xd)


def test_round_trip_multilabel_and_sparse_fitted(tmp_path):
    Y_multi = np.column_stack([np.arange(40) % 2, np.arange(40) % 3 == 0])
    for model, Xf in [
        (fitted(FastMLPClassifier, X, Y_multi), X),
        (fitted(FastMLPClassifier, sp.csr_matrix(X), Y["classifier"]), X),
    ]:
        fastmlp.save(model, tmp_path / "m.skops")
        assert_same_model(model, fastmlp.load(tmp_path / "m.skops"), Xf)


def test_pipeline_round_trips_with_skops_directly(tmp_path):
    pipe = make_pipeline(
        StandardScaler(), FastMLPClassifier(max_iter=5, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, Y["classifier"])
    sio.dump(pipe, tmp_path / "p.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "p.skops")
    assert set(untrusted) <= set(fastmlp._persist.trusted_types())
    loaded = sio.load(tmp_path / "p.skops", trusted=fastmlp._persist.trusted_types())
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert (
        fastmlp.load(tmp_path / "p.skops").predict(X).tolist()
        == pipe.predict(X).tolist()
    )


class Sneaky:
    """A type no one trusts; loading it would run its __setstate__."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __setstate__(self, state):  # pragma: no cover - must never run
        with open(state["marker"], "w") as f:
            f.write("executed")
        self.__dict__.update(state)


def test_a_file_with_an_untrusted_type_is_refused_and_nothing_runs(tmp_path):
    model = fitted(FastMLPClassifier, X, Y["classifier"])
    marker = tmp_path / "marker"
    model.extra_ = Sneaky(marker)  # rides along in the estimator's state
    fastmlp.save(model, tmp_path / "m.skops")
    with pytest.raises(UntrustedTypesFoundException, match="Sneaky"):
        fastmlp.load(tmp_path / "m.skops")
    assert not marker.exists()


def test_truncated_and_corrupted_files_give_a_clear_error(tmp_path):
    model = fitted(FastMLPRegressor, X, Y["regressor"])
    fastmlp.save(model, tmp_path / "m.skops")
    data = (tmp_path / "m.skops").read_bytes()
    (tmp_path / "short.skops").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable model file"):
        fastmlp.load(tmp_path / "short.skops")
    garbled = bytearray(data)
    for i in range(0, len(garbled), 7):
        garbled[i] ^= 0xFF
    (tmp_path / "bad.skops").write_bytes(bytes(garbled))
    with pytest.raises(ValueError, match="not a readable model file"):
        fastmlp.load(tmp_path / "bad.skops")
    (tmp_path / "empty.skops").write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable model file"):
        fastmlp.load(tmp_path / "empty.skops")


def test_import_fastmlp_does_not_import_skops():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, fastmlp; print('skops' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.stdout.strip() == "False"
