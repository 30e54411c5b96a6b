"""Experiments and their trials, kept beside the runs: `experiments.sqlite3` in the store's home.

An experiment row holds its definition (JSON), status and owner process; a trial row is one
planned run: its configuration, seed, the Optuna trial of its configuration, the run it became
in the run store, and its outcome. A trial is "queued" until a runner takes it, then "running",
then "completed", "failed" or (when Stop abandoned it or the app died) back to "queued" with its
attempt counted, so an experiment picks up where it stopped. The runs themselves, with their
curves and models, are ordinary runs in `RunStore`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.experiments.sweeps import ExperimentDefinition
from core.runs.database import Database
from core.runs.store import HOME_VARIABLE
from core.runtime.liveness import owner_alive, this_process

DATABASE_NAME = "experiments.sqlite3"
OPTUNA_DATABASE_NAME = "optuna.sqlite3"
SCHEMA_VERSION = 1
TRIAL_STATES = ("queued", "running", "completed", "failed")

SCHEMA = """
CREATE TABLE experiments (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    definition_json TEXT NOT NULL,
    backend TEXT NOT NULL DEFAULT 'embedded',
    owner_pid INTEGER,
    owner_started REAL
);
CREATE TABLE trials (
    experiment_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    config_index INTEGER NOT NULL,
    params_json TEXT NOT NULL,
    seed INTEGER NOT NULL,
    optuna_number INTEGER,
    run_id TEXT,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    val_accuracy REAL,
    test_accuracy REAL,
    started REAL,
    finished REAL,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (experiment_id, position)
);
"""


@dataclass
class Experiment:
    id: str
    number: int
    name: str
    created: float
    status: str  # running, stopped, completed, failed
    message: str
    definition: ExperimentDefinition
    backend: str
    owner_pid: int | None
    owner_started: float | None

    @property
    def study_name(self) -> str:
        return f"experiment-{self.number}-{self.id}"

    @property
    def owner_alive(self) -> bool:
        return owner_alive(self.owner_pid, self.owner_started)


@dataclass
class Trial:
    experiment_id: str
    position: int
    config_index: int
    params: dict[str, Any]
    seed: int
    optuna_number: int | None
    run_id: str | None
    status: str
    attempts: int
    val_accuracy: float | None
    test_accuracy: float | None
    started: float | None
    finished: float | None
    message: str

    @property
    def baseline(self) -> str | None:
        """The scikit-learn model this trial trains ("random_forest"), or None for a network."""
        return self.params.get("model")

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ExperimentStore:
    """Experiments in `home`/experiments.sqlite3; every call opens its own connection
    (core.runs.database.Database)."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / DATABASE_NAME
        self.optuna_path = self.home / OPTUNA_DATABASE_NAME
        self._db = Database(
            self.db_path,
            f"set {HOME_VARIABLE} to another folder",
            schema=SCHEMA,
            version=SCHEMA_VERSION,
            migrations={},
            what="experiment store",
        )
        self._connect, self._write = self._db.connect, self._db.write

    @property
    def optuna_url(self) -> str:
        """The Optuna storage URL; `optuna-dashboard <this>` opens every experiment's study."""
        return f"sqlite:///{self.optuna_path}"

    # ----- experiments ---------------------------------------------------------------------

    def create(self, definition: ExperimentDefinition, backend: str = "embedded") -> str:
        definition.validate()
        experiment_id = uuid.uuid4().hex[:10]
        now = time.time()
        with self._write() as conn:
            number = conn.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM experiments"
            ).fetchone()[0]
            name = definition.name.strip() or f"Experiment {number}"
            conn.execute(
                "INSERT INTO experiments (id, number, name, created, updated, status, "
                "definition_json, backend) VALUES (?, ?, ?, ?, ?, 'stopped', ?, ?)",
                (experiment_id, number, name, now, now, definition.to_json(), backend),
            )
        return experiment_id

    def get(self, experiment_id: str) -> Experiment:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM experiments WHERE id = ?", (experiment_id,)
            ).fetchone()
        if row is None:
            raise LookupError(f"No experiment {experiment_id!r}; it may have been deleted.")
        return _experiment(row)

    def list(self) -> list[Experiment]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM experiments ORDER BY created DESC").fetchall()
        return [_experiment(row) for row in rows]

    def set_status(self, experiment_id: str, status: str, message: str = "") -> None:
        """Record the experiment's status; "running" makes this process its owner."""
        pid, started = this_process() if status == "running" else (None, None)
        with self._write() as conn:
            conn.execute(
                "UPDATE experiments SET status = ?, message = ?, owner_pid = ?, "
                "owner_started = ?, updated = ? WHERE id = ?",
                (status, message, pid, started, time.time(), experiment_id),
            )

    def interrupted(self) -> list[Experiment]:
        """Experiments left "running" by a process that has died: to be resumed."""
        return [e for e in self.list() if e.status == "running" and not e.owner_alive]

    def delete(self, experiment_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM trials WHERE experiment_id = ?", (experiment_id,))
            conn.execute("DELETE FROM experiments WHERE id = ?", (experiment_id,))

    # ----- trials --------------------------------------------------------------------------

    def add_trials(
        self,
        experiment_id: str,
        config_index: int,
        params: dict,
        seeds: list[int],
        optuna_number: int | None,
    ) -> None:
        with self._write() as conn:
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM trials WHERE experiment_id = ?",
                (experiment_id,),
            ).fetchone()[0]
            for offset, seed in enumerate(seeds):
                conn.execute(
                    "INSERT INTO trials (experiment_id, position, config_index, params_json, "
                    "seed, optuna_number) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        experiment_id,
                        position + offset,
                        config_index,
                        json.dumps(params),
                        seed,
                        optuna_number,
                    ),
                )

    def unasked(self, experiment_id: str) -> dict[int, dict[str, Any]]:
        """Network configurations not yet asked of the Optuna study: index -> settings, in order.

        A grid's or the base's configuration is known before the study is, so it is queued
        (and trained) first and given its Optuna trial while its runs train.
        """
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT DISTINCT config_index, params_json FROM trials WHERE experiment_id = ? "
                "AND config_index >= 0 AND optuna_number IS NULL ORDER BY config_index",
                (experiment_id,),
            ).fetchall()
        return {row["config_index"]: json.loads(row["params_json"]) for row in rows}

    def set_optuna_number(self, experiment_id: str, config_index: int, number: int) -> None:
        """Record the Optuna trial of a configuration's trials."""
        with self._write() as conn:
            conn.execute(
                "UPDATE trials SET optuna_number = ? WHERE experiment_id = ? AND config_index = ?",
                (number, experiment_id, config_index),
            )

    def next_queued(self, experiment_id: str) -> Trial | None:
        """The trial `take_next` would take now, left in the queue."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM trials WHERE experiment_id = ? AND status = 'queued' "
                "ORDER BY position LIMIT 1",
                (experiment_id,),
            ).fetchone()
        return None if row is None else _trial(row)

    def trials(self, experiment_id: str) -> list[Trial]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM trials WHERE experiment_id = ? ORDER BY position", (experiment_id,)
            ).fetchall()
        return [_trial(row) for row in rows]

    def configurations(self, experiment_id: str) -> int:
        """How many network configurations have been planned (baselines not counted)."""
        networks = {t.config_index for t in self.trials(experiment_id) if t.baseline is None}
        return len(networks)

    def take_next(self, experiment_id: str) -> Trial | None:
        """The first queued trial, marked running (atomically, so two runners never share one)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM trials WHERE experiment_id = ? AND status = 'queued' "
                "ORDER BY position LIMIT 1",
                (experiment_id,),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE trials SET status = 'running', attempts = attempts + 1, started = ?, "
                "finished = NULL, message = '' WHERE experiment_id = ? AND position = ?",
                (time.time(), experiment_id, row["position"]),
            )
        trial = _trial(row)
        trial.status, trial.attempts = "running", trial.attempts + 1
        return trial

    def attach_run(self, trial: Trial, run_id: str) -> None:
        self._update(trial, run_id=run_id)

    def finish(self, trial: Trial, status: str, val_accuracy=None, test_accuracy=None, message=""):
        """Record a trial's outcome; "queued" puts it back in the queue (Stop, a dead worker)."""
        self._update(
            trial,
            status=status,
            val_accuracy=val_accuracy,
            test_accuracy=test_accuracy,
            finished=time.time(),
            message=message,
        )

    def requeue_running(self, experiment_id: str) -> int:
        """Put trials left "running" (by a dead process) back in the queue; returns how many."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE trials SET status = 'queued', message = 'Interrupted; queued again.' "
                "WHERE experiment_id = ? AND status = 'running'",
                (experiment_id,),
            )
        return cursor.rowcount

    def _update(self, trial: Trial, **values) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._write() as conn:
            conn.execute(
                f"UPDATE trials SET {columns} WHERE experiment_id = ? AND position = ?",
                (*values.values(), trial.experiment_id, trial.position),
            )


def _experiment(row: sqlite3.Row) -> Experiment:
    return Experiment(
        id=row["id"],
        number=row["number"],
        name=row["name"],
        created=row["created"],
        status=row["status"],
        message=row["message"],
        definition=ExperimentDefinition.from_json(row["definition_json"]),
        backend=row["backend"],
        owner_pid=row["owner_pid"],
        owner_started=row["owner_started"],
    )


def _trial(row: sqlite3.Row) -> Trial:
    return Trial(
        experiment_id=row["experiment_id"],
        position=row["position"],
        config_index=row["config_index"],
        params=json.loads(row["params_json"]),
        seed=row["seed"],
        optuna_number=row["optuna_number"],
        run_id=row["run_id"],
        status=row["status"],
        attempts=row["attempts"],
        val_accuracy=row["val_accuracy"],
        test_accuracy=row["test_accuracy"],
        started=row["started"],
        finished=row["finished"],
        message=row["message"],
    )
