"""The layers a spec may list: one table of their settings, shapes and parameter counts.

A layer is a plain dict such as {"type": "Conv2D", "filters": 32, "kernel_size": 3, ...}.
`LAYER_TYPES` maps each type name to its Keras class and its settings (default and allowed
values). `clean_layer` fills the defaults and refuses unknown types or settings; `trace`
follows the shape of the data through a list of layers without TensorFlow, so validation,
the Train page's summary table and the parameter count all come from one hand calculation
(tests/nets/test_model.py checks it against Keras's own `count_params`).

A shape is a tuple without the batch axis: (784,) for a flat vector, (height, width, channels)
for a feature map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "gelu", "selu", "swish", "leaky_relu", "linear")
PADDINGS = ("valid", "same")
MAX_FILTERS = 1024
MAX_UNITS = 4096
MAX_WINDOW = 28  # a kernel or pooling window is at most the image's side


class SpecError(ValueError):
    """A spec value is out of range or unknown; the message says which and what is allowed."""


@dataclass(frozen=True)
class Setting:
    """One setting of a layer type: its default and the values it may take."""

    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    below_high: bool = False  # the range excludes `high` (a dropout rate stays under 1)

    def clean(self, value: Any, where: str, name: str) -> Any:
        if self.choices:
            if value not in self.choices:
                raise SpecError(
                    f"{where}: {name} {value!r} is unknown; choose one of {', '.join(self.choices)}."
                )
            return value
        if isinstance(self.default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpecError(f"{where}: {name} {value!r} is not a number.")
            upper = f"just under {self.high:g}" if self.below_high else f"{self.high:g}"
            try:
                value = float(value)
            except OverflowError:  # an int beyond any float
                raise SpecError(
                    f"{where}: {name} is far out of range; choose {self.low:g} to {upper}."
                ) from None
            top_ok = value < self.high if self.below_high else value <= self.high
            if not (self.low <= value and top_ok):
                raise SpecError(
                    f"{where}: {name} {value:g} is out of range; choose {self.low:g} to {upper}."
                )
            return value
        if isinstance(value, list | tuple):  # Keras writes windows as [3, 3]
            if not value or any(repr(item) != repr(value[0]) for item in value):
                raise SpecError(
                    f"{where}: {name} {list(value)} is not square; the playground builds square "
                    f"windows only, so give one number such as {self.default}."
                )
            value = value[0]
        if not _whole(value):
            raise SpecError(f"{where}: {name} {value!r} is not a whole number.")
        value = int(value)
        if not self.low <= value <= self.high:
            raise SpecError(
                f"{where}: {name} {value} is out of range; choose {self.low:g} to {self.high:g}."
            )
        return value


def _whole(value: Any) -> bool:
    """Whether `value` is a whole number (3 or 3.0; not True, nan or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or (math.isfinite(value) and value == int(value))


@dataclass(frozen=True)
class LayerType:
    name: str
    settings: dict[str, Setting] = field(default_factory=dict)
    needs_map: bool = False  # works on a (height, width, channels) feature map only
    needs_flat: bool = False  # works on a flat vector only

    @property
    def keras_class(self):
        """The Keras layer class of this name (imported only when a model is built)."""
        import keras  # Keras: not at start-up

        return getattr(keras.layers, self.name)


def _window(default: int) -> Setting:
    return Setting(default, 1, MAX_WINDOW)


LAYER_TYPES: dict[str, LayerType] = {
    layer.name: layer
    for layer in (
        LayerType(
            "Dense",
            {
                "units": Setting(128, 1, MAX_UNITS),
                "activation": Setting("relu", choices=ACTIVATIONS),
            },
            needs_flat=True,
        ),
        LayerType("Dropout", {"rate": Setting(0.2, 0.0, 1.0, below_high=True)}),
        LayerType(
            "Conv2D",
            {
                "filters": Setting(32, 1, MAX_FILTERS),
                "kernel_size": _window(3),
                "strides": _window(1),
                "padding": Setting("valid", choices=PADDINGS),
                "activation": Setting("relu", choices=ACTIVATIONS),
            },
            needs_map=True,
        ),
        # A pooling's strides default to its pool size, as in Keras (see clean_layer).
        LayerType("MaxPooling2D", {"pool_size": _window(2), "strides": _window(2)}, needs_map=True),
        LayerType("BatchNormalization"),
        LayerType("Flatten", needs_map=True),
        LayerType("GlobalAveragePooling2D", needs_map=True),
    )
}
# A spec with any of these reads the digit as a (28, 28, 1) image (a Flatten at the start makes
# the image a row again: the dense head of a convolutional network with no conv blocks).
CONVOLUTIONAL_TYPES = frozenset({"Conv2D", "MaxPooling2D", "GlobalAveragePooling2D", "Flatten"})


def clean_layer(layer: Any, position: int) -> dict[str, Any]:
    """`layer` with every setting present and checked; `position` counts from 1 for messages."""
    if not isinstance(layer, dict) or "type" not in layer:
        raise SpecError(
            f'layer {position} is {layer!r}; a layer is a dict with a "type" such as '
            f'{{"type": "Dense", "units": 128}}.'
        )
    kind = layer["type"]
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise SpecError(
            f"layer {position} has unknown type {kind!r}; choose one of {', '.join(LAYER_TYPES)}."
        )
    where = f"layer {position} ({kind})"
    settings = LAYER_TYPES[kind].settings
    unknown = sorted(set(layer) - {"type", *settings})
    if unknown:
        allowed = ", ".join(settings) if settings else "none"
        raise SpecError(
            f"{where} has unknown setting{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; its settings are: {allowed}."
        )
    cleaned: dict[str, Any] = {"type": kind}
    for name, setting in settings.items():
        value = layer.get(name, setting.default)
        if kind == "MaxPooling2D" and name == "strides" and layer.get(name) is None:
            value = cleaned["pool_size"]
        cleaned[name] = setting.clean(value, where, name)
    return cleaned


def _describe(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"a flat vector of {shape[0]}"
    return f"a {shape[0]}x{shape[1]}x{shape[2]} feature map"


def _sliding(side: int, window: int, stride: int, padding: str) -> int:
    """The side of a convolution's or pooling's output (Keras's formula)."""
    if padding == "same":
        return -(-side // stride)
    return (side - window) // stride + 1 if side >= window else 0


def output_shape(layer: dict[str, Any], shape: tuple[int, ...], position: int) -> tuple[int, ...]:
    """The shape `layer` (cleaned) turns `shape` into; SpecError with the fix if it cannot."""
    kind = layer["type"]
    where = f"layer {position} ({kind})"
    if LAYER_TYPES[kind].needs_map and len(shape) != 3:
        if kind == "Flatten":
            raise SpecError(f"{where} meets {_describe(shape)}, which is already flat; remove it.")
        raise SpecError(
            f"{where} meets {_describe(shape)}; it works on feature maps, which end at the first "
            f"Flatten, GlobalAveragePooling2D or Dense layer. Move it before that layer."
        )
    if LAYER_TYPES[kind].needs_flat and len(shape) != 1:
        raise SpecError(
            f"{where} meets {_describe(shape)}; insert a Flatten or GlobalAveragePooling2D "
            f"layer before it."
        )
    if kind == "Dense":
        return (layer["units"],)
    if kind == "Flatten":
        return (shape[0] * shape[1] * shape[2],)
    if kind == "GlobalAveragePooling2D":
        return (shape[2],)
    if kind == "Conv2D":
        k, s, pad = layer["kernel_size"], layer["strides"], layer["padding"]
        if pad == "valid" and k > min(shape[:2]):
            raise SpecError(
                f"{where}: its {k}x{k} kernel is larger than the {shape[0]}x{shape[1]} feature "
                f'map it meets; choose a kernel of at most {min(shape[:2])}, padding "same", '
                f"or fewer pooling layers before it."
            )
        return (_sliding(shape[0], k, s, pad), _sliding(shape[1], k, s, pad), layer["filters"])
    if kind == "MaxPooling2D":
        p, s = layer["pool_size"], layer["strides"]
        if p > min(shape[:2]):
            raise SpecError(
                f"{where}: a {p}x{p} pooling shrinks the {shape[0]}x{shape[1]} feature map it "
                f"meets below 1x1; remove it, use a pool size of at most {min(shape[:2])}, or "
                f"pool less before it."
            )
        return (_sliding(shape[0], p, s, "valid"), _sliding(shape[1], p, s, "valid"), shape[2])
    return shape  # Dropout, BatchNormalization


def weight_shapes(layer: dict[str, Any], shape_in: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The shapes of `layer`'s weights meeting `shape_in`, in Keras's order (kernel, bias;
    batch norm's gamma, beta, moving mean and variance); none for a layer without weights."""
    kind = layer["type"]
    if kind == "Dense":
        return [(shape_in[-1], layer["units"]), (layer["units"],)]
    if kind == "Conv2D":
        k = layer["kernel_size"]
        return [(k, k, shape_in[-1], layer["filters"]), (layer["filters"],)]
    if kind == "BatchNormalization":
        return [(shape_in[-1],)] * 4
    return []


def parameters(layer: dict[str, Any], shape_in: tuple[int, ...]) -> int:
    """Weights of `layer` meeting `shape_in`, counted as Keras's count_params counts them."""
    return sum(math.prod(shape) for shape in weight_shapes(layer, shape_in))


def trace(
    layers: list[dict[str, Any]], input_shape: tuple[int, ...]
) -> list[tuple[tuple[int, ...], int]]:
    """(output shape, parameters) of each cleaned layer in turn, from `input_shape`."""
    rows = []
    shape = input_shape
    for position, layer in enumerate(layers, start=1):
        out = output_shape(layer, shape, position)
        rows.append((out, parameters(layer, shape)))
        shape = out
    return rows


def keras_layer(layer: dict[str, Any], name: str):
    """The Keras layer for a cleaned layer dict."""
    settings = {key: value for key, value in layer.items() if key != "type"}
    return LAYER_TYPES[layer["type"]].keras_class(name=name, **settings)
