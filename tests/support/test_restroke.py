"""The MNIST re-stroker of tests.support.restroke: cuts, blobs, centre lines, pens and labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tests.support.drawings import CANVAS, HEIGHTS, MIN_PEN_HEIGHTS
from tests.support.restroke import (
    ink_mask,
    open_blobs,
    pieces,
    restroked_digits,
    skeleton_strokes,
    thin,
)


def pen_depth(canvas: np.ndarray) -> float:
    """Half the width of a drawing's strokes: the median depth of the ridge of its ink."""
    mask = canvas[..., 3] >= 128
    depth = ndimage.distance_transform_edt(mask)
    ridge = (depth == ndimage.maximum_filter(depth, size=3)) & (depth > 1)
    return float(np.median(depth[ridge]))


def test_thinning_leaves_one_pixel_centre_lines_and_keeps_loops():
    bar = np.zeros((40, 60), bool)
    bar[15:24, 10:50] = True
    line = thin(bar)
    assert line.sum() >= 30 and (line & ~bar).sum() == 0
    assert set(np.flatnonzero(line.any(axis=1))) <= {18, 19, 20}  # along the middle row
    rows, cols = np.ogrid[:60, :60]
    ring = np.abs(np.hypot(rows - 30, cols - 30) - 18) <= 4
    loop = thin(ring)
    assert ndimage.label(~loop)[1] == 2  # still a closed loop: inside and outside
    radii = np.hypot(*(np.array(np.nonzero(loop)) - 30))
    assert radii.min() >= 15 and radii.max() <= 21


def test_a_blob_of_ink_is_thinned_to_a_small_loop_and_a_plain_stroke_is_left_alone():
    rows, cols = np.ogrid[:120, :120]
    six = (np.abs(cols - 50) <= 6) & (rows >= 10) & (rows <= 80)  # a stem 13 px wide ...
    six |= np.hypot(rows - 85, cols - 60) <= 22  # ... into a loop filled with ink
    assert ndimage.label(~thin(six))[1] == 1  # thinned as it is: a line, no loop
    loop = thin(open_blobs(six))
    assert ndimage.label(~loop)[1] == 2  # a small loop round the blob's middle
    assert (loop & ~six).sum() == 0
    hole = ndimage.binary_fill_holes(loop) & ~loop
    assert hole[85, 60] and hole.sum() < np.pi * 22**2  # round the blob's middle, inside it
    bar = np.zeros((40, 60), bool)
    bar[15:24, 10:50] = True
    ring = np.abs(np.hypot(rows - 60, cols - 60) - 30) <= 6
    assert (open_blobs(bar) == bar).all() and (open_blobs(ring) == ring).all()


def test_skeleton_strokes_follow_the_middle_of_an_mnist_stroke():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a 1: a bar 4 px wide, 20 tall
    points = np.concatenate(skeleton_strokes(digit))
    x, y = points[:, 0], points[:, 1]
    assert np.all(np.abs(x - 13.5) <= 0.8)  # the bar's middle, in the digit's 28-px frame
    assert y.min() <= 7 and y.max() >= 21  # thinning shortens each end by half the width


def test_a_faint_stroke_is_kept_whole_and_dust_beside_a_digit_is_not_joined_to_it():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 13:15] = 250  # a 1 ...
    digit[12:16, 13:15] = 110  # ... drawn lightly in the middle: under half strength
    assert pieces(digit.repeat(4, 0).repeat(4, 1) >= 125) == 2  # cut at half: two dashes
    mask = ink_mask(digit)
    assert pieces(mask) == 1
    points = np.concatenate(skeleton_strokes(digit))
    assert points[:, 1].min() <= 6 and points[:, 1].max() >= 21
    assert np.all(np.abs(points[:, 0] - 13.5) <= 0.8)  # one line down the middle
    dusty = digit.copy()
    dusty[12:16, 13:15] = 250
    dusty[19:21, 21:23] = 100  # faint scanner dust well apart from a strong 1
    assert pieces(dusty.repeat(4, 0).repeat(4, 1) >= 75) == 2  # a low cut keeps the dust
    kept = ink_mask(dusty)
    assert pieces(kept) == 1 and not kept[76:84, 84:92].any()  # cut at half: no dust


@pytest.mark.parametrize("pen", [6, 18, 30])
def test_restroked_digits_keep_the_label_and_use_the_pen_asked_for(pen):
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 4:24, 12:16] = 255  # a bar
    rows, cols = np.ogrid[:28, :28]
    images[1] = 255 * (np.abs(np.hypot(rows - 14, (cols - 14) * 1.4) - 8) <= 2)  # a ring
    images[2, 6:9, 6:22] = 255  # a 7: bar and slope
    for i in range(14):
        images[2, 8 + i, 20 - i // 2 : 23 - i // 2] = 255
    drawings = list(restroked_digits(images, np.array([1, 0, 7]), seed=3, pens=(pen,)))
    assert [d.digit for d in drawings] == [1, 0, 7]
    assert [d.style for d in drawings] == ["mnist 0", "mnist 1", "mnist 2"]
    for drawing in drawings:
        assert drawing.pen == pen and drawing.canvas.shape == (CANVAS, CANVAS, 4)
        assert pen_depth(drawing.canvas) == pytest.approx(pen / 2, abs=1.0)
        assert drawing.height >= max(HEIGHTS[0], MIN_PEN_HEIGHTS * pen) - 1
    ring = drawings[1].canvas[..., 3] >= 128
    assert ndimage.label(~ring)[1] == 2  # the 0 is still closed
