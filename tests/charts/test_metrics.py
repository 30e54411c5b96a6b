"""core/metric_charts: the figures carry the numbers they are built from, labelled."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.charts.metrics import (
    accuracy_axis,
    confusion_matrix_figure,
    per_class_accuracy_figure,
    probabilities_figure,
)
from core.charts.style import DIGITS, OTHER_COLOUR, TRUE_COLOUR, WRONG_COLOUR
from core.inside.evaluation import per_class_metrics

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


def test_per_class_accuracy_figure_has_a_dot_per_digit_in_percent():
    metrics = per_class_metrics(CM)
    figure = per_class_accuracy_figure(metrics)
    (dots,) = figure.data
    assert dots.type == "scatter" and list(dots.x) == DIGITS
    expected = [100 * CM[d, d] / CM[d].sum() if CM[d].sum() else None for d in range(10)]
    assert dots.y[3] is None  # no test images of a 3: no dot, not a dot at 0 %
    np.testing.assert_allclose([y for y in dots.y if y is not None], [e for e in expected if e])
    assert dots.text[0] == f"{expected[0]:.1f} %" and dots.text[3] == ""
    assert figure.layout.xaxis.title.text == "True digit"
    assert figure.layout.yaxis.title.text == "Accuracy (%)"
    overall = 100 * np.trace(CM) / CM.sum()
    assert figure.layout.shapes[0].y0 == pytest.approx(overall)


def test_per_digit_accuracies_close_together_are_told_apart_on_an_axis_that_says_so():
    """96.9 % and 99.8 % were bars of one height on a 0-100 % axis (issue 29)."""
    cm = np.diag([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000])
    cm[4, 9], cm[4, 4] = 31, 969  # 96.9 %
    cm[1, 7], cm[1, 1] = 2, 998  # 99.8 %
    figure = per_class_accuracy_figure(per_class_metrics(cm))
    low, high = figure.layout.yaxis.range
    assert 90 <= low < 96.9 and 100 < high < 101
    # the two digits' dots lie most of the axis apart, not 3 % of it
    assert (99.8 - 96.9) / (high - low) > 0.5
    assert figure.layout.title.subtitle.text == (
        f"The axis starts at {low:g} %, not 0, to show the differences."
    )
    assert all(low <= y <= high for y in figure.data[0].y)


@pytest.mark.parametrize(
    ("percent", "start"),
    [([96.9, 99.8], 96.0), ([99.2, 99.9], 99.0), ([85, 99], 80.0), ([12, 99], 0.0), ([], 0.0)],
)
def test_the_accuracy_axis_starts_a_little_below_the_lowest_value(percent, start):
    low, step = accuracy_axis(percent)
    assert low == start
    assert low == 0 or (100 - low) / step <= 8  # a handful of ticks, never a wall of them


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


def test_a_drawing_read_at_99_96_percent_is_not_called_certain_in_its_chart():
    probs = np.full(10, 0.0004 / 9)
    probs[7] = 0.9996
    figure = probabilities_figure(probs)
    assert figure.layout.title.text == "Predicted 7 with > 99.9 %"
    assert bars(figure)[0].text[7] == "> 99.9 %"
