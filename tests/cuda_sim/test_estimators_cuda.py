"""The estimators on ``device="cuda"`` in the CUDA simulator.

With ``shuffle=False`` a CUDA fit visits the rows in the CPU's order, so its
weights, loss curve and predictions equal a CPU fit to float tolerance; a
CUDA-trained model pickles and predicts on a machine without a GPU.
"""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import FastMLPClassifier, FastMLPRegressor
from fastmlp._backend import real_gpu_available, resolve_device

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


@pytest.fixture(autouse=True)
def fewer_blocks(small_cuda_config, monkeypatch):
    """Whole fits: 32-thread reductions make fewer simulated blocks (faster);
    the kernel tests cover the many-block edges."""
    monkeypatch.setattr(small_cuda_config, "THREADS_PER_BLOCK", 32)


def data(n=30, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y_class = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8)
    y_reg = X @ [0.5, -1.0, 2.0] + 0.1 * rng.normal(size=n)
    return X, y_class, y_reg


def fit_both(make, X, y, **fit_kw):
    """The same estimator fitted on the CPU and on CUDA (simulated)."""
    fitted = {}
    for device in ("cpu", "cuda"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted[device] = make(device).fit(X, y, **fit_kw)
    return fitted["cpu"], fitted["cuda"]


def assert_same_model(cpu_est, cuda_est, rtol):
    assert cuda_est.device_ == "cuda" and cpu_est.device_ == "cpu"
    np.testing.assert_allclose(cuda_est.loss_curve_, cpu_est.loss_curve_, rtol=rtol)
    for got, want in zip(
        cuda_est.coefs_ + cuda_est.intercepts_,
        cpu_est.coefs_ + cpu_est.intercepts_,
        strict=True,
    ):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def test_simulator_allows_cuda_and_auto_never_picks_it():
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("auto") == "cpu"
    assert not real_gpu_available()
    X, y, _ = data()
    est = FastMLPClassifier((4,), max_iter=1, random_state=0, device="auto").fit(X, y)
    assert est.device_ == "cpu"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_fit_on_cuda_equals_cpu_fit_without_shuffle(dtype):
    """Adam, softmax output, the fused path; float32 trains in float32."""
    X, y, _ = data()
    X = X.astype(dtype)

    def make(device):
        return FastMLPClassifier(
            (5,),
            solver="adam",
            batch_size=8,
            max_iter=3,
            shuffle=False,
            random_state=0,
            device=device,
        )

    cpu_est, cuda_est = fit_both(make, X, y)
    assert cuda_est.coefs_[0].dtype == dtype
    assert_same_model(cpu_est, cuda_est, 1e-4 if dtype == np.float32 else 1e-9)
    np.testing.assert_allclose(
        cuda_est.predict_proba(X), cpu_est.predict_proba(X), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_array_equal(cuda_est.predict(X), cpu_est.predict(X))


def test_regressor_on_the_tiled_path_with_early_stopping_equals_cpu():
    """A hidden layer of 9 > the patched fused width: the tiled kernels;
    SGD with Nesterov momentum, sample weights, validation on the device."""
    X, _, y = data(24)
    sw = np.linspace(0.5, 2.0, 24)

    def make(device):
        return FastMLPRegressor(
            hidden_layer_sizes=(9,),
            solver="sgd",
            learning_rate_init=0.05,
            batch_size=8,
            max_iter=2,
            shuffle=False,
            early_stopping=True,
            random_state=0,
            device=device,
        )

    cpu_est, cuda_est = fit_both(make, X, y, sample_weight=sw)
    assert_same_model(cpu_est, cuda_est, 1e-9)
    np.testing.assert_allclose(cuda_est.validation_scores_, cpu_est.validation_scores_)
    np.testing.assert_allclose(cuda_est.predict(X), cpu_est.predict(X), rtol=1e-9)


def test_partial_fit_on_cuda_carries_the_optimizer_state_like_cpu():
    X, y, _ = data()
    models = {}
    for device in ("cpu", "cuda"):
        est = FastMLPClassifier(
            (4,), batch_size=10, shuffle=False, random_state=0, device=device
        )
        for _ in range(2):
            est.partial_fit(X, y, classes=[0, 1, 2])
        models[device] = est
    np.testing.assert_allclose(
        models["cuda"]._optimizer.m, models["cpu"]._optimizer.m, rtol=1e-9, atol=1e-12
    )
    assert_same_model(models["cpu"], models["cuda"], 1e-9)


def test_shuffled_cuda_fit_is_reproducible_and_learns():
    X, y, _ = data(30)

    def fit():
        return FastMLPClassifier(
            (6,),
            batch_size=10,
            max_iter=3,
            learning_rate_init=0.05,
            random_state=3,
            device="cuda",
        ).fit(X, y)

    a, b = fit(), fit()
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)
    assert a.loss_curve_[-1] < a.loss_curve_[0]


def assert_loads_and_predicts_without_a_gpu(tmp_path, load, est, X):
    """A process without the simulator (no GPU) runs ``load`` (code that sets
    ``est``) and predicts on the CPU what the device predicted."""
    np.save(tmp_path / "X.npy", X)
    script = (
        "import pickle, numpy as np, fastmlp\n"
        f"{load}\n"
        "assert est.device_ == 'cuda'\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"np.save({str(tmp_path / 'proba.npy')!r}, est.predict_proba(X))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(
        np.load(tmp_path / "proba.npy"), est.predict_proba(X), rtol=1e-9, atol=1e-12
    )


def test_cuda_trained_model_pickles_and_predicts_on_a_cpu_only_machine(tmp_path):
    """The pickle holds host arrays only."""
    X, y, _ = data()
    est = FastMLPClassifier((5,), max_iter=2, random_state=0, device="cuda").fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    load = f"est = pickle.loads(open({str(path)!r}, 'rb').read())"
    assert_loads_and_predicts_without_a_gpu(tmp_path, load, est, X)


def test_cuda_trained_model_saves_with_skops_and_loads_on_a_cpu_only_machine(tmp_path):
    pytest.importorskip("skops")
    import fastmlp

    X, y, _ = data()
    est = FastMLPClassifier((5,), max_iter=2, random_state=0, device="cuda").fit(X, y)
    fastmlp.save(est, tmp_path / "model.skops")
    load = f"est = fastmlp.load({str(tmp_path / 'model.skops')!r})"
    assert_loads_and_predicts_without_a_gpu(tmp_path, load, est, X)
