"""What the run store hands out and the small rules about it: `RunSummary` (one row of the Runs
table), `Run` (a whole run), the store's errors, names, and the thinning of batch curves.
Nothing here touches the database file; `core.runs.store` turns rows into these records.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sqlite3
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from core.nets.model import OLD_FIELDS, ModelSpec, SpecError
from core.training.monitor import EPOCH_METRICS

MAX_STORED_BATCHES = 500
MAX_NAME_LENGTH = 120
STATUSES = ("running", "completed", "stopped", "failed", "interrupted", "imported")
FINISHED_STATUSES = ("completed", "stopped", "failed")

SUMMARY_COLUMNS = (
    "id, number, name, created, status, message, data_source, architecture, spec_json, "
    "epochs_planned, epochs_done, val_accuracy, test_loss, test_accuracy, training_seconds, "
    "model_file, experiment_id"
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
    experiment_id: str | None  # the experiment that queued it (core/experiments/runner.py), if any


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
        if not self.spec_dict or "model" in self.spec_dict:  # a scikit-learn baseline
            return None
        known = {f.name for f in fields(ModelSpec)} | set(OLD_FIELDS)  # old runs: flat form
        try:
            return ModelSpec.from_dict({k: v for k, v in self.spec_dict.items() if k in known})
        except (SpecError, TypeError):
            return None

    def history_csv(self) -> str:
        """The per-epoch history as CSV: epoch, loss, accuracy, val_loss, val_accuracy."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", *EPOCH_METRICS])
        for i in range(max((len(v) for v in self.history.values()), default=0)):
            values = [
                self.history[name][i] if i < len(self.history[name]) else math.nan
                for name in EPOCH_METRICS
            ]
            writer.writerow([i + 1, *("" if math.isnan(v) else repr(float(v)) for v in values)])
        return out.getvalue()


def thin(points: list, limit: int = MAX_STORED_BATCHES) -> list:
    """At most `limit` points evenly spread over `points`, keeping the first and the last."""
    if len(points) <= limit:
        return list(points)
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]


def file_stem(name: str) -> str:
    """A run's name made safe as a download's file name: "784-512-10 adam #3" -> "784-512-10_adam_3"."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return stem[:80] or "run"


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ValueError("A run's name cannot be empty; type a few words that describe it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"That name is {len(name)} characters; keep it to {MAX_NAME_LENGTH} or fewer."
        )
    return name


def short(value: float) -> float:
    value = float(value)
    return value if math.isnan(value) else float(f"{value:.6g}")


def summary_from_row(row: sqlite3.Row) -> RunSummary:
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
        experiment_id=row["experiment_id"],
    )


def interrupted_message(row: sqlite3.Row) -> str:
    done, planned = row["epochs_done"], row["epochs_planned"]
    if not done:
        return "The app stopped before the first epoch finished, so there is no model to use."
    of = f" of {planned}" if planned else ""
    text = f"The app stopped during training, after {done}{of} epochs; their history is kept"
    if row["model_file"] and row["model_epochs"]:
        return text + f", and the model saved after epoch {row['model_epochs']} can be used."
    return text + "."


def run_from_row(row: sqlite3.Row) -> Run:
    history = json.loads(row["history_json"] or "{}")
    return Run(
        **vars(summary_from_row(row)),
        updated=row["updated"],
        spec_dict=json.loads(row["spec_json"]) if row["spec_json"] else None,
        history={name: history.get(name, []) for name in EPOCH_METRICS},
        batches=[tuple(point) for point in json.loads(row["batches_json"] or "[]")],
        confusion=json.loads(row["confusion_json"]) if row["confusion_json"] else None,
        model_file=row["model_file"],
        model_epochs=row["model_epochs"],
        owner_pid=row["owner_pid"],
    )
