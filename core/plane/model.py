"""The playground's network and what it computes over the plane.

`build_plane_model` makes the compiled Keras network from a `PlaneSpec`: the feature layer,
the hidden Dense layers (each with its activation, dropout after it, L1 or L2 on its weights),
and a sigmoid output for two classes or a softmax for more. Its starting weights come from the
spec's seed through each layer's own initializer seed, never from global state, so two
sessions building at once still get the seed's network. `predict_boundary` evaluates the
network once over a grid and keeps every unit's output there: the features, each hidden unit
and the output, with the weights that connect them.

TensorFlow and Keras are imported inside functions, so importing this module is fast.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.plane.data import XOR_INPUTS, XOR_TARGETS
from core.plane.features import make_feature_layer
from core.plane.spec import PLANE_LOSSES, PLANE_OPTIMIZERS, PlaneSpec, PlaneSpecError

GRID_RESOLUTION = 61  # points per side of the output heatmap
UNIT_RESOLUTION = 25  # points per side of each unit's small heatmap


def layer_seed(seed: int, index: int) -> int:
    """The initializer seed of layer `index` of a network built from `seed`."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] % (2**31 - 1))


def make_loss(name: str, n_classes: int):
    import keras  # Keras: not at start-up

    if name not in PLANE_LOSSES:
        raise PlaneSpecError(f"unknown loss {name!r}; choose one of {', '.join(PLANE_LOSSES)}.")
    if name == "mean_squared_error":
        return keras.losses.MeanSquaredError(name=name)
    if n_classes == 2:
        return keras.losses.BinaryCrossentropy(name="binary_crossentropy")
    return keras.losses.CategoricalCrossentropy(name="categorical_crossentropy")


def make_plane_optimizer(name: str, learning_rate: float):
    import keras  # Keras: not at start-up

    table = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adagrad": keras.optimizers.Adagrad,
    }
    if name not in table:
        raise PlaneSpecError(
            f"unknown optimizer {name!r}; choose one of {', '.join(PLANE_OPTIMIZERS)}."
        )
    return table[name](learning_rate=learning_rate)


def make_regularizer(kind: str, rate: float):
    import keras  # Keras: not at start-up

    if kind == "none" or rate == 0:
        return None
    return keras.regularizers.L1(rate) if kind == "l1" else keras.regularizers.L2(rate)


def build_plane_model(spec: PlaneSpec):
    """Features, `spec.hidden_layers` Dense layers, and the output, compiled with the spec's
    loss, optimizer and an accuracy metric; the same spec always gives the same weights."""
    import keras  # Keras: not at start-up

    spec.validate()
    layers: list[Any] = [keras.Input(shape=(2,), name="inputs"), make_feature_layer(spec.features)]
    for i, (units, activation) in enumerate(zip(spec.units, spec.activations, strict=True), 1):
        layers.append(
            keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(layer_seed(spec.seed, i)),
                kernel_regularizer=make_regularizer(spec.regularization, spec.regularization_rate),
                name=f"hidden_{i}",
            )
        )
        if spec.dropout > 0:
            layers.append(
                keras.layers.Dropout(
                    spec.dropout, seed=layer_seed(spec.seed, 100 + i), name=f"dropout_{i}"
                )
            )
    layers.append(
        keras.layers.Dense(
            spec.outputs,
            activation="sigmoid" if spec.outputs == 1 else "softmax",
            kernel_initializer=keras.initializers.GlorotUniform(layer_seed(spec.seed, 0)),
            kernel_regularizer=make_regularizer(spec.regularization, spec.regularization_rate),
            name="output",
        )
    )
    model = keras.Sequential(layers, name=f"plane_{spec.architecture().replace('-', '_')}")
    accuracy = (
        keras.metrics.BinaryAccuracy(name="accuracy")
        if spec.outputs == 1
        else keras.metrics.CategoricalAccuracy(name="accuracy")
    )
    model.compile(
        optimizer=make_plane_optimizer(spec.optimizer, spec.learning_rate),
        loss=make_loss(spec.loss, spec.n_classes),
        metrics=[accuracy],
    )
    return model


def model_dense_layers(model) -> list:
    """The model's Dense layers in order: the hidden ones, then the output."""
    import keras  # Keras: not at start-up

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


# --- the network over the plane --------------------------------------------------------------


