import json
import sqlite3

import pytest

from core.charts.runs import differing_rows, spec_table
from core.nets.layers import LAYER_TYPES
from core.nets.model import (
    ModelSpec,
    SpecError,
    build_model,
    count_parameters,
    dense_layers,
    layer_table,
)
from core.runs.store import RunStore
from core.training.job import TrainingJob
from tests.support.digits import patch_digits
from tests.support.specs import random_specs

CONV = {"type": "Conv2D", "filters": 32, "kernel_size": 3}
POOL = {"type": "MaxPooling2D", "pool_size": 2}
FLAT = {"type": "Flatten"}
GAP = {"type": "GlobalAveragePooling2D"}
BN = {"type": "BatchNormalization"}

# The keras.io "Simple MNIST convnet": its page prints 34,826 parameters.
KERAS_CONVNET = [
    CONV,
    POOL,
    {**CONV, "filters": 64},
    POOL,
    FLAT,
    {"type": "Dropout", "rate": 0.5},
]


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


def test_defaults_are_filled_so_json_round_trips_are_the_identity():
    spec = ModelSpec(layers=[{"type": "Conv2D"}, {"type": "MaxPooling2D", "pool_size": 3}, FLAT])
    assert spec.layers[0] == {
        "type": "Conv2D",
        "filters": 32,
        "kernel_size": 3,
        "strides": 1,
        "padding": "valid",
        "activation": "relu",
    }
    assert spec.layers[1]["strides"] == 3  # a pooling's stride is its size unless given
    text = spec.to_json()
    assert ModelSpec.from_json(text) == spec
    assert ModelSpec.from_json(text).to_json() == text


def test_random_valid_specs_round_trip_through_json():
    specs = list(random_specs(300, seed=5))
    assert 0.3 < sum(spec.is_convolutional for spec in specs) / len(specs) < 0.7
    for spec in specs:
        text = spec.to_json()
        again = ModelSpec.from_json(text)
        assert again == spec
        assert again.to_json() == text
        assert json.loads(text)["layers"] == spec.layers


def test_keras_window_lists_are_read_as_square_numbers():
    spec = ModelSpec(layers=[{"type": "Conv2D", "kernel_size": [5, 5], "strides": (1, 1)}, FLAT])
    assert (spec.layers[0]["kernel_size"], spec.layers[0]["strides"]) == (5, 1)


def test_architecture_names():
    assert seed_spec().architecture() == "784-512-512-10"
    assert ModelSpec(layers=KERAS_CONVNET).architecture() == "28x28-32C3-P2-64C3-P2-F-10"
    odd = ModelSpec(layers=HAND_COUNTED["same-stride-bn-gap"][0])
    assert odd.architecture() == "28x28-8C5S2p-BN-16C3-GAP-20-10"


