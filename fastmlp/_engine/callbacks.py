"""scikit-learn 1.9's callback hooks (``sklearn.callback``) around a fit.

An estimator that has ``_init_callback_context`` (scikit-learn's
``CallbackSupportMixin``, where ``sklearn.callback`` exists) gets a root
task for the fit and, only when callbacks are set on it or propagated to it
by a meta-estimator, one subtask per epoch (or L-BFGS iteration). Each
subtask's end hook gets a ``fitted_estimator`` built lazily from a snapshot of
the weights, so a ``ScoringMonitor`` scores the model as if fit had stopped
there; a hook returning True stops the fit after that epoch. Without
callbacks nothing runs per epoch: the compiled whole-epoch path is untouched.
"""

from .weights import unpack


class FitHooks:
    """The callback context of one fit (inactive without ``sklearn.callback``).

    Parameters
    ----------
    est : estimator
        The estimator being fitted (its weights are snapshotted for hooks).
    X, y : array-like
        The training data and targets as the user passed the targets (labels,
        not their 0/1 matrix), which scorers receive.
    sample_weight : array-like or None
        Passed to the hooks as ``metadata``.
    max_subtasks : int
        Upper bound of the subtasks (epochs, iterations) of the fit.
    """

    def __init__(self, est, X, y, sample_weight, max_subtasks):
        self.est, self.X, self.y = est, X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        init = getattr(est, "_init_callback_context", None)
        self.ctx = None if init is None else init(max_subtasks=max_subtasks)
        self.active = self.ctx is not None and bool(
            getattr(est, "_skl_callbacks", None) or hasattr(est, "_parent_callback_ctx")
        )
        if self.ctx is not None:
            self.ctx.call_on_fit_task_begin(
                estimator=est, X=X, y=y, metadata=self.metadata
            )

    def _hook_args(self, weights):
        def snapshot():
            if weights is None:
                coefs = [c.copy() for c in self.est.coefs_]
                intercepts = [b.copy() for b in self.est.intercepts_]
            else:
                coefs, intercepts = unpack(weights.copy(), self.est._layer_units)
            return {"coefs_": coefs, "intercepts_": intercepts}

        return {
            "estimator": self.est,
            "X": self.X,
            "y": self.y,
            "metadata": self.metadata,
            "reconstruction_attributes": snapshot,  # evaluated only if asked for
        }

    def step_begin(self, name, weights=None):
        """Begin subtask ``name`` (an epoch); None when no callback listens."""
        if not self.active:
            return None
        sub = self.ctx.subcontext(task_name=name)
        sub.call_on_fit_task_begin(**self._hook_args(weights))
        return sub

    def step_end(self, sub, weights=None):
        """End subtask ``sub``; True when a callback asks the fit to stop."""
        if sub is None:
            return False
        return bool(sub.call_on_fit_task_end(**self._hook_args(weights)))

    def end(self):
        """End the fit's root task, with the final weights."""
        if self.ctx is not None:
            self.ctx.call_on_fit_task_end(**self._hook_args(None))
