"""A model's outputs for a few inputs, for tests that compare two models' answers.

    from tests.support.models import outputs_of
    np.testing.assert_allclose(outputs_of(loaded, x), outputs_of(model, x))

One call of the model in inference mode (training=False, as `predict` calls it), on the inputs
as float32 (as `predict` feeds them): the same answers as `model.predict(x)` for a handful of
inputs, without `predict` tracing a function of its own for every new model it is given.
"""

from __future__ import annotations

import numpy as np


def outputs_of(model, x) -> np.ndarray:
    """`model`'s outputs for the batch `x`, as a NumPy array."""
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False))
