"""Data sets of the TensorFlow Playground (playground.tensorflow.org).

The generators follow the Playground's ``dataset.ts``: the same geometry, the
same order of points, the same labels (``+1``/``-1``) and the same noise
model. Only the random number generator differs (numpy instead of
JavaScript's ``Math.random``), so the points match the Playground's in
distribution, not draw for draw.

``noise`` is the Playground's noise *fraction*: the UI's noise slider (0 to
50) divided by 100, exactly what the Playground passes to its generators (the
UI's "15" is ``noise=0.15``). What it does depends on the data set, as in the
Playground:

* circle, xor: the point is drawn clean, but its label is the label of the
  point moved by ``noise * U(-5, 5)`` per coordinate, so labels near the
  boundary flip; the points themselves do not move.
* gauss: the variance of both clouds grows linearly from 0.5 (noise 0) to 4
  (noise 0.5): ``variance = 0.5 + 7 * noise``.
* spiral: each coordinate moves by ``noise * U(-1, 1)``.
* plane, multi_gauss (regression): the target is computed at the point moved
  by ``noise * U(-6, 6)`` per coordinate; the points do not move.

Classification sets put the positive class first (``ceil(n / 2)`` points,
then ``floor(n / 2)`` negative ones; the Playground always asks for an even
count) and are returned unshuffled, in generation order;
:func:`split_train_test` shuffles and splits as the Playground does.

This module imports numpy only.
"""

import numbers

import numpy as np

__all__ = [
    "CLASSIFICATION_DATASETS",
    "REGRESSION_DATASETS",
    "make_circle",
    "make_gauss",
    "make_multi_gauss",
    "make_plane",
    "make_spiral",
    "make_xor",
    "split_train_test",
]

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


def make_spiral(n_samples=500, noise=0.0, random_state=None, labels="playground"):
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
    n_samples : int, default=500
        Total number of points, at least 2 (the Playground's 500, as the
        other generators).
    noise : float, default=0.0
        Amplitude of the uniform jitter added to each coordinate: the
        Playground's noise slider divided by 100 (``0.1`` is the UI's 10;
        its default is 0, as the other generators').
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


def _check_args(n_samples, noise, labels=None, minimum=2):
    """Validate the arguments shared by every generator."""
    if (
        not isinstance(n_samples, numbers.Integral)
        or isinstance(n_samples, bool)
        or n_samples < minimum
    ):
        raise ValueError(
            f"n_samples must be an integer >= {minimum}; got {n_samples!r}."
        )
    if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(
            f"noise must be a finite number >= 0 (the Playground's slider / 100, "
            f"0 to 0.5 in its UI); got {noise!r}."
        )
    if labels is not None and labels not in _LABEL_CHOICES:
        raise ValueError(f"labels must be one of {_LABEL_CHOICES}; got {labels!r}.")


def _class_labels(n_positive, n_negative):
    """``+1`` for the first ``n_positive`` points, ``-1`` for the rest."""
    return np.concatenate(
        (np.ones(n_positive, dtype=np.int64), -np.ones(n_negative, dtype=np.int64))
    )


def _circle_part(n_points, r_low, r_high, noise, rng):
    """Points at radius ``U(r_low, r_high)``, labelled at a noisy position.

    Per point the Playground draws radius, angle, then the noise of x and y,
    in that order; one ``(n, 4)`` draw consumes the stream the same way.
    """
    u = rng.uniform(0.0, 1.0, size=(n_points, 4))
    r = r_low + (r_high - r_low) * u[:, 0]
    angle = 2.0 * np.pi * u[:, 1]
    x = r * np.sin(angle)
    y = r * np.cos(angle)
    shift = (10.0 * u[:, 2:] - 5.0) * noise  # U(-5, 5) * noise
    inside = np.hypot(x + shift[:, 0], y + shift[:, 1]) < 2.5
    label = np.where(inside, 1, -1).astype(np.int64)
    return np.column_stack((x, y)), label


