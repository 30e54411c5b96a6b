"""core/image_charts: each tile of a mosaic sits where the layout promises, titled."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.charts.images import (
    digit_figure,
    digit_grid_figure,
    misclassified_grid_figure,
    weights_grid_figure,
)
from core.inside.evaluation import evaluate_probabilities

RNG = np.random.default_rng(0)


def test_gallery_click_data_is_sent_as_a_plain_json_list():
    """Numpy customdata would travel as a typed array and come back from Streamlit as a dict."""
    gallery = digit_grid_figure(np.zeros((3, 28, 28)), None, customdata=np.array([7, 8, 9]))
    assert json.loads(gallery.to_json())["data"][1]["customdata"] == [7, 8, 9]


def test_digit_figure_draws_the_pixels_square_without_ticks():
    image = RNG.integers(0, 256, (28, 28), dtype=np.uint8)
    figure = digit_figure(image, title="true 4")
    np.testing.assert_array_equal(np.asarray(figure.data[0].z), image)
    assert (figure.data[0].zmin, figure.data[0].zmax) == (0, 255)
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert figure.layout.yaxis.scaleanchor == "x"
    assert figure.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="784"):
        digit_figure(np.zeros((20, 20)))


def tile(canvas, slot, columns, band):
    """Where the layout promises tile `slot`: rows of `band` + 28, columns of 28 + 2."""
    top = (slot // columns) * (band + 28) + band
    left = (slot % columns) * 30
    return canvas[top : top + 28, left : left + 28]


def test_digit_grid_places_each_image_under_its_title():
    images = RNG.integers(1, 256, (10, 28, 28), dtype=np.uint8)
    titles = [f"image {i}" for i in range(10)]
    figure = digit_grid_figure(images, titles, columns=4, customdata=np.arange(100, 110))
    canvas = np.asarray(figure.data[0].z)
    assert canvas.shape == (3 * (9 + 28), 4 * 30 - 2)
    for slot in range(10):
        np.testing.assert_array_equal(tile(canvas, slot, 4, 9), images[slot])
    assert canvas.sum() == images.astype(np.int64).sum()  # nothing else is drawn
    assert [a.text for a in figure.layout.annotations] == titles
    np.testing.assert_array_equal(figure.data[1].customdata, np.arange(100, 110))
    figure.to_json()


def test_weight_grid_is_diverging_and_scaled_per_tile():
    weights = RNG.normal(size=(5, 28, 28)) * np.array([1, 2, 3, 4, 5])[:, None, None]
    figure = weights_grid_figure(weights, columns=3)
    heatmap = figure.data[0]
    assert heatmap.colorscale[0][1] != heatmap.colorscale[-1][1]
    assert (heatmap.zmin, heatmap.zmax) == (-1.0, 1.0)
    canvas = np.asarray(heatmap.z, dtype=np.float64)
    for slot in range(5):
        expected = weights[slot] / np.abs(weights[slot]).max()
        np.testing.assert_allclose(tile(canvas, slot, 3, 9), expected, rtol=1e-6)
    assert np.isnan(canvas[-1, -1])  # the empty sixth slot is transparent
    assert [a.text for a in figure.layout.annotations] == [f"unit {i}" for i in range(1, 6)]


def test_gallery_of_mistakes_is_titled_and_returns_test_indices():
    labels = np.array([3, 5, 8, 1])
    probs = np.full((4, 10), 0.01)
    probs[[0, 1, 2, 3], [8, 5, 3, 7]] = 0.91
    evaluation = evaluate_probabilities(probs, labels)
    images = RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    mistakes = evaluation.misclassified()
    figure = misclassified_grid_figure(evaluation, images, mistakes)
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["3 → 8 (91 %)", "8 → 3 (91 %)", "1 → 7 (91 %)"]
    np.testing.assert_array_equal(figure.data[1].customdata, [0, 2, 3])
    assert figure.data[1].hovertext[1] == "test image 2: true 8 → predicted 3 (91 %)"
    empty = misclassified_grid_figure(evaluation, images, [])
    assert empty.layout.annotations[0].text == "No mistakes here."


def test_digit_grid_rejects_mismatched_titles_and_shapes():
    with pytest.raises(ValueError, match="one title per image"):
        digit_grid_figure(np.zeros((3, 28, 28)), ["a"])
    with pytest.raises(ValueError, match=r"\(k, 28, 28\)"):
        digit_grid_figure(np.zeros((3, 10, 10)), None)


def test_one_image_keeps_the_tile_size_of_a_full_row():
    """A confusion-matrix cell with one digit used to fill the page's width with it."""
    one = digit_grid_figure(RNG.integers(1, 256, (1, 28, 28), dtype=np.uint8), ["7 → 1 (60 %)"])
    full = digit_grid_figure(RNG.integers(1, 256, (8, 28, 28), dtype=np.uint8), ["x"] * 8)
    assert np.asarray(one.data[0].z).shape == np.asarray(full.data[0].z).shape == (37, 8 * 30 - 2)
    assert one.layout.height == full.layout.height < 200
    assert len(one.data[1].x) == 1  # one clickable tile, the others are blank paper
    assert np.asarray(one.data[0].z)[:, 30:].sum() == 0
