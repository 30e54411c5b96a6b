"""What the canvas_to_mnist tests measure of a 28x28 digit: its centre of mass, the box of
its ink and its correlation with another image.

Shared by tests/mnist/test_preprocess.py, test_preprocess_steps.py and test_preprocess_digits.py.
"""

from __future__ import annotations

import numpy as np


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)


def box_of(image: np.ndarray, level: float = 0.0) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
