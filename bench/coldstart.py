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
    python -m bench.coldstart --floor    # and numba's own floor (see FLOOR_CHILD)
    python -m bench.coldstart --model playground --compare-general

``--model playground`` fits the TF-Playground network instead (2-8-8-1 tanh,
batches of 10, on 1,000 spiral points), which trains through the narrow epoch;
``--compare-general`` runs each interpreter a second time with the narrow
epoch switched off, interleaved, to show what it costs to compile.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.common import rotated

CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
import numpy as np
import fastmlp
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
t_import = time.perf_counter() - t0
if sys.argv[3] == "general":
    from fastmlp.kernels.cpu import narrow
    narrow.NARROW_MAX_WIDTH = 0  # every network through the general epoch
if sys.argv[2] == "playground":
    from fastmlp.playground import make_spiral
    X, y = make_spiral(1000, noise=0.1, random_state=0, labels="binary")
    X = X.astype(sys.argv[1])
    params = dict(hidden_layer_sizes=(8, 8), activation="tanh", batch_size=10)
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(sys.argv[1])
    params = dict(hidden_layer_sizes=(128,))
warnings.simplefilter("ignore")
def timed(make):
    est = make()
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start, est.score(X, y), est.n_iter_
make = lambda: fastmlp.FastMLPClassifier(random_state=0, **params)
first, acc, _ = timed(make)
warm = sorted(timed(make)[::2] for _ in range(3))[1]
sk = [timed(lambda: MLPClassifier(random_state=0, **params))[0]]
print(json.dumps({"import_s": t_import, "first_fit_s": first, "warm_fit_s":
                  warm[0], "warm_epoch_s": warm[0] / warm[1], "sklearn_fit_s": sk[0],
                  "train_accuracy": acc, "fastmlp": fastmlp.__file__}))
"""


# The floor: what any numba implementation pays before its first fit. A fresh
# process times importing numba, compiling a trivial function (numba's own
# start-up: typing and target contexts, LLVM) and compiling the least code that
# trains the default network: one epoch of plain loops (relu hidden layer,
# softmax, log-loss, Adam; no L2, shuffle, sample weights, BLAS or vectorised
# exp), then running it once on digits.
FLOOR_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from numba import njit
t_import = time.perf_counter() - t0

t0 = time.perf_counter()
@njit
def trivial(x):
    return x + 1.0
trivial(1.0)
t_trivial = time.perf_counter() - t0

@njit(fastmath=True, error_model="numpy")
def epoch(X, Y, idx, p, g, m, v, t, lr, batch, nh, H, O):
    n, d = X.shape
    k = Y.shape[1]
    o_b1 = d * nh
    o_w2 = o_b1 + nh
    o_b2 = o_w2 + nh * k
    total = 0.0
    for s in range(0, n, batch):
        e = min(s + batch, n)
        g[:] = 0.0
        for r in range(s, e):
            i = idx[r]
            for j in range(nh):
                acc = p[o_b1 + j]
                for q in range(d):
                    acc += X[i, q] * p[q * nh + j]
                H[j] = acc if acc > 0.0 else 0.0
            mx = -1e300
            for c in range(k):
                acc = p[o_b2 + c]
                for j in range(nh):
                    acc += H[j] * p[o_w2 + j * k + c]
                O[c] = acc
                mx = max(mx, acc)
            total_exp = 0.0
            for c in range(k):
                O[c] = np.exp(O[c] - mx)
                total_exp += O[c]
            for c in range(k):
                O[c] /= total_exp
                if Y[i, c] > 0.0:
                    total -= np.log(O[c])
                O[c] -= Y[i, c]
            for c in range(k):
                g[o_b2 + c] += O[c]
                for j in range(nh):
                    g[o_w2 + j * k + c] += H[j] * O[c]
            for j in range(nh):
                if H[j] > 0.0:
                    dj = 0.0
                    for c in range(k):
                        dj += O[c] * p[o_w2 + j * k + c]
                    g[o_b1 + j] += dj
                    for q in range(d):
                        g[q * nh + j] += X[i, q] * dj
        t += 1
        lr_t = lr * np.sqrt(1.0 - 0.999**t) / (1.0 - 0.9**t)
        for q in range(p.shape[0]):
            gq = g[q] / (e - s)
            m[q] = 0.9 * m[q] + 0.1 * gq
            v[q] = 0.999 * v[q] + 0.001 * gq * gq
            p[q] -= lr_t * m[q] / (np.sqrt(v[q]) + 1e-8)
    return total / n, t

from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(sys.argv[1])
Y = np.eye(10, dtype=X.dtype)[y]
nh = 128
size = 64 * nh + nh + nh * 10 + 10
p = (0.05 * np.random.default_rng(0).normal(size=size)).astype(X.dtype)
g, m, v = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
H, O = np.zeros(nh, X.dtype), np.zeros(10, X.dtype)
t0 = time.perf_counter()
loss, _ = epoch(X, Y, np.arange(len(X)), p, g, m, v, 0, 1e-3, 200, nh, H, O)
t_epoch = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(5):
    epoch(X, Y, np.arange(len(X)), p, g, m, v, 0, 1e-3, 200, nh, H, O)
t_run = (time.perf_counter() - t0) / 5
print(json.dumps({"import_numba_s": t_import, "trivial_compile_s": t_trivial,
                  "minimal_epoch_compile_s": t_epoch - t_run,
                  "minimal_epoch_run_s": t_run, "loss": float(loss)}))
"""


