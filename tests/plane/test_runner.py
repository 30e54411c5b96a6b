"""core.plane.runner: the compiled trainer against plain `model.fit` on the same batches."""

from __future__ import annotations

import os
import threading

import keras
import numpy as np
import pytest
from tensorflow.python.eager import context

from core.plane.data import epoch_orders, make_data
from core.plane.model import build_plane_model
from core.plane.runner import EXECUTOR, EpochRunner, FlatWeights
from core.plane.spec import PlaneSpec


def fit_on_the_same_batches(spec: PlaneSpec, epochs: int):
    """`model.fit` one epoch at a time on the runner's order; its logs and the model."""
    data = make_data(spec)
    model = build_plane_model(spec)
    logs = []
    orders = epoch_orders(spec.seed, 0, epochs, len(data.x_train), spec.data != "points")
    for order in orders:
        history = model.fit(
            data.x_train[order],
            data.y_train[order],
            batch_size=data.batch_size,
            shuffle=False,
            verbose=0,
        ).history
        test = model.evaluate(data.x_test, data.y_test, verbose=0) if data.has_test else None
        logs.append((history["loss"][0], history["accuracy"][0], test))
    return logs, model


# One spec for each thing the fast trainer must do as fit does.
FIT_CASES = {
    "points": PlaneSpec(seed=2),
    "cloud": PlaneSpec(data="cloud", samples=120, batch_size=32, loss="crossentropy"),
    "blobs-l2": PlaneSpec(
        data="blobs",
        samples=90,
        batch_size=16,
        loss="crossentropy",
        hidden_layers=2,
        x1_squared=True,
        regularization="l2",
        regularization_rate=0.01,
    ),
    "circle-l1": PlaneSpec(
        data="circle", samples=60, batch_size=10, regularization="l1", regularization_rate=0.003
    ),
    "spiral-dropout": PlaneSpec(
        data="spiral", samples=50, batch_size=8, hidden_layers=2, dropout=0.2
    ),
    "gaussians-sgd-one-batch": PlaneSpec(
        data="gaussians", samples=40, batch_size=100, optimizer="sgd", learning_rate=0.1
    ),
    "cloud-rmsprop": PlaneSpec(
        data="cloud",
        samples=70,
        batch_size=12,
        optimizer="rmsprop",
        activation_1="tanh",
        sin_x1=True,
    ),
    "blobs-adagrad": PlaneSpec(
        data="blobs",
        classes=4,
        samples=64,
        batch_size=9,
        loss="crossentropy",
        optimizer="adagrad",
        learning_rate=0.05,
        activation_1="gelu",
    ),
}

# For Adam and SGD the fast trainer does fit's arithmetic, element by element. TensorFlow's
# oneDNN CPU kernels (on by default on x86 Linux) may still pick different kernels for the
# fused loop and for fit's steps, so sums round differently: the two agree bit for bit with
# oneDNN off, and otherwise within float32 rounding, far closer than a change of how the
# runner trains (its learning rate 0.1 % off fails every case; 0.001 % off, half of them at
# the weights). RMSprop and Adagrad may differ
# in the last bit at every step anyway: TensorFlow turns their x / sqrt(v) into a vectorised
# x * rsqrt(v), whose rounding depends on where an element sits in its vector (one vector of
# all weights, or one per matrix).
ONEDNN_OFF = os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"
FLOAT32_ROUNDING = {"rtol": 1e-6, "atol": 1e-7}
LAST_BIT_EACH_STEP = {"rtol": 0, "atol": 1e-5}


def assert_same_state(model, reference_model, optimizer: str) -> None:
    """The weights and the optimizer's state (moments, iteration count) agree, so fit could
    carry on from either; exactly where both ran the same kernels."""
    ours = [*model.get_weights(), *map(np.asarray, model.optimizer.variables)]
    theirs = [*reference_model.get_weights(), *map(np.asarray, reference_model.optimizer.variables)]
    names = [v.name for v in model.optimizer.variables]
    assert names == [v.name for v in reference_model.optimizer.variables]
    assert int(model.optimizer.iterations) == int(reference_model.optimizer.iterations)
    same_arithmetic = optimizer in ("adam", "sgd")
    for mine, reference in zip(ours, theirs, strict=True):
        if same_arithmetic and ONEDNN_OFF:
            np.testing.assert_array_equal(mine, reference)
        tolerance = FLOAT32_ROUNDING if same_arithmetic else LAST_BIT_EACH_STEP
        np.testing.assert_allclose(mine, reference, **tolerance)


