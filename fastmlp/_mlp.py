"""FastMLPClassifier and FastMLPRegressor: scikit-learn's MLPs on fast kernels."""

import functools
import numbers
import warnings
from typing import Self, TypeAlias

import numpy as np
import scipy.sparse as sp
import sklearn
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _engine

try:  # scikit-learn >= 1.9: fit progress and steering through callbacks
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    _CALLBACK_BASES: tuple[type, ...] = (CallbackSupportMixin,)
except ImportError:  # scikit-learn 1.6-1.8: no callbacks, nothing else changes
    _CALLBACK_BASES = ()

    def with_callbacks(method):
        return method


from ._backend import batch_rows, get_backend, resolve_device
from ._config import get_config
from ._params import (
    CLASSIFIER_CONSTRAINTS,
    MLP_CONSTRAINTS,
    Interval,
    Options,
    validate_params,
)
from .kernels import ACTIVATION_CODES, LOSS_CODES, PIECE_ONLY_ACTIVATIONS

#: What ``fit`` and ``predict`` take as X: dense array-likes or scipy sparse.
MatrixLike: TypeAlias = ArrayLike | sp.spmatrix | sp.sparray

_STOCHASTIC_SOLVERS = ("sgd", "adam")


def _skip_nested_validation(fit):
    """Run ``fit`` as scikit-learn's ``_fit_context`` does: the functions it
    calls (``train_test_split``, the scorers) skip their parameter checks,
    so that, say, ``validation_fraction=0.0`` fails with train_test_split's
    ValueError, not with its InvalidParameterError."""

    @functools.wraps(fit)
    def wrapper(*args, **kwargs):
        with sklearn.config_context(skip_parameter_validation=True):
            return fit(*args, **kwargs)

    return wrapper


