"""The data a run trains on: MNIST scaled to [0, 1], one-hot labels, and a seed's held-out part.

`prepare` gives numpy arrays (the exported script's view); `PreparedTensors` keeps the last data
set as TensorFlow tensors that every run of it shares (`PREPARED`), with a seed's split as row
numbers and the batches `fit` reads (`core.training.pipelines`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

import numpy as np

from core.mnist.data import MNIST, one_hot, to_model_inputs
from core.nets.model import IMAGE_SHAPE, ModelSpec
from core.runtime.seeding import seeded
from core.training.pipelines import batches


@dataclass
class PreparedData:
    """A run's inputs and one-hot labels: numpy arrays (`prepare`), or the same as TensorFlow
    tensors (`PreparedTensors`), which `fit` reads without another copy."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray

    def as_images(self) -> PreparedData:
        """The same data with each row seen as a (28, 28, 1) image, as a convolutional model
        takes it: reshaping a contiguous array (or tensor) gives a view, no pixel is copied."""

        def images(x):
            if x is None:
                return None
            if isinstance(x, np.ndarray):
                return x.reshape(len(x), *IMAGE_SHAPE)
            import tensorflow as tf  # TensorFlow: not at start-up

            return tf.reshape(x, (-1, *IMAGE_SHAPE))

        return PreparedData(
            images(self.x_train),
            self.y_train,
            images(self.x_val),
            self.y_val,
            images(self.x_test),
            self.y_test,
        )


def held_out_count(rows: int, validation_split: float) -> int:
    """How many of `rows` training images `prepare` holds out for validation."""
    return int(round(rows * validation_split))


# TensorFlow uses memory it did not allocate only from an address it could have allocated
# (Eigen's largest alignment); anything else it copies (or, through DLPack, aborts on).
ALIGNMENT = 64


def aligned_empty(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """An uninitialised array whose data starts on an `ALIGNMENT`-byte boundary."""
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + size].view(dtype).reshape(shape)


def as_tensor(array: np.ndarray):
    """`array` as a TensorFlow tensor: sharing its memory when it is aligned and contiguous
    (`aligned_empty`; nothing must change the array afterwards), else a copy."""
    import tensorflow as tf  # TensorFlow: not at start-up

    if array.size and array.flags.c_contiguous and array.ctypes.data % ALIGNMENT == 0:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.convert_to_tensor(array)


