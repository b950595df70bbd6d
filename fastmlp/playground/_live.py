"""The live Playground's session: state in the Playground's names, data,
the network, training steps and what the page draws.

The page (``static/``) sends the Playground's state (its URL-hash names:
``activation``, ``batchSize``, ``dataset``, ``networkShape``, ``x``...);
:class:`Session` makes the data and the network from it and trains one
:class:`~fastmlp.playground.PlaygroundClassifier` (or regressor) epoch by
epoch with ``partial_fit``. As in the Playground, a new learning rate
applies at once and every other change makes a new network.
"""

import math
import threading
import warnings

import numpy as np
from sklearn.utils import check_random_state

from .. import _engine
from ._datasets import (
    make_circle,
    make_gauss,
    make_multi_gauss,
    make_plane,
    make_spiral,
    make_xor,
    split_train_test,
)
from ._features import PlaygroundFeatures
from ._training import (
    data_loss,
    playground_classifier,
    playground_regressor,
    set_learning_rate,
)

#: The Playground's data sets by their URL names, and its sample counts.
DATASETS = {"circle": make_circle, "xor": make_xor, "gauss": make_gauss,
            "spiral": make_spiral}  # fmt: skip
REG_DATASETS = {"reg-plane": make_plane, "reg-gauss": make_multi_gauss}
N_CLASSIFY, N_REGRESS = 500, 1200
#: URL names of the seven inputs, in the Playground's order, and fastmlp's.
INPUTS = {"x": "X1", "y": "X2", "xSquared": "X1^2", "ySquared": "X2^2",
          "xTimesY": "X1X2", "sinX": "sin(X1)", "sinY": "sin(X2)"}  # fmt: skip
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
#: The Playground's limits.
MAX_LAYERS, MAX_NEURONS, MAX_BATCH = 6, 8, 30
#: The heatmaps: DENSITY x DENSITY over [-6, 6]^2; node maps are
#: NODE_DENSITY square (block means of the big one, as the Playground).
DENSITY, NODE_DENSITY, DOMAIN = 100, 10, 6.0

DEFAULT_STATE = {
    "activation": "tanh",
    "regularization": "none",
    "batchSize": 10,
    "dataset": "circle",
    "regDataset": "reg-plane",
    "learningRate": 0.03,
    "regularizationRate": 0.0,
    "noise": 0,
    "networkShape": [4, 2],
    "seed": "0.12345",
    "showTestData": False,
    "discretize": False,
    "percTrainData": 50,
    "x": True,
    "y": True,
    "xTimesY": False,
    "xSquared": False,
    "ySquared": False,
    "sinX": False,
    "sinY": False,
    "problem": "classification",
}
_BOOLEANS = ("showTestData", "discretize", *INPUTS)
#: Changing these changes only the picture (or, the learning rate, only the
#: next steps): no new network.
_NO_RESET = ("showTestData", "discretize", "learningRate")


class StateError(ValueError):
    """A value the Playground does not take (the page shows the message)."""


