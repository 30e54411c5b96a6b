"""A run's changes (core/runs/changes.py) are kept with it, in order, through a restart, and go
when it is deleted; a schema 4 store gains their table and keeps its runs."""

from __future__ import annotations

import sqlite3

from core.runs.changes import read_changes, write_changes
from core.runs.database import SCHEMA_VERSION
from core.runs.store import RunStore
from core.training.steering import Change
from tests.runs.test_database import schema_4_store
from tests.support.specs import small_spec

CHANGES = [
    Change.at("learning_rate", 25, 10, 0.0003),
    Change.at("pause", 31, 10, 12.5),
    Change.at("weight_decay", 40, 10, 0.0001),
]


def test_changes_survive_a_restart_in_order_and_go_with_their_run(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(small_spec(), "test digits")
    other = store.create_run(small_spec(), "test digits")
    assert read_changes(store, run_id) == []
    write_changes(store, run_id, CHANGES[:1])
    write_changes(store, run_id, CHANGES)  # the whole list again, as the recorder writes it
    assert read_changes(RunStore(tmp_path), run_id) == CHANGES
    assert read_changes(store, other) == []
    store.finish_run(run_id, "completed", "Trained.")
    store.delete(run_id)
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_changes").fetchone()[0] == 0
    conn.close()


def test_a_schema_4_store_gains_the_changes_table(tmp_path):
    run_id = schema_4_store(tmp_path / "home")
    upgraded = RunStore(tmp_path / "home")
    with sqlite3.connect(upgraded.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 5
    conn.close()
    assert upgraded.exists(run_id)
    write_changes(upgraded, run_id, CHANGES)
    assert read_changes(upgraded, run_id) == CHANGES
