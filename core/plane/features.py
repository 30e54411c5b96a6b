"""The input features, as in TensorFlow Playground: x1, x2, x1², x2², x1·x2, sin(x1), sin(x2).

The network's input is always the point (x1, x2); its first layer, `PlaneFeatures`, turns it
into the chosen feature columns, so the grid, the four XOR inputs and the data all go through
the same code. `feature_columns` is the same table in numpy, for drawing each feature over the
plane.
"""

from __future__ import annotations

import numpy as np

from core.plane.spec import FEATURES

NUMPY_FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_squared": lambda x1, x2: x1 * x1,
    "x2_squared": lambda x1, x2: x2 * x2,
    "x1_times_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}
assert set(NUMPY_FEATURES) == set(FEATURES)


def feature_columns(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The named features of each point (n, 2) as columns (n, len(names)), float32."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.column_stack([NUMPY_FEATURES[name](x1, x2) for name in names]).astype("float32")


def make_feature_layer(names: list[str]):
    """A Keras layer mapping points (n, 2) to the named feature columns (n, len(names))."""
    import keras  # Keras: not at start-up
    from keras import ops  # Keras: not at start-up

    table = {
        "x1": lambda x1, x2: x1,
        "x2": lambda x1, x2: x2,
        "x1_squared": lambda x1, x2: x1 * x1,
        "x2_squared": lambda x1, x2: x2 * x2,
        "x1_times_x2": lambda x1, x2: x1 * x2,
        "sin_x1": lambda x1, x2: ops.sin(x1),
        "sin_x2": lambda x1, x2: ops.sin(x2),
    }

    class PlaneFeatures(keras.layers.Layer):
        """Points (n, 2) to feature columns; no weights."""

        def __init__(self, features: list[str], **kwargs) -> None:
            super().__init__(**kwargs)
            unknown = [name for name in features if name not in table]
            if unknown or not features:
                raise ValueError(f"features {features}: choose one or more of {', '.join(table)}.")
            self.features = list(features)

        def call(self, points):
            x1, x2 = points[:, 0:1], points[:, 1:2]
            if self.features == ["x1", "x2"]:
                return points
            return ops.concatenate([table[name](x1, x2) for name in self.features], axis=1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], len(self.features))

        def get_config(self):
            return {**super().get_config(), "features": self.features}

    return PlaneFeatures(names, name="features")
