"""Every run, kept: one SQLite table of runs plus one .keras model file per run.

The store lives in a folder (`default_home()`: $KERAS_PLAYGROUND_HOME, else ~/.keras-playground)
holding `runs.sqlite3` and `models/<run id>.keras`. A training job writes into it through two
listeners, called on its worker thread: `epoch_listener` after every complete epoch (history,
thinned batch curve, then the model, saved to a temporary file and renamed over the old one, so
a kill never leaves a broken file), and `finish_listener` once training ends. Every operation
opens its own connection (WAL mode, busy timeout), so worker threads, other processes and the
page can read and write at once. A run left "running" by a process that has died is marked
"interrupted" by `mark_interrupted`, keeping the epochs it finished and its last saved model.

`import_model` turns an uploaded .keras or .h5 file into a run, after `core.model_files` has
checked and loaded it safely. Keras is imported lazily.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from core.evaluation import confusion_matrix
from core.liveness import owner_alive, this_process
from core.model import OLD_FIELDS, ModelSpec, SpecError
from core.model_files import check_upload, read_upload
from core.monitor import EPOCH_METRICS

HOME_VARIABLE = "KERAS_PLAYGROUND_HOME"
DATABASE_NAME = "runs.sqlite3"
MODELS_FOLDER = "models"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 30.0
MAX_STORED_BATCHES = 500
MAX_NAME_LENGTH = 120
STALE_IMPORT_SECONDS = 3600
STATUSES = ("running", "completed", "stopped", "failed", "interrupted", "imported")
FINISHED_STATUSES = ("completed", "stopped", "failed")

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    data_source TEXT NOT NULL DEFAULT '',
    architecture TEXT NOT NULL DEFAULT '',
    spec_json TEXT,
    owner_pid INTEGER,
    owner_started REAL,
    epochs_planned INTEGER,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    val_accuracy REAL,
    test_loss REAL,
    test_accuracy REAL,
    training_seconds REAL,
    model_file TEXT,
    model_epochs INTEGER,
    history_json TEXT NOT NULL DEFAULT '{}',
    batches_json TEXT NOT NULL DEFAULT '[]',
    confusion_json TEXT
);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_created ON runs (created);
"""

SUMMARY_COLUMNS = (
    "id, number, name, created, status, message, data_source, architecture, spec_json, "
    "epochs_planned, epochs_done, val_accuracy, test_loss, test_accuracy, training_seconds, "
    "model_file"
)


class RunStoreError(RuntimeError):
    """The store cannot do what was asked; the message says why and what to do."""


class RunNotFoundError(RunStoreError, LookupError):
    """No run has that id (it may have been deleted in another tab)."""




@dataclass
class RunSummary:
    """One row of the Runs table: everything but the curves and the confusion matrix."""

    id: str
    number: int
    name: str
    created: float  # seconds since the epoch
    status: str
    message: str
    data_source: str
    architecture: str
    optimizer: str | None
    learning_rate: float | None
    batch_size: int | None
    epochs_planned: int | None
    epochs_done: int
    val_accuracy: float | None  # the last epoch's
    test_loss: float | None
    test_accuracy: float | None
    training_seconds: float | None
    has_model: bool


@dataclass
class Run(RunSummary):
    """A whole run: its summary plus spec, per-epoch history, batch curve and confusion matrix."""

    updated: float
    spec_dict: dict[str, Any] | None  # only the fields known (an import may know a few)
    history: dict[str, list[float]]
    batches: list[tuple[float, float, float]]  # (epoch + fraction, loss, accuracy)
    confusion: list[list[int]] | None  # rows: true digit, columns: predicted digit
    model_file: str | None
    model_epochs: int | None  # epochs the saved model had seen (None: no model or imported)
    owner_pid: int | None

    @property
    def spec(self) -> ModelSpec | None:
        """The full spec (unknown fields at their defaults), or None if there is none."""
        if not self.spec_dict:
            return None
        known = {f.name for f in fields(ModelSpec)} | set(OLD_FIELDS)  # old runs: flat form
        try:
            return ModelSpec.from_dict({k: v for k, v in self.spec_dict.items() if k in known})
        except (SpecError, TypeError):
            return None


