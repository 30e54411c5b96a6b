"""What the learner changed while a run trained, kept with the run: the `run_changes` table.

A run's changes (`core.training.steering.Change`: a new learning rate or weight decay from a
batch on, a pause) are written whole by its recorder after every epoch and at its end, and read
back by the pages (the curves' marks) and by the exported script (its steering callback).
Deleting a run deletes its changes (`RunStore.delete`).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.training.steering import Change


def write_changes(store, run_id: str, changes: Sequence[Change]) -> None:
    """Store `changes` as the run's whole list (what was there before is replaced)."""
    with store._db.write() as conn:
        conn.execute("DELETE FROM run_changes WHERE run_id = ?", (run_id,))
        conn.executemany(
            "INSERT INTO run_changes (run_id, position, kind, step, epoch, batch, value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, i, c.kind, c.step, c.epoch, c.batch, c.value) for i, c in enumerate(changes)],
        )


def read_changes(store, run_id: str) -> list[Change]:
    """The run's changes in the order they happened (none for a run never steered)."""
    with store._db.connect() as conn:
        rows = conn.execute(
            "SELECT kind, step, epoch, batch, value FROM run_changes WHERE run_id = ? "
            "ORDER BY position",
            (run_id,),
        ).fetchall()
    return [Change.from_dict(dict(row)) for row in rows]
