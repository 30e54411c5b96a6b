"""The run store's database file: numbers never given twice, older stores upgraded, a file
that cannot be used refused with advice and kept as it was (core/runs/database.py)."""

from __future__ import annotations

import sqlite3

import pytest

from core.runs.database import MIGRATION_4, SCHEMA_VERSION
from core.runs.store import RunStore, RunStoreError
from tests.support.runs import fill_run, small_spec

# The runs table as schema 1 wrote it (the app before experiments), written out here so that
# the test keeps meaning the same when the current schema changes.
SCHEMA_1 = """
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
# Schema 2 added the experiment a run belongs to and a baseline file's checksum.
TO_SCHEMA_2 = """
ALTER TABLE runs ADD COLUMN experiment_id TEXT;
ALTER TABLE runs ADD COLUMN model_sha256 TEXT;
CREATE INDEX runs_by_experiment ON runs (experiment_id);
"""
# Schema 3 added the counter of run numbers (schema 4, the Learn page's progress: test_progress.py).
TO_SCHEMA_3 = """
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) SELECT 'run_number', COALESCE(MAX(number), 0) FROM runs;
"""


def old_store(home, version: int, numbers: list[int]):
    """A store as schema `version` (1 or 2) left it, holding runs numbered `numbers`."""
    home.mkdir()
    (home / "models").mkdir()
    with sqlite3.connect(home / "runs.sqlite3") as conn:
        conn.executescript(SCHEMA_1 + (TO_SCHEMA_2 if version == 2 else ""))
        for number in numbers:
            conn.execute(
                "INSERT INTO runs (id, number, name, created, updated, status) "
                "VALUES (?, ?, ?, ?, ?, 'completed')",
                (f"old{number}", number, f"old #{number}", number, number),
            )
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def schema_4_store(home) -> str:
    """A store as schema 4 left it (runs, counters, lessons' progress), with one run, "old1"."""
    old_store(home, 2, numbers=[1])
    with sqlite3.connect(home / "runs.sqlite3") as conn:
        conn.executescript(TO_SCHEMA_3 + MIGRATION_4)
        conn.execute("PRAGMA user_version = 4")
    conn.close()
    return "old1"


def finished_run(store: RunStore, **values) -> str:
    """A new run that has ended (a run still training cannot be deleted)."""
    run_id = store.create_run(small_spec(), "x", **values)
    store.finish_run(run_id, "stopped", "Stopped.")
    return run_id


def test_a_deleted_runs_number_is_never_given_again():
    store = RunStore()
    first, second = finished_run(store), finished_run(store)
    store.delete(second)
    third = finished_run(store)
    assert [store.get(i).number for i in (first, third)] == [1, 3]
    assert store.get(third).name == "784-8-10 adam #3"
    store.delete(third)
    store.delete(first)
    assert store.get(finished_run(store)).number == 4  # not #1 in an empty store


def test_numbers_are_kept_across_reopening(tmp_path):
    RunStore(tmp_path).delete(finished_run(RunStore(tmp_path)))
    reopened = RunStore(tmp_path)
    assert reopened.get(finished_run(reopened)).number == 2


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_store_is_upgraded_keeping_its_runs_and_counting_on(tmp_path, version):
    home = tmp_path / "home"
    old_store(home, version, numbers=[1, 2, 5])
    store = RunStore(home)
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [(run.number, run.name) for run in store.list_runs()] == [
        (5, "old #5"),
        (2, "old #2"),
        (1, "old #1"),
    ]
    assert store.get("old5").experiment_id is None
    new = finished_run(store, experiment_id="e1")
    assert (store.get(new).number, store.get(new).experiment_id) == (6, "e1")
    store.delete(new)
    store.delete("old5")
    assert store.get(finished_run(store)).number == 7


def test_a_folder_in_place_of_the_database_is_refused_and_kept(tmp_path):
    (tmp_path / "runs.sqlite3").mkdir()
    (tmp_path / "runs.sqlite3" / "notes.txt").write_text("mine")
    with pytest.raises(RunStoreError, match="KERAS_PLAYGROUND_HOME"):
        RunStore(tmp_path)
    assert (tmp_path / "runs.sqlite3" / "notes.txt").read_text() == "mine"


def test_a_store_damaged_after_opening_gives_the_message_and_is_kept(tmp_path):
    """Every later operation, not only opening: the file replaced while the app runs."""
    store = RunStore(tmp_path)
    run_id, _ = fill_run(store)
    garbage = b"these are my notes, not a database\n" * 200
    for name in ("runs.sqlite3-wal", "runs.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    (tmp_path / "runs.sqlite3").write_bytes(garbage)
    for operation in (
        store.list_runs,
        lambda: store.get(run_id),
        lambda: store.rename(run_id, "new"),
        lambda: store.create_run(small_spec(), "x"),
    ):
        with pytest.raises(RunStoreError, match="not a readable run store.*Move it aside"):
            operation()
    assert (tmp_path / "runs.sqlite3").read_bytes() == garbage
