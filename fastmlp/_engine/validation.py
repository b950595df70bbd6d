"""Held-out data of early stopping: its loss, its score, the best epoch.

The validation set is either split off the training data
(``validation_fraction``, scikit-learn's way) or passed to ``fit`` as
``X_val``/``y_val`` (scikit-learn's gradient boosting's way). Every epoch one
forward pass over it gives the validation loss (``validation_loss_curve_``)
and the score early stopping watches (``validation_scores_``).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring

from .predict import network_output


@dataclass
class ValidationSet:
    """Held-out data of one fit.

    ``X`` (n_val, n_features), validated, in the training dtype; ``Y`` the
    numeric targets the network is trained on (n_val, n_outputs: the 0/1
    binarized labels of a classifier); ``labels`` what a score compares
    predictions with (the classes as given for a classifier); ``sample_weight``
    (n_val,) or None.
    """

    X: object
    Y: np.ndarray
    labels: np.ndarray
    sample_weight: np.ndarray | None = None


def data_loss(loss_name, Y, output, sample_weight=None):
    """scikit-learn's MLP loss of ``output`` against ``Y``, without penalties.

    The formulas of ``sklearn.neural_network._base`` (``squared_loss``,
    ``poisson_loss``, ``log_loss``, ``binary_log_loss``): weighted means over
    the rows, summed (log-losses, Poisson) or averaged (squared error) over
    the outputs.
    """
    Y = np.asarray(Y, dtype=output.dtype)
    if loss_name == "squared_error":
        return float(
            0.5 * np.average((Y - output) ** 2, weights=sample_weight, axis=0).mean()
        )
    if loss_name == "poisson":
        return float(
            np.average(
                xlogy(Y, Y / output) - Y + output, weights=sample_weight, axis=0
            ).sum()
        )
    eps = np.finfo(output.dtype).eps
    prob = np.clip(output, eps, 1 - eps)
    if loss_name == "binary_log_loss":
        per_row = xlogy(Y, prob) + xlogy(1 - Y, 1 - prob)
    else:  # "log_loss": softmax outputs against one-hot rows
        per_row = xlogy(Y, prob)
    return float(-np.average(per_row, weights=sample_weight, axis=0).sum())


def loss_name(est):
    """The name of the loss ``est`` trains with (binary for logistic outputs)."""
    if is_classifier(est):
        return "log_loss" if est.out_activation_ == "softmax" else "binary_log_loss"
    return est.loss


def make_scorer(est):
    """What early stopping maximises, from ``est.scoring``.

    None: the estimator's own ``score`` (accuracy or R², scikit-learn's MLP);
    ``"loss"``: minus the validation loss; a scorer name or callable:
    ``sklearn.metrics.check_scoring``'s scorer, called ``scorer(est, X, y)``.
    """
    if est.scoring is None or est.scoring == "loss":
        return None
    return check_scoring(est, scoring=est.scoring)


def evaluate(est, validation, scorer):
    """One epoch's validation loss and score (higher is better)."""
    output = network_output(est, validation.X)
    loss = data_loss(loss_name(est), validation.Y, output, validation.sample_weight)
    if est.scoring == "loss":
        return loss, -loss
    if scorer is None:
        return loss, est._score_from_output(
            output, validation.labels, validation.sample_weight
        )
    if validation.sample_weight is None:
        return loss, float(scorer(est, validation.X, validation.labels))
    return loss, float(
        scorer(
            est,
            validation.X,
            validation.labels,
            sample_weight=validation.sample_weight,
        )
    )
