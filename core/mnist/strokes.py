"""A drawing made into an MNIST digit from the pen's own paths, at one stroke width whatever the pen.

The Draw page's canvas (streamlit-drawable-canvas, Fabric.js) sends, beside its image, each
freehand stroke as a path: the points the pointer passed through, in canvas pixels. MNIST's
digits were written on paper with a pen whose line is thin beside the digit; on the canvas the
pen is 6 to 30 px wide whatever the digit's size, so a small digit drawn with a thick pen fills
its own loops. `paths_to_mnist` redraws the strokes' centre lines at STROKE_RATIO of the
digit's box, MNIST's median stroke, whatever the pen, with half their lean taken away (a
shear), then fits and centres the result like `core.mnist.preprocess.canvas_to_mnist`. The
image still decides what is a digit at all (blank, a speck, a dot), and wherever the paths do
not match the image (strokes moved or scaled on the canvas, another kind of object) the image
recipe is used instead. bench/draw.py measures both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from core.mnist import preprocess

# The strokes' width over the digit's box side, as MNIST's median (preprocess.STROKE_RANGE).
STROKE_RATIO = 0.136
# How much of the digit's lean (columns per row downwards) is kept: half. Writers' and the
# pen generators' slanted 1s, 4s and 7s read better upright, MNIST's own digits with their lean
# (bench/draw.py).
LEAN_KEPT = 0.5
# The paths are redrawn with the box's longer side at this many pixels, SUPERSAMPLE times
# larger and averaged down (antialiased edges).
WORK_SIZE = preprocess.WORK_SIZE
SUPERSAMPLE = 4
# The paths drawn with the pen must cover at least this share of the image's ink and the
# image's ink this share of theirs; otherwise they are not the drawing shown (moved strokes).
AGREEMENT = 0.8
# Fabric's path commands and how many coordinates each carries.
COMMANDS = {"M": 2, "L": 2, "Q": 4, "C": 6}
# Beyond these (pen width, any coordinate, in canvas pixels; the canvas is 280 px and its pen
# at most 30) the paths are not a drawing on the canvas: the image recipe reads it.
MAX_PEN = 500.0
MAX_COORDINATE = 10_000.0


def canvas_paths(json_data) -> tuple[list[np.ndarray], float] | None:
    """The freehand strokes of the canvas's `json_data` as point arrays, and the pen width.

    Each stroke is an (N, 2) array of (x, y) canvas pixels: the path's points and control
    points in order (Fabric smooths the pointer's positions with quadratic curves whose
    control points are those positions). None when there is nothing else to go on: no
    strokes, an object that is not a plain path (moved by its own transform, scaled, turned,
    flipped), or a command other than M, L, Q and C.
    """
    if not isinstance(json_data, dict):
        return None
    objects = json_data.get("objects")
    if not isinstance(objects, list) or not objects:
        return None
    strokes, widths = [], []
    for item in objects:
        if not isinstance(item, dict) or item.get("type") not in ("Path", "path"):
            return None
        if any(item.get(k, d) != d for k, d in (("scaleX", 1), ("scaleY", 1), ("angle", 0))):
            return None
        if item.get("skewX", 0) or item.get("skewY", 0) or item.get("flipX") or item.get("flipY"):
            return None
        points = _path_points(item.get("path"))
        width = item.get("strokeWidth")
        if points is None or not isinstance(width, int | float) or not 0 < width <= MAX_PEN:
            return None
        strokes.append(points)
        widths.append(float(width))
    return strokes, float(np.median(widths))


def _path_points(path) -> np.ndarray | None:
    if not isinstance(path, list) or not path:
        return None
    points = []
    for command in path:
        if not isinstance(command, list | tuple) or not command:
            return None
        count = COMMANDS.get(command[0]) if isinstance(command[0], str) else None
        if count is None or len(command) != count + 1:
            return None
        values = command[1:]
        if not all(isinstance(v, int | float) and abs(v) <= MAX_COORDINATE for v in values):
            return None  # NaN fails the comparison too
        points += [values[i : i + 2] for i in range(0, count, 2)]
    return np.asarray(points, dtype=np.float64)


def paths_to_mnist(image: np.ndarray, json_data) -> np.ndarray | None:
    """A canvas as a (28, 28) MNIST digit, its strokes redrawn from their paths, or None.

    `image` is the canvas's image (as for `canvas_to_mnist`), `json_data` the canvas's
    objects (`canvas_paths`). None where `canvas_to_mnist` gives None (blank, a speck, a
    dot); its result where the paths are missing or do not match the image.
    """
    found = canvas_paths(json_data)
    if found is None:
        return preprocess.canvas_to_mnist(image)
    return strokes_to_mnist(image, *found)


def strokes_to_mnist(
    image: np.ndarray, strokes: Sequence[np.ndarray], pen: float
) -> np.ndarray | None:
    """`paths_to_mnist` with the strokes given as (N, 2) arrays of (x, y) canvas pixels,
    drawn with a `pen`-pixel pen."""
    ink = preprocess.remove_specks(preprocess.ink_map(image))
    if preprocess.digit_box(ink) is None:
        return None
    kept = _matching_strokes(strokes, pen, ink)
    if kept is None:
        return preprocess.ink_to_mnist(ink)
    return preprocess.box_and_centre(preprocess.crop_to_ink(redraw(lessen_lean(kept))))


def _matching_strokes(
    strokes: Sequence[np.ndarray], pen: float, ink: np.ndarray
) -> list[np.ndarray] | None:
    """The strokes that make the digit (those on specks of the image left out), or None when
    the paths drawn with the pen and the image's ink do not cover each other (AGREEMENT)."""
    drawn = draw_strokes(strokes, pen, ink.shape, supersample=1) >= preprocess.INK_LEVEL
    seen = ink >= preprocess.INK_LEVEL
    both = float((drawn & seen).sum())
    if both < AGREEMENT * max(float(drawn.sum()), float(seen.sum()), 1.0):
        return None
    kept = [np.asarray(s, dtype=np.float64) for s in strokes if _inside(s, seen)]
    if not kept or np.ptp(np.concatenate(kept), axis=0).max() < 1.0:
        return None  # a dot, or nothing left: the image recipe decides
    return kept


