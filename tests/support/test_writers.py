"""The made-up writers of tests.support.writers: their variants, small digits and seeds."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from tests.support.drawings import (
    CANVAS,
    HEIGHTS,
    SMALL_HEIGHTS,
    draw_digit,
    ink_rows_cols,
    place_strokes,
    render,
)
from tests.support.writers import WRITER_VARIANTS, random_writer, writer_digits, writer_strokes


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
