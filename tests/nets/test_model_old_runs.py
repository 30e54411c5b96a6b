"""Runs stored before the layer list (their spec in the old flat form, in the run store's
schema 1) keep working: they load, compare with today's runs and retrain."""

import json
import sqlite3

from core.charts.runs import differing_rows, spec_table
from core.nets.model import ModelSpec, count_parameters
from core.runs.store import RunStore
from core.training.job import TrainingJob
from tests.support.digits import patch_digits
from tests.support.specs import KERAS_CONVNET

# The run store's schema 1 and a run as the app wrote it before `layers` (its spec in the old
# flat form), copied from core/runs.py at commit 858b394.
OLD_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL, name TEXT NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
    data_source TEXT NOT NULL DEFAULT '', architecture TEXT NOT NULL DEFAULT '', spec_json TEXT,
    owner_pid INTEGER, owner_started REAL, epochs_planned INTEGER,
    epochs_done INTEGER NOT NULL DEFAULT 0, val_accuracy REAL, test_loss REAL,
    test_accuracy REAL, training_seconds REAL, model_file TEXT, model_epochs INTEGER,
    history_json TEXT NOT NULL DEFAULT '{}', batches_json TEXT NOT NULL DEFAULT '[]',
    confusion_json TEXT
);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_created ON runs (created);
"""
OLD_SPEC = {
    "hidden_units": [16],
    "activations": ["tanh"],
    "dropouts": [0.25],
    "optimizer": "adam",
    "learning_rate": 0.003,
    "lr_schedule": "constant",
    "loss": "categorical_crossentropy",
    "batch_size": 32,
    "epochs": 2,
    "early_stopping": False,
    "patience": 2,
    "restore_best_weights": True,
    "validation_split": 0.1,
    "seed": 7,
}


def write_old_store(home) -> str:
    home.mkdir(parents=True)
    history = {"loss": [1.2, 0.6], "accuracy": [0.6, 0.8], "val_loss": [0.9, 0.5]}
    history["val_accuracy"] = [0.7, 0.85]
    conn = sqlite3.connect(home / "runs.sqlite3")
    conn.executescript(OLD_SCHEMA)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO runs (id, number, name, created, updated, status, message, data_source, "
        "architecture, spec_json, epochs_planned, epochs_done, val_accuracy, test_loss, "
        "test_accuracy, training_seconds, history_json) "
        "VALUES ('old1', 1, 'from last year', 1.0, 2.0, 'completed', 'Trained 2 epochs.', "
        "'mnist', '784-16-10', ?, 2, 2, 0.85, 0.5, 0.84, 3.0, ?)",
        (json.dumps(OLD_SPEC), json.dumps(history)),
    )
    conn.commit()
    conn.close()
    return "old1"


def test_a_run_stored_in_the_old_form_loads_compares_and_retrains(tmp_path):
    run_id = write_old_store(tmp_path / "home")
    store = RunStore(tmp_path / "home")
    [summary] = store.list_runs()
    assert (summary.id, summary.architecture, summary.optimizer) == (run_id, "784-16-10", "adam")
    old = store.get(run_id)
    spec = old.spec
    assert spec.layers == [
        {"type": "Dense", "units": 16, "activation": "tanh"},
        {"type": "Dropout", "rate": 0.25},
    ]
    assert (spec.learning_rate, spec.batch_size, spec.seed) == (0.003, 32, 7)
    assert spec.architecture() == old.architecture
    # compare it with a run stored today
    new = store.get(store.create_run(ModelSpec(layers=KERAS_CONVNET, epochs=2), "mnist"))
    table = spec_table([old, new])
    assert table.loc["Layer 1"].tolist() == ["Dense 16, tanh", "Conv2D 32 of 3x3, relu"]
    assert table.loc["Layer 2"].tolist() == ["Dropout 0.25", "MaxPooling2D 2x2"]
    assert differing_rows(table)["Learning rate"] and not differing_rows(table)["Optimizer"]
    # and retrain it
    job = TrainingJob(spec, patch_digits(n_train=200, n_test=50), steps_per_execution=1).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "completed" and len(snapshot.history["loss"]) == 2
    assert job.model.count_params() == count_parameters(spec) == 784 * 16 + 16 + 16 * 10 + 10
