"""Steering a run while it trains: pause and resume, a new learning rate or weight decay.

The page writes requests into the job's `Steering` (`job.steer.pause()`,
`job.steer.set_learning_rate(0.0003)`), a lock-protected object it may call from any thread;
nothing here imports Keras or Streamlit. The worker's side, `core.training.steer_callback`,
carries the requests into the compiled training step and hands back what happened where as
`Change`s: each one names the global batch (step) from which it applied, and its epoch and
batch within that epoch. They go into the run's record (core/runs/changes.py), onto the curves
(core/charts/training.py) and into the exported script (core/export/keras_script.py).

A new learning rate or weight decay reaches the compiled step as soon as it is asked for
(`attach` gives the worker's sink) and applies from the next batch that step starts, even in
the middle of a compiled call of several batches; a pause waits for the end of the call under
way (see docs/guide/train.md, "Steering a run").
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

KINDS = ("learning_rate", "weight_decay", "pause")
MAX_LEARNING_RATE = 10.0
MAX_WEIGHT_DECAY = 1.0


class SteeringError(ValueError):
    """A request the run cannot take; the message says why and what to do instead."""


@dataclass(frozen=True)
class Change:
    """Something the learner did to a run while it trained.

    `step` counts the batches trained before it (all epochs): a new learning rate or weight
    decay applies from batch `step` on (0-based; batches 0 .. step - 1 ran with the old
    value), a pause came after `step` batches. `epoch` and `batch` are that batch's place in
    its epoch (both 0-based). `value` is the new rate or decay; for a pause, its length in
    seconds (None while it lasts).
    """

    kind: str
    step: int
    epoch: int
    batch: int
    value: float | None

    def x(self, steps_per_epoch: int) -> float:
        """Where it falls on the curves' epoch axis (epoch + fraction of it done)."""
        return self.step / max(1, steps_per_epoch)

    def label(self) -> str:
        """ "lr 0.0003", "wd 0.0001", "paused 12 s" (what the curves' mark says)."""
        if self.kind == "pause":
            return "paused" if self.value is None else f"paused {self.value:.0f} s"
        short = "lr" if self.kind == "learning_rate" else "wd"
        return f"{short} {self.value:g}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict) -> Change:
        value = row.get("value")
        return cls(
            kind=str(row["kind"]),
            step=int(row["step"]),
            epoch=int(row["epoch"]),
            batch=int(row["batch"]),
            value=None if value is None else float(value),
        )

    @classmethod
    def at(cls, kind: str, step: int, steps_per_epoch: int, value: float | None) -> Change:
        """A change after `step` batches of `steps_per_epoch` each."""
        epoch, batch = divmod(step, max(1, steps_per_epoch))
        return cls(kind, step, epoch, batch, value)


# What the worker's side sends a request through: (version, learning rate, weight decay).
Sink = Callable[[int, float, float], None]


class Steering:
    """What the learner asks of one run while it trains, and what the run did about it.

    `schedule` is the spec's learning-rate schedule. A run whose rate follows one ("cosine",
    "one_cycle") takes a new peak: from its batch on, the schedule is scaled by the new rate
    over `peak`, the spec's learning rate (halve the peak, and every later rate is halved).
    """

    def __init__(
        self, learning_rate: float, weight_decay: float | None = None, schedule: str = "constant"
    ) -> None:
        self._lock = threading.Lock()
        self._resumed = threading.Condition(self._lock)
        self.schedule = schedule
        self.peak = float(learning_rate)  # the spec's rate, or its schedule's peak
        self._learning_rate = float(learning_rate)
        # None: the built optimizer's own decay, which `attach` learns when training starts.
        self._weight_decay = None if weight_decay is None else float(weight_decay)
        self._version = 0  # counts the requests of a new rate or decay
        self._paused = False
        self._sink: Sink | None = None
        self._changes: list[Change] = []

    # ----- the page's side ------------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """The learning rate last asked for (the spec's until a change)."""
        with self._lock:
            return self._learning_rate

    @property
    def weight_decay(self) -> float | None:
        """The weight decay last asked for, else the optimizer's own; None until training
        starts where none was asked for (the optimizer is not built yet)."""
        with self._lock:
            return self._weight_decay

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    @property
    def scheduled(self) -> bool:
        """Whether the rate follows a schedule, which a new rate scales."""
        return self.schedule != "constant"

    def pause(self) -> None:
        """Pause at the end of the batches under way; training waits until `resume`."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._resumed.notify_all()

    def set_learning_rate(self, value: float) -> None:
        """Train with `value` from the next batch on (with a schedule: scale the schedule by
        `value / peak` from then on); `SteeringError` if it cannot be."""
        value = _checked(value, "learning rate", 0.0, MAX_LEARNING_RATE, "0.001")
        if value <= 0:
            raise SteeringError("A learning rate of 0 learns nothing; give a positive one.")
        with self._lock:
            self._learning_rate = value
            self._send()

    def set_weight_decay(self, value: float) -> None:
        """Decay the weights by `value` times the learning rate at every batch from the
        next one on (decoupled L2 decay, as Keras optimizers' `weight_decay`); 0: none."""
        value = _checked(value, "weight decay", 0.0, MAX_WEIGHT_DECAY, "0.0001")
        with self._lock:
            self._weight_decay = value
            self._send()

    def changes(self) -> list[Change]:
        """What the run did so far: rates and decays applied, pauses, in order."""
        with self._lock:
            return list(self._changes)

    # ----- the worker's side ----------------------------------------------------------------

    def attach(self, sink: Sink | None, optimizer_decay: float = 0.0) -> tuple[int, float, float]:
        """Send every request from now on through `sink` (None: hold them); returns the
        request in force: (version, learning rate, weight decay). `optimizer_decay`, the
        built optimizer's own weight decay, is the decay in force where none was asked for."""
        with self._lock:
            self._sink = sink
            if self._weight_decay is None:
                self._weight_decay = float(optimizer_decay)
            return self._version, self._learning_rate, self._weight_decay

    def record(self, change: Change) -> None:
        with self._lock:
            self._changes.append(change)

    def wait_while_paused(self, stopped: Callable[[], bool], poll: float = 0.25) -> bool:
        """Block while paused (until `resume`, or `stopped()`); whether it waited at all."""
        waited = False
        with self._resumed:
            while self._paused and not stopped():
                waited = True
                self._resumed.wait(poll)
        return waited

    def wake(self) -> None:
        """Wake a paused worker to look at `stopped()` again (Stop was pressed)."""
        with self._lock:
            self._resumed.notify_all()

    def _send(self) -> None:
        self._version += 1
        if self._sink is not None:
            self._sink(self._version, self._learning_rate, self._weight_decay)


def _checked(value, what: str, low: float, high: float, example: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SteeringError(
            f"{value!r} is not a number; give the {what} as one, e.g. {example}."
        ) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise SteeringError(
            f"A {what} of {value!r} is out of range; give one from {low:g} to {high:g}, "
            f"e.g. {example}."
        )
    return number
