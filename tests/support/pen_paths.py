"""A second stroke generator: digits written by a pen that steers towards points in turn.

`tests.support.drawings` draws digits from arcs and Bezier curves. This module makes them
another way, so that a recipe is not judged on one generator's habits: each digit is a few
points that a writer aims at in order (VIA_POINTS: several ways of writing 1, 4, 6, 7 and 9
among them), and the pen moves like a hand, accelerating towards the point it aims at and
turning to the next one before it arrives, so corners come out rounded by the writer's own
speed. Each writer (`path_writer`) has a slant, a width, a hand speed and a way of writing
each digit; every drawing jitters the points. `path_digits` makes a set, a third of the
digits small and near an edge, drawn with `drawings.render` like the other sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tests.support.drawings import (
    HEIGHTS,
    MIN_PEN_HEIGHTS,
    PEN_WIDTHS,
    SMALL_HEIGHTS,
    Drawing,
    place_strokes,
    render,
)

# Each way of writing a digit is a list of pen strokes; each stroke the points aimed at, in a
# unit box, y downwards.
VIA_POINTS: dict[int, dict[str, list[list[tuple[float, float]]]]] = {
    0: {
        "from the top": [
            [
                (0.55, 0.05),
                (0.25, 0.2),
                (0.2, 0.6),
                (0.45, 0.95),
                (0.75, 0.75),
                (0.8, 0.3),
                (0.6, 0.05),
                (0.5, 0.1),
            ]
        ],
        "round": [
            [
                (0.5, 0.05),
                (0.15, 0.3),
                (0.2, 0.8),
                (0.6, 0.95),
                (0.88, 0.55),
                (0.7, 0.1),
                (0.45, 0.06),
            ]
        ],
    },
    1: {
        "stick": [[(0.55, 0.05), (0.5, 0.95)]],
        "flag": [[(0.4, 0.18), (0.58, 0.05), (0.55, 0.95)]],
        "flag and base": [[(0.38, 0.18), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],
    },
    2: {
        "round": [
            [(0.2, 0.25), (0.45, 0.05), (0.78, 0.15), (0.7, 0.45), (0.2, 0.95), (0.85, 0.93)]
        ],
        "looped": [
            [
                (0.2, 0.2),
                (0.5, 0.05),
                (0.78, 0.2),
                (0.6, 0.55),
                (0.3, 0.85),
                (0.2, 0.8),
                (0.35, 0.95),
                (0.85, 0.92),
            ]
        ],
    },
    3: {
        "two bowls": [
            [
                (0.2, 0.12),
                (0.5, 0.03),
                (0.78, 0.18),
                (0.45, 0.45),
                (0.82, 0.65),
                (0.6, 0.94),
                (0.18, 0.85),
            ]
        ],
    },
    4: {
        "open": [[(0.3, 0.05), (0.2, 0.6), (0.85, 0.6)], [(0.65, 0.25), (0.65, 0.95)]],
        "closed": [[(0.62, 0.05), (0.15, 0.65), (0.88, 0.65)], [(0.62, 0.05), (0.62, 0.95)]],
        "one stroke": [[(0.35, 0.05), (0.22, 0.55), (0.82, 0.55), (0.68, 0.05), (0.68, 0.95)]],
    },
    5: {
        "bar last": [
            [(0.3, 0.06), (0.26, 0.45), (0.6, 0.38), (0.82, 0.65), (0.6, 0.93), (0.18, 0.85)],
            [(0.3, 0.06), (0.78, 0.05)],
        ],
        "bar first": [
            [
                (0.78, 0.05),
                (0.3, 0.06),
                (0.26, 0.45),
                (0.6, 0.38),
                (0.82, 0.65),
                (0.6, 0.93),
                (0.18, 0.85),
            ]
        ],
    },
    6: {
        "round": [
            [
                (0.72, 0.05),
                (0.38, 0.25),
                (0.22, 0.62),
                (0.38, 0.94),
                (0.7, 0.88),
                (0.74, 0.6),
                (0.48, 0.5),
                (0.26, 0.66),
            ]
        ],
        "straight": [
            [
                (0.68, 0.05),
                (0.3, 0.62),
                (0.35, 0.92),
                (0.68, 0.9),
                (0.72, 0.65),
                (0.45, 0.55),
                (0.3, 0.66),
            ]
        ],
        "small loop": [
            [
                (0.65, 0.05),
                (0.35, 0.4),
                (0.3, 0.85),
                (0.5, 0.96),
                (0.68, 0.8),
                (0.5, 0.66),
                (0.32, 0.76),
            ]
        ],
    },
    7: {
        "plain": [[(0.18, 0.08), (0.82, 0.08), (0.42, 0.95)]],
        "crossbar": [[(0.18, 0.08), (0.82, 0.08), (0.42, 0.95)], [(0.35, 0.52), (0.78, 0.5)]],
        "hooked": [[(0.18, 0.25), (0.2, 0.08), (0.82, 0.1), (0.5, 0.6), (0.45, 0.95)]],
    },
    8: {
        "one stroke": [
            [
                (0.7, 0.12),
                (0.5, 0.04),
                (0.28, 0.18),
                (0.5, 0.45),
                (0.75, 0.7),
                (0.5, 0.95),
                (0.25, 0.72),
                (0.5, 0.45),
                (0.72, 0.22),
                (0.6, 0.07),
            ]
        ],
        "two circles": [
            [(0.5, 0.05), (0.28, 0.25), (0.5, 0.46), (0.72, 0.25), (0.5, 0.05)],
            [(0.5, 0.46), (0.22, 0.72), (0.5, 0.96), (0.78, 0.72), (0.5, 0.46)],
        ],
    },
    9: {
        "straight tail": [
            [
                (0.74, 0.15),
                (0.45, 0.05),
                (0.26, 0.25),
                (0.45, 0.45),
                (0.72, 0.3),
                (0.74, 0.15),
                (0.74, 0.02),
                (0.72, 0.95),
            ]
        ],
        "curved tail": [
            [
                (0.74, 0.15),
                (0.45, 0.05),
                (0.26, 0.25),
                (0.45, 0.45),
                (0.72, 0.3),
                (0.74, 0.15),
                (0.74, 0.02),
                (0.72, 0.7),
                (0.55, 0.94),
                (0.35, 0.9),
            ]
        ],
        "slanted tail": [
            [
                (0.72, 0.15),
                (0.45, 0.05),
                (0.26, 0.25),
                (0.45, 0.45),
                (0.7, 0.3),
                (0.72, 0.15),
                (0.72, 0.02),
                (0.52, 0.95),
            ]
        ],
    },
}
STEP = 0.005  # the time step of the hand's motion
DAMPING = 0.6  # the damping ratio of the hand: under 1, it swings on past each point a little
POINT_JITTER = 0.025  # how far each aimed-at point strays per drawing, a fraction of the box


@dataclass(frozen=True)
class PathWriter:
    """One hand: slant, width, speed (how sharply the pen turns) and a way of writing each digit."""

    slant: float
    width: float
    stiffness: float  # the pull towards the aimed-at point; higher turns corners sharper
    reach: float  # how close to a point the pen comes before aiming at the next one
    ways: dict[int, str]


def path_writer(rng: np.random.Generator) -> PathWriter:
    ways = {d: list(v)[int(rng.integers(len(v)))] for d, v in VIA_POINTS.items()}
    return PathWriter(
        slant=rng.uniform(-0.1, 0.35),
        width=rng.uniform(0.8, 1.15),
        stiffness=rng.uniform(250, 600),
        reach=rng.uniform(0.1, 0.2),
        ways=ways,
    )


def pen_path(points: np.ndarray, stiffness: float, reach: float) -> np.ndarray:
    """The path of a pen pulled towards each of `points` in turn (a damped spring, DAMPING).

    It starts at the first point, at rest; it aims at the next point once within `reach` of
    the one it aims at (at the last it stops there).
    """
    position, velocity = points[0].astype(float), np.zeros(2)
    damping = 2.0 * DAMPING * np.sqrt(stiffness)
    path = [position.copy()]
    for index, target in enumerate(points[1:], start=1):
        last = index == len(points) - 1
        for _ in range(2000):
            velocity += (stiffness * (target - position) - damping * velocity) * STEP
            position = position + velocity * STEP
            path.append(position.copy())
            if np.linalg.norm(target - position) < (0.01 if last else reach):
                break
    return np.array(path)


def path_strokes(digit: int, writer: PathWriter, rng: np.random.Generator) -> list[np.ndarray]:
    """`digit` as `writer` writes it: jittered points, the pen's path, slant and width."""
    strokes = []
    for points in VIA_POINTS[digit][writer.ways[digit]]:
        aimed = np.array(points) + rng.normal(0, POINT_JITTER, (len(points), 2))
        path = pen_path(aimed, writer.stiffness * rng.uniform(0.85, 1.15), writer.reach)
        x, y = path[:, 0] - 0.5, path[:, 1] - 0.5
        strokes.append(np.stack([writer.width * x - writer.slant * y, y], axis=1))
    return strokes


