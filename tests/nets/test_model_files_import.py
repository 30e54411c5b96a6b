"""Model files accepted: an imported MLP or CNN becomes a run with its spec, a model the builder
cannot express imports without one, an image model giving scores is stored as 784 in and
probabilities out, and each model gets inputs of its own shape."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from core.mnist.data import to_model_inputs
from core.nets.model import ModelSpec, build_model
from core.nets.spec_from_model import model_input_shape
from core.runs.store import RunStore
from tests.support.models import outputs_of
from tests.support.runs import leftovers, model_bytes, tiny_model
from tests.support.specs import small_spec


def test_an_imported_mlp_becomes_a_run_with_its_spec(tmp_path):
    store = RunStore(tmp_path / "home")
    model = tiny_model()
    run_id = store.import_model(model_bytes(model, tmp_path, "mlp.keras"), "mlp.keras")
    run = store.get(run_id)
    assert run.status == "imported" and run.name == "mlp (imported) #1"
    assert run.architecture == "784-6-10"
    assert run.spec_dict == {
        "layers": [
            {"type": "Dense", "units": 6, "activation": "relu"},
            {"type": "Dropout", "rate": 0.25},
        ],
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "loss": "categorical_crossentropy",
    }
    assert run.spec.dense_units() == [6] and run.spec.optimizer == "sgd"
    x = np.random.default_rng(2).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(
        outputs_of(store.load_model(run_id), x), outputs_of(model, x), rtol=1e-6
    )
    assert leftovers(store) == []


def test_an_imported_image_model_giving_scores_is_stored_as_784_in_probabilities_out(tmp_path):
    store = RunStore(tmp_path / "home")
    model = tiny_model((28, 28, 1), activation="linear")
    run_id = store.import_model(model_bytes(model, tmp_path, "cnn.h5"), "cnn.h5", name="mine")
    run = store.get(run_id)
    assert run.name == "mine" and run.spec is None
    assert run.architecture == "Flatten-Dense-Dropout-Dense"
    assert "softmax was added" in run.message
    stored = store.load_model(run_id)
    assert model_input_shape(stored) == (784,)
    images = np.random.default_rng(3).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    scores = model.predict(images.reshape(4, 28, 28, 1) / 255.0, verbose=0).astype(np.float64)
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    got = stored.predict(to_model_inputs(images, model_input_shape(stored)), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_each_model_gets_inputs_of_its_own_shape():
    images = np.full((2, 28, 28), 255, np.uint8)
    for shape in [(784,), (28, 28), (28, 28, 1)]:
        model = SimpleNamespace(inputs=[SimpleNamespace(shape=(None, *shape))])
        assert model_input_shape(model) == shape
        prepared = to_model_inputs(images, model_input_shape(model))
        assert prepared.shape == (2, *shape) and prepared.dtype == np.float32
        assert prepared.max() == 1.0


def conv_model(input_shape=(28, 28, 1), dilation=1):
    keras.utils.set_random_seed(1)
    layers = [keras.Input(input_shape)]
    if input_shape == (784,):
        layers.append(keras.layers.Reshape((28, 28, 1)))
    layers += [
        keras.layers.Conv2D(4, 3, activation="relu", dilation_rate=dilation),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(8, (5, 5), padding="same", activation="tanh"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.002), loss="categorical_crossentropy"
    )
    return model


CONV_LAYERS = [
    {
        "type": "Conv2D",
        "filters": 4,
        "kernel_size": 3,
        "strides": 1,
        "padding": "valid",
        "activation": "relu",
    },
    {"type": "BatchNormalization"},
    {"type": "MaxPooling2D", "pool_size": 2, "strides": 2},
    {
        "type": "Conv2D",
        "filters": 8,
        "kernel_size": 5,
        "strides": 1,
        "padding": "same",
        "activation": "tanh",
    },
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dropout", "rate": 0.3},
]


@pytest.mark.parametrize("input_shape", [(28, 28, 1), (784,)], ids=["image", "rows-reshaped"])
def test_an_imported_cnn_becomes_a_first_class_run_with_its_spec(tmp_path, input_shape):
    store = RunStore(tmp_path / "home")
    model = conv_model(input_shape)
    run_id = store.import_model(model_bytes(model, tmp_path, "cnn.keras"), "cnn.keras")
    run = store.get(run_id)
    assert run.spec_dict["layers"] == CONV_LAYERS
    assert (run.spec_dict["optimizer"], run.spec_dict["learning_rate"]) == ("adam", 0.002)
    assert run.spec == ModelSpec(layers=CONV_LAYERS, optimizer="adam", learning_rate=0.002)
    assert run.architecture == run.spec.architecture() == "28x28-4C3-BN-P2-8C5p-GAP-10"
    assert build_model(run.spec).count_params() == model.count_params()  # retrainable as is
    images = np.random.default_rng(4).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    stored = store.load_model(run_id)
    np.testing.assert_allclose(
        outputs_of(stored, to_model_inputs(images, model_input_shape(stored))),
        outputs_of(model, to_model_inputs(images, model_input_shape(model))),
        rtol=1e-5,
    )


def test_a_cnn_the_builder_cannot_express_imports_without_a_spec(tmp_path):
    store = RunStore(tmp_path / "home")
    model = conv_model(dilation=2)
    run = store.get(store.import_model(model_bytes(model, tmp_path, "dilated.keras"), "d.keras"))
    assert run.spec is None and run.spec_dict is None
    assert run.architecture.startswith("Conv2D-BatchNormalization-MaxPooling2D-Conv2D")


def test_a_model_saved_from_the_apps_own_builder_imports(tmp_path):
    """build_model makes a Functional model, whose config carries registered_name "Functional";
    it is Keras's own class and must import like a Sequential one."""
    spec = small_spec(epochs=1)
    model = build_model(spec)
    store = RunStore(tmp_path / "home")
    run_id = store.import_model(model_bytes(model, tmp_path, "built.keras"), "built.keras")
    run = store.get(run_id)
    assert run.status == "imported" and run.architecture == "784-8-10"
    x = np.random.default_rng(4).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(
        outputs_of(store.load_model(run_id), x), outputs_of(model, x), rtol=1e-6
    )