def make_circle(n_samples=500, noise=0.0, random_state=None, labels="playground"):
    """A disc of one class inside a ring of the other: the Playground's "circle".

    ``ceil(n / 2)`` points at radius ``U(0, 2.5)`` then ``floor(n / 2)`` at
    radius ``U(3.5, 5)``, angle ``U(0, 2 pi)``, point ``(r sin a, r cos a)``.
    Each point's label is ``+1`` when the point moved by
    ``noise * U(-5, 5)`` per coordinate lies within radius 2.5 of the origin,
    else ``-1``: noise flips labels near the boundary, points stay put.

    Parameters
    ----------
    n_samples : int, default=500
        Number of points, at least 2 (the Playground's 500).
    noise : float, default=0.0
        The Playground's noise slider divided by 100 (0 to 0.5).
    random_state : int, numpy RandomState or Generator, or None, default=None
    labels : {"playground", "binary"}, default="playground"
        ``+1``/``-1`` as the Playground, or ``1``/``0``.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of int64, shape (n_samples,)
        ``+1`` (or 1) inside, ``-1`` (or 0) outside, noise applied.
    """
    _check_args(n_samples, noise, labels)
    rng = _as_generator(random_state)
    n_negative = int(n_samples) // 2
    n_positive = int(n_samples) - n_negative
    X_in, y_in = _circle_part(n_positive, 0.0, 2.5, noise, rng)
    X_out, y_out = _circle_part(n_negative, 3.5, 5.0, noise, rng)
    X = np.concatenate((X_in, X_out))
    return X, _encode_labels(np.concatenate((y_in, y_out)), labels)


def make_xor(n_samples=500, noise=0.0, random_state=None, labels="playground"):
    """Four quadrants, ``+1`` where ``x * y >= 0``: the Playground's "xor".

    Per point: ``x, y ~ U(-5, 5)``, each pushed 0.3 away from its axis
    (``x += 0.3`` if ``x > 0`` else ``-0.3``), then the label is ``+1`` when
    ``(x + nx) * (y + ny) >= 0`` with ``nx, ny ~ noise * U(-5, 5)``, else
    ``-1``: noise flips labels near the axes, points stay put.

    Parameters
    ----------
    n_samples : int, default=500
        Number of points, at least 2.
    noise : float, default=0.0
        The Playground's noise slider divided by 100 (0 to 0.5).
    random_state : int, numpy RandomState or Generator, or None, default=None
    labels : {"playground", "binary"}, default="playground"

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
        Coordinates in ``[-5.3, -0.3] U [0.3, 5.3]``.
    y : ndarray of int64, shape (n_samples,)
    """
    _check_args(n_samples, noise, labels)
    rng = _as_generator(random_state)
    # Per point: x, y, then the noise of x and y (the Playground's order).
    u = rng.uniform(-5.0, 5.0, size=(int(n_samples), 4))
    X = u[:, :2] + np.where(u[:, :2] > 0, 0.3, -0.3)
    moved = X + u[:, 2:] * noise
    y = np.where(moved[:, 0] * moved[:, 1] >= 0, 1, -1).astype(np.int64)
    return X, _encode_labels(y, labels)


def make_gauss(n_samples=500, noise=0.0, random_state=None, labels="playground"):
    """Two Gaussian clouds: the Playground's "gauss" (two-Gauss) data set.

    ``ceil(n / 2)`` points around ``(2, 2)`` labelled ``+1``, then
    ``floor(n / 2)`` around ``(-2, -2)`` labelled ``-1``, each coordinate
    ``N(centre, variance)`` with ``variance = 0.5 + 7 * noise`` (the
    Playground maps noise 0..0.5 linearly to variance 0.5..4): noise moves
    the points, the labels are those of the cloud.

    Parameters
    ----------
    n_samples : int, default=500
        Number of points, at least 2.
    noise : float, default=0.0
        The Playground's noise slider divided by 100 (0 to 0.5).
    random_state : int, numpy RandomState or Generator, or None, default=None
    labels : {"playground", "binary"}, default="playground"

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of int64, shape (n_samples,)
    """
    _check_args(n_samples, noise, labels)
    rng = _as_generator(random_state)
    std = np.sqrt(0.5 + 7.0 * noise)
    n_negative = int(n_samples) // 2
    n_positive = int(n_samples) - n_negative
    X = np.concatenate(
        (
            rng.normal(2.0, std, size=(n_positive, 2)),
            rng.normal(-2.0, std, size=(n_negative, 2)),
        )
    )
    return X, _encode_labels(_class_labels(n_positive, n_negative), labels)


def _uniform_points_and_noisy_copies(n_samples, noise, rng):
    """Points ``U(-6, 6)^2`` and the same points moved by ``noise * U(-6, 6)``.

    Per point the Playground draws x, y, then the noise of x and y.
    """
    u = rng.uniform(-6.0, 6.0, size=(int(n_samples), 4))
    X = np.ascontiguousarray(u[:, :2])
    return X, X + u[:, 2:] * noise


