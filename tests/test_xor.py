"""core/xor: the data, the model, the compiled trainer against plain `fit`, and the job."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.xor import (
    XOR_INPUTS,
    XOR_TARGETS,
    EpochRunner,
    XorJob,
    XorSpec,
    XorSpecError,
    build_xor_model,
    epoch_orders,
    grid_axis,
    grid_points,
    make_data,
    predict_boundary,
    prediction_rows,
    xor_cloud,
)


def numpy_forward(model, points: np.ndarray) -> np.ndarray:
    """The network's output computed from its weights by hand (relu hidden layers, sigmoid)."""
    weights = model.get_weights()
    h = points.astype("float64")
    for i in range(0, len(weights) - 2, 2):
        h = np.maximum(h @ weights[i] + weights[i + 1], 0.0)
    z = h @ weights[-2] + weights[-1]
    return 1.0 / (1.0 + np.exp(-z))


def trained_job(spec: XorSpec, epochs: int) -> XorJob:
    job = XorJob()
    job.reset(spec)
    assert job.join(120)
    if epochs:
        assert job.train(epochs)
        assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == "idle", snapshot.message
    return job


# --- spec and data ---------------------------------------------------------------------------


def test_defaults_are_seed_000s_network():
    spec = XorSpec()
    assert (spec.data, spec.hidden_layers, spec.units, spec.activation) == (
        "points",
        1,
        16,
        "relu",
    )
    assert (spec.loss, spec.optimizer, spec.learning_rate) == ("mean_squared_error", "adam", 1e-3)
    assert spec.architecture() == "2-16-1"
    assert XorSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"data": "spiral"}, "choose one of points, cloud"),
        ({"hidden_layers": 9}, "choose 0 to 4"),
        ({"loss": "hinge"}, "choose one of mean_squared_error, binary_crossentropy"),
        ({"learning_rate": 0.0}, "try 0.001"),
    ],
)
def test_bad_spec_says_what_to_choose(changes, words):
    with pytest.raises(XorSpecError, match=words):
        XorSpec(**changes)


def test_unknown_field_is_named():
    with pytest.raises(XorSpecError, match="colour"):
        XorSpec.from_dict({"colour": "blue"})


def test_four_points_are_one_batch_without_a_test_part():
    data = make_data(XorSpec())
    np.testing.assert_array_equal(data.x_train, XOR_INPUTS)
    np.testing.assert_array_equal(data.y_train[:, 0], [0, 1, 1, 0])
    assert data.batch_size == 4 and not data.has_test
    assert (data.low, data.high) == (-0.25, 1.25)


def test_cloud_labels_are_the_xor_of_the_nearest_corner():
    x, y = xor_cloud(400, noise=0.1, seed=3)
    nearest = np.argmin(((x[:, None, :] - XOR_INPUTS[None]) ** 2).sum(-1), axis=1)
    # with sd 0.1 a point crosses halfway (0.5) to a neighbour only about once in 3.5 million
    np.testing.assert_array_equal(y, XOR_TARGETS[nearest])
    assert np.bincount(nearest).tolist() == [100, 100, 100, 100]


def test_cloud_split_is_seeded_and_disjoint():
    spec = XorSpec(data="cloud", cloud_points=200, test_fraction=0.25, seed=5)
    first, again = make_data(spec), make_data(spec)
    assert len(first.x_train) == 150 and len(first.x_test) == 50
    np.testing.assert_array_equal(first.x_test, again.x_test)
    both = np.concatenate([first.x_train, first.x_test])
    assert len(np.unique(both, axis=0)) == 200
    assert first.low <= both.min() and both.max() <= first.high
    other = make_data(XorSpec(data="cloud", cloud_points=200, test_fraction=0.25, seed=6))
    assert not np.array_equal(first.x_test, other.x_test)


def test_epoch_orders_do_not_depend_on_how_training_is_split():
    whole = epoch_orders(seed=1, first_epoch=0, epochs=5, n=30, shuffle=True)
    parts = np.concatenate(
        [epoch_orders(1, 0, 2, 30, True), epoch_orders(1, 2, 3, 30, True)], axis=0
    )
    np.testing.assert_array_equal(whole, parts)
    assert all(sorted(row) == list(range(30)) for row in whole)
    assert not np.array_equal(whole[0], whole[1])
    np.testing.assert_array_equal(epoch_orders(1, 0, 2, 4, False), [[0, 1, 2, 3]] * 2)


