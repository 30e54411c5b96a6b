"""MNIST's own digits re-stroked with the canvas's pen, for tests and benchmarks.

`restroked_digits` redraws MNIST digits as a person would on the Draw page: each digit's ink
is cut from its grey levels (`ink_mask`), its blobs of ink opened (`open_blobs`), thinned to
centre lines (`thin`, `skeleton_strokes`) and drawn with a round pen of the canvas's widths at
a random height and place (tests.support.drawings). Real writers' shapes, the canvas's pen.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image
from scipy import ndimage

from tests.support.drawings import (
    HEIGHTS,
    MIN_PEN_HEIGHTS,
    PEN_WIDTHS,
    Drawing,
    place_strokes,
    render,
)

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
