"""Fuzzing the canvas's paths (core.mnist.strokes): whatever `json_data` the browser sends
beside the drawing (any JSON, or the canvas's own objects with any values in them), the Draw
page gets a 28x28 digit in [0, 1] or None, never an exception."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.mnist.strokes import paths_to_mnist
from tests.support.canvas_paths import fabric
from tests.support.drawings import render
from tests.support.fuzz import fuzz

STROKE = [(90, 40), (190, 40), (150, 150), (120, 250)]  # a 7, on the 280 px canvas
IMAGE = render([np.asarray(STROKE, dtype=float)], 18)

json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.floats(-400, 700),
)
commands = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["M", "L", "Q", "C", "Z", "A", "m"]), st.lists(numbers, max_size=7)
        ).map(lambda c: [c[0], *c[1]]),
        json_values,
    ),
    max_size=12,
)


def canvases():
    """The canvas's own json_data for the 7 above, with fields replaced by anything."""
    fields = st.dictionaries(
        st.sampled_from(
            ["type", "strokeWidth", "scaleX", "scaleY", "angle", "skewX", "flipX", "path"]
        ),
        st.one_of(json_values, numbers, commands),
        max_size=3,
    )
    return fields.map(lambda changes: fabric(STROKE, pen=18, **changes))


@fuzz()
@given(st.one_of(json_values, canvases(), commands.map(lambda p: fabric(STROKE, path=p))))
def test_any_json_data_gives_a_digit_or_none(json_data):
    digit = paths_to_mnist(IMAGE, json_data)
    if digit is not None:
        assert digit.shape == (28, 28)
        assert np.isfinite(digit).all()
        assert digit.min() >= 0.0 and digit.max() <= 1.0
