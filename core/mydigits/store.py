"""My digits, kept: a SQLite file, `home`/mydigits.sqlite3, beside the run store.

Its `digits` table holds the kept digits; `scores` holds each run's accuracy on them as last
measured on Evaluate (what the Runs table shows). Each digit's row holds a digit's label, the time it was kept, the (28, 28) float32 image the network saw
(its raw bytes, so it comes back bit for bit) and the canvas it was drawn on (a PNG, lossless),
if there was one. Every operation opens its own connection (WAL mode, a busy timeout), so pages
in several sessions can keep and delete at once. `add_many` (an import) is one transaction: all
of a file's digits are kept, or none. A file that cannot be used (damaged, not a database) gives
a `MyDigitsError` naming it; it is never changed.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from core.mydigits.records import (
    SIDE,
    DigitSet,
    MyDigit,
    MyDigitsError,
    Score,
    checked_image,
    checked_label,
)

FILE_NAME = "mydigits.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0
SCHEMA_VERSION = 2  # 2: the scores table (version 1's files gain it on opening)
SCHEMA = """
CREATE TABLE IF NOT EXISTS digits (
    id TEXT PRIMARY KEY,
    label INTEGER NOT NULL,
    created REAL NOT NULL,
    image BLOB NOT NULL,
    canvas BLOB
);
CREATE INDEX IF NOT EXISTS digits_by_created ON digits (created);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT PRIMARY KEY,
    accuracy REAL NOT NULL,
    loss REAL NOT NULL,
    count INTEGER NOT NULL,
    measured REAL NOT NULL
);
"""
IMAGE_BYTES = SIDE * SIDE * 4  # float32, little-endian


def _png(canvas: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(canvas, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _image(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").reshape(SIDE, SIDE).astype(np.float32)


class MyDigitsStore:
    """The learner's kept digits in `home`/mydigits.sqlite3; safe across threads."""

    def __init__(self, home: str | os.PathLike) -> None:
        self.home = Path(home).expanduser()
        self.path = self.home / FILE_NAME
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MyDigitsError(
                f"Cannot create the folder {self.home} for My digits ({error})."
            ) from error
        if self.path.exists():  # else made with the first digit kept: reading makes no file
            self._prepare()

    def _prepare(self) -> None:
        """Check the file's schema version and create its table if need be."""
        with self._transaction(self._connect(create=True)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise MyDigitsError(
                    f"{self.path} was written by a newer Keras Playground (schema {version}). "
                    "Update the app to use it."
                )
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """The file, or, while nothing has been kept and `create` is not asked, an empty table
        in memory (reading My digits then leaves no file behind)."""
        try:
            if not create and not self.path.exists():
                conn = sqlite3.connect(":memory:", isolation_level=None)
                conn.executescript(SCHEMA)
            else:
                conn = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
                )
                conn.execute("PRAGMA journal_mode=WAL")
            try:
                yield conn
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            raise MyDigitsError(
                f"{self.path} is not a readable My digits file ({error}). Move it aside to "
                "start a new set; the file is left as it is."
            ) from error

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        if not self.path.exists():
            self._prepare()
        return self._transaction(self._connect(create=True))

    @staticmethod
    @contextlib.contextmanager
    def _transaction(connection) -> Iterator[sqlite3.Connection]:
        with connection as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def keep(
        self, image, label, canvas: np.ndarray | None = None, created: float | None = None
    ) -> str:
        """Keep one digit; returns its id. A blank image or a label outside 0-9 is refused
        with a `MyDigitsError` and nothing is kept."""
        image = checked_image(image)
        label = checked_label(label)
        canvas_png = None if canvas is None else _png(canvas)
        digit_id = uuid.uuid4().hex
        with self._write() as conn:
            conn.execute(
                "INSERT INTO digits (id, label, created, image, canvas) VALUES (?, ?, ?, ?, ?)",
                (
                    digit_id,
                    label,
                    time.time() if created is None else float(created),
                    image.astype("<f4").tobytes(),
                    canvas_png,
                ),
            )
        return digit_id

    def add_many(self, digits: DigitSet) -> int:
        """Keep every digit of `digits` in one transaction (all or none); returns how many."""
        images = [checked_image(image) for image in digits.images]
        labels = [checked_label(int(label)) for label in digits.labels]
        now = time.time()
        rows = [
            (
                uuid.uuid4().hex,
                label,
                now if digits.created is None else float(digits.created[i]),
                image.astype("<f4").tobytes(),
                None if digits.canvases is None else _png(digits.canvases[i]),
            )
            for i, (image, label) in enumerate(zip(images, labels, strict=True))
        ]
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO digits (id, label, created, image, canvas) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def digits(self, label: int | None = None) -> list[MyDigit]:
        """The kept digits, oldest first (only those labelled `label`, if given)."""
        query = "SELECT id, label, created, image FROM digits"
        arguments: tuple = ()
        if label is not None:
            query += " WHERE label = ?"
            arguments = (checked_label(label),)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY created, rowid", arguments).fetchall()
        return [MyDigit(row[0], int(row[1]), float(row[2]), _image(row[3])) for row in rows]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM digits").fetchone()[0])

    def counts(self) -> dict[int, int]:
        """How many digits carry each label (labels with none are left out)."""
        with self._connect() as conn:
            rows = conn.execute("SELECT label, COUNT(*) FROM digits GROUP BY label").fetchall()
        return {int(label): int(n) for label, n in rows}

    def digit_set(self, with_canvases: bool = False) -> DigitSet:
        """Every kept digit as arrays, oldest first: what Evaluate tests on, Train adds and an
        export writes. Canvases (only when asked, and only if every digit has one) as RGBA."""
        columns = "label, created, image" + (", canvas" if with_canvases else "")
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {columns} FROM digits ORDER BY created, rowid").fetchall()
        images = np.empty((len(rows), SIDE, SIDE), np.float32)
        for i, row in enumerate(rows):
            images[i] = _image(row[2])
        canvases = None
        if with_canvases and rows and all(row[3] is not None for row in rows):
            shapes = {Image.open(io.BytesIO(row[3])).size for row in rows}
            if len(shapes) == 1:
                canvases = np.stack([_canvas(row[3]) for row in rows])
        return DigitSet(
            images=images,
            labels=np.array([row[0] for row in rows], dtype=np.uint8),
            created=np.array([row[1] for row in rows], dtype=np.float64),
            canvases=canvases,
        )

    def canvas(self, digit_id: str) -> np.ndarray | None:
        """The canvas digit `digit_id` was drawn on (H, W, 4) RGBA, or None if it has none."""
        with self._connect() as conn:
            row = conn.execute("SELECT canvas FROM digits WHERE id = ?", (digit_id,)).fetchone()
        return None if row is None or row[0] is None else _canvas(row[0])

    def relabel(self, digit_id: str, label) -> None:
        """Give digit `digit_id` another label (0-9); a `MyDigitsError` if it is not kept."""
        label = checked_label(label)
        if not self.path.exists():
            raise MyDigitsError("That digit is no longer kept (deleted meanwhile?).")
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE digits SET label = ? WHERE id = ?", (label, digit_id)
            ).rowcount
        if not changed:
            raise MyDigitsError("That digit is no longer kept (deleted meanwhile?).")

    def record_score(self, run_id: str, accuracy: float, loss: float, count: int) -> None:
        """Keep a run's accuracy and loss on `count` of My digits, replacing the last ones."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO scores (run_id, accuracy, loss, count, measured) "
                "VALUES (?, ?, ?, ?, ?)",
                (str(run_id), float(accuracy), float(loss), int(count), time.time()),
            )

    def scores(self) -> dict[str, Score]:
        """Each run's figures on My digits as last recorded, by run id."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, accuracy, loss, count, measured FROM scores"
            ).fetchall()
        return {
            row[0]: Score(float(row[1]), float(row[2]), int(row[3]), float(row[4])) for row in rows
        }

    def delete(self, digit_id: str) -> bool:
        """Forget digit `digit_id`; False if it was not kept."""
        if not self.path.exists():
            return False
        with self._write() as conn:
            return bool(conn.execute("DELETE FROM digits WHERE id = ?", (digit_id,)).rowcount)


def _canvas(blob: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(blob)) as picture:
        return np.asarray(picture.convert("RGBA"))
