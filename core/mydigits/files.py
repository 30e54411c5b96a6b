"""My digits as files to share: an IDX pair (as MNIST's own files) or a Keras-style .npz.

Export writes the images exactly as kept, float32 in [0, 1] (IDX type 0x0D, big-endian, or the
.npz's `x_test`), so a file read back gives the same bits; the labels are unsigned bytes. Import
also takes MNIST's unsigned-byte images (0-255) and an .npz's `x`/`y` or `x_train`/`y_train`.
Every reader takes a file's name and bytes (an upload) and raises `MyDigitsError` naming the
file and saying what is wrong, or what shape was expected; it never touches the store.
"""

from __future__ import annotations

import gzip
import io
import math
import zlib

import numpy as np

from core.mydigits.records import SIDE, DigitSet, MyDigitsError

IMAGES_FILE = "mydigits-images-idx3-float"
LABELS_FILE = "mydigits-labels-idx1-ubyte"
NPZ_FILE = "mydigits.npz"
UBYTE, FLOAT = 0x08, 0x0D
IDX_TYPES = {UBYTE: np.dtype(">u1"), FLOAT: np.dtype(">f4")}
NPZ_PAIRS = (("x_test", "y_test"), ("x", "y"), ("x_train", "y_train"))
EXPECTED_IMAGES = f"(N, {SIDE}, {SIDE}) images"


def _idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def to_idx_pair(digits: DigitSet) -> tuple[bytes, bytes]:
    """(images, labels) as IDX files: float32 images (N, 28, 28), unsigned-byte labels (N,)."""
    return _idx_bytes(digits.images, FLOAT), _idx_bytes(digits.labels, UBYTE)


def to_npz(digits: DigitSet) -> bytes:
    """A compressed .npz with `x_test` (N, 28, 28) float32, `y_test` (N,) uint8, `created`
    (seconds since the epoch) and, when every digit has one, `canvases` (N, H, W, 4) uint8."""
    arrays = {"x_test": digits.images, "y_test": digits.labels}
    if digits.created is not None:
        arrays["created"] = digits.created
    if digits.canvases is not None:
        arrays["canvases"] = digits.canvases
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _unzipped(name: str, data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise MyDigitsError(f"{name} is a gzip file that does not decompress ({error}).") from error


def read_idx(name: str, data: bytes) -> np.ndarray:
    """One IDX file (gzip-compressed or not) of unsigned bytes or float32, as an array of the
    shape its header states."""
    data = _unzipped(name, data)
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise MyDigitsError(f"{name} is not an IDX file (it does not start with two zero bytes).")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise MyDigitsError(
            f"{name} holds IDX type {code:#04x}; My digits reads unsigned bytes (0x08) or "
            "float32 (0x0D)."
        )
    header = 4 + 4 * ndim
    if ndim == 0 or ndim > 3 or len(data) < header:
        raise MyDigitsError(f"{name} has a broken IDX header ({ndim} dimensions).")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape) * IDX_TYPES[code].itemsize
    if len(data) - header != expected:
        raise MyDigitsError(
            f"{name} holds {len(data) - header:,} bytes after its header, but its header "
            f"promises {'x'.join(map(str, shape))} values = {expected:,} bytes. Is it whole?"
        )
    return np.frombuffer(data, IDX_TYPES[code], offset=header).reshape(shape)


