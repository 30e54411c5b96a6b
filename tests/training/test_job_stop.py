"""Stop in a training job: the run ends promptly with its whole epochs kept, in the page's
snapshot and in the store, and validation is skipped once Stop is pressed (through Keras's
private `Trainer._should_eval`, which a test here watches)."""

import logging
import math
import threading
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras.src.trainers.trainer import Trainer

import core.training.job as job_module
from core.runs.recorder import RunRecorder
from core.runs.store import RunStore
from core.training.job import TrainingJob, _UntilStopped, check_keras_reads_validation_freq, epochs
from tests.support.digits import patch_digits
from tests.support.specs import small_spec
from tests.support.waiting import eventually


def test_stop_mid_run_keeps_model_and_history():
    job = TrainingJob(
        small_spec(epochs=200, batch_size=8), patch_digits(n_train=400), steps_per_execution=1
    )
    job.start()
    eventually(
        lambda: job.monitor.snapshot().epoch >= 1, message=lambda: job.monitor.snapshot().message
    )
    job.stop()
    assert job.join(timeout=60)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "stopped"
    assert 1 <= snapshot.epoch < 200
    assert len(snapshot.history["loss"]) == snapshot.epoch  # only whole epochs
    assert job.model is not None and snapshot.test_accuracy is not None
    assert f"after {epochs(snapshot.epoch, 'complete ')}." in snapshot.message


def test_stop_can_wait_for_the_run_to_show_its_end():
    job = TrainingJob(small_spec(epochs=200, batch_size=8), patch_digits(n_train=400))
    job.start()
    eventually(
        lambda: job.monitor.snapshot().epoch >= 1, message=lambda: job.monitor.snapshot().message
    )
    assert job.stop(wait=60) is True
    # No join: when stop returns, the page's next snapshot already says training has ended,
    # and with which epochs, while the test pass may still be under way.
    snapshot = job.monitor.snapshot()
    kept = snapshot.epoch
    assert snapshot.outcome == f"Stopped by you after {epochs(kept, 'complete ')}."
    assert snapshot.outcome_status == "stopped" and not snapshot.stopping
    assert snapshot.running or snapshot.status == "stopped"
    assert len(snapshot.history["loss"]) == kept
    assert job.join(timeout=60)
    final = job.monitor.snapshot()
    assert (final.status, final.message, final.epoch) == ("stopped", snapshot.outcome, kept)
    assert final.test_accuracy is not None


def test_stop_during_validation_keeps_that_epoch_in_the_page_and_the_store():
    class StopWhileValidating(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            job.stop()

    store = RunStore()
    spec = small_spec(epochs=20)
    data = patch_digits(n_train=400)
    run_id = store.create_run(spec, "patch digits")
    job = TrainingJob(
        spec,
        data,
        run_id=run_id,
        callbacks=[RunRecorder(store, run_id), StopWhileValidating()],
    )
    job.start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "stopped", snapshot.message
    assert snapshot.message.startswith("Stopped by you after 1 complete epoch.")
    assert len(snapshot.history["val_accuracy"]) == 1
    assert not math.isnan(snapshot.history["val_accuracy"][0])
    assert max(x for x, _, _ in snapshot.batches) <= 1.0  # no batch of a second epoch ran
    run = store.get(run_id)
    assert (run.status, run.epochs_done) == ("stopped", 1)
    assert run.val_accuracy == pytest.approx(snapshot.history["val_accuracy"][0])


def test_validation_is_skipped_once_stop_is_pressed():
    seen = threading.Event()
    every_epoch = _UntilStopped(seen.is_set)
    assert 0 in every_epoch and 7 in every_epoch
    seen.set()
    assert 1 not in every_epoch  # the cut epoch is dropped anyway: do not validate it


class AskedEpochs(list):
    """A list-valued validation_freq that answers `answers` in turn and keeps each question."""

    def __init__(self, answers: list[bool]) -> None:
        super().__init__()
        self.answers, self.asked = answers, []

    def __contains__(self, epoch) -> bool:
        self.asked.append(epoch)
        return self.answers[len(self.asked) - 1]


def test_keras_still_reads_validation_freq_with_in():
    """`_UntilStopped` rests on Keras's private `Trainer._should_eval` asking a list-valued
    validation_freq `epoch in validation_freq` after each epoch: an upgrade of Keras that moves
    or changes it fails here (and a job logs a warning, `check_keras_reads_validation_freq`)."""
    assert callable(getattr(Trainer, "_should_eval", None))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    asked = AskedEpochs([True])
    assert model._should_eval(0, asked) is True and asked.asked == [1]  # epochs from 1
    assert check_keras_reads_validation_freq(model)
    # fit asks once an epoch, and validates only the epochs the answer lets it.
    x, y = np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32)
    asked = AskedEpochs([True, False, True])
    history = model.fit(x, y, epochs=3, validation_data=(x, y), validation_freq=asked, verbose=0)
    assert asked.asked == [1, 2, 3]
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 2


def test_a_keras_without_should_eval_is_warned_about_once(caplog):
    job_module._warn_validation_freq_unread.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="core.training.job"):
            assert not check_keras_reads_validation_freq(SimpleNamespace())
            assert not check_keras_reads_validation_freq(SimpleNamespace())
        warnings = [r.getMessage() for r in caplog.records if "_should_eval" in r.getMessage()]
        assert len(warnings) == 1 and "validation_freq" in warnings[0]
    finally:
        job_module._warn_validation_freq_unread.cache_clear()
