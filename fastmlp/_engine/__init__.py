"""The training engine: weights, solver state, training loops and prediction.

The estimators (:mod:`fastmlp._mlp`) validate and orchestrate; the engine owns
the state of a fit (flat parameter vector, optimizer moments, work buffers),
the training loops and the prediction pass, and calls the backend's kernels:
``train_epoch`` once per epoch, so no Python runs per minibatch.

==============  ============================================================
``weights``     initial weights; the flat vector and its per-layer views
``epochs``      optimizer state and schedules; one compiled epoch per call
``schedules``   ``lr_schedule``'s factor on the learning rate, per epoch
``stochastic``  the sgd/adam loop: early stopping, n_iter_no_change, stops
``validation``  early stopping's held-out data: its loss and score per epoch
``lbfgs``       L-BFGS-B over one compiled loss/gradient call
``callbacks``   scikit-learn 1.9's callback hooks: a subtask per epoch
``predict``     the forward pass, split over threads for large inputs
==============  ============================================================
"""

from .callbacks import FitHooks
from .epochs import EpochRunner, OptimizerState
from .lbfgs import fit_lbfgs
from .predict import (
    PARALLEL_MIN_ROWS,
    as_csr,
    cpu_forward,
    network_output,
    prediction_threads,
)
from .stochastic import fit_stochastic, start_optimizer
from .validation import ValidationSet
from .weights import (
    WEIGHT_INITS,
    glorot_init,
    he_normal_init,
    initial_params,
    is_packed_view,
    pack,
    playground_init,
    unpack,
    zeros_init,
)

__all__ = [
    "PARALLEL_MIN_ROWS",
    "WEIGHT_INITS",
    "EpochRunner",
    "FitHooks",
    "OptimizerState",
    "ValidationSet",
    "as_csr",
    "cpu_forward",
    "fit_lbfgs",
    "fit_stochastic",
    "glorot_init",
    "he_normal_init",
    "initial_params",
    "is_packed_view",
    "network_output",
    "pack",
    "playground_init",
    "prediction_threads",
    "start_optimizer",
    "unpack",
    "zeros_init",
]
