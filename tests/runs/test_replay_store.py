"""Replay frames in the run store: round trips, reopening, deletion, recording a real run."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from core.inside.diagram import spec_diagram
from core.runs.replay_store import ReplayStore
from core.runs.start import start_recorded_run
from core.runs.store import RunStore, RunStoreError
from core.training.job import RunResult
from core.training.registry import JobRegistry
from core.training.replay import ReplayFrame
from tests.runs.test_database import schema_4_store
from tests.support.digits import patch_digits
from tests.support.specs import small_spec


def made_up_frame(epoch: int, seed: int = 0) -> ReplayFrame:
    rng = np.random.default_rng(seed + epoch)
    diagram = spec_diagram(small_spec(units=12))
    diagram.columns[1].colours = rng.uniform(-1, 1, len(diagram.columns[1].shown)).tolist()
    diagram.edges = [(0, 1, 2, 0.5), (1, 0, 3, -0.25)]
    return ReplayFrame(
        epoch=epoch,
        kind="units",
        templates=rng.normal(0, 0.05, (36, 28, 28)).astype(np.float16),
        diagram=diagram,
        confusion=rng.integers(0, 20, (10, 10)),
        digits=1000,
    )


def same_frame(got: ReplayFrame, expected: ReplayFrame) -> None:
    assert (got.epoch, got.kind, got.digits) == (expected.epoch, expected.kind, expected.digits)
    np.testing.assert_array_equal(got.templates, expected.templates)
    np.testing.assert_array_equal(got.confusion, expected.confusion)
    assert [c.shown for c in got.diagram.columns] == [c.shown for c in expected.diagram.columns]
    np.testing.assert_allclose(
        got.diagram.columns[1].colours, expected.diagram.columns[1].colours, atol=5e-4
    )
    assert got.diagram.edges == expected.diagram.edges


def a_run(store: RunStore) -> str:
    return store.create_run(small_spec(), "test digits")


def test_frames_survive_reopening_the_store(_playground_home):
    store = RunStore()
    run_id = a_run(store)
    frames = [made_up_frame(epoch) for epoch in range(4)]
    for frame in reversed(frames):  # stored in any order, read in epoch order
        assert ReplayStore(store).add(run_id, frame)

    reopened = ReplayStore(RunStore(_playground_home))
    assert reopened.epochs(run_id) == [0, 1, 2, 3]
    for frame in frames:
        same_frame(reopened.frame(run_id, frame.epoch), frame)
    assert reopened.frame(run_id, 9) is None and reopened.epochs("no such run") == []


def test_a_frame_without_templates_round_trips():
    store = RunStore()
    run_id = a_run(store)
    frame = made_up_frame(0)
    bare = ReplayFrame(0, "", None, frame.diagram, frame.confusion, 0)
    ReplayStore(store).add(run_id, bare)
    got = ReplayStore(store).frame(run_id, 0)
    assert got.templates is None and got.kind == "" and got.digits == 0


def test_deleting_a_run_deletes_its_frames_and_no_other():
    store = RunStore()
    kept, deleted = a_run(store), a_run(store)
    replays = ReplayStore(store)
    for run_id in (kept, deleted):
        for epoch in range(3):
            replays.add(run_id, made_up_frame(epoch))
    store.finish_run(deleted, "completed", "Trained.")
    store.delete(deleted)
    with sqlite3.connect(store.db_path) as conn:
        rows = conn.execute("SELECT run_id, COUNT(*) FROM replay_frames GROUP BY run_id").fetchall()
    assert rows == [(kept, 3)]
    assert replays.epochs(deleted) == []


def test_a_frame_of_a_deleted_run_is_not_kept():
    store = RunStore()
    run_id = a_run(store)
    store.finish_run(run_id, "stopped", "Stopped.")
    store.delete(run_id)
    assert not ReplayStore(store).add(run_id, made_up_frame(1))
    assert ReplayStore(store).epochs(run_id) == []


def test_stored_bytes_count_the_templates_as_two_bytes_a_weight():
    store = RunStore()
    run_id = a_run(store)
    ReplayStore(store).add(run_id, made_up_frame(0))
    stored = ReplayStore(store).stored_bytes(run_id)
    assert 36 * 784 * 2 < stored < 36 * 784 * 2 + 5_000
    assert ReplayStore(store).stored_bytes("no such run") == 0


def test_a_store_of_schema_4_gains_the_replay_table(tmp_path):
    run_id = schema_4_store(tmp_path / "home")
    reopened = RunStore(tmp_path / "home")
    assert ReplayStore(reopened).add(run_id, made_up_frame(0))
    assert ReplayStore(reopened).stored_bytes(run_id) > 0
    assert reopened.get(run_id).name == "old #1"


def test_a_store_of_a_newer_schema_is_refused_with_advice(_playground_home):
    store = RunStore()
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match="newer Keras Playground"):
        ReplayStore(RunStore(store.home))


def test_a_recorded_run_stores_a_frame_for_the_start_and_each_epoch():
    store = RunStore()
    spec = small_spec(units=12, epochs=2)
    job = start_recorded_run(
        store, spec, patch_digits(200, 120, seed=2), owner="test", registry=JobRegistry()
    )
    job.join()
    assert isinstance(job.result, RunResult) and job.result.status == "completed"
    replays = ReplayStore(store)
    assert replays.epochs(job.run_id) == [0, 1, 2]
    last = replays.frame(job.run_id, 2)
    assert last.kind == "units" and last.templates.shape == (12, 28, 28)
    assert last.confusion.sum() == last.digits == 120  # fewer than 30 of any digit: all of them
