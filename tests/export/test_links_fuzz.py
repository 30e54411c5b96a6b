"""Fuzzing what comes in from outside: share links (Train's and the 2-D playground's) and
uploaded settings files. Whatever comes in gives a spec that the page can show, within the
limits its controls state, with at most one short line about what could not be restored, or
(a settings file only) a ValueError with a short message; never another exception."""

from __future__ import annotations

import json
from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from app_pages.code_views import TRAIN_DEFAULTS, TRAIN_LIMITS
from app_pages.plane_settings import LIMITS as PLANE_LIMITS
from core.export.link_values import is_range
from core.export.links import (
    LAYER_CODES,
    LAYER_SEPARATOR,
    SETTING_SEPARATOR,
    TRAIN_KEYS,
    flat_spec_from_params,
    spec_from_params,
    spec_to_params,
)
from core.export.spec_file import spec_from_json
from core.nets.layers import LAYER_TYPES
from core.nets.model import ModelSpec
from core.plane.spec import PlaneSpec
from tests.support.fuzz import fuzz

FUZZ = fuzz()
LONGEST_MESSAGE = 900  # a few problems and the network built, each value an excerpt

# Text as links and files hold it: ordinary settings, odd numbers, anything at all, and long.
numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e3", "0x10", "1_000", "٣", " 7 ", "-0", "1e-400", "9" * 400]),
)
words = st.one_of(st.text(max_size=12), st.sampled_from(["relu", "same", "adam", "true", "on"]))
values = st.one_of(numbers, words, st.text(), st.text(min_size=300, max_size=3000))


def layer_tokens():
    """A layer as a link writes it, with settings of any kind, or any text at all."""
    codes = st.one_of(st.sampled_from(sorted(LAYER_CODES.values())), words)
    made = st.builds(
        lambda code, settings: SETTING_SEPARATOR.join([code, *settings]),
        codes,
        st.lists(st.one_of(numbers, words), max_size=7),
    )
    return st.one_of(made, st.text(max_size=40))


layer_lists = st.one_of(
    st.lists(layer_tokens(), max_size=12).map(LAYER_SEPARATOR.join),
    st.text(alphabet="~-0123456789abcdefghijklmnopqrstuvwxyz.", max_size=200),
)
train_links = st.dictionaries(
    st.one_of(st.sampled_from(["v", "layers", *TRAIN_KEYS]), st.text(max_size=30)),
    values,
    max_size=14,
).flatmap(lambda params: st.just(params) | layer_lists.map(lambda text: params | {"layers": text}))


def within(value, allowed) -> bool:
    if is_range(allowed):
        return allowed[0] <= value <= allowed[1]
    return value in allowed


def assert_within_train_limits(spec: ModelSpec) -> None:
    spec.validate()
    for name, allowed in TRAIN_LIMITS.items():
        kind, _, setting = name.rpartition(".")
        if kind:
            for layer in spec.layers:
                if layer["type"] == kind:
                    assert within(layer[setting], allowed), (name, layer)
        else:
            assert within(getattr(spec, setting), allowed), (name, spec)


def assert_one_short_line(problem: str | None) -> None:
    if problem is not None:
        assert "\n" not in problem and len(problem) <= LONGEST_MESSAGE, problem


@FUZZ
@given(train_links)
def test_any_train_link_gives_a_spec_the_page_can_show(params):
    restored = spec_from_params(params, TRAIN_DEFAULTS, TRAIN_LIMITS)
    assert_within_train_limits(restored.spec)
    assert_one_short_line(restored.problem)
    # What the page then writes in its address reads back as the same spec, untroubled.
    again = spec_from_params(spec_to_params(restored.spec), TRAIN_DEFAULTS, TRAIN_LIMITS)
    assert again.spec == restored.spec and again.problems == []


plane_links = st.dictionaries(
    st.one_of(st.sampled_from(["v", *(f.name for f in fields(PlaneSpec))]), st.text(max_size=30)),
    values,
    max_size=14,
)


@FUZZ
@given(plane_links)
def test_any_plane_link_gives_a_spec_the_sidebar_can_show(params):
    restored = flat_spec_from_params(params, PlaneSpec, PLANE_LIMITS)
    spec = restored.spec
    spec.validate()
    for name, allowed in PLANE_LIMITS.items():
        assert within(getattr(spec, name), allowed), (name, spec)
    assert_one_short_line(restored.problem)


# ----- settings files ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
# A setting's value: mostly numbers of every size and kind, short words, small lists of them.
plain_values = st.one_of(
    st.integers(-5, 5000),
    st.integers(),
    st.integers(10**300, 10**400),
    st.floats(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, 0.5, 3.0]),
    words,
    st.none(),
    st.booleans(),
)
setting_values = st.one_of(plain_values, st.lists(plain_values, max_size=3), json_values)


def spec_like_layers():
    """Layers as a settings file writes them, their values of any JSON kind."""
    setting_names = sorted({name for kind in LAYER_TYPES.values() for name in kind.settings})
    layer = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(sorted(LAYER_TYPES)), setting_values)},
        optional={name: setting_values for name in setting_names},
    )
    return st.lists(st.one_of(layer, setting_values), max_size=6)


def old_form():
    """The old flat form's three lists, of one length (else the first check refuses them)."""
    return st.integers(0, 4).flatmap(
        lambda n: st.fixed_dictionaries(
            {
                name: st.lists(plain_values, min_size=n, max_size=n)
                for name in ("hidden_units", "activations", "dropouts")
            }
        )
    )


spec_like = st.fixed_dictionaries(
    {},
    optional={
        "layers": spec_like_layers(),
        **{f.name: setting_values for f in fields(ModelSpec) if f.name != "layers"},
        "colour": json_values,
    },
)
settings_files = st.one_of(
    spec_like.map(json.dumps),
    old_form().map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.sampled_from(["[" * 100_000, '{"a": ' * 5_000, "NaN", '{"epochs": 1e999}']),
)


@FUZZ
@given(settings_files)
def test_any_settings_file_gives_a_spec_or_a_short_message(text):
    try:
        restored = spec_from_json(text, TRAIN_DEFAULTS, TRAIN_LIMITS)
    except ValueError as error:
        assert_one_short_line(str(error))
        assert str(error)
        return
    assert_within_train_limits(restored.spec)
    assert_one_short_line(restored.problem)


@FUZZ
@given(st.one_of(spec_like, old_form()).map(json.dumps))
def test_a_settings_file_made_as_the_download_is_never_a_crash(text):
    """The same property, on files shaped like the Train page's download only."""
    test_any_settings_file_gives_a_spec_or_a_short_message.hypothesis.inner_test(text)
