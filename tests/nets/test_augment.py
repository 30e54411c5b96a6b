"""Augmentation: it changes the training batches, leaves test-time inputs untouched, is held to
its ranges, and a model holding it is saved and loaded in safe mode."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest

from core.nets.augment import augmented, augments
from core.nets.model import ModelSpec, SpecError, build_model
from core.nets.model_files import refuse_custom_objects
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS
from core.nets.spec_from_model import spec_layers
from tests.support.digits import patch_digits
from tests.support.models import outputs_of

ALL = {"augment_shift": 0.1, "augment_rotation": 15.0, "augment_zoom": 0.1, "augment_thickness": 1}


def digits(count: int = 16) -> np.ndarray:
    return patch_digits(n_train=count, n_test=1).x_train.astype(np.float32) / 255


@pytest.mark.parametrize("preset", [DEFAULT_PRESET, KERAS_CONVNET])
def test_training_calls_change_the_inputs_and_test_time_calls_do_not(preset):
    plain = PRESETS[preset].spec
    spec = replace(plain, **ALL)
    model = build_model(spec, steps_per_epoch=1)
    layer = model.get_layer("augmentation")
    x = digits().reshape(-1, *spec.input_shape)
    assert not np.allclose(np.asarray(layer(x, training=True)), x)
    for out in (layer(x), layer(x, training=False)):
        assert np.array_equal(np.asarray(out), x)
    # The whole model: predict, evaluate and a plain call all see the images as they are.
    reference = build_model(plain, steps_per_epoch=1)
    reference.set_weights(model.get_weights())
    expected = np.asarray(reference(x, training=False))
    assert np.allclose(np.asarray(model(x)), expected, atol=1e-6)
    assert np.allclose(model.predict(x, verbose=0), expected, atol=1e-6)


def test_each_change_alone_changes_the_training_images():
    x = digits()
    for name, value in ALL.items():
        out = augmented(replace(ModelSpec(), **{name: value}), x, seed=1)
        assert out.shape == x.shape and out.dtype == np.float32
        assert not np.allclose(out, x), name


def test_thickness_lies_between_erosion_and_dilation_both_ways():
    from core.nets.augment_layers import StrokeThickness

    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10:18, 12:15, 0] = 1.0  # a stroke 3 pixels wide
    dilated = np.zeros_like(image)
    dilated[0, 9:19, 11:16, 0] = 1.0  # a pixel more on every side
    eroded = np.zeros_like(image)
    eroded[0, 11:17, 13:14, 0] = 1.0  # a pixel less
    layer = StrokeThickness(1, seed=3)
    ink = []
    for _ in range(40):
        out = np.asarray(layer(image, training=True))
        assert np.all(out >= eroded - 1e-6) and np.all(out <= dilated + 1e-6)
        grew, shrank = out - image, image - out
        assert grew.min() >= -1e-6 or shrank.min() >= -1e-6  # one way or the other, not both
        ink.append(out.sum())
    assert min(ink) < image.sum() < max(ink)


def test_without_augmentation_the_model_has_no_such_layer():
    model = build_model(PRESETS[DEFAULT_PRESET].spec, steps_per_epoch=1)
    assert "augmentation" not in [layer.name for layer in model.layers]
    assert not augments(ModelSpec())
    assert np.array_equal(augmented(ModelSpec(), digits()), digits())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("augment_shift", 0.5),
        ("augment_rotation", -1),
        ("augment_zoom", 2.0),
        ("augment_thickness", 3),
    ],
)
def test_out_of_range_settings_are_refused_with_the_range(name, value):
    with pytest.raises(SpecError, match="choose"):
        ModelSpec(**{name: value})


def test_a_model_with_augmentation_loads_in_safe_mode_and_reads_as_its_spec(tmp_path):
    from core.nets.model_files import read_model_config

    spec = replace(PRESETS[KERAS_CONVNET].spec, **ALL)
    model = build_model(spec, steps_per_epoch=1)
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    layer = loaded.get_layer("augmentation")
    assert layer.get_config()["rotation"] == 15.0 and layer.get_config()["thickness"] == 1
    x = digits().reshape(-1, 28, 28, 1)
    assert np.allclose(outputs_of(loaded, x), outputs_of(model, x))
    refuse_custom_objects(read_model_config(path, path.name), path.name)  # our own: allowed
    assert spec_layers(loaded) == spec.layers


def test_the_inside_views_pass_over_the_augmentation():
    from core.inside.activations import Inspector

    plain = PRESETS[KERAS_CONVNET].spec
    model = build_model(replace(plain, **ALL), steps_per_epoch=1)
    reference = build_model(plain, steps_per_epoch=1)
    reference.set_weights(model.get_weights())
    image = digits(1)[0]
    shown = Inspector(model).activations(image)
    expected = Inspector(reference).activations(image)
    assert [layer.name for layer in shown.layers] == [layer.name for layer in expected.layers]
    assert np.allclose(shown.probabilities, expected.probabilities, atol=1e-6)


def test_a_whole_number_of_degrees_becomes_a_float_as_the_sliders_need():
    spec = ModelSpec(augment_rotation=10, augment_thickness=1)
    assert type(spec.augment_rotation) is float and spec.augment_rotation == 10.0
    assert ModelSpec.from_json(spec.to_json()) == spec


def smooth_blobs(count: int = 32) -> np.ndarray:
    """Soft round blobs at random places: smooth enough that resampling them once or three
    times gives nearly the same pixels, so what differs is where the moves put them."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    images = np.zeros((count, 28, 28, 1), np.float32)
    for image, (row, col) in zip(images, rng.integers(8, 20, size=(count, 2)), strict=True):
        image[row, col, 0] = 1.0
    images = gaussian_filter(images, (0, 2.5, 2.5, 0))
    return (images / images.max(axis=(1, 2, 3), keepdims=True)).astype(np.float32)


