import json

import pytest

from core.model import ModelSpec, SpecError, build_model, count_parameters, layer_table
from core.presets import DEFAULT_PRESET, PRESETS


def seed_spec(**values) -> ModelSpec:
    """The seed articles' 784-512-512-10 network with dropout."""
    return ModelSpec(
        hidden_units=[512, 512], activations=["relu", "relu"], dropouts=[0.2, 0.2], **values
    )


def test_parameter_counts_from_layer_sizes():
    # (784*512 + 512) + (512*512 + 512) + (512*10 + 10)
    assert count_parameters(seed_spec()) == 669_706
    assert count_parameters(ModelSpec(hidden_units=[], activations=[], dropouts=[])) == 7_850


@pytest.mark.parametrize(
    "spec",
    [
        seed_spec(),
        ModelSpec(hidden_units=[], activations=[], dropouts=[]),
        ModelSpec(
            hidden_units=[32, 16, 8], activations=["tanh", "gelu", "elu"], dropouts=[0.0, 0.5, 0.1]
        ),
    ],
    ids=["seed", "softmax-only", "three-layers"],
)
def test_keras_agrees_with_the_summary_table(spec):
    model = build_model(spec)
    assert model.count_params() == count_parameters(spec)
    assert sum(row["parameters"] for row in layer_table(spec)) == model.count_params()
    assert model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.units for layer in dense] == [*spec.hidden_units, 10]
    assert dense[-1].activation.__name__ == "softmax"


def test_dropout_layers_only_where_asked():
    model = build_model(
        ModelSpec(hidden_units=[16, 16], activations=["relu", "relu"], dropouts=[0.0, 0.3])
    )
    dropouts = [layer for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    assert [layer.rate for layer in dropouts] == [0.3]


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"])
def test_every_optimizer_gets_its_learning_rate(optimizer):
    model = build_model(seed_spec(optimizer=optimizer, learning_rate=0.0123))
    assert model.optimizer.__class__.__name__.lower() == optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)


def test_mean_squared_error_loss_and_cosine_schedule():
    model = build_model(
        seed_spec(loss="mean_squared_error", lr_schedule="cosine"), steps_per_epoch=100
    )
    assert model.loss == "mean_squared_error"
    schedule = model.optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(100 * 10)) == pytest.approx(0.0, abs=1e-9)


def test_json_round_trip():
    spec = seed_spec(optimizer="sgd", learning_rate=0.05, epochs=3, early_stopping=True)
    text = spec.to_json()
    assert json.loads(text)["hidden_units"] == [512, 512]
    assert ModelSpec.from_json(text) == spec


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"hidden_units": [8] * 6, "activations": ["relu"] * 6, "dropouts": [0.0] * 6}, "0 to 5"),
        ({"hidden_units": [8], "activations": [], "dropouts": [0.0]}, "one value per hidden layer"),
        (
            {"hidden_units": [8], "activations": ["softsign2"], "dropouts": [0.0]},
            "unknown activation",
        ),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"learning_rate": 0}, "above 0"),
        ({"dropouts": [1.0, 0.0]}, "dropout 1.0"),
        ({"loss": "hinge"}, "unknown loss"),
    ],
)
def test_bad_specs_say_what_to_do(values, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(**values)


def test_unknown_json_fields_are_refused():
    with pytest.raises(SpecError, match="unknown spec fields"):
        ModelSpec.from_dict({"layers": 3})


def test_presets_are_valid_and_the_default_comes_first():
    assert next(iter(PRESETS)) == DEFAULT_PRESET
    for preset in PRESETS.values():
        preset.spec.validate()
        assert preset.source
    keras_example = PRESETS["512-512, dropout 0.2, RMSprop (Keras mnist_mlp)"].spec
    assert (keras_example.optimizer, keras_example.batch_size, keras_example.epochs) == (
        "rmsprop",
        128,
        20,
    )
    assert count_parameters(keras_example) == 669_706
