"""What a kept digit is, and the checks every way into My digits shares (keeping, relabelling,
importing): a label is a whole number from 0 to 9; an image is 28x28 in [0, 1] with some ink.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

SIDE = 28
DIGITS = range(10)


class MyDigitsError(ValueError):
    """Something My digits cannot take or give, said with what to do instead."""


@dataclass(frozen=True)
class MyDigit:
    """One kept digit: its id, label, the time it was kept (seconds since the epoch) and the
    (28, 28) float32 image in [0, 1] the network saw."""

    id: str
    label: int
    created: float
    image: np.ndarray


@dataclass(frozen=True)
class DigitSet:
    """Digits read from a file or the store, in order: images (N, 28, 28) float32 in [0, 1],
    labels (N,) uint8, times (N,) float64 (None: not known), canvases (N, H, W, 4) uint8 or
    None."""

    images: np.ndarray
    labels: np.ndarray
    created: np.ndarray | None = None
    canvases: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Score:
    """A run's figures on My digits as last measured (on Evaluate): accuracy and loss on
    `count` digits at `measured` (seconds since the epoch)."""

    accuracy: float
    loss: float
    count: int
    measured: float


def checked_label(label) -> int:
    """`label` as an int from 0 to 9, or a `MyDigitsError` saying what a label may be."""
    if isinstance(label, bool) or not isinstance(label, numbers.Integral | str):
        raise MyDigitsError(f"The label {label!r} is not a digit: choose one from 0 to 9.")
    text = str(label).strip()
    if not (text.isdigit() and int(text) in DIGITS):
        raise MyDigitsError(f"The label {label!r} is not a digit: choose one from 0 to 9.")
    return int(text)


def checked_image(image) -> np.ndarray:
    """`image` as a (28, 28) float32 array in [0, 1] with some ink, or a `MyDigitsError`."""
    array = np.asarray(image)
    if array.shape != (SIDE, SIDE):
        raise MyDigitsError(
            f"A digit is a {SIDE}x{SIDE} image; this one is {'x'.join(map(str, array.shape))}."
        )
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / np.float32(255)
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise MyDigitsError("A digit's pixels must be grey levels from 0 (black) to 1 (white).")
    if not array.any():
        raise MyDigitsError("The drawing is blank: draw a digit before keeping it.")
    return array
