"""The steps of core.mnist.preprocess on their own (ink_map, centre_by_mass, stroke_width,
dilate and erode), and the images canvas_to_mnist refuses with the fix."""

from __future__ import annotations

import numpy as np
import pytest

from core.mnist.preprocess import (
    canvas_to_mnist,
    centre_by_mass,
    dilate,
    erode,
    ink_map,
    stroke_width,
)
from tests.support.digit_measures import centre_of_mass


def test_ink_map_is_the_composite_over_the_opposite_colour():
    rng = np.random.default_rng(0)
    canvas = np.zeros((50, 60, 4), dtype=np.uint8)
    canvas[10:30, 20:40, :3] = 255
    canvas[10:30, 20:40, 3] = rng.integers(0, 256, (20, 20))
    # White strokes over black: the luminance of the composite is alpha alone.
    expected = canvas[..., 3] / 255.0
    np.testing.assert_allclose(ink_map(canvas), expected / expected.max(), atol=1e-5)


def test_centre_by_mass_shifts_by_whole_pixels_and_keeps_the_digit_in_the_frame():
    small = np.zeros((20, 12), dtype=np.float32)
    small[:, 5] = 1.0  # centre of mass at (9.5, 5)
    frame = centre_by_mass(small)
    assert centre_of_mass(frame) == (14.5, 14.0)  # 14 - 9.5 = 4.5 rounds up to 5 rows down
    lopsided = np.zeros((20, 20), dtype=np.float32)
    lopsided[0, 0] = 100.0
    lopsided[19, 19] = 1.0  # mass near the corner would push the digit out of the frame
    frame = centre_by_mass(lopsided)
    assert frame.sum() == pytest.approx(lopsided.sum())
    assert frame[8, 8] == 100.0  # moved down and right as far as the frame allows (28 - 20)
    assert frame[27, 27] == 1.0


def test_stroke_width_of_bars_and_dots():
    bar = np.zeros((40, 240), dtype=bool)
    bar[15:25, 20:220] = True  # 200 long, 10 wide
    assert stroke_width(bar) == pytest.approx(10.0, rel=0.05)
    rows, cols = np.indices((60, 60))
    dot = (rows - 30) ** 2 + (cols - 30) ** 2 <= 20**2
    # A diameter of 40 is 20 in theory; a pixel outline is shorter than the circle (22.4).
    assert stroke_width(dot) == pytest.approx(20.0, rel=0.15)
    assert stroke_width(np.zeros((5, 5), dtype=bool)) == 0.0


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 5])
def test_dilate_and_erode_match_a_brute_force_disc(radius):
    rng = np.random.default_rng(radius)
    values = rng.random((17, 23)).astype(np.float32)
    padded = np.pad(values, radius, constant_values=-np.inf)
    offsets = [
        (dy, dx)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
        if dy * dy + dx * dx <= radius * radius
    ]
    windows = [
        padded[radius + dy : radius + dy + 17, radius + dx : radius + dx + 23] for dy, dx in offsets
    ]
    np.testing.assert_array_equal(dilate(values, radius), np.max(windows, axis=0))
    padded_low = np.pad(values, radius, constant_values=np.inf)
    windows = [
        padded_low[radius + dy : radius + dy + 17, radius + dx : radius + dx + 23]
        for dy, dx in offsets
    ]
    np.testing.assert_array_equal(erode(values, radius), np.min(windows, axis=0))


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((28, 28, 2), dtype=np.uint8), "shape"),
        (np.zeros((4, 28, 28, 4), dtype=np.uint8), "shape"),
        (np.zeros((0, 28), dtype=np.uint8), "no pixels"),
        (np.zeros((28, 28), dtype=np.int64), "uint8"),
        (np.full((28, 28), 255.0), r"\[0, 1\]"),
        (np.full((28, 28), np.nan), "finite"),
    ],
)
def test_bad_images_are_refused_with_the_fix(image, message):
    with pytest.raises(ValueError, match=message):
        canvas_to_mnist(image)
