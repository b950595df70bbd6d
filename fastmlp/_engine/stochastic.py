"""The stochastic solvers' loop: epochs, early stopping, schedules, stopping."""

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split

from .._config import get_config
from ..exceptions import ConvergenceWarning
from .epochs import EpochRunner, OptimizerState
from .interrupts import DeferredInterrupt
from .validation import ValidationSet, evaluate, make_scorer


def start_optimizer(est, params, incremental):
    """The optimizer state a stochastic fit begins with, set on ``est``.

    ``params`` is the flat weight vector the fit trains (its size and dtype
    size the moments).

    A new one (zero moments, the initial learning rate) unless ``partial_fit``
    goes on with the one it has: scikit-learn's rule, applied where its
    ``_fit_stochastic`` applies it, before the checks that can still fail
    (early stopping's split, a y that is not numeric), so that a failed fit
    leaves the same optimizer state behind for a later ``partial_fit``.
    """
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = OptimizerState(
            est.solver,
            params.size,
            params.dtype,
            est.learning_rate_init,
            est.learning_rate,
            est.power_t,
            schedule=getattr(est, "lr_schedule", None),
            warmup=getattr(est, "lr_warmup", None),
            horizon=est.max_iter,
        )
    return est._optimizer


def training_options(est, layer_units):
    """The epoch's options beyond scikit-learn's, only those set (so a
    scikit-learn configuration calls the backend exactly as before)."""
    options = {}
    if getattr(est, "weight_decay", 0.0):
        options["weight_decay"] = float(est.weight_decay)
    rates = est._dropout_rates(len(layer_units) - 2)
    if rates is not None:
        options["dropout"] = np.array(rates, dtype=np.float64)
    return options


def fit_stochastic(
    est,
    backend,
    X,
    y,
    sample_weight,
    layer_units,
    incremental,
    hooks=None,
    validation=None,
):
    """Epochs of sgd or adam, each one compiled ``train_epoch`` call.

    ``est`` is the estimator: its parameters, and the fitted state this
    updates (the weights in place, ``n_iter_``, ``t_``, ``loss_``,
    ``loss_curve_``, the early-stopping scores and the optimizer state kept
    for ``partial_fit``). ``incremental`` runs one epoch (``partial_fit``).
    ``hooks`` (:class:`~fastmlp._engine.callbacks.FitHooks`) gets one
    subtask per epoch; a callback asking to stop ends the fit after it.
    ``validation`` (:class:`~fastmlp._engine.validation.ValidationSet`), the
    held-out data passed to ``fit``, replaces early stopping's split.
    """
    params = est._params_vector()
    if params is not est._packed:
        est._set_params_vector(params)
    opt = start_optimizer(est, params, incremental)

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if validation is not None:
        X_train, y_train, sw_train = X, y, sample_weight
    elif early_stopping:
        # scikit-learn stratifies on its binarized labels as bool: its error
        # for a class of one member names it 'True' or 'False'
        stratify = (
            y.astype(bool) if is_classifier(est) and est.n_outputs_ == 1 else None
        )
        arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
        split = train_test_split(
            *arrays,
            random_state=est._random_state,
            test_size=est.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = split[:4]
        sw_train, sw_val = (None, None) if sample_weight is None else split[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        labels = (
            est._label_binarizer.inverse_transform(y_val)
            if is_classifier(est)
            else y_val
        )
        validation = ValidationSet(X_val, y_val, labels, sw_val)
    else:
        X_train, y_train, sw_train = X, y, sample_weight
    # the classifier's label_smoothing: the training part only
    y_train = est._training_targets(y_train)
    scorer = None
    if early_stopping:
        scorer = make_scorer(est)
        if getattr(est, "validation_loss_curve_", None) is None:
            est.validation_loss_curve_ = []

    n_samples = X_train.shape[0]
    if est.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if est.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=3,
            )
        batch_size = int(np.clip(est.batch_size, 1, n_samples))

    runner = EpochRunner(
        backend,
        X_train,
        y_train,
        sw_train,
        layer_units,
        est.activation,
        est.out_activation_,
        est._loss_code(),
        batch_size,
        verbose=est.verbose,
        options=training_options(est, layer_units),
    )
    grads = np.empty_like(params)
    dtype = params.dtype.type

    # scikit-learn goes on after a non-finite epoch loss (and _fit raises at
    # the end if the weights are non-finite); strict stops at once.
    strict = get_config()["strict"]
    est.n_iter_ = 0
    interrupts = DeferredInterrupt()
    try:
        with interrupts:
            for _ in range(est.max_iter):
                epoch = hooks.step_begin("epoch") if hooks is not None else None
                hyper = np.array(
                    [
                        opt.epoch_learning_rate(),
                        est.momentum,
                        float(est.nesterovs_momentum),
                        est.beta_1,
                        est.beta_2,
                        est.epsilon,
                        est.alpha,
                        # the Playground's estimators clip L1 at 0 (l1 < 0)
                        -est.l1 if getattr(est, "_l1_clips", False) else est.l1,
                    ],
                    dtype=dtype,
                )
                seed = (
                    int(est._random_state.randint(0, 2**31 - 1)) if est.shuffle else -1
                )
                # dropout's masks: one more draw per epoch, after the shuffle's
                masks = {}
                if "dropout" in runner.options:
                    masks["dropout_seed"] = int(est._random_state.randint(0, 2**31 - 1))
                backup = params.copy() if strict else None
                loss = runner.run(params, grads, opt, hyper, seed, **masks)
                if strict and not np.isfinite(loss):
                    # Keep the last finite weights: nothing the user had is lost.
                    params[:] = backup
                    raise ValueError(
                        f"Training diverged at epoch {est.n_iter_ + 1}: the loss is "
                        f"{loss}. Solver produced non-finite parameter weights; lower "
                        "learning_rate_init or scale the input data."
                    )
                est.n_iter_ += 1
                est.loss_ = float(loss)
                est.t_ += n_samples
                est.loss_curve_.append(est.loss_)
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")

                _update_no_improvement_count(est, early_stopping, validation, scorer)
                opt.iteration_ends(est.t_)
                # A Ctrl-C during this epoch stops here, with the state complete.
                interrupts.check()
                if hooks is not None and hooks.step_end(epoch):
                    break  # a callback said stop: after a complete epoch

                if est._no_improvement_count > est.n_iter_no_change:
                    what = "Validation score" if early_stopping else "Training loss"
                    msg = (
                        f"{what} did not improve more than tol={est.tol:f} for "
                        f"{est.n_iter_no_change} consecutive epochs."
                    )
                    if opt.trigger_stopping(msg, est.verbose):
                        break
                    est._no_improvement_count = 0

                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=3)
    # Optimizer moments resident on a GPU come back once (partial_fit goes on).
    runner.sync_optimizer(opt)

    if early_stopping:
        params[:] = est._best_params


def _update_no_improvement_count(est, early_stopping, validation, scorer):
    if early_stopping:
        loss, score = evaluate(est, validation, scorer)
        est.validation_loss_curve_.append(loss)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_params = est._packed.copy()
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]
