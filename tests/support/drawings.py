"""Made-up canvases for tests and benchmarks to play the person drawing on the Draw page.

`draw_digit` draws a digit the way people write it, with a round pen on a 280x280 canvas as
streamlit-drawable-canvas returns it (white strokes, antialiased, round caps and joins):
each digit 0-9 has several hand styles (STYLES: a 1 with or without a flag and base, a 7
with or without a bar, a 4 open or closed, a 9 with a straight or curved tail, a 2 with or
without a loop, ...), written with a random slant, tilt, width and wobble, at a chosen size,
place and pen width. `drawn_digits` makes a whole set from a seed.

`place_on_canvas` enlarges a 28x28 MNIST digit and puts it anywhere on a canvas instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from core.mnist.preprocess import dilate, erode

CANVAS = 280
BACKGROUNDS = ("transparent", "black", "white")
PEN_WIDTHS = (6, 30)  # the Draw page's pen slider, in canvas pixels
HEIGHTS = (60, 250)  # how tall people draw a digit on the canvas, in pixels
# ... but at least this many pen widths tall: nobody writes an 8 60 px tall with a 30 px pen.
MIN_PEN_HEIGHTS = 3
SUPERSAMPLE = 4  # strokes are drawn this many times larger, then averaged down: antialiasing


def _arc(cx, cy, rx, ry, start, end, points=48):
    """An elliptic arc from angle `start` to `end` (degrees; 0 right, 90 down, y downwards)."""
    angles = np.radians(np.linspace(start, end, points))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def _bezier(*controls, points=32):
    """A Bezier curve through its first and last control points (de Casteljau)."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    level = [np.asarray(c, dtype=float) for c in controls]
    while len(level) > 1:
        level = [(1 - t) * a + t * b for a, b in zip(level, level[1:], strict=False)]
    return level[0]


def _line(*corners):
    return np.asarray(corners, dtype=float)


def _path(*parts):
    """One pen stroke: the parts joined end to end."""
    return np.concatenate([np.atleast_2d(p) for p in parts])


def _stem_into_loop(cx, cy, rx, ry, *, join=215.0, top=0.05, close=-360.0):
    """A 6 written with a straight stem: the stem runs into its loop along the loop's tangent.

    The loop (centre cx, cy; radii rx, ry) starts at angle `join` (degrees, as in `_arc`; 215
    is its upper left) and turns `close` degrees (-360 closes it onto the stem); the stem comes
    down to that point in the direction the loop sets off in, from height `top`, as a pen
    does. A stem aimed at the loop's leftmost point instead would cut across the loop.
    """
    angle = np.radians(join)
    point = np.array([cx + rx * np.cos(angle), cy + ry * np.sin(angle)])
    heading = np.array([rx * np.sin(angle), -ry * np.cos(angle)])  # down and to the left
    start = point - heading * (point[1] - top) / heading[1]
    return _path(_line(start, point), _arc(cx, cy, rx, ry, join, join + close))


def _figure_eight(top_width=0.2, bottom_width=0.26):
    t = np.linspace(0.0, 2 * np.pi, 120)
    width = np.where(np.cos(t) > 0, top_width, bottom_width)
    return np.stack([0.5 - width * np.sin(2 * t), 0.5 - 0.45 * np.cos(t)], axis=1)


_TWO_TOP = _bezier((0.25, 0.28), (0.3, -0.02), (0.82, 0.0), (0.72, 0.35))
_THREE_BELLY = _bezier((0.42, 0.47), (0.98, 0.42), (0.88, 1.04), (0.22, 0.86))
_FIVE_BELLY = _bezier((0.28, 0.47), (0.95, 0.3), (0.92, 1.06), (0.22, 0.88))
_SIX_LOOP = _arc(0.49, 0.72, 0.23, 0.22, 180, -170)
_NINE_LOOP = _arc(0.5, 0.29, 0.23, 0.23, 0, -360)

