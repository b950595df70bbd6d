"""ONNX export through skl2onnx (the ``onnx`` extra).

fastmlp's fitted attributes are scikit-learn's (``coefs_``, ``intercepts_``,
``activation``, ``out_activation_``, ``classes_``, ``_label_binarizer``), so
skl2onnx's own MLP converters apply unchanged. Importing this module
registers them for both estimators (``update_registered_converter``); after
that, skl2onnx's ``to_onnx`` converts fastmlp models and pipelines holding
them, as it converts scikit-learn's MLPs.

>>> import fastmlp.onnx  # doctest: +SKIP
>>> onx = fastmlp.onnx.to_onnx(model, X[:1].astype("float32"))  # doctest: +SKIP

``import fastmlp`` never imports this module, skl2onnx or onnx.
"""

from ._mlp import FastMLPClassifier, FastMLPRegressor
from .kernels import PIECE_ONLY_ACTIVATIONS

__all__ = ["register", "to_onnx"]

#: skl2onnx's options for its MLP classifier converter, kept for ours.
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}


def _skl2onnx():
    try:
        import skl2onnx
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            'fastmlp.onnx needs skl2onnx: pip install "fastmlp[onnx]"'
        ) from err
    return skl2onnx


def register() -> None:
    """Register skl2onnx's MLP converters for FastMLPClassifier/Regressor.

    Idempotent; runs when this module is imported.
    """
    skl2onnx = _skl2onnx()
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from skl2onnx.operator_converters.multilayer_perceptron import (
        convert_sklearn_mlp_classifier,
        convert_sklearn_mlp_regressor,
    )

    skl2onnx.update_registered_converter(
        FastMLPClassifier,
        "FastmlpFastMLPClassifier",
        calculate_linear_classifier_output_shapes,
        convert_sklearn_mlp_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    skl2onnx.update_registered_converter(
        FastMLPRegressor,
        "FastmlpFastMLPRegressor",
        calculate_linear_regressor_output_shapes,
        convert_sklearn_mlp_regressor,
    )


def to_onnx(model, X, **kwargs):
    """Convert a fitted fastmlp model (or a pipeline holding one) to ONNX.

    Parameters
    ----------
    model : estimator
        Fitted; any activation but a Poisson regressor's ``exp`` output
        (which skl2onnx's converter does not have).
    X : ndarray
        A sample of the input (its dtype and width type the ONNX input:
        float32, or float64 for a double-precision graph).
    **kwargs
        Passed to ``skl2onnx.to_onnx`` (``options``, ``target_opset``, ...).

    Returns
    -------
    onnx.ModelProto
    """
    for est in _estimators(model):
        activation = getattr(est, "activation", None)
        if activation in PIECE_ONLY_ACTIVATIONS:
            raise ValueError(
                f"skl2onnx's MLP converter has no {activation!r} activation, so a "
                f"{type(est).__name__}(activation={activation!r}) cannot be "
                "exported to ONNX; its hidden activations are 'identity', "
                "'logistic', 'tanh' and 'relu'."
            )
        if getattr(est, "out_activation_", None) == "exp":
            raise ValueError(
                "skl2onnx's MLP converter has no 'exp' output activation, so a "
                "FastMLPRegressor(loss='poisson') cannot be exported to ONNX."
            )
    return _skl2onnx().to_onnx(model, X, **kwargs)


def _estimators(model):
    yield model
    for _, step in getattr(model, "steps", []):
        yield from _estimators(step)


register()
