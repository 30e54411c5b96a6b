"""Made-up canvases for tests and benchmarks to play the person drawing on the Draw page.

`draw_digit` draws a digit the way people write it, with a round pen on a 280x280 canvas as
streamlit-drawable-canvas returns it (white strokes, antialiased, round caps and joins):
each digit 0-9 has several hand styles (STYLES: a 1 with or without a flag and base, a 7
with or without a bar, a 4 open or closed, a 9 with a straight or curved tail, a 2 with or
without a loop, ...), written with a random slant, tilt, width and wobble, at a chosen size,
place and pen width. `drawn_digits` makes a whole set from a seed.

`place_on_canvas` enlarges a 28x28 MNIST digit and puts it anywhere on a canvas instead.
tests.support.writers (made-up writers), tests.support.pen_paths (pen paths as a canvas sends
them) and tests.support.restroke (MNIST digits redrawn with the pen) draw with `render` too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from core.mnist.preprocess import dilate, erode

CANVAS = 280
BACKGROUNDS = ("transparent", "black", "white")
PEN_WIDTHS = (6, 30)  # the Draw page's pen slider, in canvas pixels
HEIGHTS = (60, 250)  # how tall people draw a digit on the canvas, in pixels
SMALL_HEIGHTS = (40, 110)  # a small digit, drawn near an edge or a corner of the canvas
# ... but at least this many pen widths tall: nobody writes an 8 60 px tall with a 30 px pen.
MIN_PEN_HEIGHTS = 3
SUPERSAMPLE = 4  # strokes are drawn this many times larger, then averaged down: antialiasing


def arc(cx, cy, rx, ry, start, end, points=48):
    """An elliptic arc from angle `start` to `end` (degrees; 0 right, 90 down, y downwards)."""
    angles = np.radians(np.linspace(start, end, points))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def bezier(*controls, points=32):
    """A Bezier curve through its first and last control points (de Casteljau)."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    level = [np.asarray(c, dtype=float) for c in controls]
    while len(level) > 1:
        level = [(1 - t) * a + t * b for a, b in zip(level, level[1:], strict=False)]
    return level[0]


def line(*corners):
    return np.asarray(corners, dtype=float)


def path(*parts):
    """One pen stroke: the parts joined end to end."""
    return np.concatenate([np.atleast_2d(p) for p in parts])


def stem_into_loop(cx, cy, rx, ry, *, join=215.0, top=0.05, close=-360.0):
    """A 6 written with a straight stem: the stem runs into its loop along the loop's tangent.

    The loop (centre cx, cy; radii rx, ry) starts at angle `join` (degrees, as in `arc`; 215
    is its upper left) and turns `close` degrees (-360 closes it onto the stem); the stem comes
    down to that point in the direction the loop sets off in, from height `top`, as a pen
    does. A stem aimed at the loop's leftmost point instead would cut across the loop.
    """
    angle = np.radians(join)
    point = np.array([cx + rx * np.cos(angle), cy + ry * np.sin(angle)])
    heading = np.array([rx * np.sin(angle), -ry * np.cos(angle)])  # down and to the left
    start = point - heading * (point[1] - top) / heading[1]
    return path(line(start, point), arc(cx, cy, rx, ry, join, join + close))


def figure_eight(top_width=0.2, bottom_width=0.26):
    t = np.linspace(0.0, 2 * np.pi, 120)
    width = np.where(np.cos(t) > 0, top_width, bottom_width)
    return np.stack([0.5 - width * np.sin(2 * t), 0.5 - 0.45 * np.cos(t)], axis=1)


_TWO_TOP = bezier((0.25, 0.28), (0.3, -0.02), (0.82, 0.0), (0.72, 0.35))
_THREE_BELLY = bezier((0.42, 0.47), (0.98, 0.42), (0.88, 1.04), (0.22, 0.86))
_FIVE_BELLY = bezier((0.28, 0.47), (0.95, 0.3), (0.92, 1.06), (0.22, 0.88))
_SIX_LOOP = arc(0.49, 0.72, 0.23, 0.22, 180, -170)
_NINE_LOOP = arc(0.5, 0.29, 0.23, 0.23, 0, -360)

