"""The Inspector's layers and activations against a numpy forward pass of the same weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from core.inside.activations import Inspector, ModelChainError, layer_chain
from core.inside.records import strongest_units
from core.nets.model import ModelSpec, build_model
from core.nets.model_files import standard_form


def _weights(layer) -> list[np.ndarray]:
    return [np.asarray(w) for w in layer.get_weights()]


def _images(n: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)


def _numpy_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 'valid', stride-1 convolution of one (h, w, c) map, written with explicit windows."""
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(0, 1))  # h', w', c, k, k
    return np.einsum("hwcij,ijcf->hwf", windows, kernel) + bias


def _numpy_pool(x: np.ndarray, size: int = 2) -> np.ndarray:
    h, w, c = x.shape
    h, w = h // size, w // size
    return x[: h * size, : w * size].reshape(h, size, w, size, c).max(axis=(1, 3))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.fixture(scope="module")
def dense_model():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(16, activation="relu", name="first"),
            layers.Dropout(0.5),
            layers.Dense(8, activation="tanh", name="second"),
            layers.Dense(10, activation="softmax", name="out"),
        ]
    )


@pytest.fixture(scope="module")
def conv_model():
    """A small conv network taking (28, 28, 1), wrapped as stored runs are: (N, 784) in."""
    keras.utils.set_random_seed(2)
    inner = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(4, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(),
            layers.Dense(6, activation="relu", name="hidden"),
            layers.Dense(10, activation="softmax", name="out"),
        ]
    )
    model, added_softmax = standard_form(inner)
    assert not added_softmax and model is not inner  # the nested form the pages get
    return model


def test_dense_activations_match_numpy(dense_model):
    inspector = Inspector(dense_model)
    assert [info.name for info in inspector.layers] == ["first", "second"]  # no dropout, no output
    w1, b1 = _weights(dense_model.get_layer("first"))
    w2, b2 = _weights(dense_model.get_layer("second"))
    w3, b3 = _weights(dense_model.get_layer("out"))
    for image in _images():
        x = image.reshape(784)
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.tanh(h1 @ w2 + b2)
        p = _softmax(h2 @ w3 + b3)
        result = inspector.activations(image)
        np.testing.assert_allclose(result.outputs[0], h1, atol=1e-5)
        np.testing.assert_allclose(result.outputs[1], h2, atol=1e-5)
        np.testing.assert_allclose(result.probabilities, p, atol=1e-6)


def test_nested_conv_activations_match_numpy(conv_model):
    inspector = Inspector(conv_model)
    assert [(i.kind, i.shape) for i in inspector.layers] == [
        ("Conv2D", (26, 26, 4)),
        ("MaxPooling2D", (13, 13, 4)),
        ("Dense", (6,)),
    ]
    inner = conv_model.layers[-1]
    kernel, bias = _weights(inner.get_layer("conv"))
    w_hidden, b_hidden = _weights(inner.get_layer("hidden"))
    w_out, b_out = _weights(inner.get_layer("out"))
    for image in _images(2, seed=5):
        conv = np.maximum(_numpy_conv(image[:, :, None], kernel, bias), 0)
        pooled = _numpy_pool(conv)
        hidden = np.maximum(pooled.reshape(-1) @ w_hidden + b_hidden, 0)
        result = inspector.activations(image)
        np.testing.assert_allclose(result.outputs[0], conv, atol=1e-4)
        np.testing.assert_allclose(result.outputs[1], pooled, atol=1e-4)
        np.testing.assert_allclose(result.outputs[2], hidden, atol=1e-4)
        np.testing.assert_allclose(
            result.probabilities, _softmax(hidden @ w_out + b_out), atol=1e-5
        )


def test_model_built_from_a_conv_spec_shows_its_layers():
    spec = ModelSpec(
        layers=[
            {"type": "Conv2D", "filters": 3, "kernel_size": 5, "activation": "relu"},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "BatchNormalization"},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dense", "units": 7, "activation": "sigmoid"},
        ]
    )
    model = build_model(spec)
    inspector = Inspector(model)
    assert [i.kind for i in inspector.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "BatchNormalization",
        "GlobalAveragePooling2D",
        "Dense",
    ]
    assert inspector.layers[0].shape == (24, 24, 3)
    assert inspector.layers[-1].activation == "sigmoid"
    image = _images(1)[0]
    expected = np.asarray(model(image.reshape(1, 28, 28, 1), training=False))[0]
    np.testing.assert_allclose(inspector.activations(image).probabilities, expected, atol=1e-6)


def test_a_branching_model_is_refused():
    inputs = keras.Input((784,))
    hidden = layers.Dense(784, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(layers.Add()([inputs, hidden]))
    with pytest.raises(ModelChainError, match="not a plain chain"):
        Inspector(keras.Model(inputs, outputs))


def test_layer_chain_opens_nested_models(conv_model):
    names = [layer.__class__.__name__ for layer in layer_chain(conv_model)]
    assert names == ["Reshape", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]


def test_unit_templates_are_first_layer_weights(dense_model, conv_model):
    dense = Inspector(dense_model)
    w1, _ = _weights(dense_model.get_layer("first"))
    np.testing.assert_array_equal(dense.unit_template(dense.layers[0], 5), w1[:, 5].reshape(28, 28))
    assert dense.unit_template(dense.layers[1], 0) is None  # deeper units have no pixel image
    conv = Inspector(conv_model)
    kernel, _ = _weights(conv_model.layers[-1].get_layer("conv"))
    np.testing.assert_array_equal(conv.unit_template(conv.layers[0], 2), kernel[:, :, 0, 2])
    assert conv.unit_template(conv.layers[2], 0) is None


def test_strongest_units_are_the_largest_first():
    output = np.array([0.1, 3.0, -1.0, 2.0, 2.5, 0.0], dtype=np.float32)
    assert strongest_units(output, 3).tolist() == [1, 4, 3]
    maps = np.zeros((4, 4, 3), dtype=np.float32)
    maps[1, 2, 0], maps[3, 3, 2], maps[0, 0, 1] = 5.0, 7.0, 1.0
    assert strongest_units(maps, 2).tolist() == [2, 0]
    assert strongest_units(output, 10).shape == (6,)


def test_uint8_and_float_images_give_the_same_input(dense_model):
    inspector = Inspector(dense_model)
    pixels = np.random.default_rng(3).integers(0, 256, (2, 28, 28)).astype(np.uint8)
    np.testing.assert_allclose(
        inspector.model_input(pixels), pixels.reshape(2, 784).astype(np.float32) / 255, rtol=1e-6
    )