def grid_axis(low: float, high: float, resolution: int = GRID_RESOLUTION) -> np.ndarray:
    return np.linspace(low, high, resolution, dtype="float32")


def grid_points(axis: np.ndarray) -> np.ndarray:
    """Every (x1, x2) of the grid, row by row: row i holds x2 = axis[i], x1 running along."""
    x1, x2 = np.meshgrid(axis, axis)
    return np.column_stack([x1.ravel(), x2.ravel()]).astype("float32")


@dataclass
class Boundary:
    """The network over the plane at one moment.

    `z[i, j]` is the output at (axis[j], axis[i]): the sigmoid (r, r) for two classes, or the
    softmax (r, r, k). `units[0]` holds each input feature over the smaller `unit_axis` grid,
    (features, s, s); `units[l]` each unit of hidden layer l after its activation,
    (units, s, s). `weights[l]` is (kernel, bias) of the Dense layer l + 1 (the last is the
    output's): kernel[a, b] connects unit a of the layer before to unit b.
    """

    axis: np.ndarray
    z: np.ndarray
    epoch: int
    unit_axis: np.ndarray | None = None
    units: list[np.ndarray] = field(default_factory=list)
    weights: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return 2 if self.z.ndim == 2 else self.z.shape[2]

    def classes(self) -> np.ndarray:
        """The class the network picks at each grid point, (r, r)."""
        return (self.z >= 0.5).astype("int64") if self.z.ndim == 2 else np.argmax(self.z, axis=2)


# Each network's probe (`_probe`), kept beside the network and dropped with it. Not an
# attribute of the network: Keras would track it as one of the network's layers.
_PROBES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PROBES_LOCK = threading.Lock()


def _probe(model):
    """A model giving the features, every hidden layer and the output (built once a model)."""
    import keras  # Keras: not at start-up

    with _PROBES_LOCK:
        probe = _PROBES.get(model)
    if probe is None:
        wanted = [model.get_layer("features"), *model_dense_layers(model)]
        probe = keras.Model(model.inputs[0], [layer.output for layer in wanted])
        with _PROBES_LOCK:
            probe = _PROBES.setdefault(model, probe)
    return probe


def predict_boundary(
    model, axis: np.ndarray, epoch: int = 0, unit_resolution: int = UNIT_RESOLUTION
) -> Boundary:
    """The output over the grid of `axis`, and every unit over a coarser grid, in one call."""
    unit_axis = grid_axis(float(axis[0]), float(axis[-1]), unit_resolution)
    points = np.concatenate([grid_points(axis), grid_points(unit_axis)])
    outputs = [np.asarray(out, dtype="float32") for out in _probe(model)(points, training=False)]
    n, r, s = len(axis) ** 2, len(axis), unit_resolution
    z = outputs[-1][:n].reshape(r, r, -1)
    units = [out[n:].T.reshape(-1, s, s) for out in outputs[:-1]]
    weights = [
        (np.asarray(layer.kernel, "float32"), np.asarray(layer.bias, "float32"))
        for layer in model_dense_layers(model)
    ]
    return Boundary(
        axis=axis,
        z=z[:, :, 0] if z.shape[2] == 1 else z,
        epoch=epoch,
        unit_axis=unit_axis,
        units=units,
        weights=weights,
    )


def predict_corners(model) -> np.ndarray:
    """The outputs on the four XOR inputs: (4,) for a sigmoid output, (4, k) for a softmax."""
    out = np.asarray(model(XOR_INPUTS, training=False), dtype="float32")
    return out[:, 0] if out.shape[1] == 1 else out


def prediction_rows(outputs: np.ndarray | None) -> list[dict[str, Any]]:
    """Seed 000's printout as a table: each input, its target, the raw output, rounded."""
    if outputs is not None and outputs.ndim != 1:
        outputs = None  # a softmax network has no single raw output to round
    rows = []
    for i, (x1, x2) in enumerate(XOR_INPUTS.astype(int)):
        target = int(XOR_TARGETS[i])
        raw = None if outputs is None else float(outputs[i])
        rounded = None if raw is None else int(raw >= 0.5)
        rows.append(
            {
                "input": f"({x1}, {x2})",
                "target": target,
                "raw output": raw,
                "rounded": rounded,
                "right?": None if rounded is None else ("✓" if rounded == target else "✗"),
            }
        )
    return rows
