"""Recording a run as it trains: one Keras callback that writes it into the run store.

`RunRecorder` is a subscriber beside `LiveMetrics` (which feeds the page): Keras hands it each
batch's and epoch's logs, and after every complete epoch it stores the history so far, the
thinned batch curve and the model (saved whole, then renamed over the previous file, so a kill
never leaves a broken one). When training has ended the job hands it a plain `RunResult`
through `on_run_end`, which it stores with the model the result was measured on.

It runs on the training thread. A write that fails is logged and kept in the store's
`write_errors`, never raised, so a full disk does not end the training itself. A run deleted
while it trains is not written again, nor re-created: the store's update finds no row, and
the recorder stops writing. Per-run state is reset in `on_train_begin`, as Keras's own
callbacks do, so tests can call the hooks directly with made-up logs.
"""

from __future__ import annotations

import logging
import math
import time

import keras

from core.runs.changes import write_changes
from core.runs.lineage import keep_start
from core.runs.records import MAX_STORED_BATCHES
from core.runs.store import RunStore
from core.training.job import RunResult
from core.training.live_callback import diverged
from core.training.monitor import EPOCH_METRICS
from core.training.starting import StartFrom

# Batch points kept in memory before every other one is dropped; thinned to MAX_STORED_BATCHES
# (evenly over the whole run) when written.
MAX_BATCH_POINTS = 8 * MAX_STORED_BATCHES

logger = logging.getLogger(__name__)


class RunRecorder(keras.callbacks.Callback):
    """Writes the run `run_id` of `store`: every complete epoch, then the job's `RunResult`."""

    def __init__(self, store: RunStore, run_id: str, starting: StartFrom | None = None) -> None:
        super().__init__()
        self.store = store
        self.run_id = run_id
        self.starting = starting  # a continued run's epochs before come first in its history
        self.steering = None  # the job's Steering: its changes are stored with the run
        self._reset()

    def _reset(self) -> None:
        start = self.starting or StartFrom()
        self.history: dict[str, list[float]] = start.carried_history()
        self.batches: list[tuple[float, float, float]] = list(start.batches)
        self.epochs_done = start.initial_epoch
        self.deleted = False  # the run was deleted while it trained: write nothing more
        self._start: list | None = None  # the starting weights, until they are written
        self._started = time.perf_counter()
        self._epoch = 0
        self._steps_done = 0

    # ----- Keras's hooks -----------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        # The weights it starts from, for a rewind and the Runs comparison (core/runs/
        # lineage.py): copied now, written with the first epoch (off the way to the first point).
        if self.model is not None and isinstance(self.store, RunStore):  # not Ray's remote one
            self._start = self.model.get_weights()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        steps = max(1, int((self.params or {}).get("steps") or 1))
        self._steps_done = min(batch + 1, steps)  # a compiled call may name a step past the end
        loss = float(logs.get("loss", math.nan))
        if diverged(loss):
            return
        accuracy = float(logs.get("accuracy", math.nan))
        self.batches.append((self._epoch + self._steps_done / steps, loss, accuracy))
        if len(self.batches) > MAX_BATCH_POINTS:
            self.batches = self.batches[::2]

    def on_epoch_end(self, epoch, logs=None):
        # Keras still closes an epoch that Stop or a diverging loss cut short: only whole,
        # finite epochs count. An epoch whose last batch saw Stop ran every batch but was
        # not validated (core.training.job._UntilStopped): it counts as cut short too, as for
        # LiveMetrics (the run's "after N complete epochs"), so the stored val accuracy is
        # never that epoch's missing one. (EarlyStopping, after this callback, sets
        # stop_training only once the epoch is validated.)
        self._keep_start()
        logs = logs or {}
        steps = (self.params or {}).get("steps")
        stopped = bool(getattr(self.model, "stop_training", False))
        cut_short = (steps and self._steps_done < steps) or stopped
        if cut_short or diverged(float(logs.get("loss", math.nan))):
            return
        for name in EPOCH_METRICS:
            value = logs.get(name)
            self.history[name].append(float(value) if value is not None else math.nan)
        self.epochs_done = epoch + 1
        if self._write_progress(self.epochs_done) and self.model is not None:
            self._save_model(self.epochs_done, f"epoch {self.epochs_done}")

    # ----- the job's hook ----------------------------------------------------------------

    def on_run_end(self, result: RunResult) -> None:
        """Store how the run ended, and the model `result` was measured on.

        A failed run keeps the model saved after its last good epoch (a run that failed by
        diverging has broken weights at the end); a completed or stopped run saves the model
        it ended with (none if it was stopped before it learned anything).
        `result.model_epochs` is the epoch whose weights that model holds: early stopping
        that restored its best weights means an earlier one than the last.
        """
        model_epochs = result.model_epochs if result.model_epochs is not None else self.epochs_done
        self._keep_start()
        try:
            if not self._write_progress(model_epochs):
                return
            message = result.message
            trained = self.epochs_done > 0 or result.test_accuracy is not None
            if self.model is not None and result.status != "failed" and trained:
                error = self._save_model(model_epochs, "the final model")
                if error:
                    message += f" (The final model could not be saved: {error}.)"
            self.store.finish_run(
                self.run_id,
                result.status,
                message,
                test_loss=result.test_loss,
                test_accuracy=result.test_accuracy,
                confusion=result.confusion,
            )
        except Exception as error:
            self.store.log_failure(f"Could not store the end of run {self.run_id}", error)

    # ----- writing -----------------------------------------------------------------------

    def _write_progress(self, model_epochs: int) -> bool:
        """Store the epochs so far; False once the run is gone (or the write failed)."""
        if self.deleted:
            return False
        values = self.history["val_accuracy"][:model_epochs]
        try:
            written = self.store.write_progress(
                self.run_id,
                self.history,
                self.batches,
                epochs_done=self.epochs_done,
                training_seconds=time.perf_counter() - self._started,
                val_accuracy=values[-1] if values else None,
            )
        except Exception as error:
            self.store.log_failure(
                f"Could not store epoch {self.epochs_done} of {self.run_id}", error
            )
            return False
        if written and self.steering is not None and self.steering.changes():
            self._write_changes()
        if not written:
            self.deleted = True
            logger.info(
                "Run %s was deleted while it trained; it is no longer recorded.", self.run_id
            )
        return written

    def _keep_start(self) -> None:
        """Write the starting weights copied at the start, once (nothing for a deleted run)."""
        weights, self._start = self._start, None
        if weights is None or self.deleted:
            return
        try:
            keep_start(self.store, self.run_id, weights)
        except Exception as error:
            self.store.log_failure(f"Could not keep the starting weights of {self.run_id}", error)

    def _write_changes(self) -> None:
        try:
            write_changes(self.store, self.run_id, self.steering.changes())
        except Exception as error:
            self.store.log_failure(f"Could not store the changes made to {self.run_id}", error)

    def _save_model(self, epochs: int, what: str) -> str | None:
        """Save the model as having seen `epochs` epochs; the error's text if that failed."""
        try:
            saved = self.store.save_model(self.run_id, self.model, epochs)
        except Exception as error:
            self.store.log_failure(f"Could not save {what} of run {self.run_id}", error)
            return str(error)
        self.deleted = self.deleted or not saved
        return None