def checked_set(images: np.ndarray, labels: np.ndarray, name: str) -> DigitSet:
    """`images` and `labels` from file `name` as a `DigitSet`, or a `MyDigitsError` saying what
    was expected."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise MyDigitsError(
            f"{name} holds images of shape {images.shape}; expected {EXPECTED_IMAGES}."
        )
    if labels.shape != (len(images),):
        raise MyDigitsError(
            f"{name} holds labels of shape {labels.shape}; expected ({len(images)},), one digit "
            "per image."
        )
    if not len(images):
        raise MyDigitsError(f"{name} holds no digits.")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255)
    elif images.dtype.kind != "f":
        raise MyDigitsError(
            f"{name} holds images of type {images.dtype}; expected float32 in [0, 1] or 0-255 "
            "unsigned bytes."
        )
    images = images.astype(np.float32)
    if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
        raise MyDigitsError(f"{name} holds pixels outside 0 to 1; expected grey levels in [0, 1].")
    blank = np.flatnonzero(~images.reshape(len(images), -1).any(axis=1))
    if len(blank):
        raise MyDigitsError(f"{name} holds a blank image (number {blank[0]}); nothing was kept.")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise MyDigitsError(f"{name} holds labels that are not digits 0 to 9.")
    return DigitSet(images=images, labels=labels.astype(np.uint8))


def read_idx_pair(
    images_name: str, images_data: bytes, labels_name: str, labels_data: bytes
) -> DigitSet:
    """The digits of an IDX images file and its labels file."""
    images = read_idx(images_name, images_data)
    labels = read_idx(labels_name, labels_data)
    if labels.ndim != 1:
        raise MyDigitsError(
            f"{labels_name} holds {'x'.join(map(str, labels.shape))} values; expected one "
            "label per image, (N,). Are the two files swapped?"
        )
    if len(labels) != len(images):
        raise MyDigitsError(
            f"{images_name} holds {len(images):,} images but {labels_name} {len(labels):,} "
            "labels; expected one label per image."
        )
    return checked_set(images, labels.astype(np.uint8), images_name)


def read_npz(name: str, data: bytes) -> DigitSet:
    """The digits of an .npz: `x_test`/`y_test` (as exported), `x`/`y` or `x_train`/`y_train`,
    with `created` and `canvases` if it has them."""
    if not data.startswith(b"PK"):
        raise MyDigitsError(f"{name} is not an .npz file (an .npz is a zip archive of arrays).")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            pair = next((p for p in NPZ_PAIRS if set(p) <= set(npz.files)), None)
            if pair is None:
                raise MyDigitsError(
                    f"{name} has arrays {sorted(npz.files)}; expected x_test and y_test (or x "
                    "and y, or x_train and y_train)."
                )
            arrays = {
                key: np.asarray(npz[key])
                for key in (*pair, "created", "canvases")
                if key in npz.files
            }
    except MyDigitsError:
        raise
    # numpy's reader lets a damaged archive's error through as it finds it: zipfile's, zlib's,
    # even tokenize's (a broken array header); any of them means the file cannot be read.
    except Exception as error:  # noqa: BLE001
        raise MyDigitsError(f"{name} is not a readable .npz file ({error}).") from error
    digits = checked_set(arrays[pair[0]], arrays[pair[1]], name)
    created = arrays.get("created")
    canvases = arrays.get("canvases")
    if created is not None and created.shape != (len(digits),):
        raise MyDigitsError(
            f"{name}'s created has shape {created.shape}; expected ({len(digits)},)."
        )
    if canvases is not None and (
        canvases.dtype != np.uint8
        or canvases.ndim != 4
        or canvases.shape[0] != len(digits)
        or canvases.shape[3] != 4
    ):
        raise MyDigitsError(
            f"{name}'s canvases have shape {canvases.shape}; expected ({len(digits)}, H, W, 4) "
            "unsigned bytes."
        )
    return DigitSet(digits.images, digits.labels, created, canvases)


def read_upload(files: list[tuple[str, bytes]]) -> DigitSet:
    """The digits of uploaded files: one .npz, or an IDX pair (told apart by the labels file
    having one dimension)."""
    if len(files) == 1 and files[0][0].lower().endswith(".npz"):
        return read_npz(*files[0])
    if len(files) != 2:
        raise MyDigitsError(
            "Upload one .npz file, or two IDX files (the images and the labels) together."
        )
    (first, first_data), (second, second_data) = files
    if read_idx(first, first_data).ndim == 1:  # the labels came first
        return read_idx_pair(second, second_data, first, first_data)
    return read_idx_pair(first, first_data, second, second_data)
