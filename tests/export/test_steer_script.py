"""A run steered while it trained exports a script that trains it the same way: the script's
callback sets the same learning rate and weight decay before the same batches, and its history
equals the app's (tests/export/test_keras_script.py does the same for runs never steered)."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from core.export.keras_script import export_script, script_filename
from core.training.job import TrainingJob
from core.training.steering import Change
from tests.support.digits import patch_digits, write_idx_folder
from tests.support.specs import small_spec

SPEC = small_spec(units=16, epochs=2, batch_size=32)
HISTORY_TOLERANCE = 1e-6  # as tests/export/test_keras_script.py

DRIVER = """
import json, runpy, sys
sys.argv = sys.argv[1:]  # as `python script.py DATA` gives them
names = runpy.run_path(sys.argv[0], run_name="__main__")
print(json.dumps({k: [float(v) for v in vs] for k, vs in names["history"].history.items()}))
"""


class AskAt(keras.callbacks.Callback):
    """Asks the job for a new rate, then a new decay, at batch ends in the first epoch."""

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job

    def on_train_batch_end(self, batch, logs=None):
        if batch >= 3 and self.job.steer.learning_rate == SPEC.learning_rate:
            self.job.steer.set_learning_rate(0.01)
        elif batch >= 7 and self.job.steer.weight_decay == 0:
            self.job.steer.pause()
            self.job.steer.resume()
            self.job.steer.set_weight_decay(0.02)


@pytest.fixture(scope="module")
def steered_run():
    data = patch_digits(n_train=400, n_test=60, seed=21)
    job = TrainingJob(SPEC, data, steps_per_execution=4)
    job.callbacks.append(AskAt(job))
    job.start()
    assert job.join(timeout=120)
    assert job.result.status == "completed", job.result.message
    return data, job


def test_the_steered_runs_script_trains_as_the_app_did(steered_run, tmp_path):
    data, job = steered_run
    changes = job.steer.changes()
    assert [c.kind for c in changes if c.kind != "pause"] == ["learning_rate", "weight_decay"]
    write_idx_folder(tmp_path, data)
    script = tmp_path / script_filename(SPEC)
    script.write_text(export_script(SPEC, changes))
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(script), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    script_history = json.loads(done.stdout.strip().splitlines()[-1])
    app = job.snapshot().history
    for metric, values in script_history.items():
        assert np.allclose(values, app[metric], rtol=0, atol=HISTORY_TOLERANCE), metric
    # Without the callback the script trains another run: the changes are what it replays.
    assert export_script(SPEC) != export_script(SPEC, changes)


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
