"""A drawing on the Draw page's canvas, made into a digit the network can read, the way MNIST was made.

MNIST's digits were fitted into a 20x20 box keeping their aspect ratio, anti-aliased, and put
into a 28x28 frame so that their centre of mass sits at its centre. `canvas_to_mnist` does the
same to a canvas: it finds the ink (whatever differs from the background, from colour and
transparency together), drops specks, crops it, widens strokes thinner than most of MNIST's
and narrows those thicker than nearly all of them, shrinks it with area averaging so its
longer side is 20 pixels, and places it so its centre of mass lands on pixel (14, 14), as in
MNIST. Shrinking the whole canvas instead makes small, thin or off-centre digits unreadable.

The Draw page prepares its drawings from the strokes' paths instead (core.mnist.strokes),
and falls back on this recipe for an image without paths. bench/draw.py measures both against
a plain recipe (crop, fit into 20 px, centre the mass) on four kinds of drawn digits, on sets
held out from any adjustment.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

MNIST_SIZE = 28
BOX_SIZE = 20
# Over the 10,000 MNIST test digits the centre of mass is at row 13.99, column 14.01 (standard
# deviation 0.29, that of a whole-pixel shift), so MNIST put it at pixel index 14, not 13.5.
CENTRE = 14.0
# A pixel is ink when it differs from the background by at least this fraction of the strongest
# stroke; fainter pixels (anti-aliased edges) stay in the image but do not set its box.
INK_LEVEL = 0.25
# Less contrast than this (on a 0-1 scale) anywhere on the canvas: it is blank.
MIN_CONTRAST = 0.1
# The ink's box must be at least this fraction of the canvas's shorter side (28 px of 280) ...
MIN_BOX_FRACTION = 0.1
# ... and, when under DOT_FRACTION of it, at least this many stroke widths long: a round dot
# (a tap with the pen) measures 1.8 of them. Bigger blobs are read as they are.
MIN_BOX_STROKES = 2.0
DOT_FRACTION = 0.25
# Separate marks holding under this fraction of the ink are specks, left out of the digit; a
# mark is what ink above FRINGE_LEVEL joins together.
SPECK_FRACTION = 0.02
FRINGE_LEVEL = 0.05
# Strokes are measured and matched with the digit's longer side at WORK_SIZE pixels ...
WORK_SIZE = 80
# ... and brought into this range of stroke width over box side. Measured this way, MNIST's
# test digits have a median of 0.136; 19 % of them are under 0.11 and 5 % over 0.21. Thin pens
# are widened to 0.11, which reads thin pens better (bench/draw.py --variants); only
# strokes thicker than 19 in 20 of MNIST's are narrowed: narrowing to 0.15, a third of MNIST,
# cost accuracy at thick pens, while blobs (a small digit, a fat pen) still need it.
STROKE_RANGE = (0.11, 0.21)
# How the digit is shrunk: area averaging (BOX) round-trips MNIST digits at least as well as
# LANCZOS or HAMMING (bench/draw.py --variants).
RESAMPLE = Image.Resampling.BOX
LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's "L"


def canvas_to_mnist(image: np.ndarray, *, match_strokes: bool = True) -> np.ndarray | None:
    """A canvas image as a (28, 28) float32 MNIST digit in [0, 1], white on black, or None.

    `image` is (H, W, 4) RGBA, (H, W, 3) RGB or (H, W) grey, uint8 (0-255) or float (0-1). The
    ink may be light on dark or dark on light, on an opaque or a transparent background.
    Returns None when the canvas is blank or holds too little to be a digit: a speck, marks
    whose box is under a tenth of the canvas's shorter side, or a dot (a round blob under a
    quarter of it). `match_strokes=False`
    keeps the pen's width as drawn (see `fit_digit`).
    """
    return ink_to_mnist(remove_specks(ink_map(image)), match_strokes=match_strokes)


def ink_to_mnist(ink: np.ndarray, *, match_strokes: bool = True) -> np.ndarray | None:
    """`canvas_to_mnist` of a canvas whose ink map, specks removed, is `ink`."""
    box = digit_box(ink)
    if box is None:
        return None
    top, bottom, left, right = box
    return fit_digit(ink[top:bottom, left:right], match_strokes=match_strokes)


def ink_map(image: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds, (H, W) float32 in [0, 1]; 1 is the strongest stroke.

    A transparent background is composited over the colour the strokes are not (black under
    light strokes, white under dark ones); then the background is the majority (median) level
    and ink is the distance from it, so ink is the minority whatever the colours.
    """
    luminance, alpha = _channels(image)
    if alpha is not None and alpha.min() < 1.0:
        coverage = float(alpha.sum())
        if coverage == 0.0:
            return np.zeros_like(luminance)
        stroke = float((alpha * luminance).sum()) / coverage
        under = np.float32(0.0 if stroke >= 0.5 else 1.0)
        luminance = alpha * luminance + (1.0 - alpha) * under
    ink = np.abs(luminance - np.median(luminance))
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return np.zeros_like(ink)
    return ink / np.float32(peak)


