"""Keras model files: reading one safely, checking it fits, adapting it to the app's form.

An uploaded .keras or .h5 file is only ever loaded with Keras's safe mode, after its config has
been read as plain JSON and checked: a model carrying code (a Lambda layer) is refused, and so
is one whose input is not a 28x28 digit or whose output is not 10 classes. `standard_form` gives
every stored model the same (N, 784) in, (N, 10) probabilities out; `derive_spec` reads the spec
fields an imported model tells when the builder can express it. Keras is imported lazily.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.model import INPUT_SIZE, NUM_CLASSES, OPTIMIZERS, ModelSpec, SpecError

MAX_IMPORT_MEGABYTES = 50
MAX_IMPORT_BYTES = MAX_IMPORT_MEGABYTES * 1024 * 1024
MAX_CONFIG_BYTES = 20 * 1024 * 1024  # a model's config.json; a real MLP's is a few kilobytes
IMPORT_SUFFIXES = (".keras", ".h5", ".hdf5")
INPUT_SHAPES = ((INPUT_SIZE,), (28, 28), (28, 28, 1))
CODE_LAYERS = ("Lambda", "TFOpLambda")
ACTIVATION_ALIASES = {"silu": "swish"}


class ModelImportError(ValueError):
    """An uploaded model was refused; the message is meant for the person who uploaded it."""


def read_model_config(path: Path, filename: str) -> dict:
    """The model's architecture as JSON, read without running anything from the file."""
    not_a_model = (
        f"{filename} is not a Keras model file{{detail}}. Upload a file made with "
        "model.save('model.keras') (or a Keras .h5 file)."
    )
    if path.suffix == ".keras":
        if not zipfile.is_zipfile(path):
            raise ModelImportError(not_a_model.format(detail=" (a .keras file is a zip archive)"))
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise ModelImportError(
                    not_a_model.format(detail=" (the archive has no config.json)")
                ) from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise ModelImportError(not_a_model.format(detail=" (its config.json is too large)"))
            text = archive.read(info)
    else:
        import h5py

        try:
            with h5py.File(path, "r") as file:
                text = file.attrs.get("model_config")
                has_weights = len(file) > 0  # groups of weights, but no model
        except OSError:
            raise ModelImportError(not_a_model.format(detail=" (it is not an HDF5 file)")) from None
        if text is None:
            raise ModelImportError(
                f"{filename} holds weights only, without the model's layers. Save the whole "
                "model with model.save('model.keras') and upload that."
                if has_weights
                else not_a_model.format(detail=" (the HDF5 file has no model in it)")
            )
    try:
        config = json.loads(text)
    except (ValueError, TypeError):
        raise ModelImportError(not_a_model.format(detail=" (its config is not JSON)")) from None
    if not isinstance(config, dict):
        raise ModelImportError(not_a_model.format(detail=""))
    return config


def refuse_code_layers(config: dict, filename: str) -> None:
    """Refuse a model whose config holds Python code (Lambda layers) before loading it."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") in CODE_LAYERS:
                inner = node.get("config")
                found.append(inner.get("name", "?") if isinstance(inner, dict) else "?")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    if found:
        raise ModelImportError(_code_message(filename, ", ".join(found)))


def _code_message(filename: str, layers: str = "") -> str:
    which = f" (layer {layers})" if layers else ""
    return (
        f"Keras safe mode refused {filename}: it carries Python code in a Lambda layer{which}, "
        "and loading it would run that code. Rebuild the model from built-in layers (Flatten, "
        "Dense, Dropout, …) and save it again."
    )


def safe_load(path: Path, filename: str):
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:
        text = _error_text(error)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ModelImportError(_code_message(filename)) from None
        unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
        if unknown:
            raise ModelImportError(
                f"{filename} uses {unknown.group(1)!r}, which is not a built-in Keras layer; the "
                "playground only loads models made of built-in layers (custom code is never run)."
            ) from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelImportError(
            f"{filename} could not be loaded as a Keras model ({first[:300]}). Save it again with "
            "model.save('model.keras') in Keras 3 and upload that file."
        ) from None


def _error_text(error: BaseException) -> str:
    parts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        parts.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(parts)


def _shape_text(shape: tuple) -> str:
    """(784,) or (28, 28, any): the shape of one example as Python writes a tuple."""
    items = ["any" if n is None else str(n) for n in shape]
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def model_input_shape(model) -> tuple:
    """The shape of one input example, without the batch: (784,), (28, 28) or (28, 28, 1)."""
    return tuple(model.inputs[0].shape)[1:]


def check_model_shape(model, filename: str = "The model") -> None:
    """Refuse a model that does not take one 28x28 digit and give 10 class scores."""
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError):
        raise ModelImportError(
            f"{filename} has no defined input shape. Build it with keras.Input(shape=(784,)) "
            "before saving it."
        ) from None
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelImportError(
            f"{filename} has {len(inputs)} inputs and {len(outputs)} outputs; the playground "
            "needs one input (a 28x28 digit) and one output (10 classes)."
        )
    in_shape, out_shape = tuple(inputs[0].shape)[1:], tuple(outputs[0].shape)[1:]
    if in_shape not in INPUT_SHAPES or out_shape != (NUM_CLASSES,):
        raise ModelImportError(
            f"{filename} takes input of shape {_shape_text(in_shape)} and gives output of shape "
            f"{_shape_text(out_shape)}; the playground needs input of shape (784,), (28, 28) or "
            f"(28, 28, 1), one 28x28 digit, and output of shape (10,), one score per digit 0-9."
        )


def prepare_inputs(model, images: np.ndarray) -> np.ndarray:
    """uint8 digits (N, 28, 28) or one (28, 28) as the model expects: floats in [0, 1], shaped
    (N, 784), (N, 28, 28) or (N, 28, 28, 1) according to `model_input_shape(model)`."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    scaled = images.astype(np.float32) / np.float32(255.0)
    return scaled.reshape((len(scaled), *model_input_shape(model)))


