"""The playground's datasets: points on the plane with a class each, drawn from the seed.

Every dataset but the four XOR points draws `spec.samples` points from a generator seeded by
(`spec.seed`, `spec.sample`), so the same spec always gives the same picture and "new sample"
(the next `sample`) gives another draw. Classes take turns (point i belongs to class
i mod classes), so they are balanced to within one point. `spec.noise` (0 to 0.5) spreads the
points; `NOISE_SCALE` says what it multiplies for each dataset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.plane.spec import PlaneSpec

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
XOR_TARGETS = np.array([0, 1, 1, 0], dtype="float32")
POINTS_RANGE = (-0.25, 1.25)  # the plane shown around the four points
PLANE_RANGE = (-6.0, 6.0)  # the plane shown for the other datasets, as in Playground

CIRCLE_RADIUS = 5.0  # class 1 lies within half of it, class 0 in the ring from 0.7 to 1 of it
GAUSSIAN_CENTRE = 2.0  # class 1 around (2, 2), class 0 around (-2, -2)
SPIRAL_RADIUS = 5.0
SPIRAL_TURNS = 1.75
BLOB_RADIUS = 3.5  # the blobs' centres lie on this circle
# noise 1 would move each point by a normal of this standard deviation (plane units); for the
# Gaussians and blobs it widens each class's own spread beyond its base.
NOISE_SCALE = {"cloud": 1.0, "circle": 2.5, "gaussians": 4.0, "spiral": 1.0, "blobs": 3.0}
GAUSSIAN_BASE_SPREAD = 0.5
BLOB_BASE_SPREAD = 0.4


@dataclass
class PlaneData:
    """Inputs (n, 2) and targets, float32: (n, 1) of 0/1 for two classes, else one-hot (n, k).

    The test part is empty for the four points. [low, high]² is the square of plane to draw.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    low: float
    high: float
    batch_size: int
    n_classes: int = 2

    @property
    def has_test(self) -> bool:
        return len(self.x_test) > 0

    @property
    def labels_train(self) -> np.ndarray:
        return labels(self.y_train)

    @property
    def labels_test(self) -> np.ndarray:
        return labels(self.y_test)


def labels(targets: np.ndarray) -> np.ndarray:
    """Class numbers (n,) from 0/1 targets (n, 1) or one-hot targets (n, k)."""
    if targets.shape[1] == 1:
        return (targets[:, 0] > 0.5).astype("int64")
    return np.argmax(targets, axis=1)


def targets_for(classes: np.ndarray, n_classes: int) -> np.ndarray:
    """0/1 targets (n, 1) for two classes, else one-hot rows (n, k)."""
    if n_classes == 2:
        return classes.astype("float32")[:, None]
    return np.eye(n_classes, dtype="float32")[classes]


# --- the generators: (points, rng, noise) -> inputs (n, 2), classes (n,) ---------------------


def xor_cloud(n: int, noise: float, rng: np.random.Generator):
    """Points around the four corners (normal, sd `noise`), each class the XOR of its corner."""
    corner = np.arange(n) % 4
    x = XOR_INPUTS[corner] + rng.normal(0.0, noise * NOISE_SCALE["cloud"], size=(n, 2))
    return x, XOR_TARGETS[corner].astype("int64")


def circle(n: int, noise: float, rng: np.random.Generator):
    """Class 1 inside radius R/2, class 0 in the ring from 0.7 R to R (R = 5), then the noise."""
    classes = (np.arange(n) + 1) % 2  # class 1 first, as Playground draws it
    radius = np.where(
        classes == 1,
        rng.uniform(0.0, 0.5 * CIRCLE_RADIUS, n),
        rng.uniform(0.7 * CIRCLE_RADIUS, CIRCLE_RADIUS, n),
    )
    angle = rng.uniform(0.0, 2 * math.pi, n)
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x + rng.normal(0.0, noise * NOISE_SCALE["circle"], size=(n, 2)), classes


