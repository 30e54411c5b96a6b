"""Share links: spec -> query parameters -> spec is the identity; bad links restore what they can."""

from __future__ import annotations

import contextlib
import json
import random
import urllib.parse
from dataclasses import fields, replace

import pytest

from core.export.links import (
    LAYER_CODES,
    VERSION,
    flat_spec_from_params,
    flat_spec_to_params,
    format_value,
    parse_value,
    spec_from_params,
    spec_to_params,
)
from core.export.spec_file import spec_from_json
from core.nets.layers import LAYER_TYPES
from core.nets.model import ModelSpec
from core.nets.presets import DEFAULT_PRESET, PRESETS
from core.plane.spec import PlaneSpec
from tests.support.specs import random_specs

DEFAULT = PRESETS[DEFAULT_PRESET].spec


def through_url(params: dict[str, str]) -> dict[str, str]:
    """What a browser gives back after the parameters went through a real URL."""
    query = urllib.parse.urlencode(params)
    return dict(urllib.parse.parse_qsl(query, keep_blank_values=True))


def test_every_preset_and_random_spec_survives_the_round_trip():
    specs = [preset.spec for preset in PRESETS.values()] + list(random_specs(60, seed=1))
    assert any(spec.is_convolutional for spec in specs)
    for spec in specs:
        restored = spec_from_params(through_url(spec_to_params(spec)), defaults=DEFAULT)
        assert restored.problems == [], restored.problems
        assert restored.spec == spec
        assert restored.spec.to_json() == spec.to_json()


def test_links_use_only_characters_a_url_keeps_as_they_are():
    for spec in random_specs(30, seed=2):
        query = urllib.parse.urlencode(spec_to_params(spec))
        assert "%" not in query, query


def test_a_link_is_readable():
    params = spec_to_params(DEFAULT)
    assert params["v"] == str(VERSION)
    assert params["layers"] == "dense-512-relu~dropout-0.3~dense-512-relu~dropout-0.3"
    assert (params["optimizer"], params["lr"], params["batch"]) == ("adam", "0.003", "128")


def test_values_read_back_exactly():
    for value in [0.0, 1e-05, 3e-3, 0.1 + 0.2, 123456.789, 1e-12, 5.0]:
        text = format_value(value)
        assert "-" not in text and "e" not in text
        assert parse_value(text, 0.5, "x") == value
    assert parse_value("true", False, "x") is True and parse_value("0", True, "x") is False
    assert parse_value("17", 3, "x") == 17


def test_a_malformed_link_restores_the_rest_and_says_what_it_could_not():
    params = spec_to_params(replace(DEFAULT, epochs=7, seed=5, batch_size=64))
    params["lr"] = "fast"
    params["layers"] = "dense-64-relu~wobble-3~dropout-0.5"
    params["patience"] = "2.5"
    restored = spec_from_params(params, defaults=DEFAULT)
    spec = restored.spec
    assert (spec.epochs, spec.seed, spec.batch_size) == (7, 5, 64)  # restored
    assert spec.learning_rate == DEFAULT.learning_rate  # unreadable: the default
    assert spec.patience == DEFAULT.patience
    assert spec.layers == [
        {"type": "Dense", "units": 64, "activation": "relu"},
        {"type": "Dropout", "rate": 0.5},
    ]
    line = restored.problem
    assert "\n" not in line
    for said in ("lr 'fast' is not a number", "layer 2 'wobble-3'", "patience '2.5'"):
        assert said in line, line


def test_out_of_range_values_use_the_defaults():
    params = spec_to_params(DEFAULT) | {"epochs": "5000", "batch": "0", "validation": "1.5"}
    restored = spec_from_params(params, defaults=DEFAULT)
    for name in ("epochs", "batch_size", "validation_split"):
        assert getattr(restored.spec, name) == getattr(DEFAULT, name)
    assert len(restored.problems) == 3 and "5000" in restored.problem


def test_the_pages_own_limits_are_kept():
    params = spec_to_params(replace(DEFAULT, epochs=200, learning_rate=0.002))
    params["layers"] = "dense-4000-relu~dense-64-tanh"
    limits = {"epochs": (1, 50), "learning_rate": [0.001, 0.003], "Dense.units": (1, 2048)}
    restored = spec_from_params(params, defaults=DEFAULT, limits=limits)
    assert restored.spec.epochs == DEFAULT.epochs
    assert restored.spec.learning_rate == DEFAULT.learning_rate
    assert restored.spec.layers == [{"type": "Dense", "units": 64, "activation": "tanh"}]
    assert "epochs 200 is out of range (1 to 50)" in restored.problem
    assert (
        "layer 1 units 4,000 is out of range (1 to 2,048), so it was left out" in restored.problem
    )


