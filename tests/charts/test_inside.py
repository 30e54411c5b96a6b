"""The inside views' figures hold the numbers they are given, where a click can find them."""

from __future__ import annotations

import numpy as np

from core.charts.inside import (
    MAX_MAPS_SHOWN,
    dense_activations_figure,
    feature_maps_figure,
    norms_figure,
    saliency_figure,
    template_figure,
)
from core.inside.dynamics import NormHistory


def test_dense_grid_has_every_unit_once_and_marks_the_strongest():
    output = np.random.default_rng(0).random(50).astype(np.float32)
    strongest = np.argsort(-output)[:5]
    figure = dense_activations_figure(output, strongest)
    heatmap, markers, rings = figure.data
    grid = np.asarray(heatmap.z, dtype=float)
    assert np.array_equal(np.sort(grid[~np.isnan(grid)]), np.sort(output.astype(float)))
    # The invisible click targets sit on the cells and carry the unit's index.
    for unit in (0, 17, 49):
        x, y = markers.x[unit], markers.y[unit]
        assert grid[y, x] == output[unit] and markers.customdata[unit] == unit
    assert list(rings.text) == ["1", "2", "3", "4", "5"]
    assert grid[rings.y[0], rings.x[0]] == output.max()
    assert heatmap.zmin == 0.0  # no negative outputs: a sequential scale from 0


def test_negative_outputs_get_a_symmetric_diverging_scale():
    figure = dense_activations_figure(np.array([-2.0, 0.5, 1.0], dtype=np.float32))
    assert (figure.data[0].zmin, figure.data[0].zmax) == (-2.0, 2.0)


def test_feature_maps_are_tiled_in_place():
    maps = np.random.default_rng(1).random((5, 4, 40)).astype(np.float32)
    figure = feature_maps_figure(maps, strongest=[3])
    canvas = np.asarray(figure.data[0].z, dtype=float)
    targets = figure.data[1]
    assert len(targets.customdata) == MAX_MAPS_SHOWN
    # Map 9 is the second row's second tile: rows of 8, each map 5 x 4 plus a gap of 2.
    np.testing.assert_allclose(canvas[7:12, 6:10], maps[:, :, 9], rtol=1e-6)
    assert len(figure.layout.shapes) == 1


def test_saliency_overlay_keeps_the_attributions_and_a_symmetric_scale():
    image = np.zeros((28, 28), dtype=np.float32)
    attributions = np.zeros((28, 28), dtype=np.float32)
    attributions[3, 4], attributions[10, 10] = 0.5, -2.0
    figure = saliency_figure(image, attributions)
    overlay = figure.data[1]
    np.testing.assert_array_equal(np.asarray(overlay.z), attributions)
    assert (overlay.zmin, overlay.zmax) == (-2.0, 2.0)
    assert overlay.colorscale[2][1].endswith(",0)")  # zero is transparent


def test_template_and_norms_figures():
    kernel = np.array([[1.0, -3.0], [0.0, 2.0]], dtype=np.float32)
    figure = template_figure(kernel)
    assert (figure.data[0].zmin, figure.data[0].zmax) == (-3.0, 3.0)
    history = NormHistory(
        layers=["a", "b"],
        epochs=[0.0, 1.0],
        weight_norms={"a": [1.0, 2.0], "b": [3.0, 4.0]},
        gradient_norms={"a": [0.1, 0.01], "b": [1.0, 0.5]},
    )
    figure = norms_figure(history)
    assert len(figure.data) == 4
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis2.type == "log"
    assert list(figure.data[1].y) == [0.1, 0.01]  # layer a's gradient norms, on the right
