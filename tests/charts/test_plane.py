"""core/plane_charts: the network's picture (a tile per unit, a line per weight) and the
large view of one unit, checked against the arrays they draw."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from core.charts.plane import (
    PLANE_BLUE,
    PLANE_ORANGE,
    class_rgb,
    diverging_rgb,
    network_figure,
    rgb,
    unit_figure,
    unit_label,
)
from core.plane.model import Boundary, grid_axis


def picture(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def made_up_view(sizes=(2, 3, 2), classes: int = 2, seed: int = 0) -> Boundary:
    """A view with `sizes` units per column (features first) and random weights."""
    rng = np.random.default_rng(seed)
    unit_axis = grid_axis(-6, 6, 9)
    x1, x2 = np.meshgrid(unit_axis, unit_axis)
    units = [
        np.stack([x1 * (u + 1) - x2 * layer for u in range(size)]).astype("float32")
        for layer, size in enumerate(sizes)
    ]
    outputs = 1 if classes == 2 else classes
    widths = [*sizes, outputs]
    weights = [
        (rng.normal(size=(a, b)).astype("float32"), np.zeros(b, "float32"))
        for a, b in zip(widths[:-1], widths[1:], strict=True)
    ]
    axis = grid_axis(-6, 6, 18)
    z = rng.uniform(size=(18, 18) if classes == 2 else (18, 18, classes)).astype("float32")
    return Boundary(axis=axis, z=z, epoch=1, unit_axis=unit_axis, units=units, weights=weights)


def test_colours_run_from_orange_through_pale_to_blue():
    colours = diverging_rgb(np.array([-1.0, 0.0, 1.0, 5.0]))
    np.testing.assert_array_equal(colours[0], rgb(PLANE_ORANGE))
    np.testing.assert_array_equal(colours[2], rgb(PLANE_BLUE))
    np.testing.assert_array_equal(colours[3], rgb(PLANE_BLUE))  # clipped
    sure = class_rgb(np.array([[0.0, 1.0, 0.0]]))
    np.testing.assert_array_equal(sure[0], rgb(PLANE_BLUE))
    np.testing.assert_array_equal(
        class_rgb(np.array([[0.2, 0.5, 0.3]]), discrete=True)[0], rgb(PLANE_BLUE)
    )


def test_one_tile_per_unit_in_its_column_and_a_line_per_weight():
    view = made_up_view()
    figure = network_figure(view, ["x1", "sin_x2"])
    images = figure.layout.images
    assert len(images) == 2 + 3 + 2 + 1  # features, two hidden layers, the output
    xs = sorted({round(image.x, 6) for image in images})
    assert len(xs) == 4  # four columns
    (units,) = [t for t in figure.data if t.name == "units"]
    assert [tuple(key) for key in units.customdata][:3] == [(0, 0), (0, 1), (1, 0)]
    assert list(units.text)[:3] == ["x1", "sin(x2)", "layer 1, unit 1"]
    lines = [t for t in figure.data if t.mode == "lines"]
    drawn = sum(len(t.x) // 3 for t in lines)
    kernels = [k for k, _ in view.weights]
    top = max(np.abs(k).max() for k in kernels)
    assert drawn == sum(int((np.abs(k) >= 0.02 * top).sum()) for k in kernels)
    positive = sum(len(t.x) // 3 for t in lines if t.line.color == PLANE_BLUE)
    assert positive == sum(int((k >= 0.02 * top).sum()) for k in kernels)


def test_a_tile_shows_its_unit_scaled_with_the_top_of_the_plane_at_the_top():
    view = made_up_view()
    figure = network_figure(view, ["x1", "x2"])
    tile = picture(figure.layout.images[0].source)  # feature 0: x1 * 1 over the plane
    assert tile.shape[:2] == (9, 9)
    np.testing.assert_array_equal(tile[0, 0], rgb(PLANE_ORANGE))  # left: x1 = -6, scaled to -1
    np.testing.assert_array_equal(tile[0, -1], rgb(PLANE_BLUE))
    second_layer = picture(figure.layout.images[5].source)  # layer 2 unit 0: x1 - 2 * x2
    np.testing.assert_array_equal(second_layer[-1, -1], rgb(PLANE_BLUE))  # bottom right: 6 + 12
    np.testing.assert_array_equal(second_layer[0, 0], rgb(PLANE_ORANGE))  # top left: -6 - 12


def test_softmax_output_has_a_tile_per_class_and_the_selected_unit_a_frame():
    view = made_up_view(classes=4)
    figure = network_figure(view, ["x1", "x2"], selected=(1, 2))
    assert len(figure.layout.images) == 2 + 3 + 2 + 4
    (frame,) = figure.layout.shapes
    (units,) = [t for t in figure.data if t.name == "units"]
    index = [tuple(k) for k in units.customdata].index((1, 2))
    assert frame.x0 < units.x[index] < frame.x1 and frame.y0 < units.y[index] < frame.y1
    assert list(units.text)[-4:] == [f"class {c} probability" for c in range(4)]
    assert not network_figure(view, ["x1", "x2"], selected=(9, 0)).layout.shapes


@pytest.mark.parametrize(("layer", "unit"), [(0, 1), (2, 0)])
def test_unit_figure_draws_the_units_values(layer, unit):
    view = made_up_view()
    figure = unit_figure(view, layer, unit, ["x1", "x1_times_x2"])
    (heatmap,) = figure.data
    values = view.units[layer][unit]
    np.testing.assert_array_equal(np.asarray(heatmap.z), values)
    assert heatmap.zmax == -heatmap.zmin == pytest.approx(np.abs(values).max())
    assert figure.layout.title.text == unit_label(layer, unit, ["x1", "x1_times_x2"])
    assert unit_label(0, 1, ["x1", "x1_times_x2"]) == "x1·x2"
