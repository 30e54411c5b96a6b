"""Keras model files: reading one safely, checking it fits, adapting it to the app's form.

An uploaded .keras or .h5 file is only ever loaded with Keras's safe mode, after its config has
been read as plain JSON and checked: a model carrying code (a Lambda layer) is refused, and so
is one whose input is not a 28x28 digit or whose output is not 10 classes. `standard_form` gives
every stored model the same (N, 784) in, (N, 10) probabilities out. An upload that would expand
far beyond its size (a zip bomb) is refused from its entries alone, before anything is
extracted or loaded. `core.nets.spec_from_model` reads a spec off the model. Keras is imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.nets.model import INPUT_SIZE, NUM_CLASSES
from core.nets.spec_from_model import derive_spec, describe_architecture, model_input_shape

MAX_IMPORT_MEGABYTES = 50
MAX_IMPORT_BYTES = MAX_IMPORT_MEGABYTES * 1024 * 1024
MAX_CONFIG_BYTES = 20 * 1024 * 1024  # a model's config.json; a real MLP's is a few kilobytes
IMPORT_SUFFIXES = (".keras", ".h5", ".hdf5")
INPUT_SHAPES = ((INPUT_SIZE,), (28, 28), (28, 28, 1))
CODE_LAYERS = ("Lambda", "TFOpLambda")
# What an upload may expand to (a zip bomb is refused before anything is extracted or loaded).
# A .keras file holds config.json, metadata.json and model.weights.h5; float weights barely
# compress, so a real model expands to little more than its size. Small files may expand more
# (a freshly built model's zero biases compress well), up to a floor.
MAX_ARCHIVE_ENTRIES = 64
MAX_EXPANSION_RATIO = 20
MIN_EXPANDED_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_BYTES = 4 * MAX_IMPORT_BYTES


class ModelImportError(ValueError):
    """An uploaded model was refused; the message is meant for the person who uploaded it."""


def read_model_config(path: Path, filename: str) -> dict:
    """The model's architecture as JSON, read without running anything from the file."""
    not_a_model = (
        f"{filename} is not a Keras model file{{detail}}. Upload a file made with "
        "model.save('model.keras') (or a Keras .h5 file)."
    )
    if path.suffix == ".keras":
        text = _archive_config(path, filename, not_a_model)
    else:
        text = _h5_config(path, filename, not_a_model)
    try:
        config = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise ModelImportError(not_a_model.format(detail=" (its config is not JSON)")) from None
    if not isinstance(config, dict):
        raise ModelImportError(not_a_model.format(detail=""))
    return config


# What reading a damaged zip archive raises (a bad header, checksum or compressed stream, a
# method zipfile does not know, an encrypted entry, an entry cut short).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def _archive_config(path: Path, filename: str, not_a_model: str) -> bytes:
    """config.json of a .keras archive, read after the archive is checked for a zip bomb."""
    if not zipfile.is_zipfile(path):
        raise ModelImportError(not_a_model.format(detail=" (a .keras file is a zip archive)"))
    try:
        with zipfile.ZipFile(path) as archive:
            refuse_archive_bomb(archive, path.stat().st_size, filename)
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise ModelImportError(
                    not_a_model.format(detail=" (the archive has no config.json)")
                ) from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise ModelImportError(not_a_model.format(detail=" (its config.json is too large)"))
            return archive.read(info)
    except ZIP_ERRORS as error:
        raise ModelImportError(
            not_a_model.format(detail=f" (its zip archive is damaged: {_first_line(error)})")
        ) from None


def _h5_config(path: Path, filename: str, not_a_model: str) -> str | bytes:
    """The model config an HDF5 file keeps, after its datasets are checked for a bomb."""
    import h5py  # h5py: slow to import; only when a file is read

    try:
        file = h5py.File(path, "r")
    except OSError:
        raise ModelImportError(not_a_model.format(detail=" (it is not an HDF5 file)")) from None
    try:
        with file:
            text = file.attrs.get("model_config")
            has_weights = len(file) > 0  # groups of weights, but no model
            expanded = _h5_data_bytes(file)
    except Exception as error:  # a damaged file: HDF5's errors come as many Python types
        raise ModelImportError(
            not_a_model.format(detail=f" (its HDF5 structure is damaged: {_first_line(error)})")
        ) from None
    if text is None:
        raise ModelImportError(
            f"{filename} holds weights only, without the model's layers. Save the whole "
            "model with model.save('model.keras') and upload that."
            if has_weights
            else not_a_model.format(detail=" (the HDF5 file has no model in it)")
        )
    _refuse_expansion(expanded, path.stat().st_size, filename)  # datasets may be compressed
    return text


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:120].strip("'\"")


def refuse_archive_bomb(archive: zipfile.ZipFile, size: int, filename: str) -> None:
    """Refuse a .keras archive that would expand far beyond its `size` in bytes, from the
    entries' count and declared sizes alone (nothing is decompressed). Python's zipfile stops
    any entry at its declared size, so the declared sizes bound what loading it can write."""
    entries = archive.infolist()
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise ModelImportError(
            f"{filename} is an archive of {len(entries):,} files; a Keras model file holds a "
            f"few (config.json, metadata.json, model.weights.h5). Upload the file made by "
            "model.save('model.keras')."
        )
    _refuse_expansion(sum(entry.file_size for entry in entries), size, filename)


