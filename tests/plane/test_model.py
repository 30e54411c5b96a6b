"""core.plane.model: the network from the spec, its penalty, and every unit over the plane
against a forward pass written in numpy."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from core.plane.model import (
    _probe,
    build_plane_model,
    grid_axis,
    grid_points,
    model_dense_layers,
    predict_boundary,
    predict_corners,
    prediction_rows,
)
from core.plane.spec import PlaneSpec

ACTIVATIONS = {
    "relu": lambda h: np.maximum(h, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h)),
    "linear": lambda h: h,
}


def numpy_features(points: np.ndarray, names: list[str]) -> np.ndarray:
    x1, x2 = points[:, 0].astype("float64"), points[:, 1].astype("float64")
    table = {
        "x1": x1,
        "x2": x2,
        "x1_squared": x1 * x1,
        "x2_squared": x2 * x2,
        "x1_times_x2": x1 * x2,
        "sin_x1": np.sin(x1),
        "sin_x2": np.sin(x2),
    }
    return np.column_stack([table[name] for name in names])


def numpy_forward(model, spec: PlaneSpec, points: np.ndarray) -> list[np.ndarray]:
    """Features, each hidden layer after its activation, and the output, from the weights."""
    h = numpy_features(points, spec.features)
    layers = [h]
    for layer, activation in zip(model_dense_layers(model)[:-1], spec.activations, strict=True):
        h = ACTIVATIONS[activation](h @ np.asarray(layer.kernel) + np.asarray(layer.bias))
        layers.append(h)
    out = model_dense_layers(model)[-1]
    z = h @ np.asarray(out.kernel) + np.asarray(out.bias)
    if z.shape[1] == 1:
        layers.append(1.0 / (1.0 + np.exp(-z)))
    else:
        e = np.exp(z - z.max(1, keepdims=True))
        layers.append(e / e.sum(1, keepdims=True))
    return layers


def test_shape_follows_the_spec():
    spec = PlaneSpec(hidden_layers=3, units_1=4, units_2=3, units_3=2, x1_squared=True)
    model = build_plane_model(spec)
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4, 3), (3,), (3, 2), (2,), (2, 1), (1,)]
    assert build_plane_model(PlaneSpec(hidden_layers=0)).count_params() == 3
    blobs = build_plane_model(PlaneSpec(data="blobs", classes=5, loss="crossentropy"))
    assert blobs.output_shape == (None, 5)
    assert blobs.loss.name == "categorical_crossentropy"
    with_dropout = build_plane_model(PlaneSpec(hidden_layers=2, dropout=0.3))
    assert [layer.name for layer in with_dropout.layers if "dropout" in layer.name] == [
        "dropout_1",
        "dropout_2",
    ]


def test_the_seed_alone_fixes_the_starting_weights():
    first = build_plane_model(PlaneSpec(seed=4, hidden_layers=2)).get_weights()

    keras.utils.set_random_seed(999)  # global state must not matter
    again = build_plane_model(PlaneSpec(seed=4, hidden_layers=2)).get_weights()
    other = build_plane_model(PlaneSpec(seed=5, hidden_layers=2)).get_weights()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularisation_penalty_is_keras_own(kind):
    spec = PlaneSpec(hidden_layers=2, regularization=kind, regularization_rate=0.03)
    model = build_plane_model(spec)
    kernels = [np.asarray(layer.kernel, "float64") for layer in model_dense_layers(model)]
    by_hand = 0.03 * sum((np.abs(k).sum() if kind == "l1" else (k * k).sum()) for k in kernels)
    keras_own = keras.regularizers.L1(0.03) if kind == "l1" else keras.regularizers.L2(0.03)
    by_keras = sum(float(keras_own(k)) for k in kernels)
    assert float(sum(model.losses)) == pytest.approx(by_hand, rel=1e-5)
    assert by_hand == pytest.approx(by_keras, rel=1e-5)
    assert not build_plane_model(PlaneSpec(regularization=kind)).losses  # rate 0: none


@pytest.mark.parametrize(
    "spec",
    [
        PlaneSpec(seed=1),
        PlaneSpec(
            data="circle",
            hidden_layers=3,
            units_1=5,
            activation_2="tanh",
            activation_3="sigmoid",
            x1_squared=True,
            x1_times_x2=True,
            sin_x2=True,
            dropout=0.4,  # dropout is off when predicting
        ),
        PlaneSpec(data="blobs", classes=4, hidden_layers=2, activation_1="linear", x2=False),
    ],
)
def test_every_unit_over_the_plane_matches_a_numpy_forward_pass(spec):
    model = build_plane_model(spec)
    axis = grid_axis(-6, 6, 21)
    view = predict_boundary(model, axis, epoch=3, unit_resolution=11)
    assert view.epoch == 3 and len(view.units) == 1 + spec.hidden_layers
    by_hand = numpy_forward(model, spec, grid_points(view.unit_axis))
    for layer, (ours, theirs) in enumerate(zip(view.units, by_hand[:-1], strict=True)):
        width = theirs.shape[1]
        assert ours.shape == (width, 11, 11), layer
        # unit u's square: row i is x2 = unit_axis[i], column j is x1 = unit_axis[j]
        np.testing.assert_allclose(ours, theirs.T.reshape(width, 11, 11), rtol=1e-4, atol=1e-5)
    output = numpy_forward(model, spec, grid_points(axis))[-1]
    expected = output[:, 0].reshape(21, 21) if spec.outputs == 1 else output.reshape(21, 21, -1)
    np.testing.assert_allclose(view.z, expected, rtol=1e-4, atol=1e-5)
    kernels = [k for k, _ in view.weights]
    assert [k.shape for k in kernels] == [w.shape for w in model.get_weights()[::2]]
    assert view.n_classes == spec.n_classes
    np.testing.assert_array_equal(
        view.classes(), np.argmax(expected, 2) if expected.ndim == 3 else expected >= 0.5
    )


def test_the_probe_is_built_once_beside_the_network_and_goes_with_it():
    model = build_plane_model(PlaneSpec(seed=3, hidden_layers=2))
    layers, variables = len(model.layers), len(model.variables)
    predict_boundary(model, grid_axis(-6, 6, 5))
    probe = _probe(model)
    predict_boundary(model, grid_axis(-6, 6, 5))
    assert _probe(model) is probe  # built once for the network
    # Nothing added to the network, whose layers and variables Keras counts and saves.
    assert len(model.layers) == layers and len(model.variables) == variables
    assert not [name for name in vars(model) if "probe" in name]
    network = weakref.ref(model)
    del model, probe
    gc.collect()
    assert network() is None  # the probe does not keep its network alive


def test_corners_and_the_printout():
    model = build_plane_model(PlaneSpec(seed=2))
    corners = predict_corners(model)
    by_hand = numpy_forward(model, PlaneSpec(seed=2), np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
    np.testing.assert_allclose(corners, by_hand[-1][:, 0], rtol=1e-5)
    rows = prediction_rows(np.array([0.49, 0.5, 0.9, 0.7]))
    assert [row["rounded"] for row in rows] == [0, 1, 1, 1]
    assert [row["right?"] for row in rows] == ["✓", "✓", "✓", "✗"]
    assert [row["input"] for row in rows] == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
    assert all(row["raw output"] is None for row in prediction_rows(None))
    assert all(row["raw output"] is None for row in prediction_rows(np.ones((4, 3)) / 3))
