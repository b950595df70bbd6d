"""What each new configuration costs to compile, after the first fit.

One fresh process with an empty ``NUMBA_CACHE_DIR`` fits the default
classifier on ``load_digits`` (``X / 16``), then predicts, then fits one new
configuration after another (another activation, solver, output and loss,
a regressor, CSR input, ``lbfgs``, L1), and prints each step's wall and CPU
seconds, the fit included (5 epochs: ~0.02 s of them is training). Compiling
once means every step after the first costs its new pieces only.

    python -m bench.configurations                  # float64
    python -m bench.configurations --dtype float32
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, warnings
T, W = time.process_time, time.perf_counter
t0, w0 = T(), W()
import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
import fastmlp
from fastmlp import FastMLPClassifier as C, FastMLPRegressor as R
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(sys.argv[1])
rows = [("import", T() - t0, W() - w0)]
fits = [
    ("first fit (relu, softmax, adam)", lambda: C(max_iter=5).fit(X, y)),
    ("predict", None),
    ("tanh", lambda: C(activation="tanh", max_iter=5).fit(X, y)),
    ("logistic", lambda: C(activation="logistic", max_iter=5).fit(X, y)),
    ("identity", lambda: C(activation="identity", max_iter=5).fit(X, y)),
    ("sgd", lambda: C(solver="sgd", max_iter=5).fit(X, y)),
    ("binary (logistic output, binary log loss)", lambda: C(max_iter=5).fit(X, y % 2)),
    ("regressor (identity, squared error)",
     lambda: R(max_iter=5).fit(X, y.astype(X.dtype))),
    ("CSR input", lambda: C(max_iter=5).fit(sp.csr_matrix(X), y)),
    ("L1", lambda: C(l1=1e-4, max_iter=5).fit(X, y)),
    ("lbfgs", lambda: C(solver="lbfgs", max_iter=5).fit(X, y)),
]
model = None
for name, fit in fits:
    t, w = T(), W()
    if fit is None:
        model.predict(X)
    else:
        model = fit()
    rows.append((name, T() - t, W() - w))
print(json.dumps(rows))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    with tempfile.TemporaryDirectory(prefix="fastmlp-configs-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [sys.executable, "-c", CHILD, args.dtype],
            env=env,
            cwd=tempfile.gettempdir(),  # not a checkout's fastmlp/ folder
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        sys.exit(out.stderr[-3000:])
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'step (' + args.dtype + ', fresh cache)':<44}{'wall s':>9}{'cpu s':>9}")
    for name, cpu, wall in rows:
        print(f"{name:<44}{wall:>9.2f}{cpu:>9.2f}")


if __name__ == "__main__":
    main()
