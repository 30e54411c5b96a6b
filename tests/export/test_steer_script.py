"""A run steered while it trained exports a script that trains it the same way: the script's
callback sets the same learning rate and weight decay before the same batches, and its history
equals the app's. The runs steered here (`STEERED`, `steered_run`) have their scripts run, and
compared, in tests/export/test_keras_script.py, in the one fresh process that runs the scripts
of runs never steered (one TensorFlow import for both)."""

from __future__ import annotations

import keras

from core.export.keras_script import export_script
from core.training.job import TrainingJob
from core.training.steering import Change
from tests.support.specs import small_spec

SPEC = small_spec(units=16, epochs=2, batch_size=32)
# A constant rate, and a cosine schedule whose new peak scales the rest of it.
STEERED = {
    "constant": SPEC,
    "cosine": small_spec(units=16, epochs=2, batch_size=32, lr_schedule="cosine"),
}


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
