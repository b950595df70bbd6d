"""Memory and concurrency: a fit never copies X, threads share models safely.

Memory: a child process fills X in place (so creating it leaves no
temporary behind), resets the kernel's peak-RSS counter (``VmHWM``, Linux),
fits, and reports the peak. At two sizes, the peak above "X in memory"
must grow by far less than X (a copy of X per fit or per epoch would add at
least X's size): the fit's own memory is O(batch x width) plus O(n) index
and target arrays of a few bytes per row.
"""

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from fastmlp import FastMLPClassifier, FastMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer")

PEAK = r"""
import json, sys, warnings
import numpy as np
from fastmlp import FastMLPRegressor

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
warnings.simplefilter("ignore")
n, d = int(sys.argv[1]), 100
make = lambda: FastMLPRegressor(hidden_layer_sizes=(32,), batch_size=200, max_iter=2,
                                random_state=0)
make().fit(np.ones((300, d), np.float32), np.ones(300, np.float32))  # compile/load
rng = np.random.default_rng(0)
X = np.empty((n, d), np.float32)
for i in range(0, n, 65536):
    X[i:i + 65536] = rng.random((min(65536, n - i), d), dtype=np.float32)
y = X[:, 0] * 2 - X[:, 1]
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # VmHWM := current RSS
base = status("VmRSS")
make().fit(X, y)
print(json.dumps({"x_bytes": X.nbytes, "base": base, "peak": status("VmHWM")}))
"""


def peak_memory(n):
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(n)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's clear_refs"
)
def test_fit_memory_does_not_grow_with_a_copy_of_x():
    small, large = peak_memory(100_000), peak_memory(400_000)
    extra_small = small["peak"] - small["base"]
    extra_large = large["peak"] - large["base"]
    added_x = large["x_bytes"] - small["x_bytes"]
    # Per added row, the fit's own memory grows by under a quarter of the
    # row's size (X is 400 bytes a row; index + target + labels ~ 20).
    assert extra_large - extra_small < 0.25 * added_x, (small, large)
    # And its total stays well below one copy of X.
    assert extra_large < 0.5 * large["x_bytes"], large


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def test_predict_from_8_threads_at_once_equals_serial(digits):
    X, y = digits
    clf = FastMLPClassifier((32,), max_iter=5, random_state=0).fit(X, y)
    rng = np.random.RandomState(0)
    # Small inputs and inputs large enough to be split over threads inside.
    inputs = [X[rng.randint(0, len(X), size)] for size in (1, 7, 300, 20000) * 2]
    serial = [(clf.predict(a), clf.predict_proba(a)) for a in inputs]
    start = threading.Barrier(8)

    def both(a):
        start.wait()
        return clf.predict(a), clf.predict_proba(a)

    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(both, inputs))
    for (p, proba), (p_ser, proba_ser) in zip(parallel, serial, strict=True):
        np.testing.assert_array_equal(p, p_ser)
        np.testing.assert_array_equal(proba, proba_ser)


def test_two_fits_in_two_threads_equal_serial_fits(digits):
    X, y = digits
    y_reg = X @ np.linspace(-1, 1, X.shape[1])

    def make():
        return [
            FastMLPClassifier((32,), max_iter=8, random_state=0),
            FastMLPRegressor(
                hidden_layer_sizes=(16, 8), max_iter=8, random_state=1, solver="sgd"
            ),
        ]

    targets = [y, y_reg]
    serial = [est.fit(X, t) for est, t in zip(make(), targets, strict=True)]
    start = threading.Barrier(2)

    def fit(est, t):
        start.wait()
        return est.fit(X, t)

    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(fit, make(), targets))
    for a, b in zip(threaded, serial, strict=True):
        for wa, wb in zip(
            a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True
        ):
            np.testing.assert_array_equal(wa, wb)
        assert a.loss_curve_ == b.loss_curve_
