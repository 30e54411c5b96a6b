"""A run steered while it trained exports a script that trains it the same way: the script's
callback sets the same learning rate and weight decay before the same batches, and its history
equals the app's (tests/export/test_keras_script.py does the same for runs never steered)."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np

from core.export.keras_script import export_script, script_filename
from core.training.job import TrainingJob
from core.training.steering import Change
from tests.support.digits import patch_digits, write_idx_folder
from tests.support.specs import small_spec

SPEC = small_spec(units=16, epochs=2, batch_size=32)
# A constant rate, and a cosine schedule whose new peak scales the rest of it.
SPECS = {
    "constant": SPEC,
    "cosine": small_spec(units=16, epochs=2, batch_size=32, lr_schedule="cosine"),
}
HISTORY_TOLERANCE = 1e-6  # as tests/export/test_keras_script.py

# Each script run as `python script.py DATA` would, in one process; their histories printed.
DRIVER = """
import json, runpy, sys
data, scripts = sys.argv[1], sys.argv[2:]
histories = []
for script in scripts:
    sys.argv = [script, data]
    names = runpy.run_path(script, run_name="__main__")
    history = names["history"].history
    histories.append({k: [float(v) for v in vs] for k, vs in history.items()})
print(json.dumps(histories))
"""


class AskAt(keras.callbacks.Callback):
    """Asks the job for a new rate, then a new decay, at batch ends in the first epoch."""

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job

    def on_train_batch_end(self, batch, logs=None):
        if batch >= 3 and self.job.steer.learning_rate == self.job.spec.learning_rate:
            self.job.steer.set_learning_rate(0.01)
        elif batch >= 7 and self.job.steer.weight_decay == 0:
            self.job.steer.set_weight_decay(0.02)


def steered_run(spec, data) -> TrainingJob:
    job = TrainingJob(spec, data, steps_per_execution=4)
    job.callbacks.append(AskAt(job))
    job.start()
    assert job.join(timeout=120)
    assert job.result.status == "completed", job.result.message
    return job


def test_the_steered_runs_script_trains_as_the_app_did(tmp_path):
    data = patch_digits(n_train=400, n_test=60, seed=21)
    write_idx_folder(tmp_path, data)
    jobs, scripts = [], []
    for name, spec in SPECS.items():
        job = steered_run(spec, data)
        changes = job.steer.changes()
        assert [c.kind for c in changes] == ["learning_rate", "weight_decay"], name
        script = tmp_path / f"{name}_{script_filename(spec)}"
        script.write_text(export_script(spec, changes))
        jobs.append(job)
        scripts.append(str(script))
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path), *scripts],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    histories = json.loads(done.stdout.strip().splitlines()[-1])
    for name, job, history in zip(SPECS, jobs, histories, strict=True):
        app = job.snapshot().history
        for metric, values in history.items():
            assert np.allclose(values, app[metric], rtol=0, atol=HISTORY_TOLERANCE), (name, metric)


def test_a_script_lists_each_change_with_its_batch_and_says_pauses_change_nothing():
    changes = [
        Change.at("learning_rate", 25, 12, 0.0003),
        Change.at("pause", 30, 12, 4.0),
        Change.at("weight_decay", 31, 12, 0.0001),
    ]
    script = export_script(SPEC, changes)
    assert '(25, "learning_rate", 0.0003),  # epoch 3, batch 2' in script
    assert '(31, "weight_decay", 0.0001),  # epoch 3, batch 8' in script
    assert "# Paused 4 s after batch 30 (a pause changes no number)." in script
    assert "callbacks=[steering]," in script
    assert "class Steering" not in export_script(SPEC, changes[1:2])  # a pause alone: none