# Each style is a list of pen strokes; each stroke a polyline of (x, y) points in a unit box,
# y downwards, the digit about 0.9 of the box tall.
STYLES: dict[int, dict[str, list[np.ndarray]]] = {
    0: {
        "oval": [_arc(0.5, 0.5, 0.28, 0.45, -90, 270)],
        "round, overlapping": [_arc(0.5, 0.5, 0.34, 0.42, -60, 320)],
        "narrow": [_arc(0.5, 0.5, 0.19, 0.45, -100, 262)],
    },
    1: {
        "stick": [_line((0.52, 0.05), (0.5, 0.95))],
        "flag": [_line((0.38, 0.2), (0.56, 0.05), (0.55, 0.95))],
        "flag and base": [
            _line((0.32, 0.25), (0.55, 0.05), (0.55, 0.95)),
            _line((0.3, 0.95), (0.8, 0.95)),
        ],
    },
    2: {
        "plain": [
            _path(
                _TWO_TOP, _bezier((0.72, 0.35), (0.62, 0.62), (0.38, 0.8), (0.2, 0.95)), (0.8, 0.94)
            )
        ],
        "loop": [
            _path(
                _TWO_TOP,
                _bezier((0.72, 0.35), (0.6, 0.62), (0.4, 0.8), (0.3, 0.92)),
                _bezier((0.3, 0.92), (0.12, 0.8), (0.46, 0.74), (0.38, 0.94)),
                (0.82, 0.92),
            )
        ],
        "straight neck": [_path(_TWO_TOP, (0.22, 0.95), (0.8, 0.95))],
    },
    3: {
        "round": [
            _path(
                _bezier((0.25, 0.17), (0.45, -0.04), (0.88, 0.08), (0.7, 0.33)),
                _bezier((0.7, 0.33), (0.62, 0.46), (0.5, 0.47), (0.42, 0.47)),
                _THREE_BELLY,
            )
        ],
        "flat top": [_path(_line((0.25, 0.07), (0.75, 0.07), (0.42, 0.45)), _THREE_BELLY)],
    },
    4: {
        "closed": [
            _line((0.62, 0.05), (0.18, 0.64), (0.85, 0.64)),
            _line((0.62, 0.05), (0.62, 0.95)),
        ],
        "open": [_line((0.25, 0.05), (0.22, 0.6), (0.82, 0.6)), _line((0.66, 0.28), (0.66, 0.95))],
        "open, long upright": [
            _line((0.3, 0.05), (0.2, 0.55), (0.82, 0.55)),
            _line((0.66, 0.05), (0.64, 0.95)),
        ],
        "closed, narrow": [
            _line((0.56, 0.05), (0.3, 0.66), (0.84, 0.66)),
            _line((0.56, 0.05), (0.57, 0.95)),
        ],
    },
    5: {
        "bar apart": [
            _path(_line((0.3, 0.08), (0.28, 0.47)), _FIVE_BELLY),
            _line((0.3, 0.08), (0.76, 0.07)),
        ],
        "one stroke": [_path(_line((0.76, 0.07), (0.3, 0.08), (0.28, 0.47)), _FIVE_BELLY)],
    },
    6: {
        "curved": [_path(_bezier((0.72, 0.07), (0.36, 0.14), (0.2, 0.5), (0.26, 0.72)), _SIX_LOOP)],
        "straight stem": [_stem_into_loop(0.49, 0.72, 0.23, 0.22, close=-350)],
        "small loop": [
            _path(
                _bezier((0.68, 0.05), (0.4, 0.25), (0.28, 0.6), (0.36, 0.82)),
                _arc(0.48, 0.8, 0.14, 0.14, 180, -170),
            )
        ],
    },
    7: {
        "plain": [_line((0.2, 0.08), (0.8, 0.08), (0.4, 0.95))],
        "barred": [_line((0.2, 0.08), (0.8, 0.08), (0.4, 0.95)), _line((0.34, 0.5), (0.76, 0.5))],
        "hooked": [
            _path(
                _line((0.2, 0.22), (0.22, 0.08), (0.8, 0.08)),
                _bezier((0.8, 0.08), (0.6, 0.4), (0.46, 0.7), (0.46, 0.95)),
            )
        ],
    },
    8: {
        "one stroke": [_figure_eight()],
        "small top": [_figure_eight(0.13, 0.27)],
        "two loops": [_arc(0.5, 0.27, 0.19, 0.22, -90, 270), _arc(0.5, 0.72, 0.25, 0.24, -90, 270)],
    },
    9: {
        "curved tail": [
            _path(_NINE_LOOP, _bezier((0.73, 0.29), (0.74, 0.6), (0.66, 0.86), (0.4, 0.95)))
        ],
        "straight tail": [_path(_NINE_LOOP, (0.73, 0.95))],
        "slanted tail": [_path(_NINE_LOOP, (0.58, 0.95))],
        "small loop": [_path(_arc(0.52, 0.2, 0.15, 0.15, 0, -360), (0.66, 0.95))],
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


# --- MNIST's own digits re-stroked with the canvas's pen -----------------------------------

RESTROKE_SCALE = 4  # MNIST digits are thinned this many times enlarged: smoother centre lines
# Where an MNIST digit's ink is wider than this many times its usual stroke (a loop filled with
# ink), the writer's pen went round: the blob is drawn as a small loop, not a line through it.
# Chosen on the tuning digits, with no network: 1.6-1.8 draw them most like their originals (the
# IoU of each digit with its centre lines drawn at its median stroke width: bench/restroke.py),
# and 1.8 opens fewer of them (19 % against 46 %).
BLOB_WIDTH = 1.8
# An MNIST digit is cut at the first of these fractions of its strongest ink that leaves it in
# no more pieces than the last does: at half strength, unless a faint, thin stroke (a light
# pencil line, scanned) comes apart there, drawn as dots and dashes. Chosen on the tuning
# digits, with no network (bench/restroke.py): at half strength alone 1.8 % of them were
# re-stroked in more pieces than their originals hold, with these cuts 0.2 %.
CUTS = (0.5, 0.4, 0.3)


def thin(mask: np.ndarray) -> np.ndarray:
    """The one-pixel-wide centre lines of a boolean mask (Zhang and Suen's thinning, 1984)."""
    image = np.pad(mask.astype(bool), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            around = [  # north, then clockwise: P2 ... P9
                image[:-2, 1:-1],
                image[:-2, 2:],
                image[1:-1, 2:],
                image[2:, 2:],
                image[2:, 1:-1],
                image[2:, :-2],
                image[1:-1, :-2],
                image[:-2, :-2],
            ]
            count = np.sum(around, axis=0)
            turns = np.sum(
                [~a & b for a, b in zip(around, around[1:] + around[:1], strict=True)], axis=0
            )
            north, east, south, west = around[0], around[2], around[4], around[6]
            if step == 0:
                keep = (north & east & south) | (east & south & west)
            else:
                keep = (north & east & west) | (north & south & west)
            drop = image[1:-1, 1:-1] & (count >= 2) & (count <= 6) & (turns == 1) & ~keep
            if drop.any():
                image[1:-1, 1:-1] &= ~drop
                changed = True
    return image[1:-1, 1:-1]


def open_blobs(mask: np.ndarray, width: float = BLOB_WIDTH) -> np.ndarray:
    """The mask with a round hole in each blob: where the ink is wider than `width` times
    the mask's median stroke, a hole round the blob's deepest point that leaves a ring half a
    usual stroke wide.

    Thinning a filled loop (a 6 or 8 written small with a thick pen) leaves a line, another
    digit; thinning the ring leaves a small loop round the blob's middle, where the pen went.
    """
    depth = ndimage.distance_transform_edt(mask)
    centre_lines = thin(mask)
    if not centre_lines.any():
        return mask
    stroke = float(np.median(depth[centre_lines]))  # half the usual stroke width
    blobs, count = ndimage.label(depth > width * stroke, structure=np.ones((3, 3), bool))
    rows, cols = np.indices(mask.shape)
    opened = mask.copy()
    for blob in range(1, count + 1):
        middle = np.unravel_index(np.argmax(np.where(blobs == blob, depth, 0.0)), mask.shape)
        radius = depth[middle] - stroke
        opened &= (rows - middle[0]) ** 2 + (cols - middle[1]) ** 2 > radius**2
    return opened


def pieces(mask: np.ndarray) -> int:
    """How many pieces of ink (8-connected) a mask enlarged RESTROKE_SCALE times holds, not
    counting dust: pieces smaller than one MNIST pixel."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if not count:
        return 0
    sizes = ndimage.sum_labels(mask, labels, np.arange(1, count + 1))
    return int(np.count_nonzero(sizes >= RESTROKE_SCALE**2))


def loops(mask: np.ndarray, smallest: int) -> int:
    """How many loops a boolean mask of ink closes: enclosed background regions of at least
    `smallest` pixels."""
    regions, count = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    sizes = ndimage.sum_labels(regions > 0, regions, np.arange(1, count + 1))
    return int(np.count_nonzero(sizes >= smallest))


def ink_mask(digit: np.ndarray, cuts: tuple[float, ...] = CUTS) -> np.ndarray:
    """An MNIST digit (uint8, or float in [0, 1]) enlarged RESTROKE_SCALE times (bilinear) and
    cut at the first of `cuts` (fractions of its strongest ink) that leaves it in no more
    pieces than the last does: half strength, or lower where that breaks a faint stroke apart.
    The mask `skeleton_strokes` thins."""
    values = np.asarray(digit, dtype=np.float32)
    if np.asarray(digit).dtype == np.uint8:
        values = values / 255.0
    side = values.shape[0] * RESTROKE_SCALE
    big = np.asarray(Image.fromarray(values).resize((side, side), Image.Resampling.BILINEAR))
    strongest = float(big.max())
    fewest = pieces(big >= cuts[-1] * strongest)
    for cut in cuts:
        mask = big >= cut * strongest
        if pieces(mask) <= fewest:
            break
    return mask


def skeleton_strokes(digit: np.ndarray) -> list[np.ndarray]:
    """An MNIST digit's centre lines as short strokes, (x, y) in its 28-pixel frame.

    The digit is enlarged RESTROKE_SCALE times (bilinear), cut at half strength (lower where
    that breaks a faint stroke: `ink_mask`) and thinned, with a hole in each blob of ink first
    (`open_blobs`); every pair of neighbouring centre-line pixels becomes a two-point stroke.
    """
    skeleton = thin(open_blobs(ink_mask(digit)))
    side = skeleton.shape[0]
    rows, cols = np.nonzero(skeleton)
    strokes = [np.array([[c, r]], dtype=float) for r, c in zip(rows, cols, strict=True)]
    padded = np.pad(skeleton, 1)
    for d_row, d_col in ((0, 1), (1, -1), (1, 0), (1, 1)):
        linked = padded[1 + d_row : 1 + d_row + side, 1 + d_col : 1 + d_col + side] & skeleton
        for r, c in zip(*np.nonzero(linked), strict=True):
            strokes.append(np.array([[c, r], [c + d_col, r + d_row]], dtype=float))
    return [s / RESTROKE_SCALE for s in strokes]


def restroked_digits(
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    *,
    pens: tuple[int, ...] | None = None,
    background: str = "transparent",
) -> Iterator[Drawing]:
    """Each of `images` (MNIST digits, (N, 28, 28)) re-drawn with a round pen on the canvas.

    Real writers' shapes, but with the canvas's pen: the digit's centre lines
    (`skeleton_strokes`) drawn with a pen of a width from `pens` (default: every width the
    page offers), at a random height and place as in `drawn_digits`. `style` is "mnist N",
    N the image's index.
    """
    rng = np.random.default_rng(seed)
    pens = pens or tuple(range(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        pen = pens[int(rng.integers(len(pens)))]
        strokes = skeleton_strokes(image)
        if not strokes:
            continue
        height = rng.uniform(max(HEIGHTS[0], MIN_PEN_HEIGHTS * pen), HEIGHTS[1])
        placed, drawn = place_strokes(strokes, pen=pen, height=height, rng=rng)
        canvas = render(placed, pen, background=background)
        yield Drawing(canvas, int(label), f"mnist {index}", int(pen), round(drawn))


# --- Writers: each with their own slant, proportions and way of writing each digit ----------

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
SMALL_HEIGHTS = (40, 110)  # a small digit, drawn near an edge or a corner of the canvas
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
    return [_arc(cx, cy, vary(0.3), vary(0.45), start, start + sweep)]


def _one(variant, loop, at, vary):
    top = at(0.5, 0.05)
    stem = [at(0.35, 0.22), top] if variant != "stick" else [top]
    strokes = [_line(*stem, at(0.5, 0.95))]
    if variant == "flag and base":
        strokes.append(_line(at(0.28, 0.95), at(0.72, 0.95)))
    return strokes


def _two(variant, loop, at, vary):
    top = _bezier(at(0.2, 0.28), at(0.3, -0.02), at(0.85, 0.0), (0.75, 0.35))
    if variant == "plain":
        return [
            _path(
                top,
                _bezier((0.75, 0.35), at(0.65, 0.6), at(0.4, 0.8), (0.18, 0.95)),
                at(0.82, 0.95),
            )
        ]
    neck = _bezier((0.75, 0.35), at(0.62, 0.62), at(0.42, 0.8), (0.3, 0.9))
    curl = _bezier((0.3, 0.9), at(0.1, 0.76), at(0.46, 0.72), (0.38, 0.95))
    return [_path(top, neck, curl, at(0.84, 0.93))]


def _three(variant, loop, at, vary):
    middle = at(0.45, 0.47)
    belly = _bezier(middle, at(1.0, 0.45), at(0.95, 1.05), at(0.18, 0.85))
    if variant == "round":
        return [_path(_bezier(at(0.22, 0.15), at(0.45, -0.05), at(0.92, 0.1), middle), belly)]
    return [_path(_line(at(0.22, 0.05), at(0.78, 0.05), middle), belly)]


def _four(variant, loop, at, vary):
    bar = vary(0.62)
    if variant == "open":
        return [
            _line(at(0.28, 0.05), at(0.22, bar), at(0.86, bar)),
            _line(at(0.66, 0.2), at(0.64, 0.95)),
        ]
    top = at(0.62, 0.05)
    return [_line(top, at(0.15, bar), at(0.88, bar)), _line(top, at(0.62, 0.95))]


def _five(variant, loop, at, vary):
    corner, waist = at(0.3, 0.07), at(0.27, 0.46)
    belly = _bezier(waist, at(0.95, 0.28), at(0.95, 1.08), at(0.2, 0.88))
    bar = _line(corner, at(0.78, 0.06))
    if variant == "one stroke":
        return [_path(bar[::-1], _line(corner, waist), belly)]
    return [_path(_line(corner, waist), belly), bar]


def _six(variant, loop, at, vary):
    ry = loop / 2
    cx, cy = at(0.5, 0.95 - ry)
    rx, gap = ry * vary(1.0, 0.1), vary(0, 20)
    left = (cx - rx, cy)
    circle = _arc(cx, cy, rx, ry, 180, -170 + gap)
    if variant == "straight entry":
        return [_stem_into_loop(cx, cy, rx, ry, join=vary(215, 8), top=vary(0.05), close=gap - 350)]
    if variant == "curved":
        entry = _bezier(at(0.74, 0.07), at(0.36, 0.12), at(cx - rx - 0.02, cy - 0.3), left)
    else:  # a hook at the top, then down into the loop
        hook = _bezier(at(0.8, 0.22), at(0.8, 0.0), at(0.5, 0.0), (0.4, 0.15))
        entry = _path(hook, _bezier((0.4, 0.15), at(0.28, 0.3), (left[0], cy - 0.2), left))
    return [_path(entry, circle)]


def _seven(variant, loop, at, vary):
    corner = at(0.82, 0.08)
    start = [at(0.18, 0.22), at(0.2, 0.08)] if variant == "hooked" else [at(0.18, 0.08)]
    strokes = [_line(*start, corner, at(0.42, 0.95))]
    if variant == "crossbar":
        strokes.append(_line(at(0.35, 0.52), at(0.76, 0.5)))
    return strokes


def _eight(variant, loop, at, vary):
    if variant == "one stroke":
        return [_figure_eight(vary(0.2), vary(0.26))]
    (x1, y1), (x2, y2) = at(0.5, 0.27), at(0.5, 0.72)
    return [
        _arc(x1, y1, vary(0.2), 0.22, -90, 270),
        _arc(x2, y2, vary(0.25), 0.24, -90, 270),
    ]


def _nine(variant, loop, at, vary):
    ry = loop / 2
    cx, cy = at(0.48, 0.05 + ry)
    rx = ry * vary(1.0, 0.1)
    right = (cx + rx, cy)
    tail = {
        "straight tail": _line(right, at(cx + rx - 0.02, 0.95)),
        "curved tail": _bezier(right, at(cx + rx, 0.6), at(cx + rx - 0.08, 0.88), at(0.4, 0.95)),
        "slanted tail": _line(right, at(cx, 0.95)),
    }[variant]
    return [_path(_arc(cx, cy, rx, ry, 0, -360), tail)]


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
