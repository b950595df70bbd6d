"""Pictures of the playground: output heatmaps, the network's neurons, loss
curves (matplotlib, the ``plot`` extra).

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: nothing depends on a display or on a GUI backend, so
everything works headless, and every function returns its ``Figure``. A
``path`` saves a PNG as well.

Colours are the Playground's: orange (#f59322) for -1, light grey (#e8eaeb)
for 0, blue (#0877bd) for +1; a classifier's output ``p`` (probability of the
positive class) is shown as ``2 p - 1``, so the decision boundary ``p = 0.5``
is the white line between orange and blue. Heatmaps are drawn as the
Playground draws them: every value on the fixed scale [-1, 1] (clipped), in
its 31 shades (``NUM_SHADES = 30`` steps from orange to blue), at its opacity
160/255 so that the points stay visible on saturated areas; ``discretize=True``
shows only the sign, as its "Discretize output" switch.
"""

from pathlib import Path

import numpy as np
from matplotlib.colors import (
    BoundaryNorm,
    LinearSegmentedColormap,
    ListedColormap,
    Normalize,
)
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn.base import is_classifier

from ._training import split_model

__all__ = [
    "PLAYGROUND_CMAP",
    "PLAYGROUND_SHADES",
    "model_output",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_loss_curves",
    "link_width",
    "plot_network",
    "save_figure",
]

#: The Playground's colours for -1, 0, +1.
PLAYGROUND_COLORS = ("#f59322", "#e8eaeb", "#0877bd")
#: Diverging orange-white-blue colormap over [-1, 1].
PLAYGROUND_CMAP = LinearSegmentedColormap.from_list("playground", PLAYGROUND_COLORS)
_MINUS_ONE_TO_ONE = Normalize(vmin=-1.0, vmax=1.0)
#: The Playground's heatmap colours: 31 shades (30 steps) of PLAYGROUND_CMAP,
#: [-1, 1] cut into 31 equal bins (its d3 quantize scale), at alpha 160/255.
NUM_SHADES = 30
HEATMAP_ALPHA = 160 / 255
PLAYGROUND_SHADES = ListedColormap(
    PLAYGROUND_CMAP(np.linspace(0.0, 1.0, NUM_SHADES + 1)), name="playground_shades"
)
_SHADE_NORM = BoundaryNorm(np.linspace(-1.0, 1.0, NUM_SHADES + 2), NUM_SHADES + 1)
#: Link widths on the Playground's absolute scale: |w| in [0, 5] (clipped) to
#: 1..10 units (its pixels at 30-pixel nodes), a unit LINK_UNIT points here.
LINK_WEIGHT_MAX, LINK_UNIT = 5.0, 0.45


def _heat(ax, values, extent, discretize=False):
    """``values`` (rows from y = -extent up) as the Playground's heatmap."""
    values = np.clip(np.asarray(values, dtype=np.float64), -1.0, 1.0)
    if discretize:
        values = np.where(values >= 0, 1.0, -1.0)
    ax.set_facecolor("white")
    ax.imshow(
        values,
        extent=(-extent, extent, -extent, extent),
        origin="lower",
        cmap=PLAYGROUND_SHADES,
        norm=_SHADE_NORM,
        alpha=HEATMAP_ALPHA,
        interpolation="nearest",
    )


def link_width(weight):
    """A link's width in points: the Playground's ``|w|`` on [0, 5] -> 1..10."""
    magnitude = min(abs(float(weight)), LINK_WEIGHT_MAX)
    return LINK_UNIT * (1.0 + 9.0 * magnitude / LINK_WEIGHT_MAX)


