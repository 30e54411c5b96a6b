"""Settings files read back: odd files (found by fuzzing) give a short ValueError or a spec
within the page's limits, never another exception."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from core.export.spec_file import SpecFileError, spec_from_json
from core.nets.presets import DEFAULT_PRESET, PRESETS

DEFAULT = PRESETS[DEFAULT_PRESET].spec


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"hidden_units": [0], "activations": [0], "dropouts": [None]}, "dropouts holds None"),
        ({"layers": [{"type": "Dense", "units": math.nan}]}, "units nan is not a whole number"),
        ({"layers": [{"type": "Dropout", "rate": 10**400}]}, "rate is far out of range"),
        ({"layers": [{"type": "Conv2D", "kernel_size": []}, {"type": "Flatten"}]}, "empty list"),
        ({"layers": [{"type": ["Dense"]}]}, "layer 1 has unknown type ['Dense']"),
        ({"epochs": "ten"}, 'epochs is "ten"; it takes a whole number, such as 10'),
        ({"learning_rate": [0.1]}, "learning_rate is [0.1]; it takes a number"),
        ({"optimizer": "a" * 5000}, "(5,002 characters); it takes a word"),
        ({"layers": [{"type": "Dense"}] * 40}, "layers lists 40 items; it holds up to 32"),
        ({f"field{i}": 1 for i in range(50)}, "and 45 more"),
    ],
)
def test_an_odd_file_gives_a_short_message(data, says):
    with pytest.raises(ValueError) as error:
        spec_from_json(json.dumps(data), defaults=DEFAULT)
    message = str(error.value)
    assert says in message, message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a": ' * 5_000, "{not json", "", "\x00"])
def test_text_that_is_not_a_settings_file_gives_a_short_message(text):
    with pytest.raises(SpecFileError) as error:
        spec_from_json(text, defaults=DEFAULT)
    assert len(str(error.value)) < 200


def test_a_tiny_or_huge_number_reads_back_as_it_was():
    """A float written in full (3e-226 takes 229 characters) is still a value a link reads."""
    spec = replace(DEFAULT, validation_split=3.0324237412679728e-226)
    restored = spec_from_json(spec.to_json(), defaults=DEFAULT)
    assert restored.spec == spec and restored.problem is None
    text = json.dumps({"patience": 10**300})
    restored = spec_from_json(text, defaults=DEFAULT, limits={"patience": (0, 10)})
    assert restored.spec.patience == DEFAULT.patience
    assert "patience 1.00e+300 is out of range (0 to 10), so the default 2 is used" in (
        restored.problem
    )