def drawn_moves(layer, images):
    return [move.get_random_transformation(images, training=True) for move in layer.moves]


def one_resample(moves, images, drawn) -> np.ndarray:
    """`images` moved by the app's one transform of Keras's `moves` and their `drawn` values."""
    from core.nets.augment_layers import FILL, moves_transform

    transform = moves_transform(moves, drawn)
    return np.asarray(keras.ops.image.affine_transform(images, transform, **FILL))


def test_each_move_alone_is_what_keras_own_layer_makes_of_the_same_draw():
    """The matrix read from each Keras layer's draw resamples exactly as the layer does: this
    fails if an upgrade of Keras changes what `get_random_transformation` returns."""
    from core.nets.augment_layers import Augmentation

    layer = Augmentation(shift=0.1, rotation=15.0, zoom=0.1)
    x = digits().reshape(-1, 28, 28, 1)
    assert [type(move).__name__ for move in layer.moves] == [
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
    ]
    for move, transformation in zip(layer.moves, drawn_moves(layer, x), strict=True):
        keras_own = np.asarray(move.transform_images(x, transformation, training=True))
        ours = one_resample([move], x, [transformation])
        assert not np.allclose(keras_own, x)
        assert np.allclose(ours, keras_own, atol=1e-5), type(move).__name__


def test_the_moves_in_one_resample_are_keras_layers_one_after_another():
    """Turn, zoom and shift applied at once land each blob where the three layers applied in
    turn put it (their order matters: the reverse order lands it elsewhere)."""
    from core.nets.augment_layers import Augmentation

    keras.utils.set_random_seed(3)
    layer = Augmentation(shift=0.1, rotation=15.0, zoom=0.1)
    x = smooth_blobs()
    drawn = drawn_moves(layer, x)

    def in_turn(order):
        images = x
        for i in order:
            images = layer.moves[i].transform_images(images, drawn[i], training=True)
        return np.asarray(images)

    fused = one_resample(layer.moves, x, drawn)
    assert np.abs(fused - in_turn([0, 1, 2])).max() < 0.1
    assert np.abs(fused - in_turn([2, 1, 0])).max() > 0.13
    assert np.abs(fused - x).max() > 0.5  # the blobs did move
    # The layer itself: one call draws its own moves and keeps every blob's ink in view.
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)
    assert np.allclose(out.sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=0.3)
