"""Initial weights, and the flat parameter vector with its layer views."""

from itertools import pairwise

import numpy as np

from ..kernels import param_layout


def glorot_init(layer_units, activation, random_state, dtype):
    """Flat parameter vector initialised as scikit-learn's MLP does it.

    Draws, layer by layer, ``W`` then ``b`` from ``U(-r, r)`` with
    ``r = sqrt(f / (fan_in + fan_out))``, ``f = 2`` for logistic, else 6,
    from the same ``RandomState`` calls as scikit-learn, so the same
    ``random_state`` gives scikit-learn's initial weights.

    Parameters
    ----------
    layer_units : list of int
    activation : str
    random_state : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    params : ndarray of shape (n_params,)
        In the contract's packed order (all coefficients, then intercepts).
    """
    coef_off, icpt_off, n_params = param_layout(layer_units)
    params = np.empty(n_params, dtype=dtype)
    factor = 2.0 if activation == "logistic" else 6.0
    for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        bound = np.sqrt(factor / (fan_in + fan_out))
        w = random_state.uniform(-bound, bound, (fan_in, fan_out))
        b = random_state.uniform(-bound, bound, fan_out)
        params[coef_off[i] : coef_off[i] + fan_in * fan_out] = w.ravel()
        params[icpt_off[i] : icpt_off[i] + fan_out] = b
    return params


def _fill_layers(layer_units, dtype, draw_coef, draw_intercept):
    """Flat vector whose layer ``i`` holds ``draw_coef(fan_in, fan_out)`` and
    ``draw_intercept(fan_out)``, drawn layer by layer (W, then b)."""
    coef_off, icpt_off, n_params = param_layout(layer_units)
    params = np.empty(n_params, dtype=dtype)
    pairs = zip(layer_units[:-1], layer_units[1:], strict=True)
    for i, (fan_in, fan_out) in enumerate(pairs):
        w = draw_coef(fan_in, fan_out)
        params[coef_off[i] : coef_off[i] + fan_in * fan_out] = np.ravel(w)
        params[icpt_off[i] : icpt_off[i] + fan_out] = draw_intercept(fan_out)
    return params


def playground_init(layer_units, activation, random_state, dtype):
    """The TensorFlow Playground's initialisation (its ``nn.ts``).

    Every weight ``U(-0.5, 0.5)`` (the Playground's ``Math.random() - 0.5``),
    every bias ``0.1``, whatever the activation.
    """
    return _fill_layers(
        layer_units,
        dtype,
        lambda fan_in, fan_out: random_state.uniform(-0.5, 0.5, (fan_in, fan_out)),
        lambda fan_out: 0.1,
    )


def he_normal_init(layer_units, activation, random_state, dtype):
    """He (Kaiming) normal initialisation, as Keras' ``he_normal`` in spirit.

    ``W ~ N(0, 2 / fan_in)``, biases 0: keeps the variance of relu layers.
    """
    return _fill_layers(
        layer_units,
        dtype,
        lambda fan_in, fan_out: random_state.normal(
            0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)
        ),
        lambda fan_out: 0.0,
    )


def zeros_init(layer_units, activation, random_state, dtype):
    """Every weight and bias 0 (draws nothing).

    Only for teaching: all units of a hidden layer compute the same function
    and receive the same gradient, so they stay identical (the symmetry is
    never broken).
    """
    return np.zeros(param_layout(layer_units)[2], dtype=dtype)


#: ``weight_init`` parameter value -> initialiser
#: ``(layer_units, activation, random_state, dtype) -> flat params``.
WEIGHT_INITS = {
    "glorot": glorot_init,
    "he_normal": he_normal_init,
    "playground": playground_init,
    "zeros": zeros_init,
}


def initial_params(weight_init, layer_units, activation, random_state, dtype):
    """Flat initial parameter vector for a ``weight_init`` name (see
    :data:`WEIGHT_INITS`); ``"glorot"`` is scikit-learn's draws exactly."""
    return WEIGHT_INITS[weight_init](layer_units, activation, random_state, dtype)


def unpack(params, layer_units):
    """Views of the flat vector as ``(coefs, intercepts)`` lists."""
    coef_off, icpt_off, _ = param_layout(layer_units)
    coefs, intercepts = [], []
    for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        coefs.append(
            params[coef_off[i] : coef_off[i] + fan_in * fan_out].reshape(
                fan_in, fan_out
            )
        )
        intercepts.append(params[icpt_off[i] : icpt_off[i] + fan_out])
    return coefs, intercepts


def pack(coefs, intercepts, dtype=None):
    """One contiguous flat vector from ``coefs``/``intercepts`` (copies)."""
    parts = [np.asarray(a).ravel() for a in list(coefs) + list(intercepts)]
    flat = np.concatenate(parts)
    return np.ascontiguousarray(flat, dtype=dtype or flat.dtype)


def is_packed_view(params, coefs, intercepts):
    """True when ``coefs``/``intercepts`` are still the views of ``params``.

    Cheap (attribute checks only: it runs on every predict): each array must
    be a view whose base is ``params``, of the layer's shape, in order. A
    user who assigned new arrays to ``coefs_[i]`` fails it and gets a repack.
    """
    if params is None:
        return False
    pos = 0
    for a in (*coefs, *intercepts):
        if type(a) is not np.ndarray or a.base is not params:
            return False
        pos += a.size
    return pos == params.size
