"""Top-exciting images against a brute-force ranking (a full sort of every unit's responses)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from core.inside.activations import Inspector
from core.inside.unit_search import rank_units, top_images


def _brute_force(responses: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: sort every image by (largest response, then lowest index), keep k."""
    indices, values = [], []
    for unit in range(responses.shape[1]):
        column = responses[:, unit]
        order = sorted(range(len(column)), key=lambda i: (-column[i], i))[:k]
        indices.append(order)
        values.append(column[order])
    return np.array(indices), np.array(values)


def test_top_images_match_a_full_sort_with_ties():
    rng = np.random.default_rng(0)
    # Rounded values make many ties; a dead unit is all zeros.
    responses = np.round(rng.normal(size=(300, 7)), 1).astype(np.float32)
    responses[:, 3] = 0.0
    ranking = top_images(responses, k=9, layer_name="dense")
    indices, values = _brute_force(responses, 9)
    np.testing.assert_array_equal(ranking.indices, indices)
    np.testing.assert_array_equal(ranking.values, values)
    assert ranking.silent.tolist() == [False, False, False, True, False, False, False]
    np.testing.assert_allclose(ranking.mean, responses.mean(axis=0), rtol=1e-5)
    assert ranking.for_unit(3)[0].tolist() == list(range(9))  # a dead unit: the first images


def test_k_larger_than_the_images_keeps_them_all():
    responses = np.array([[1.0], [3.0], [2.0]], dtype=np.float32)
    ranking = top_images(responses, k=12)
    assert ranking.indices.tolist() == [[1, 2, 0]]


def test_bad_shapes_and_units_are_refused():
    with pytest.raises(ValueError, match="images, units"):
        top_images(np.zeros(5))
    ranking = top_images(np.ones((4, 2)))
    with pytest.raises(ValueError, match="choose 0 to 1"):
        ranking.for_unit(2)


def test_rank_units_of_a_dense_and_a_conv_layer_against_numpy():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(3, 5, activation="relu", name="conv"),
            layers.Flatten(),
            layers.Dense(5, activation="relu", name="hidden"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    inspector = Inspector(model)
    images = np.random.default_rng(1).integers(0, 256, (250, 28, 28)).astype(np.uint8)
    x = images.astype(np.float32) / 255
    conv_info, hidden_info = inspector.layers
    # The reference responses come from a different route: Keras sub-models on the whole set.
    conv_out = keras.Model(model.inputs, model.get_layer("conv").output).predict(
        x[..., None], verbose=0
    )
    hidden_out = keras.Model(model.inputs, model.get_layer("hidden").output).predict(
        x[..., None], verbose=0
    )
    for info, reference in ((conv_info, conv_out.max(axis=(1, 2))), (hidden_info, hidden_out)):
        ranking = rank_units(inspector, images, info, k=6)
        indices, values = _brute_force(reference, 6)
        np.testing.assert_allclose(ranking.values, values, rtol=1e-4, atol=1e-5)
        # Near-equal responses may swap places between the two routes; the sets agree.
        for ours, theirs, row in zip(ranking.indices, indices, reference.T, strict=True):
            np.testing.assert_allclose(row[ours], row[theirs], rtol=1e-4, atol=1e-5)