def make_plane(n_samples=1200, noise=0.0, random_state=None):
    """A tilted plane, the Playground's regression set "plane".

    Points ``U(-6, 6)^2``; target ``(x + nx + y + ny) / 10`` with
    ``nx, ny ~ noise * U(-6, 6)`` (the Playground maps ``x + y`` from
    ``[-10, 10]`` to ``[-1, 1]``, unclamped, so targets reach +-1.2).

    Parameters
    ----------
    n_samples : int, default=1200
        Number of points, at least 1 (the Playground's 1200).
    noise : float, default=0.0
        The Playground's noise slider divided by 100 (0 to 0.5).
    random_state : int, numpy RandomState or Generator, or None, default=None

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of float64, shape (n_samples,)
    """
    _check_args(n_samples, noise, minimum=1)
    X, moved = _uniform_points_and_noisy_copies(
        n_samples, noise, _as_generator(random_state)
    )
    return X, (moved[:, 0] + moved[:, 1]) / 10.0


#: Centres and signs of the six bumps of "multi_gauss" (the Playground's).
_BUMPS = np.array(
    [
        [-4.0, 2.5, 1.0],
        [0.0, 2.5, -1.0],
        [4.0, 2.5, 1.0],
        [-4.0, -2.5, -1.0],
        [0.0, -2.5, 1.0],
        [4.0, -2.5, -1.0],
    ]
)


def multi_gauss_target(X):
    """The noise-free target of "multi_gauss" at points ``X`` (n, 2).

    Each bump gives ``sign * clip(1 - d / 2, 0, 1)`` at distance ``d`` from
    its centre; the target is the value of largest magnitude (the first such
    bump on a tie, 0 away from every bump).
    """
    X = np.asarray(X, dtype=np.float64)
    d = np.hypot(X[:, :1] - _BUMPS[:, 0], X[:, 1:2] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    pick = np.argmax(np.abs(values), axis=1)
    return values[np.arange(X.shape[0]), pick]


def make_multi_gauss(n_samples=1200, noise=0.0, random_state=None):
    """Six +-1 bumps, the Playground's regression set "multi gauss".

    Points ``U(-6, 6)^2``; the target is :func:`multi_gauss_target` at the
    point moved by ``noise * U(-6, 6)`` per coordinate: bumps at
    ``(-4, 2.5) +``, ``(0, 2.5) -``, ``(4, 2.5) +``, ``(-4, -2.5) -``,
    ``(0, -2.5) +``, ``(4, -2.5) -``, each ``1 - d / 2`` clipped to
    ``[0, 1]``.

    Parameters
    ----------
    n_samples : int, default=1200
        Number of points, at least 1.
    noise : float, default=0.0
        The Playground's noise slider divided by 100 (0 to 0.5).
    random_state : int, numpy RandomState or Generator, or None, default=None

    Returns
    -------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of float64, shape (n_samples,)
        Targets in ``[-1, 1]``.
    """
    _check_args(n_samples, noise, minimum=1)
    X, moved = _uniform_points_and_noisy_copies(
        n_samples, noise, _as_generator(random_state)
    )
    return X, multi_gauss_target(moved)


def split_train_test(X, y, train_fraction=0.5, random_state=None):
    """Shuffle, then split as the Playground does (its "ratio of training data").

    The first ``floor(n * train_fraction)`` shuffled points train, the rest
    test (the Playground's default is 50 %).

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    train_fraction : float in (0, 1), default=0.5
    random_state : int, numpy RandomState or Generator, or None, default=None

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1); got {train_fraction!r}.")
    X = np.asarray(X)
    y = np.asarray(y)
    order = _as_generator(random_state).permutation(X.shape[0])
    n_train = int(np.floor(X.shape[0] * train_fraction))
    train, test = order[:n_train], order[n_train:]
    return X[train], X[test], y[train], y[test]


#: Classification generators by the Playground's name.
CLASSIFICATION_DATASETS = {
    "circle": make_circle,
    "xor": make_xor,
    "gauss": make_gauss,
    "spiral": make_spiral,
}

#: Regression generators by the Playground's name.
REGRESSION_DATASETS = {"plane": make_plane, "multi_gauss": make_multi_gauss}
