"""core/plane_features: each feature column against numpy written out by hand."""

from __future__ import annotations

import numpy as np

from core.plane.features import feature_columns, make_feature_layer
from core.plane.spec import FEATURES

POINTS = np.random.default_rng(0).uniform(-6, 6, size=(50, 2)).astype("float32")


def by_hand(name: str) -> np.ndarray:
    x1, x2 = POINTS[:, 0].astype("float64"), POINTS[:, 1].astype("float64")
    return {
        "x1": x1,
        "x2": x2,
        "x1_squared": x1**2,
        "x2_squared": x2**2,
        "x1_times_x2": x1 * x2,
        "sin_x1": np.sin(x1),
        "sin_x2": np.sin(x2),
    }[name]


def test_each_column_is_its_formula():
    names = list(FEATURES)
    columns = feature_columns(POINTS, names)
    assert columns.shape == (50, 7)
    for i, name in enumerate(names):
        np.testing.assert_allclose(columns[:, i], by_hand(name), rtol=1e-6, atol=1e-6)


def test_the_keras_layer_gives_the_same_columns_in_the_chosen_order():
    for names in (["sin_x2", "x1"], ["x1", "x2"], list(FEATURES)):
        layer = make_feature_layer(names)
        out = np.asarray(layer(POINTS))
        assert out.shape == (50, len(names))
        np.testing.assert_allclose(out, feature_columns(POINTS, names), rtol=1e-5, atol=1e-5)
