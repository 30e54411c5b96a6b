import pytest

from core.nets.blocks import from_layers, to_layers
from core.nets.model import build_model, count_parameters
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_with_the_parameters_its_table_counts(name):
    spec = PRESETS[name].spec
    assert PRESETS[name].source
    model = build_model(spec, steps_per_epoch=10)
    assert model.count_params() == count_parameters(spec)
    assert model.input_shape == (None, *spec.input_shape)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_one_the_train_page_can_show_as_blocks(name):
    layers = PRESETS[name].spec.layers
    blocks = from_layers(layers)
    assert blocks is not None
    assert to_layers(blocks) == layers


def test_the_default_comes_first():
    assert next(iter(PRESETS)) == DEFAULT_PRESET


def test_the_keras_io_convnet_is_the_published_one():
    preset = PRESETS[KERAS_CONVNET]
    spec = preset.spec
    assert "keras.io" in preset.source and "99.22 %" in preset.source
    # conv 3x3x1x32 + 32, conv 3x3x32x64 + 64, dense (5*5*64)*10 + 10, as keras.io prints
    assert count_parameters(spec) == (9 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 10 + 10) == 34_826
    assert spec.architecture() == "28x28-32C3-P2-64C3-P2-F-10"
    assert [layer["type"] for layer in spec.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
    ]
    assert (spec.optimizer, spec.batch_size, spec.epochs, spec.validation_split) == (
        "adam",
        128,
        15,
        0.1,
    )


def test_the_keras_mlp_example_keeps_its_settings():
    spec = PRESETS["512-512, dropout 0.2, RMSprop (Keras mnist_mlp)"].spec
    assert (spec.optimizer, spec.batch_size, spec.epochs) == ("rmsprop", 128, 20)
    assert count_parameters(spec) == 669_706


def test_the_99_percent_preset_is_the_recipe_it_names():
    from core.nets.presets import SECONDS_PRESET

    preset = PRESETS[SECONDS_PRESET]
    spec = preset.spec
    assert spec.architecture() == "28x28-16C5-P2-32C5-P2-F-128-10"
    assert (spec.optimizer, spec.learning_rate, spec.lr_schedule) == ("adam", 0.01, "one_cycle")
    assert (spec.batch_size, spec.epochs) == (256, 2)
    assert not any(layer["type"] == "Dropout" for layer in spec.layers)
    # The recipe names every choice the ablation undoes (bench/fast.py), and what it buys.
    said = " ".join(choice for choice, _ in preset.recipe)
    for choice in ("convolutions", "one-cycle", "Adam at 0.01", "256", "No dropout", "epochs"):
        assert choice in said, choice
    assert all(len(buys) > 40 for _, buys in preset.recipe)
    assert not any(p.recipe for name, p in PRESETS.items() if name != SECONDS_PRESET)


def test_the_99_percent_preset_learns_on_small_data():
    """Two epochs of it on made-up digits, through a training job: far above chance."""
    from dataclasses import replace

    from core.nets.presets import SECONDS_PRESET
    from core.training.job import TrainingJob
    from tests.support.digits import patch_digits

    data = patch_digits(n_train=1200, n_test=300, seed=3)
    spec = replace(PRESETS[SECONDS_PRESET].spec, batch_size=64)
    job = TrainingJob(spec, data).start()
    job.join()
    assert job.result.status == "completed", job.result.message
    assert job.result.test_accuracy > 0.9
