"""A run's lineage: continuing a stored run, rewinding to its starting weights, and telling
which runs share their starting weights.

Continue trains a stored run for more epochs as a NEW run that names its parent
(`parent_id`, and `parent_epochs`, the parent's epochs it carries): the parent stays as it
was, and the new run's history holds the parent's epochs first, then its own, numbered on.
Rewind starts a new run from exactly the weights another run started from (`rewound_from`),
with whatever setting the learner changed.

Every run keeps the weights it started from (`RunRecorder` copies them before the first batch
and writes them with `keep_start` at the end of the first epoch, or of the run):
`models/<id>.start.npz` beside its model file, 4 bytes a parameter (2.7 MB for
the default 784-512-512-10 network), and their SHA-256 (`start_fingerprint`). The seed alone
does not fix them across settings: a Dropout layer added or removed, or augmentation, draws
from the same random stream and moves every weight built after it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.nets.model import ModelSpec
from core.nets.model_files import load_in_safe_mode
from core.runs.records import RunStoreError
from core.runs.store import RunStore
from core.runtime.seeding import seeded
from core.training.starting import StartFrom, mismatch, weights_fingerprint

START_SUFFIX = ".start.npz"
MAX_EPOCHS = 1000  # ModelSpec's limit on epochs, which a continued run's count carries on

logger = logging.getLogger(__name__)


class LineageError(RunStoreError):
    """A run cannot be continued or rewound; the message says why and what to do."""


@dataclass(frozen=True)
class Lineage:
    """Where one run came from, and the weights it started from."""

    run_id: str
    parent_id: str | None  # the run it continues
    parent_epochs: int | None  # the parent's epochs it carries (its own start)
    rewound_from: str | None  # the run whose starting weights it was given
    start_fingerprint: str | None  # SHA-256 of its starting weights (None: not recorded)

    @property
    def short_fingerprint(self) -> str:
        return (self.start_fingerprint or "")[:8]


def start_path(store: RunStore, run_id: str) -> Path:
    """Where the run's starting weights are kept (the file may not exist)."""
    return store.models_dir / f"{run_id}{START_SUFFIX}"


def keep_start(store: RunStore, run_id: str, weights: list[np.ndarray]) -> str | None:
    """Keep `weights` (a model's `get_weights()`) as the run's starting weights (file and
    fingerprint); returns the fingerprint, None if the run is gone. Written through a
    temporary file, renamed over."""
    fingerprint = weights_fingerprint(weights)
    final = start_path(store, run_id)
    partial = final.with_name(f"{run_id}.{os.getpid()}-{threading.get_ident()}.partial.npz")
    try:
        np.savez(partial, *weights)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    with store._db.write() as conn:  # the store's own database: lineage is a part of it
        cursor = conn.execute(
            "UPDATE runs SET start_fingerprint = ? WHERE id = ?", (fingerprint, run_id)
        )
    if cursor.rowcount == 0:  # deleted meanwhile: leave nothing behind
        final.unlink(missing_ok=True)
        return None
    return fingerprint


def record_lineage(store: RunStore, run_id: str, starting: StartFrom) -> None:
    """Name where the new run `run_id` starts from: the run it continues, or rewinds to."""
    if starting.run_id is None:
        return
    values = (
        (starting.run_id, starting.initial_epoch, None)
        if starting.load_state is not None
        else (None, None, starting.run_id)
    )
    with store._db.write() as conn:
        conn.execute(
            "UPDATE runs SET parent_id = ?, parent_epochs = ?, rewound_from = ? WHERE id = ?",
            (*values, run_id),
        )


def lineages(store: RunStore, run_ids: list[str]) -> dict[str, Lineage]:
    """The lineage of each of `run_ids` still stored, by id."""
    if not run_ids:
        return {}
    with store._db.connect() as conn:
        rows = conn.execute(
            "SELECT id, parent_id, parent_epochs, rewound_from, start_fingerprint FROM runs "
            f"WHERE id IN ({', '.join('?' * len(run_ids))})",
            tuple(run_ids),
        ).fetchall()
    return {row["id"]: Lineage(*row) for row in rows}


def lineage(store: RunStore, run_id: str) -> Lineage:
    """The lineage of one run (all None for a run that is gone)."""
    return lineages(store, [run_id]).get(run_id, Lineage(run_id, None, None, None, None))


def start_weights(store: RunStore, run_id: str) -> list[np.ndarray]:
    """The weights the run started from; `LineageError` if they were not kept."""
    path = start_path(store, run_id)
    if not path.exists():
        raise LineageError(
            f"Run {run_id} has no starting weights kept: it was trained before they were "
            "recorded, was imported, or its file was removed. Rewind needs them."
        )
    with np.load(path, allow_pickle=False) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def _trained_spec(store: RunStore, run_id: str, doing: str):
    run = store.get(run_id)
    spec = run.spec
    if spec is None:
        raise LineageError(
            f"{run.name} has no network settings to {doing} (it was imported, or is a "
            "scikit-learn baseline). Train a network on the Train page instead."
        )
    return run, spec


def continue_start(store: RunStore, run_id: str, more_epochs: int) -> tuple[ModelSpec, StartFrom]:
    """The spec and starting state of a run that trains `run_id` for `more_epochs` more."""
    run, spec = _trained_spec(store, run_id, "continue")
    if run.status == "running":
        raise LineageError(f"{run.name} is still training; continue it once it has ended.")
    path = store.model_path(run_id)
    done = run.model_epochs or 0
    if path is None or path.suffix != ".keras" or not done:
        raise LineageError(
            f"{run.name} has no saved model to continue from (it ended before its first epoch, "
            "or its file was removed). Train it again instead."
        )
    if not 1 <= more_epochs <= MAX_EPOCHS - done:
        raise LineageError(
            f"{more_epochs} more epochs asked for; {run.name} has {done}, and a run has at "
            f"most {MAX_EPOCHS}: choose 1 to {MAX_EPOCHS - done}."
        )
    starting = StartFrom(
        load_state=lambda: load_stored(path, spec.seed),
        initial_epoch=done,
        history={name: values[:done] for name, values in run.history.items()},
        batches=tuple(point for point in run.batches if point[0] <= done + 1e-9),
        source=f"run #{run.number} after {done} epoch{'' if done == 1 else 's'}",
        run_id=run_id,
    )
    return replace(spec, epochs=done + more_epochs), starting


def load_stored(path: Path, seed: int):
    """The stored model at `path` with its optimizer, in safe mode. Made under `seeded`, as a
    build is: making its layers draws from the process's random numbers, which another
    session's build, under way on its own thread, must have to itself."""
    with seeded(seed):
        return load_in_safe_mode(path, compile=True)


def rewind_start(store: RunStore, run_id: str, spec: ModelSpec) -> StartFrom:
    """The starting state of a new run of `spec` from the weights `run_id` started from;
    `LineageError` with the fix if they do not fit `spec`'s network."""
    run = store.get(run_id)
    weights = start_weights(store, run_id)
    source = f"run #{run.number} ({run.name})"
    problem = mismatch([w.shape for w in weights], spec, source)
    if problem:
        raise LineageError(problem)
    return StartFrom(weights=tuple(weights), source=source, run_id=run_id)


def rewind_spec(store: RunStore, run_id: str) -> ModelSpec:
    """The spec a rewind of `run_id` starts with, before the learner changes a setting."""
    start_weights(store, run_id)  # refuse now, with the reason, if they were not kept
    return _trained_spec(store, run_id, "rewind")[1]
