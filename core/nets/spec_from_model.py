"""Reading a `ModelSpec` off a Keras model: what an imported model's layers and compile settings
say, when the app's builder can express it (`derive_spec`), and its short architecture name.
"""

from __future__ import annotations

from typing import Any

from core.nets.model import INPUT_SIZE, NUM_CLASSES, OPTIMIZERS, ModelSpec, SpecError

ACTIVATION_ALIASES = {"silu": "swish"}


def model_input_shape(model) -> tuple:
    """The shape of one input example, without the batch: (784,), (28, 28) or (28, 28, 1)."""
    return tuple(model.inputs[0].shape)[1:]


def describe_architecture(model) -> str:
    """The builder's short name when the model is one it can express ("784-512-512-10",
    "28x28-32C3-P2-64C3-P2-F-10"), else the layer types in order."""
    layers = spec_layers(model)
    if layers is not None:
        return ModelSpec(layers=layers).architecture()
    kinds = [
        layer.__class__.__name__
        for layer in model.layers
        if layer.__class__.__name__ != "InputLayer"
    ]
    text = "-".join(kinds)
    return text if len(text) <= 80 else text[:77] + "…"


def _square(value: Any) -> int | None:
    """3 for 3, (3, 3) or [3, 3]; None for a window that is not square."""
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple) and value and len(set(value)) == 1:
        return int(value[0])
    return None


def _activation(config: dict) -> str | None:
    activation = config.get("activation")
    if not isinstance(activation, str):
        return None
    return ACTIVATION_ALIASES.get(activation, activation)


def _spec_layer(kind: str, config: dict) -> dict[str, Any] | None:
    """The spec's dict for one Keras layer's config, or None where the builder cannot make it."""
    if kind == "Dense" and config.get("use_bias", True):
        return {"type": "Dense", "units": int(config["units"]), "activation": _activation(config)}
    if kind == "Dropout":
        return {"type": "Dropout", "rate": float(config.get("rate", 0.0))}
    if kind == "Conv2D":
        plain = (
            config.get("use_bias", True)
            and config.get("groups", 1) == 1
            and _square(config.get("dilation_rate", 1)) == 1
            and config.get("data_format", "channels_last") == "channels_last"
        )
        if not plain:
            return None
        return {
            "type": "Conv2D",
            "filters": int(config["filters"]),
            "kernel_size": _square(config["kernel_size"]),
            "strides": _square(config.get("strides", 1)),
            "padding": config.get("padding", "valid"),
            "activation": _activation(config),
        }
    if kind == "MaxPooling2D" and config.get("padding", "valid") == "valid":
        size = _square(config.get("pool_size", 2))
        strides = config.get("strides")
        return {
            "type": "MaxPooling2D",
            "pool_size": size,
            "strides": size if strides is None else _square(strides),
        }
    if kind == "BatchNormalization" and config.get("axis", -1) in (-1, 3, [3], [-1]):
        if config.get("center", True) and config.get("scale", True):
            return {"type": "BatchNormalization"}
        return None
    if kind == "Flatten":
        return {"type": "Flatten"}
    if kind == "GlobalAveragePooling2D" and not config.get("keepdims", False):
        return {"type": "GlobalAveragePooling2D"}
    return None


def spec_layers(model) -> list[dict[str, Any]] | None:
    """The spec's `layers` for a model the builder can express (its own layer types and
    settings, ending in Dense(10, softmax)), or None.

    A leading Flatten of a 28x28 input, or a Reshape of a (28, 28) input to (28, 28, 1) before
    a convolution, is the input form and not a layer of the spec.
    """
    # The augmentation layer (Train's, core/nets/augment_layers.py) is no layer of the spec.
    skipped = ("InputLayer", "Augmentation")
    layers = [layer for layer in model.layers if layer.__class__.__name__ not in skipped]
    in_shape = model_input_shape(model)
    if layers and layers[0].__class__.__name__ in ("Flatten", "Reshape"):
        first = layers[0].__class__.__name__
        target = tuple(layers[0].get_config().get("target_shape") or ())
        if first == "Flatten" or target == (INPUT_SIZE,):
            layers, in_shape = layers[1:], (INPUT_SIZE,)
        elif target == (28, 28, 1):
            layers, in_shape = layers[1:], (28, 28, 1)
    elif in_shape == (28, 28):
        return None
    if not layers:
        return None
    *hidden, last = layers
    last_config = last.get_config()
    if (
        last.__class__.__name__ != "Dense"
        or last_config.get("units") != NUM_CLASSES
        or last_config.get("activation") != "softmax"
        or not last_config.get("use_bias", True)
    ):
        return None
    spec_layers: list[dict[str, Any]] = []
    for layer in hidden:
        found = _spec_layer(layer.__class__.__name__, layer.get_config())
        if found is None or any(value is None for value in found.values()):
            return None
        spec_layers.append(found)
    try:
        spec = ModelSpec(layers=spec_layers)
    except (SpecError, TypeError, ValueError):
        return None
    return spec.layers if spec.input_shape == in_shape else None


def derive_spec(model, config: dict | None = None) -> dict[str, Any] | None:
    """The spec fields that can be read off an imported model, or None if the builder cannot
    express it.

    Layers give `layers`; the file's compile settings, if any, give optimizer, learning_rate
    and loss. Fields that cannot be known are left out.
    """
    layers = spec_layers(model)
    if layers is None:
        return None
    spec: dict[str, Any] = {"layers": layers}
    compiled = _object((config or {}).get("compile_config"))
    optimizer = compiled.get("optimizer")
    if isinstance(optimizer, dict):
        name = str(optimizer.get("class_name", "")).lower()
        rate = _object(optimizer.get("config")).get("learning_rate")
        if name in OPTIMIZERS:
            spec["optimizer"] = name
            if isinstance(rate, int | float) and not isinstance(rate, bool) and 0 < rate < 1e300:
                spec["learning_rate"] = float(f"{rate:.6g}")
    if compiled.get("loss") in ("categorical_crossentropy", "mean_squared_error"):
        spec["loss"] = compiled["loss"]
    try:
        ModelSpec.from_dict(spec)
    except (SpecError, TypeError):
        return None
    return spec


def _object(value: Any) -> dict:
    """A JSON object of a model's config; {} where the file holds anything else there."""
    return value if isinstance(value, dict) else {}