def gaussians(n: int, noise: float, rng: np.random.Generator):
    """Class 1 around (2, 2), class 0 around (-2, -2), each spread 0.5 + 4 × noise."""
    classes = (np.arange(n) + 1) % 2
    centre = np.where(classes[:, None] == 1, GAUSSIAN_CENTRE, -GAUSSIAN_CENTRE)
    spread = GAUSSIAN_BASE_SPREAD + noise * NOISE_SCALE["gaussians"]
    return centre + rng.normal(0.0, spread, size=(n, 2)), classes


def spiral(n: int, noise: float, rng: np.random.Generator):
    """Two arms turning 1.75 times out to radius 5, half a turn apart; class 1 is the first."""
    classes = (np.arange(n) + 1) % 2
    along = np.zeros(n)
    for c in (0, 1):
        rows = np.flatnonzero(classes == c)
        along[rows] = np.arange(len(rows)) / max(1, len(rows))
    radius = along * SPIRAL_RADIUS
    angle = SPIRAL_TURNS * along * 2 * math.pi + np.where(classes == 1, 0.0, math.pi)
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x + rng.normal(0.0, noise * NOISE_SCALE["spiral"], size=(n, 2)), classes


def blobs(n: int, noise: float, rng: np.random.Generator, n_classes: int = 3):
    """`n_classes` round blobs with centres evenly spaced on a circle of radius 3.5."""
    classes = np.arange(n) % n_classes
    angle = math.pi / 2 + 2 * math.pi * classes / n_classes
    centre = BLOB_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
    spread = BLOB_BASE_SPREAD + noise * NOISE_SCALE["blobs"]
    return centre + rng.normal(0.0, spread, size=(n, 2)), classes


GENERATORS = {
    "cloud": xor_cloud,
    "circle": circle,
    "gaussians": gaussians,
    "spiral": spiral,
    "blobs": blobs,
}


def draw_points(spec: PlaneSpec) -> tuple[np.ndarray, np.ndarray]:
    """The dataset's inputs (n, 2) float32 and classes (n,) int64, before the split."""
    if spec.data == "points":
        return XOR_INPUTS.copy(), XOR_TARGETS.astype("int64")
    rng = np.random.default_rng([spec.seed, spec.sample])
    generator = GENERATORS[spec.data]
    if spec.data == "blobs":
        x, classes = generator(spec.samples, spec.noise, rng, spec.n_classes)
    else:
        x, classes = generator(spec.samples, spec.noise, rng)
    return x.astype("float32"), classes.astype("int64")


def make_data(spec: PlaneSpec) -> PlaneData:
    """The dataset split into train and test parts by the seed (the four points: no test)."""
    x, classes = draw_points(spec)
    y = targets_for(classes, spec.n_classes)
    if spec.data == "points":
        empty = np.zeros((0, 2), dtype="float32")
        return PlaneData(x, y, empty, np.zeros((0, 1), "float32"), *POINTS_RANGE, batch_size=len(x))
    order = np.random.default_rng([spec.seed, spec.sample, 1]).permutation(len(x))
    n_test = max(1, int(round(len(x) * spec.test_fraction)))
    test, train = order[:n_test], order[n_test:]
    base = POINTS_RANGE if spec.data == "cloud" else PLANE_RANGE
    margin = 0.1
    low = min(base[0], float(x.min()) - margin)
    high = max(base[1], float(x.max()) + margin)
    return PlaneData(
        x[train], y[train], x[test], y[test], low, high, spec.batch_size, spec.n_classes
    )


def epoch_orders(seed: int, first_epoch: int, epochs: int, n: int, shuffle: bool) -> np.ndarray:
    """The order of the training rows in each epoch, (epochs, n) int32.

    Epoch e's order depends only on the seed and e, so training 500 epochs at once or in
    steps of 1 sees the same batches.
    """
    if not shuffle:
        return np.tile(np.arange(n, dtype="int32"), (epochs, 1))
    rows = [
        np.random.default_rng([seed, 2, epoch]).permutation(n)
        for epoch in range(first_epoch, first_epoch + epochs)
    ]
    return np.asarray(rows, dtype="int32").reshape(epochs, n)
