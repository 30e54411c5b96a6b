"""core/xor_charts: what the boundary heatmap and the curves draw, checked trace by trace."""

from __future__ import annotations

import math

import numpy as np

from core.xor import Boundary, XorSpec, grid_axis, make_data
from core.xor_charts import BLUE, ORANGE, boundary_figure, curves_figure


def made_up_boundary(axis: np.ndarray) -> Boundary:
    """Output 1 where exactly one input is past 0.5: XOR itself, drawn on the grid."""
    x1, x2 = np.meshgrid(axis, axis)
    return Boundary(axis=axis, z=((x1 > 0.5) ^ (x2 > 0.5)).astype("float32"), epoch=12)


def traces(figure, kind: str):
    return [trace for trace in figure.data if trace.type == kind]


def test_heatmap_shows_the_grid_on_a_zero_to_one_scale():
    data = make_data(XorSpec())
    boundary = made_up_boundary(grid_axis(data.low, data.high, 31))
    figure = boundary_figure(boundary, data)
    (heatmap,) = traces(figure, "heatmap")
    np.testing.assert_array_equal(np.asarray(heatmap.z), boundary.z)
    np.testing.assert_array_equal(np.asarray(heatmap.x), boundary.axis)
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert heatmap.colorscale[0][1] == ORANGE and heatmap.colorscale[-1][1] == BLUE
    (contour,) = traces(figure, "contour")
    assert contour.contours.start == contour.contours.end == 0.5
    assert "after 12 epochs" in figure.layout.title.text
    assert figure.layout.xaxis.title.text.startswith("x1")
    assert figure.layout.yaxis.title.text.startswith("x2")
    assert tuple(figure.layout.xaxis.range) == (-0.25, 1.25)


def test_four_points_are_drawn_in_their_class_colours():
    data = make_data(XorSpec())
    figure = boundary_figure(None, data)
    assert not traces(figure, "heatmap") and not traces(figure, "contour")
    drawn = {
        trace.name: sorted(zip(trace.x, trace.y, strict=True))
        for trace in traces(figure, "scatter")
    }
    assert drawn == {"class 0": [(0, 0), (1, 1)], "class 1": [(0, 1), (1, 0)]}
    colours = {trace.name: trace.marker.color for trace in traces(figure, "scatter")}
    assert colours == {"class 0": ORANGE, "class 1": BLUE}


def test_cloud_draws_training_and_test_points_apart():
    data = make_data(XorSpec(data="cloud", cloud_points=200, test_fraction=0.3))
    figure = boundary_figure(made_up_boundary(grid_axis(data.low, data.high, 11)), data)
    counts = {trace.name: len(trace.x) for trace in traces(figure, "scatter")}
    assert counts["class 0 (train)"] + counts["class 1 (train)"] == len(data.x_train) == 140
    assert counts["class 0 (test)"] + counts["class 1 (test)"] == len(data.x_test) == 60
    assert counts["class 1 (test)"] == int(data.y_test.sum())


def test_no_contour_when_the_output_never_crosses_one_half():
    data = make_data(XorSpec())
    axis = grid_axis(data.low, data.high, 5)
    flat = Boundary(axis=axis, z=np.full((5, 5), 0.7, dtype="float32"), epoch=0)
    assert not traces(boundary_figure(flat, data), "contour")


def test_curves_plot_every_epoch_and_skip_a_missing_test_part():
    history = {
        "loss": [0.3, 0.2, 0.1],
        "binary_accuracy": [0.5, 0.75, 1.0],
        "test_loss": [math.nan] * 3,
        "test_binary_accuracy": [math.nan] * 3,
    }
    figure = curves_figure(history)
    lines = traces(figure, "scatter")
    assert [trace.name for trace in lines] == ["training", "training"]
    assert list(lines[0].x) == [1, 2, 3] and list(lines[0].y) == [0.3, 0.2, 0.1]
    assert list(lines[1].y) == [0.5, 0.75, 1.0]
    assert figure.layout.xaxis.title.text == "epoch"
    assert figure.layout.yaxis2.title.text == "fraction right"


def test_curves_show_the_test_part_when_there_is_one():
    history = {
        "loss": [0.3, 0.2],
        "binary_accuracy": [0.5, 1.0],
        "test_loss": [0.35, 0.25],
        "test_binary_accuracy": [0.6, 0.9],
    }
    lines = traces(curves_figure(history), "scatter")
    assert [trace.name for trace in lines] == ["training", "test", "training", "test"]
    assert list(lines[3].y) == [0.6, 0.9]
    assert not traces(curves_figure({k: [] for k in history}), "scatter")
