"""Fuzzing the IDX reader: whatever a file holds (any header, any body, gzip-compressed or not)
gives a DataError with a short message, or an array of exactly the shape its header states."""

from __future__ import annotations

import gzip
import math
import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.mnist.data import DataError, read_idx
from tests.support.fuzz import fuzz


def headers():
    """An IDX header: mostly well-formed magic bytes, any number of dimensions of any size,
    their count in the header mostly the number of sizes that follow."""
    sizes = st.lists(
        st.one_of(
            st.integers(0, 30),
            st.sampled_from([1, 65536, 2**31, 2**32 - 1]),
            st.integers(0, 2**32 - 1),
        ),
        max_size=80,
    )
    return st.builds(
        lambda zeros, code, sizes, ndim: (
            zeros
            + bytes([code, len(sizes) if ndim is None else ndim])
            + b"".join(struct.pack(">I", size) for size in sizes)
        ),
        st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x1f\x8b"]),
        st.sampled_from([0x08, 0x08, 0x09, 0x0D]),
        sizes,
        st.one_of(st.none(), st.integers(0, 255)),
    )


files = st.one_of(
    st.tuples(headers(), st.binary(max_size=400)).map(lambda parts: parts[0] + parts[1]),
    st.binary(max_size=64),
)


@fuzz()
@given(files, st.booleans())
def test_any_file_gives_an_array_of_its_stated_shape_or_a_data_error(tmp_path_factory, data, gz):
    path = tmp_path_factory.mktemp("idx") / "file-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        array = read_idx(path)
    except DataError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 400, message
        return
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    assert array.dtype == np.uint8 and array.shape == shape
    assert 4 + 4 * ndim + math.prod(shape) == len(data)