# --- model, boundary, table -------------------------------------------------------------------


def test_model_shape_follows_the_spec():
    model = build_xor_model(XorSpec(hidden_layers=2, units=8, activation="tanh"))
    assert [w.shape for w in model.get_weights()] == [(2, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    assert build_xor_model(XorSpec(hidden_layers=0)).count_params() == 3


def test_boundary_grid_matches_the_models_predictions_on_the_same_points():
    model = build_xor_model(XorSpec(seed=4))
    axis = grid_axis(-0.25, 1.25, 21)
    boundary = predict_boundary(model, axis, epoch=7)
    assert boundary.z.shape == (21, 21) and boundary.epoch == 7
    points = grid_points(axis)
    # z[i, j] is the output at x1 = axis[j], x2 = axis[i]
    i, j = 3, 17
    assert tuple(points[i * 21 + j]) == (axis[j], axis[i])
    by_predict = model.predict(points, batch_size=64, verbose=0).reshape(21, 21)
    np.testing.assert_allclose(boundary.z, by_predict, atol=1e-6)
    by_hand = numpy_forward(model, points).reshape(21, 21)
    np.testing.assert_allclose(boundary.z, by_hand, atol=1e-5)


def test_prediction_rows_round_at_one_half():
    rows = prediction_rows(np.array([0.49, 0.5, 0.9, 0.7]))
    assert [row["rounded"] for row in rows] == [0, 1, 1, 1]
    assert [row["right?"] for row in rows] == ["✓", "✓", "✓", "✗"]
    assert [(row["input"], row["target"]) for row in rows] == [
        ("(0, 0)", 0),
        ("(0, 1)", 1),
        ("(1, 0)", 1),
        ("(1, 1)", 0),
    ]
    assert all(row["raw output"] is None for row in prediction_rows(None))


# --- the compiled trainer against model.fit ----------------------------------------------------


def test_runner_on_four_points_matches_plain_fit():
    spec = XorSpec(seed=2)
    data = make_data(spec)
    reference = build_xor_model(spec)
    history = reference.fit(
        data.x_train, data.y_train, batch_size=4, epochs=15, shuffle=False, verbose=0
    ).history
    model = build_xor_model(spec)
    logs = EpochRunner(model, data, spec.seed, shuffle=False).run(0, 15)
    np.testing.assert_allclose(logs["loss"], history["loss"], rtol=1e-5)
    np.testing.assert_allclose(logs["binary_accuracy"], history["binary_accuracy"])
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_runner_on_the_cloud_matches_fit_on_the_same_batches():
    spec = XorSpec(data="cloud", cloud_points=120, batch_size=32, loss="binary_crossentropy")
    data = make_data(spec)  # 84 training points: batches of 32, 32 and 20
    model = build_xor_model(spec)
    logs = EpochRunner(model, data, spec.seed, shuffle=True).run(0, 3)
    reference = build_xor_model(spec)
    for epoch, order in enumerate(epoch_orders(spec.seed, 0, 3, len(data.x_train), True)):
        history = reference.fit(
            data.x_train[order], data.y_train[order], batch_size=32, shuffle=False, verbose=0
        ).history
        test_loss, test_accuracy = reference.evaluate(data.x_test, data.y_test, verbose=0)
        assert logs["loss"][epoch] == pytest.approx(history["loss"][0], rel=1e-5)
        assert logs["binary_accuracy"][epoch] == pytest.approx(history["binary_accuracy"][0])
        assert logs["test_loss"][epoch] == pytest.approx(test_loss, rel=1e-5)
        assert logs["test_binary_accuracy"][epoch] == pytest.approx(test_accuracy)


# --- the job ---------------------------------------------------------------------------------


def test_seed_network_solves_four_point_xor():
    snapshot = trained_job(XorSpec(seed=0), 500).snapshot()
    assert snapshot.epoch == 500 and len(snapshot.history["loss"]) == 500
    rounded = (snapshot.corner_outputs >= 0.5).astype(int)
    np.testing.assert_array_equal(rounded, [0, 1, 1, 0])
    assert snapshot.history["binary_accuracy"][-1] == 1.0
    assert snapshot.history["loss"][-1] < snapshot.history["loss"][0]
    assert snapshot.boundary is not None and snapshot.boundary.epoch == 500
    assert snapshot.first_redraw_seconds is not None
    assert "Trained 500 epochs" in snapshot.message


def test_job_boundary_and_table_match_the_model():
    job = trained_job(XorSpec(seed=1), 20)
    snapshot = job.snapshot()
    np.testing.assert_allclose(
        snapshot.boundary.z.reshape(-1),
        numpy_forward(job.model, grid_points(snapshot.boundary.axis))[:, 0],
        atol=1e-5,
    )
    np.testing.assert_allclose(
        snapshot.corner_outputs, numpy_forward(job.model, XOR_INPUTS)[:, 0], atol=1e-5
    )


def test_one_epoch_changes_the_weights_and_steps_add_up():
    job = trained_job(XorSpec(seed=3), 0)
    untrained = job.model.get_weights()
    assert job.snapshot().epoch == 0 and job.snapshot().boundary.epoch == 0
    assert job.train(1) and job.join(60)
    after_one = job.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(untrained, after_one, strict=True))
    assert job.snapshot().epoch == 1
    for _ in range(2):
        assert job.train(1) and job.join(60)
    stepped = job.snapshot()
    whole = trained_job(XorSpec(seed=3), 3)
    np.testing.assert_allclose(stepped.history["loss"], whole.snapshot().history["loss"], rtol=1e-6)
    for a, b in zip(job.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_reset_rebuilds_the_same_network_from_the_seed():
    job = trained_job(XorSpec(seed=7), 0)
    initial = job.model.get_weights()
    assert job.train(5) and job.join(60)
    job.reset()
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.epoch == 0 and snapshot.history["loss"] == []
    for a, b in zip(initial, job.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_ends_training_early_and_keeps_the_epochs():
    job = trained_job(XorSpec(), 0)
    assert job.train(1000, epochs_per_second=100)
    assert not job.train(5), "a second job must not start while one runs"
    time.sleep(0.5)
    job.stop()
    assert job.join(10)
    snapshot = job.snapshot()
    assert 0 < snapshot.epoch < 1000
    assert len(snapshot.history["loss"]) == snapshot.epoch
    assert snapshot.message.startswith("Stopped by you")


def test_cloud_reports_test_accuracy():
    spec = XorSpec(data="cloud", cloud_points=200, noise=0.1, learning_rate=0.01, seed=0)
    snapshot = trained_job(spec, 60).snapshot()
    assert snapshot.last("test_binary_accuracy") > 0.9
    assert len(snapshot.history["test_loss"]) == 60
    assert snapshot.boundary.axis[0] <= snapshot.data.x_train.min()


def test_diverging_loss_fails_with_advice(monkeypatch):
    job = trained_job(XorSpec(), 0)
    real_run = job.runner.run

    def run(first_epoch, epochs):
        logs = real_run(first_epoch, epochs)
        logs["loss"][1:] = np.nan
        return logs

    monkeypatch.setattr(job.runner, "run", run)
    assert job.train(10) and job.join(30)
    snapshot = job.snapshot()
    assert snapshot.status == "failed"
    assert "Lower the learning rate" in snapshot.message
    assert snapshot.epoch == 1  # the one good epoch is kept


def test_snapshot_is_a_copy():
    job = trained_job(XorSpec(), 2)
    snapshot = job.snapshot()
    snapshot.history["loss"].clear()
    assert len(job.snapshot().history["loss"]) == 2


def test_reset_while_training_replaces_the_job_without_waiting():
    job = trained_job(XorSpec(seed=0), 0)
    assert job.train(2000, epochs_per_second=100)
    time.sleep(0.3)
    started = time.perf_counter()
    job.reset(XorSpec(seed=0, hidden_layers=2, units=4))
    assert time.perf_counter() - started < 0.5, "reset must not block the script thread"
    assert job.snapshot().status == "building" and job.snapshot().epoch == 0
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.status == "idle" and snapshot.epoch == 0  # nothing of the old run leaks in
    assert snapshot.history["loss"] == []
    assert [w.shape for w in job.model.get_weights()][:2] == [(2, 4), (4,)]