def default_home() -> Path:
    """$KERAS_PLAYGROUND_HOME if set, else ~/.keras-playground."""
    configured = os.environ.get(HOME_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".keras-playground"


def thin(points: list, limit: int = MAX_STORED_BATCHES) -> list:
    """At most `limit` points evenly spread over `points`, keeping the first and the last."""
    if len(points) <= limit:
        return list(points)
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]


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
        self._migrate()

    # ----- connections -------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: safe against a killed app
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once so two writers never deadlock."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        try:
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
            with self._write() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise RunStoreError(
                        f"The run store {self.db_path} was written by a newer Keras Playground "
                        f"(schema {version}; this one reads up to {SCHEMA_VERSION}). Update the "
                        f"app, or set {HOME_VARIABLE} to another folder."
                    )
                if version == 0:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            raise RunStoreError(
                f"{self.db_path} is not a readable run store ({error}). Move it aside (your "
                f"model files in {self.models_dir} stay), or set {HOME_VARIABLE} to another folder."
            ) from error

    # ----- training runs -----------------------------------------------------------------

    def create_run(
        self,
        spec: ModelSpec,
        data_source: str,
        name: str | None = None,
        *,
        run_id: str | None = None,
    ) -> str:
        """A new run with status "running", owned by this process; returns its id.

        Pass the id to `TrainingJob(run_id=...)` so the listeners write into this run.
        """
        run_id = run_id or uuid.uuid4().hex[:12]
        now = time.time()
        pid, started = this_process()
        with self._write() as conn:
            number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs").fetchone()[0]
            conn.execute(
                "INSERT INTO runs (id, number, name, created, updated, status, message, "
                "data_source, architecture, spec_json, owner_pid, owner_started, epochs_planned) "
                "VALUES (?, ?, ?, ?, ?, 'running', 'Training…', ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    number,
                    _clean_name(name)
                    if name
                    else f"{spec.architecture()} {spec.optimizer} #{number}",
                    now,
                    now,
                    data_source,
                    spec.architecture(),
                    spec.to_json(),
                    pid,
                    started,
                    spec.epochs,
                ),
            )
        return run_id

    def epoch_listener(self, job, epoch: int, logs: dict) -> None:
        """For `TrainingJob(listeners=...)`: store the epochs so far, then the model.

        Runs on the worker thread after each complete epoch. A failure is logged and kept in
        `write_errors` rather than raised, so a full disk does not end the training itself.
        """
        try:
            snapshot = job.monitor.snapshot()
            if not self._write_progress(job.run_id, snapshot):
                self.create_run(job.spec, _data_source(job), run_id=job.run_id)
                self._write_progress(job.run_id, snapshot)
            if job.model is not None:
                name = self._save_model_file(job.run_id, job.model)
                with self._write() as conn:
                    self._attach_model(conn, job.run_id, name, snapshot.epoch)
        except Exception as error:
            self._log_failure(f"Could not store epoch {epoch + 1} of run {job.run_id}", error)

    def finish_listener(self, job) -> None:
        """For `TrainingJob(finish_listeners=...)`: store the outcome and the final model.

        A failed run keeps the model saved after its last good epoch (a run that failed by
        diverging has broken weights at the end); a completed or stopped run saves the model
        it ended with, the one its test accuracy was measured on (none if it was stopped
        before it learned anything).
        """
        try:
            snapshot = job.monitor.snapshot()
            status = snapshot.status if snapshot.status in FINISHED_STATUSES else "failed"
            message = snapshot.message
            model_name = None
            trained = snapshot.epoch > 0 or snapshot.test_accuracy is not None
            if job.model is not None and status != "failed" and trained:
                try:
                    model_name = self._save_model_file(job.run_id, job.model)
                except Exception as error:
                    message += f" (The final model could not be saved: {error}.)"
                    self._log_failure(f"Could not save the final model of {job.run_id}", error)
            confusion = None
            y_test = getattr(getattr(job, "data", None), "y_test", None)
            if job.test_probabilities is not None and y_test is not None:
                predictions = np.asarray(job.test_probabilities).argmax(axis=1)
                confusion = confusion_matrix(y_test, predictions).tolist()
            with self._connect() as conn:
                exists = conn.execute("SELECT 1 FROM runs WHERE id = ?", (job.run_id,)).fetchone()
            if not exists:
                self.create_run(job.spec, _data_source(job), run_id=job.run_id)
            with self._write() as conn:
                conn.execute(
                    "UPDATE runs SET status = ?, message = ?, test_loss = ?, test_accuracy = ?, "
                    "confusion_json = ?, updated = ? WHERE id = ?",
                    (
                        status,
                        message,
                        snapshot.test_loss,
                        snapshot.test_accuracy,
                        None if confusion is None else json.dumps(confusion),
                        time.time(),
                        job.run_id,
                    ),
                )
                self._progress_update(conn, job.run_id, snapshot)
                if model_name is not None:
                    self._attach_model(conn, job.run_id, model_name, snapshot.epoch)
        except Exception as error:
            self._log_failure(f"Could not store the end of run {job.run_id}", error)

    def _write_progress(self, run_id: str, snapshot) -> bool:
        with self._write() as conn:
            return self._progress_update(conn, run_id, snapshot)

    @staticmethod
    def _progress_update(conn: sqlite3.Connection, run_id: str, snapshot) -> bool:
        history = {
            name: [float(v) for v in snapshot.history.get(name, [])] for name in EPOCH_METRICS
        }
        batches = [
            [_short(x), _short(loss), _short(acc)] for x, loss, acc in thin(snapshot.batches)
        ]
        val = history["val_accuracy"][-1] if history["val_accuracy"] else None
        cursor = conn.execute(
            "UPDATE runs SET history_json = ?, batches_json = ?, epochs_done = ?, "
            "val_accuracy = ?, training_seconds = ?, updated = ? WHERE id = ?",
            (
                json.dumps(history),
                json.dumps(batches),
                snapshot.epoch,
                None if val is None or math.isnan(val) else val,
                snapshot.elapsed_seconds,
                time.time(),
                run_id,
            ),
        )
        return cursor.rowcount > 0

    def _save_model_file(self, run_id: str, model) -> str:
        """Save to a temporary file beside the final one, then rename it over it (atomic)."""
        final = self.models_dir / f"{run_id}.keras"
        partial = self.models_dir / f"{run_id}.{os.getpid()}-{threading.get_ident()}.partial.keras"
        try:
            model.save(partial)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        return final.name

    def _attach_model(self, conn: sqlite3.Connection, run_id: str, name: str, epochs) -> None:
        cursor = conn.execute(
            "UPDATE runs SET model_file = ?, model_epochs = ? WHERE id = ?", (name, epochs, run_id)
        )
        if cursor.rowcount == 0:  # the run was deleted meanwhile: do not leave its file behind
            (self.models_dir / name).unlink(missing_ok=True)

    def _log_failure(self, what: str, error: BaseException) -> None:
        logger.exception("%s", what)
        self.write_errors = [*self.write_errors[-19:], f"{what}: {error}"]

    def mark_interrupted(self) -> int:
        """Mark "running" runs whose owner process has died as "interrupted"; returns how many.

        A run is left alone while its owner lives (this process, or another app on the same
        store); the owner is recognised by process id and start time, so a reused id does not
        count. Leftover temporary model files of dead processes are removed.
        """
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, owner_pid, owner_started, epochs_done, epochs_planned, model_file, "
                "model_epochs FROM runs WHERE status = 'running'"
            ).fetchall()
        dead = [row for row in rows if not owner_alive(row["owner_pid"], row["owner_started"])]
        with self._write() as conn:
            for row in dead:
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', message = ?, updated = ? "
                    "WHERE id = ? AND status = 'running'",
                    (_interrupted_message(row), time.time(), row["id"]),
                )
        for partial in self.models_dir.glob("*.partial.keras"):
            pid = partial.name.split(".")[1].split("-")[0]
            if pid.isdigit() and not owner_alive(int(pid), None):
                partial.unlink(missing_ok=True)
        for scratch in self.home.glob("import-*"):  # an import cut short by a kill
            if time.time() - scratch.stat().st_mtime > STALE_IMPORT_SECONDS:
                shutil.rmtree(scratch, ignore_errors=True)
        return len(dead)

    # ----- reading -----------------------------------------------------------------------

    def list_runs(self) -> list[RunSummary]:
        """Every run, newest first, without histories or confusion matrices (fast)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM runs ORDER BY created DESC"
            ).fetchall()
        return [_summary(row) for row in rows]

    def get(self, run_id: str) -> Run:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(
                f"No run {run_id!r} in {self.db_path}; it may have been deleted. Refresh the page."
            )
        summary = _summary(row)
        history = json.loads(row["history_json"] or "{}")
        return Run(
            **vars(summary),
            updated=row["updated"],
            spec_dict=json.loads(row["spec_json"]) if row["spec_json"] else None,
            history={name: history.get(name, []) for name in EPOCH_METRICS},
            batches=[tuple(point) for point in json.loads(row["batches_json"] or "[]")],
            confusion=json.loads(row["confusion_json"]) if row["confusion_json"] else None,
            model_file=row["model_file"],
            model_epochs=row["model_epochs"],
            owner_pid=row["owner_pid"],
        )

    def rename(self, run_id: str, name: str) -> None:
        name = _clean_name(name)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET name = ?, updated = ? WHERE id = ?", (name, time.time(), run_id)
            )
        if cursor.rowcount == 0:
            raise RunNotFoundError(f"No run {run_id!r} to rename; it may have been deleted.")

    def delete(self, run_id: str) -> None:
        """Remove the run and its model file. A run still training cannot be deleted."""
        with self._write() as conn:
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
        (self.models_dir / f"{run_id}.keras").unlink(missing_ok=True)
        if row["model_file"]:
            (self.models_dir / row["model_file"]).unlink(missing_ok=True)

    def model_path(self, run_id: str) -> Path | None:
        """The run's .keras file, or None if it has none (no epoch finished) or it is gone."""
        with self._connect() as conn:
            row = conn.execute("SELECT model_file FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"No run {run_id!r}; it may have been deleted.")
        if not row["model_file"]:
            return None
        path = self.models_dir / row["model_file"]
        return path if path.exists() else None

    def load_model(self, run_id: str, *, compile: bool = True):
        """The run's Keras model, loaded in safe mode (no code from the file is run)."""
        import keras

        path = self.model_path(run_id)
        if path is None:
            raise RunStoreError(
                f"Run {run_id} has no saved model: it ended before its first epoch finished, "
                f"or its file was removed from {self.models_dir}. Train it again."
            )
        return keras.saving.load_model(path, safe_mode=True, compile=compile)

    def history_csv(self, run_id: str) -> str:
        """The per-epoch history as CSV: epoch, loss, accuracy, val_loss, val_accuracy."""
        history = self.get(run_id).history
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", *EPOCH_METRICS])
        for i in range(max((len(v) for v in history.values()), default=0)):
            values = [
                history[name][i] if i < len(history[name]) else math.nan for name in EPOCH_METRICS
            ]
            writer.writerow([i + 1, *("" if math.isnan(v) else repr(float(v)) for v in values)])
        return out.getvalue()

    def record_test_results(
        self,
        run_id: str,
        test_loss: float | None,
        test_accuracy: float | None,
        confusion: np.ndarray | list | None,
    ) -> None:
        """Keep a test-set evaluation made later (for example of an imported model)."""
        with self._write() as conn:
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

    # ----- importing ---------------------------------------------------------------------

    def import_model(self, data: bytes, filename: str, name: str | None = None) -> str:
        """Turn an uploaded .keras/.h5 model into a run (status "imported"); returns its id.

        Raises `ModelImportError` with a message for the person uploading; on refusal nothing
        is left behind.
        """
        suffix = check_upload(data, filename)
        scratch = Path(tempfile.mkdtemp(prefix="import-", dir=self.home))
        try:
            upload = scratch / f"upload{suffix}"
            upload.write_bytes(data)
            model, spec_dict, architecture, added_softmax = read_upload(upload, filename)
            run_id = uuid.uuid4().hex[:12]
            model.save(scratch / "model.keras")  # re-saved by Keras: a clean .keras either way
            note = (
                " Its outputs were raw scores, so a softmax was added to read them as "
                "probabilities."
                if added_softmax
                else ""
            )
            now = time.time()
            with self._write() as conn:
                number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs").fetchone()[0]
                conn.execute(
                    "INSERT INTO runs (id, number, name, created, updated, status, message, "
                    "data_source, architecture, spec_json, model_file) "
                    "VALUES (?, ?, ?, ?, ?, 'imported', ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        number,
                        _clean_name(name)
                        if name
                        else f"{Path(filename).stem} (imported) #{number}",
                        now,
                        now,
                        f"Imported from {filename}.{note} Evaluate it on the test set on the "
                        "Evaluate page.",
                        f"imported file {filename}",
                        architecture,
                        json.dumps(spec_dict) if spec_dict else None,
                        f"{run_id}.keras",
                    ),
                )
            try:
                os.replace(scratch / "model.keras", self.models_dir / f"{run_id}.keras")
            except OSError:
                with self._write() as conn:
                    conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                raise
            return run_id
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


