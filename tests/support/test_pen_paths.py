"""The second stroke generator, tests.support.pen_paths: hands that steer a pen through points."""

from __future__ import annotations

import numpy as np

from tests.support.drawings import CANVAS, SMALL_HEIGHTS
from tests.support.pen_paths import VIA_POINTS, path_digits, path_strokes, path_writer, pen_path


def test_the_pen_starts_and_ends_on_its_points_and_rounds_the_corners_between():
    points = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])
    path = pen_path(points, stiffness=400.0, reach=0.15)
    assert np.allclose(path[0], points[0])
    assert np.linalg.norm(path[-1] - points[-1]) < 0.01
    assert np.linalg.norm(path - points[1], axis=1).min() > 0.02  # turned before the corner
    assert np.abs(np.diff(path, axis=0)).max() < 0.08  # small steps: a smooth line


def test_several_ways_of_writing_1_4_6_7_and_9_and_every_way_is_used():
    assert sorted(VIA_POINTS) == list(range(10))
    assert all(len(VIA_POINTS[d]) >= 3 for d in (1, 4, 6, 7, 9))
    rng = np.random.default_rng(3)
    writers = [path_writer(rng) for _ in range(60)]
    for digit, ways in VIA_POINTS.items():
        assert {w.ways[digit] for w in writers} == set(ways), digit
    first, second = (path_strokes(6, writers[0], rng) for _ in range(2))
    assert 0 < max(np.abs(a[-1] - b[-1]).max() for a, b in zip(first, second, strict=True)) < 0.3


def test_path_digits_cycle_over_digits_use_the_pen_asked_for_and_fit_the_canvas():
    drawings = list(path_digits(60, seed=4, pens=(6, 24)))
    assert [d.digit for d in drawings[:10]] == list(range(10))
    assert {d.pen for d in drawings} == {6, 24}
    for drawing in drawings:
        alpha = drawing.canvas[..., 3]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        assert rows[0] > 0 and cols[0] > 0 and rows[-1] < CANVAS - 1 and cols[-1] < CANVAS - 1
        if drawing.style.endswith("small"):
            assert drawing.height <= SMALL_HEIGHTS[1] + 1
    assert sum(d.style.endswith("small") for d in drawings) == 20
    again = [d.canvas for d in path_digits(5, seed=4, pens=(6, 24))]
    assert all(np.array_equal(a, d.canvas) for a, d in zip(again, drawings, strict=False))


def test_every_way_of_writing_9_comes_back_up_to_where_its_loop_began():
    # Turning towards the tail well before the pen got back to its start left an S, not a 9.
    rng = np.random.default_rng(8)
    for way in VIA_POINTS[9]:
        short = []  # how far under its start the loop's way back up stops, a fraction of the box
        for _ in range(20):
            writer = path_writer(rng)
            writer.ways[9] = way
            (path,) = path_strokes(9, writer, rng)
            bottom = int(np.argmax(path[: len(path) // 2, 1]))
            short.append(path[bottom:, 1].min() - path[0, 1])
        assert np.median(short) <= 0.05 and max(short) <= 0.15, way
