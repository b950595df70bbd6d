"""A newcomer's first session, as whole processes: fastmlp against scikit-learn.

Each sample is a new interpreter that runs the same session with one
implementation: import, fit the default classifier on ``load_digits``
(``X / 16``, float64), a 12-point grid search (``activation`` x ``solver`` x
``alpha``, 3-fold), a scaled pipeline with early stopping, and a regressor on
``load_diabetes``. fastmlp runs twice per round: *cold* (an empty
``NUMBA_CACHE_DIR``: every kernel compiles, as in a fresh environment) and
*warm* (the cache the cold run filled). Every round runs the implementations in
a rotating order, so a ratio shares the machine's state; the report gives the
median per step over the rounds and the ratio of medians.

    python -m bench.first_session                  # 3 rounds
    python -m bench.first_session --rounds 5 --json out.json
    python -m bench.first_session --variant before=../base-site  # + another tree

``--digits-only`` stops each process after the default fit: its whole-process
time is then a script's that imports, loads digits and fits once.
``first_result`` is the seconds from the first import to the default fit's
end in every mode.

``--variant NAME=PATH`` adds a fastmlp imported from folder ``PATH`` (put
first on ``PYTHONPATH``; a folder holding a ``fastmlp`` package with its
``kernels`` inside, or an installed site: a wheel's, with its compiled
kernels), run cold and warm like the main one.
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
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
impl, quick = sys.argv[1], sys.argv[2] == "quick"
if impl == "sklearn":
    from sklearn.neural_network import MLPClassifier as Classifier
    from sklearn.neural_network import MLPRegressor as Regressor
else:
    import fastmlp
    from fastmlp import FastMLPClassifier as Classifier
    from fastmlp import FastMLPRegressor as Regressor
times = {"import_s": time.perf_counter() - t0}
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
X = X / 16
if quick:  # a smoke test: fewer rows, epochs and grid points
    X, y = X[:300], y[:300]
epochs = dict(max_iter=3) if quick else {}

def step(name, run):
    start = time.perf_counter()
    result = run()
    times[name] = time.perf_counter() - start
    return result

default = step("default_fit_s", lambda: Classifier(random_state=0, **epochs).fit(X, y))
times["first_result_s"] = time.perf_counter() - t0
if sys.argv[3] == "digits":  # the whole process is imports, data, one fit
    times["where"] = "sklearn" if impl == "sklearn" else fastmlp.__file__
    times["scores"] = [default.score(X, y)]
    print(json.dumps(times))
    sys.exit(0)
grid = GridSearchCV(
    Classifier(hidden_layer_sizes=(32,), max_iter=3 if quick else 60, random_state=0),
    {"activation": ["relu", "tanh"] if quick else ["relu", "tanh", "logistic"],
     "solver": ["adam", "sgd"], "alpha": [1e-4] if quick else [1e-4, 1e-2]},
    cv=3,
)
step("grid_12x3_s", lambda: grid.fit(X, y))
pipe = make_pipeline(
    StandardScaler(), Classifier(early_stopping=True, random_state=0, **epochs)
)
step("pipeline_s", lambda: pipe.fit(X, y))
Xd, yd = load_diabetes(return_X_y=True)
reg = make_pipeline(
    StandardScaler(), Regressor(max_iter=3 if quick else 300, random_state=0)
)
step("regressor_s", lambda: reg.fit(Xd, yd))
times["session_s"] = time.perf_counter() - t0
times["scores"] = [default.score(X, y), grid.best_score_, pipe.score(X, y),
                   reg.score(Xd, yd)]
times["where"] = "sklearn" if impl == "sklearn" else fastmlp.__file__
print(json.dumps(times))
"""

STEPS = ("import_s", "default_fit_s", "grid_12x3_s", "pipeline_s", "regressor_s")


def run_child(impl, cache_dir=None, pythonpath=None, quick=False, digits=False):
    """One session in a new interpreter; its JSON line, with the process's
    own wall seconds (interpreter start-up included) as ``process_s``."""
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(
            [pythonpath, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            impl,
            "quick" if quick else "full",
            "digits" if digits else "session",
        ],
        env=env,
        # not the repository root: its fastmlp/ folder would shadow PYTHONPATH
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{impl} session failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write every sample to this file")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: small data, 3 epochs"
    )
    parser.add_argument(
        "--digits-only",
        action="store_true",
        help="each process imports, loads digits, fits the default model, exits",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another fastmlp tree to run cold and warm beside this one",
    )
    args = parser.parse_args(argv)
    fastmlps = [("fastmlp", None)] + [tuple(v.split("=", 1)) for v in args.variant]
    arms = [("sklearn", None, None)]
    for name, path in fastmlps:
        arms.append((name, path, "cold+warm"))
    samples = {}
    for r in range(args.rounds):
        order = arms[r % len(arms) :] + arms[: r % len(arms)]
        for name, path, kind in order:
            if kind is None:
                samples.setdefault("sklearn", []).append(
                    run_child("sklearn", quick=args.quick, digits=args.digits_only)
                )
                continue
            with tempfile.TemporaryDirectory(prefix="fastmlp-first-") as cache:
                cold = run_child("fastmlp", cache, path, args.quick, args.digits_only)
                warm = run_child("fastmlp", cache, path, args.quick, args.digits_only)
            samples.setdefault(f"{name} cold", []).append(cold)
            samples.setdefault(f"{name} warm", []).append(warm)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    def median(arm, key):
        return statistics.median(s[key] for s in samples[arm])

    steps = STEPS[:2] if args.digits_only else (*STEPS, "session_s")
    keys = (*steps, "first_result_s", "process_s")
    header = f"{'arm':<22}" + "".join(f"{k[:-2]:>14}" for k in keys)
    print(header)
    for arm in samples:
        print(f"{arm:<22}" + "".join(f"{median(arm, k):>14.2f}" for k in keys))
    print("\nratio to scikit-learn (median seconds / scikit-learn's; < 1 is faster)")
    for arm in samples:
        if arm == "sklearn":
            continue
        ratios = [median(arm, k) / median("sklearn", k) for k in keys]
        print(f"{arm:<22}" + "".join(f"{x:>14.2f}" for x in ratios))
    scores = {arm: samples[arm][0]["scores"] for arm in samples}
    print(
        "\nscores (default fit train acc[, grid best cv, pipeline acc, regressor R2]):"
    )
    for arm, s in scores.items():
        print(f"  {arm:<20} " + " ".join(f"{v:.3f}" for v in s))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(samples, f, indent=1)


if __name__ == "__main__":
    main()
