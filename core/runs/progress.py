"""The Learn page's progress, kept in the run store's database (table `lesson_progress`).

One row per lesson: when it was set up, when it was last checked, when it first passed
(seconds since the epoch, None if not yet) and the sentence its last check said. It lives
beside the runs it was checked on, so it survives a restart and a move of the store's folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.runs.database import Database
from core.runs.store import HOME_VARIABLE, RunStore

STEPS = ("set_up", "checked", "passed")


@dataclass(frozen=True)
class LessonState:
    """Where one lesson stands: set up, checked and passed are when (None: not yet)."""

    set_up: float | None = None
    checked: float | None = None
    passed: float | None = None
    said: str = ""

    @property
    def step(self) -> str:
        """The furthest step reached: "passed", "checked", "set up" or "not started"."""
        if self.passed is not None:
            return "passed"
        if self.checked is not None:
            return "checked"
        return "set up" if self.set_up is not None else "not started"


class LessonProgress:
    """The progress rows of the run store `store` (its own connections to the same file)."""

    def __init__(self, store: RunStore) -> None:
        self._db = Database(store.db_path, f"set {HOME_VARIABLE} to another folder")

    def all(self) -> dict[str, LessonState]:
        """Every lesson with progress, by its name."""
        with self._db.connect() as conn:
            rows = conn.execute("SELECT * FROM lesson_progress").fetchall()
        return {
            row["lesson"]: LessonState(row["set_up"], row["checked"], row["passed"], row["said"])
            for row in rows
        }

    def get(self, lesson: str) -> LessonState:
        return self.all().get(lesson, LessonState())

    def mark_set_up(self, lesson: str) -> None:
        self._upsert(lesson, "set_up = ?", (time.time(),))

    def mark_checked(self, lesson: str, passed: bool, said: str) -> None:
        """Keep a check's sentence; a pass is kept even if a later check fails (the learner
        reached the point once; the sentence says what the latest runs show)."""
        now = time.time()
        if passed:
            self._upsert(
                lesson, "checked = ?, said = ?, passed = COALESCE(passed, ?)", (now, said, now)
            )
        else:
            self._upsert(lesson, "checked = ?, said = ?", (now, said))

    def start_again(self) -> None:
        """Forget every lesson's progress (the runs stay)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM lesson_progress")

    def _upsert(self, lesson: str, assignments: str, values: tuple) -> None:
        with self._db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO lesson_progress (lesson) VALUES (?)", (lesson,))
            conn.execute(
                f"UPDATE lesson_progress SET {assignments} WHERE lesson = ?", (*values, lesson)
            )
