"""Warm training speed of two fastmlp trees, interleaved: is a change free?

Each sample is a new interpreter that imports fastmlp from one tree, fits
every chosen workload once untimed (its kernels compiled or loaded from the
cache), then times ``--repeats`` fits of each and reports the median. Rounds
alternate the trees (A, B, B, A, ...), so both share the machine's state; the
report gives each tree's median fit seconds per workload and the ratio of
medians (B / A: above 1 is slower). The yardsticks of ``bench.run``
(scikit-learn, JAX) do not change between trees, so a ratio of fit times is
the change of fastmlp's ratio to them.

    python -m bench.before_after --a before=../base-site --b after=. \\
        --workloads all --rounds 4

A tree is a folder put first on ``PYTHONPATH`` (one holding a ``fastmlp``
package with its ``kernels`` inside, or an installed site); ``.`` means the
fastmlp this interpreter imports. Each tree gets its own numba cache folder,
kept across its rounds. ``--a-env`` / ``--b-env VAR=VALUE`` set variables for
one tree's processes: the same installed wheel with its shipped kernels and
with them ignored (``FASTMLP_SHIPPED_KERNELS=0``: compiled for this host)
compares the portable code with the host's::

    python -m bench.before_after --a host=SITE --a-env FASTMLP_SHIPPED_KERNELS=0 \\
        --b shipped=SITE --workloads all
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
import json, statistics, sys, time, warnings
import numpy as np
import fastmlp
from bench.workloads import load_workload
warnings.simplefilter("ignore")
out = {"fastmlp": fastmlp.__file__}
for name in sys.argv[1].split(","):
    w = load_workload(name, quick=sys.argv[4] == "quick")
    X = w.X_train.astype(sys.argv[3])
    make = lambda: fastmlp.FastMLPClassifier(device="cpu", **w.estimator_params())
    make().fit(X, w.y_train)  # compile or load
    times = []
    for _ in range(int(sys.argv[2])):
        est = make()
        start = time.perf_counter()
        est.fit(X, w.y_train)
        times.append(time.perf_counter() - start)
    out[name] = {"fit_s": statistics.median(times), "loss": float(est.loss_),
                 "samples_per_s": w.train_samples / statistics.median(times)}
print(json.dumps(out))
"""


def _run(tree, cache, workloads, repeats, dtype, quick=False, extra_env=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["NUMBA_CACHE_DIR"] = cache
    env.update(var.split("=", 1) for var in extra_env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [root] if tree == "." else [os.path.abspath(tree), root]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            ",".join(workloads),
            str(repeats),
            dtype,
            "quick" if quick else "full",
        ],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, metavar="NAME=TREE")
    parser.add_argument("--b", required=True, metavar="NAME=TREE")
    parser.add_argument(
        "--a-env", action="append", default=[], metavar="VAR=VALUE",
        help="environment of tree A's processes (FASTMLP_SHIPPED_KERNELS=0, say)",
    )  # fmt: skip
    parser.add_argument("--b-env", action="append", default=[], metavar="VAR=VALUE")
    parser.add_argument("--workloads", default="playground,digits")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--json", help="write every sample here")
    parser.add_argument("--quick", action="store_true", help="small workloads")
    args = parser.parse_args(argv)
    from bench.workloads import WORKLOAD_NAMES

    workloads = (
        list(WORKLOAD_NAMES) if args.workloads == "all" else args.workloads.split(",")
    )
    trees = [tuple(spec.split("=", 1)) for spec in (args.a, args.b)]
    samples = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory() as a_cache, tempfile.TemporaryDirectory() as b:
        caches = {trees[0][0]: a_cache, trees[1][0]: b}
        envs = {trees[0][0]: args.a_env, trees[1][0]: args.b_env}
        for r in range(args.rounds):
            for name, tree in rotated(trees, r):
                samples[name].append(
                    _run(
                        tree,
                        caches[name],
                        workloads,
                        args.repeats,
                        args.dtype,
                        args.quick,
                        envs[name],
                    )
                )
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    (a, _), (b, _) = trees
    print(f"{'workload':<12}{a + ' s':>14}{b + ' s':>14}{b + '/' + a:>16}  per round")
    for w in workloads:
        ta = [s[w]["fit_s"] for s in samples[a]]
        tb = [s[w]["fit_s"] for s in samples[b]]
        per_round = " ".join(f"{y / x:.3f}" for x, y in zip(ta, tb, strict=True))
        ratio = statistics.median(tb) / statistics.median(ta)
        print(
            f"{w:<12}{statistics.median(ta):>14.4f}{statistics.median(tb):>14.4f}"
            f"{ratio:>16.3f}  {per_round}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(samples, f, indent=1)


if __name__ == "__main__":
    main()