def path_digits(
    count: int,
    seed: int,
    *,
    writers: int = 20,
    pens: tuple[int, ...] | None = None,
    background: str = "transparent",
) -> Iterator[Drawing]:
    """`count` drawings by `writers` hands (path_writer), cycling over digits and hands.

    One drawing in three is small (SMALL_HEIGHTS) and near an edge; the rest are HEIGHTS
    tall anywhere; all at least MIN_PEN_HEIGHTS pens tall. `style` names the way, the writer
    and "small".
    """
    rng = np.random.default_rng(seed)
    hands = [path_writer(rng) for _ in range(writers)]
    pens = pens or tuple(range(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
    for index in range(count):
        digit, who = index % 10, (index // 10) % writers
        pen = pens[int(rng.integers(len(pens)))]
        small = (index // 10) % 3 == 2
        heights = SMALL_HEIGHTS if small else HEIGHTS
        height = rng.uniform(max(heights[0], MIN_PEN_HEIGHTS * pen), max(heights))
        where = tuple(abs(rng.choice([0.0, 1.0]) - rng.uniform(0.0, 0.2)) for _ in "xy")
        strokes = path_strokes(digit, hands[who], rng)
        placed, drawn = place_strokes(
            strokes, pen=pen, height=height, rng=rng, where=where if small else None
        )
        style = f"{hands[who].ways[digit]}, writer {who}" + (", small" if small else "")
        yield Drawing(
            render(placed, pen, background=background), digit, style, int(pen), round(drawn)
        )
