"""Canvas images made from MNIST digits, so tests and benchmarks can play the person drawing.

`place_on_canvas` enlarges a 28x28 digit and puts it anywhere on a canvas, in the colours and
transparency the Draw page's canvas produces; `core.preprocess.canvas_to_mnist` should give
the digit back.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.preprocess import dilate, erode

BACKGROUNDS = ("transparent", "black", "white")


def place_on_canvas(
    digit: np.ndarray,
    size: int,
    top: int,
    left: int,
    canvas: int = 280,
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
    level = np.round(ink * 255).astype(np.uint8)
    image = np.zeros((canvas, canvas, 4), dtype=np.uint8)
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
