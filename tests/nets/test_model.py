"""ModelSpec built into Keras: parameter counts by hand and by Keras, the summary table, every
setting reaching its Keras layer, and architecture names.

The spec's own rules (defaults, JSON, refusals, the old flat form) are in test_model_spec.py;
runs stored before the layer list in test_model_old_runs.py.
"""

import pytest

from core.nets.layers import LAYER_TYPES
from core.nets.model import ModelSpec, build_model, count_parameters, dense_layers, layer_table
from tests.support.specs import BN, FLAT, GAP, KERAS_CONVNET, POOL, random_specs


def seed_spec(**values) -> ModelSpec:
    """The seed articles' 784-512-512-10 network with dropout."""
    return ModelSpec(layers=dense_layers([512, 512], ["relu", "relu"], [0.2, 0.2]), **values)


def test_parameter_counts_from_layer_sizes():
    # (784*512 + 512) + (512*512 + 512) + (512*10 + 10)
    assert count_parameters(seed_spec()) == 669_706
    assert count_parameters(ModelSpec(layers=[])) == 7_850


# Each conv stack with its parameter count worked out by hand: a k x k convolution from c_in to
# c_out channels has k*k*c_in*c_out weights + c_out biases; batch norm keeps 4 numbers per channel.
HAND_COUNTED = {
    "keras-convnet": (
        KERAS_CONVNET,
        (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (5 * 5 * 64 * 10 + 10),
    ),
    "same-stride-bn-gap": (
        [
            {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same", "strides": 2},
            BN,
            {"type": "Conv2D", "filters": 16, "kernel_size": 3},
            GAP,
            {"type": "Dense", "units": 20},
        ],
        # 28 -> 14 (same, stride 2) -> 12 (valid 3x3); GAP leaves 16 channels
        (5 * 5 * 1 * 8 + 8) + 4 * 8 + (3 * 3 * 8 * 16 + 16) + (16 * 20 + 20) + (20 * 10 + 10),
    ),
    "pool-3-stride-1": (
        [
            {"type": "MaxPooling2D", "pool_size": 3, "strides": 1},
            {"type": "Conv2D", "filters": 4, "kernel_size": 7},
            FLAT,
            BN,
        ],
        # 28 -> 26 (3x3 pool, stride 1) -> 20 (7x7 conv): 20*20*4 = 1600 features
        (7 * 7 * 1 * 4 + 4) + 4 * 1600 + (1600 * 10 + 10),
    ),
    "one-by-one": (
        [{"type": "Conv2D", "filters": 3, "kernel_size": 1}, POOL, POOL, POOL, POOL, FLAT],
        # 28 -> 14 -> 7 -> 3 -> 1: a 1x1x3 map
        (1 * 1 * 1 * 3 + 3) + (3 * 10 + 10),
    ),
}


@pytest.mark.parametrize("name", list(HAND_COUNTED))
def test_conv_parameter_counts_by_hand_and_by_keras(name):
    layers, by_hand = HAND_COUNTED[name]
    spec = ModelSpec(layers=layers)
    assert spec.is_convolutional and spec.input_shape == (28, 28, 1)
    assert count_parameters(spec) == by_hand
    assert build_model(spec).count_params() == by_hand


def keras_rows(model):
    """(output shape, parameters) of each layer after the input, as Keras reports them."""
    return [(str(layer.output.shape), layer.count_params()) for layer in model.layers[1:]]


def table_rows(spec):
    return [(row["output shape"], row["parameters"]) for row in layer_table(spec)[1:]]


@pytest.mark.parametrize(
    "spec",
    [
        seed_spec(),
        ModelSpec(layers=[]),
        ModelSpec(layers=dense_layers([32, 16, 8], ["tanh", "gelu", "elu"], [0.0, 0.5, 0.1])),
        ModelSpec(layers=KERAS_CONVNET),
        ModelSpec(layers=HAND_COUNTED["same-stride-bn-gap"][0]),
        *list(random_specs(6, seed=11)),
    ],
    ids=lambda spec: spec.architecture(),
)
def test_keras_agrees_with_the_summary_table(spec):
    model = build_model(spec, steps_per_epoch=10)
    assert model.count_params() == count_parameters(spec)
    assert table_rows(spec) == keras_rows(model)
    assert model.input_shape == (None, *spec.input_shape)
    assert model.output_shape == (None, 10)
    assert model.layers[-1].activation.__name__ == "softmax"
    kinds = [layer.__class__.__name__ for layer in model.layers[1:-1]]
    assert kinds == [layer["type"] for layer in spec.layers]


def test_dropout_layers_only_where_asked():
    model = build_model(ModelSpec(layers=dense_layers([16, 16], ["relu", "relu"], [0.0, 0.3])))
    dropouts = [layer for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    assert [layer.rate for layer in dropouts] == [0.3]


def test_every_setting_reaches_the_keras_layer():
    spec = ModelSpec(
        layers=[
            {
                "type": "Conv2D",
                "filters": 6,
                "kernel_size": 5,
                "strides": 2,
                "padding": "same",
                "activation": "tanh",
            },
            {"type": "MaxPooling2D", "pool_size": 3, "strides": 1},
            GAP,
        ]
    )
    conv, pool = build_model(spec).layers[1:3]
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (
        6,
        (5, 5),
        (2, 2),
        "same",
    )
    assert conv.activation.__name__ == "tanh"
    assert (pool.pool_size, pool.strides) == ((3, 3), (1, 1))


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"])
def test_every_optimizer_gets_its_learning_rate(optimizer):
    model = build_model(seed_spec(optimizer=optimizer, learning_rate=0.0123))
    assert model.optimizer.__class__.__name__.lower() == optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)


def test_mean_squared_error_loss_and_cosine_schedule():
    model = build_model(
        seed_spec(loss="mean_squared_error", lr_schedule="cosine"), steps_per_epoch=100
    )
    assert model.loss == "mean_squared_error"
    schedule = model.optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(100 * 10)) == pytest.approx(0.0, abs=1e-9)


def test_architecture_names():
    assert seed_spec().architecture() == "784-512-512-10"
    assert ModelSpec(layers=KERAS_CONVNET).architecture() == "28x28-32C3-P2-64C3-P2-F-10"
    odd = ModelSpec(layers=HAND_COUNTED["same-stride-bn-gap"][0])
    assert odd.architecture() == "28x28-8C5S2p-BN-16C3-GAP-20-10"


def test_every_layer_type_names_a_keras_class():
    for name, layer_type in LAYER_TYPES.items():
        assert layer_type.keras_class.__name__ == name