def _check_sample_weight(sample_weight, n_samples, dtype):
    """Sample weights as a 1-D array of ``n_samples`` (scikit-learn's rules)."""
    if isinstance(sample_weight, numbers.Number):
        sw = np.full(n_samples, sample_weight, dtype=dtype)
    else:
        sw = check_array(
            sample_weight,
            ensure_2d=False,
            dtype=dtype,
            order="C",
            input_name="sample_weight",
        )
        if sw.ndim != 1:
            raise ValueError(
                f"Sample weights must be 1D array or scalar, got {sw.ndim}D array. "
                f"Expected either a scalar value or a 1D array of length {n_samples}."
            )
        if sw.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {sw.shape}, expected {(n_samples,)}!"
            )
    if np.all(sw == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw


def _check_two_classes(estimator, binarizer):
    """Under ``strict``, a classifier needs two classes (scikit-learn, and so
    fastmlp by default, trains a model that always predicts the one class)."""
    if not get_config()["strict"]:
        return
    if binarizer.y_type_ != "multilabel-indicator" and len(binarizer.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the "
            f"data, but the data contains only one class: {binarizer.classes_[0]}."
        )


def _binarize_int_labels(y, dtype):
    """``LabelBinarizer().fit(y)`` and its ``transform(y)``, for 1-D integer y.

    The same binarizer (fitted on the distinct labels, which gives the same
    ``classes_`` and ``y_type_``) and the same 0/1 matrix, built from one
    ``np.unique`` in about a tenth of the time; the playground fit spent 1 ms
    of its 10 in ``LabelBinarizer``. Returns None where the general path
    must decide (other dtypes or shapes, fewer than two classes).
    """
    if y.ndim != 1 or y.dtype.kind not in "iub":
        return None
    classes, index = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        return None
    # What LabelBinarizer.fit sets (its documented fitted attributes), without
    # its two type_of_target passes: for 1-D integer labels of two or more
    # distinct values they say "binary" or "multiclass", and unique_labels
    # is the sorted distinct values in y's dtype. Half of a playground fit's
    # set-up went there (array_api_compat's unique asks inspect.signature).
    binarizer = LabelBinarizer()
    binarizer.y_type_ = "binary" if classes.shape[0] == 2 else "multiclass"
    binarizer.sparse_input_ = False
    binarizer.classes_ = classes
    if classes.shape[0] == 2:
        Y = (index == 1).astype(dtype).reshape((-1, 1))
    else:
        Y = np.zeros((y.shape[0], classes.shape[0]), dtype=dtype)
        Y[np.arange(y.shape[0]), index] = 1
    return binarizer, Y


def _reject_sparse(X):
    if sp.issparse(X):
        raise TypeError(
            "Sparse data was passed, but dense data is required: this version of "
            "fastmlp has no sparse kernels yet. Use X.toarray() to convert to a "
            "dense numpy array."
        )


class BaseFastMLP(*_CALLBACK_BASES, BaseEstimator):  # type: ignore[misc]
    """Shared parameters, validation and training loop of the fastmlp MLPs.

    Do not use directly; use :class:`FastMLPClassifier` or
    :class:`FastMLPRegressor`.
    """

    _constraints = MLP_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes: ArrayLike,
        activation: str,
        solver: str,
        alpha: float,
        batch_size: int | str,
        learning_rate: str,
        learning_rate_init: float,
        power_t: float,
        max_iter: int,
        loss: str,
        shuffle: bool,
        random_state: int | np.random.RandomState | None,
        tol: float,
        verbose: bool | int,
        warm_start: bool,
        momentum: float,
        nesterovs_momentum: bool,
        early_stopping: bool,
        validation_fraction: float,
        beta_1: float,
        beta_2: float,
        epsilon: float,
        n_iter_no_change: int | float,
        max_fun: int,
        device: str,
        weight_init: str = "glorot",
        l1: float = 0.0,
        scoring: str | None = None,
        lr_schedule: str | None = None,
        lr_warmup: float | None = None,
        weight_decay: float = 0.0,
        dropout: float | tuple = 0.0,
    ) -> None:
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.device = device
        self.weight_init = weight_init
        self.l1 = l1
        self.scoring = scoring
        self.lr_schedule = lr_schedule
        self.lr_warmup = lr_warmup
        self.weight_decay = weight_decay
        self.dropout = dropout

    # ------------------------------------------------------------------
    # parameters and state
    # ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        return list(sizes) if hasattr(sizes, "__iter__") else [sizes]

    def _validate_params(self):
        """The checks scikit-learn makes before it looks at the data."""
        validate_params(self, self._constraints)
        sizes = self._hidden_sizes()
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        if self.lr_warmup is not None and self.lr_schedule not in (
            "warmup_cosine",
            "one_cycle",
        ):
            raise ValueError(
                "lr_warmup is the warm-up share of lr_schedule='warmup_cosine' "
                f"or 'one_cycle'; got lr_schedule={self.lr_schedule!r}. Set "
                "lr_warmup=None or choose one of those schedules."
            )
        if isinstance(self.dropout, tuple | list):
            for rate in self.dropout:
                if not Interval(numbers.Real, 0, 1, "left").accepts(rate):
                    raise ValueError(
                        "Each rate in dropout must be a float in [0, 1); got "
                        f"{rate!r} in {self.dropout!r}."
                    )
        if self.solver not in _STOCHASTIC_SOLVERS and (
            self._dropout_rates(len(sizes)) is not None
        ):
            raise ValueError(
                "dropout trains with the stochastic solvers 'sgd' and 'adam' "
                f"(each epoch draws new masks); got solver={self.solver!r}."
            )
        if self.weight_decay and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "weight_decay is decoupled from the gradient: it shrinks the "
                "weights at each step of 'sgd' or 'adam'; got solver="
                f"{self.solver!r}. Use alpha (L2 in the loss) with 'lbfgs'."
            )

    def _hidden_layer_units(self):
        """``hidden_layer_sizes`` as ints, checked after the data, where
        scikit-learn fails too (with numpy's TypeError, here with a clearer one)."""
        sizes = self._hidden_sizes()
        for size in sizes:
            if not isinstance(size, numbers.Integral) or isinstance(size, bool):
                raise TypeError(
                    f"hidden_layer_sizes must contain integers, got {size!r} "
                    f"in {self.hidden_layer_sizes!r}."
                )
        return [int(s) for s in sizes]

    def _loss_code(self):
        if self.out_activation_ == "logistic" and is_classifier(self):
            return LOSS_CODES["binary_log_loss"]
        return LOSS_CODES[self.loss]

    def _set_params_vector(self, params):
        """Make ``coefs_``/``intercepts_`` views of one flat vector."""
        self._packed = params
        self.coefs_, self.intercepts_ = _engine.unpack(params, self._layer_units)

    def _params_vector(self, dtype=None):
        """The flat vector of the weights (re-packed if a user replaced them)."""
        packed = getattr(self, "_packed", None)
        if not _engine.is_packed_view(packed, self.coefs_, self.intercepts_):
            packed = _engine.pack(self.coefs_, self.intercepts_)
        if dtype is not None and packed.dtype != dtype:
            packed = packed.astype(dtype)
        return packed

    def __getstate__(self):
        # A copy: on Python 3.11+ object.__getstate__ returns __dict__ itself.
        state = dict(super().__getstate__())
        # The flat vector is rebuilt on load; pickling it would store it twice.
        state.pop("_packed", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "coefs_" in state:
            self._set_params_vector(_engine.pack(self.coefs_, self.intercepts_))

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    @_skip_nested_validation
    def _fit(self, X, y, sample_weight=None, incremental=False, validation=None):
        y_given = y  # the labels as passed: what callbacks' scorers compare with
        self._validate_params()
        device = resolve_device(self.device)
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y, sample_weight, hidden = self._validate_input_keeping_state(
            X, y, sample_weight, incremental, first_pass
        )
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        n_samples, n_features = X.shape
        layer_units = [n_features] + hidden + [y.shape[1]]
        rows = batch_rows(self.solver, self.batch_size, n_samples)
        device = resolve_device(self.device, layer_units, rows)
        cpu_only = self._cpu_only_reason()
        if device == "cuda" and cpu_only:
            if self.device == "cuda":
                raise ValueError(
                    f"{cpu_only} Use device='cpu', or device='auto', which then "
                    "trains on the CPU."
                )
            device = "cpu"
        self._random_state = check_random_state(self.random_state)

        if not first_pass and list(self._layer_units) != layer_units:
            # scikit-learn goes on training the network it has when only the
            # hidden widths changed (same depth), and fails otherwise: a
            # ValueError for another number of outputs, a TypeError for
            # another depth. The same here; strict refuses every change.
            message = (
                "The network shape changed since the last fit: expected layers "
                f"{list(self._layer_units)}, got {layer_units}. Set "
                "warm_start=False or keep hidden_layer_sizes."
            )
            old = list(self._layer_units)
            if get_config()["strict"] or old[-1] != layer_units[-1]:
                raise ValueError(message)
            if len(old) != len(layer_units):
                raise TypeError(message)
            layer_units = old
        if not first_pass:
            dtype = self._params_vector().dtype
            if dtype != X.dtype:
                # scikit-learn updates the weights it has in place, so they
                # keep their dtype: continue in the weights' dtype.
                X = X.astype(dtype)
                if y.dtype.kind not in "SU":
                    y = y.astype(dtype)
                if sample_weight is not None:
                    sample_weight = sample_weight.astype(dtype)
        validation = self._validation_set(
            *(validation or (None,) * 3), X.dtype, y.shape[1]
        )
        if first_pass:
            self._initialize(y, layer_units, X.dtype)

        y = self._numeric_targets(X, y, incremental, validation is None)
        backend = get_backend(device)
        if sp.issparse(X) and not hasattr(backend, "train_epoch_sparse"):
            warnings.warn(
                f"The {device} backend has no sparse kernels: training this sparse "
                "input on the CPU.",
                UserWarning,
                stacklevel=3,
            )
            device, backend = "cpu", get_backend("cpu")
        self.device_ = device
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        # L-BFGS: one more, the iteration begun after the last (never run).
        subtasks = (
            (1 if incremental else self.max_iter) if stochastic else self.max_iter + 1
        )
        hooks = _engine.FitHooks(self, X, y_given, sample_weight, subtasks)
        if stochastic:
            _engine.fit_stochastic(
                self,
                backend,
                X,
                y,
                sample_weight,
                layer_units,
                incremental,
                hooks,
                validation,
            )
        else:
            y = self._training_targets(y)
            _engine.fit_lbfgs(self, X, y, sample_weight, layer_units, hooks)
            if self._params_vector().dtype != np.float64:
                # scikit-learn's L-BFGS unpacks scipy's float64 result: its
                # weights end in float64 whatever X's dtype (training here
                # stays in X's dtype: no float64 copy of X).
                self._set_params_vector(self._params_vector(np.float64))

        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            # scikit-learn's words, so that pytest.raises(match=...) holds.
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        hooks.end()
        return self

    def _cpu_only_reason(self):
        """Why this configuration trains on the CPU only; None if it need not."""
        if self.activation in PIECE_ONLY_ACTIVATIONS:
            return (
                f"activation={self.activation!r} runs on the CPU only: the CUDA "
                "kernels have scikit-learn's hidden activations ('identity', "
                "'logistic', 'tanh', 'relu')."
            )
        if self.weight_decay:
            return (
                "weight_decay runs on the CPU only: the CUDA epoch has no "
                "decoupled weight decay."
            )
        if self._dropout_rates(len(self._hidden_sizes())) is not None:
            return "dropout runs on the CPU only: the CUDA epoch has no dropout."
        return None

    def _dropout_rates(self, n_hidden):
        """``dropout`` as one rate per hidden layer; None if all are 0."""
        rates = self.dropout
        if isinstance(rates, tuple | list):
            rates = [float(r) for r in rates]
            if len(rates) != n_hidden:
                raise ValueError(
                    f"dropout holds {len(rates)} rates; the network has {n_hidden} "
                    "hidden layers: give one rate per hidden layer, or one float."
                )
        else:
            rates = [float(rates)] * n_hidden
        return rates if any(rates) else None

    def _training_targets(self, Y):
        """The targets the loss sees (the classifier's ``label_smoothing``)."""
        return Y

    def _validation_set(self, X_val, y_val, sample_weight_val, dtype, n_outputs):
        """``fit``'s held-out data, validated with the rules and messages of
        scikit-learn's ``HistGradientBoostingClassifier.fit``; None if none."""
        if X_val is None and y_val is None:
            return None
        if y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "X_val and y_val are used by early stopping, which only the "
                f"stochastic solvers 'sgd' and 'adam' have; got solver={self.solver!r}."
            )
        X_val = validate_data(
            self, X_val, accept_sparse=["csr", "csc"], dtype=dtype, reset=False
        )
        X_val = _engine.as_csr(X_val)
        Y_val, labels = self._validation_targets(y_val, dtype, n_outputs)
        check_consistent_length(X_val, Y_val)
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val.shape[0], dtype
            )
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit while at the same time "
                "early_stopping is False. When passing X_val and y_val to fit, "
                "early_stopping should be set to True."
            )
        return _engine.ValidationSet(X_val, Y_val, labels, sample_weight_val)

    def _numeric_targets(self, X, y, incremental, split=True):
        """y in X's dtype for the kernels.

        A regressor's y of strings passes scikit-learn's validation (only
        object y is made numeric); its fit then fails where the loss first
        subtracts y from the network output, with numpy's UFuncTypeError,
        after the early-stopping checks. The same errors, in that order.
        """
        if y.dtype.kind not in "SU":
            return y
        if self.solver in _STOCHASTIC_SOLVERS:
            # scikit-learn's _fit_stochastic sets up its optimizer first: a
            # later partial_fit goes on with that one, not with an older one.
            _engine.start_optimizer(self, self._params_vector(), incremental)
        if self.solver in _STOCHASTIC_SOLVERS and self.early_stopping and split:
            if incremental:
                raise ValueError("partial_fit does not support early_stopping=True")
            X_val = train_test_split(
                X, random_state=0, test_size=self.validation_fraction
            )[1]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase "
                    "'validation_fraction' or the size of your dataset."
                )
        # What the loss does first: Poisson divides, squared error subtracts.
        op = np.divide if getattr(self, "loss", None) == "poisson" else np.subtract
        return op(y, np.ones(y.shape, dtype=X.dtype))  # raises numpy's TypeError

    def _validate_input_keeping_state(self, X, y, sample_weight, incremental, reset):
        """``_validate_input``, the sample weights and ``hidden_layer_sizes``
        (scikit-learn's checks before the weights are set up); on error,
        leave the input attributes as they were, so that a fitted model
        never takes X of a width its weights do not have."""
        names = ("n_features_in_", "feature_names_in_")
        saved = {k: self.__dict__[k] for k in names if k in self.__dict__}
        try:
            X, y, labels = self._validate_input(X, y, incremental, reset=reset)
            if sample_weight is not None:
                sample_weight = _check_sample_weight(sample_weight, X.shape[0], X.dtype)
            sample_weight = self._weigh_classes(labels, sample_weight, X.dtype)
            return X, y, sample_weight, self._hidden_layer_units()
        except Exception:
            for k in names:
                self.__dict__.pop(k, None)
            self.__dict__.update(saved)
            raise

    def _weigh_classes(self, labels, sample_weight, dtype):
        """``sample_weight`` times the classifier's ``class_weight`` (the
        regressor has none: unchanged)."""
        return sample_weight

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self._layer_units = list(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        params = _engine.initial_params(
            self.weight_init, layer_units, self.activation, self._random_state, dtype
        )
        self._set_params_vector(params)
        self._best_params = params.copy()
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _forward_checked(self, X):
        fitted = "coefs_" in self.__dict__
        if not fitted:
            # NotFittedError; or, where a failed partial_fit set classes_,
            # scikit-learn's path: X is validated, then an AttributeError.
            check_is_fitted(self)
        if not (fitted and self._is_plain_valid_array(X)):
            # scikit-learn's dtype="numeric": strings are rejected, ints and
            # bools kept (network_output computes in the wider of X's and the
            # model's float dtype, as scikit-learn's ``X @ coef`` does).
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
            if fitted and X.dtype.kind == "O":
                # A list holding None stays object through validate_data;
                # scikit-learn's matmul then raises its TypeError, as this
                # one does (a float cast would turn None into NaN).
                X @ np.zeros((X.shape[1], 1))
                X = X.astype(np.float64)
        units = self.__dict__.get("_layer_units")
        if units is not None and X.shape[1] != units[0]:
            # Never run the kernels on X of another width than the weights'.
            raise ValueError(
                f"X has {X.shape[1]} features, but the network's weights take "
                f"{units[0]}."
            )
        return _engine.network_output(self, X)

    def _is_plain_valid_array(self, X):
        """True for input ``validate_data`` would pass through unchanged.

        A 2-D C-contiguous float ndarray with the fitted number of features,
        all finite, on a model fitted without feature names: the common case,
        checked in a few microseconds (``validate_data`` costs tens). Anything
        else takes the full validation path and gets its errors and warnings.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.flags.c_contiguous
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        )

    def layer_activations(self, X: ArrayLike) -> list[np.ndarray]:
        """What every neuron computes on X: the output of every layer.

        Each layer is one call of the CPU kernel ``dense_forward``
        (``A_{l+1} = f(A_l @ W_l + b_l)``), in the wider of X's and the
        model's dtype, as :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        activations : list of ndarray, length ``n_layers_``
            ``activations[0]`` is X itself (validated), ``activations[l]`` of
            shape ``(n_samples, n_units_l)`` the output of layer ``l`` (hidden
            activation, or ``out_activation_`` for the last one: for a
            classifier the probability of the positive class or of each
            class). ``activations[l][:, j]`` is neuron ``j`` of layer ``l``.
        """
        check_is_fitted(self)
        _reject_sparse(X)
        data: np.ndarray = validate_data(
            self, X, dtype=(np.float64, np.float32), reset=False
        )
        packed = self._params_vector()
        dtype = np.result_type(data.dtype, packed.dtype)
        coefs, intercepts = _engine.unpack(
            np.ascontiguousarray(packed, dtype=dtype), self._layer_units
        )
        cpu = get_backend("cpu")
        activations = [np.ascontiguousarray(data, dtype=dtype)]
        for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
            last = i == len(coefs) - 1
            code = ACTIVATION_CODES[self.out_activation_ if last else self.activation]
            out = np.empty((data.shape[0], W.shape[1]), dtype=dtype)
            # a one-layer network through the prediction skeleton: the same
            # compiled code and pieces as predict, nothing more to compile
            cpu.forward(
                activations[-1],
                np.concatenate([W.ravel(), b]),
                np.array(W.shape, dtype=np.int64),
                code,
                code,
                out,
            )
            activations.append(out)
        return activations

    def summary(self, print_fn=print) -> None:
        """Print the network's layers: units, activation, weights and biases.

        A Keras-like table of the input layer, each hidden layer and the
        output layer, with the number of weights (coefficients into the
        layer) and of biases (intercepts) per layer and in total, the dtype
        and the device the model was fitted on.

        Parameters
        ----------
        print_fn : callable, default=print
            Called once with the whole table (a str).

        Examples
        --------
        >>> from fastmlp import FastMLPClassifier
        >>> clf = FastMLPClassifier((4,), max_iter=3, random_state=0)
        >>> clf = clf.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0])
        >>> clf.summary()  # doctest: +NORMALIZE_WHITESPACE
        FastMLPClassifier (dtype float64, device "cpu")
        --------------------------------------------
        layer     units  activation  weights  biases
        --------------------------------------------
        input         2                    0       0
        hidden 1      4  relu              8       4
        output        1  logistic          4       1
        --------------------------------------------
        Total parameters: 17
          weights: 12
          biases:  5
        """
        check_is_fitted(self)
        from ._summary import summary_text

        print_fn(summary_text(self))

    def _score_from_output(self, output, y, sample_weight):
        """``score`` of the network output ``output`` against ``y``."""
        y_pred = self._predict_from_output(output)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    @available_if(lambda est: est._check_solver())
    @with_callbacks
    def partial_fit(
        self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', \
'selu'}, default='relu'
        Activation function of the hidden layers. Beyond scikit-learn's four:
        'leaky_relu' (``z`` or ``0.01 z``), 'elu' (``z`` or ``e^z - 1``) and
        'selu' (``1.0507 * (z or 1.6733 (e^z - 1))``), PyTorch's definitions;
        these train and predict on the CPU (``device='auto'`` picks it) and
        are not exported to ONNX.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        Weight optimizer: 'lbfgs' is scipy's full-batch L-BFGS-B (small data),
        'sgd' and 'adam' are minibatch stochastic solvers.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha * ||W||^2 / (2 n)`` (see also
        ``l1``).
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of the 'sgd' solver, as scikit-learn.
    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples before every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. The
        same seed gives the same weights, run after run.
    tol : float, default=1e-4
        Improvement under which an epoch counts as no improvement.
    verbose : bool, default=False
        Print the loss of every epoch.
    warm_start : bool, default=False
        Continue from the previous weights when ``fit`` is called again.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score
        stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int or np.inf, default=10
        Epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum loss evaluations of 'lbfgs'.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where training runs. 'cuda' trains the stochastic solvers on an NVIDIA
        GPU (numba-cuda, ``pip install "fastmlp[cuda]"``) and raises
        ``BackendUnavailableError`` saying what is missing when it cannot;
        'auto' uses a GPU when one is usable, else the CPU. 'lbfgs' always
        runs on the CPU. Fitted weights are host arrays either way.
    weight_init : {'glorot', 'he_normal', 'playground', 'zeros'}, default='glorot'
        Initial weights. 'glorot' is scikit-learn's (the same draws for the
        same ``random_state``); 'he_normal' draws ``W ~ N(0, 2 / fan_in)``,
        biases 0; 'playground' is the TensorFlow Playground's: weights
        ``U(-0.5, 0.5)``, biases 0.1; 'zeros' sets everything to 0, which
        leaves all units of a hidden layer identical forever (for teaching).
    l1 : float, default=0.0
        Strength of an L1 penalty ``l1 * sum|W| / n`` on the coefficients
        (not the intercepts), added to the loss alongside ``alpha``'s L2;
        its gradient is ``l1 * sign(W) / n``. 0 is scikit-learn's loss.
    scoring : str, callable or None, default=None
        What early stopping maximises on the held-out data. None is
        scikit-learn's MLP: the estimator's ``score`` (accuracy or R²);
        'loss' is minus the validation loss; any other str is a scikit-learn
        scorer name ('balanced_accuracy', 'neg_log_loss', ...), a callable is
        called ``scoring(estimator, X_val, y_val)``. Used with
        ``early_stopping=True`` only.
    lr_schedule : {'cosine', 'warmup_cosine', 'one_cycle'} or None, default=None
        A learning-rate schedule of 'sgd' and 'adam' over ``max_iter``
        epochs, as Keras/optax/PyTorch name them; it multiplies the rate
        ``learning_rate`` gives (so 'invscaling' and 'adaptive' keep their
        meaning) at the start of every epoch: 'cosine' ``0.5 (1 + cos(pi e /
        max_iter))``; 'warmup_cosine' a linear warm-up over ``lr_warmup`` of
        the epochs, then cosine decay; 'one_cycle' PyTorch's ``OneCycleLR``
        (``max_lr = learning_rate_init``, from ``max_lr / 25`` up then down
        to ``max_lr / 25e4``, cosine annealing, no momentum cycling). Epochs
        past ``max_iter`` (``partial_fit``) keep the last rate. None is
        scikit-learn's behaviour.
    lr_warmup : float in [0, 1) or None, default=None
        Share of ``max_iter`` spent warming up: 'warmup_cosine' (None: 0.1)
        and 'one_cycle' (PyTorch's ``pct_start``; None: 0.3).
    weight_decay : float, default=0.0
        Decoupled weight decay of 'sgd' and 'adam' (AdamW, SGDW; Loshchilov &
        Hutter): before every step the coefficients (not the intercepts)
        shrink, ``W *= 1 - lr * weight_decay`` with the step's learning rate
        (scheduled, if ``lr_schedule`` is set), as PyTorch's ``AdamW`` applies
        it. Not part of the loss; trains on the CPU. 0 is scikit-learn's
        behaviour.
    dropout : float in [0, 1) or tuple of them, default=0.0
        Inverted dropout on the hidden layers' outputs while training with
        'sgd' or 'adam': one rate for every hidden layer, or one per hidden
        layer. Each unit of each training row is dropped with that
        probability and the kept ones are divided by ``1 - rate``; prediction
        uses the whole network. The masks come from ``random_state`` (one
        draw per epoch; the same seed gives the same fit, bit for bit).
        Trains on the CPU. 0 is scikit-learn's behaviour.
"""

