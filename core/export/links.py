"""Share links: a whole set-up as readable URL query parameters, and back.

A Train link holds every setting of a `ModelSpec`, one key each, plus the link's version:

    ?v=1&layers=dense-512-relu~dropout-0.3~dense-512-relu~dropout-0.3&optimizer=adam&lr=0.003
    &schedule=cosine&loss=categorical_crossentropy&batch=128&epochs=10&early_stopping=0
    &patience=2&restore_best=1&validation=0.1&seed=42

Layers are separated by "~" and a layer's settings by "-", in `core.nets.layers.LAYER_TYPES` order
(all of them, so a link means the same even if a default changes). Only URL-safe characters
are used, so the link stays readable in the address bar. A 2-D playground link holds the
`PlaneSpec` fields that differ from its defaults, under their own names.

Reading is forgiving: every key is read on its own, so a link that is malformed, from another
version, or out of range restores every setting it can, uses the defaults for the rest, and
`Restored.problem` says in one line what it could not restore, why, and what it did instead
(the default used, the layer left out, and then the network really built). A page passes its
`Limits`, so a link never sets what the page's controls cannot show; values are read and
echoed by core/export/link_values.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from core.export.link_values import (
    EXCERPT_CHARACTERS,
    Limits,
    LinkError,
    check_limits,
    excerpt,
    format_value,
    parse_value,
    shown,
)
from core.nets.layers import LAYER_TYPES, SpecError, clean_layer
from core.nets.model import MAX_LAYERS, ModelSpec

__all__ = [
    "LAYER_CODES",
    "VERSION",
    "Limits",
    "LinkError",
    "Restored",
    "flat_spec_from_params",
    "flat_spec_to_params",
    "format_value",
    "parse_value",
    "spec_from_params",
    "spec_to_params",
]

VERSION = 1
LAYER_SEPARATOR = "~"
SETTING_SEPARATOR = "-"
MAX_PROBLEMS_SHOWN = 5  # and no more than PROBLEMS_CHARACTERS of them: the rest are counted
PROBLEMS_CHARACTERS = 500
MAX_NAMES_SHOWN = 5

# Short, lower-case names for the layer types in a link.
LAYER_CODES = {
    "Dense": "dense",
    "Dropout": "dropout",
    "Conv2D": "conv",
    "MaxPooling2D": "maxpool",
    "BatchNormalization": "batchnorm",
    "Flatten": "flatten",
    "GlobalAveragePooling2D": "gap",
}
LAYER_TYPES_BY_CODE = {code: kind for kind, code in LAYER_CODES.items()}

# Link key -> ModelSpec field, for everything but the layers.
TRAIN_KEYS = {
    "optimizer": "optimizer",
    "lr": "learning_rate",
    "schedule": "lr_schedule",
    "loss": "loss",
    "batch": "batch_size",
    "epochs": "epochs",
    "early_stopping": "early_stopping",
    "patience": "patience",
    "restore_best": "restore_best_weights",
    "validation": "validation_split",
    "seed": "seed",
    "my_digits": "my_digits_repeats",
    "shift": "augment_shift",
    "rotation": "augment_rotation",
    "zoom": "augment_zoom",
    "thickness": "augment_thickness",
}


@dataclass
class Restored:
    """What a link gave: the spec (defaults where it could not), what went wrong and, where
    the link's network could not be built as it was, a sentence saying what was built."""

    spec: Any
    problems: list[str] = field(default_factory=list)
    built: str | None = None

    @property
    def problem(self) -> str | None:
        """One line for the page, or None when the link restored everything."""
        if not self.problems:
            return None
        said = self.problems[:1]
        for problem in self.problems[1:MAX_PROBLEMS_SHOWN]:
            if sum(map(len, said)) + len(problem) > PROBLEMS_CHARACTERS:
                break
            said.append(problem)
        if len(self.problems) > len(said):
            said.append(f"and {len(self.problems) - len(said):,} more")
        # " · " between problems: a problem's own message may hold a ";".
        line = f"Not restored from this link: {' · '.join(said)}."
        return f"{line} {self.built}" if self.built else line


def _unknown_keys(names: set[str]) -> str:
    """ "unknown settings a, b ignored": a few of them, each cut short if it is long."""
    ordered = sorted(names)
    said = [
        name if len(name) <= EXCERPT_CHARACTERS and name.isprintable() else excerpt(name)
        for name in ordered[:MAX_NAMES_SHOWN]
    ]
    if len(ordered) > len(said):
        said.append(f"and {len(ordered) - len(said):,} more")
    return f"unknown setting{'s' * (len(names) > 1)} {', '.join(said)} ignored"


# ----- layers --------------------------------------------------------------------------------


def layer_to_text(layer: dict[str, Any]) -> str:
    """A cleaned layer as "dense-512-relu": its code, then every setting in table order."""
    values = [format_value(layer[name]) for name in LAYER_TYPES[layer["type"]].settings]
    return SETTING_SEPARATOR.join([LAYER_CODES[layer["type"]], *values])


def layer_from_text(text: str, position: int, limits: Limits | None = None) -> dict[str, Any]:
    """The layer "dense-512-relu" stands for, checked; LinkError says what is wrong."""
    code, *values = text.split(SETTING_SEPARATOR)
    kind = LAYER_TYPES_BY_CODE.get(code.strip().lower())
    if kind is None:
        raise LinkError(f"layer {position} {excerpt(text)} is of no known type")
    settings = LAYER_TYPES[kind].settings
    if len(values) > len(settings):
        raise LinkError(
            f"layer {position} {excerpt(text)} has {len(values)} settings, not {len(settings)}"
        )
    layer: dict[str, Any] = {"type": kind}
    for (name, setting), value in zip(settings.items(), values, strict=False):
        layer[name] = parse_value(value, setting.default, f"layer {position} {name}")
        check_limits(f"{kind}.{name}", layer[name], limits, f"layer {position} {name}")
    try:
        return clean_layer(layer, position)
    except SpecError as error:
        raise LinkError(str(error).rstrip(".")) from None


