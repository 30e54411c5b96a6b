"""The 2-D playground's whole set-up as one flat dataclass of plain values.

`PlaneSpec` holds the data (which dataset, its size, noise, test share, sample number), the
input features (one on/off field each), the network (hidden layers, then units and activation
per layer as the flat fields `units_1` .. `units_6` and `activation_1` .. `activation_6`),
dropout, regularisation, and the training settings. Every value is a str, int, float or bool,
so `to_dict` is JSON and a URL query as it is; `from_dict` refuses unknown fields and
`validate` says what is wrong and what to choose. The defaults are seed 000's network on the
four XOR points.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

DATASETS = {
    "points": "The four XOR points",
    "cloud": "Noisy XOR cloud",
    "circle": "Circle",
    "gaussians": "Two Gaussians",
    "spiral": "Spiral",
    "blobs": "Blobs (3 or more classes)",
}
# Each input feature: its spec field and how it is written.
FEATURES = {
    "x1": "x1",
    "x2": "x2",
    "x1_squared": "x1²",
    "x2_squared": "x2²",
    "x1_times_x2": "x1·x2",
    "sin_x1": "sin(x1)",
    "sin_x2": "sin(x2)",
}
PLANE_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "elu", "gelu", "leaky_relu")
PLANE_LOSSES = {"mean_squared_error": "Mean squared error", "crossentropy": "Cross-entropy"}
PLANE_OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad")
REGULARIZATIONS = {"none": "None", "l1": "L1", "l2": "L2"}
MAX_PLANE_LAYERS = 6
MAX_PLANE_UNITS = 32
MAX_CLASSES = 6


class PlaneSpecError(ValueError):
    """A spec value is out of range or unknown; the message says which and what is allowed."""


@dataclass
class PlaneSpec:
    """The playground's set-up. The defaults are seed 000's network and the four XOR points."""

    data: str = "points"
    samples: int = 400  # points drawn for every dataset but the four points
    noise: float = 0.15  # spread of the points; what it scales depends on the dataset
    test_fraction: float = 0.3  # held out to test on (not for the four points)
    sample: int = 0  # "new sample" counts up: another draw of the data, same seed
    classes: int = 3  # for the blobs
    x1: bool = True
    x2: bool = True
    x1_squared: bool = False
    x2_squared: bool = False
    x1_times_x2: bool = False
    sin_x1: bool = False
    sin_x2: bool = False
    hidden_layers: int = 1
    units_1: int = 16
    units_2: int = 8
    units_3: int = 8
    units_4: int = 8
    units_5: int = 8
    units_6: int = 8
    activation_1: str = "relu"
    activation_2: str = "relu"
    activation_3: str = "relu"
    activation_4: str = "relu"
    activation_5: str = "relu"
    activation_6: str = "relu"
    dropout: float = 0.0  # after every hidden layer
    regularization: str = "none"
    regularization_rate: float = 0.0
    loss: str = "mean_squared_error"
    optimizer: str = "adam"
    learning_rate: float = 0.001
    batch_size: int = 32  # the four points are always one batch
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    # --- derived -------------------------------------------------------------------------

    @property
    def features(self) -> list[str]:
        """The names of the features that are on, in FEATURES order."""
        return [name for name in FEATURES if getattr(self, name)]

    @property
    def units(self) -> list[int]:
        return [getattr(self, f"units_{i}") for i in range(1, self.hidden_layers + 1)]

    @property
    def activations(self) -> list[str]:
        return [getattr(self, f"activation_{i}") for i in range(1, self.hidden_layers + 1)]

    @property
    def n_classes(self) -> int:
        return self.classes if self.data == "blobs" else 2

    @property
    def outputs(self) -> int:
        """One sigmoid unit for two classes, else one softmax unit per class."""
        return 1 if self.n_classes == 2 else self.n_classes

    def architecture(self) -> str:
        """A short name such as "2-16-1": features, hidden units, outputs."""
        return "-".join(str(n) for n in [len(self.features), *self.units, self.outputs])

    # --- checking ------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every value that is out of range or unknown, each with what to choose instead."""
        found = []

        def choose(name: str, value, options) -> None:
            if value not in options:
                found.append(f"unknown {name} {value!r}; choose one of {', '.join(options)}.")

        choose("data", self.data, DATASETS)
        choose("loss", self.loss, PLANE_LOSSES)
        choose("optimizer", self.optimizer, PLANE_OPTIMIZERS)
        choose("regularization", self.regularization, REGULARIZATIONS)
        for i in range(1, MAX_PLANE_LAYERS + 1):
            choose(f"activation_{i}", getattr(self, f"activation_{i}"), PLANE_ACTIVATIONS)
            units = getattr(self, f"units_{i}")
            if not 1 <= units <= MAX_PLANE_UNITS:
                found.append(f"units_{i} is {units}; choose 1 to {MAX_PLANE_UNITS} units.")
        ranges = [
            ("samples", 20, 5000, "points"),
            ("noise", 0.0, 0.5, "(0.15 keeps the XOR corners apart)"),
            ("test_fraction", 0.05, 0.9, "of the data to hold out"),
            ("sample", 0, 2**31 - 1, "(a whole number)"),
            ("classes", 3, MAX_CLASSES, "classes for the blobs"),
            ("hidden_layers", 0, MAX_PLANE_LAYERS, "hidden layers"),
            ("dropout", 0.0, 0.9, "(the share of units dropped while training)"),
            ("regularization_rate", 0.0, 10.0, "(try 0.001 to 0.03)"),
            ("batch_size", 1, 5000, "points a batch"),
            ("seed", 0, 2**31 - 1, "(a whole number)"),
        ]
        for name, low, high, what in ranges:
            value = getattr(self, name)
            if isinstance(value, bool) or not low <= value <= high:
                found.append(f"{name} is {value!r}; choose {low} to {high} {what}.")
        if not self.learning_rate > 0 or not self.learning_rate <= 10:
            found.append(f"learning_rate is {self.learning_rate}; choose above 0 (try 0.001).")
        if not self.features:
            found.append("every input feature is off; turn on at least one (x1 and x2, say).")
        return found

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise PlaneSpecError(" ".join(problems))

    # --- plain values --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlaneSpec:
        """The spec from plain values; text such as a URL's ("0.03", "true") is read too."""
        defaults = {f.name: f.default for f in fields(cls)}
        unknown = set(data) - set(defaults)
        if unknown:
            raise PlaneSpecError(
                f"unknown fields {sorted(unknown)}; known fields: {sorted(defaults)}."
            )
        return cls(**{name: _as_type(name, value, defaults[name]) for name, value in data.items()})

    @classmethod
    def from_json(cls, text: str) -> PlaneSpec:
        return cls.from_dict(json.loads(text))


def _as_type(name: str, value: Any, default: Any) -> Any:
    """`value` as the type of the field's default, or a PlaneSpecError naming the field."""
    kind = type(default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip().lower()
    try:
        if kind is bool:
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        if kind is float:
            return float(text)
        return str(value)
    except ValueError:
        raise PlaneSpecError(
            f"{name} is {value!r}; it takes {kind.__name__} values such as {default!r}."
        ) from None
