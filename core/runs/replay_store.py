"""A run's replay frames in the run store: one row per run and epoch, table `replay_frames`.

Each row holds one `core.training.replay.ReplayFrame`: the templates as float16 bytes with
their shape, the diagram and the confusion matrix as JSON. For the 512-512 network that is
about 60 kB an epoch, nearly all of it the 36 templates of 784 weights (bench/replay.py
measures a run's bytes). A frame is written only while its run exists, so a run deleted while
it trains keeps none; `RunStore.delete` deletes a run's frames with it.

`replay_recorder` makes the callback that records a run's frames into the store as it trains
(core/runs/start.py adds it to every run started from the Train page).
"""

from __future__ import annotations

import json

import numpy as np

from core.mnist.data import MNIST
from core.runs.store import RunStore
from core.training.replay import ReplayFrame, diagram_from_dict, diagram_to_dict, held_out_digits


class ReplayStore:
    """The replay frames of the runs in `store`."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._db = store._db  # the store's own database file, as core/runs/lineage.py uses it

    def add(self, run_id: str, frame: ReplayFrame) -> bool:
        """Keep `frame` of run `run_id` (replacing that epoch's); False, nothing kept, if the
        run is gone."""
        templates = frame.templates
        row = (
            run_id,
            frame.epoch,
            frame.kind,
            None if templates is None else json.dumps(list(templates.shape)),
            None if templates is None else templates.astype("<f2").tobytes(),
            json.dumps(diagram_to_dict(frame.diagram), separators=(",", ":")),
            json.dumps(np.asarray(frame.confusion).tolist(), separators=(",", ":")),
            frame.digits,
        )
        with self._db.write() as conn:
            cursor = conn.execute(
                "INSERT OR REPLACE INTO replay_frames (run_id, epoch, kind, shape_json, "
                "templates, diagram_json, confusion_json, digits) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)",
                (*row, run_id),
            )
        return cursor.rowcount > 0

    def epochs(self, run_id: str) -> list[int]:
        """The epochs of run `run_id` that have a frame, in order ([] for none)."""
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT epoch FROM replay_frames WHERE run_id = ? ORDER BY epoch", (run_id,)
            ).fetchall()
        return [int(row[0]) for row in rows]

    def frame(self, run_id: str, epoch: int) -> ReplayFrame | None:
        """Run `run_id`'s frame of `epoch`, or None if it has none."""
        with self._db.connect() as conn:
            row = conn.execute(
                "SELECT * FROM replay_frames WHERE run_id = ? AND epoch = ?", (run_id, epoch)
            ).fetchone()
        if row is None:
            return None
        templates = None
        if row["templates"] is not None:
            shape = tuple(json.loads(row["shape_json"]))
            templates = np.frombuffer(row["templates"], dtype="<f2").reshape(shape)
        return ReplayFrame(
            epoch=int(row["epoch"]),
            kind=row["kind"],
            templates=templates,
            diagram=diagram_from_dict(json.loads(row["diagram_json"])),
            confusion=np.asarray(json.loads(row["confusion_json"]), dtype=np.int64),
            digits=int(row["digits"]),
        )

    def stored_bytes(self, run_id: str) -> int:
        """The bytes of run `run_id`'s frames: templates, diagrams and matrices as stored."""
        with self._db.connect() as conn:
            row = conn.execute(
                "SELECT SUM(COALESCE(LENGTH(templates), 0) + LENGTH(diagram_json) + "
                "LENGTH(confusion_json) + COALESCE(LENGTH(shape_json), 0) + LENGTH(kind) + 16) "
                "FROM replay_frames WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        return int(row[0] or 0)

    def delete(self, run_id: str) -> None:
        """Forget run `run_id`'s frames."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM replay_frames WHERE run_id = ?", (run_id,))


def replay_recorder(store: RunStore, run_id: str, data: MNIST):
    """The callback (`ReplayRecorder`) that records run `run_id`'s frames into `store` as it
    trains, its confusion matrices counted on `data`'s held-out test digits."""
    from core.training.replay_callback import ReplayRecorder  # Keras: not at start-up

    replays = ReplayStore(store)
    images, labels = held_out_digits(data)
    return ReplayRecorder(images, labels, lambda frame: replays.add(run_id, frame))
