"""Made-up writers for tests and benchmarks: each with their own slant, proportions and way of
writing each digit.

`writer_digits` draws a set by several `random_writer`s, each always using one variant of each
digit (WRITER_VARIANTS: a 7 with or without a crossbar, a 4 open or closed, ...), every other
drawing small and near an edge or corner of the canvas (tests.support.drawings draws them).
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
    arc,
    bezier,
    figure_eight,
    line,
    path,
    place_strokes,
    render,
    stem_into_loop,
)

WRITER_VARIANTS: dict[int, tuple[str, ...]] = {
    0: ("closed", "overlapping", "open top"),
    1: ("stick", "flag", "flag and base"),
    2: ("plain", "loop"),
    3: ("round", "flat top"),
    4: ("open", "closed"),
    5: ("one stroke", "bar apart"),
    6: ("straight entry", "hooked", "curved"),
    7: ("plain", "crossbar", "hooked"),
    8: ("one stroke", "two loops"),
    9: ("straight tail", "curved tail", "slanted tail"),
}
WRITER_JITTER = 0.02  # how far each control point strays from the writer's usual, per drawing


@dataclass(frozen=True)
class Writer:
    """One person's hand: slant, width, the size of the loops of 6 and 9, and a variant of
    each digit (WRITER_VARIANTS) that they always use."""

    slant: float
    width: float
    loop: float  # the loop of a 6 or 9, a fraction of the digit's height
    variants: dict[int, str]


def random_writer(rng: np.random.Generator) -> Writer:
    variants = {d: names[int(rng.integers(len(names)))] for d, names in WRITER_VARIANTS.items()}
    return Writer(rng.uniform(-0.15, 0.35), rng.uniform(0.75, 1.2), rng.uniform(0.4, 0.6), variants)


def writer_strokes(digit: int, writer: Writer, rng: np.random.Generator) -> list[np.ndarray]:
    """`digit` as `writer` writes it, each control point jittered, in a unit box (y down)."""

    def vary(value: float, spread: float = WRITER_JITTER) -> float:
        return value + rng.normal(0, spread)

    def at(x: float, y: float) -> tuple[float, float]:
        return vary(x), vary(y)

    strokes = _GLYPHS[digit](writer.variants[digit], writer.loop, at, vary)
    tilt = np.radians(rng.uniform(-4, 4))
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    written = []
    for stroke in strokes:
        x, y = stroke[:, 0] - 0.5, stroke[:, 1] - 0.5
        written.append(np.stack([writer.width * x - writer.slant * y, y], axis=1) @ rotation.T)
    return written


def _zero(variant, loop, at, vary):
    (cx, cy), start = at(0.5, 0.5), vary(-90, 15)
    sweep = {"closed": 360, "overlapping": 395, "open top": 325}[variant]
    return [arc(cx, cy, vary(0.3), vary(0.45), start, start + sweep)]


def _one(variant, loop, at, vary):
    top = at(0.5, 0.05)
    stem = [at(0.35, 0.22), top] if variant != "stick" else [top]
    strokes = [line(*stem, at(0.5, 0.95))]
    if variant == "flag and base":
        strokes.append(line(at(0.28, 0.95), at(0.72, 0.95)))
    return strokes


def _two(variant, loop, at, vary):
    top = bezier(at(0.2, 0.28), at(0.3, -0.02), at(0.85, 0.0), (0.75, 0.35))
    if variant == "plain":
        return [
            path(
                top,
                bezier((0.75, 0.35), at(0.65, 0.6), at(0.4, 0.8), (0.18, 0.95)),
                at(0.82, 0.95),
            )
        ]
    neck = bezier((0.75, 0.35), at(0.62, 0.62), at(0.42, 0.8), (0.3, 0.9))
    curl = bezier((0.3, 0.9), at(0.1, 0.76), at(0.46, 0.72), (0.38, 0.95))
    return [path(top, neck, curl, at(0.84, 0.93))]


def _three(variant, loop, at, vary):
    middle = at(0.45, 0.47)
    belly = bezier(middle, at(1.0, 0.45), at(0.95, 1.05), at(0.18, 0.85))
    if variant == "round":
        return [path(bezier(at(0.22, 0.15), at(0.45, -0.05), at(0.92, 0.1), middle), belly)]
    return [path(line(at(0.22, 0.05), at(0.78, 0.05), middle), belly)]


def _four(variant, loop, at, vary):
    bar = vary(0.62)
    if variant == "open":
        return [
            line(at(0.28, 0.05), at(0.22, bar), at(0.86, bar)),
            line(at(0.66, 0.2), at(0.64, 0.95)),
        ]
    top = at(0.62, 0.05)
    return [line(top, at(0.15, bar), at(0.88, bar)), line(top, at(0.62, 0.95))]


def _five(variant, loop, at, vary):
    corner, waist = at(0.3, 0.07), at(0.27, 0.46)
    belly = bezier(waist, at(0.95, 0.28), at(0.95, 1.08), at(0.2, 0.88))
    bar = line(corner, at(0.78, 0.06))
    if variant == "one stroke":
        return [path(bar[::-1], line(corner, waist), belly)]
    return [path(line(corner, waist), belly), bar]


def _six(variant, loop, at, vary):
    ry = loop / 2
    cx, cy = at(0.5, 0.95 - ry)
    rx, gap = ry * vary(1.0, 0.1), vary(0, 20)
    left = (cx - rx, cy)
    circle = arc(cx, cy, rx, ry, 180, -170 + gap)
    if variant == "straight entry":
        return [stem_into_loop(cx, cy, rx, ry, join=vary(215, 8), top=vary(0.05), close=gap - 350)]
    if variant == "curved":
        entry = bezier(at(0.74, 0.07), at(0.36, 0.12), at(cx - rx - 0.02, cy - 0.3), left)
    else:  # a hook at the top, then down into the loop
        hook = bezier(at(0.8, 0.22), at(0.8, 0.0), at(0.5, 0.0), (0.4, 0.15))
        entry = path(hook, bezier((0.4, 0.15), at(0.28, 0.3), (left[0], cy - 0.2), left))
    return [path(entry, circle)]


def _seven(variant, loop, at, vary):
    corner = at(0.82, 0.08)
    start = [at(0.18, 0.22), at(0.2, 0.08)] if variant == "hooked" else [at(0.18, 0.08)]
    strokes = [line(*start, corner, at(0.42, 0.95))]
    if variant == "crossbar":
        strokes.append(line(at(0.35, 0.52), at(0.76, 0.5)))
    return strokes


def _eight(variant, loop, at, vary):
    if variant == "one stroke":
        return [figure_eight(vary(0.2), vary(0.26))]
    (x1, y1), (x2, y2) = at(0.5, 0.27), at(0.5, 0.72)
    return [
        arc(x1, y1, vary(0.2), 0.22, -90, 270),
        arc(x2, y2, vary(0.25), 0.24, -90, 270),
    ]


def _nine(variant, loop, at, vary):
    ry = loop / 2
    cx, cy = at(0.48, 0.05 + ry)
    rx = ry * vary(1.0, 0.1)
    right = (cx + rx, cy)
    tail = {
        "straight tail": line(right, at(cx + rx - 0.02, 0.95)),
        "curved tail": bezier(right, at(cx + rx, 0.6), at(cx + rx - 0.08, 0.88), at(0.4, 0.95)),
        "slanted tail": line(right, at(cx, 0.95)),
    }[variant]
    return [path(arc(cx, cy, rx, ry, 0, -360), tail)]


_GLYPHS = (_zero, _one, _two, _three, _four, _five, _six, _seven, _eight, _nine)


def writer_digits(
    count: int,
    seed: int,
    *,
    writers: int = 20,
    pens: tuple[int, ...] | None = None,
    background: str = "transparent",
) -> Iterator[Drawing]:
    """`count` drawings by `writers` people (random_writer) cycling over digits and people.

    Every other drawing is small (SMALL_HEIGHTS, at least MIN_PEN_HEIGHTS pens tall) and near
    an edge or corner; the others are HEIGHTS tall anywhere, as in `drawn_digits`. `style`
    names the variant, the writer and "small".
    """
    rng = np.random.default_rng(seed)
    people = [random_writer(rng) for _ in range(writers)]
    pens = pens or tuple(range(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
    for index in range(count):
        digit, who = index % 10, (index // 10) % writers
        pen = pens[int(rng.integers(len(pens)))]
        small = index % 20 >= 10
        heights = SMALL_HEIGHTS if small else HEIGHTS
        height = rng.uniform(max(heights[0], MIN_PEN_HEIGHTS * pen), max(heights))
        near_edge = tuple(abs(rng.choice([0.0, 1.0]) - rng.uniform(0.0, 0.15)) for _ in "xy")
        strokes = writer_strokes(digit, people[who], rng)
        placed, drawn = place_strokes(
            strokes, pen=pen, height=height, rng=rng, where=near_edge if small else None
        )
        style = f"{people[who].variants[digit]}, writer {who}" + (", small" if small else "")
        canvas = render(placed, pen, background=background)
        yield Drawing(canvas, digit, style, int(pen), round(drawn))
