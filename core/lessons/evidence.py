"""What a lesson's check looks at: one `Evidence` per finished run (or the XOR network).

An `Evidence` is plain values: `traits` say what was trained (hidden layers, dropout, learning
rate...), `figures` what it reached (test accuracy, the gap between training and validation
accuracy...), `notes` a few sentences worth telling (the digits it mixes up most), each named
in core/lessons/terms.py; the checks (core/lessons/checks.py) never look at a run any other
way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.lessons.terms import FIGURES
from core.nets.model import count_parameters
from core.plane.xor import XorSnapshot
from core.runs.records import Run
from core.runs.store import RunStore

CHECKED_STATUSES = ("completed", "stopped", "failed", "interrupted")
MAX_RUNS_READ = 200  # the newest finished runs a check reads (each read whole, with its curves)


@dataclass
class Evidence:
    """One finished run, or the XOR network, as a check sees it."""

    label: str  # "run #12, 784-512-10"
    number: int  # newer runs have higher numbers
    traits: dict[str, Any]
    figures: dict[str, float | None]
    notes: dict[str, str] = field(default_factory=dict)


def _last(values: list[float]) -> float | None:
    return float(values[-1]) if values and not math.isnan(values[-1]) else None


def _run_figures(run: Run) -> dict[str, float | None]:
    val_acc = [v for v in run.history.get("val_accuracy", []) if not math.isnan(v)]
    val_loss = [v for v in run.history.get("val_loss", []) if not math.isnan(v)]
    accuracy = _last(run.history.get("accuracy", []))
    last_val = _last(run.history.get("val_accuracy", []))
    return {
        "test_accuracy": run.test_accuracy,
        "best_val_accuracy": max(val_acc) if val_acc else None,
        "first_val_accuracy": val_acc[0] if val_acc else None,
        "last_val_accuracy": last_val,
        "train_val_gap": None if accuracy is None or last_val is None else accuracy - last_val,
        "val_loss_rise": val_loss[-1] - min(val_loss) if val_loss else None,
        "epochs_trained": float(run.epochs_done),
        "accuracy": accuracy,
    }


def most_confused(confusion: list[list[int]] | None) -> str | None:
    """ "it took a 4 for a 9 most often (12 times)", from a confusion matrix."""
    if not confusion:
        return None
    worst = max(
        ((confusion[t][p], t, p) for t in range(len(confusion)) for p in range(len(confusion))),
        key=lambda cell: cell[0] if cell[1] != cell[2] else -1,
    )
    count, true, predicted = worst
    if true == predicted or count == 0:
        return "it made no mistakes on the test set"
    a = {digit: "an" if digit == 8 else "a" for digit in (true, predicted)}
    return f"it took {a[true]} {true} for {a[predicted]} {predicted} most often ({count} times)"


def from_run(run: Run) -> Evidence | None:
    """A finished MNIST run with a spec as evidence; None for anything else (a baseline, an
    imported model without a spec, a run still training)."""
    spec = run.spec
    if spec is None or run.status not in CHECKED_STATUSES:
        return None
    dropouts = [layer["rate"] for layer in spec.layers if layer["type"] == "Dropout"]
    units = spec.dense_units()
    traits = {
        "playground": "mnist",
        "dataset": "mnist",
        "hidden_layers": len(units),
        "units": units[0] if units else 0,
        "convolutional": spec.is_convolutional,
        "dropout": max(dropouts, default=0.0),
        "early_stopping": spec.early_stopping,
        "optimizer": spec.optimizer,
        "learning_rate": spec.learning_rate,
        "parameters": count_parameters(spec),
        "epochs": spec.epochs,
        "seed": spec.seed,
        "experiment": run.experiment_id is not None,
    }
    notes = {"most_confused": most_confused(run.confusion) or ""}
    label = f"run #{run.number}, {run.architecture}"
    return Evidence(label, run.number, traits, _run_figures(run), notes)


def from_xor(snapshot: XorSnapshot) -> Evidence | None:
    """The XOR page's network as this session left it; None before it has trained."""
    spec = snapshot.spec
    if spec is None or snapshot.epoch == 0 or snapshot.running:
        return None
    traits = {
        "playground": "xor",
        "dataset": spec.data,
        "hidden_layers": spec.hidden_layers,
        "units": spec.units[0] if spec.units else 0,
        "convolutional": False,
        "dropout": spec.dropout,
        "early_stopping": False,
        "optimizer": spec.optimizer,
        "learning_rate": spec.learning_rate,
        "parameters": 0,
        "epochs": snapshot.epoch,
        "seed": spec.seed,
        "experiment": False,
    }
    figures = {name: None for name in FIGURES}
    figures["accuracy"] = snapshot.last("accuracy")
    figures["epochs_trained"] = float(snapshot.epoch)
    label = f"{spec.architecture()}, {snapshot.epoch} epochs"
    return Evidence(label, 0, traits, figures)


def from_store(store: RunStore, limit: int = MAX_RUNS_READ) -> list[Evidence]:
    """The newest `limit` finished runs of `store` that a check can read, newest first."""
    summaries = [run for run in store.list_runs() if run.status in CHECKED_STATUSES]
    found = []
    for summary in summaries[:limit]:
        try:
            evidence = from_run(store.get(summary.id))
        except LookupError:  # deleted meanwhile, in another tab
            continue
        if evidence is not None:
            found.append(evidence)
    return found