def _boolean(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise StateError(f"{name} must be true or false, got {value!r}")


def _number(name, value, low, high, integer=False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StateError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise StateError(f"{name} must be in [{low}, {high}], got {value!r}")
    if integer:
        if number != int(number):
            raise StateError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def _choice(name, value, options):
    if value not in options:
        raise StateError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def parse_state(updates, base=None):
    """A full, checked state: ``base`` (default :data:`DEFAULT_STATE`) with
    ``updates`` in the Playground's names (strings as in its URL hash, or JSON
    values). Unknown names are ignored, as the Playground ignores them.

    Raises
    ------
    StateError
        For a value outside the Playground's choices or limits.
    """
    state = dict(DEFAULT_STATE if base is None else base)
    for name, value in updates.items():
        if name not in DEFAULT_STATE:
            continue
        if name in _BOOLEANS:
            state[name] = _boolean(name, value)
        elif name == "activation":
            state[name] = _choice(name, value, ACTIVATIONS)
        elif name == "regularization":
            state[name] = _choice(name, value, ("none", "L1", "L2"))
        elif name == "problem":
            state[name] = _choice(name, value, ("classification", "regression"))
        elif name == "dataset":
            state[name] = _choice(name, value, tuple(DATASETS))
        elif name == "regDataset":
            state[name] = _choice(name, value, tuple(REG_DATASETS))
        elif name == "batchSize":
            state[name] = _number(name, value, 1, MAX_BATCH, integer=True)
        elif name == "learningRate":
            state[name] = _number(name, value, 1e-6, 10.0)
        elif name == "regularizationRate":
            state[name] = _number(name, value, 0.0, 10.0)
        elif name == "noise":
            state[name] = _number(name, value, 0, 50, integer=True)
        elif name == "percTrainData":
            state[name] = _number(name, value, 10, 90, integer=True)
        elif name == "seed":
            state[name] = str(value)[:32]
        elif name == "networkShape":
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            if not isinstance(value, list | tuple) or len(value) > MAX_LAYERS:
                raise StateError(
                    f"networkShape must be at most {MAX_LAYERS} layer sizes"
                )
            state[name] = [
                _number("a layer's size", v, 1, MAX_NEURONS, integer=True)
                for v in value
            ]
    if not any(state[k] for k in INPUTS):
        raise StateError("choose at least one input feature")
    return state


def _seed_number(seed):
    """The state's seed string as an integer seed (the Playground's seeds are
    strings such as ``0.12345``)."""
    return int.from_bytes(str(seed).encode()[:8].ljust(8, b"\0"), "little") % 2**32


def _cells(values, size):
    """Block means of a ``DENSITY x DENSITY`` map down to ``size x size``."""
    k = DENSITY // size
    return values.reshape(size, k, size, k).mean(axis=(1, 3))


class Session:
    """One page's Playground: the state, the data, the network and its epoch.

    Thread-safe: the HTTP server may call it from several threads.
    """

    def __init__(self, state=None):
        self._lock = threading.Lock()
        self.state = parse_state(state or {})
        self._regenerate()
        self._new_network()

    # -- state ----------------------------------------------------------
    def configure(self, updates):
        """Apply the Playground's state ``updates``; returns :meth:`snapshot`.

        A new learning rate applies at once; the pictures' switches change
        only the picture; anything else makes new data (data set, noise,
        ratio, problem, seed) and a new network.
        """
        with self._lock:
            new = parse_state(updates, self.state)
            changed = {k for k in new if new[k] != self.state[k]}
            self.state = new
            if changed & {"dataset", "regDataset", "noise", "percTrainData",
                          "problem", "seed"}:  # fmt: skip
                self._regenerate()
            if changed - set(_NO_RESET):
                self._new_network()
            elif "learningRate" in changed and self.epoch:
                set_learning_rate(self.model, new["learningRate"])
            return self._snapshot()

    def reset(self):
        """A new network on the same data (the Playground's reset)."""
        with self._lock:
            self._new_network()
            return self._snapshot()

    def regenerate(self):
        """New data with a new seed, and a new network."""
        with self._lock:
            rng = np.random.default_rng()
            self.state["seed"] = f"{rng.random():.5f}"
            self._regenerate()
            self._new_network()
            return self._snapshot()

    # -- training -------------------------------------------------------
    def step(self, epochs=1):
        """Train ``epochs`` epochs (the Playground's "step" is one)."""
        epochs = _number("epochs", epochs, 1, 1000, integer=True)
        with self._lock:
            for _ in range(epochs):
                self.model.partial_fit(self.Xf_train, self.y_train)
                self.epoch += 1
            return self._snapshot(points=False)

    def snapshot(self):
        """What the page draws (see :meth:`_snapshot`)."""
        with self._lock:
            return self._snapshot()

    # -- internals ------------------------------------------------------
    @property
    def classification(self):
        return self.state["problem"] == "classification"

    def _regenerate(self):
        s = self.state
        seed = _seed_number(s["seed"])
        noise = s["noise"] / 100
        if self.classification:
            X, y = DATASETS[s["dataset"]](N_CLASSIFY, noise=noise, random_state=seed)
        else:
            X, y = REG_DATASETS[s["regDataset"]](
                N_REGRESS, noise=noise, random_state=seed
            )
        split = split_train_test(X, y, s["percTrainData"] / 100, random_state=seed)
        self.X_train, self.X_test, self.y_train, self.y_test = split
        axis = np.linspace(-DOMAIN, DOMAIN, DENSITY)
        gx, gy = np.meshgrid(axis, axis[::-1])  # row 0 at the top: y = +6
        self.grid = np.column_stack([gx.ravel(), gy.ravel()])

    def _new_network(self):
        s = self.state
        names = [INPUTS[k] for k in INPUTS if s[k]]
        self.features = PlaygroundFeatures(names).fit(self.X_train)
        self.Xf_train = self.features.transform(self.X_train)
        self.Xf_test = self.features.transform(self.X_test)
        self.grid_features = self.features.transform(self.grid)
        make = playground_classifier if self.classification else playground_regressor
        regularization = s["regularization"]
        self.model = make(
            tuple(s["networkShape"]),
            activation=s["activation"],
            learning_rate=s["learningRate"],
            regularization=regularization,
            regularization_rate=s["regularizationRate"] if regularization != "none"
            else 0.0,
            batch_size=s["batchSize"],
            random_state=_seed_number(s["seed"]) + 1,
        )  # fmt: skip
        # Epoch 0 shows the initial weights, untrained (as the Playground):
        # partial_fit on one point sets the model up, then its weights are put
        # back to the initial ones (the same draw: the same random_state).
        extra = {"classes": [-1, 1]} if self.classification else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a batch of one point
            self.model.partial_fit(self.Xf_train[:1], self.y_train[:1], **extra)
        units = [self.Xf_train.shape[1], *s["networkShape"], 1]
        initial = _engine.initial_params(
            "playground", units, self.model.activation,
            check_random_state(self.model.random_state), np.float64,
        )  # fmt: skip
        self.model._params_vector()[:] = initial
        self.epoch = 0
        self.input_names = [k for k in INPUTS if s[k]]

    def _loss(self, X, y):
        return data_loss(self.model, X, y)

    def _snapshot(self, points=True):
        """``{epoch, loss_train, loss_test, weights, biases, nodes, output,
        inputs, input_names, state}``, with ``points`` also ``train`` and
        ``test`` (rows ``x, y, label``): weights and biases per layer, each
        neuron's NODE_DENSITY map (``nodes[layer][unit]``, hidden and
        output), the output's DENSITY map, each input's map."""
        model = self.model
        layers = model.layer_activations(self.grid_features)[1:]  # no inputs
        out = layers[-1][:, 0]
        nodes = [
            [_round(_cells(layer[:, j].reshape(DENSITY, DENSITY), NODE_DENSITY))
             for j in range(layer.shape[1])]
            for layer in layers
        ]  # fmt: skip
        inputs = [
            _round(_cells(self.grid_features[:, j].reshape(DENSITY, DENSITY),
                          NODE_DENSITY))
            for j in range(self.grid_features.shape[1])
        ]  # fmt: skip
        return {
            "epoch": self.epoch,
            "loss_train": self._loss(self.Xf_train, self.y_train),
            "loss_test": self._loss(self.Xf_test, self.y_test),
            "weights": [_round(w) for w in model.coefs_],
            "biases": [_round(b) for b in model.intercepts_],
            "inputs": inputs,
            "input_names": self.input_names,
            "nodes": nodes,
            "output": _round(out.reshape(DENSITY, DENSITY)),
            "state": dict(self.state),
        } | (
            {
                "train": _points(self.X_train, self.y_train),
                "test": _points(self.X_test, self.y_test),
            }
            if points
            else {}
        )


def _round(a, digits=3):
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def _points(X, y):
    return np.round(np.column_stack([X, y]), 3).tolist()
