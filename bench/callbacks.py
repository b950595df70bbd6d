"""Cost of scikit-learn's callbacks per epoch, against a fit without any.

The digits workload (64-128-10 relu, batch 64, float32, 30 epochs, adam) fitted
without callbacks, with a no-op ``FitCallback`` (the hook machinery alone),
and with ``ScoringMonitor(scoring="accuracy")`` (which predicts the training
set every epoch); interleaved repeats, medians, per-epoch overhead in ms.

    python -m bench.callbacks [--repeats 5]
"""

import argparse
import statistics
import time
import warnings

from bench.common import rotated


class NoOp:
    """A callback that does nothing: the cost of the hooks themselves."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import numpy as np
    from sklearn.callback import ScoringMonitor
    from sklearn.datasets import load_digits

    from fastmlp import FastMLPClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    epochs = 30
    setups = {
        "no callbacks": lambda: (),
        "no-op callback": lambda: (NoOp(),),
        "ScoringMonitor": lambda: (ScoringMonitor(scoring="accuracy"),),
    }

    def fit(callbacks):
        clf = FastMLPClassifier(
            (128,), batch_size=64, max_iter=epochs, tol=0, random_state=0
        )
        if callbacks:
            clf.set_callbacks(*callbacks)
        start = time.perf_counter()
        clf.fit(X, y)
        return time.perf_counter() - start

    warnings.simplefilter("ignore")
    fit(())  # compile or load the kernels
    times = {name: [] for name in setups}
    for r in range(args.repeats):
        for name in rotated(setups, r):
            times[name].append(fit(setups[name]()))
    base = statistics.median(times["no callbacks"])
    print("| callbacks | fit s (median) | per epoch ms | overhead per epoch ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"| {name} | {med:.4f} | {1e3 * med / epochs:.3f} | "
            f"{1e3 * (med - base) / epochs:+.3f} |"
        )


if __name__ == "__main__":
    main()