# ----- Train -------------------------------------------------------------------------------


def spec_to_params(spec: ModelSpec) -> dict[str, str]:
    """Every setting of `spec` as query parameters (strings), with the link's version."""
    spec.validate()
    params = {
        "v": str(VERSION),
        "layers": LAYER_SEPARATOR.join(layer_to_text(layer) for layer in spec.layers),
    }
    for key, name in TRAIN_KEYS.items():
        params[key] = format_value(getattr(spec, name))
    return params


def _check_version(params: Mapping[str, str], problems: list[str]) -> None:
    """A link of another version is read key by key all the same; say so if anything fails."""
    version = params.get("v", str(VERSION)).strip()
    if version != str(VERSION):
        problems.append(
            f"the link is version {excerpt(version)} and this app reads version {VERSION}, "
            "so settings it names differently were not read"
        )


def spec_from_params(
    params: Mapping[str, str], defaults: ModelSpec, limits: Limits | None = None
) -> Restored:
    """The spec a link describes: every readable, valid setting, `defaults` for the rest.

    `params` maps keys to strings (as `st.query_params` does); `limits` narrows fields to what
    the page can show, e.g. {"epochs": (1, 50), "batch_size": [16, 32, ...],
    "Dense.units": (1, 2048)} (layer settings as "Type.setting").
    """
    problems: list[str] = []
    _check_version(params, problems)
    values: dict[str, Any] = {}
    for key, name in TRAIN_KEYS.items():
        if key not in params:
            continue
        try:
            value = parse_value(params[key], getattr(defaults, name), key)
            check_limits(name, value, limits, key)
            replace(defaults, **{name: value})  # the spec's own check of this one value
        except (LinkError, SpecError) as error:
            default = shown(getattr(defaults, name))
            problems.append(f"{str(error).rstrip('.')}, so the default {default} is used")
            continue
        values[name] = value
    layer_problems = len(problems)
    if "layers" in params:
        values["layers"] = _layers_from_text(params["layers"], limits, problems)
    spec = _combine(defaults, values, problems)
    built = _built(spec) if len(problems) > layer_problems else None
    unknown = set(params) - {"v", "layers", *TRAIN_KEYS}
    if unknown:
        problems.append(_unknown_keys(unknown))
    return Restored(spec, problems, built)


def _built(spec: ModelSpec) -> str:
    """What a link whose layers could not all be read really built."""
    hidden = "" if spec.layers else ", with no hidden layer"
    return f"The network built is {spec.architecture()}{hidden}."


def _layers_from_text(
    text: str, limits: Limits | None, problems: list[str]
) -> list[dict[str, Any]] | None:
    """The layers a link lists, leaving out the ones it cannot read (said in `problems`);
    None (the defaults') when it lists more than a spec can hold."""
    if not text.strip():
        return []
    tokens = text.split(LAYER_SEPARATOR)
    if len(tokens) > MAX_LAYERS:
        problems.append(
            f"the link lists {len(tokens):,} layers and a network holds up to {MAX_LAYERS}, "
            "so the default layers are used"
        )
        return None
    layers = []
    for position, token in enumerate(tokens, start=1):
        try:
            layers.append(layer_from_text(token, position, limits))
        except LinkError as error:
            problems.append(f"{error}, so it was left out")
    return layers


def _combine(defaults: ModelSpec, values: dict[str, Any], problems: list[str]) -> ModelSpec:
    """`defaults` with `values`; layers that do not fit together give way to the defaults."""
    if values.get("layers", ()) is None:
        values = {k: v for k, v in values.items() if k != "layers"}
    try:
        return replace(defaults, **values)
    except SpecError as error:
        if "layers" not in values:
            raise
        problems.append(
            f"the layers do not fit together ({str(error).rstrip('.')}), "
            "so the default layers are used"
        )
        values = {k: v for k, v in values.items() if k != "layers"}
        return replace(defaults, **values)


# ----- flat specs (the 2-D playground) -------------------------------------------------------


def flat_spec_to_params(spec: Any) -> dict[str, str]:
    """The fields of a flat dataclass spec that differ from its defaults, with the version."""
    default = type(spec)()
    params = {"v": str(VERSION)}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if value != getattr(default, f.name):
            params[f.name] = format_value(value)
    return params


def flat_spec_from_params(
    params: Mapping[str, str], spec_class: type, limits: Limits | None = None
) -> Restored:
    """A flat dataclass spec (such as `PlaneSpec`) from a link: what it can read, defaults for
    the rest. A value the spec refuses is left at its default and named in the problems."""
    problems: list[str] = []
    _check_version(params, problems)
    default = spec_class()
    names = {f.name for f in fields(spec_class)}
    values: dict[str, Any] = {}
    for name in [f.name for f in fields(spec_class)]:
        if name not in params:
            continue
        try:
            value = parse_value(params[name], getattr(default, name), name)
            check_limits(name, value, limits)
            replace(default, **{name: value})
        except (LinkError, ValueError) as error:
            said = shown(getattr(default, name))
            problems.append(f"{str(error).rstrip('.')}, so the default {said} is used")
            continue
        values[name] = value
    try:
        spec = replace(default, **values)
    except ValueError as error:  # values that are fine alone but not together
        problems.append(
            f"the settings do not fit together ({str(error).rstrip('.')}), "
            "so every setting is the default"
        )
        spec = default
    unknown = set(params) - names - {"v"}
    if unknown:
        problems.append(_unknown_keys(unknown))
    return Restored(spec, problems)
