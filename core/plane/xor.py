"""The 2-D playground's background job: one network per session, trained on a worker thread.

The set-up is one `PlaneSpec` (core/plane/spec.py); the data come from core/plane/data.py,
the network and what it computes over the plane from core/plane/model.py, and the fast
trainer, many epochs per compiled call, from core/plane/runner.py. `XorJob` keeps one model
per session and trains it on a worker thread; the page only reads `XorJob.snapshot()`.

TensorFlow and Keras are imported inside functions, so importing this module is fast.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from core.plane.data import POINTS_RANGE, PlaneData, make_data
from core.plane.model import (
    Boundary,
    build_plane_model,
    grid_axis,
    predict_boundary,
    predict_corners,
)
from core.plane.runner import HISTORY_METRICS, EpochRunner
from core.plane.spec import PlaneSpec
from core.runtime.jobs import BackgroundJob

DEFAULT_EPOCHS = 500  # seed 000 trains 500 epochs

# Each compiled call should last about this long: long enough to hide the per-call overhead,
# short enough that Stop answers and the boundary is redrawn several times a second.
SECONDS_PER_CALL = 0.1
MAX_EPOCHS_PER_CALL = 500
FIRST_EPOCHS_PER_CALL = 25  # then grown or shrunk to last SECONDS_PER_CALL
REDRAW_SECONDS = 0.2  # at most one new boundary per this many seconds (the page polls at 0.5)

DIVERGED_MESSAGE = (
    "The loss became {value:.4g} at epoch {epoch}: the weights blew up. Lower the learning "
    "rate (Adam works well at 0.001 to 0.03 here) and press Reset weights."
)


# --- the job the page keeps -------------------------------------------------------------------


@dataclass
class XorSnapshot:
    """A consistent copy of the job's state, safe to read on the script thread."""

    status: str = "empty"  # empty, building, training, idle, failed
    message: str = ""
    spec: PlaneSpec | None = None
    data: PlaneData | None = None
    epoch: int = 0  # epochs trained since the last reset
    first_epoch: int = 0  # where the current (or last) training began
    target_epoch: int = 0  # where the current training ends
    history: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in HISTORY_METRICS}
    )
    boundary: Boundary | None = None
    corner_outputs: np.ndarray | None = None
    seconds: float = 0.0  # training time of the current (or last) job
    first_redraw_seconds: float | None = None  # from Train to the first boundary after it
    version: int = 0

    @property
    def running(self) -> bool:
        return self.status in ("building", "training")

    @property
    def fraction_done(self) -> float:
        span = self.target_epoch - self.first_epoch
        return 1.0 if span <= 0 else min(1.0, (self.epoch - self.first_epoch) / span)

    def last(self, metric: str) -> float | None:
        values = self.history[metric]
        return values[-1] if values and not math.isnan(values[-1]) else None


