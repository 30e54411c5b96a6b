"""core/xor_charts: the output over the plane and the curves, checked trace by trace."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

from core.charts.plane import CLASS_COLOURS, PLANE_BLUE, PLANE_ORANGE
from core.charts.xor import boundary_figure, plane_curves_figure
from core.plane.data import make_data
from core.plane.model import Boundary, grid_axis
from core.plane.spec import PlaneSpec


def made_up_boundary(axis: np.ndarray) -> Boundary:
    """Output 1 where exactly one input is past 0.5: XOR itself, drawn on the grid."""
    x1, x2 = np.meshgrid(axis, axis)
    return Boundary(axis=axis, z=((x1 > 0.5) ^ (x2 > 0.5)).astype("float32"), epoch=12)


def three_sectors(axis: np.ndarray) -> Boundary:
    """Softmax-like outputs: class 0 left, class 1 bottom right, class 2 top right."""
    x1, x2 = np.meshgrid(axis, axis)
    classes = np.where(x1 < 0, 0, np.where(x2 < 0, 1, 2))
    z = np.full((*x1.shape, 3), 0.1, dtype="float32")
    np.put_along_axis(z, classes[..., None], 0.8, axis=2)
    return Boundary(axis=axis, z=z, epoch=4)


def traces(figure, kind: str):
    return [trace for trace in figure.data if trace.type == kind]


def picture(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_two_classes_show_the_output_zero_to_one_and_its_half_line():
    data = make_data(PlaneSpec())
    boundary = made_up_boundary(grid_axis(data.low, data.high, 31))
    figure = boundary_figure(boundary, data)
    (heatmap,) = traces(figure, "heatmap")
    np.testing.assert_array_equal(np.asarray(heatmap.z), boundary.z)
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert heatmap.colorscale[0][1] == PLANE_ORANGE and heatmap.colorscale[-1][1] == PLANE_BLUE
    (contour,) = traces(figure, "contour")
    assert contour.contours.start == contour.contours.end == 0.5
    assert "after 12 epochs" in figure.layout.title.text
    assert tuple(figure.layout.xaxis.range) == (-0.25, 1.25)


def test_discretize_rounds_the_output():
    data = make_data(PlaneSpec())
    axis = grid_axis(data.low, data.high, 5)
    soft = Boundary(axis=axis, z=np.linspace(0.2, 0.8, 25, dtype="float32").reshape(5, 5), epoch=0)
    (heatmap,) = traces(boundary_figure(soft, data, discrete=True), "heatmap")
    np.testing.assert_array_equal(np.asarray(heatmap.z), soft.z >= 0.5)


def test_four_points_are_drawn_in_their_class_colours():
    figure = boundary_figure(None, make_data(PlaneSpec()))
    assert not traces(figure, "heatmap") and not traces(figure, "contour")
    drawn = {t.name: sorted(zip(t.x, t.y, strict=True)) for t in traces(figure, "scatter")}
    assert drawn == {"class 0": [(0, 0), (1, 1)], "class 1": [(0, 1), (1, 0)]}
    assert {t.name: t.marker.color for t in traces(figure, "scatter")} == {
        "class 0": PLANE_ORANGE,
        "class 1": PLANE_BLUE,
    }


def test_training_and_test_points_are_drawn_apart():
    data = make_data(PlaneSpec(data="cloud", samples=200, test_fraction=0.3))
    figure = boundary_figure(made_up_boundary(grid_axis(data.low, data.high, 11)), data)
    counts = {trace.name: len(trace.x) for trace in traces(figure, "scatter")}
    assert counts["class 0 (train)"] + counts["class 1 (train)"] == len(data.x_train) == 140
    assert counts["class 0 (test)"] + counts["class 1 (test)"] == len(data.x_test) == 60
    symbols = {t.name: t.marker.symbol for t in traces(figure, "scatter")}
    assert symbols["class 1 (test)"] == "diamond" and symbols["class 1 (train)"] == "circle"


def test_three_classes_get_their_colours_and_a_line_for_each_class_edge():
    data = make_data(PlaneSpec(data="blobs", classes=3))
    boundary = three_sectors(grid_axis(data.low, data.high, 41))
    figure = boundary_figure(boundary, data)
    assert {t.marker.color for t in traces(figure, "scatter")} == set(CLASS_COLOURS[:3])
    lines = traces(figure, "contour")
    assert [t.name for t in lines] == ["class 0 boundary", "class 1 boundary", "class 2 boundary"]
    margin = np.asarray(lines[1].z)  # class 1's lead over the best other class
    assert (margin > 0).sum() == (boundary.classes() == 1).sum()
    (image,) = figure.layout.images
    pixels = picture(image.source)[::-1]  # back to row 0 = lowest x2
    assert pixels.shape[:2] == (41, 41)
    left, low_right = pixels[20, 2].astype(int), pixels[2, 38].astype(int)
    orange, blue = (
        np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for c in (PLANE_ORANGE, PLANE_BLUE)
    )
    # the likeliest class's colour dominates (0.8 of the mix, the rest pale and the others)
    assert np.abs(left - orange).sum() < np.abs(left - blue).sum()
    assert np.abs(low_right - blue).sum() < np.abs(low_right - orange).sum()


def test_curves_plot_every_epoch_and_skip_a_missing_test_part():
    history = {
        "loss": [0.3, 0.2, 0.1],
        "accuracy": [0.5, 0.75, 1.0],
        "test_loss": [math.nan] * 3,
        "test_accuracy": [math.nan] * 3,
    }
    figure = plane_curves_figure(history)
    lines = traces(figure, "scatter")
    assert [trace.name for trace in lines] == ["training", "training"]
    assert list(lines[0].x) == [1, 2, 3] and list(lines[0].y) == [0.3, 0.2, 0.1]
    assert list(lines[1].y) == [0.5, 0.75, 1.0] and lines[1].yaxis == "y2"
    assert figure.layout.yaxis2.title.text == "fraction right"


def test_curves_show_the_test_part_when_there_is_one():
    history = {
        "loss": [0.3, 0.2],
        "accuracy": [0.5, 1.0],
        "test_loss": [0.35, 0.25],
        "test_accuracy": [0.6, 0.9],
    }
    lines = traces(plane_curves_figure(history), "scatter")
    assert [trace.name for trace in lines] == ["training", "test", "training", "test"]
    assert list(lines[3].y) == [0.6, 0.9]
    assert not traces(plane_curves_figure({k: [] for k in history}), "scatter")
