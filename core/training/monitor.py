"""What a training run has done so far, shared between the worker thread and the page.

The worker writes through the methods of `TrainingMonitor`; the page reads `snapshot()`, a
copy taken under the lock, so it never sees a half-written epoch. Nothing here imports Keras.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from core.training.steering import Change

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
MAX_BATCH_POINTS = 2000


@dataclass
class Snapshot:
    """A consistent copy of a run's progress, safe to read on the script thread."""

    status: str = "pending"  # pending, running, completed, stopped, failed
    message: str = ""
    epoch: int = 0  # epochs finished
    epochs: int = 0  # epochs asked for
    step: int = 0  # steps finished in the current epoch
    steps_per_epoch: int = 0
    batch_size: int = 0
    images_per_second: float = 0.0
    elapsed_seconds: float = 0.0
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in EPOCH_METRICS})
    # Batch-level points: (epoch + fraction of it done, loss, accuracy); thinned to a bound.
    batches: list[tuple[float, float, float]] = field(default_factory=list)
    test_loss: float | None = None
    test_accuracy: float | None = None
    stopping: bool = False  # Stop was pressed; training ends at the next batch
    # How training ended ("Stopped by you after 3 complete epochs."), said as soon as `fit`
    # returns, while the run is still testing its model: status stays "running" until then.
    outcome: str = ""
    outcome_status: str = ""  # the status it will end with: completed or stopped
    paused: bool = False  # waiting for Resume (core/training/steering.py)
    # What the learner changed while it trained, in order: rates, decays, pauses (a pause
    # under way is the last, its value None).
    changes: list[Change] = field(default_factory=list)
    version: int = 0

    @property
    def running(self) -> bool:
        return self.status in ("pending", "running")

    @property
    def training_over(self) -> bool:
        """Whether training has ended (its `outcome` said), or the whole run has."""
        return bool(self.outcome) or not self.running

    @property
    def fraction_done(self) -> float:
        if not self.epochs or not self.steps_per_epoch:
            return 0.0
        done = self.epoch + min(self.step, self.steps_per_epoch) / self.steps_per_epoch
        return min(1.0, done / self.epochs)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the current speed, or None before there is a speed."""
        if not self.images_per_second or not self.running:
            return None
        steps_left = (self.epochs - self.epoch) * self.steps_per_epoch - self.step
        return max(0.0, steps_left * self.batch_size / self.images_per_second)


class TrainingMonitor:
    """Lock-protected progress of one run: the worker writes, any thread reads snapshots."""

    def __init__(self, min_batch_interval: float = 0.1, clock=time.perf_counter) -> None:
        self.clock = self._clock = clock  # seconds; tests pass a fake one, so timings never flake
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on every change
        self._state = Snapshot()
        self.min_batch_interval = min_batch_interval
        self._last_batch_time = 0.0
        self._epoch_start = 0.0
        self._train_start = 0.0

    def snapshot(self) -> Snapshot:
        with self._lock:
            state = self._state
            # The points are tuples of floats, so copying the lists is a full copy (and far
            # cheaper than copy.deepcopy for a few thousand points).
            return replace(
                state,
                history={name: list(values) for name, values in state.history.items()},
                batches=list(state.batches),
                changes=list(state.changes),
            )

    def wait_for(self, condition: Callable[[Snapshot], bool], timeout: float) -> Snapshot:
        """A snapshot taken as soon as `condition` holds of the progress, or after `timeout`
        seconds if it never does (`condition` sees the live state: only read it)."""
        with self._changed:
            self._changed.wait_for(lambda: condition(self._state), timeout)
        return self.snapshot()

    @property
    def running(self) -> bool:
        """Whether training is still under way (cheaper than taking a snapshot)."""
        with self._lock:
            return self._state.running

    @property
    def training_over(self) -> bool:
        """Whether training has ended (`end_training`), or the run has (`finish`)."""
        with self._lock:
            return self._state.training_over

    @property
    def version(self) -> int:
        with self._lock:
            return self._state.version

    def begin(self, epochs: int, steps_per_epoch: int, batch_size: int) -> None:
        now = self._clock()
        with self._lock:
            self._state = Snapshot(
                status="running",
                message="Compiling the training step (the first batch takes a moment)…",
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                batch_size=batch_size,
                stopping=self._state.stopping,
            )
            self._train_start = self._epoch_start = now
            self._last_batch_time = 0.0
            self._bump()

    def carry_on(self, history: dict[str, list[float]], batches) -> None:
        """Start from epochs trained before (a continued run): their history and batch points
        come first, and the next epoch recorded is the one after them."""
        with self._lock:
            for name in EPOCH_METRICS:
                self._state.history[name] = list(history.get(name, []))
            self._state.batches = [tuple(point) for point in batches]
            self._state.epoch = len(self._state.history["loss"])
            self._bump()

    def begin_epoch(self, epoch: int) -> None:
        with self._lock:
            self._state.epoch = epoch
            self._state.step = 0
            self._epoch_start = self._clock()
            self._bump()

    def record_batch(self, step: int, loss: float, accuracy: float, force: bool = False) -> bool:
        """Record the end of `step` (1-based) in the current epoch; returns whether it was kept.

        Points closer together than `min_batch_interval` seconds are dropped, so a fast run
        does not flood the page; the progress counters are always updated.
        """
        now = self._clock()
        with self._lock:
            state = self._state
            state.step = step
            state.message = ""
            in_epoch = now - self._epoch_start
            if in_epoch > 0:
                state.images_per_second = step * state.batch_size / in_epoch
            state.elapsed_seconds = now - self._train_start
            keep = force or now - self._last_batch_time >= self.min_batch_interval
            if keep:
                self._last_batch_time = now
                x = state.epoch + step / max(1, state.steps_per_epoch)
                state.batches.append((x, float(loss), float(accuracy)))
                if len(state.batches) > MAX_BATCH_POINTS:
                    state.batches = state.batches[::2]
            self._bump()
            return keep

    def record_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """Record the finished epoch `epoch` (0-based) with Keras's logs."""
        with self._lock:
            state = self._state
            for name in EPOCH_METRICS:
                value = logs.get(name)
                state.history[name].append(float(value) if value is not None else math.nan)
            state.epoch = epoch + 1
            state.step = 0  # steps done in the next epoch
            state.elapsed_seconds = self._clock() - self._train_start
            self._bump()

    def finish(self, status: str, message: str = "", test_loss=None, test_accuracy=None) -> None:
        with self._lock:
            state = self._state
            state.status = status
            state.message = message
            state.test_loss = None if test_loss is None else float(test_loss)
            state.test_accuracy = None if test_accuracy is None else float(test_accuracy)
            state.elapsed_seconds = self._clock() - self._train_start if self._train_start else 0.0
            self._bump()

    def end_training(self, status: str, outcome: str, message: str = "") -> None:
        """Training is over (`status`: how the run will end, `outcome`: in words); the run
        goes on with `message` (its test pass) until `finish`."""
        with self._lock:
            state = self._state
            state.outcome_status, state.outcome, state.message = status, outcome, message
            state.stopping = False
            self._bump()

    def wait_training_ended(self, timeout: float) -> bool:
        """Wait until training is over (`training_over`), at most `timeout` seconds; True if
        it is."""
        with self._changed:
            return self._changed.wait_for(lambda: self._state.training_over, timeout)

    def request_stop(self) -> None:
        with self._lock:
            self._state.stopping = True
            self._bump()

    def record_change(self, change: Change) -> None:
        """A new learning rate or weight decay took effect (`change` says where)."""
        with self._lock:
            self._state.changes.append(change)
            self._bump()

    def set_paused(self, change: Change) -> None:
        """Training is paused where `change` says, until `end_pause`."""
        with self._lock:
            self._state.paused = True
            self._state.changes.append(change)
            self._bump()

    def end_pause(self, change: Change, seconds: float) -> None:
        """The pause is over (`change`, with its length); the speed leaves it out."""
        with self._lock:
            state = self._state
            state.paused = False
            if state.changes and state.changes[-1].kind == "pause":
                state.changes[-1] = change
            else:
                state.changes.append(change)
            self._epoch_start += seconds
            self._train_start += seconds
            self._bump()

    def set_status(self, status: str, message: str = "") -> None:
        with self._lock:
            self._state.status = status
            self._state.message = message
            self._bump()

    def _bump(self) -> None:
        self._state.version += 1
        self._changed.notify_all()
