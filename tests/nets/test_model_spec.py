"""ModelSpec's own rules: defaults filled in, JSON round trips, Keras's window lists, layers and
training settings refused with the fix, and the old flat form of hidden units still read."""

import json

import pytest

from core.nets.model import ModelSpec, SpecError, count_parameters
from tests.support.specs import CONV, FLAT, GAP, POOL, random_specs


def test_defaults_are_filled_so_json_round_trips_are_the_identity():
    spec = ModelSpec(layers=[{"type": "Conv2D"}, {"type": "MaxPooling2D", "pool_size": 3}, FLAT])
    assert spec.layers[0] == {
        "type": "Conv2D",
        "filters": 32,
        "kernel_size": 3,
        "strides": 1,
        "padding": "valid",
        "activation": "relu",
    }
    assert spec.layers[1]["strides"] == 3  # a pooling's stride is its size unless given
    text = spec.to_json()
    assert ModelSpec.from_json(text) == spec
    assert ModelSpec.from_json(text).to_json() == text


def test_random_valid_specs_round_trip_through_json():
    specs = list(random_specs(300, seed=5))
    assert 0.3 < sum(spec.is_convolutional for spec in specs) / len(specs) < 0.7
    for spec in specs:
        text = spec.to_json()
        again = ModelSpec.from_json(text)
        assert again == spec
        assert again.to_json() == text
        assert json.loads(text)["layers"] == spec.layers


def test_keras_window_lists_are_read_as_square_numbers():
    spec = ModelSpec(layers=[{"type": "Conv2D", "kernel_size": [5, 5], "strides": (1, 1)}, FLAT])
    assert (spec.layers[0]["kernel_size"], spec.layers[0]["strides"]) == (5, 1)


# Layer lists the spec refuses, each with (a pattern of) what the message says.
BAD_LAYERS = [
    ([{"type": "Dense", "units": 8}] * 6, "6 hidden Dense layers.*0 to 5"),
    ([{"type": "LSTM"}], r"layer 1 has unknown type 'LSTM'; choose one of Dense"),
    (
        [{"type": "Dense", "units": 8, "activation": "softsign2"}],
        r"layer 1 \(Dense\): activation 'softsign2' is unknown",
    ),
    (
        [{"type": "Conv2D", "dilation": 2}, FLAT],
        r"layer 1 \(Conv2D\) has unknown setting dilation; its settings are: filters",
    ),
    (
        [{"type": "Dropout", "rate": 1.0}],
        r"layer 1 \(Dropout\): rate 1 is out of range; choose 0 to just under 1",
    ),
    ([{"type": "Conv2D", "filters": 0}, FLAT], r"filters 0 is out of range; choose 1 to"),
    ([{"type": "Conv2D", "kernel_size": [3, 5]}, FLAT], "not square"),
    ([{"type": "Dense", "units": 8.5}], "not a whole number"),
    ([{"type": "Dense", "units": True}], "not a whole number"),
    (["Dense"], "a layer is a dict"),
    # a kernel larger than the feature map it meets: 28 -> 14 -> 7 -> 3, then a 5x5 kernel
    (
        [POOL, POOL, POOL, {"type": "Conv2D", "kernel_size": 5}, FLAT],
        r"layer 4 \(Conv2D\): its 5x5 kernel is larger than the 3x3 feature map it meets; choose a kernel of at most 3",
    ),
    # a pooling that shrinks the map below 1x1: 28 -> 14 -> 7 -> 3 -> 1 -> nothing
    (
        [POOL, POOL, POOL, POOL, POOL, FLAT],
        r"layer 5 \(MaxPooling2D\): a 2x2 pooling shrinks the 1x1 feature map it meets below 1x1; remove it",
    ),
    # a Dense layer meeting a feature map without Flatten
    (
        [CONV, {"type": "Dense", "units": 8}],
        r"layer 2 \(Dense\) meets a 26x26x32 feature map; insert a Flatten or GlobalAveragePooling2D layer before it",
    ),
    # the output layer meeting a feature map
    (
        [CONV, POOL],
        r"the output layer meets a 13x13x32 feature map; end the layers with a Flatten or GlobalAveragePooling2D",
    ),
    # a Conv2D after Flatten
    (
        [CONV, FLAT, CONV],
        r"layer 3 \(Conv2D\) meets a flat vector of 21632; it works on feature maps.*Move it before",
    ),
    ([CONV, GAP, POOL], r"layer 3 \(MaxPooling2D\) meets a flat vector of 32"),
    (
        [CONV, FLAT, FLAT],
        r"layer 3 \(Flatten\) meets a flat vector of 21632, which is already flat; remove it",
    ),
    (
        [{"type": "Dense", "units": 8}, CONV, FLAT],
        r"layer 1 \(Dense\) meets a 28x28x1 feature map",
    ),
]


@pytest.mark.parametrize(("layers", "message"), BAD_LAYERS)
def test_bad_layers_are_refused_with_the_layer_and_the_fix(layers, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(layers=layers)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"learning_rate": 0}, "above 0"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"lr_schedule": "step"}, "unknown learning-rate schedule"),
        ({"batch_size": 0}, "choose 1 to 60000"),
    ],
)
def test_bad_training_settings_say_what_to_do(values, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(**values)


def test_unknown_json_fields_are_refused():
    with pytest.raises(SpecError, match="unknown spec fields"):
        ModelSpec.from_dict({"blocks": 3})


def test_old_flat_form_loads_as_dense_and_dropout_layers():
    old = {
        "hidden_units": [512, 64],
        "activations": ["relu", "tanh"],
        "dropouts": [0.2, 0.0],
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "epochs": 3,
    }
    spec = ModelSpec.from_dict(old)
    assert spec.layers == [
        {"type": "Dense", "units": 512, "activation": "relu"},
        {"type": "Dropout", "rate": 0.2},
        {"type": "Dense", "units": 64, "activation": "tanh"},
    ]
    assert (spec.optimizer, spec.learning_rate, spec.epochs) == ("sgd", 0.05, 3)
    assert spec.architecture() == "784-512-64-10"
    assert count_parameters(spec) == (784 * 512 + 512) + (512 * 64 + 64) + (64 * 10 + 10)
    assert ModelSpec.from_dict({"hidden_units": [], "activations": [], "dropouts": []}).layers == []
    assert ModelSpec.from_json(json.dumps(old)) == spec


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ({"hidden_units": [8], "activations": [], "dropouts": [0.0]}, "one value per hidden layer"),
        ({"hidden_units": [8] * 6, "activations": ["relu"] * 6, "dropouts": [0.0] * 6}, "0 to 5"),
        (
            {"hidden_units": [8], "activations": ["relu"], "dropouts": [0.0], "layers": []},
            "keep only layers",
        ),
    ],
)
def test_bad_old_forms_are_refused(old, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_dict(old)