# Each style is a list of pen strokes; each stroke a polyline of (x, y) points in a unit box,
# y downwards, the digit about 0.9 of the box tall.
STYLES: dict[int, dict[str, list[np.ndarray]]] = {
    0: {
        "oval": [arc(0.5, 0.5, 0.28, 0.45, -90, 270)],
        "round, overlapping": [arc(0.5, 0.5, 0.34, 0.42, -60, 320)],
        "narrow": [arc(0.5, 0.5, 0.19, 0.45, -100, 262)],
    },
    1: {
        "stick": [line((0.52, 0.05), (0.5, 0.95))],
        "flag": [line((0.38, 0.2), (0.56, 0.05), (0.55, 0.95))],
        "flag and base": [
            line((0.32, 0.25), (0.55, 0.05), (0.55, 0.95)),
            line((0.3, 0.95), (0.8, 0.95)),
        ],
    },
    2: {
        "plain": [
            path(
                _TWO_TOP, bezier((0.72, 0.35), (0.62, 0.62), (0.38, 0.8), (0.2, 0.95)), (0.8, 0.94)
            )
        ],
        "loop": [
            path(
                _TWO_TOP,
                bezier((0.72, 0.35), (0.6, 0.62), (0.4, 0.8), (0.3, 0.92)),
                bezier((0.3, 0.92), (0.12, 0.8), (0.46, 0.74), (0.38, 0.94)),
                (0.82, 0.92),
            )
        ],
        "straight neck": [path(_TWO_TOP, (0.22, 0.95), (0.8, 0.95))],
    },
    3: {
        "round": [
            path(
                bezier((0.25, 0.17), (0.45, -0.04), (0.88, 0.08), (0.7, 0.33)),
                bezier((0.7, 0.33), (0.62, 0.46), (0.5, 0.47), (0.42, 0.47)),
                _THREE_BELLY,
            )
        ],
        "flat top": [path(line((0.25, 0.07), (0.75, 0.07), (0.42, 0.45)), _THREE_BELLY)],
    },
    4: {
        "closed": [
            line((0.62, 0.05), (0.18, 0.64), (0.85, 0.64)),
            line((0.62, 0.05), (0.62, 0.95)),
        ],
        "open": [line((0.25, 0.05), (0.22, 0.6), (0.82, 0.6)), line((0.66, 0.28), (0.66, 0.95))],
        "open, long upright": [
            line((0.3, 0.05), (0.2, 0.55), (0.82, 0.55)),
            line((0.66, 0.05), (0.64, 0.95)),
        ],
        "closed, narrow": [
            line((0.56, 0.05), (0.3, 0.66), (0.84, 0.66)),
            line((0.56, 0.05), (0.57, 0.95)),
        ],
    },
    5: {
        "bar apart": [
            path(line((0.3, 0.08), (0.28, 0.47)), _FIVE_BELLY),
            line((0.3, 0.08), (0.76, 0.07)),
        ],
        "one stroke": [path(line((0.76, 0.07), (0.3, 0.08), (0.28, 0.47)), _FIVE_BELLY)],
    },
    6: {
        "curved": [path(bezier((0.72, 0.07), (0.36, 0.14), (0.2, 0.5), (0.26, 0.72)), _SIX_LOOP)],
        "straight stem": [stem_into_loop(0.49, 0.72, 0.23, 0.22, close=-350)],
        "small loop": [
            path(
                bezier((0.68, 0.05), (0.4, 0.25), (0.28, 0.6), (0.36, 0.82)),
                arc(0.48, 0.8, 0.14, 0.14, 180, -170),
            )
        ],
    },
    7: {
        "plain": [line((0.2, 0.08), (0.8, 0.08), (0.4, 0.95))],
        "barred": [line((0.2, 0.08), (0.8, 0.08), (0.4, 0.95)), line((0.34, 0.5), (0.76, 0.5))],
        "hooked": [
            path(
                line((0.2, 0.22), (0.22, 0.08), (0.8, 0.08)),
                bezier((0.8, 0.08), (0.6, 0.4), (0.46, 0.7), (0.46, 0.95)),
            )
        ],
    },
    8: {
        "one stroke": [figure_eight()],
        "small top": [figure_eight(0.13, 0.27)],
        "two loops": [arc(0.5, 0.27, 0.19, 0.22, -90, 270), arc(0.5, 0.72, 0.25, 0.24, -90, 270)],
    },
    9: {
        "curved tail": [
            path(_NINE_LOOP, bezier((0.73, 0.29), (0.74, 0.6), (0.66, 0.86), (0.4, 0.95)))
        ],
        "straight tail": [path(_NINE_LOOP, (0.73, 0.95))],
        "slanted tail": [path(_NINE_LOOP, (0.58, 0.95))],
        "small loop": [path(arc(0.52, 0.2, 0.15, 0.15, 0, -360), (0.66, 0.95))],
    },
}