def _block_means(values, factor):
    """Means of ``factor x factor`` blocks (the Playground's reduceMatrix)."""
    n = values.shape[0] // factor
    return values.reshape(n, factor, n, factor).mean(axis=(1, 3))


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
    resolution=100,
    title=None,
    discretize=False,
):
    """Heatmap of the model's output over the input plane, with the points.

    The Playground's view: the output (see :func:`model_output`) over
    ``[-extent, extent]^2`` in its 31 shades at its opacity, a black contour
    at the decision boundary (classifiers), training points outlined in
    white, test points in black. Regression surfaces (targets in about
    [-1, 1]) use the same scale.

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
    resolution : int, default=100
        Grid points per side (the Playground's 100).
    title : str, optional
    discretize : bool, default=False
        Show only the sign of the output (the Playground's switch).

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
    _heat(ax, out, extent, discretize)
    if is_classifier(model) and out.min() < 0 < out.max() and not discretize:
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
        Passed to every panel (``extent``, ``resolution``, ``discretize``).

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
    resolution=10,
    max_units=8,
    title=None,
    discretize=False,
):
    """The Playground's network view: what every neuron computes, the
    weights between them and every neuron's bias.

    One small heatmap per neuron, layer by layer from left to right: the
    inputs (or a Pipeline's features), every hidden unit, the output. Each
    shows the neuron's output over the input plane ``[-extent, extent]^2``
    on the Playground's fixed [-1, 1] scale, in its 31 shades at its opacity
    (a ReLU unit above 1 is as blue as 1; the output of a classifier is
    :func:`model_output`'s). As in the Playground, each map is
    ``resolution x resolution`` cells, each the mean of a 10 x 10 block of a
    finer grid. The lines are the weights, coloured by value on [-1, 1] and
    as wide as the Playground draws them: ``|w|`` on the absolute scale
    [0, 5] -> 1..10 units (:func:`link_width`), so widths compare across
    layers and pictures. The small square at the lower left of a neuron is
    its bias, in the same colours.

    Parameters
    ----------
    model : fitted fastmlp estimator or Pipeline ending in one
        With 2 raw inputs.
    X, y : arrays, optional
        Training points, drawn on the output heatmap.
    path : str or Path, optional
        Save as PNG there.
    extent : float, default=6.0
    resolution : int, default=10
        Cells per side of each neuron's map (the Playground's 10).
    max_units : int, default=8
        Neurons drawn per layer; wider layers show their first ``max_units``
        and say how many are left out.
    title : str, optional
        Drawn above the layer headers.
    discretize : bool, default=False
        Show only the sign of every neuron (the Playground's switch).

    Returns
    -------
    matplotlib.figure.Figure
    """
    transform, mlp = split_model(model)
    block = 10  # the Playground's node maps: 10 x 10 means of its 100 x 100
    points, fine = _grid(extent, resolution * block)
    activations = mlp.layer_activations(transform(points))
    if getattr(mlp, "out_activation_", None) == "logistic":
        activations[-1] = 2.0 * activations[-1] - 1.0  # probabilities on [-1, 1]
    names = _input_names(model, activations[0].shape[1])
    n_cols = len(activations)
    shown = [min(a.shape[1], max_units) for a in activations]
    rows = max(shown)

    box = 0.9  # inches per heatmap
    bias = box / 6  # the Playground's 5-pixel square at 30-pixel nodes
    col_w, row_h = 2.0, 1.25
    top = 1.0 if title else 0.6  # the title gets a line above the headers
    width, height = col_w * n_cols, row_h * rows + top + 0.2
    fig = Figure(figsize=(width, height))
    back = fig.add_axes((0, 0, 1, 1))
    back.set_axis_off()
    back.set_xlim(0, width)
    back.set_ylim(0, height)

    def centre(col, unit):
        offset = (rows - shown[col]) * row_h / 2  # centre short columns
        return col_w * (col + 0.5), height - top - offset - row_h * (unit + 0.5)

    def colour(value):
        return PLAYGROUND_CMAP(_MINUS_ONE_TO_ONE(np.clip(value, -1.0, 1.0)))

    # Edges first, so the heatmaps cover their ends.
    for layer, W in enumerate(mlp.coefs_):
        W = np.asarray(W)
        for i in range(shown[layer]):
            x0, y0 = centre(layer, i)
            for j in range(shown[layer + 1]):
                x1, y1 = centre(layer + 1, j)
                w = float(W[i, j])
                back.plot(
                    [x0 + box / 2, x1 - box / 2],
                    [y0, y1],
                    color=colour(w),
                    linewidth=link_width(w),
                    solid_capstyle="butt",
                )

    layer_titles = (
        ["inputs"] + [f"hidden {i}" for i in range(1, n_cols - 1)] + ["output"]
    )
    header_y = height - top + 0.3
    for col, A in enumerate(activations):
        cx, _ = centre(col, 0)
        back.text(cx, header_y, layer_titles[col], ha="center", fontsize=9)
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
            values = _block_means(A[:, unit].reshape(fine, fine), block)
            _heat(ax, values, extent, discretize)
            if col == n_cols - 1 and X is not None and y is not None:
                _scatter(ax, X, y, "white", size=3)
                ax.set_xlim(-extent, extent)
                ax.set_ylim(-extent, extent)
            ax.set_xticks([])
            ax.set_yticks([])
            if col > 0:
                b = float(np.asarray(mlp.intercepts_[col - 1])[unit])
                back.add_patch(
                    Rectangle(
                        (ux - box / 2 - bias - box / 15, uy - box / 2 - box / 10),
                        bias,
                        bias,
                        facecolor=colour(b),
                        edgecolor="#999999",
                        linewidth=0.3,
                        zorder=3,  # over the links
                    )
                )
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
