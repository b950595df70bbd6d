"""Data sets of the TensorFlow Playground (playground.tensorflow.org).

The generators follow the Playground's ``dataset.ts``: the same geometry, the
same order of points and the same labels (``+1``/``-1``). Only the random
number generator differs (numpy instead of JavaScript's ``Math.random``), so
the points match the Playground's in distribution, not draw for draw.

``noise`` is the Playground's noise *fraction*: the UI's noise slider value
divided by 100 (the UI's "10" is ``noise=0.1``), exactly what the Playground
passes to its generators.

This module imports numpy only.
"""

import numbers

import numpy as np

__all__ = ["make_spiral"]

_LABEL_CHOICES = ("playground", "binary")


def _as_generator(random_state):
    """Return a numpy random source with a ``uniform`` method.

    ``None`` and integers seed a fresh :class:`numpy.random.RandomState`, as
    scikit-learn's data set generators do; a ``RandomState`` or a
    ``Generator`` is used as given.
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.RandomState(random_state)
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    raise ValueError(
        f"random_state must be None, an int, a numpy RandomState or a numpy "
        f"Generator; got {random_state!r}."
    )


def _encode_labels(y, labels):
    """Map Playground labels ``+1``/``-1`` to the requested encoding.

    Parameters
    ----------
    y : ndarray of int64, shape (n_samples,)
        Labels in the Playground's ``+1``/``-1`` encoding.
    labels : {"playground", "binary"}
        ``"playground"`` keeps ``+1``/``-1``; ``"binary"`` gives ``1``/``0``.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
    """
    if labels == "playground":
        return y
    if labels == "binary":
        return (y > 0).astype(np.int64)
    raise ValueError(f"labels must be one of {_LABEL_CHOICES}; got {labels!r}.")


def _spiral_arm(n_points, delta_t, noise, rng):
    """Points of one spiral arm, the Playground's ``genSpiral``.

    For ``i`` in ``range(n_points)``: ``r = 5 i / n_points``,
    ``t = 1.75 * 2 pi i / n_points + delta_t``, and the point is
    ``(r sin t + noise * u_x, r cos t + noise * u_y)`` with ``u ~ U(-1, 1)``
    drawn per point, ``u_x`` before ``u_y``.

    Returns
    -------
    ndarray of float64, shape (n_points, 2)
    """
    i = np.arange(n_points, dtype=np.float64)
    r = i / n_points * 5.0
    t = 1.75 * i / n_points * 2.0 * np.pi + delta_t
    # One (n, 2) draw consumes the stream in the Playground's order: x, y, x, y...
    jitter = rng.uniform(-1.0, 1.0, size=(n_points, 2)) * noise
    return np.column_stack((r * np.sin(t), r * np.cos(t))) + jitter


def make_spiral(n_samples=1000, noise=0.1, random_state=None, labels="playground"):
    """Two interleaved spirals, the TensorFlow Playground's "spiral" data set.

    The positive arm (``delta_t = 0``, label ``+1``) comes first with
    ``ceil(n_samples / 2)`` points, then the negative arm (``delta_t = pi``,
    label ``-1``) with ``floor(n_samples / 2)`` points. For even
    ``n_samples`` (the Playground always uses an even count) each arm is
    exactly the Playground's ``genSpiral(n_samples / 2)``::

        r = 5 i / n,  t = 3.5 pi i / n + delta_t,  i = 0 .. n - 1
        x = r sin(t) + noise * U(-1, 1)
        y = r cos(t) + noise * U(-1, 1)

    The points are returned in generation order (not shuffled).

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of points, at least 2.
    noise : float, default=0.1
        Amplitude of the uniform jitter added to each coordinate: the
        Playground's noise slider divided by 100 (``0.1`` is the UI's 10).
    random_state : int, numpy RandomState or Generator, or None, default=None
        Source of the jitter; an int makes the output reproducible.
    labels : {"playground", "binary"}, default="playground"
        ``"playground"`` gives labels ``+1``/``-1`` as the Playground has
        them; ``"binary"`` gives ``1``/``0`` (``+1`` maps to ``1``).

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
        The points, coordinates in about ``[-5 - noise, 5 + noise]``.
    y : ndarray of int64, shape (n_samples,)
        The arm of each point.

    Examples
    --------
    >>> from fastmlp.playground import make_spiral
    >>> X, y = make_spiral(1000, noise=0.1, random_state=0, labels="binary")
    >>> X.shape, sorted(set(y.tolist()))
    ((1000, 2), [0, 1])
    """
    if not isinstance(n_samples, numbers.Integral) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}.")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}.")
    if labels not in _LABEL_CHOICES:
        raise ValueError(f"labels must be one of {_LABEL_CHOICES}; got {labels!r}.")
    rng = _as_generator(random_state)

    n_negative = int(n_samples) // 2
    n_positive = int(n_samples) - n_negative
    X = np.concatenate(
        (
            _spiral_arm(n_positive, 0.0, noise, rng),
            _spiral_arm(n_negative, np.pi, noise, rng),
        )
    )
    y = np.concatenate(
        (np.ones(n_positive, dtype=np.int64), -np.ones(n_negative, dtype=np.int64))
    )
    return X, _encode_labels(y, labels)