@dataclass(frozen=True)
class Drawing:
    """One drawn digit: its canvas and how it was drawn."""

    canvas: np.ndarray  # (280, 280, 4) uint8 RGBA
    digit: int
    style: str
    pen: int  # pen width, canvas pixels
    height: int  # the digit's height from stroke centre to stroke centre, canvas pixels


def handwriting(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes as one person might write them: slant, tilt, width and a gentle wobble."""
    slant = rng.uniform(-0.1, 0.3)
    tilt = np.radians(rng.uniform(-6, 6))
    widen = rng.uniform(0.85, 1.15)
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    waves = rng.uniform(0.5, 1.5, (2, 2)), rng.uniform(0, 2 * np.pi, (2, 2))
    amplitude = rng.uniform(0.005, 0.02)
    written = []
    for stroke in strokes:
        x, y = stroke[:, 0] - 0.5, stroke[:, 1] - 0.5
        x = widen * x - slant * y
        points = np.stack([x, y], axis=1) @ rotation.T + rng.normal(0, 0.012, 2)
        frequency, phase = waves
        for axis in range(2):
            points[:, axis] += amplitude * np.sin(
                2 * np.pi * (frequency[axis, 0] * points[:, 0] + frequency[axis, 1] * points[:, 1])
                + phase[axis, 0]
            )
        written.append(points)
    return written


def render(
    strokes: list[np.ndarray], pen: float, canvas: int = CANVAS, background: str = "transparent"
) -> np.ndarray:
    """Strokes in canvas pixels drawn with a round pen, as a (canvas, canvas, 4) uint8 RGBA.

    Drawn SUPERSAMPLE times larger and averaged down, as a browser antialiases; the pen's
    ends and joins are round. `background` as in `place_on_canvas`.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; choose one of {BACKGROUNDS}.")
    scale = SUPERSAMPLE
    big = Image.new("L", (canvas * scale, canvas * scale), 0)
    draw = ImageDraw.Draw(big)
    radius = pen * scale / 2
    for stroke in strokes:
        points = [(float(x) * scale, float(y) * scale) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(pen * scale)), joint="curve")
        for x, y in points:  # a round nib: a disc at every point makes caps and joins round
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    level = np.asarray(big.resize((canvas, canvas), Image.Resampling.BOX))
    return _to_rgba(level, background)


def ink_rows_cols(canvas: np.ndarray, level: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """The rows and the columns of a canvas that hold ink (alpha at least `level`)."""
    mask = canvas[..., 3] >= level
    return np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))


def draw_digit(
    digit: int,
    style: str,
    *,
    pen: float,
    height: float,
    rng: np.random.Generator,
    background: str = "transparent",
) -> tuple[np.ndarray, float]:
    """`digit` written in `style`, `height` px tall, with a `pen`-px pen, at a random place.

    Returns the (280, 280, 4) canvas and the height drawn (smaller when the digit would
    not fit the canvas's width at `height`).
    """
    strokes = handwriting(STYLES[digit][style], rng)
    placed, drawn = place_strokes(strokes, pen=pen, height=height, rng=rng)
    return render(placed, pen, background=background), drawn


def place_strokes(
    strokes: list[np.ndarray],
    *,
    pen: float,
    height: float,
    rng: np.random.Generator,
    where: tuple[float, float] | None = None,
) -> tuple[list[np.ndarray], float]:
    """Strokes scaled to `height` canvas pixels and put at a random place on the canvas.

    `where` (each 0-1: top to bottom, left to right of the room left) fixes the place instead.
    Returns the strokes in canvas pixels and the height drawn, smaller when the digit would
    not fit the canvas's width at `height`.
    """
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = height / max(high[1] - low[1], 1e-6)
    margin = pen / 2 + 1
    size = (high - low) * scale
    room = CANVAS - 2 * margin - 1
    if size.max() > room:  # too wide for the canvas at this height: drawn smaller
        scale *= room / size.max()
        size = (high - low) * scale
    spare = np.maximum(room - size, 0.0)
    fraction = rng.uniform(0.0, 1.0, 2) if where is None else np.array(where[::-1])
    corner = margin + fraction * spare
    return [(s - low) * scale + corner for s in strokes], float(size[1])