# Layer lists the spec refuses, each with (a pattern of) what the message says.
BAD_LAYERS = [
    ([{"type": "Dense", "units": 8}] * 6, "6 hidden Dense layers.*0 to 5"),
    ([{"type": "LSTM"}], r"layer 1 has unknown type 'LSTM'; choose one of Dense"),
    (
        [{"type": "Dense", "units": 8, "activation": "softsign2"}],
        r"layer 1 \(Dense\): activation 'softsign2' is unknown",
    ),
    (
        [{"type": "Conv2D", "dilation": 2}, FLAT],
        r"layer 1 \(Conv2D\) has unknown setting dilation; its settings are: filters",
    ),
    (
        [{"type": "Dropout", "rate": 1.0}],
        r"layer 1 \(Dropout\): rate 1 is out of range; choose 0 to just under 1",
    ),
    ([{"type": "Conv2D", "filters": 0}, FLAT], r"filters 0 is out of range; choose 1 to"),
    ([{"type": "Conv2D", "kernel_size": [3, 5]}, FLAT], "not square"),
    ([{"type": "Dense", "units": 8.5}], "not a whole number"),
    ([{"type": "Dense", "units": True}], "not a whole number"),
    (["Dense"], "a layer is a dict"),
    # a kernel larger than the feature map it meets: 28 -> 14 -> 7 -> 3, then a 5x5 kernel
    (
        [POOL, POOL, POOL, {"type": "Conv2D", "kernel_size": 5}, FLAT],
        r"layer 4 \(Conv2D\): its 5x5 kernel is larger than the 3x3 feature map it meets; choose a kernel of at most 3",
    ),
    # a pooling that shrinks the map below 1x1: 28 -> 14 -> 7 -> 3 -> 1 -> nothing
    (
        [POOL, POOL, POOL, POOL, POOL, FLAT],
        r"layer 5 \(MaxPooling2D\): a 2x2 pooling shrinks the 1x1 feature map it meets below 1x1; remove it",
    ),
    # a Dense layer meeting a feature map without Flatten
    (
        [CONV, {"type": "Dense", "units": 8}],
        r"layer 2 \(Dense\) meets a 26x26x32 feature map; insert a Flatten or GlobalAveragePooling2D layer before it",
    ),
    # the output layer meeting a feature map
    (
        [CONV, POOL],
        r"the output layer meets a 13x13x32 feature map; end the layers with a Flatten or GlobalAveragePooling2D",
    ),
    # a Conv2D after Flatten
    (
        [CONV, FLAT, CONV],
        r"layer 3 \(Conv2D\) meets a flat vector of 21632; it works on feature maps.*Move it before",
    ),
    ([CONV, GAP, POOL], r"layer 3 \(MaxPooling2D\) meets a flat vector of 32"),
    (
        [CONV, FLAT, FLAT],
        r"layer 3 \(Flatten\) meets a flat vector of 21632, which is already flat; remove it",
    ),
    (
        [{"type": "Dense", "units": 8}, CONV, FLAT],
        r"layer 1 \(Dense\) meets a 28x28x1 feature map",
    ),
]