def test_layers_that_do_not_fit_together_give_way_to_the_defaults():
    params = spec_to_params(DEFAULT) | {"layers": "conv-8-3-1-valid-relu~dense-10-relu"}
    restored = spec_from_params(params, defaults=DEFAULT)
    assert restored.spec.layers == DEFAULT.layers
    assert "Flatten" in restored.problem
    assert "so the default layers are used" in restored.problem
    assert restored.problem.endswith("The network built is 784-512-512-10.")


def test_a_bad_layer_says_what_was_really_built():
    """A layer left out makes another network than the link's: the message says which, and
    never that the defaults were used (the default network has two hidden layers)."""
    restored = spec_from_params({"layers": "dense-abc-relu"}, defaults=DEFAULT)
    assert restored.spec.layers == []
    line = restored.problem
    assert "defaults used instead" not in line
    assert "layer 1 units 'abc' is not a whole number, so it was left out" in line
    assert line.endswith("The network built is 784-10, with no hidden layer.")
    kept = spec_from_params({"layers": "dense-64-relu~dense-x"}, defaults=DEFAULT)
    assert kept.problem.endswith("The network built is 784-64-10.")


def test_each_problem_says_what_was_used_instead():
    params = {"epochs": "many", "seed": "-3", "colour": "red"}
    restored = spec_from_params(params, defaults=DEFAULT, limits={"seed": (0, 2**31 - 1)})
    line = restored.problem
    assert "epochs 'many' is not a whole number, so the default 10 is used" in line
    assert "seed -3 is out of range (0 to 2,147,483,647), so the default 42 is used" in line
    assert "unknown setting colour ignored" in line
    assert "The network built" not in line  # the layers are as the link says (the defaults')


def test_limits_are_written_as_a_person_writes_numbers():
    limits = {"seed": (0, 2**31 - 1), "learning_rate": (1e-05, 10.0)}
    params = {"seed": "3000000000", "lr": "20"}
    line = spec_from_params(params, defaults=DEFAULT, limits=limits).problem
    assert "seed 3,000,000,000 is out of range (0 to 2,147,483,647)" in line
    assert "lr 20 is out of range (0.00001 to 10)" in line
    assert "e+" not in line and "e-" not in line


def test_a_long_value_is_echoed_as_a_short_marked_excerpt():
    for key in ("epochs", "optimizer", "v", "x" * 5000):
        restored = spec_from_params({key: "9" * 5000, "layers": "q" * 5000}, defaults=DEFAULT)
        line = restored.problem
        assert len(line) < 400, line
        assert "…" in line and "(5,000 characters)" in line
        assert "9" * 100 not in line and "q" * 100 not in line and "x" * 100 not in line


def test_many_problems_are_counted_not_listed():
    params = {"layers": "~".join(f"wobble-{i}" for i in range(30))}
    params |= {f"key{i}": "1" for i in range(40)}
    line = spec_from_params(params, defaults=DEFAULT).problem
    assert len(line) < 600, line
    assert "and 26 more" in line  # 30 layers and the unknown keys, five of them said
    params = {"layers": "~".join(["dense-8"] * 500)}  # more layers than a network holds
    line = spec_from_params(params, defaults=DEFAULT).problem
    assert "lists 500 layers and a network holds up to 32" in line


def test_missing_settings_take_the_defaults_and_an_empty_layer_list_is_allowed():
    restored = spec_from_params({"epochs": "3", "layers": ""}, defaults=DEFAULT)
    assert restored.problems == []
    assert restored.spec == replace(DEFAULT, epochs=3, layers=[])


def test_short_layer_tokens_fill_their_defaults():
    restored = spec_from_params({"layers": "conv-16~maxpool~flatten"}, defaults=DEFAULT)
    assert restored.problems == []
    assert restored.spec.layers[0] == {
        "type": "Conv2D",
        "filters": 16,
        "kernel_size": 3,
        "strides": 1,
        "padding": "valid",
        "activation": "relu",
    }
    assert restored.spec.layers[1] == {"type": "MaxPooling2D", "pool_size": 2, "strides": 2}


def test_another_version_and_unknown_keys_are_named():
    params = spec_to_params(replace(DEFAULT, seed=3)) | {"v": "0", "units": "512.512"}
    restored = spec_from_params(params, defaults=DEFAULT)
    assert restored.spec.seed == 3
    assert "version '0'" in restored.problem and "units ignored" in restored.problem


def test_every_layer_type_has_a_code():
    assert set(LAYER_CODES) == set(LAYER_TYPES)
    assert len(set(LAYER_CODES.values())) == len(LAYER_CODES)


# ----- the 2-D playground ------------------------------------------------------------------


