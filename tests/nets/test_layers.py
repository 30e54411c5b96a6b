"""A layer's settings checked one by one: odd values (found by fuzzing settings files) give a
SpecError that names the layer and the setting, never another exception."""

from __future__ import annotations

import math

import pytest

from core.nets.layers import SpecError, clean_layer
from core.nets.model import ModelSpec, dense_layers


@pytest.mark.parametrize(
    ("layer", "says"),
    [
        ({"type": "Dense", "units": math.nan}, "units nan is not a whole number"),
        ({"type": "Dense", "units": math.inf}, "units inf is not a whole number"),
        (
            {"type": "Dropout", "rate": 10**400},
            "rate is far out of range; choose 0 to just under 1",
        ),
        ({"type": "Conv2D", "kernel_size": []}, "kernel_size [] is not square"),
        ({"type": "Conv2D", "kernel_size": [[3], [5]]}, "is not square"),
        ({"type": "Conv2D", "kernel_size": [{}]}, "is not a whole number"),
        ({"type": "Conv2D", "kernel_size": [math.nan]}, "kernel_size nan is not a whole number"),
        ({"type": ["Dense"]}, "unknown type ['Dense']"),
        ({"type": {"Dense": 1}}, "unknown type"),
    ],
)
def test_odd_values_are_refused_with_the_setting_named(layer, says):
    with pytest.raises(SpecError, match="layer 1") as error:
        clean_layer(layer, 1)
    assert says in str(error.value)


def test_a_window_written_as_a_list_still_reads():
    layer = clean_layer({"type": "Conv2D", "kernel_size": [5, 5], "strides": (2, 2)}, 1)
    assert (layer["kernel_size"], layer["strides"]) == (5, 2)


@pytest.mark.parametrize("rate", [None, "0.2", [0.2], True])
def test_the_old_forms_dropout_rates_must_be_numbers(rate):
    with pytest.raises(SpecError, match="dropouts holds"):
        dense_layers([64], ["relu"], [rate])
    with pytest.raises(SpecError, match="dropouts holds"):
        ModelSpec.from_dict({"hidden_units": [64], "activations": ["relu"], "dropouts": [rate]})
