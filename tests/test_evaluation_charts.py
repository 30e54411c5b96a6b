"""core/evaluation_charts: the figures carry the numbers they are built from, labelled."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.evaluation import evaluate_probabilities, per_class_metrics
from core.evaluation_charts import (
    DIGITS,
    OTHER_COLOUR,
    TRUE_COLOUR,
    WRONG_COLOUR,
    confusion_matrix_figure,
    digit_figure,
    digit_grid_figure,
    misclassified_grid_figure,
    per_class_accuracy_figure,
    probabilities_figure,
    selected_cell,
    selected_image,
    weights_grid_figure,
)

RNG = np.random.default_rng(0)
CM = RNG.integers(0, 40, (10, 10)) + np.diag(RNG.integers(500, 1000, 10))
CM[3] = 0  # a digit absent from the test set
CM[5, 6] = 0


def bars(figure):
    return [trace for trace in figure.data if trace.type == "bar"]


def test_confusion_matrix_figure_shows_the_counts_labelled():
    figure = confusion_matrix_figure(CM)
    heatmap = figure.data[0]
    assert heatmap.type == "heatmap"
    np.testing.assert_array_equal(np.asarray(heatmap.z), CM)
    assert list(heatmap.x) == DIGITS and list(heatmap.y) == DIGITS
    text = np.asarray(heatmap.text)
    assert text[0, 0] == str(CM[0, 0])
    assert text[2, 7] == str(CM[2, 7])
    assert text[5, 6] == ""  # empty cells stay blank
    assert figure.layout.xaxis.title.text == "Predicted digit"
    assert figure.layout.yaxis.title.text == "True digit"
    assert figure.layout.yaxis.autorange == "reversed"  # 0 at the top
    assert heatmap.colorbar.title.text == "images"
    figure.to_json()  # valid for plotly.js


def test_confusion_matrix_cells_carry_true_and_predicted_for_clicks():
    markers = confusion_matrix_figure(CM).data[1]
    assert len(markers.x) == 100
    for x, y, (true, predicted, count, _rate) in zip(
        markers.x, markers.y, markers.customdata, strict=True
    ):
        assert (x, y) == (str(int(predicted)), str(int(true)))
        assert count == CM[int(true), int(predicted)]


def test_click_data_is_sent_as_plain_json_lists():
    """Numpy customdata would travel as a typed array and come back from Streamlit as a dict."""
    cells = json.loads(confusion_matrix_figure(CM).to_json())["data"][1]["customdata"]
    assert cells[14] == [1, 4, int(CM[1, 4]), pytest.approx(100 * CM[1, 4] / CM[1].sum())]
    gallery = digit_grid_figure(np.zeros((3, 28, 28)), None, customdata=np.array([7, 8, 9]))
    assert json.loads(gallery.to_json())["data"][1]["customdata"] == [7, 8, 9]


def test_normalised_confusion_matrix_shows_row_percentages():
    figure = confusion_matrix_figure(CM, normalised=True)
    z = np.asarray(figure.data[0].z)
    for row in range(10):
        total = CM[row].sum()
        expected = [100 * c / total for c in CM[row]] if total else [0] * 10
        np.testing.assert_allclose(z[row], expected)
    assert np.asarray(figure.data[0].text)[0, 0] == f"{100 * CM[0, 0] / CM[0].sum():.1f}"
    assert "%" in figure.data[0].colorbar.title.text


def test_confusion_matrix_figure_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="10 x 10"):
        confusion_matrix_figure(np.zeros((5, 5)))


def test_per_class_accuracy_figure_has_ten_bars_in_percent():
    metrics = per_class_metrics(CM)
    figure = per_class_accuracy_figure(metrics)
    (bar,) = bars(figure)
    assert list(bar.x) == DIGITS
    expected = [100 * CM[d, d] / CM[d].sum() if CM[d].sum() else 0 for d in range(10)]
    np.testing.assert_allclose(bar.y, expected)
    assert tuple(figure.layout.yaxis.range) == (0, 100)
    assert figure.layout.yaxis.title.text == "Accuracy (%)"
    assert figure.layout.xaxis.title.text == "True digit"
    overall = 100 * np.trace(CM) / CM.sum()
    assert figure.layout.shapes[0].y0 == pytest.approx(overall)


def test_probabilities_figure_marks_the_true_and_the_wrong_predicted_digit():
    probs = np.array([0.01, 0.02, 0.05, 0.02, 0.2, 0.01, 0.01, 0.02, 0.01, 0.65])
    figure = probabilities_figure(probs, true_label=4)
    (bar,) = bars(figure)
    assert len(bar.x) == 10
    np.testing.assert_allclose(bar.y, 100 * probs)
    colours = list(bar.marker.color)
    assert colours[4] == TRUE_COLOUR
    assert colours[9] == WRONG_COLOUR
    assert colours.count(OTHER_COLOUR) == 8
    notes = {a.x: a.text for a in figure.layout.annotations}
    assert "true" in notes["4"] and "20.0 %" in notes["4"]
    assert "predicted" in notes["9"]
    assert figure.layout.yaxis.title.text == "Probability (%)"


def test_probabilities_figure_for_a_right_answer_and_without_a_label():
    probs = np.full(10, 0.02)
    probs[7] = 0.82
    right = probabilities_figure(probs, true_label=7)
    colours = list(bars(right)[0].marker.color)
    assert colours[7] == TRUE_COLOUR and WRONG_COLOUR not in colours
    assert [a.text for a in right.layout.annotations] == ["<b>true = predicted</b>"]
    unlabelled = probabilities_figure(probs)
    colours = list(bars(unlabelled)[0].marker.color)
    assert TRUE_COLOUR not in colours and colours[7] != OTHER_COLOUR
    assert "predicted" in unlabelled.layout.annotations[0].text


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


def test_selection_helpers_read_what_the_figures_carry():
    cell = {"points": [{"curve_number": 1, "x": "9", "y": "4", "customdata": [4, 9, 12, 1.2]}]}
    assert selected_cell(cell) == (4, 9)
    assert selected_image({"points": [{"customdata": 1234}]}) == 1234
    assert selected_image({"points": [{"customdata": [77]}]}) == 77
    # A numpy customdata row reaches plotly.js as a typed array and comes back as a dict.
    assert selected_cell({"points": [{"customdata": {"0": 2, "1": 7, "2": 5, "3": 0.5}}]}) == (2, 7)

    class Event:  # what st.plotly_chart returns: an object with a .selection
        selection = cell

    assert selected_cell(Event()) == (4, 9)
    assert selected_cell({"points": []}) is None
    assert selected_image(None) is None