def random_plane_specs(count: int, seed: int):
    """Valid PlaneSpecs: each field changed at random, kept only where the spec accepts it."""
    rng = random.Random(seed)
    default = PlaneSpec()
    choices = {
        bool: lambda: rng.random() < 0.5,
        int: lambda: rng.randint(0, 600),
        float: lambda: round(rng.random(), rng.choice([1, 2, 3])),
    }
    for _ in range(count):
        spec = default
        for f in fields(PlaneSpec):
            value = getattr(default, f.name)
            if isinstance(value, str) or rng.random() < 0.5:
                continue
            with contextlib.suppress(ValueError):
                spec = replace(spec, **{f.name: choices[type(value)]()})
        yield spec


def test_plane_specs_survive_the_round_trip():
    specs = [PlaneSpec(), *random_plane_specs(40, seed=4)]
    assert len({spec.to_json() for spec in specs}) > 30  # the sample really varies
    for spec in specs:
        restored = flat_spec_from_params(through_url(flat_spec_to_params(spec)), PlaneSpec)
        assert restored.problems == [], restored.problems
        assert restored.spec == spec


def test_a_plane_link_names_only_what_differs_and_restores_what_it_can():
    assert flat_spec_to_params(PlaneSpec()) == {"v": str(VERSION)}
    params = {"v": "1", "hidden_layers": "2", "learning_rate": "abc", "data": "nonsense"}
    restored = flat_spec_from_params(params, PlaneSpec)
    assert restored.spec.hidden_layers == 2
    assert restored.spec.learning_rate == PlaneSpec().learning_rate
    assert restored.spec.data == PlaneSpec().data
    assert "learning_rate 'abc' is not a number" in restored.problem
    assert "nonsense" in restored.problem


@pytest.mark.parametrize("text", ["", "~", "dense", "dense-", "-", "dense-1-relu-extra"])
def test_odd_layer_lists_never_raise(text):
    restored = spec_from_params({"layers": text}, defaults=DEFAULT)
    assert isinstance(restored.spec, ModelSpec)


def test_a_settings_file_reads_back_and_keeps_to_the_page_limits():
    spec = replace(DEFAULT, epochs=40, seed=8)
    restored = spec_from_json(json.dumps(spec.to_dict()), defaults=DEFAULT)
    assert restored.spec == spec and restored.problem is None
    limited = spec_from_json(spec.to_json(), defaults=DEFAULT, limits={"epochs": (1, 30)})
    assert limited.spec == replace(spec, epochs=DEFAULT.epochs)
    assert "epochs 40 is out of range (1 to 30)" in limited.problem
    for text in ("[1, 2]", "{not json", '{"layers": 5}', '{"colour": "red"}'):
        with pytest.raises(ValueError):
            spec_from_json(text, defaults=DEFAULT)


def test_numbers_of_any_size_give_a_message_or_read_back():
    """Found by fuzzing: a 400-digit batch size stopped the message with an OverflowError, and a
    float written in full (3e-226) did not read back from the link the page wrote."""
    restored = spec_from_params(
        {"batch": "9" * 400}, defaults=DEFAULT, limits={"batch_size": (16, 1024)}
    )
    assert "batch 1.00e+400 is out of range (16 to 1,024)" in restored.problem
    spec = replace(DEFAULT, validation_split=3.0324237412679728e-226)
    again = spec_from_params(through_url(spec_to_params(spec)), defaults=DEFAULT)
    assert again.spec == spec and again.problems == []


def test_a_one_cycle_schedule_survives_a_link_and_a_settings_file():
    spec = replace(DEFAULT, lr_schedule="one_cycle", learning_rate=0.01, batch_size=256)
    params = spec_to_params(spec)
    assert params["schedule"] == "one_cycle"
    from_link = spec_from_params(through_url(params), defaults=DEFAULT)
    assert from_link.problems == [] and from_link.spec == spec
    from_file = spec_from_json(spec.to_json(), defaults=DEFAULT)
    assert from_file.problem is None and from_file.spec == spec
    # A schedule the playground does not know falls back to the default and says so.
    odd = spec_from_params({**params, "schedule": "one-cycle"}, defaults=DEFAULT)
    assert odd.spec.lr_schedule == DEFAULT.lr_schedule
    assert "one-cycle" in odd.problem


def test_my_digits_and_augmentation_round_trip_through_a_link_and_a_settings_file():
    spec = replace(
        ModelSpec(),
        my_digits_repeats=12,
        augment_shift=0.15,
        augment_rotation=12.5,
        augment_zoom=0.05,
        augment_thickness=2,
    )
    params = spec_to_params(spec)
    assert (params["my_digits"], params["rotation"], params["thickness"]) == ("12", "12.5", "2")
    restored = spec_from_params(params, ModelSpec())
    assert restored.spec == spec and not restored.problems
    assert spec_from_json(spec.to_json(), ModelSpec()).spec == spec
    wrong = spec_from_params({**params, "rotation": "90"}, ModelSpec())
    assert wrong.spec.augment_rotation == 0.0 and "rotation" in wrong.problem
