"""The stochastic solvers' state and one compiled epoch per call."""

import numpy as np
import scipy.sparse as sp

from ..kernels import ACTIVATION_CODES, SOLVER_CODES, workspace_size
from .schedules import schedule_factor


class OptimizerState:
    """Moments and schedule of the stochastic solvers, over the flat vector.

    Mirrors scikit-learn's ``SGDOptimizer``/``AdamOptimizer``: ``learning_rate``
    changes at epoch ends (``invscaling``) or on a plateau (``adaptive``), Adam
    counts its own steps. fastmlp's ``schedule`` (the estimators'
    ``lr_schedule``, :mod:`.schedules`) multiplies that rate by a factor per
    epoch over ``horizon`` epochs; ``epochs`` counts the epochs run (kept
    across ``partial_fit`` calls).
    """

    def __init__(
        self,
        solver,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule,
        power_t,
        schedule=None,
        warmup=None,
        horizon=1,
    ):
        self.solver = solver
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.power_t = power_t
        self.schedule = schedule
        self.warmup = warmup
        self.horizon = int(horizon)
        self.epochs = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params if solver == "adam" else 0, dtype=dtype)
        self.step = np.zeros(1, dtype=np.int64)

    def epoch_learning_rate(self):
        """The rate the next epoch steps with: ``learning_rate``, times the
        schedule's factor when there is one (exactly ``learning_rate`` without)."""
        schedule = getattr(self, "schedule", None)  # older pickles have none
        if schedule is None:
            return self.learning_rate
        factor = schedule_factor(schedule, self.epochs, self.horizon, self.warmup)
        return self.learning_rate * factor

    def iteration_ends(self, time_step):
        """Per-epoch schedule update (sgd ``invscaling``), as scikit-learn."""
        self.epochs = getattr(self, "epochs", 0) + 1
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """Stop (True) or, for sgd ``adaptive``, divide the rate by 5 (False)."""
        if self.solver != "sgd" or self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"{msg} Setting learning rate to {self.learning_rate:f}")
        return False


class EpochRunner:
    """Buffers of one fit and the call of the backend's ``train_epoch``.

    Everything the kernels touch is allocated here, once per fit, and placed
    with the backend's ``to_device`` (the identity on the CPU): on a GPU the
    data is uploaded once, and the weights and optimizer moments are uploaded
    at the first epoch and stay resident. After each epoch the weights are
    copied back into the caller's host vector (so early stopping, divergence
    checks and ``coefs_`` see them); the moments come back in
    :meth:`sync_optimizer`, once, at the end of the fit.
    """

    def __init__(
        self,
        backend,
        X,
        Y,
        sample_weight,
        layer_units,
        activation,
        out_activation,
        loss_code,
        batch_size,
        verbose=False,
        options=None,
    ):
        self.backend = backend
        # fastmlp's own training options the CPU epoch takes by keyword
        # (weight_decay); empty for scikit-learn's configurations
        self.options = dict(options or {})
        up = backend.to_device
        dtype = X.dtype
        # CSR input stays sparse: its arrays go to the backend's *_sparse kernels.
        self.csr = (X.indptr, X.indices, X.data) if sp.issparse(X) else None
        self.X = None if self.csr else up(np.ascontiguousarray(X))
        self.Y = up(np.ascontiguousarray(Y, dtype=dtype))
        self.sw = up(
            np.empty(0, dtype=dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype=dtype)
        )
        # The CPU kernels take their inputs read-only (one compiled signature
        # for memory-mapped and in-memory data): the views are made once per
        # fit here instead of at every epoch.
        readonly = getattr(backend, "readonly", None)
        if readonly is not None:
            if self.csr is not None:
                self.csr = tuple(readonly(a) for a in self.csr)
            else:
                self.X = readonly(self.X)
            self.Y, self.sw = readonly(self.Y), readonly(self.sw)
        self.layer_sizes = np.asarray(layer_units, dtype=np.int64)
        self.hidden = ACTIVATION_CODES[activation]
        self.output = ACTIVATION_CODES[out_activation]
        self.loss = loss_code
        self.batch_size = int(batch_size)
        self.sample_idx = up(np.arange(X.shape[0], dtype=np.int64))
        size = workspace_size(layer_units, batch_size)
        self.act_buf = up(np.empty(size, dtype=dtype))
        self.delta_buf = up(np.empty(size, dtype=dtype))
        self._resident = None  # (params, grads, m, v) as the backend holds them
        supported = getattr(backend, "fused_mlp_supported", None)
        if verbose and supported is not None and not supported(layer_units):
            print(
                "fastmlp: a layer is wider than the fused MLP kernel allows; "
                "training with the tiled GPU kernels."
            )

    def run(self, params, grads, state, hyper, seed, dropout_seed=None):
        """One epoch; returns scikit-learn's epoch loss. ``dropout_seed``
        (with a ``dropout`` option) seeds this epoch's dropout masks."""
        if self._resident is None:
            up = self.backend.to_device
            self._resident = (up(params), up(grads), up(state.m), up(state.v))
        d_params, d_grads, d_m, d_v = self._resident
        common = (
            self.sample_idx,
            seed,
            d_params,
            d_grads,
            self.layer_sizes,
            self.hidden,
            self.output,
            self.loss,
            self.batch_size,
            SOLVER_CODES[state.solver],
            hyper,
            d_m,
            d_v,
            state.step,
            self.act_buf,
            self.delta_buf,
        )
        # Subnormals flushed to zero during the epoch (CPU backend, x86): they
        # slow late epochs of long fits several times over.
        enter = getattr(self.backend, "flush_denormals_enter", None)
        saved = enter() if enter is not None else None
        options = self.options
        if dropout_seed is not None:
            options = {**options, "dropout_seed": dropout_seed}
        try:
            if self.csr is not None:
                loss = self.backend.train_epoch_sparse(
                    *self.csr, self.Y, self.sw, *common, **options
                )
            else:
                loss = self.backend.train_epoch(
                    self.X, self.Y, self.sw, *common, **options
                )
        finally:
            if saved is not None:
                self.backend.flush_denormals_exit(saved)
        if d_params is not params:
            params[:] = self.backend.to_host(d_params)
        return loss

    def sync_optimizer(self, state):
        """Copy the optimizer moments back to ``state`` (no-op on the CPU)."""
        if self._resident is None:
            return
        _, _, d_m, d_v = self._resident
        if d_m is not state.m:
            state.m[:] = self.backend.to_host(d_m)
        if d_v is not state.v:
            state.v[:] = self.backend.to_host(d_v)
