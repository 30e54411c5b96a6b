"""The run store's SQLite file: its schema and migrations, and one connection per operation.

Every operation opens its own connection (WAL mode, a busy timeout), so worker threads, other
processes and the page can read and write at once (one more stays open, idle, so that closing
them is cheap); `write()` is one transaction that takes the
write lock at once, so two writers never deadlock. A file that cannot be read or written (not a
database, damaged, a folder, read-only) raises `RunStoreError` with advice, on opening or on any
later operation, and is never changed.

Runs are numbered from a counter kept in the database (`next_run_number`), never from the runs
left, so a deleted run's number is not given again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from core.runs.records import RunStoreError

SCHEMA_VERSION = 7
BUSY_TIMEOUT_SECONDS = 30.0
# The errors of a file that cannot be used (the others, a busy database say, pass unchanged).
UNUSABLE_FILE_ERRORS = (
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_PERM",
    "SQLITE_FULL",
)

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
    confusion_json TEXT,
    experiment_id TEXT,
    model_sha256 TEXT,
    parent_id TEXT,
    parent_epochs INTEGER,
    rewound_from TEXT,
    start_fingerprint TEXT
);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_created ON runs (created);
CREATE INDEX runs_by_experiment ON runs (experiment_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('run_number', 0);
CREATE TABLE lesson_progress (
    lesson TEXT PRIMARY KEY,
    set_up REAL,
    checked REAL,
    passed REAL,
    said TEXT NOT NULL DEFAULT ''
);
CREATE TABLE replay_frames (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    shape_json TEXT,
    templates BLOB,
    diagram_json TEXT NOT NULL,
    confusion_json TEXT NOT NULL,
    digits INTEGER NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
"""

# Schema 2: the experiment a run belongs to, and the checksum of a model file that is not a
# .keras (a baseline's .joblib).
MIGRATION_2 = """
ALTER TABLE runs ADD COLUMN experiment_id TEXT;
ALTER TABLE runs ADD COLUMN model_sha256 TEXT;
CREATE INDEX runs_by_experiment ON runs (experiment_id);
"""

# Schema 3: the last run number given, so that a number is never given twice. An older store
# starts it from the highest number left (a run deleted before the upgrade is not known).
MIGRATION_3 = """
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) SELECT 'run_number', COALESCE(MAX(number), 0) FROM runs;
"""

# Schema 4: the Learn page's progress, one row per lesson (core/runs/progress.py): when it was
# set up, last checked and first passed (seconds since the epoch), and what its check said.
MIGRATION_4 = """
CREATE TABLE lesson_progress (
    lesson TEXT PRIMARY KEY,
    set_up REAL,
    checked REAL,
    passed REAL,
    said TEXT NOT NULL DEFAULT ''
);
"""

# Schema 5: replay frames, one row per run and epoch (core/runs/replay_store.py): the first
# layer's templates (float16 bytes, their shape), the diagram and the held-out confusion matrix.
MIGRATION_5 = """
CREATE TABLE replay_frames (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    shape_json TEXT,
    templates BLOB,
    diagram_json TEXT NOT NULL,
    confusion_json TEXT NOT NULL,
    digits INTEGER NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
"""

# Schema 6: a run's lineage (core/runs/lineage.py): the run it continues and the epochs it
# carries from it, the run whose starting weights it was given (a rewind), and the SHA-256 of
# the weights it started from (its file, models/<id>.start.npz, sits beside its model).
MIGRATION_6 = """
ALTER TABLE runs ADD COLUMN parent_id TEXT;
ALTER TABLE runs ADD COLUMN parent_epochs INTEGER;
ALTER TABLE runs ADD COLUMN rewound_from TEXT;
ALTER TABLE runs ADD COLUMN start_fingerprint TEXT;
"""

# Schema 7: what the learner changed while a run trained (core/runs/changes.py): a new learning
# rate or weight decay from batch `step` on (epoch and batch within it, 0-based), or a pause
# after `step` batches (its value: seconds); `position` keeps their order.
MIGRATION_7 = """
CREATE TABLE run_changes (
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, position)
);
"""
SCHEMA += MIGRATION_7

MIGRATIONS = {
    1: MIGRATION_2,
    2: MIGRATION_3,
    3: MIGRATION_4,
    4: MIGRATION_5,
    5: MIGRATION_6,
    6: MIGRATION_7,
}  # from schema version N to N + 1


def next_run_number(conn: sqlite3.Connection) -> int:
    """The next run's number, counted on in the database (inside the caller's write)."""
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'run_number'")
    return conn.execute("SELECT value FROM counters WHERE name = 'run_number'").fetchone()[0]


class Database:
    """The SQLite file at `path`, created or migrated on opening. `advice` ends its errors.

    By default it holds the runs; another table set (the experiments') passes its own `schema`,
    `version`, `migrations` (each from version N to N + 1) and `what` it is called.
    """

    def __init__(
        self,
        path: Path,
        advice: str,
        *,
        schema: str = SCHEMA,
        version: int = SCHEMA_VERSION,
        migrations: dict[int, str] | None = None,
        what: str = "run store",
    ) -> None:
        self.path = path
        self.advice = advice
        self.schema = schema
        self.version = version
        self.migrations = MIGRATIONS if migrations is None else migrations
        self.what = what
        self._migrate()
        # One connection held open, never used: while it is, an operation's connection is not
        # the file's last one, whose closing, in WAL mode, checkpoints, syncs and deletes the
        # log every time, which made each write several times slower (more on a busy disk).
        # Its read opens the log; fetched to the end, it holds no
        # lock after.
        self._keeper = sqlite3.connect(self.path, check_same_thread=False)
        self._keeper.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One connection; a file that cannot be used raises `RunStoreError` with advice."""
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise self.unusable(error) from error
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: safe against a killed app
            yield conn
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorname", "").startswith(UNUSABLE_FILE_ERRORS):
                raise self.unusable(error) from error
            raise
        finally:
            conn.close()

    def check(self) -> None:
        """Raise `RunStoreError` if the file cannot be read now (damaged since it was opened)."""
        with self.connect() as conn:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()

    def unusable(self, error: sqlite3.Error) -> RunStoreError:
        return RunStoreError(
            f"{self.path} is not a readable {self.what} ({error}). Move it aside, or {self.advice}."
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once so two writers never deadlock."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        try:
            with self.connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
            with self.write() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > self.version:
                    raise RunStoreError(
                        f"The {self.what} {self.path} was written by a newer Keras Playground "
                        f"(schema {version}; this one reads up to {self.version}). Update the "
                        f"app, or {self.advice}."
                    )
                if version == self.version:
                    return
                if version == 0:
                    scripts = [self.schema]
                else:
                    scripts = [self.migrations[n] for n in range(version, self.version)]
                for script in scripts:
                    for statement in script.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {self.version}")
        except sqlite3.DatabaseError as error:
            raise self.unusable(error) from error