def floor_sample(python, dtype):
    """The floor's measurements in one fresh process with an empty numba cache."""
    return sample(python, dtype, child=FLOOR_CHILD)


def sample(python, dtype, model="digits", epoch="narrow", child=CHILD):
    """One fresh process with an empty numba cache; returns its measurements."""
    with tempfile.TemporaryDirectory(prefix="fastmlp-cold-") as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [python, "-c", child, dtype, model, epoch],
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
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time numba's fixed start-up and the least epoch code",
    )
    parser.add_argument(
        "--model",
        choices=("digits", "playground"),
        default="digits",
        help="digits: the default (128,) net; playground: 2-8-8-1 tanh, batch 10",
    )
    parser.add_argument(
        "--compare-general",
        action="store_true",
        help="also run each python with the narrow epoch off (interleaved)",
    )
    args = parser.parse_args(argv)
    epochs = ["narrow", "general"] if args.compare_general else ["narrow"]
    pythons = [(p, e) for p in [sys.executable, *args.python] for e in epochs]
    dtypes = args.dtype.split(",")
    results = {(p, d): [] for p in pythons for d in dtypes}
    for r in range(args.rounds):
        for python, epoch in rotated(pythons, r):
            for dtype in dtypes:
                s = sample(python, dtype, args.model, epoch)
                if args.floor and python == sys.executable and epoch == "narrow":
                    s.update(floor_sample(python, dtype))
                results[(python, epoch), dtype].append(s)
                print(
                    f"round {r + 1} {python} ({epoch}) {dtype}: first fit "
                    f"{s['first_fit_s']:.2f} s, warm {s['warm_fit_s']:.3f} s",
                    file=sys.stderr,
                )
    print(
        f"{args.model}:\n\n| python | epoch | dtype | first fit s (median) |"
        " warm fit s | sklearn fit s | warm vs sklearn | import s |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for ((python, epoch), dtype), runs in results.items():
        med = {
            k: statistics.median(s[k] for s in runs)
            for k in runs[0]
            if k.endswith("_s")
        }
        print(
            f"| {python} | {epoch} | {dtype} | {med['first_fit_s']:.2f} | "
            f"{med['warm_fit_s']:.3f}"
            f" | {med['sklearn_fit_s']:.3f} | "
            f"{med['sklearn_fit_s'] / med['warm_fit_s']:.2f}x | {med['import_s']:.2f} |"
        )
    if args.floor:
        print(
            "\nfloor (fresh processes, empty cache):\n\n| dtype | import numba s |"
            " first (trivial) compile s | least epoch: compile s | its epoch vs "
            "fastmlp's warm epoch |\n| --- | ---: | ---: | ---: | ---: |"
        )
        for dtype in dtypes:
            runs = results[(sys.executable, "narrow"), dtype]
            med = {
                k: statistics.median(s[k] for s in runs)
                for k in (
                    "import_numba_s",
                    "trivial_compile_s",
                    "minimal_epoch_compile_s",
                    "minimal_epoch_run_s",
                    "warm_epoch_s",
                )
            }
            slower = med["minimal_epoch_run_s"] / med["warm_epoch_s"]
            print(
                f"| {dtype} | {med['import_numba_s']:.2f} | "
                f"{med['trivial_compile_s']:.2f} | "
                f"{med['minimal_epoch_compile_s']:.2f} | {slower:.1f}x slower |"
            )
    return results


if __name__ == "__main__":
    main()