@pytest.mark.parametrize("spec", FIT_CASES.values(), ids=FIT_CASES.keys())
def test_runner_logs_and_weights_match_fit(spec):
    epochs = 3
    reference, reference_model = fit_on_the_same_batches(spec, epochs)
    data = make_data(spec)
    model = build_plane_model(spec)
    logs = EpochRunner(model, data, spec.seed, shuffle=spec.data != "points").run(0, epochs)
    for epoch, (loss, accuracy, test) in enumerate(reference):
        assert logs["loss"][epoch] == pytest.approx(loss, rel=1e-5)  # penalty included
        assert logs["accuracy"][epoch] == pytest.approx(accuracy)
        if test is None:
            assert np.isnan(logs["test_loss"][epoch])
        else:
            assert logs["test_loss"][epoch] == pytest.approx(test[0], rel=1e-5)
            assert logs["test_accuracy"][epoch] == pytest.approx(test[1])
    assert_same_state(model, reference_model, spec.optimizer)


def test_three_classes_train_to_95_percent():
    spec = PlaneSpec(
        data="blobs",
        classes=3,
        samples=300,
        noise=0.1,
        hidden_layers=1,
        units_1=8,
        activation_1="tanh",
        loss="crossentropy",
        learning_rate=0.03,
        batch_size=32,
    )
    model = build_plane_model(spec)
    logs = EpochRunner(model, make_data(spec), spec.seed, shuffle=True).run(0, 40)
    assert logs["accuracy"][-1] >= 0.95
    assert logs["test_accuracy"][-1] >= 0.9
    assert logs["loss"][-1] < logs["loss"][0]


def test_warm_up_trains_nothing_and_epochs_in_pieces_are_the_epochs_at_once():
    """Warming a runner up changes no weight nor optimizer state (nor the dropout's draws);
    then calls of 2 then 1 epochs give, bit for bit, what one call of 3 does on a cold
    runner (state kept)."""
    spec = PlaneSpec(data="circle", samples=80, batch_size=7, hidden_layers=2, dropout=0.1)
    data = make_data(spec)
    whole_model, piece_model = build_plane_model(spec), build_plane_model(spec)
    runner = EpochRunner(piece_model, data, spec.seed, shuffle=True)
    variables = [*piece_model.variables, *piece_model.optimizer.variables]
    before = [np.asarray(v).copy() for v in variables]
    runner.warm_up()
    after = [np.asarray(v) for v in [*piece_model.variables, *piece_model.optimizer.variables]]
    for was, now in zip(before, after, strict=True):
        np.testing.assert_array_equal(was, now)
    whole = EpochRunner(whole_model, data, spec.seed, shuffle=True).run(0, 3)  # cold
    first, second = runner.run(0, 2), runner.run(2, 1)
    for name, values in whole.items():
        np.testing.assert_array_equal(values, np.concatenate([first[name], second[name]]))
    for ours, theirs in zip(piece_model.variables, whole_model.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_the_single_threaded_executor_stays_in_the_runner():
    """Other tf.functions in this thread and in other threads keep TensorFlow's default."""

    spec = PlaneSpec(data="gaussians", samples=40)
    seen = {}

    def train():
        EpochRunner(build_plane_model(spec), make_data(spec), spec.seed, shuffle=True).run(0, 1)
        seen["worker"] = context.context().function_call_options.executor_type

    default = context.context().function_call_options.executor_type
    worker = threading.Thread(target=train)
    worker.start()
    worker.join()
    assert seen["worker"] == default != EXECUTOR
    assert context.context().function_call_options.executor_type == default


@pytest.mark.parametrize(
    "option", [{"clipnorm": 1.0}, {"weight_decay": 0.01}, {"global_clipnorm": 1.0}]
)
def test_optimizer_settings_per_matrix_are_refused(option):
    model = build_plane_model(PlaneSpec())
    model.compile(optimizer=keras.optimizers.Adam(**option), loss="mean_squared_error")
    with pytest.raises(ValueError, match=f"{next(iter(option))}.*model.fit"):
        FlatWeights(model)
