"""Small made-up digit sets for fast tests: class k lights up its own patch of the image."""

from __future__ import annotations

import numpy as np

from core.mnist.data import MNIST


def patch_digits(n_train: int = 600, n_test: int = 200, seed: int = 0, noise: int = 60) -> MNIST:
    """Images whose class k is a bright 6x6 block at a fixed place, plus noise.

    A network that learns anything separates them; one that does not stays near 10 %.
    """
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, noise, (n, 28, 28)).astype(np.uint8)
        rows, cols = 2 + (labels // 5) * 14, 2 + (labels % 5) * 5
        for offset_r in range(6):
            for offset_c in range(4):
                images[np.arange(n), rows + offset_r, cols + offset_c] = 230
        return images, labels

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return MNIST(x_train, y_train, x_test, y_test, source="synthetic patch digits (tests)")


def small_digits() -> MNIST:
    """The page tests' digits (conftest's `small_mnist`): 400 to train, 100 to test."""
    return patch_digits(n_train=400, n_test=100, seed=3)


def write_idx_folder(folder, data: MNIST) -> None:
    """Write `data` as the four gzip IDX files of a MNIST folder (for MNIST_DATA in tests)."""
    import gzip
    import struct

    from core.mnist.data import IDX_NAMES

    arrays = {
        "train_images": data.x_train,
        "train_labels": data.y_train,
        "test_images": data.x_test,
        "test_labels": data.y_test,
    }
    for key, array in arrays.items():
        magic = 0x0800 + array.ndim
        header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
        (folder / f"{IDX_NAMES[key]}.gz").write_bytes(
            gzip.compress(header + array.astype(np.uint8).tobytes())
        )
