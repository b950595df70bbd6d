"""Accuracy parity with scikit-learn: ``python -m bench.parity``.

For every dataset that ships inside scikit-learn and every solver, fit
fastmlp and scikit-learn with the same parameters over 5 seeds (the seed
drives both the split and the model) and report mean held-out scores:
accuracy for classifiers, R^2 for regressors. Writes ``parity.md`` and
``parity.json`` to ``--out``.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor

CLASSIFICATION = {
    "digits": datasets.load_digits,
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}
REGRESSION = {
    "diabetes": datasets.load_diabetes,
    "linnerud": datasets.load_linnerud,
}
SOLVERS = ("adam", "sgd", "lbfgs")


def load(name):
    """``(X, y, is_classification)`` of a dataset; regression y standardised."""
    if name in CLASSIFICATION:
        X, y = CLASSIFICATION[name](return_X_y=True)
        return X, y, True
    X, y = REGRESSION[name](return_X_y=True)
    # Standardised targets: the MLP regressors train on unscaled y poorly
    # (diabetes' y is in the hundreds), for both libraries alike.
    y = (y - y.mean(axis=0)) / y.std(axis=0)
    return X, y, False


def score_pair(name, solver, seed, params):
    """Held-out scores of fastmlp and scikit-learn for one dataset/solver/seed."""
    X, y, is_clf = load(name)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y if is_clf else None
    )
    fast_cls, sk_cls = (
        (FastMLPClassifier, MLPClassifier)
        if is_clf
        else (FastMLPRegressor, MLPRegressor)
    )
    scores, seconds = [], []
    for cls in (fast_cls, sk_cls):
        model = make_pipeline(
            StandardScaler(), cls(solver=solver, random_state=seed, **params)
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_tr, y_tr)
        seconds.append(time.perf_counter() - start)
        scores.append(model.score(X_te, y_te))
    return scores, seconds


def run(names, solvers, seeds, params, progress=True):
    """Rows of mean scores per dataset and solver."""
    rows = []
    for name in names:
        for solver in solvers:
            fast, sk, t_fast, t_sk = [], [], [], []
            for seed in seeds:
                (a, b), (ta, tb) = score_pair(name, solver, seed, params)
                fast.append(a)
                sk.append(b)
                t_fast.append(ta)
                t_sk.append(tb)
            row = {
                "dataset": name,
                "solver": solver,
                "metric": "accuracy" if name in CLASSIFICATION else "R^2",
                "fastmlp": float(np.mean(fast)),
                "sklearn": float(np.mean(sk)),
                "difference": float(np.mean(fast) - np.mean(sk)),
                "fastmlp_fit_s": float(np.sum(t_fast)),
                "sklearn_fit_s": float(np.sum(t_sk)),
            }
            rows.append(row)
            if progress:
                print(
                    f"{name:14s} {solver:6s} fastmlp {row['fastmlp']:.4f} "
                    f"sklearn {row['sklearn']:.4f}",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def to_markdown(rows, seeds, params):
    lines = [
        f"Mean held-out score over seeds {list(seeds)} (25% test split, "
        f"StandardScaler, parameters {params}, otherwise scikit-learn defaults).",
        "",
        "| dataset | solver | metric | fastmlp | scikit-learn | difference | "
        "fit s fastmlp | fit s sklearn |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['solver']} | {r['metric']} | {r['fastmlp']:.4f} | "
            f"{r['sklearn']:.4f} | {r['difference']:+.4f} | {r['fastmlp_fit_s']:.2f} | "
            f"{r['sklearn_fit_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join([*CLASSIFICATION, *REGRESSION]))
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    params = {"max_iter": args.max_iter}
    rows = run(args.datasets.split(","), args.solvers.split(","), seeds, params)
    text = to_markdown(rows, seeds, params)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "parity.md").write_text(text)
    (out / "parity.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