@pytest.mark.parametrize(("layers", "message"), BAD_LAYERS)
def test_bad_layers_are_refused_with_the_layer_and_the_fix(layers, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(layers=layers)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"learning_rate": 0}, "above 0"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"lr_schedule": "step"}, "unknown learning-rate schedule"),
        ({"batch_size": 0}, "choose 1 to 60000"),
    ],
)
def test_bad_training_settings_say_what_to_do(values, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec(**values)


def test_unknown_json_fields_are_refused():
    with pytest.raises(SpecError, match="unknown spec fields"):
        ModelSpec.from_dict({"blocks": 3})


def test_old_flat_form_loads_as_dense_and_dropout_layers():
    old = {
        "hidden_units": [512, 64],
        "activations": ["relu", "tanh"],
        "dropouts": [0.2, 0.0],
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "epochs": 3,
    }
    spec = ModelSpec.from_dict(old)
    assert spec.layers == [
        {"type": "Dense", "units": 512, "activation": "relu"},
        {"type": "Dropout", "rate": 0.2},
        {"type": "Dense", "units": 64, "activation": "tanh"},
    ]
    assert (spec.optimizer, spec.learning_rate, spec.epochs) == ("sgd", 0.05, 3)
    assert spec.architecture() == "784-512-64-10"
    assert count_parameters(spec) == (784 * 512 + 512) + (512 * 64 + 64) + (64 * 10 + 10)
    assert ModelSpec.from_dict({"hidden_units": [], "activations": [], "dropouts": []}).layers == []
    assert ModelSpec.from_json(json.dumps(old)) == spec


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ({"hidden_units": [8], "activations": [], "dropouts": [0.0]}, "one value per hidden layer"),
        ({"hidden_units": [8] * 6, "activations": ["relu"] * 6, "dropouts": [0.0] * 6}, "0 to 5"),
        (
            {"hidden_units": [8], "activations": ["relu"], "dropouts": [0.0], "layers": []},
            "keep only layers",
        ),
    ],
)
def test_bad_old_forms_are_refused(old, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_dict(old)


def test_every_layer_type_names_a_keras_class():
    for name, layer_type in LAYER_TYPES.items():
        assert layer_type.keras_class.__name__ == name


# ----- runs stored before the layer list keep working -----------------------------------------

# The run store's schema 1 and a run as the app wrote it before `layers` (its spec in the old
# flat form), copied from core/runs.py at commit 858b394.
OLD_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL, name TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
    data_source TEXT NOT NULL DEFAULT '', architecture TEXT NOT NULL DEFAULT '', spec_json TEXT,
    owner_pid INTEGER, owner_started REAL, epochs_planned INTEGER,
    epochs_done INTEGER NOT NULL DEFAULT 0, val_accuracy REAL, test_loss REAL,
    test_accuracy REAL, training_seconds REAL, model_file TEXT, model_epochs INTEGER,
    history_json TEXT NOT NULL DEFAULT '{}', batches_json TEXT NOT NULL DEFAULT '[]',
    confusion_json TEXT
);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_created ON runs (created);
"""
OLD_SPEC = {
    "hidden_units": [16],
    "activations": ["tanh"],
    "dropouts": [0.25],
    "optimizer": "adam",
    "learning_rate": 0.003,
    "lr_schedule": "constant",
    "loss": "categorical_crossentropy",
    "batch_size": 32,
    "epochs": 2,
    "early_stopping": False,
    "patience": 2,
    "restore_best_weights": True,
    "validation_split": 0.1,
    "seed": 7,
}


def write_old_store(home) -> str:
    home.mkdir(parents=True)
    history = {"loss": [1.2, 0.6], "accuracy": [0.6, 0.8], "val_loss": [0.9, 0.5]}
    history["val_accuracy"] = [0.7, 0.85]
    conn = sqlite3.connect(home / "runs.sqlite3")
    conn.executescript(OLD_SCHEMA)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO runs (id, number, name, created, updated, status, message, data_source, "
        "architecture, spec_json, epochs_planned, epochs_done, val_accuracy, test_loss, "
        "test_accuracy, training_seconds, history_json) "
        "VALUES ('old1', 1, 'from last year', 1.0, 2.0, 'completed', 'Trained 2 epochs.', "
        "'mnist', '784-16-10', ?, 2, 2, 0.85, 0.5, 0.84, 3.0, ?)",
        (json.dumps(OLD_SPEC), json.dumps(history)),
    )
    conn.commit()
    conn.close()
    return "old1"


def test_a_run_stored_in_the_old_form_loads_compares_and_retrains(tmp_path):
    run_id = write_old_store(tmp_path / "home")
    store = RunStore(tmp_path / "home")
    [summary] = store.list_runs()
    assert (summary.id, summary.architecture, summary.optimizer) == (run_id, "784-16-10", "adam")
    old = store.get(run_id)
    spec = old.spec
    assert spec.layers == [
        {"type": "Dense", "units": 16, "activation": "tanh"},
        {"type": "Dropout", "rate": 0.25},
    ]
    assert (spec.learning_rate, spec.batch_size, spec.seed) == (0.003, 32, 7)
    assert spec.architecture() == old.architecture
    # compare it with a run stored today
    new = store.get(store.create_run(ModelSpec(layers=KERAS_CONVNET, epochs=2), "mnist"))
    table = spec_table([old, new])
    assert table.loc["Layer 1"].tolist() == ["Dense 16, tanh", "Conv2D 32 of 3x3, relu"]
    assert table.loc["Layer 2"].tolist() == ["Dropout 0.25", "MaxPooling2D 2x2"]
    assert differing_rows(table)["Learning rate"] and not differing_rows(table)["Optimizer"]
    # and retrain it
    job = TrainingJob(spec, patch_digits(n_train=200, n_test=50), steps_per_execution=1).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "completed" and len(snapshot.history["loss"]) == 2
    assert job.model.count_params() == count_parameters(spec) == 784 * 16 + 16 + 16 * 10 + 10