def remove_specks(ink: np.ndarray) -> np.ndarray:
    """The ink map without specks: separate marks holding under SPECK_FRACTION of the ink.

    A mark is a connected patch of ink (8-neighbours, antialiased fringe included); the
    biggest one always stays, so a digit drawn in several strokes keeps all its strokes.
    """
    labels, count = ndimage.label(ink > FRINGE_LEVEL, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return ink
    masses = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    kept = masses >= SPECK_FRACTION * float(masses.sum())
    kept[int(np.argmax(masses))] = True
    return np.where(np.concatenate(([False], kept))[labels], ink, np.float32(0.0))


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """The digit's box in an ink map as (top, bottom, left, right), ends exclusive, or None.

    Specks (see `remove_specks`) are left out. None when what is left is too small to be a
    digit (see `canvas_to_mnist`).
    """
    return digit_box(remove_specks(ink))


def digit_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """`ink_box` of an ink map whose specks are already removed (`remove_specks`)."""
    mask = ink >= INK_LEVEL
    if not mask.any():
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    side = max(bottom - top, right - left)
    shorter = min(mask.shape)
    if side < MIN_BOX_FRACTION * shorter:
        return None
    if side < DOT_FRACTION * shorter and side < MIN_BOX_STROKES * stroke_width(
        mask[top:bottom, left:right]
    ):
        return None
    return top, bottom, left, right


def stroke_width(mask: np.ndarray) -> float:
    """The mean width of the strokes in a boolean mask: its area over half its outline.

    A stroke of length L and width w has area L*w and an outline of about 2L pixels; a round
    dot of diameter d comes out as d/2 in theory, 0.56 d on pixels (a pixel outline is shorter
    than the circle). MNIST's figures in STROKE_RANGE were measured the same way.
    """
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    outline = area - int(inner.sum())
    return 2.0 * area / max(outline, 1)


def fit_digit(crop: np.ndarray, *, match_strokes: bool = True) -> np.ndarray:
    """A cropped ink map fitted into MNIST's 20x20 box and centred by mass in a 28x28 frame.

    With `match_strokes`, strokes thinner or thicker than most of MNIST's (relative to the
    digit's size) are first widened or narrowed into STROKE_RANGE, so a thick pen on a small
    digit does not fill its holes and a thin pen on a large one does not fade away.
    """
    work = _resize_box(crop, WORK_SIZE)
    if match_strokes:
        work = _match_strokes(work)
    return box_and_centre(work)


def box_and_centre(work: np.ndarray) -> np.ndarray:
    """A digit at working size shrunk so its longer side is MNIST's 20 px box, scaled to a
    peak of 1 and centred by mass in a 28x28 frame."""
    small = np.clip(_resize_box(work, BOX_SIZE), 0.0, None)
    peak = float(small.max())
    if peak > 0:
        small = small / np.float32(peak)
    return centre_by_mass(small)


def crop_to_ink(values: np.ndarray) -> np.ndarray | None:
    """`values` cropped to the rows and columns holding ink (at least INK_LEVEL), or None
    where none does."""
    rows = np.flatnonzero(values.max(axis=1) >= INK_LEVEL)
    cols = np.flatnonzero(values.max(axis=0) >= INK_LEVEL)
    if len(rows) == 0:
        return None
    return values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def centre_by_mass(small: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """`small` pasted into a size x size frame with its centre of mass on pixel CENTRE.

    The shift is in whole pixels, as MNIST's, and stops where the digit would leave the frame.
    """
    height, width = small.shape
    mass = float(small.sum())
    if mass > 0:
        row_centre = float(small.sum(axis=1) @ np.arange(height)) / mass
        col_centre = float(small.sum(axis=0) @ np.arange(width)) / mass
    else:
        row_centre, col_centre = (height - 1) / 2, (width - 1) / 2
    centre = CENTRE * size / MNIST_SIZE
    top = min(max(math.floor(centre - row_centre + 0.5), 0), size - height)
    left = min(max(math.floor(centre - col_centre + 0.5), 0), size - width)
    frame = np.zeros((size, size), dtype=np.float32)
    frame[top : top + height, left : left + width] = small
    return frame


def dilate(values: np.ndarray, radius: int) -> np.ndarray:
    """The maximum over a disc of `radius` pixels around each pixel (grey-level dilation)."""
    if radius <= 0:
        return values.copy()
    return ndimage.grey_dilation(values, footprint=_disc(radius), mode="nearest")


def erode(values: np.ndarray, radius: int) -> np.ndarray:
    """The minimum over a disc of `radius` pixels around each pixel (grey-level erosion)."""
    if radius <= 0:
        return values.copy()
    return ndimage.grey_erosion(values, footprint=_disc(radius), mode="nearest")


def _disc(radius: int) -> np.ndarray:
    rows, cols = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return rows * rows + cols * cols <= radius * radius


def _match_strokes(work: np.ndarray) -> np.ndarray:
    """Strokes widened (dilation) or narrowed (erosion) into STROKE_RANGE of the box side."""
    peak = float(work.max())
    if peak <= 0:
        return work
    work = work / np.float32(peak)
    side = max(work.shape)
    width = stroke_width(work >= 0.5) / side
    low, high = STROKE_RANGE
    if width > high:
        radius = -round((width - high) * side / 2)
    elif width < low:
        radius = round((low - width) * side / 2)
    else:
        return work
    if radius == 0:
        return work
    padded = np.pad(work, abs(radius))
    changed = crop_to_ink(dilate(padded, radius) if radius > 0 else erode(padded, -radius))
    return work if changed is None else changed  # all eroded away: the strokes as they were


def _resize_box(image: np.ndarray, side: int) -> np.ndarray:
    """`image` resized so its longer side is `side`: RESAMPLE down, bilinear up."""
    height, width = image.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = RESAMPLE if scale <= 1 else Image.Resampling.BILINEAR
    image = np.ascontiguousarray(image, dtype=np.float32)
    return np.asarray(Image.fromarray(image).resize(size, resample))


def _channels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Luminance and alpha (None when there is no alpha channel), float32 in [0, 1]."""
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(
            f"a canvas image has shape (H, W), (H, W, 3) or (H, W, 4), not {image.shape}; "
            "pass the canvas's image_data array (RGBA) as it is."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"the canvas image has shape {image.shape}: it holds no pixels.")
    if image.dtype == np.uint8:
        values = image.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(image.dtype, np.floating):
        values = image.astype(np.float32)
        if not np.isfinite(values).all() or values.min() < 0.0 or values.max() > 1.0:
            raise ValueError(
                f"a float canvas image holds values from {values.min()} to {values.max()}; "
                "floats must be finite and in [0, 1] (divide 0-255 values by 255, or pass "
                "them as uint8)."
            )
    else:
        raise ValueError(
            f"a canvas image is uint8 (0-255) or float (0-1), not {image.dtype}; "
            "convert it with .astype(np.uint8) if it holds 0-255 values."
        )
    if values.ndim == 2:
        return values, None
    luminance = values[..., :3] @ LUMINANCE
    alpha = values[..., 3] if values.shape[2] == 4 else None
    return luminance, alpha
