"""Pictures of the playground: output heatmaps, the network's neurons, loss
curves (matplotlib, the ``plot`` extra).

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: nothing depends on a display or on a GUI backend, so
everything works headless, and every function returns its ``Figure``. A
``path`` saves a PNG as well.

Colours are the Playground's: orange (#f59322) for -1, light grey (#e8eaeb)
for 0, blue (#0877bd) for +1; a classifier's output ``p`` (probability of the
positive class) is shown as ``2 p - 1``, so the decision boundary ``p = 0.5``
is the white line between orange and blue.
"""

from pathlib import Path

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from sklearn.base import is_classifier

from ._training import split_model

__all__ = [
    "PLAYGROUND_CMAP",
    "model_output",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_loss_curves",
    "plot_network",
    "save_figure",
]

#: The Playground's colours for -1, 0, +1.
PLAYGROUND_COLORS = ("#f59322", "#e8eaeb", "#0877bd")
#: Diverging orange-white-blue colormap over [-1, 1].
PLAYGROUND_CMAP = LinearSegmentedColormap.from_list("playground", PLAYGROUND_COLORS)
_MINUS_ONE_TO_ONE = Normalize(vmin=-1.0, vmax=1.0)


def save_figure(fig, path, dpi=100):
    """Save ``fig`` as PNG at ``path`` (folders created); returns ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png")
    return fig


def model_output(model, X):
    """The model's output on X on the Playground's [-1, 1] scale, shape (n,).

    Classifiers: ``2 p - 1`` with ``p`` the probability of the last class in
    ``classes_`` (the positive one, ``+1`` or ``1``); regressors: the
    prediction itself.
    """
    if is_classifier(model):
        return 2.0 * model.predict_proba(X)[:, -1] - 1.0
    return np.asarray(model.predict(X), dtype=np.float64).ravel()


def _grid(extent, resolution):
    """``(points (r*r, 2), r)``: a square grid over ``[-extent, extent]^2``."""
    ticks = np.linspace(-extent, extent, int(resolution))
    xx, yy = np.meshgrid(ticks, ticks)
    return np.column_stack((xx.ravel(), yy.ravel())), int(resolution)


def _label_values(y):
    """Class labels to -1/+1 (positive: the larger label), targets as is."""
    y = np.asarray(y)
    if y.dtype.kind in "iub" or np.unique(y).size <= 2:
        return np.where(y == np.max(y), 1.0, -1.0)
    return y.astype(np.float64)


def _scatter(ax, X, y, edge, size=14):
    if X is None or y is None:
        return
    X = np.asarray(X)
    colors = PLAYGROUND_CMAP(_MINUS_ONE_TO_ONE(_label_values(y)))
    ax.scatter(
        X[:, 0], X[:, 1], c=colors, s=size, edgecolors=edge, linewidths=size / 20
    )


def plot_decision_boundary(
    model,
    X=None,
    y=None,
    X_test=None,
    y_test=None,
    *,
    ax=None,
    path=None,
    extent=6.0,
    resolution=120,
    title=None,
):
    """Heatmap of the model's output over the input plane, with the points.

    The Playground's view: the output (see :func:`model_output`) over
    ``[-extent, extent]^2`` in orange-white-blue, a black contour at the
    decision boundary (classifiers), training points outlined in white, test
    points in black. Regression surfaces (targets in about [-1, 1]) use the
    same scale.

    Parameters
    ----------
    model : fitted fastmlp estimator or Pipeline ending in one
        Anything with ``predict_proba`` (classifier) or ``predict``, taking
        the two raw coordinates.
    X, y : arrays of shape (n, 2) and (n,), optional
        Training points.
    X_test, y_test : arrays, optional
        Test points.
    ax : matplotlib Axes, optional
        Draw there; by default a new 4 x 4 inch Figure.
    path : str or Path, optional
        Save the figure as PNG there.
    extent : float, default=6.0
        Half-width of the square shown (the Playground shows [-6, 6]).
    resolution : int, default=120
        Grid points per side.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig = Figure(figsize=(4, 4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    points, r = _grid(extent, resolution)
    out = model_output(model, points).reshape(r, r)
    ax.imshow(
        out,
        extent=(-extent, extent, -extent, extent),
        origin="lower",
        cmap=PLAYGROUND_CMAP,
        norm=_MINUS_ONE_TO_ONE,
        interpolation="bilinear",
    )
    if is_classifier(model) and out.min() < 0 < out.max():
        ticks = np.linspace(-extent, extent, r)
        ax.contour(ticks, ticks, out, levels=[0.0], colors="black", linewidths=0.8)
    _scatter(ax, X, y, "white")
    _scatter(ax, X_test, y_test, "black")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_decision_boundaries(panels, *, ncols=3, path=None, suptitle=None, **kwargs):
    """Several :func:`plot_decision_boundary` panels side by side.

    Parameters
    ----------
    panels : list of dict
        Keyword arguments of :func:`plot_decision_boundary` per panel
        (``model``, ``X``, ``y``, ``X_test``, ``y_test``, ``title``).
    ncols : int, default=3
    path : str or Path, optional
    suptitle : str, optional
    **kwargs
        Passed to every panel (``extent``, ``resolution``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ncols = max(1, min(ncols, len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.2 * ncols, 3.3 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, panel in zip(axes, panels, strict=False):
        plot_decision_boundary(ax=ax, **{**kwargs, **panel})
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return save_figure(fig, path)


def _input_names(model, n_inputs):
    """Names of the MLP's input columns (a Pipeline's feature names)."""
    if hasattr(model, "steps") and len(model.steps) > 1:
        try:
            return [str(n) for n in model[:-1].get_feature_names_out()]
        except (AttributeError, ValueError):
            pass
    if n_inputs == 2:
        return ["X1", "X2"]
    return [f"in{i}" for i in range(n_inputs)]


def plot_network(
    model,
    X=None,
    y=None,
    *,
    path=None,
    extent=6.0,
    resolution=40,
    max_units=8,
    title=None,
):
    """The Playground's network view: what every neuron computes, and the
    weights between them.

    One small heatmap per neuron, layer by layer from left to right: the
    inputs (or a Pipeline's features), every hidden unit, the output. Each
    shows the neuron's activation over the input plane ``[-extent,
    extent]^2`` (orange negative, blue positive, scaled to the unit's largest
    magnitude; the output on the [-1, 1] scale of :func:`model_output`). The
    lines between neurons are the weights: width by magnitude (relative to
    the largest of that layer), blue positive, orange negative.

    Parameters
    ----------
    model : fitted fastmlp estimator or Pipeline ending in one
        With 2 raw inputs.
    X, y : arrays, optional
        Training points, drawn on the output heatmap.
    path : str or Path, optional
        Save as PNG there.
    extent : float, default=6.0
    resolution : int, default=40
        Grid points per side of each heatmap.
    max_units : int, default=8
        Neurons drawn per layer; wider layers show their first ``max_units``
        and say how many are left out.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    transform, mlp = split_model(model)
    points, r = _grid(extent, resolution)
    activations = mlp.layer_activations(transform(points))
    if is_classifier(mlp):
        activations[-1] = 2.0 * activations[-1] - 1.0  # probabilities on [-1, 1]
    names = _input_names(model, activations[0].shape[1])
    n_cols = len(activations)
    shown = [min(a.shape[1], max_units) for a in activations]
    rows = max(shown)

    box = 0.9  # inches per heatmap
    col_w, row_h, top = 2.0, 1.25, 0.6
    width, height = col_w * n_cols, row_h * rows + top + 0.2
    fig = Figure(figsize=(width, height))
    back = fig.add_axes((0, 0, 1, 1))
    back.set_axis_off()
    back.set_xlim(0, width)
    back.set_ylim(0, height)

    def centre(col, unit):
        offset = (rows - shown[col]) * row_h / 2  # centre short columns
        return col_w * (col + 0.5), height - top - offset - row_h * (unit + 0.5)

    # Edges first, so the heatmaps cover their ends.
    for layer, W in enumerate(mlp.coefs_):
        W = np.asarray(W)
        scale = float(np.abs(W).max()) or 1.0
        for i in range(shown[layer]):
            x0, y0 = centre(layer, i)
            for j in range(shown[layer + 1]):
                x1, y1 = centre(layer + 1, j)
                w = float(W[i, j])
                back.plot(
                    [x0 + box / 2, x1 - box / 2],
                    [y0, y1],
                    color=PLAYGROUND_COLORS[2] if w > 0 else PLAYGROUND_COLORS[0],
                    linewidth=0.3 + 3.0 * abs(w) / scale,
                    alpha=0.75,
                    solid_capstyle="butt",
                )

    layer_titles = (
        ["inputs"] + [f"hidden {i}" for i in range(1, n_cols - 1)] + ["output"]
    )
    for col, A in enumerate(activations):
        cx, _ = centre(col, 0)
        back.text(cx, height - 0.3, layer_titles[col], ha="center", fontsize=9)
        for unit in range(shown[col]):
            ux, uy = centre(col, unit)
            ax = fig.add_axes(
                (
                    (ux - box / 2) / width,
                    (uy - box / 2) / height,
                    box / width,
                    box / height,
                )
            )
            values = A[:, unit].reshape(r, r)
            if col == n_cols - 1:
                norm = _MINUS_ONE_TO_ONE
            else:
                peak = float(np.abs(values).max()) or 1.0
                norm = Normalize(vmin=-peak, vmax=peak)
            ax.imshow(
                values,
                origin="lower",
                extent=(-extent, extent, -extent, extent),
                cmap=PLAYGROUND_CMAP,
                norm=norm,
                interpolation="bilinear",
            )
            if col == n_cols - 1 and X is not None and y is not None:
                _scatter(ax, X, y, "white", size=3)
                ax.set_xlim(-extent, extent)
                ax.set_ylim(-extent, extent)
            ax.set_xticks([])
            ax.set_yticks([])
            label = names[unit] if col == 0 else f"{unit + 1}"
            back.text(ux, uy - box / 2 - 0.12, label, ha="center", fontsize=7)
        hidden = A.shape[1] - shown[col]
        if hidden > 0:
            _, ly = centre(col, shown[col] - 1)
            back.text(
                cx, ly - box / 2 - 0.3, f"+{hidden} more", ha="center", fontsize=7
            )
    if title:
        back.text(0.1, height - 0.3, title, ha="left", fontsize=9, weight="bold")
    return save_figure(fig, path)


def plot_loss_curves(curves, *, ax=None, path=None, title=None, log=False):
    """Train (solid) and test (dashed) loss per epoch.

    Parameters
    ----------
    curves : LearningCurves or dict of str -> LearningCurves
        One run, or several labelled runs (one colour each).
    ax : matplotlib Axes, optional
    path : str or Path, optional
    title : str, optional
    log : bool, default=False
        Logarithmic loss axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig = Figure(figsize=(5, 3.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    runs = curves if isinstance(curves, dict) else {"": curves}
    for k, (label, run) in enumerate(runs.items()):
        color = f"C{k}"
        prefix = f"{label} " if label else ""
        ax.plot(run.epochs, run.train_loss, color=color, label=f"{prefix}train")
        if run.test_loss:
            ax.plot(
                run.epochs,
                run.test_loss,
                color=color,
                linestyle="--",
                label=f"{prefix}test",
            )
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=2 if len(runs) > 3 else 1)
    if title:
        ax.set_title(title, fontsize=10)
    return save_figure(fig, path)