_ATTR_DOC = """
    loss_ : float
        Loss of the last epoch (with the L2 term).
    best_loss_ : float or None
        Lowest epoch loss (None with early stopping).
    loss_curve_ : list of float
        Loss of every epoch.
    validation_scores_ : list of float or None
        Held-out score of every epoch with early stopping (see ``scoring``).
    validation_loss_curve_ : list of float or None
        Held-out loss of every epoch with early stopping (scikit-learn's loss
        without the penalty terms, weighted by ``sample_weight_val``).
    best_validation_score_ : float or None
        Best held-out score with early stopping.
    t_ : int
        Number of training samples seen.
    coefs_ : list of ndarray of shape (n_l, n_{l+1})
        Weight matrices, host numpy arrays.
    intercepts_ : list of ndarray of shape (n_{l+1},)
        Bias vectors.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Feature names, when X had string column names.
    n_iter_ : int
        Number of epochs run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Output activation.
    device_ : str
        The device the last fit ran on.
"""


class FastMLPClassifier(ClassifierMixin, BaseFastMLP):
    __doc__ = (
        """Multi-layer perceptron classifier trained by compiled kernels.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the same parameters, fitted attributes, methods, warnings and errors;
    whole epochs run inside one Numba-compiled call.

    Parameters
    ----------"""
        + _COMMON_DOC
        + """    class_weight : dict, list of dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight`` as
        scikit-learn's other classifiers do (``compute_sample_weight``):
        ``{class_label: weight}``; 'balanced' weighs each class by
        ``n_samples / (n_classes * count)``; for multilabel y, 'balanced' or
        one ``{0: w0, 1: w1}`` dict per label. None weighs all classes 1
        (scikit-learn's MLP). ``partial_fit`` takes a dict, not 'balanced'.
    label_smoothing : float in [0, 1), default=0.0
        Training targets ``y (1 - eps) + eps / K`` as Keras and PyTorch smooth
        them: ``K`` classes for a multiclass (softmax) output; for a binary or
        multilabel output each logistic unit is a two-class problem, ``K = 2``
        (``0 -> eps / 2``, ``1 -> 1 - eps / 2``, Keras' binary rule). The
        training loss (``loss_curve_``) is the log-loss on the smoothed
        targets; held-out scores and ``validation_loss_curve_`` use the labels
        as given. 0 is scikit-learn's behaviour.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels."""
        + _ATTR_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastmlp import FastMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = FastMLPClassifier(max_iter=500, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """
    )

    def __init__(
        self,
        hidden_layer_sizes: ArrayLike = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        device: str = "auto",
        weight_init: str = "glorot",
        l1: float = 0.0,
        scoring: str | None = None,
        lr_schedule: str | None = None,
        lr_warmup: float | None = None,
        weight_decay: float = 0.0,
        dropout: float | tuple = 0.0,
        class_weight: dict | list | str | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            device=device,
            weight_init=weight_init,
            l1=l1,
            scoring=scoring,
            lr_schedule=lr_schedule,
            lr_warmup=lr_warmup,
            weight_decay=weight_decay,
            dropout=dropout,
        )

    _constraints = CLASSIFIER_CONSTRAINTS
    _score_function = staticmethod(accuracy_score)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        X = _engine.as_csr(X)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        binarized = None
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            binarized = _binarize_int_labels(y, X.dtype)
            if binarized is not None:
                binarizer = binarized[0]
            else:
                binarizer = LabelBinarizer().fit(y)
            _check_two_classes(self, binarizer)
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        if binarized is not None:
            return X, binarized[1], y
        return X, self._label_binarizer.transform(y).astype(X.dtype), y

    def _weigh_classes(self, labels, sample_weight, dtype):
        """``sample_weight`` times ``class_weight``'s weight of each sample's
        class, as scikit-learn's forests and gradient boosting do it
        (``compute_sample_weight``: multilabel takes "balanced" or one dict
        per column and multiplies the columns' weights)."""
        if self.class_weight is None:
            return sample_weight
        expanded = compute_sample_weight(self.class_weight, labels).astype(dtype)
        if sample_weight is None:
            return expanded
        return sample_weight * expanded

    def _training_targets(self, Y):
        """``Y`` smoothed by ``label_smoothing`` (unchanged when it is 0)."""
        eps = self.label_smoothing
        if not eps:
            return Y
        if self._loss_code() not in (
            LOSS_CODES["log_loss"],
            LOSS_CODES["binary_log_loss"],
        ):
            raise ValueError(
                "label_smoothing smooths the targets of the log-loss; this "
                f"classifier trains {self.out_activation_!r} outputs on another loss."
            )
        K = Y.shape[1] if self.out_activation_ == "softmax" else 2
        return (Y * (1.0 - eps) + eps / K).astype(Y.dtype)

    def _validation_targets(self, y_val, dtype, n_outputs):
        """``y_val`` binarized as the network's targets, and as given."""
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multilabel-indicator":
            if y_val.ndim != 2 or y_val.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y_val must be a label-indicator matrix of {len(self.classes_)} "
                    "columns, as y."
                )
        else:
            # LabelEncoder's words, as scikit-learn's gradient boosting raises them
            unseen = np.setdiff1d(unique_labels(y_val), self.classes_)
            if len(unseen):
                raise ValueError(f"y contains previously unseen labels: {list(unseen)}")
        return binarizer.transform(y_val).astype(dtype).reshape(
            (y_val.shape[0], -1)
        ), y_val

    @with_callbacks
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        X_val: MatrixLike | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data; float32 trains in float32, anything else in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label-indicator matrix for multilabel.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : array-like of shape (n_val, n_features), default=None
            Held-out data for early stopping, used instead of splitting off
            ``validation_fraction`` (needs ``early_stopping=True`` and ``sgd``
            or ``adam``), as scikit-learn's gradient boosting takes it.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the held-out samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=False,
            validation=(X_val, y_val, sample_weight_val),
        )

    @available_if(lambda est: est._check_solver())
    @with_callbacks
    def partial_fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> Self:
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array of shape (n_classes,), default=None
            All classes that will ever appear; required on the first call.

        Returns
        -------
        self : object
        """
        # scikit-learn's order: the parameter constraints, then ``classes``,
        # which on the first call become ``classes_``, then what _fit checks.
        validate_params(self, self._constraints)
        if self.class_weight == "balanced":
            # scikit-learn's SGDClassifier.partial_fit refuses it in these words
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y). In place of y you can use a large enough "
                "sample of the full training set target to properly estimate the "
                "class frequency distributions. Pass the resulting weights as the "
                "class_weight parameter."
            )
        first_call = getattr(self, "classes_", None) is None
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if not first_call and not np.array_equal(self.classes_, classes):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call "
                    f"to partial_fit, was: {self.classes_!r}"
                )
        if first_call:
            self.classes_ = classes
            if type_of_target(y).startswith("multilabel"):
                binarizer = LabelBinarizer().fit(y)
            else:
                binarizer = LabelBinarizer().fit(classes)
            try:
                _check_two_classes(self, binarizer)
            except ValueError:
                del self.classes_
                raise
            self._label_binarizer = binarizer
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict_from_output(self, y_pred):
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def predict(self, X: MatrixLike) -> np.ndarray:
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted classes (an indicator matrix for multilabel).
        """
        return self._predict_from_output(self._forward_checked(X))

    def predict_proba(self, X: MatrixLike) -> np.ndarray:
        """Probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_``.
        """
        y_pred = self._forward_checked(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X: MatrixLike) -> np.ndarray:
        """Log of the probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class FastMLPRegressor(RegressorMixin, BaseFastMLP):
    __doc__ = (
        """Multi-layer perceptron regressor trained by compiled kernels.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Loss to minimise; 'poisson' uses an exponential output."""
        + _COMMON_DOC
        + """
    Attributes
    ----------"""
        + _ATTR_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from fastmlp import FastMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
    >>> reg = FastMLPRegressor(max_iter=2000, random_state=0).fit(X, y / 100)
    >>> reg.score(X, y / 100) > 0.9
    True
    """
    )

    _constraints = {
        "loss": [Options({"squared_error", "poisson"})],
        **MLP_CONSTRAINTS,
    }

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: ArrayLike = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        device: str = "auto",
        weight_init: str = "glorot",
        l1: float = 0.0,
        scoring: str | None = None,
        lr_schedule: str | None = None,
        lr_warmup: float | None = None,
        weight_decay: float = 0.0,
        dropout: float | tuple = 0.0,
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            device=device,
            weight_init=weight_init,
            l1=l1,
            scoring=scoring,
            lr_schedule=lr_schedule,
            lr_warmup=lr_warmup,
            weight_decay=weight_decay,
            dropout=dropout,
        )

    _score_function = staticmethod(r2_score)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        X = _engine.as_csr(X)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype.kind in "SU":
            return X, y, None  # scikit-learn's error comes later (_numeric_targets)
        y = np.asarray(y, dtype=X.dtype)
        # A deliberate deviation: scikit-learn trains the Poisson loss on
        # negative y (tests/test_sklearn_behaviour.py).
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                "regression."
            )
        return X, y, None

    def _validation_targets(self, y_val, dtype, n_outputs):
        """``y_val`` as the network's targets (n_val, n_outputs) and as given."""
        y_val = check_array(
            y_val, ensure_2d=False, dtype=dtype, input_name="y_val", order="C"
        )
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if y_val.reshape((y_val.shape[0], -1)).shape[1] != n_outputs:
            raise ValueError(
                f"y_val has {1 if y_val.ndim == 1 else y_val.shape[1]} outputs, but "
                f"y has {n_outputs}."
            )
        return y_val.reshape((y_val.shape[0], -1)), y_val

    @with_callbacks
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        X_val: MatrixLike | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data; float32 trains in float32, anything else in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : array-like of shape (n_val, n_features), default=None
            Held-out data for early stopping, used instead of splitting off
            ``validation_fraction`` (needs ``early_stopping=True`` and ``sgd``
            or ``adam``), as scikit-learn's gradient boosting takes it.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the held-out samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=False,
            validation=(X_val, y_val, sample_weight_val),
        )

    def _predict_from_output(self, y_pred):
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return y_pred

    def predict(self, X: MatrixLike) -> np.ndarray:
        """Predict with the multi-layer perceptron.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return self._predict_from_output(self._forward_checked(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
