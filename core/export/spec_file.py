"""A settings file (the Train page's .json download) read back, held to the page's limits.

Whatever is uploaded gives a spec or a ValueError whose message says in one short line what is
wrong. The file's shape is checked before a spec is made of it: an object of known fields,
each of its kind, and layers a list of objects of plain values. So no value of the file
reaches a message but as a short excerpt, and the spec's own checks only ever meet plain
values. Then the spec goes through a share link's reading, with its limits and messages.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from core.export.link_values import MAX_WORD_CHARACTERS, Limits, excerpt
from core.export.links import Restored, spec_from_params, spec_to_params
from core.nets.layers import SpecError
from core.nets.model import MAX_LAYERS, OLD_FIELDS, ModelSpec

MAX_LAYER_KEYS = 8  # a layer's type and settings; Conv2D, the most, has six
MAX_WINDOW_ITEMS = 3  # Keras writes a window as [3, 3]

FIELD_KINDS = {f.name: type(f.default) for f in fields(ModelSpec) if f.name != "layers"}
KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a word"}


class SpecFileError(ValueError):
    """The file is not a settings file of this app; the message says why, in one line."""


def spec_from_json(text: str, defaults: ModelSpec, limits: Limits | None = None) -> Restored:
    """A spec from a downloaded settings file, held to the same page limits as a link.

    Raises a ValueError (SpecFileError, or SpecError from the spec's own checks) with a short
    message when the file is not a spec at all.
    """
    data = _load(text)
    _check_shape(data)
    try:
        spec = ModelSpec.from_dict(data)
    except SpecError as error:
        raise SpecFileError(_short(str(error))) from None
    return spec_from_params(spec_to_params(spec), defaults, limits)


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise SpecFileError("it is nested too deeply to be a settings file") from None
    except ValueError as error:
        raise SpecFileError(f"it is not JSON ({_short(str(error))})") from None
    if not isinstance(data, dict):
        raise SpecFileError(f"it holds a JSON {_json_kind(data)}, not the settings' object")
    return data


def _check_shape(data: dict[str, Any]) -> None:
    """SpecFileError unless `data` is made as a settings file is."""
    unknown = sorted(set(data) - set(FIELD_KINDS) - {"layers", *OLD_FIELDS})
    if unknown:
        names = ", ".join(excerpt(name) for name in unknown[:5])
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        raise SpecFileError(f"it has unknown fields {names}{more}")
    for name, kind in FIELD_KINDS.items():
        if name in data and not _is_kind(data[name], kind):
            raise SpecFileError(
                f"{name} is {_shown(data[name])}; it takes {KIND_NAMES[kind]}, "
                f"such as {json.dumps(getattr(ModelSpec(), name))}"
            )
    if "layers" in data:
        _check_layers(data["layers"])
    for name in OLD_FIELDS:
        if name in data:
            _check_list(data[name], name, MAX_LAYERS)


def _check_layers(layers: Any) -> None:
    _check_list(layers, "layers", MAX_LAYERS, items=False)
    for position, layer in enumerate(layers, start=1):
        if not isinstance(layer, dict) or len(layer) > MAX_LAYER_KEYS:
            raise SpecFileError(
                f"layer {position} is {_shown(layer)}; a layer is an object with a type and "
                'at most a few settings, such as {"type": "Dense", "units": 128}'
            )
        for name, value in layer.items():
            if len(name) > MAX_WORD_CHARACTERS:
                raise SpecFileError(f"layer {position} has a setting named {excerpt(name)}")
            if isinstance(value, list):
                _check_list(value, f"layer {position} {name}", MAX_WINDOW_ITEMS)
                if not value:
                    raise SpecFileError(f"layer {position} {name} is an empty list")
            elif not _is_plain(value):
                raise SpecFileError(f"layer {position} {name} is {_shown(value)}")


def _check_list(value: Any, name: str, longest: int, items: bool = True) -> None:
    """SpecFileError unless `value` is a list of at most `longest` items (plain values if
    `items`)."""
    if not isinstance(value, list):
        raise SpecFileError(f"{name} is {_shown(value)}; it takes a list")
    if len(value) > longest:
        raise SpecFileError(f"{name} lists {len(value):,} items; it holds up to {longest}")
    if items and not all(_is_plain(item) for item in value):
        raise SpecFileError(f"{name} is {_shown(value)}; it takes a list of plain values")


def _is_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    if kind is str:
        return isinstance(value, str) and len(value) <= MAX_WORD_CHARACTERS
    return isinstance(value, kind)


def _is_plain(value: Any) -> bool:
    """A number, a short word, true, false or null."""
    if isinstance(value, str):
        return len(value) <= MAX_WORD_CHARACTERS
    return value is None or isinstance(value, bool | int | float)


def _json_kind(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "number")


def _shown(value: Any) -> str:
    """A value of the file as a message names it: its JSON, cut short if it is long."""
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):
        text = _json_kind(value)
    return excerpt(text)[1:-1] if len(text) <= 24 else excerpt(text)


def _short(message: str, limit: int = 300) -> str:
    """A message of the spec's own checks, which meet only plain values, kept to one line."""
    message = " ".join(message.split()).rstrip(".")
    return message if len(message) <= limit else message[: limit - 1] + "…"