def _refuse_expansion(expanded: int, size: int, filename: str) -> None:
    allowed = min(MAX_EXPANDED_BYTES, max(MIN_EXPANDED_BYTES, MAX_EXPANSION_RATIO * size))
    if expanded > allowed:
        raise ModelImportError(
            f"{filename} is {size / 1024 / 1024:,.1f} MB but would expand to "
            f"{expanded / 1024 / 1024:,.0f} MB when read; the playground reads models that "
            f"expand to at most {allowed / 1024 / 1024:,.0f} MB, so it was refused unread. "
            "Upload the file made by model.save('model.keras')."
        )


def _h5_data_bytes(file) -> int:
    """The bytes an HDF5 file's datasets hold once read (their shapes and types, unread)."""
    import h5py  # h5py: slow to import; only when a file is read

    total = 0

    def visit(_name: str, node) -> None:
        nonlocal total
        if isinstance(node, h5py.Dataset):
            total += int(node.size) * int(node.dtype.itemsize)

    file.visititems(visit)
    return total


def _objects(node: Any) -> Iterator[dict]:
    """Every JSON object in a model's config (without recursion: a config may nest deeply)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def refuse_code_layers(config: dict, filename: str) -> None:
    """Refuse a model whose config holds Python code (Lambda layers) before loading it."""
    found = [
        inner.get("name", "?") if isinstance(inner := node.get("config"), dict) else "?"
        for node in _objects(config)
        if node.get("class_name") in CODE_LAYERS
    ]
    if found:
        raise ModelImportError(_code_message(filename, ", ".join(found)))


def _is_custom(node: dict) -> bool:
    """Keras 3 writes each object's module and, for a registered custom class, its registered
    name ("package>Class"). Keras's own Functional model also carries a registered name, which
    is just its class name, so only a name that differs from the class name counts. The
    playground's own augmentation layers (core/nets/augment_layers.py) are not custom."""
    module, registered = node.get("module"), node.get("registered_name")
    if not isinstance(registered, str):  # a damaged config may hold anything here
        registered = None
    if registered in OWN_LAYERS:
        return False
    if registered and registered != node.get("class_name"):
        return True
    return isinstance(module, str) and module.split(".")[0] != "keras"


# The registered names of the layers this app writes into models (and the exported script).
OWN_LAYERS = frozenset(f"keras_playground>{name}" for name in ("Augmentation", "StrokeThickness"))


def refuse_custom_objects(config: dict, filename: str) -> None:
    """Refuse a model naming classes that are not Keras's own, before loading it."""
    found = [
        str(node["class_name"])
        for node in _objects(config)
        if "class_name" in node and _is_custom(node)
    ]
    if found:
        raise ModelImportError(
            f"{filename} uses {', '.join(repr(name) for name in dict.fromkeys(found))}, which "
            "is not a built-in Keras layer; the playground only loads models made of built-in "
            "layers (custom code is never run)."
        )


def _code_message(filename: str, layers: str = "") -> str:
    which = f" (layer {layers})" if layers else ""
    return (
        f"Keras safe mode refused {filename}: it carries Python code in a Lambda layer{which}, "
        "and loading it would run that code. Rebuild the model from built-in layers (Flatten, "
        "Dense, Dropout, …) and save it again."
    )


def load_in_safe_mode(path: Path, compile: bool = True):
    """A .keras file's model, loaded in safe mode (no code from the file is run), the
    playground's own augmentation layers registered first (core/nets/augment_layers.py)."""
    import keras  # Keras: not at start-up

    import core.nets.augment_layers  # noqa: F401  (registers them; Keras: not at start-up)

    return keras.saving.load_model(path, safe_mode=True, compile=compile)


def safe_load(path: Path, filename: str):
    try:
        return load_in_safe_mode(path, compile=False)
    except Exception as error:
        text = _error_text(error)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ModelImportError(_code_message(filename)) from None
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
    import keras  # Keras: not at start-up

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
    refuse_custom_objects(config, filename)
    model = safe_load(path, filename)
    check_model_shape(model, filename)
    spec_dict = derive_spec(model, config)
    architecture = describe_architecture(model)
    model, added_softmax = standard_form(model)
    return model, spec_dict, architecture, added_softmax


@dataclass(frozen=True)
class CheckedUpload:
    path: Path  # the model re-saved by Keras: a clean .keras in standard form
    spec_dict: dict[str, Any] | None
    architecture: str
    message: str  # what the run's message says about where it came from


def resave_upload(data: bytes, filename: str, scratch: Path) -> CheckedUpload:
    """Check an upload (`check_upload`, `read_upload`) and re-save it in `scratch`."""
    suffix = check_upload(data, filename)
    upload = scratch / f"upload{suffix}"
    upload.write_bytes(data)
    model, spec_dict, architecture, added_softmax = read_upload(upload, filename)
    model.save(scratch / "model.keras")
    note = (
        " Its outputs were raw scores, so a softmax was added to read them as probabilities."
        if added_softmax
        else ""
    )
    message = f"Imported from {filename}.{note} Evaluate it on the test set on the Evaluate page."
    return CheckedUpload(scratch / "model.keras", spec_dict, architecture, message)


def file_sha256(path: Path) -> str:
    """The file's SHA-256, kept for model files that are not .keras (they are checked before
    loading: a .joblib file runs code when loaded, so only the app's own is ever read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
