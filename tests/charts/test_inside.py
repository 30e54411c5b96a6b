"""The inside views' figures hold the numbers they are given, where a click can find them."""

from __future__ import annotations

import numpy as np
import pytest

from core.charts.inside import (
    MAX_MAPS_SHOWN,
    MOST_LOG_TICKS,
    dense_activations_figure,
    feature_maps_figure,
    log_ticks,
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


def _norms(epochs: list[float], weights: list[float], gradients: list[float]) -> NormHistory:
    return NormHistory(
        layers=["dense"],
        epochs=epochs,
        weight_norms={"dense": weights},
        gradient_norms={"dense": gradients},
    )


def test_log_axes_label_each_tick_with_its_whole_value():
    """Plotly's own log ticks labelled 2 and 20 alike ("2"); every label here reads as the
    number it stands for, and the ticks span the data."""
    figure = norms_figure(_norms([0.0, 1.0, 2.0], [2.0, 9.0, 20.0], [3e-6, 0.04, 0.3]))
    for axis, values in ((figure.layout.yaxis, [2.0, 20.0]), (figure.layout.yaxis2, [3e-6, 0.3])):
        assert axis.type == "log" and axis.tickmode == "array"
        labels, ticks = list(axis.ticktext), list(axis.tickvals)
        assert len(set(labels)) == len(labels)
        for label, tick in zip(labels, ticks, strict=True):
            assert float(label) == pytest.approx(tick, rel=1e-9)
        assert 10 ** axis.range[0] <= min(values) and 10 ** axis.range[1] >= max(values)
    assert {"2", "20"} <= set(figure.layout.yaxis.ticktext)


def test_log_ticks_over_many_ranges():
    rng = np.random.default_rng(0)
    for _ in range(300):
        low = 10 ** rng.uniform(-9, 6)
        values = [low, low * 10 ** rng.uniform(0, 14)]
        ticks, labels, (bottom, top) = log_ticks(values)
        assert 2 <= len(ticks) <= MOST_LOG_TICKS + 1
        assert ticks == sorted(set(ticks))
        assert all(
            float(label) == pytest.approx(t, rel=1e-9)
            for label, t in zip(labels, ticks, strict=True)
        )
        assert 10**bottom <= values[0] * (1 + 1e-9) and 10**top >= values[1] * (1 - 1e-9)
    assert log_ticks([0.0, float("nan")]) == ([], [], [])  # nothing to put on a log axis


def test_the_epoch_axis_starts_at_zero_before_the_first_epoch():
    """One point, before training: the axis runs over the planned epochs, not -1 to 1."""
    first = _norms([0.0], [5.0], [0.5])
    figure = norms_figure(first, epochs=5)
    for axis in (figure.layout.xaxis, figure.layout.xaxis2):
        assert tuple(axis.range) == (0, 5.05)
    assert tuple(norms_figure(first).layout.xaxis.range) == (0, 1.05)
    longer = _norms([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], [5.0] * 7, [0.5] * 7)
    assert tuple(norms_figure(longer, epochs=2).layout.xaxis.range) == (0, 3.05)
