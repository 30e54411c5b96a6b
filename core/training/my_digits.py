"""Training on MNIST plus the learner's own digits: My digits appended to the training images,
each repeated so that a few dozen drawings count beside 54,000 of MNIST's.

The digits go in after MNIST's rows as `MNIST.train_only` rows, so `training_rows` adds them
to the training rows after the validation split is drawn: none is ever held out, and
the validation and test figures stay MNIST's own.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.mnist.data import MNIST


def as_mnist_pixels(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] as MNIST's uint8 grey levels (0-255, rounded): the form every
    training image takes before it is scaled (an own digit moves by at most 1/510)."""
    return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)


def with_my_digits(data: MNIST, images: np.ndarray, labels: np.ndarray, repeats: int) -> MNIST:
    """`data` with `images` (N, 28, 28) in [0, 1] and their `labels` added to the training
    set `repeats` times each, as rows that only ever train; `data` itself when there are
    none to add."""
    count = len(labels)
    if not count or repeats < 1:
        return data
    mine = np.tile(as_mnist_pixels(np.asarray(images).reshape(count, 28, 28)), (repeats, 1, 1))
    their_labels = np.tile(np.asarray(labels, dtype=np.uint8), repeats)
    return replace(
        data,
        x_train=np.concatenate([data.x_train, mine]),
        y_train=np.concatenate([data.y_train, their_labels]),
        train_only=count * repeats,
        added=f"{count:,} of My digits × {repeats} ({count * repeats:,} training images)",
    )
