"""Cold start: the first fit in a fresh environment, and the warm fits after it.

Each sample is a new interpreter with an empty ``NUMBA_CACHE_DIR`` that fits
the default ``FastMLPClassifier(hidden_layer_sizes=(128,))`` on
``load_digits`` as users have it (``X / 16``, float64; or float32 with
``--dtype float32``): the first fit's seconds include every compile, then
three more fits of the same estimator give the warm fit time. scikit-learn's
``MLPClassifier`` on the same data is timed in the same processes as the
yardstick.

``--python`` adds other interpreters (another checkout's venv, say) to the
same run: every round runs each interpreter once, in a rotating order, so a
before/after comparison shares the machine's state.

    python -m bench.coldstart                          # float64 and float32, 3 rounds
    python -m bench.coldstart --python ../base/.venv/bin/python --rounds 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
import numpy as np
import fastmlp
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
t_import = time.perf_counter() - t0
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(sys.argv[1])
warnings.simplefilter("ignore")
def timed(make):
    est = make()
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start, est.score(X, y)
make = lambda: fastmlp.FastMLPClassifier(hidden_layer_sizes=(128,), random_state=0)
first, acc = timed(make)
warm = [timed(make)[0] for _ in range(3)]
sk = [timed(lambda: MLPClassifier(hidden_layer_sizes=(128,), random_state=0))[0]]
print(json.dumps({"import_s": t_import, "first_fit_s": first, "warm_fit_s":
                  sorted(warm)[1], "sklearn_fit_s": sk[0], "train_accuracy": acc,
                  "fastmlp": fastmlp.__file__}))
"""


def sample(python, dtype):
    """One fresh process with an empty numba cache; returns its measurements."""
    with tempfile.TemporaryDirectory(prefix="fastmlp-cold-") as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [python, "-c", CHILD, dtype],
            env=env,
            cwd=cache,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[], help="more pythons")
    parser.add_argument("--dtype", default="float64,float32")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    pythons = [sys.executable, *args.python]
    dtypes = args.dtype.split(",")
    results = {(p, d): [] for p in pythons for d in dtypes}
    for r in range(args.rounds):
        for i in range(len(pythons)):
            python = pythons[(i + r) % len(pythons)]
            for dtype in dtypes:
                s = sample(python, dtype)
                results[python, dtype].append(s)
                print(
                    f"round {r + 1} {python} {dtype}: first fit "
                    f"{s['first_fit_s']:.2f} s, warm {s['warm_fit_s']:.3f} s",
                    file=sys.stderr,
                )
    print(
        "| python | dtype | first fit s (median) | warm fit s | sklearn fit s |"
        " warm vs sklearn | import s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (python, dtype), runs in results.items():
        med = {
            k: statistics.median(s[k] for s in runs)
            for k in runs[0]
            if k.endswith("_s")
        }
        print(
            f"| {python} | {dtype} | {med['first_fit_s']:.2f} | {med['warm_fit_s']:.3f}"
            f" | {med['sklearn_fit_s']:.3f} | "
            f"{med['sklearn_fit_s'] / med['warm_fit_s']:.2f}x | {med['import_s']:.2f} |"
        )
    return results


if __name__ == "__main__":
    main()