# ----- small helpers -----------------------------------------------------------------------


def file_stem(name: str) -> str:
    """A run's name made safe as a download's file name: "784-512-10 adam #3" -> "784-512-10_adam_3"."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return stem[:80] or "run"


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ValueError("A run's name cannot be empty; type a few words that describe it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"That name is {len(name)} characters; keep it to {MAX_NAME_LENGTH} or fewer."
        )
    return name


def _short(value: float) -> float:
    value = float(value)
    return value if math.isnan(value) else float(f"{value:.6g}")


def _data_source(job) -> str:
    data = getattr(job, "data", None)
    return str(getattr(data, "source", "") or "")


def _summary(row: sqlite3.Row) -> RunSummary:
    spec = json.loads(row["spec_json"]) if row["spec_json"] else {}
    return RunSummary(
        id=row["id"],
        number=row["number"],
        name=row["name"],
        created=row["created"],
        status=row["status"],
        message=row["message"],
        data_source=row["data_source"],
        architecture=row["architecture"],
        optimizer=spec.get("optimizer"),
        learning_rate=spec.get("learning_rate"),
        batch_size=spec.get("batch_size"),
        epochs_planned=row["epochs_planned"],
        epochs_done=row["epochs_done"],
        val_accuracy=row["val_accuracy"],
        test_loss=row["test_loss"],
        test_accuracy=row["test_accuracy"],
        training_seconds=row["training_seconds"],
        has_model=bool(row["model_file"]),
    )


def _interrupted_message(row: sqlite3.Row) -> str:
    done, planned = row["epochs_done"], row["epochs_planned"]
    if not done:
        return "The app stopped before the first epoch finished, so there is no model to use."
    of = f" of {planned}" if planned else ""
    text = f"The app stopped during training, after {done}{of} epochs; their history is kept"
    if row["model_file"] and row["model_epochs"]:
        return text + f", and the model saved after epoch {row['model_epochs']} can be used."
    return text + "."
