"""The Keras callback that records a run's replay: a `ReplayFrame` at the start of training,
then one after every complete epoch.

An epoch that Stop or a diverging loss cut short makes no frame, as for
`core.runs.recorder.RunRecorder`. Each frame is handed to the recorder's `sink` (the run store's
`core.runs.replay_store`, or a list in tests); a sink that returns False (the run was deleted)
ends the recording, and one that raises is logged: a replay is never worth a run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import keras
import numpy as np

from core.training.live_callback import diverged
from core.training.replay import ReplayFrame, frame_of

logger = logging.getLogger(__name__)


class ReplayRecorder(keras.callbacks.Callback):
    """Hands `sink` a `ReplayFrame` of the model at the start and after every complete epoch.

    `images` and `labels` are the held-out digits (`held_out_digits`). The frames made are
    also kept in `frames` (their epochs) and `seconds` (the time spent making and sinking
    them), so a bench can weigh what recording costs.
    """

    def __init__(
        self, images: np.ndarray, labels: np.ndarray, sink: Callable[[ReplayFrame], bool]
    ) -> None:
        super().__init__()
        self.images = images
        self.labels = labels
        self.sink = sink
        self._reset()

    def _reset(self) -> None:
        self.frames: list[int] = []
        self.seconds = 0.0
        self.ended = False  # the sink said the run is gone: record nothing more
        self._steps_done = 0

    def on_train_begin(self, logs=None):
        self._reset()
        self._record(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps_done = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        steps = (self.params or {}).get("steps")
        cut_short = (steps and self._steps_done < steps) or getattr(
            self.model, "stop_training", False
        )
        if not cut_short and not diverged(float((logs or {}).get("loss", math.nan))):
            self._record(epoch + 1)

    def _record(self, epoch: int) -> None:
        if self.ended or self.model is None:
            return
        started = time.perf_counter()
        try:
            frame = frame_of(self.model, epoch, self.images, self.labels)
            self.ended = not self.sink(frame)
        except Exception:  # a replay is never worth a run: log it, train on
            logger.exception("Could not record the replay of epoch %d", epoch)
        else:
            self.frames.append(epoch)
        self.seconds += time.perf_counter() - started
