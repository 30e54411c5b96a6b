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
    SMALL_HEIGHTS,
    STYLES,
    WRITER_VARIANTS,
    draw_digit,
    drawn_digits,
    ink_mask,
    open_blobs,
    pieces,
    place_on_canvas,
    place_strokes,
    random_writer,
    render,
    restroked_digits,
    skeleton_strokes,
    thin,
    writer_digits,
    writer_strokes,
)


def ink_rows_cols(canvas: np.ndarray, level: int = 128) -> tuple[np.ndarray, np.ndarray]:
    mask = canvas[..., 3] >= level
    return np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))


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


def pen_depth(canvas: np.ndarray) -> float:
    """Half the width of a drawing's strokes: the median depth of the ridge of its ink."""
    mask = canvas[..., 3] >= 128
    depth = ndimage.distance_transform_edt(mask)
    ridge = (depth == ndimage.maximum_filter(depth, size=3)) & (depth > 1)
    return float(np.median(depth[ridge]))


def test_place_strokes_at_a_chosen_place():
    strokes = [np.array([[0.0, 0.0], [0.5, 1.0]])]
    for where, corner in (((0.0, 0.0), (0, 0)), ((1.0, 1.0), (1, 1)), ((0.0, 1.0), (0, 1))):
        placed, drawn = place_strokes(strokes, pen=10, height=100, rng=None, where=where)
        assert drawn == pytest.approx(100)
        low, high = placed[0].min(axis=0), placed[0].max(axis=0)
        # (x, y) against (row, column): the top or bottom, left or right edge, 6 px in.
        assert (low[1] if corner[0] == 0 else CANVAS - high[1]) == pytest.approx(6, abs=1.01)
        assert (low[0] if corner[1] == 0 else CANVAS - high[0]) == pytest.approx(6, abs=1.01)


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


def test_writers_keep_their_variant_and_every_variant_is_drawn():
    rng = np.random.default_rng(5)
    writers = [random_writer(rng) for _ in range(40)]
    for digit, names in WRITER_VARIANTS.items():
        assert {w.variants[digit] for w in writers} == set(names), digit
    assert {"straight entry", "hooked"} <= set(WRITER_VARIANTS[6])
    for digit in range(10):  # drawn twice by one writer: the same strokes, jittered
        first, second = (writer_strokes(digit, writers[0], rng) for _ in range(2))
        assert [len(s) for s in first] == [len(s) for s in second]
        gap = max(np.abs(a - b).max() for a, b in zip(first, second, strict=True))
        assert 0 < gap < 0.5, digit  # (a 0 may start its loop a little further round)
    drawings = list(writer_digits(40, seed=5, writers=2, pens=(12,)))
    assert [d.digit for d in drawings[:20]] == list(range(10)) * 2
    seen = {}
    for drawing in drawings:
        variant, writer = drawing.style.split(", ")[:2]
        assert seen.setdefault((drawing.digit, writer), variant) == variant  # one hand each


def test_writers_draw_small_digits_near_the_edges():
    for drawing in writer_digits(60, seed=6, pens=(6, 18)):
        rows, cols = ink_rows_cols(drawing.canvas)
        assert rows.size and rows[0] > 0 and rows[-1] < CANVAS - 1
        if drawing.style.endswith("small"):
            assert drawing.height <= SMALL_HEIGHTS[1] + 1
            gaps = (rows[0], CANVAS - 1 - rows[-1], cols[0], CANVAS - 1 - cols[-1])
            assert min(gaps[:2]) <= 40 and min(gaps[2:]) <= 40, drawing.style
        else:
            assert drawing.height >= HEIGHTS[0] - 1 or drawing.digit in (0, 4, 8)


def test_writer_digits_are_reproducible_and_other_seeds_bring_other_writers():
    first = [d.canvas for d in writer_digits(10, seed=12)]
    again = [d.canvas for d in writer_digits(10, seed=12)]
    other = [d.canvas for d in writer_digits(10, seed=13)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def holes(canvas: np.ndarray) -> int:
    """Background patches enclosed by ink (at half strength), of at least 20 pixels."""
    labels, count = ndimage.label(canvas[..., 3] < 128)
    sizes = ndimage.sum_labels(np.ones(labels.shape), labels, index=np.arange(1, count + 1))
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    return sum(1 for k in range(1, count + 1) if k not in border and sizes[k - 1] >= 20)


def test_a_straight_stemmed_6_runs_into_its_loop_without_cutting_across_it():
    # A stem aimed at the loop's leftmost point crossed the loop, splitting its hole in two.
    rng = np.random.default_rng(7)
    writer = random_writer(rng)
    writer.variants[6] = "straight entry"
    for _ in range(20):
        placed, _ = place_strokes(writer_strokes(6, writer, rng), pen=3, height=240, rng=rng)
        assert holes(render(placed, 3)) <= 1
    canvas, _ = draw_digit(6, "straight stem", pen=3, height=240, rng=rng)
    assert holes(canvas) == 1
