"""The Learn page's progress in the run store's database (core/runs/progress.py): kept across
reopening, a pass never taken back by a later failing check, "start again" forgets it but not
the runs, and a schema-3 store gains the table keeping its runs."""

from __future__ import annotations

import sqlite3

from core.runs.database import SCHEMA_VERSION
from core.runs.progress import LessonProgress, LessonState
from core.runs.store import RunStore
from tests.runs.test_database import TO_SCHEMA_3, old_store
from tests.support.specs import small_spec


def test_progress_is_kept_across_reopening_the_store(tmp_path):
    progress = LessonProgress(RunStore(tmp_path))
    assert progress.all() == {}
    progress.mark_set_up("01-xor")
    progress.mark_checked("02-no-hidden-layer", False, "Not yet.")
    progress.mark_set_up("03-hidden-layers")
    progress.mark_checked("03-hidden-layers", True, "Reached.")
    again = LessonProgress(RunStore(tmp_path)).all()
    assert {name: state.step for name, state in again.items()} == {
        "01-xor": "set up",
        "02-no-hidden-layer": "checked",
        "03-hidden-layers": "passed",
    }
    assert again["02-no-hidden-layer"].said == "Not yet."
    assert again["02-no-hidden-layer"].set_up is None


def test_a_pass_stays_when_a_later_check_fails_and_start_again_forgets_it(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(small_spec(), "x")
    progress = LessonProgress(store)
    progress.mark_checked("03-hidden-layers", True, "Reached.")
    first = progress.get("03-hidden-layers").passed
    progress.mark_checked("03-hidden-layers", False, "Your latest run fell short.")
    state = progress.get("03-hidden-layers")
    assert (state.step, state.passed, state.said) == (
        "passed",
        first,
        "Your latest run fell short.",
    )
    progress.start_again()
    assert progress.all() == {}
    assert progress.get("03-hidden-layers") == LessonState()
    assert store.exists(run_id)


def test_a_schema_3_store_gains_the_progress_table_and_keeps_its_runs(tmp_path):
    home = tmp_path / "home"
    old_store(home, 2, numbers=[1, 4])
    with sqlite3.connect(home / "runs.sqlite3") as conn:
        conn.executescript(TO_SCHEMA_3)
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    store = RunStore(home)
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
    conn.close()
    assert [run.number for run in store.list_runs()] == [4, 1]
    progress = LessonProgress(store)
    progress.mark_set_up("01-xor")
    assert progress.get("01-xor").step == "set up"