def drawn_digits(
    count: int,
    seed: int,
    *,
    pens: tuple[int, ...] | None = None,
    styles: dict[int, list[str]] | None = None,
    background: str = "transparent",
) -> Iterator[Drawing]:
    """`count` drawings cycling over digits, styles and pen widths, the rest random from `seed`.

    `pens` defaults to every width the page offers (6 to 30); `styles` to all of STYLES (or
    a subset per digit, to hold some out). Heights are random in HEIGHTS, at least
    MIN_PEN_HEIGHTS pens tall.
    """
    rng = np.random.default_rng(seed)
    pens = pens or tuple(range(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
    chosen = styles or {d: list(v) for d, v in STYLES.items()}
    for index in range(count):
        digit = index % 10
        names = chosen[digit]
        style = names[(index // 10) % len(names)]
        pen = pens[int(rng.integers(len(pens)))]
        height = rng.uniform(max(HEIGHTS[0], MIN_PEN_HEIGHTS * pen), HEIGHTS[1])
        canvas, drawn = draw_digit(
            digit, style, pen=pen, height=height, rng=rng, background=background
        )
        yield Drawing(canvas, digit, style, int(pen), round(drawn))


def _to_rgba(level: np.ndarray, background: str) -> np.ndarray:
    """Ink levels (uint8) as RGBA in the canvas's colours (see `place_on_canvas`)."""
    image = np.zeros((*level.shape, 4), dtype=np.uint8)
    if background == "transparent":
        image[..., :3] = 255
        image[..., 3] = level
    elif background == "black":
        image[..., :3] = level[..., None]
        image[..., 3] = 255
    else:
        image[..., :3] = (255 - level)[..., None]
        image[..., 3] = 255
    return image


def place_on_canvas(
    digit: np.ndarray,
    size: int,
    top: int,
    left: int,
    canvas: int = CANVAS,
    *,
    background: str = "transparent",
    pen: bool = False,
    thicken: int = 0,
) -> np.ndarray:
    """A (canvas, canvas, 4) uint8 RGBA image with `digit` enlarged to size x size at (top, left).

    `digit` is a (28, 28) MNIST image, uint8 0-255 or float 0-1, white on black; it is enlarged
    with bilinear interpolation. `background` "transparent" gives white strokes whose alpha is
    the ink (as the canvas with no background colour), "black" white on opaque black, "white"
    black on opaque white. `pen=True` makes every stroke full strength with a hard edge, as a
    drawing pen does, instead of MNIST's soft grey edges. `thicken` widens (or, negative,
    narrows) the strokes by that many canvas pixels on each side, within the size x size square.
    """
    digit = np.asarray(digit)
    if digit.ndim != 2:
        raise ValueError(f"a digit is a 2-D image such as (28, 28), not shape {digit.shape}.")
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; choose one of {BACKGROUNDS}.")
    if not (size >= 1 and 0 <= top <= canvas - size and 0 <= left <= canvas - size):
        raise ValueError(
            f"a {size}-pixel digit at top {top}, left {left} does not fit a {canvas}-pixel "
            f"canvas; keep top and left between 0 and {canvas - size}."
        )
    values = digit.astype(np.float32)
    if digit.dtype == np.uint8:
        values /= 255.0
    large = np.asarray(Image.fromarray(values).resize((size, size), Image.Resampling.BILINEAR))
    large = np.clip(large, 0.0, 1.0)
    if pen:
        large = (large >= 0.5).astype(np.float32)
    if thicken > 0:
        large = dilate(large, thicken)
    elif thicken < 0:
        large = erode(large, -thicken)
    ink = np.zeros((canvas, canvas), dtype=np.float32)
    ink[top : top + size, left : left + size] = large
    return _to_rgba(np.round(ink * 255).astype(np.uint8), background)