def split_rows(rows: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of `rows` training images train and which are held out for validation: a
    fixed-seed random choice, so validation holds every digit (`prepare`'s split)."""
    n_val = held_out_count(rows, validation_split)
    if not n_val:
        return np.arange(rows), np.arange(0)
    order = np.random.default_rng(seed).permutation(rows)
    return order[n_val:], order[:n_val]


def training_rows(data: MNIST, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`split_rows` of `data`'s MNIST rows, then its `train_only` rows (the learner's own digits)
    appended to the training rows: they are never held out, whatever the split."""
    base = len(data.x_train) - data.train_only
    train, val = split_rows(base, validation_split, seed)
    if data.train_only:
        train = np.concatenate([train, np.arange(base, len(data.x_train))])
    return train, val


def prepare(data: MNIST, validation_split: float, seed: int) -> PreparedData:
    """Scale to [0, 1] rows, one-hot the labels, and hold out `validation_split` of the
    training set (`as_images` then gives a convolutional network its view of the rows).

    The held-out part is `split_rows`'s; the test set is kept apart for the final evaluation
    only. (A run reads the same rows from `PreparedTensors`, which copies no split out.)
    """
    images, labels = data.x_train, data.y_train
    train, val = training_rows(data, validation_split, seed)
    if len(val):
        # Choose on the uint8 images, then scale: a quarter of the memory traffic.
        x_val, y_val = to_model_inputs(images[val]), one_hot(labels[val])
        x, y = to_model_inputs(images[train]), one_hot(labels[train])
    else:
        x_val = y_val = None
        x, y = to_model_inputs(images), one_hot(labels)
    x_test = to_model_inputs(data.x_test)
    return PreparedData(x, y, x_val, y_val, x_test, one_hot(data.y_test))


@dataclass(frozen=True)
class Split:
    """A data set as the tensors a run reads: every training image scaled to [0, 1] and
    every label one-hot (`x_all`, `y_all`), which of them train and which validate (row
    numbers, `val_rows` None without a held-out part), and the test set. `batches` gathers a
    run's batches from `x_all` by row: the split is never copied out."""

    x_all: object
    y_all: object
    train_rows: object
    val_rows: object | None
    x_test: object
    y_test: object

    @property
    def train_count(self) -> int:
        return int(self.train_rows.shape[0])

    def as_images(self) -> Split:
        """The same split with each row seen as a (28, 28, 1) image (views, no copy)."""
        import tensorflow as tf  # TensorFlow: not at start-up

        return replace(
            self,
            x_all=tf.reshape(self.x_all, (-1, *IMAGE_SHAPE)),
            x_test=tf.reshape(self.x_test, (-1, *IMAGE_SHAPE)),
        )


class PreparedTensors:
    """The last data set prepared for training, kept as TensorFlow tensors for the next run.

    Turning MNIST's 60,000 images into [0, 1] rows and then into the tensors `fit` reads is a
    noticeable part of the wait for the first curve point (bench/latency.py), and a person
    trains again and again on the same data. One data set is kept (as float32: as much
    memory as a script that scales MNIST holds), scaled straight into memory the tensors
    share (`aligned_empty`, `as_tensor`); another data set replaces it. Tensors are never
    changed, so jobs on several threads share them.

    Each seed holds out its own validation part: a split is only its row numbers
    (`split_rows`), and the batches gather their rows from the whole set, so an experiment's
    runs of several seeds scale nothing anew. The batches of the latest split are kept too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: MNIST | None = None
        self._whole: tuple | None = None  # (x_all, y_all, x_test, y_test) of self._data
        self._key: tuple | None = None  # (validation_split, seed) of self._split
        self._split: Split | None = None
        self._batches: dict[tuple, tuple] = {}  # (batch size, images?) -> (train, validation)

    def split(self, data: MNIST, validation_split: float, seed: int) -> Split:
        """`data` as tensors, split for `seed` (made once, kept for the next run)."""
        import tensorflow as tf  # TensorFlow: not at start-up

        key = (float(validation_split), int(seed))
        with self._lock:  # one thread prepares; the others wait and share
            if self._data is not data:
                self._data = self._whole = self._key = self._split = None  # free the old set
                self._batches = {}
                self._whole = tuple(
                    as_tensor(x)
                    for x in (
                        to_model_inputs(data.x_train, empty=aligned_empty),
                        one_hot(data.y_train),
                        to_model_inputs(data.x_test, empty=aligned_empty),
                        one_hot(data.y_test),
                    )
                )
                self._data = data
            if self._key != key:
                train, val = training_rows(data, validation_split, seed)
                x_all, y_all, x_test, y_test = self._whole
                val_rows = tf.constant(val, tf.int64) if len(val) else None
                self._split = Split(
                    x_all, y_all, tf.constant(train, tf.int64), val_rows, x_test, y_test
                )
                self._key, self._batches = key, {}
            return self._split

    def batches(self, data: MNIST, spec: ModelSpec) -> tuple:
        """The training and validation batches `fit` reads for `spec` on `data` (validation
        None without a held-out part): `core.training.pipelines.batches` of `split`'s rows, made
        once for each batch size and input shape and kept with them (making them traces
        small functions, which pressing Train then no longer waits for).

        They are made under `spec.seed` (`core.runtime.seeding.seeded`): the seed fixes the order
        of the batches as it does in `fit`, even while another thread builds another seed's
        network.
        """
        kept = self.split(data, spec.validation_split, spec.seed)
        split = kept.as_images() if spec.is_convolutional else kept
        key = (spec.batch_size, spec.is_convolutional)
        with self._lock:  # `_batches` belongs to `_split`: another split empties it
            if self._split is kept and key in self._batches:
                return self._batches[key]
        with seeded(spec.seed):
            train = batches(
                split.x_all, split.y_all, spec.batch_size, shuffle=True, rows=split.train_rows
            )
            validation = None
            if split.val_rows is not None:
                validation = batches(
                    split.x_all, split.y_all, spec.batch_size, shuffle=False, rows=split.val_rows
                )
        with self._lock:
            if self._split is kept:
                self._batches[key] = (train, validation)
        return train, validation


PREPARED = PreparedTensors()
