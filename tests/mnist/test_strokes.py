"""paths_to_mnist: a drawing redrawn from the canvas's own paths, on paths given as the canvas
sends them (Fabric.js objects) and drawn here with the same round pen."""

from __future__ import annotations

import numpy as np
import pytest

from core.mnist.preprocess import canvas_to_mnist
from core.mnist.strokes import canvas_paths, lean, paths_to_mnist
from tests.support.canvas_paths import fabric
from tests.support.drawings import render


def six(left, top, size):
    """A 6: a stem from the top right curving down into a loop in the lower half."""
    t = np.linspace(0, 1, 24)[:, None]
    stem = (1 - t) ** 2 * [0.75, 0.05] + 2 * t * (1 - t) * [0.2, 0.2] + t**2 * [0.25, 0.7]
    angles = np.linspace(np.pi, 3 * np.pi, 48)
    loop = np.stack([0.5 + 0.25 * np.cos(angles), 0.7 + 0.25 * np.sin(angles)], axis=1)
    return [np.concatenate([stem, loop]) * size + [left, top]]


def on_canvas(strokes, pen):
    return render([np.asarray(s) for s in strokes], pen)


def test_the_canvas_paths_are_read_as_points_in_canvas_pixels():
    stroke = [(80, 50), (140, 50), (200, 50), (160, 140), (120, 239)]
    found = canvas_paths(fabric(stroke, pen=14))

    assert found is not None
    (points,), pen = found
    assert pen == 14
    assert points.min(axis=0) == pytest.approx([80, 50])
    assert points.max(axis=0) == pytest.approx([200, 239])
    assert tuple(points[0]) == (80, 50) and tuple(points[-1]) == (120, 239)


@pytest.mark.parametrize(
    "json_data",
    [
        None,
        {},
        {"objects": []},
        fabric([(10, 10), (50, 50)], scaleX=2),
        fabric([(10, 10), (50, 50)], angle=30),
        fabric([(10, 10), (50, 50)], flipX=True),
        {"objects": [{"type": "Rect", "left": 0, "top": 0, "width": 9, "height": 9}]},
        {"objects": [{"type": "Path", "strokeWidth": 9, "path": [["A", 1, 2, 3]]}]},
        {"objects": [{"type": "Path", "strokeWidth": 9, "path": [["M", "x", 2]]}]},
        {"objects": [{"type": "Path", "strokeWidth": 0, "path": [["M", 1, 2]]}]},
        {"objects": [{"type": "Path", "strokeWidth": 9, "path": [["M", float("nan"), 2]]}]},
    ],
)
def test_anything_but_plain_paths_gives_no_paths(json_data):
    assert canvas_paths(json_data) is None


@pytest.mark.parametrize("pen", [6, 18, 30])
def test_a_digit_reads_the_same_whatever_the_pen(pen):
    """The image recipe sees a small 6 drawn with a thick pen as a blob with its loop filled;
    from the paths it is the same digit as with a thin pen."""
    strokes = six(100, 90, 100)
    thin = paths_to_mnist(on_canvas(strokes, 6), fabric(*strokes, pen=6))
    digit = paths_to_mnist(on_canvas(strokes, pen), fabric(*strokes, pen=pen))

    assert digit is not None and digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.abs(digit - thin).mean() < 0.02


def test_with_a_thick_pen_the_loop_of_a_small_digit_stays_open():
    strokes = six(100, 90, 100)
    canvas, json_data = on_canvas(strokes, 30), fabric(*strokes, pen=30)
    thin = paths_to_mnist(on_canvas(strokes, 6), fabric(*strokes, pen=6))
    from_paths = paths_to_mnist(canvas, json_data)
    from_image = canvas_to_mnist(canvas)

    hole = thin < 0.05  # dark in the thin drawing: the loop's inside and the background
    assert from_paths[hole].mean() < 0.05
    assert from_image[hole].mean() > 2 * from_paths[hole].mean()


def test_a_leaning_digit_keeps_half_its_lean():
    stroke = [(100, 30), (160, 250)]  # a 1 leaning right: 60 px across over 220 down
    digit = paths_to_mnist(on_canvas([stroke], 12), fabric(stroke, pen=12))

    as_drawn = 60 / 220  # columns per row downwards
    assert lean(canvas_to_mnist(on_canvas([stroke], 12)))[0] == pytest.approx(as_drawn, abs=0.03)
    assert lean(digit)[0] == pytest.approx(as_drawn / 2, abs=0.03)


def test_without_matching_paths_the_image_recipe_is_used():
    strokes = six(100, 90, 100)
    canvas = on_canvas(strokes, 12)
    elsewhere = [s + [-80, 0] for s in strokes]  # paths that are not the drawing shown

    for json_data in (None, fabric(*elsewhere, pen=12), fabric(*strokes, pen=12, angle=90)):
        assert np.array_equal(paths_to_mnist(canvas, json_data), canvas_to_mnist(canvas))


def test_blank_canvases_and_dots_give_nothing():
    blank = np.zeros((280, 280, 4), np.uint8)
    assert paths_to_mnist(blank, None) is None
    dot = [(140, 140), (140.02, 140)]
    assert paths_to_mnist(on_canvas([dot], 30), fabric(dot, pen=30)) is None


def test_a_speck_beside_the_digit_is_left_out():
    strokes = six(80, 60, 180)
    speck = [(20, 20), (21, 20)]
    with_speck = paths_to_mnist(on_canvas([*strokes, speck], 6), fabric(*strokes, speck, pen=6))
    without = paths_to_mnist(on_canvas(strokes, 6), fabric(*strokes, pen=6))

    assert np.abs(with_speck - without).max() < 1e-6


@pytest.mark.parametrize(
    "changes",
    [
        {"path": [[[]]]},  # a command that is not a letter: found by test_strokes_fuzz.py
        {"strokeWidth": 2179981087.0},  # a pen wider than the canvas: found there too
        {"path": [["M", 90.0, 40.0], ["L", 1e300, 40.0]]},  # a point far off the canvas
    ],
)
def test_paths_that_are_not_a_drawing_on_the_canvas_leave_it_to_the_image(changes):
    stroke = [(90, 40), (190, 40), (150, 150), (120, 250)]
    image = on_canvas([stroke], 18)

    digit = paths_to_mnist(image, fabric(stroke, pen=18, **changes))

    assert np.array_equal(digit, canvas_to_mnist(image))
