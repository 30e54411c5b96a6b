"""The callback's hooks called directly with fake logs, as Keras's own callback tests do."""

import math
import threading
from types import SimpleNamespace

from core.training.live_callback import DIVERGED_LOSS, LiveMetrics, StopAtEpochEnd
from core.training.monitor import TrainingMonitor


def make_callback(**kwargs):
    monitor = TrainingMonitor(min_batch_interval=0.0)
    stop = threading.Event()
    callback = LiveMetrics(monitor, stop, epochs=3, steps_per_epoch=4, batch_size=2, **kwargs)
    callback.set_model(SimpleNamespace(stop_training=False))
    return callback, monitor, stop


def test_records_batches_and_epochs_from_logs():
    callback, monitor, _ = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": 2.3, "accuracy": 0.1})
    callback.on_train_batch_end(3, {"loss": 1.5, "accuracy": 0.4})
    callback.on_epoch_end(0, {"loss": 1.6, "accuracy": 0.35, "val_loss": 1.4, "val_accuracy": 0.5})
    snapshot = monitor.snapshot()
    assert [tuple(p) for p in snapshot.batches] == [(0.25, 2.3, 0.1), (1.0, 1.5, 0.4)]
    assert snapshot.history["val_accuracy"] == [0.5]
    assert snapshot.epoch == 1
    assert snapshot.history["loss"] == [1.6]
    assert callback.model.stop_training is False


def test_stop_event_stops_at_the_next_batch_and_skips_the_partial_epoch():
    callback, monitor, stop = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": 2.0, "accuracy": 0.2})
    assert callback.model.stop_training is False
    stop.set()
    callback.on_train_batch_end(1, {"loss": 1.9, "accuracy": 0.25})
    assert callback.model.stop_training is True
    assert callback.stopped_by_user
    callback.on_epoch_end(0, {"loss": 1.9, "accuracy": 0.25})
    assert monitor.snapshot().history["loss"] == []


def test_nan_loss_stops_with_advice():
    callback, monitor, _ = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(1)
    callback.on_train_batch_end(2, {"loss": math.nan, "accuracy": 0.1})
    assert callback.model.stop_training is True
    assert "epoch 2, batch 3" in callback.nan_message
    assert "learning rate" in callback.nan_message and "10 times smaller" in callback.nan_message
    callback.on_epoch_end(1, {"loss": math.nan})
    assert monitor.snapshot().history["loss"] == []


def test_exploding_loss_counts_as_diverged():
    callback, _, _ = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": DIVERGED_LOSS * 2, "accuracy": 0.1})
    assert callback.model.stop_training is True
    assert callback.nan_message.startswith("The loss became 2000")


def test_train_begin_resets_state_so_the_callback_can_train_again():
    callback, monitor, _ = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(0, {"loss": math.inf, "accuracy": 0.0})
    assert callback.nan_message
    callback.on_train_begin()
    assert callback.nan_message is None
    assert monitor.snapshot().batches == []


def test_stop_after_an_epochs_last_batch_keeps_that_whole_epoch():
    callback, monitor, stop = make_callback()
    last = StopAtEpochEnd(callback)
    last.set_model(callback.model)
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    for batch in range(4):
        callback.on_train_batch_end(batch, {"loss": 2.0, "accuracy": 0.2})
    stop.set()  # during the epoch's validation: every batch ran and was seen without Stop
    logs = {"loss": 1.6, "accuracy": 0.35, "val_loss": 1.4, "val_accuracy": 0.5}
    callback.on_epoch_end(0, logs)
    # The epoch counts, and LiveMetrics leaves stop_training alone so the callbacks after it
    # (the recorder, early stopping) see a whole epoch; the last callback ends training and
    # says the person stopped it.
    assert monitor.snapshot().history["val_accuracy"] == [0.5]
    assert callback.model.stop_training is False
    last.on_epoch_end(0, logs)
    assert callback.model.stop_training is True and callback.stopped_by_user


def test_stop_after_the_epoch_was_counted_still_ends_training_as_stopped():
    # Stop between LiveMetrics' epoch end and the last callback's (while the recorder saves).
    callback, monitor, stop = make_callback()
    last = StopAtEpochEnd(callback)
    last.set_model(callback.model)
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(3, {"loss": 2.0, "accuracy": 0.2})
    callback.on_epoch_end(0, {"loss": 1.6, "accuracy": 0.35})
    stop.set()
    last.on_epoch_end(0, {"loss": 1.6, "accuracy": 0.35})
    assert callback.stopped_by_user and callback.model.stop_training is True
    assert len(monitor.snapshot().history["loss"]) == 1


def test_a_compiled_call_longer_than_the_epoch_plots_at_the_epochs_end():
    # steps_per_execution 32 on a 4-batch epoch: Keras names batch 31 as the call's last.
    callback, monitor, _ = make_callback()
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(31, {"loss": 2.0, "accuracy": 0.2})
    snapshot = monitor.snapshot()
    assert snapshot.step == 4 and [p[0] for p in snapshot.batches] == [1.0]
