"""The network a person builds: a plain, JSON-serialisable spec and the Keras model made from it.

`ModelSpec` holds only plain values (ints, floats, strings, lists of them), so it can be stored
with a run, shown side by side with another, and written to and read from JSON. `build_model`
is the one place that turns names into Keras objects.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

INPUT_SIZE = 28 * 28
NUM_CLASSES = 10
MAX_HIDDEN_LAYERS = 5

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "gelu", "selu", "swish", "leaky_relu", "linear")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam")
LOSSES = {
    "categorical_crossentropy": "Categorical cross-entropy",
    "mean_squared_error": "Mean squared error",
}
LR_SCHEDULES = {
    "constant": "Constant",
    "cosine": "Cosine decay to zero",
}
DEFAULT_LEARNING_RATES = {
    "adam": 1e-3,
    "sgd": 1e-2,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
    "adamw": 1e-3,
    "nadam": 1e-3,
}


class SpecError(ValueError):
    """A spec value is out of range or unknown; the message says which and what is allowed."""


@dataclass
class ModelSpec:
    """Everything needed to build and train one MNIST network, as plain values."""

    hidden_units: list[int] = field(default_factory=lambda: [512, 512])
    activations: list[str] = field(default_factory=lambda: ["relu", "relu"])
    dropouts: list[float] = field(default_factory=lambda: [0.2, 0.2])
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

    def __post_init__(self) -> None:
        self.validate()

    @property
    def hidden_layers(self) -> int:
        return len(self.hidden_units)

    def validate(self) -> None:
        n = len(self.hidden_units)
        if n > MAX_HIDDEN_LAYERS:
            raise SpecError(
                f"{n} hidden layers asked for; the playground builds 0 to {MAX_HIDDEN_LAYERS}."
            )
        if len(self.activations) != n or len(self.dropouts) != n:
            raise SpecError(
                f"hidden_units has {n} layers but activations has {len(self.activations)} and "
                f"dropouts {len(self.dropouts)}; give one value per hidden layer."
            )
        for units in self.hidden_units:
            if not 1 <= int(units) <= 4096:
                raise SpecError(f"a hidden layer of {units} units; choose 1 to 4096.")
        for activation in self.activations:
            if activation not in ACTIVATIONS:
                raise SpecError(
                    f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}."
                )
        for rate in self.dropouts:
            if not 0.0 <= float(rate) < 1.0:
                raise SpecError(
                    f"dropout {rate} is out of range; it is a fraction from 0 to just under 1."
                )
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
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

    def architecture(self) -> str:
        """A short name such as "784-512-512-10"."""
        return "-".join(str(n) for n in [INPUT_SIZE, *self.hidden_units, NUM_CLASSES])


def count_parameters(spec: ModelSpec) -> int:
    """Weights plus biases of every Dense layer, counted from the layer sizes alone."""
    sizes = [INPUT_SIZE, *spec.hidden_units, NUM_CLASSES]
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))


def layer_table(spec: ModelSpec) -> list[dict[str, Any]]:
    """The model summary (layer, output shape, parameters) computed without TensorFlow.

    The Train page shows it as the sliders move; `tests/test_model.py` checks it against
    Keras's own `count_params`.
    """
    rows: list[dict[str, Any]] = [
        {"layer": "Input (784 pixels)", "output shape": "(None, 784)", "parameters": 0}
    ]
    n_in = INPUT_SIZE
    for i, (units, activation, rate) in enumerate(
        zip(spec.hidden_units, spec.activations, spec.dropouts, strict=True), start=1
    ):
        rows.append(
            {
                "layer": f"Dense {i} ({activation})",
                "output shape": f"(None, {units})",
                "parameters": n_in * units + units,
            }
        )
        if rate > 0:
            rows.append(
                {
                    "layer": f"Dropout {i} ({rate:g})",
                    "output shape": f"(None, {units})",
                    "parameters": 0,
                }
            )
        n_in = units
    rows.append(
        {
            "layer": "Dense output (softmax)",
            "output shape": f"(None, {NUM_CLASSES})",
            "parameters": n_in * NUM_CLASSES + NUM_CLASSES,
        }
    )
    return rows


def make_optimizer(
    name: str, learning_rate: float, schedule: str = "constant", total_steps: int | None = None
):
    """The named optimizer; with schedule "cosine", its rate falls to zero over `total_steps`."""
    import keras

    if schedule == "cosine":
        if not total_steps:
            raise SpecError("a cosine learning-rate schedule needs the number of training steps.")
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=total_steps
        )

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
    """A compiled Keras model for 784 inputs in [0, 1] and 10 one-hot classes.

    `steps_per_epoch` is needed only by a learning-rate schedule (it decays over all epochs).
    """
    import keras

    spec.validate()
    keras.utils.set_random_seed(spec.seed)
    inputs = keras.Input(shape=(INPUT_SIZE,), name="pixels")
    x = inputs
    for i, (units, activation, rate) in enumerate(
        zip(spec.hidden_units, spec.activations, spec.dropouts, strict=True), start=1
    ):
        x = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(x)
        if rate > 0:
            x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name=f"mlp_{spec.architecture().replace('-', '_')}")
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