def _inside(stroke: np.ndarray, seen: np.ndarray) -> bool:
    """Whether a stroke lies on the image's digit (not on a speck removed from it)."""
    rows = np.clip(np.round(stroke[:, 1]).astype(int), 0, seen.shape[0] - 1)
    cols = np.clip(np.round(stroke[:, 0]).astype(int), 0, seen.shape[1] - 1)
    return bool(seen[rows, cols].mean() >= 0.5)


def draw_strokes(
    strokes: Sequence[np.ndarray],
    width: float,
    shape: tuple[int, int],
    supersample: int = SUPERSAMPLE,
) -> np.ndarray:
    """Strokes drawn with a round pen `width` px wide on a `shape` (rows, columns) image,
    float32 ink in [0, 1], antialiased (drawn `supersample` times larger, averaged down)."""
    scale = supersample
    big = Image.new("L", (shape[1] * scale, shape[0] * scale), 0)
    draw = ImageDraw.Draw(big)
    radius = width * scale / 2
    for stroke in strokes:
        points = [(float(x) * scale, float(y) * scale) for x, y in stroke]
        if len(points) > 1:  # the discs below make its caps and joins round
            draw.line(points, fill=255, width=max(1, round(width * scale)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    small = big.resize((shape[1], shape[0]), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / np.float32(255.0)


def redraw(strokes: Sequence[np.ndarray], side: int = WORK_SIZE) -> np.ndarray:
    """The strokes' centre lines redrawn STROKE_RATIO of `side` wide, in a box whose longer
    side, ink included, is `side` pixels."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    width = STROKE_RATIO * side
    scale = (side - width) / max(float((high - low).max()), 1e-6)
    placed = [(s - low) * scale + width / 2 + 1 for s in strokes]
    columns, rows = np.ceil((high - low) * scale + width + 2).astype(int)
    return draw_strokes(placed, width, (int(rows), int(columns)))


def lean(work: np.ndarray) -> tuple[float, float]:
    """An image's lean, columns per row downwards (mu11 / mu02), and its mass centre's row."""
    values = np.asarray(work, dtype=np.float64)
    rows, cols = np.indices(values.shape)
    mass = float(values.sum())
    row_offsets = rows - float((values * rows).sum()) / mass
    col_offsets = cols - float((values * cols).sum()) / mass
    moment = float((values * row_offsets**2).sum())
    slope = float((values * row_offsets * col_offsets).sum()) / moment if moment else 0.0
    return slope, float((values * rows).sum()) / mass


def lessen_lean(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The strokes sheared so the digit keeps LEAN_KEPT of its lean (`lean` of the strokes
    redrawn); the shear keeps rows where they are (`redraw` fits the box anew)."""
    slope, _ = lean(redraw(strokes))
    shift = (1.0 - LEAN_KEPT) * slope
    sheared = []
    for stroke in strokes:
        moved = np.array(stroke, dtype=np.float64)
        moved[:, 0] -= shift * moved[:, 1]
        sheared.append(moved)
    return sheared