def gives_probabilities(model) -> bool:
    """Whether the last layer is a softmax (a Dense with softmax, or a Softmax layer)."""
    last = model.layers[-1]
    return last.__class__.__name__ == "Softmax" or last.get_config().get("activation") == "softmax"


def standard_form(model):
    """The model as every stored model is: (N, 784) floats in, (N, 10) probabilities out.

    A model taking (28, 28) or (28, 28, 1) gets a Reshape in front, one giving raw scores a
    Softmax behind, so the Evaluate and Draw pages treat every run alike. Returns the model
    and whether a softmax was added.
    """
    import keras

    in_shape = model_input_shape(model)
    softmax = gives_probabilities(model)
    if in_shape == (INPUT_SIZE,) and softmax:
        return model, False
    inputs = keras.Input(shape=(INPUT_SIZE,), name="pixels")
    x = inputs if in_shape == (INPUT_SIZE,) else keras.layers.Reshape(in_shape)(inputs)
    x = model(x)
    if not softmax:
        x = keras.layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, x, name=f"imported_{model.name}"), not softmax


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
    layers = [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]
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
    compiled = (config or {}).get("compile_config") or {}
    optimizer = compiled.get("optimizer")
    if isinstance(optimizer, dict):
        name = str(optimizer.get("class_name", "")).lower()
        rate = (optimizer.get("config") or {}).get("learning_rate")
        if name in OPTIMIZERS:
            spec["optimizer"] = name
            if isinstance(rate, int | float) and rate > 0:
                spec["learning_rate"] = float(f"{rate:.6g}")
    if compiled.get("loss") in ("categorical_crossentropy", "mean_squared_error"):
        spec["loss"] = compiled["loss"]
    try:
        ModelSpec.from_dict(spec)
    except (SpecError, TypeError):
        return None
    return spec


def check_upload(data: bytes, filename: str) -> str:
    """Refuse an upload by its name and size alone; returns its suffix (".keras", ".h5", ...)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ModelImportError(
            f"{filename} is not a .keras or .h5 file. Save your model with "
            "model.save('model.keras') and upload that file."
        )
    if len(data) > MAX_IMPORT_BYTES:
        raise ModelImportError(
            f"{filename} is {len(data) / 1024 / 1024:,.1f} MB; the playground takes models up "
            f"to {MAX_IMPORT_MEGABYTES} MB (an MNIST network is usually under 10 MB). Upload a "
            "smaller model."
        )
    return suffix


def read_upload(path: Path, filename: str) -> tuple[Any, dict[str, Any] | None, str, bool]:
    """Check and load an uploaded model file: (model in standard form, derived spec fields or
    None, architecture text, whether a softmax was added). Raises `ModelImportError`."""
    config = read_model_config(path, filename)
    refuse_code_layers(config, filename)
    model = safe_load(path, filename)
    check_model_shape(model, filename)
    spec_dict = derive_spec(model, config)
    architecture = describe_architecture(model)
    model, added_softmax = standard_form(model)
    return model, spec_dict, architecture, added_softmax
