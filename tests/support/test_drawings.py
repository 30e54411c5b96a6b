"""The pen-drawn digits of tests.support.drawings: styles, pen widths, sizes, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tests.support.drawings import (
    CANVAS,
    HEIGHTS,
    MIN_PEN_HEIGHTS,
    PEN_WIDTHS,
    STYLES,
    draw_digit,
    drawn_digits,
    ink_rows_cols,
    place_on_canvas,
    place_strokes,
    render,
)


def test_every_digit_has_several_styles_including_the_usual_variants():
    assert sorted(STYLES) == list(range(10))
    assert all(len(styles) >= 2 for styles in STYLES.values())
    expected = {
        0: ["oval", "narrow"],
        1: ["stick", "flag", "flag and base"],
        2: ["plain", "loop"],
        4: ["closed", "open"],
        7: ["plain", "barred"],
        9: ["curved tail", "straight tail"],
    }
    for digit, names in expected.items():
        assert set(names) <= set(STYLES[digit]), digit


def test_styles_of_a_digit_differ():
    # Drawn alike (same pen, size and hand), two styles of a digit are not the same picture.
    for digit, styles in STYLES.items():
        images = [
            draw_digit(digit, name, pen=10, height=200, rng=np.random.default_rng(0))[0][..., 3]
            for name in styles
        ]
        for i in range(len(images)):
            for j in range(i + 1, len(images)):
                overlap = np.minimum(images[i], images[j]).sum() / images[i].sum()
                assert overlap < 0.9, (digit, list(styles)[i], list(styles)[j])


@pytest.mark.parametrize("pen", [6, 13, 30])
def test_a_straight_stroke_is_as_wide_as_the_pen_with_round_antialiased_ends(pen):
    canvas = render([np.array([[60.0, 140.0], [220.0, 140.0]])], pen)
    alpha = canvas[..., 3].astype(np.float32) / 255
    # Across the stroke the ink adds up to the pen's width (antialiased edges included).
    assert alpha[:, 140].sum() == pytest.approx(pen, abs=0.3)
    # Antialiased: edge pixels are partly covered.
    assert ((alpha > 0.05) & (alpha < 0.95)).any()
    # Round caps: the ink reaches pen/2 beyond each end on the axis, but not at the corners.
    radius = pen / 2
    assert alpha[140, round(220 + radius - 1)] > 0.5
    assert alpha[140, round(220 + radius + 1)] == 0
    corner = round(radius * 0.85)  # outside the disc, inside a square cap
    assert alpha[140 - corner, 220 + corner] < 0.1
    assert alpha[140 - corner, 220 - 1] > 0.9


@pytest.mark.parametrize("pen", [6, 18, 30])
def test_drawn_digits_are_written_with_the_pen_asked_for(pen):
    for drawing in drawn_digits(10, seed=pen, pens=(pen,)):
        assert drawing.pen == pen
        mask = drawing.canvas[..., 3] >= 128
        # Along the middle of a stroke (the ridge of the distance to the background) the ink
        # is half a pen deep; only corners and crossings are deeper.
        depth = ndimage.distance_transform_edt(mask)
        ridge = (depth == ndimage.maximum_filter(depth, size=3)) & (depth > 1)
        assert np.median(depth[ridge]) == pytest.approx(pen / 2, abs=1.0), drawing.style


def test_drawn_digits_fit_the_canvas_at_the_height_asked_for():
    for drawing in drawn_digits(40, seed=4):
        canvas = drawing.canvas
        assert canvas.shape == (CANVAS, CANVAS, 4) and canvas.dtype == np.uint8
        alpha = canvas[..., 3]
        assert alpha[0].max() == alpha[-1].max() == alpha[:, 0].max() == alpha[:, -1].max() == 0
        rows, _ = ink_rows_cols(canvas)
        # The pen's centre spans `height`; its round tip adds half a pen above and below.
        assert rows[-1] + 1 - rows[0] == pytest.approx(drawing.height + drawing.pen, abs=2)
        assert drawing.height <= HEIGHTS[1] + 1
        if drawing.digit != 0:  # only a round 0 can be too wide for the canvas at its height
            assert drawing.height >= max(HEIGHTS[0], MIN_PEN_HEIGHTS * drawing.pen) - 1


def test_drawn_digits_cycle_over_digits_styles_and_every_pen_width():
    drawings = list(drawn_digits(300, seed=0))
    assert [d.digit for d in drawings[:20]] == list(range(10)) * 2
    for digit, styles in STYLES.items():
        assert {d.style for d in drawings if d.digit == digit} == set(styles)
    pens = {d.pen for d in drawings}
    assert min(pens) == PEN_WIDTHS[0] and max(pens) == PEN_WIDTHS[1]
    assert len(pens) > 15
    # Places and sizes vary: the ink's top-left corner is not always in the same spot.
    corners = {tuple(int(v[0]) for v in ink_rows_cols(d.canvas)) for d in drawings}
    assert len(corners) > 200


def test_a_subset_of_styles_can_be_held_out():
    chosen = {d: list(names)[:1] for d, names in STYLES.items()}
    styles = {(d.digit, d.style) for d in drawn_digits(50, seed=1, styles=chosen)}
    assert styles == {(d, names[0]) for d, names in chosen.items()}


def test_the_same_seed_draws_the_same_digits_and_another_seed_does_not():
    first = [d.canvas for d in drawn_digits(12, seed=9)]
    again = [d.canvas for d in drawn_digits(12, seed=9)]
    other = [d.canvas for d in drawn_digits(12, seed=10)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_backgrounds_hold_the_same_ink():
    level = {}
    for background in ("transparent", "black", "white"):
        canvas, _ = draw_digit(
            8, "two loops", pen=12, height=150, rng=np.random.default_rng(2), background=background
        )
        if background == "transparent":
            assert (canvas[..., :3] == 255).all()
            level[background] = canvas[..., 3]
        elif background == "black":
            assert (canvas[..., 3] == 255).all()
            level[background] = canvas[..., 0]
        else:
            level[background] = 255 - canvas[..., 0]
    assert np.array_equal(level["transparent"], level["black"])
    assert np.array_equal(level["transparent"], level["white"])
    with pytest.raises(ValueError, match="background"):
        render([np.zeros((2, 2))], 5, background="grey")


def test_place_on_canvas_puts_the_digit_where_asked():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255
    canvas = place_on_canvas(digit, 140, 30, 100)
    rows, cols = ink_rows_cols(canvas)
    # 5x enlargement: rows 4-23 -> 20-119 (+30), cols 12-15 -> 60-79 (+100), give or take
    # the bilinear edge.
    assert abs(rows[0] - 50) <= 3 and abs(rows[-1] - 149) <= 3
    assert abs(cols[0] - 160) <= 3 and abs(cols[-1] - 179) <= 3
    with pytest.raises(ValueError, match="does not fit"):
        place_on_canvas(digit, 200, 100, 0)


def test_place_strokes_at_a_chosen_place():
    strokes = [np.array([[0.0, 0.0], [0.5, 1.0]])]
    for where, corner in (((0.0, 0.0), (0, 0)), ((1.0, 1.0), (1, 1)), ((0.0, 1.0), (0, 1))):
        placed, drawn = place_strokes(strokes, pen=10, height=100, rng=None, where=where)
        assert drawn == pytest.approx(100)
        low, high = placed[0].min(axis=0), placed[0].max(axis=0)
        # (x, y) against (row, column): the top or bottom, left or right edge, 6 px in.
        assert (low[1] if corner[0] == 0 else CANVAS - high[1]) == pytest.approx(6, abs=1.01)
        assert (low[0] if corner[1] == 0 else CANVAS - high[0]) == pytest.approx(6, abs=1.01)
