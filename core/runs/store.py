"""Every run, kept: one SQLite table of runs plus one .keras model file per run.

The store lives in a folder (`default_home()`: $KERAS_PLAYGROUND_HOME, else ~/.keras-playground)
holding `runs.sqlite3` (`core.runs.database`: schema, migrations, connections) and
`models/<run id>.keras`. A training run is created by `create_run`, then written by its
`core.runs.recorder.RunRecorder` on the training thread: `write_progress` and `save_model` after
every complete epoch, `finish_run` once it ends. Each write reports whether the run still
exists, so a run deleted while it trains is never written again. A run left "running" by a dead
process is marked "interrupted" by `mark_interrupted` (`core.runtime.liveness` says who is
alive), keeping its finished epochs and last saved model. Records (`RunSummary`, `Run`) and
errors live in `core.runs.records`; `core.runs.model_writes` writes model files atomically (the
process's exit waits for them). `import_model` turns an uploaded .keras or .h5 file into a run,
once `core.nets.model_files` has checked and loaded it safely. Keras is imported lazily.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.nets.model import ModelSpec
from core.nets.model_files import file_sha256, load_in_safe_mode, resave_upload
from core.runs.database import Database, next_run_number
from core.runs.model_writes import save_atomically
from core.runs.records import (
    FINISHED_STATUSES,
    SUMMARY_COLUMNS,
    Run,
    RunNotFoundError,
    RunStoreError,
    RunSummary,
    clean_name,
    interrupted_message,
    run_from_row,
    short,
    summary_from_row,
    thin,
)
from core.runs.sklearn_file import load_baseline
from core.runtime.liveness import owner_alive, remove_leftovers, this_process
from core.training.monitor import EPOCH_METRICS

HOME_VARIABLE = "KERAS_PLAYGROUND_HOME"
DATABASE_NAME = "runs.sqlite3"
MODELS_FOLDER = "models"

logger = logging.getLogger(__name__)


def default_home() -> Path:
    """$KERAS_PLAYGROUND_HOME if set, else ~/.keras-playground."""
    configured = os.environ.get(HOME_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".keras-playground"


class RunStore:
    """Runs in `home`/runs.sqlite3 and their models in `home`/models; safe across threads."""

    def __init__(self, home: str | os.PathLike | None = None) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.models_dir = self.home / MODELS_FOLDER
        self.db_path = self.home / DATABASE_NAME
        self.write_errors: list[str] = []  # failures the listeners logged instead of raising
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunStoreError(
                f"Cannot create the run store folder {self.home} ({error}). Set "
                f"{HOME_VARIABLE} to a folder you can write to."
            ) from error
        self._db = Database(
            self.db_path,
            f"set {HOME_VARIABLE} to another folder (your model files in {self.models_dir} stay)",
        )

    def check(self) -> None:
        """Raise `RunStoreError`, with advice, if the database cannot be read now."""
        self._db.check()

    def create_run(
        self,
        spec: ModelSpec,
        data_source: str,
        name: str | None = None,
        *,
        run_id: str | None = None,
        experiment_id: str | None = None,
    ) -> str:
        """A new run with status "running", owned by this process; returns its id (give it
        to the `RunRecorder` that will write the run). `experiment_id` tags a run an
        experiment queued."""
        return self._insert_run(
            lambda number: (
                clean_name(name) if name else f"{spec.architecture()} {spec.optimizer} #{number}"
            ),
            data_source=data_source,
            architecture=spec.architecture(),
            spec_json=spec.to_json(),
            epochs_planned=spec.epochs,
            experiment_id=experiment_id,
            run_id=run_id,
        )

    def create_other_run(
        self,
        *,
        name: str,
        architecture: str,
        settings: dict[str, Any],
        data_source: str,
        experiment_id: str | None = None,
    ) -> str:
        """A new "running" run of a model that is not a `ModelSpec` network (a scikit-learn
        baseline, core/experiments/baselines.py): `settings` are stored as its spec, for comparison."""
        return self._insert_run(
            lambda number: clean_name(name),
            data_source=data_source,
            architecture=architecture,
            spec_json=json.dumps(settings, sort_keys=True),
            epochs_planned=1,
            experiment_id=experiment_id,
        )

    def _insert_run(
        self,
        name: Callable[[int], str],
        *,
        status: str = "running",
        message: str = "Training…",
        run_id: str | None = None,
        **values,
    ) -> str:
        """Insert a run with the next number (never one given before, even to a deleted run);
        `name(number)` names it. A "running" run is owned by this process; `values` are
        further columns."""
        run_id = run_id or uuid.uuid4().hex[:12]
        now = time.time()
        if status == "running":
            values["owner_pid"], values["owner_started"] = this_process()
        with self._db.write() as conn:
            number = next_run_number(conn)
            row = {"id": run_id, "number": number, "name": name(number), "created": now}
            row |= {"updated": now, "status": status, "message": message, **values}
            conn.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
        return run_id

    def write_progress(
        self,
        run_id: str,
        history: dict[str, list[float]],
        batches: list[tuple[float, float, float]],
        *,
        epochs_done: int,
        training_seconds: float,
        val_accuracy: float | None,
    ) -> bool:
        """Store a run's epochs so far; False (and nothing written) if the run is gone."""
        history = {name: [float(v) for v in history.get(name, [])] for name in EPOCH_METRICS}
        points = [[short(x), short(loss), short(acc)] for x, loss, acc in thin(batches)]
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET history_json = ?, batches_json = ?, epochs_done = ?, "
                "val_accuracy = ?, training_seconds = ?, updated = ? WHERE id = ?",
                (
                    json.dumps(history),
                    json.dumps(points),
                    epochs_done,
                    None if val_accuracy is None or math.isnan(val_accuracy) else val_accuracy,
                    training_seconds,
                    time.time(),
                    run_id,
                ),
            )
        return cursor.rowcount > 0

    def save_model(self, run_id: str, model, epochs: int) -> bool:
        """Save the run's model whole, as having seen `epochs` epochs; False if the run is gone.

        Saved to a temporary file beside the final one, then renamed over it (atomic), so a
        kill never leaves a broken file. A run deleted meanwhile keeps no file.
        """
        suffix = getattr(model, "file_suffix", ".keras")  # a baseline's model: ".joblib"
        final = self.models_dir / f"{run_id}{suffix}"
        save_atomically(model, final)
        checksum = None if suffix == ".keras" else file_sha256(final)
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET model_file = ?, model_epochs = ?, model_sha256 = ? WHERE id = ?",
                (final.name, epochs, checksum, run_id),
            )
        if cursor.rowcount == 0:  # deleted while it was saved: do not leave its file behind
            final.unlink(missing_ok=True)
        return cursor.rowcount > 0

    def finish_run(
        self,
        run_id: str,
        status: str,
        message: str,
        *,
        test_loss: float | None = None,
        test_accuracy: float | None = None,
        confusion: list[list[int]] | None = None,
    ) -> bool:
        """Store how a training run ended; False if the run is gone."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"{status!r} is not an end of a run; use one of {FINISHED_STATUSES}.")
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET status = ?, message = ?, test_loss = ?, test_accuracy = ?, "
                "confusion_json = ?, updated = ? WHERE id = ?",
                (
                    status,
                    message,
                    None if test_loss is None else float(test_loss),
                    None if test_accuracy is None else float(test_accuracy),
                    None if confusion is None else json.dumps(confusion),
                    time.time(),
                    run_id,
                ),
            )
        return cursor.rowcount > 0

    def log_failure(self, what: str, error: BaseException) -> None:
        """Log a write that failed on a worker thread, and keep it in `write_errors`."""
        logger.exception("%s", what)
        self.write_errors = [*self.write_errors[-19:], f"{what}: {error}"]

    def mark_interrupted(self) -> int:
        """Mark "running" runs whose owner process has died as "interrupted"; returns how many.

        A run is left alone while its owner lives (this process, or another app on the same
        store); the owner is recognised by process id and start time, so a reused id does not
        count. Leftover temporary model files of dead processes are removed.
        """
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT id, owner_pid, owner_started, epochs_done, epochs_planned, model_file, "
                "model_epochs FROM runs WHERE status = 'running'"
            ).fetchall()
        dead = [row for row in rows if not owner_alive(row["owner_pid"], row["owner_started"])]
        with self._db.write() as conn:
            for row in dead:
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', message = ?, updated = ? "
                    "WHERE id = ? AND status = 'running'",
                    (interrupted_message(row), time.time(), row["id"]),
                )
        remove_leftovers(self.models_dir, self.home)
        return len(dead)

    def list_runs(self) -> list[RunSummary]:
        """Every run, newest first, without histories or confusion matrices (fast)."""
        with self._db.connect() as conn:
            rows = conn.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM runs ORDER BY created DESC"
            ).fetchall()
        return [summary_from_row(row) for row in rows]

    def get(self, run_id: str) -> Run:
        with self._db.connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(
                f"No run {run_id!r} in {self.db_path}; it may have been deleted. Refresh the page."
            )
        return run_from_row(row)

    def exists(self, run_id: str) -> bool:
        with self._db.connect() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def rename(self, run_id: str, name: str) -> None:
        name = clean_name(name)
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET name = ?, updated = ? WHERE id = ?", (name, time.time(), run_id)
            )
        if cursor.rowcount == 0:
            raise RunNotFoundError(f"No run {run_id!r} to rename; it may have been deleted.")

    def delete(self, run_id: str) -> None:
        """Remove the run, its model and starting-weight files, its replay; never one training."""
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT status, owner_pid, owner_started, model_file, name FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                raise RunNotFoundError(f"No run {run_id!r} to delete; it may be deleted already.")
            if row["status"] == "running" and owner_alive(row["owner_pid"], row["owner_started"]):
                raise RunStoreError(
                    f"{row['name']} is still training. Stop it on the Train page, then delete it."
                )
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            for table in ("replay_frames", "run_changes"):  # its replay, what was changed
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))  # noqa: S608
        for suffix in (".keras", ".start.npz"):  # see core/runs/lineage.py
            (self.models_dir / f"{run_id}{suffix}").unlink(missing_ok=True)
        if row["model_file"]:
            (self.models_dir / row["model_file"]).unlink(missing_ok=True)

    def model_path(self, run_id: str) -> Path | None:
        """The run's .keras file, or None if it has none (no epoch finished) or it is gone."""
        with self._db.connect() as conn:
            row = conn.execute("SELECT model_file FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"No run {run_id!r}; it may have been deleted.")
        if not row["model_file"]:
            return None
        path = self.models_dir / row["model_file"]
        return path if path.exists() else None

    def load_model(self, run_id: str, *, compile: bool = True):
        """The run's Keras model, loaded in safe mode (no code from the file is run)."""

        path = self.model_path(run_id)
        if path is None:
            raise RunStoreError(
                f"Run {run_id} has no saved model: it ended before its first epoch finished, "
                f"or its file was removed from {self.models_dir}. Train it again."
            )
        if path.suffix == ".joblib":  # a baseline's model, written by this app (never uploaded)
            with self._db.connect() as conn:
                row = conn.execute("SELECT model_sha256 FROM runs WHERE id = ?", (run_id,))
                return load_baseline(path, row.fetchone()["model_sha256"])
        return load_in_safe_mode(path, compile=compile)

    def history_csv(self, run_id: str) -> str:
        """The per-epoch history as CSV: epoch, loss, accuracy, val_loss, val_accuracy."""
        return self.get(run_id).history_csv()

    def record_test_results(
        self,
        run_id: str,
        test_loss: float | None,
        test_accuracy: float | None,
        confusion: np.ndarray | list | None,
    ) -> None:
        """Keep a test-set evaluation made later (for example of an imported model)."""
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET test_loss = ?, test_accuracy = ?, confusion_json = ?, updated = ? "
                "WHERE id = ?",
                (
                    None if test_loss is None else float(test_loss),
                    None if test_accuracy is None else float(test_accuracy),
                    None if confusion is None else json.dumps(np.asarray(confusion).tolist()),
                    time.time(),
                    run_id,
                ),
            )
        if cursor.rowcount == 0:
            raise RunNotFoundError(f"No run {run_id!r}; it may have been deleted.")

    def import_model(self, data: bytes, filename: str, name: str | None = None) -> str:
        """Turn an uploaded .keras/.h5 model into a run (status "imported"); returns its id.

        Raises `ModelImportError` with a message for the person uploading; on refusal nothing
        is left behind.
        """
        scratch = Path(tempfile.mkdtemp(prefix="import-", dir=self.home))
        try:
            upload = resave_upload(data, filename, scratch)
            run_id = uuid.uuid4().hex[:12]
            self._insert_run(
                lambda number: (
                    clean_name(name) if name else f"{Path(filename).stem} (imported) #{number}"
                ),
                status="imported",
                message=upload.message,
                run_id=run_id,
                data_source=f"imported file {filename}",
                architecture=upload.architecture,
                spec_json=json.dumps(upload.spec_dict) if upload.spec_dict else None,
                model_file=f"{run_id}.keras",
            )
            try:
                os.replace(upload.path, self.models_dir / f"{run_id}.keras")
            except OSError:
                with self._db.write() as conn:
                    conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                raise
            return run_id
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
