"""scikit-learn 1.9's callbacks (``sklearn.callback``) on fastmlp's fits."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import FastMLPClassifier, FastMLPRegressor

callback = pytest.importorskip("sklearn.callback")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # ConvergenceWarning

X, y = load_digits(return_X_y=True)
X = X / 16


class Recorder:
    """A FitCallback that records every task and can ask to stop."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name, context.task_id))
        if fitted_estimator is not None and context.task_name != "fit":
            self.events.append(("n_iter", fitted_estimator.coefs_[0].sum()))
        done = [e for e in self.events if e[:2] == ("end", "epoch")]
        return self.stop_after is not None and len(done) >= self.stop_after


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(*args, **kwargs)


def weights(est):
    return np.concatenate([w.ravel() for w in est.coefs_ + est.intercepts_])


def test_scoring_monitor_scores_each_epoch_as_if_fit_stopped_there():
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = FastMLPClassifier((16,), max_iter=4, random_state=0).set_callbacks(monitor)
    quiet_fit(clf, X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert [r["task_id"] for r in epochs] == [0, 1, 2, 3]
    for r in epochs:
        stopped = quiet_fit(
            FastMLPClassifier((16,), max_iter=r["task_id"] + 1, random_state=0), X, y
        )
        assert r["accuracy"] == stopped.score(X, y)
    (final,) = [r for r in rows if r["task_name"] == "fit"]
    assert final["accuracy"] == clf.score(X, y) == epochs[-1]["accuracy"]


@pytest.mark.parametrize("cls", [FastMLPClassifier, FastMLPRegressor])
def test_a_callback_that_says_stop_ends_the_fit_after_that_epoch(cls):
    target = y if cls is FastMLPClassifier else X @ np.linspace(-1, 1, 64)
    rec = Recorder(stop_after=3)
    est = cls(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    quiet_fit(est.set_callbacks(rec), X, target)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    assert est.t_ == 3 * X.shape[0]
    same = quiet_fit(
        cls(hidden_layer_sizes=(8,), max_iter=3, random_state=0), X, target
    )
    np.testing.assert_array_equal(weights(est), weights(same))
    assert rec.events[0] == ("setup", "fit") and rec.events[-1] == ("teardown", "fit")
    # The callback machinery leaves nothing on the estimator.
    assert not [k for k in vars(est) if "callback_fit_ctx" in k or "teardown" in k]


def test_lbfgs_iterations_are_subtasks_and_can_be_stopped():
    rec = Recorder()
    clf = FastMLPClassifier((8,), solver="lbfgs", max_iter=6, random_state=0)
    quiet_fit(clf.set_callbacks(rec), X, y)
    ends = [e for e in rec.events if e[:2] == ("end", "lbfgs-iter")]
    assert len(ends) == clf.n_iter_ + 1  # the one begun after the last never ran

    class StopAtTwo(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            super().on_fit_task_end(estimator, context)
            return sum(e[:2] == ("end", "lbfgs-iter") for e in self.events) >= 2

    clf = FastMLPClassifier((8,), solver="lbfgs", max_iter=50, random_state=0)
    quiet_fit(clf.set_callbacks(StopAtTwo()), X, y)
    assert clf.n_iter_ == 2


def test_callbacks_propagate_from_a_search_and_a_pipeline():
    class Counting(Recorder, callback.AutoPropagatedCallback):
        max_propagation_depth = 3

    rec = Counting()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), FastMLPClassifier((8,), max_iter=2)),
        {"fastmlpclassifier__alpha": [1e-4, 1e-2]},
        cv=2,
    )
    quiet_fit(search.set_callbacks(rec), X, y)
    epoch_ends = [e for e in rec.events if e[:2] == ("end", "epoch")]
    # 2 candidates x 2 folds + the refit, 2 epochs each, all seen.
    assert len(epoch_ends) == (2 * 2 + 1) * 2


def test_no_callbacks_means_no_per_epoch_work():
    from fastmlp._engine import FitHooks

    clf = FastMLPClassifier((8,), max_iter=2)
    hooks = FitHooks(clf, X, y, None, 2)
    assert not hooks.active and hooks.step_begin("epoch") is None
    assert hooks.step_end(None) is False


def test_progress_bar_shows_the_epochs_of_a_fit_and_of_a_search(capsys):
    pytest.importorskip("rich")
    clf = FastMLPClassifier((8,), max_iter=3, random_state=0)
    quiet_fit(clf.set_callbacks(callback.ProgressBar()), X, y)
    search = GridSearchCV(
        FastMLPClassifier((8,), max_iter=2), {"alpha": [1e-4, 1e-2]}, cv=2
    )
    quiet_fit(search.set_callbacks(callback.ProgressBar(max_propagation_depth=2)), X, y)
    out = capsys.readouterr().out
    assert "FastMLPClassifier - fit" in out
    assert "GridSearchCV - fit" in out and "FastMLPClassifier - fit #3" in out
