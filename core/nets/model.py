"""The network a person builds: a plain, JSON-serialisable spec and the Keras model made from it.

`ModelSpec` holds only plain values: `layers`, a list of dicts such as
{"type": "Conv2D", "filters": 32, "kernel_size": 3, ...} (core/nets/layers.py lists the types and
their settings), and the training settings. The output Dense(10, softmax) is always added after
the listed layers. A spec with a Conv2D, MaxPooling2D, GlobalAveragePooling2D or Flatten is
convolutional: its model takes (28, 28, 1) images; any other takes the 784 pixels as a row.
Validation fills every default, so a spec's JSON round trip is the identity. `build_model` is the
one place that turns names into Keras objects.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.nets import augment
from core.nets.layers import (
    ACTIVATIONS,
    CONVOLUTIONAL_TYPES,
    LAYER_TYPES,
    SpecError,
    clean_layer,
    keras_layer,
    trace,
)
from core.nets.schedules import learning_rate_schedule
from core.runtime.seeding import seeded

__all__ = [
    "ACTIVATIONS",
    "LAYER_TYPES",
    "ModelSpec",
    "SpecError",
    "build_model",
    "count_parameters",
    "layer_table",
]

IMAGE_SIDE = 28
INPUT_SIZE = IMAGE_SIDE * IMAGE_SIDE
IMAGE_SHAPE = (IMAGE_SIDE, IMAGE_SIDE, 1)
NUM_CLASSES = 10
MAX_HIDDEN_LAYERS = 5  # hidden Dense layers
MAX_LAYERS = 32  # layers of any type
MAX_MY_DIGITS_REPEATS = 100

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam")
LOSSES = {
    "categorical_crossentropy": "Cross-entropy",
    "mean_squared_error": "Mean squared error",
}
LR_SCHEDULES = {
    "constant": "Constant",
    "cosine": "Cosine decay",
    "one_cycle": "One cycle",
}
DEFAULT_LEARNING_RATES = {
    "adam": 1e-3,
    "sgd": 1e-2,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
    "adamw": 1e-3,
    "nadam": 1e-3,
}
OLD_FIELDS = ("hidden_units", "activations", "dropouts")


def dense_layers(
    units: list[int], activations: list[str], dropouts: list[float]
) -> list[dict[str, Any]]:
    """The layers of the old flat form: Dense per hidden layer, then Dropout where its rate > 0."""
    if not len(units) == len(activations) == len(dropouts):
        raise SpecError(
            f"hidden_units has {len(units)} layers but activations has {len(activations)} and "
            f"dropouts {len(dropouts)}; give one value per hidden layer."
        )
    layers: list[dict[str, Any]] = []
    for n, activation, rate in zip(units, activations, dropouts, strict=True):
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise SpecError(
                f"dropouts holds {rate!r}; give each hidden layer's dropout rate as a number "
                "(0 for none)."
            )
        layers.append({"type": "Dense", "units": n, "activation": activation})
        if rate > 0:
            layers.append({"type": "Dropout", "rate": rate})
    return layers


def _default_layers() -> list[dict[str, Any]]:
    return dense_layers([512, 512], ["relu", "relu"], [0.2, 0.2])


@dataclass
class ModelSpec:
    """Everything needed to build and train one MNIST network, as plain values."""

    layers: list[dict[str, Any]] = field(default_factory=_default_layers)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    loss: str = "categorical_crossentropy"
    batch_size: int = 128
    epochs: int = 10
    early_stopping: bool = False
    patience: int = 2
    restore_best_weights: bool = True
    validation_split: float = 0.1
    seed: int = 42
    my_digits_repeats: int = 0  # My digits added to the training images this many times each
    augment_shift: float = 0.0  # augmentation while training (core/nets/augment.py); 0: none
    augment_rotation: float = 0.0
    augment_zoom: float = 0.0
    augment_thickness: int = 0

    def __post_init__(self) -> None:
        self.validate()

    @property
    def is_convolutional(self) -> bool:
        return any(layer.get("type") in CONVOLUTIONAL_TYPES for layer in self.layers)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return IMAGE_SHAPE if self.is_convolutional else (INPUT_SIZE,)

    def validate(self) -> None:
        """Fill each layer's defaults and check every value; SpecError names the fix."""
        if not isinstance(self.layers, list | tuple):
            raise SpecError(f"layers is {self.layers!r}; give a list of layer dicts.")
        if len(self.layers) > MAX_LAYERS:
            raise SpecError(
                f"{len(self.layers)} layers asked for; the playground builds up to {MAX_LAYERS}."
            )
        self.layers = [clean_layer(layer, i) for i, layer in enumerate(self.layers, start=1)]
        dense = sum(layer["type"] == "Dense" for layer in self.layers)
        if dense > MAX_HIDDEN_LAYERS:
            raise SpecError(
                f"{dense} hidden Dense layers asked for; the playground builds 0 to "
                f"{MAX_HIDDEN_LAYERS} (the output layer comes on top of them)."
            )
        shapes = trace(self.layers, self.input_shape)
        last = shapes[-1][0] if shapes else self.input_shape
        if len(last) != 1:
            raise SpecError(
                f"the output layer meets a {last[0]}x{last[1]}x{last[2]} feature map; end the "
                f"layers with a Flatten or GlobalAveragePooling2D (then Dense layers if you like)."
            )
        self._validate_training()

    def _validate_training(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise SpecError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise SpecError(
                f"unknown learning-rate schedule {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}."
            )
        if self.loss not in LOSSES:
            raise SpecError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}.")
        if not self.learning_rate > 0:
            raise SpecError(f"learning rate {self.learning_rate} must be above 0 (try 0.001).")
        if not 1 <= self.batch_size <= 60000:
            raise SpecError(f"batch size {self.batch_size}; choose 1 to 60000.")
        if not 1 <= self.epochs <= 1000:
            raise SpecError(f"{self.epochs} epochs; choose 1 to 1000.")
        if not 0.0 <= self.validation_split < 1.0:
            raise SpecError(
                f"validation split {self.validation_split}; choose a fraction from 0 to under 1."
            )
        if self.patience < 0:
            raise SpecError(f"patience {self.patience} must be 0 or more epochs.")
        if not 0 <= self.my_digits_repeats <= MAX_MY_DIGITS_REPEATS:
            raise SpecError(
                f"My digits repeated {self.my_digits_repeats} times; choose 0 (not used) to "
                f"{MAX_MY_DIGITS_REPEATS}."
            )
        augment.check(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """A spec from its dict; the old flat form (hidden_units, activations, dropouts) too."""
        data = dict(data)
        old = {name: data.pop(name) for name in OLD_FIELDS if name in data}
        if old:
            if "layers" in data:
                raise SpecError(
                    f"the spec has both layers and the old fields {sorted(old)}; keep only layers."
                )
            data["layers"] = dense_layers(
                list(old.get("hidden_units", [])),
                list(old.get("activations", [])),
                list(old.get("dropouts", [])),
            )
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SpecError(
                f"unknown spec fields {sorted(unknown)}; known fields are {sorted(known)}."
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        return cls.from_dict(json.loads(text))

    def dense_units(self) -> list[int]:
        return [layer["units"] for layer in self.layers if layer["type"] == "Dense"]

    def architecture(self) -> str:
        """A short name: "784-512-512-10" for a dense network; for a convolutional one the
        usual shorthand, e.g. "28x28-32C3-P2-64C3-P2-F-10" (32C3: 32 filters of 3x3; P2: 2x2
        max pooling; BN: batch norm; F: flatten; GAP: global average pooling)."""
        if not self.is_convolutional:
            return "-".join(str(n) for n in [INPUT_SIZE, *self.dense_units(), NUM_CLASSES])
        parts = [f"{IMAGE_SIDE}x{IMAGE_SIDE}"]
        for layer in self.layers:
            parts.extend(_short_name(layer))
        return "-".join([*parts, str(NUM_CLASSES)])


def _short_name(layer: dict[str, Any]) -> list[str]:
    kind = layer["type"]
    if kind == "Conv2D":
        name = f"{layer['filters']}C{layer['kernel_size']}"
        if layer["strides"] != 1:
            name += f"S{layer['strides']}"
        return [name + ("p" if layer["padding"] == "same" else "")]
    if kind == "MaxPooling2D":
        stride = "" if layer["strides"] == layer["pool_size"] else f"S{layer['strides']}"
        return [f"P{layer['pool_size']}{stride}"]
    if kind == "Dense":
        return [str(layer["units"])]
    return {"BatchNormalization": ["BN"], "Flatten": ["F"], "GlobalAveragePooling2D": ["GAP"]}.get(
        kind, []
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(None, " + ", ".join(str(n) for n in shape) + ")"


def _layer_label(layer: dict[str, Any], number: int) -> str:
    kind = layer["type"]
    if kind == "Dense":
        return f"Dense {number} ({layer['activation']})"
    if kind == "Dropout":
        return f"Dropout {number} ({layer['rate']:g})"
    if kind == "Conv2D":
        k = layer["kernel_size"]
        extra = "" if layer["strides"] == 1 else f", stride {layer['strides']}"
        extra += ", same padding" if layer["padding"] == "same" else ""
        return f"Conv2D {number} ({layer['filters']} of {k}x{k}, {layer['activation']}{extra})"
    if kind == "MaxPooling2D":
        p = layer["pool_size"]
        extra = "" if layer["strides"] == p else f", stride {layer['strides']}"
        return f"MaxPooling2D {number} ({p}x{p}{extra})"
    return kind if kind in ("Flatten", "GlobalAveragePooling2D") else f"{kind} {number}"


def describe_layer(layer: dict[str, Any]) -> str:
    """One cleaned layer in words, e.g. "Conv2D 32 of 3x3, relu" or "Dense 512, relu"."""
    kind = layer["type"]
    if kind == "Dense":
        return f"Dense {layer['units']}, {layer['activation']}"
    if kind == "Dropout":
        return f"Dropout {layer['rate']:g}"
    label = _layer_label(layer, 0)
    return label.replace(f"{kind} 0 (", f"{kind} ").rstrip(")") if "(" in label else kind


def layer_table(spec: ModelSpec) -> list[dict[str, Any]]:
    """The model summary (layer, output shape, parameters) computed without TensorFlow.

    The Train page shows it as the sliders move; `tests/nets/test_model.py` checks it against
    Keras's own model.
    """
    pixels = "Input (28x28 image)" if spec.is_convolutional else "Input (784 pixels)"
    rows: list[dict[str, Any]] = [
        {"layer": pixels, "output shape": _shape_text(spec.input_shape), "parameters": 0}
    ]
    counts: dict[str, int] = {}
    shapes = trace(spec.layers, spec.input_shape)
    for layer, (shape, params) in zip(spec.layers, shapes, strict=True):
        counts[layer["type"]] = counts.get(layer["type"], 0) + 1
        rows.append(
            {
                "layer": _layer_label(layer, counts[layer["type"]]),
                "output shape": _shape_text(shape),
                "parameters": params,
            }
        )
    last = shapes[-1][0][0] if shapes else INPUT_SIZE
    rows.append(
        {
            "layer": "Dense output (softmax)",
            "output shape": _shape_text((NUM_CLASSES,)),
            "parameters": last * NUM_CLASSES + NUM_CLASSES,
        }
    )
    return rows


def count_parameters(spec: ModelSpec) -> int:
    """Every weight of the model (trainable or not), counted from the layer sizes alone."""
    return sum(row["parameters"] for row in layer_table(spec))


def make_optimizer(
    name: str, learning_rate: float, schedule: str = "constant", total_steps: int | None = None
):
    """The named optimizer; with a schedule ("cosine", "one_cycle"), its rate follows
    `learning_rate_schedule` over `total_steps`."""
    import keras  # Keras: not at start-up

    if schedule != "constant":
        if schedule not in LR_SCHEDULES:
            raise SpecError(f"unknown learning-rate schedule {schedule!r}.")
        learning_rate = learning_rate_schedule(schedule, learning_rate, total_steps)

    table = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adagrad": keras.optimizers.Adagrad,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
    }
    if name not in table:
        raise SpecError(f"unknown optimizer {name!r}; choose one of {', '.join(table)}.")
    return table[name](learning_rate=learning_rate)


def build_model(
    spec: ModelSpec,
    *,
    steps_per_epoch: int | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
):
    """A compiled Keras model for pixels in [0, 1] (`spec.input_shape`) and 10 one-hot classes.

    `steps_per_epoch` is needed only by a learning-rate schedule (it decays over all epochs).
    """
    import keras  # Keras: not at start-up

    spec.validate()
    with seeded(spec.seed):  # the starting weights are the seed's, even with builds at once
        inputs = keras.Input(shape=spec.input_shape, name="pixels")
        x = inputs
        augmentation = augment.augmentation_layer(spec)  # acts only while training
        x = x if augmentation is None else augmentation(x)
        counts: dict[str, int] = {}
        for layer in spec.layers:
            kind = layer["type"]
            counts[kind] = counts.get(kind, 0) + 1
            x = keras_layer(layer, name=f"{_KERAS_NAMES[kind]}_{counts[kind]}")(x)
        outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output")(x)
        family = "cnn" if spec.is_convolutional else "mlp"
        model = keras.Model(inputs, outputs, name=f"{family}_{_model_name(spec)}")
    model.compile(
        optimizer=make_optimizer(
            spec.optimizer,
            spec.learning_rate,
            spec.lr_schedule,
            None if steps_per_epoch is None else steps_per_epoch * spec.epochs,
        ),
        loss=spec.loss,
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


_KERAS_NAMES = {
    "Dense": "dense",
    "Dropout": "dropout",
    "Conv2D": "conv2d",
    "MaxPooling2D": "max_pooling2d",
    "BatchNormalization": "batch_normalization",
    "Flatten": "flatten",
    "GlobalAveragePooling2D": "global_average_pooling2d",
}


def _model_name(spec: ModelSpec) -> str:
    return "".join(c if c.isalnum() else "_" for c in spec.architecture())
