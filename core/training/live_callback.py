"""What the page sees of training: a Keras callback that feeds a `TrainingMonitor`.

One of two subscribers to `fit` (the other, `core.runs.recorder.RunRecorder`, writes the store).

It records every epoch's logs and, at a throttled rate, the batch-level loss and accuracy;
it stops training at the next batch when asked, and when the loss stops being a number.
Per-run state is reset in `on_train_begin`, so the same callback can train again.
"""

from __future__ import annotations

import math
import threading

import keras

from core.training.monitor import TrainingMonitor

# Chance level for ten digits is a cross-entropy of ln(10) = 2.3; a loss far above it (or one
# that is not a number at all) means the weights have blown up and training is going nowhere.
DIVERGED_LOSS = 1000.0
NAN_MESSAGE = (
    "The loss became {value:.4g} at epoch {epoch}, batch {step}: the weights blew up, which usually "
    "means the learning rate is too high for this optimizer. Try a learning rate 10 times smaller "
    "(for Adam, 0.001 is a safe start), or a smaller network."
)


def diverged(loss: float) -> bool:
    """Whether a loss says the weights have blown up: not a number, or far above chance."""
    return not math.isfinite(loss) or loss > DIVERGED_LOSS


class LiveMetrics(keras.callbacks.Callback):
    """Streams training progress into `monitor`; `stop_event` ends training at the next batch."""

    def __init__(
        self,
        monitor: TrainingMonitor,
        stop_event: threading.Event | None = None,
        *,
        epochs: int,
        steps_per_epoch: int,
        batch_size: int,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.stop_event = stop_event or threading.Event()
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.batch_size = batch_size
        self.nan_message: str | None = None
        self.stopped_by_user = False
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.nan_message = None
        self.stopped_by_user = False
        self._epoch = 0
        self.monitor.begin(self.epochs, self.steps_per_epoch, self.batch_size)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self.monitor.begin_epoch(epoch)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = float(logs.get("loss", math.nan))
        accuracy = float(logs.get("accuracy", math.nan))
        # Keras names the last batch of a compiled call, which for an epoch shorter than
        # steps_per_execution lies past the epoch's end.
        step = min(batch + 1, self.steps_per_epoch)
        if diverged(loss):
            self.nan_message = NAN_MESSAGE.format(value=loss, epoch=self._epoch + 1, step=step)
            self.model.stop_training = True
            return
        self.monitor.record_batch(step, loss, accuracy)
        if self.stop_event.is_set():
            self.stopped_by_user = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        # Keras still closes an epoch that Stop or a NaN cut short; only whole epochs count.
        if self.nan_message or self.stopped_by_user:
            return
        self.monitor.record_epoch(epoch, dict(logs or {}))


class CarryOn(keras.callbacks.Callback):
    """A continued run's epochs before its first (`core.training.starting.StartFrom`), written
    into `monitor` once `LiveMetrics` (before it in the list) has begun: the live curves carry
    on from them."""

    def __init__(self, monitor: TrainingMonitor, starting) -> None:
        super().__init__()
        self.monitor = monitor
        self.starting = starting

    def on_train_begin(self, logs=None):
        self.monitor.carry_on(self.starting.carried_history(), self.starting.batches)


class StopAtEpochEnd(keras.callbacks.Callback):
    """Ends training after an epoch that Stop reached only once its batches were done (during
    its validation, say, or while the recorder saved it): that epoch is whole and counts.

    It goes last in the callback list, so every callback before it (`live`, the run's
    recorder, early stopping) sees the epoch as the whole epoch it is: `model.stop_training`
    set earlier would tell them it was cut short. It marks the run as stopped by the person
    (`live.stopped_by_user`), as `live` does when Stop comes at a batch end.
    """

    def __init__(self, live: LiveMetrics) -> None:
        super().__init__()
        self.live = live

    def on_epoch_end(self, epoch, logs=None):
        if self.live.stop_event.is_set() and not self.live.nan_message:
            self.live.stopped_by_user = True
            self.model.stop_training = True
