"""The RealMLP-style recipe against scikit-learn's default MLP, on real data.

``python -m bench.recipe [--seeds 3] [--quick]`` prints one row per data set:
held-out accuracy (classification) or R² (regression) of
``fastmlp.recipe.realmlp_classifier`` / ``realmlp_regressor`` and of
scikit-learn's default ``MLPClassifier`` / ``MLPRegressor`` after
``StandardScaler``, averaged over seeds (each seed: a 75/25 split and the
models' ``random_state``), with the mean fit time of each. The data sets ship
offline: scikit-learn's bundled ones, and tables inside statsmodels (when it
is installed): ``fair`` (extramarital affairs > 0, 6,366 rows), ``anes96``
(1996 US election vote, 944 rows), ``star98`` (share of California school
students above the national maths median, 303 rows).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bench.common import markdown_table
from fastmlp.recipe import realmlp_classifier, realmlp_regressor


def _statsmodels_sets():
    try:
        from statsmodels import datasets as sm
    except ImportError:
        return {}

    def fair():
        d = sm.fair.load_pandas().data
        return d.drop(columns="affairs").to_numpy(float), (d["affairs"] > 0).astype(int)

    def anes96():
        d = sm.anes96.load_pandas().data
        return d.drop(columns="vote").to_numpy(float), d["vote"].astype(int).to_numpy()

    def star98():
        d = sm.star98.load_pandas().data
        y = d["NABOVE"] / (d["NABOVE"] + d["NBELOW"])
        return d.drop(columns=["NABOVE", "NBELOW"]).to_numpy(float), y.to_numpy()

    return {
        "fair (statsmodels)": ("clf", fair),
        "anes96 (statsmodels)": ("clf", anes96),
        "star98 (statsmodels)": ("reg", star98),
    }


def data_sets():
    """``{name: (kind, loader)}`` of every offline set this machine has."""
    sets = {
        "breast_cancer": ("clf", lambda: datasets.load_breast_cancer(return_X_y=True)),
        "digits": ("clf", lambda: datasets.load_digits(return_X_y=True)),
        "wine": ("clf", lambda: datasets.load_wine(return_X_y=True)),
        "iris": ("clf", lambda: datasets.load_iris(return_X_y=True)),
        "diabetes": ("reg", lambda: datasets.load_diabetes(return_X_y=True)),
    }
    try:  # only when it is cached: no download
        datasets.fetch_california_housing(download_if_missing=False)
        sets["california_housing"] = (
            "reg",
            lambda: datasets.fetch_california_housing(
                return_X_y=True, download_if_missing=False
            ),
        )
    except OSError:
        pass
    sets.update(_statsmodels_sets())
    return sets


def evaluate(kind, X, y, seed, quick=False):
    """(recipe score, sklearn score, recipe fit s, sklearn fit s) for one split."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y if kind == "clf" else None
    )
    extra = {"max_iter": 5} if quick else {}
    if kind == "clf":
        ours = realmlp_classifier(random_state=seed, **extra)
        theirs = make_pipeline(
            StandardScaler(), MLPClassifier(random_state=seed, **extra)
        )
        score = accuracy_score
    else:
        ours = realmlp_regressor(random_state=seed, **extra)
        theirs = make_pipeline(
            StandardScaler(), MLPRegressor(random_state=seed, **extra)
        )
        score = r2_score
    out = []
    for model in (ours, theirs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model.fit(X_tr, y_tr)
            seconds = time.perf_counter() - start
        out.append((score(y_te, model.predict(X_te)), seconds))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5 epochs, 1 seed")
    args = parser.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    # compile (or load) the kernels once, outside the timings
    realmlp_classifier(max_iter=1).fit(*datasets.load_iris(return_X_y=True))
    rows, diffs = [], []
    for name, (kind, load) in data_sets().items():
        X, y = load()
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        runs = np.array([evaluate(kind, X, y, s, args.quick) for s in range(seeds)])
        ours, theirs, t_ours, t_theirs = runs.mean(axis=0)
        # accuracy in points (x100), R² in hundredths: the units
        diff = 100 * (ours - theirs)
        diffs.append(diff)
        metric = "accuracy" if kind == "clf" else "R²"
        rows.append(
            [name, metric, f"{X.shape[0]}x{X.shape[1]}", f"{ours:.4f}",
             f"{theirs:.4f}", f"{diff:+.2f}", f"{t_ours:.2f}", f"{t_theirs:.2f}",
             f"{t_ours / t_theirs:.2f}"]
        )  # fmt: skip
    print(
        markdown_table(
            [
                "data set",
                "metric",
                "shape",
                "recipe",
                "sklearn",
                "diff (points)",
                "recipe fit s",
                "sklearn fit s",
                "time ratio",
            ],
            rows,
            align="lllrrrrrr",
        )  # fmt: skip
    )
    print(
        f"\nmean difference {np.mean(diffs):+.2f} points (accuracy x100, R² x100), "
        f"worst {min(diffs):+.2f}; {seeds} seed(s), 75/25 splits"
    )


if __name__ == "__main__":
    main()