class XorJob(BackgroundJob):
    """One XOR network per session, trained on a worker thread, never the script thread.

    `reset(spec)` builds the network from the spec's seed; `train(epochs)` continues training
    the same network; `stop()` ends training after the current compiled call. Neither blocks:
    a reset while a job runs stops that job, and the new worker waits for it to end. Each job
    carries a generation number, and writes from a job that a reset has replaced are dropped.
    The workers write only under the lock; `snapshot()` returns a copy. The thread, the stop
    request, the failure capture and the gradient-registry release are `BackgroundJob`'s.
    """

    thread_name = "xor-train"

    def __init__(self) -> None:
        super().__init__()
        self._state = XorSnapshot()
        self._generation = 0
        self.spec: PlaneSpec | None = None
        self.model = None  # read it only while no job runs
        self.runner: EpochRunner | None = None
        self._axis = grid_axis(*POINTS_RANGE)

    @property
    def running(self) -> bool:
        """Whether a worker (building or training) is still going."""
        return self.alive

    # commands from the page

    def reset(self, spec: PlaneSpec | None = None) -> None:
        """Rebuild the network from `spec` (or the current spec) and its seed, on a worker."""
        spec = spec or self.spec or PlaneSpec()
        spec.validate()
        data = make_data(spec)
        self.spec = spec
        self.stop_event.set()  # a running job ends after its current compiled call
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._state = XorSnapshot(
                status="building",
                message=f"Building the {spec.architecture()} network from seed {spec.seed}…",
                spec=spec,
                data=data,
                version=self._state.version + 1,
            )
        self._start(self._build, generation, spec, data)

    def train(self, epochs: int, epochs_per_second: float | None = None) -> bool:
        """Train `epochs` more epochs; False (and nothing started) while a job runs.

        `epochs_per_second` slows training down to that pace so the boundary can be watched;
        None trains as fast as the machine goes.
        """
        if self.running:
            return False
        if self.spec is None:
            raise RuntimeError("The job has no network yet; call reset(spec) before train().")
        epochs = int(epochs)
        if not 1 <= epochs <= 100_000:
            raise ValueError(f"{epochs} epochs asked for; train 1 to 100000 at a time.")
        with self._lock:
            state = self._state
            if state.status == "failed":
                return False  # a failed build, or weights the loss blew up: only a reset helps
            generation, first = self._generation, state.epoch
            state.status = "training"
            state.message = f"Training epochs {first + 1} to {first + epochs}…"
            state.first_epoch, state.target_epoch = first, first + epochs
            state.first_redraw_seconds = None
            state.version += 1
        self._start(self._train, generation, epochs, epochs_per_second)
        return True

    # the workers

    def _start(self, target, generation: int, *args) -> None:
        """Queue `target(generation, stop, *args)` on a worker after the one before it."""
        self._launch(
            lambda stop: target(generation, stop, *args),
            on_failure=lambda message: self._update(generation, status="failed", message=message),
        )

    def _update(self, generation: int, **changes) -> bool:
        """Apply `changes` to the state, unless a reset has replaced this job."""
        with self._lock:
            if generation != self._generation:
                return False
            for name, value in changes.items():
                setattr(self._state, name, value)
            self._state.version += 1
            return True

    def _build(
        self, generation: int, stop: threading.Event, spec: PlaneSpec, data: PlaneData
    ) -> None:
        with self._lock:
            if generation != self._generation:
                return  # a later reset superseded this one: skip its build
        self.runner = None
        model = build_plane_model(spec)
        runner = EpochRunner(model, data, spec.seed, shuffle=spec.data != "points")
        runner.warm_up()
        self.model, self.runner = model, runner
        self._axis = grid_axis(data.low, data.high)
        self._update(
            generation,
            status="idle",
            message=f"Untrained {spec.architecture()} network from seed {spec.seed}.",
            boundary=predict_boundary(model, self._axis, 0),
            corner_outputs=predict_corners(model),
        )

    def _train(
        self,
        generation: int,
        stop: threading.Event,
        epochs: int,
        epochs_per_second: float | None,
    ) -> None:
        started = time.perf_counter()
        with self._lock:
            first = self._state.epoch
        done, last_redraw, fastest = 0, 0.0, math.inf  # fastest: seconds per epoch seen
        chunk = (
            max(1, round(epochs_per_second * REDRAW_SECONDS))
            if epochs_per_second
            else FIRST_EPOCHS_PER_CALL
        )
        while done < epochs and not stop.is_set():
            size = min(chunk, epochs - done)
            call_started = time.perf_counter()
            logs = self.runner.run(first + done, size)
            took = time.perf_counter() - call_started
            finite = np.isfinite(logs["loss"])
            if not finite.all():
                bad = int(np.argmin(finite))
                self._record(generation, logs, bad, started)
                self._redraw(generation, started)
                message = DIVERGED_MESSAGE.format(
                    value=float(logs["loss"][bad]), epoch=first + done + bad + 1
                )
                self._update(generation, status="failed", message=message)
                return
            done += size
            if not self._record(generation, logs, size, started):
                return  # a reset replaced this job
            if time.perf_counter() - last_redraw >= REDRAW_SECONDS or done >= epochs:
                self._redraw(generation, started)
                last_redraw = time.perf_counter()
            if epochs_per_second:
                stop.wait(max(0.0, started + done / epochs_per_second - time.perf_counter()))
            else:
                # Size the next call from the fastest epochs seen, not the last call: a call
                # that waited for the GIL (a page redrawing, another session's training)
                # must not shrink the calls, or every later call waits as long.
                fastest = min(fastest, max(took, 1e-5) / size)
                chunk = int(np.clip(SECONDS_PER_CALL / fastest, 1, MAX_EPOCHS_PER_CALL))
        self._redraw(generation, started)
        total = first + done
        if done >= epochs:
            message = f"Trained {done} epochs ({total} since the last reset)."
        else:
            message = f"Stopped by you after {done} epochs ({total} since the last reset)."
        self._update(generation, status="idle", message=message, target_epoch=total)

    def _record(self, generation: int, logs: dict, count: int, started: float) -> bool:
        """Append the first `count` epochs of a compiled call's logs to the history."""
        with self._lock:
            if generation != self._generation:
                return False
            state = self._state
            for name in HISTORY_METRICS:
                state.history[name].extend(float(v) for v in logs[name][:count])
            state.epoch += count
            state.seconds = time.perf_counter() - started
            state.version += 1
            return True

    def _redraw(self, generation: int, started: float) -> None:
        """Predict the boundary and the four corners now (the worker owns the model)."""
        with self._lock:
            epoch = self._state.epoch
        boundary = predict_boundary(self.model, self._axis, epoch)
        corners = predict_corners(self.model)
        with self._lock:
            if generation != self._generation:
                return
            state = self._state
            state.boundary, state.corner_outputs = boundary, corners
            if state.first_redraw_seconds is None and epoch > 0:
                state.first_redraw_seconds = time.perf_counter() - started
            state.version += 1
