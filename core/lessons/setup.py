"""A lesson's set-up: the page it opens and that page's settings, read as a share link is.

The settings in a lesson file are the page's link keys (core/export/links.py): for "train"
`layers`, `optimizer`, `lr`, `epochs`...; for "xor" the `PlaneSpec` fields. They are read by
the same functions a shared link goes through, so a teacher can copy them from a link the app
made, and a setting the link would not restore is refused here with the link's own reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.experiments.settings import SETTINGS
from core.experiments.sweeps import DefinitionError, parse_values
from core.export.links import (
    Restored,
    flat_spec_from_params,
    format_value,
    spec_from_params,
)
from core.nets.model import ModelSpec
from core.plane.spec import PlaneSpec

# What a link says it did instead; a lesson file's setting is refused, not replaced.
LINK_FALLBACK = r", so (the default .* is used|it was left out|the default layers are used|every setting is the default)$"
PAGES = {"train": "the Train page", "xor": "the XOR page"}


class SetupError(ValueError):
    """A set-up that cannot be used; `key` names the setting at fault, to find its line."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Setup:
    """The page a lesson opens and the spec it gives that page (a ModelSpec or a PlaneSpec)."""

    page: str
    spec: Any
    params: dict[str, str]


def read_setup(data: dict[str, Any]) -> Setup:
    """The set-up of a lesson file's [setup] table; SetupError says what is wrong."""
    page = data.get("page")
    if page not in PAGES:
        raise SetupError(f'page is {page!r}; use "train" or "xor"', "page")
    params = {"v": "1"}
    for key, value in data.items():
        if key == "page":
            continue
        if isinstance(value, dict | list):
            raise SetupError(f"{key} holds a {type(value).__name__}; give one value", key)
        params[key] = value if isinstance(value, str) else format_value(value)
    restored = _read(page, params)
    if restored.problems:
        problem = re.sub(LINK_FALLBACK, "", restored.problems[0])
        culprit = _culprit(page, params)
        named = f"{culprit}: " if culprit else ""
        raise SetupError(f"{named}{problem}; fix it or leave it out", culprit)
    return Setup(page, restored.spec, params)


def _read(page: str, params: dict[str, str]) -> Restored:
    if page == "train":
        return spec_from_params(params, ModelSpec())
    return flat_spec_from_params(params, PlaneSpec)


def _culprit(page: str, params: dict[str, str]) -> str | None:
    """The first setting that a link would not restore on its own, to find its line."""
    for key, value in params.items():
        if key != "v" and _read(page, {"v": "1", key: value}).problems:
            return key
    return None


@dataclass(frozen=True)
class ExperimentPlan:
    """What a lesson's Set it up writes into the Experiments page's form: one setting varied
    over `values` (as typed in the form), `seeds` runs each, from Train's network."""

    setting: str
    values: str
    seeds: int


def read_experiment(data: Any) -> ExperimentPlan:
    """A lesson file's [experiment] table; SetupError says what is wrong."""
    if not isinstance(data, dict):
        raise SetupError("[experiment] must be a table: setting, values, seeds", "experiment")
    setting, values, seeds = data.get("setting"), data.get("values"), data.get("seeds", 3)
    if setting not in SETTINGS:
        raise SetupError(f"setting is {setting!r}; use one of {sorted(SETTINGS)}", "setting")
    if not isinstance(values, str):
        raise SetupError('values is a text as typed in the form, e.g. "1, 2"', "values")
    try:
        parse_values(setting, values)
    except DefinitionError as error:
        raise SetupError(f"values: {error}", "values") from None
    if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= 10:
        raise SetupError("seeds is a whole number from 1 to 10", "seeds")
    return ExperimentPlan(setting, values, seeds)
