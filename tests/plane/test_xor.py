"""core/xor: the playground's background job: build, train, step, stop, reset, and the two
issue-13 guards (superseded rebuilds skipped, no training on from blown-up weights)."""

from __future__ import annotations

import threading

import numpy as np

import core.plane.xor
from core.plane.data import XOR_INPUTS
from core.plane.model import grid_points
from core.plane.spec import PlaneSpec
from core.plane.xor import XorJob
from tests.plane.test_model import numpy_forward
from tests.support.waiting import eventually


def trained_job(spec: PlaneSpec, epochs: int) -> XorJob:
    job = XorJob()
    job.reset(spec)
    assert job.join(120)
    if epochs:
        assert job.train(epochs)
        assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == "idle", snapshot.message
    return job


def test_seed_network_solves_four_point_xor():
    snapshot = trained_job(PlaneSpec(seed=0), 500).snapshot()
    assert snapshot.epoch == 500 and len(snapshot.history["loss"]) == 500
    rounded = (snapshot.corner_outputs >= 0.5).astype(int)
    np.testing.assert_array_equal(rounded, [0, 1, 1, 0])
    assert snapshot.history["accuracy"][-1] == 1.0
    assert snapshot.history["loss"][-1] < snapshot.history["loss"][0]
    assert snapshot.boundary is not None and snapshot.boundary.epoch == 500
    assert snapshot.first_redraw_seconds is not None
    assert "Trained 500 epochs" in snapshot.message


def test_job_pictures_and_table_match_the_model():
    spec = PlaneSpec(seed=1, data="circle", samples=100, hidden_layers=2, x1_squared=True)
    job = trained_job(spec, 20)
    snapshot = job.snapshot()
    view = snapshot.boundary
    np.testing.assert_allclose(
        view.z.reshape(-1),
        numpy_forward(job.model, spec, grid_points(view.axis))[-1][:, 0],
        atol=1e-5,
    )
    hidden = numpy_forward(job.model, spec, grid_points(view.unit_axis))[1]
    np.testing.assert_allclose(view.units[1].reshape(len(hidden.T), -1), hidden.T, atol=1e-5)
    np.testing.assert_allclose(
        snapshot.corner_outputs, numpy_forward(job.model, spec, XOR_INPUTS)[-1][:, 0], atol=1e-5
    )


def test_one_epoch_changes_the_weights_steps_add_up_and_reset_rebuilds_from_the_seed():
    """One epoch changes the weights; three one-epoch steps equal three epochs at once; a
    reset then rebuilds the same network from the seed, with no epochs and no history."""
    job = trained_job(PlaneSpec(seed=3), 0)
    untrained = job.model.get_weights()
    assert job.snapshot().epoch == 0 and job.snapshot().boundary.epoch == 0
    assert job.train(1) and job.join(60)
    assert any(
        not np.array_equal(a, b) for a, b in zip(untrained, job.model.get_weights(), strict=True)
    )
    for _ in range(2):
        assert job.train(1) and job.join(60)
    whole = trained_job(PlaneSpec(seed=3), 3)
    np.testing.assert_allclose(
        job.snapshot().history["loss"], whole.snapshot().history["loss"], rtol=1e-6
    )
    for a, b in zip(job.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    job.reset()
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.epoch == 0 and snapshot.history["loss"] == []
    for a, b in zip(untrained, job.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_ends_training_early_and_keeps_the_epochs_and_a_snapshot_is_a_copy():
    job = trained_job(PlaneSpec(), 0)
    assert job.train(1000, epochs_per_second=100)
    assert not job.train(5), "a second job must not start while one runs"
    eventually(lambda: job.snapshot().epoch > 0, 60, message="no epoch trained")
    job.stop()
    assert job.join(10)
    snapshot = job.snapshot()
    assert 0 < snapshot.epoch < 1000
    assert len(snapshot.history["loss"]) == snapshot.epoch
    assert snapshot.message.startswith("Stopped by you")
    snapshot.history["loss"].clear()  # a snapshot is a copy: the job's history stays
    assert len(job.snapshot().history["loss"]) == snapshot.epoch


def test_a_dataset_with_a_test_part_reports_it():
    spec = PlaneSpec(data="gaussians", samples=200, noise=0.0, learning_rate=0.01, seed=0)
    snapshot = trained_job(spec, 30).snapshot()
    assert snapshot.last("test_accuracy") > 0.9
    assert len(snapshot.history["test_loss"]) == 30
    assert snapshot.boundary.axis[0] <= snapshot.data.x_train.min()


def test_after_the_loss_blows_up_only_a_reset_trains_again(monkeypatch):
    job = trained_job(PlaneSpec(), 0)
    real_run = job.runner.run

    def run(first_epoch, epochs):
        logs = real_run(first_epoch, epochs)
        logs["loss"][1:] = np.nan
        return logs

    monkeypatch.setattr(job.runner, "run", run)
    assert job.train(10) and job.join(30)
    snapshot = job.snapshot()
    assert snapshot.status == "failed" and "Lower the learning rate" in snapshot.message
    assert snapshot.epoch == 1  # the one good epoch is kept
    weights = job.model.get_weights()
    assert not job.train(10) and not job.train(1), "training on from blown-up weights"
    for a, b in zip(weights, job.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    job.reset()
    assert job.join(60) and job.train(2) and job.join(60)
    assert job.snapshot().status == "idle" and job.snapshot().epoch == 2


def test_superseded_rebuilds_are_skipped(monkeypatch):
    built = []
    real_build = core.plane.xor.build_plane_model

    def build(spec):
        built.append(spec.units_1)
        return real_build(spec)

    monkeypatch.setattr(core.plane.xor, "build_plane_model", build)
    job = XorJob()
    for units in range(1, 9):  # eight quick settings changes, as a slider dragged
        job.reset(PlaneSpec(units_1=units))
    assert job.join(120)
    assert built[-1] == 8 and len(built) <= 2, built  # at most the first had begun
    assert job.snapshot().status == "idle" and job.model.get_weights()[0].shape == (2, 8)


def test_reset_while_training_replaces_the_job_without_waiting():
    job = trained_job(PlaneSpec(seed=0), 0)
    training, release = threading.Event(), threading.Event()
    run = job.runner.run

    def held_run(*args):  # the old job's compiled call, held until the reset has returned
        training.set()
        release.wait(120)
        return run(*args)

    job.runner.run = held_run
    assert job.train(2000, epochs_per_second=100)
    assert training.wait(60)
    spec = PlaneSpec(seed=0, hidden_layers=2, units_1=4)
    resetting = threading.Thread(target=job.reset, args=(spec,))
    resetting.start()
    resetting.join(60)
    try:
        assert not resetting.is_alive(), "reset must not block the script thread"
        assert job.snapshot().status == "building" and job.snapshot().epoch == 0
    finally:
        release.set()
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.status == "idle" and snapshot.epoch == 0  # nothing of the old run leaks in
    assert snapshot.history["loss"] == []
    assert [w.shape for w in job.model.get_weights()][:2] == [(2, 4), (4,)]
