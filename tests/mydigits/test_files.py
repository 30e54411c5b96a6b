"""My digits' files: IDX pairs and .npz files read back bit for bit, MNIST's own byte images
taken, and wrong or damaged files refused with a message naming them and what was expected."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.mydigits.files import (
    IMAGES_FILE,
    LABELS_FILE,
    read_idx,
    read_idx_pair,
    read_npz,
    read_upload,
    to_idx_pair,
    to_npz,
)
from core.mydigits.records import DigitSet, MyDigitsError
from tests.support.fuzz import fuzz

# Any float32 bits in [0, 1] (subnormals included); one pixel of each image is ink.
pixels = st.floats(0, 1, width=32, allow_subnormal=True)


@st.composite
def digit_sets(draw) -> DigitSet:
    n = draw(st.integers(1, 6))
    images = draw(hnp.arrays(np.float32, (n, 28, 28), elements=pixels))
    images[:, 14, 14] = np.maximum(images[:, 14, 14], np.float32(0.5))
    labels = draw(hnp.arrays(np.uint8, (n,), elements=st.integers(0, 9)))
    created = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0, 4e9)))
    return DigitSet(images, labels, created)


@fuzz(0.5)
@given(digit_sets())
def test_an_idx_pair_reads_back_bit_for_bit(digits):
    images, labels = to_idx_pair(digits)
    again = read_idx_pair(IMAGES_FILE, images, LABELS_FILE, labels)
    assert again.images.dtype == np.float32 and again.labels.dtype == np.uint8
    assert again.images.tobytes() == digits.images.tobytes()
    assert again.labels.tobytes() == digits.labels.tobytes()
    # Uploaded in either order, gzip-compressed or not
    swapped = read_upload([(LABELS_FILE, gzip.compress(labels)), (IMAGES_FILE, images)])
    assert swapped.images.tobytes() == digits.images.tobytes()


@fuzz(0.5)
@given(digit_sets())
def test_an_npz_reads_back_bit_for_bit(digits):
    again = read_upload([("mine.npz", to_npz(digits))])
    assert again.images.tobytes() == digits.images.tobytes()
    assert again.labels.tobytes() == digits.labels.tobytes()
    assert again.created.tobytes() == digits.created.tobytes()


def test_mnist_style_byte_images_are_taken_as_grey_levels():
    images = np.zeros((2, 28, 28), np.uint8)
    images[:, 10, 10] = [255, 51]
    buffer = io.BytesIO()
    np.savez(buffer, x_train=images, y_train=np.array([3, 4], np.uint8))
    digits = read_npz("class.npz", buffer.getvalue())
    assert digits.images.dtype == np.float32
    assert digits.images[:, 10, 10].tolist() == [1.0, np.float32(51) / np.float32(255)]
    assert digits.labels.tolist() == [3, 4]


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


INK = np.full((3, 28, 28), 0.5, np.float32)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            npz(x=np.full((3, 32, 32), 0.5, np.float32), y=np.zeros(3, np.uint8)),
            r"expected \(N, 28, 28\)",
        ),
        (
            npz(x=np.full((3, 784), 0.5, np.float32), y=np.zeros(3, np.uint8)),
            r"expected \(N, 28, 28\)",
        ),
        (npz(x=INK, y=np.zeros(4, np.uint8)), r"expected \(3,\), one digit per image"),
        (npz(x=INK, y=np.full(3, 10)), "not digits 0 to 9"),
        (npz(x=INK * 3, y=np.zeros(3, np.uint8)), "outside 0 to 1"),
        (npz(images=INK, labels=np.zeros(3, np.uint8)), "expected x_test and y_test"),
        (npz(x=np.zeros((3, 28, 28), np.float32), y=np.zeros(3, np.uint8)), "blank image"),
        (b"PK\x03\x04 cut short", "not a readable .npz"),
        (b"hello", "not an .npz file"),
    ],
)
def test_a_wrong_npz_says_what_was_expected_and_names_the_file(data, message):
    with pytest.raises(MyDigitsError, match=message) as raised:
        read_upload([("class-7b.npz", data)])
    assert "class-7b.npz" in str(raised.value)


def test_a_truncated_idx_file_is_named():
    images, labels = to_idx_pair(DigitSet(INK, np.zeros(3, np.uint8)))
    with pytest.raises(MyDigitsError, match="images-idx3.*Is it whole"):
        read_upload([("images-idx3", images[:-5]), ("labels-idx1", labels)])
    with pytest.raises(MyDigitsError, match="4 labels; expected one label per image"):
        read_idx_pair(
            "images-idx3",
            images,
            "labels-idx1",
            to_idx_pair(DigitSet(INK[:1].repeat(4, 0), np.zeros(4, np.uint8)))[1],
        )


@fuzz()
@given(st.binary(max_size=300), st.booleans())
def test_any_bytes_give_digits_or_a_short_message_naming_the_file(data, as_npz):
    name = "upload.npz" if as_npz else "upload-idx"
    body = b"PK\x03\x04" + data if as_npz and data[:1] == b"\x00" else data
    try:
        if as_npz:
            digits = read_npz(name, body)
        else:
            array = read_idx(name, body)
            assert array.ndim in (1, 2, 3)
            return
    except MyDigitsError as error:
        message = str(error)
        assert name in message and "\n" not in message and len(message) < 400, message
        return
    assert digits.images.shape[1:] == (28, 28)


@fuzz()
@given(st.binary(min_size=1, max_size=2000), st.integers(0, 2000))
def test_a_damaged_export_gives_a_message_naming_it(noise, where):
    data = bytearray(to_npz(DigitSet(INK, np.array([1, 2, 3], np.uint8))))
    where %= len(data)
    data[where : where + len(noise)] = noise
    try:
        digits = read_npz("ours.npz", bytes(data))
    except MyDigitsError as error:
        assert "ours.npz" in str(error)
        return
    assert digits.images.shape[1:] == (28, 28) and len(digits) == len(digits.images)
