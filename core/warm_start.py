"""Build and trace the Train page's network before Train is pressed.

Most of the wait between pressing Train and the first point on the curves is not training:
Keras traces the model's training step into a TensorFlow graph on the first call of `fit`
(about a second for the default network on two cores). The model's starting weights and its
traced step depend only on the settings, so while a person reads the page, `WarmStarts`
builds the model for the settings shown (`core.model.build_model`, seeded as always) and
traces its training and validation steps on an empty dataset of the right shapes: nothing is
trained, no weight or optimizer state changes. Train then takes that model instead of
building one (`take`), and `fit` finds its steps already traced. Given the data, it also turns
it into the tensors the job will train on (`core.training.PREPARED`).

One model is kept at a time (the latest settings asked for), built on one background thread
a moment after the settings stop changing (`delay`), so dragging sliders does not queue
builds. A model is handed to one job only.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmKey:
    """What a model and its traced steps depend on: the spec and how `fit` will feed it."""

    spec_json: str
    steps_per_epoch: int
    steps_per_execution: int

    @classmethod
    def of(cls, spec, steps_per_epoch: int, steps_per_execution: int) -> WarmKey:
        return cls(json.dumps(spec.to_dict(), sort_keys=True), steps_per_epoch, steps_per_execution)


def trace_steps(model, spec) -> None:
    """Trace `model`'s training and validation steps without running a single batch.

    Each compiled step is called once on an iterator over an empty dataset with the shapes
    and types `fit` will feed (pixel rows or images, one-hot labels): the call traces the
    step and then finds no batch, so no weight, optimizer or metric state changes.
    """
    import numpy as np
    import tensorflow as tf

    from core.model import NUM_CLASSES

    model.optimizer.build(model.trainable_variables)  # as fit's first step would
    empty = tf.data.Dataset.from_tensor_slices(
        (
            np.zeros((0, *spec.input_shape), np.float32),
            np.zeros((0, NUM_CLASSES), np.float32),
        )
    ).batch(spec.batch_size)
    empty = model.distribute_strategy.experimental_distribute_dataset(empty)
    model.make_train_function()
    model.make_test_function()
    for step in (model.train_function, model.test_function):
        with contextlib.suppress(StopIteration):  # a compiled step's "no batch left"
            step(iter(empty))


def build_traced(spec, key: WarmKey):
    """A compiled model for `spec`, as a training job builds it, with its steps traced."""
    from core.model import build_model

    model = build_model(
        spec, steps_per_epoch=key.steps_per_epoch, steps_per_execution=key.steps_per_execution
    )
    trace_steps(model, spec)
    return model


class WarmStarts:
    """One model built ahead for the settings the Train page shows; `take` hands it over."""

    def __init__(self, delay: float = 0.5, build=build_traced) -> None:
        self.delay = delay
        self._build = build
        self._changed = threading.Condition()
        self._wanted: tuple | None = None  # (key, spec, data) asked for last
        self._asked_at = 0.0
        self._building: WarmKey | None = None
        self._ready: tuple[WarmKey, object] | None = None  # (key, model)
        self._thread: threading.Thread | None = None
        self._closing = False

    def request(self, spec, key: WarmKey, data=None) -> None:
        """Ask for `spec`'s model to be ready; earlier requests not yet built are dropped.

        With `data`, the training job's tensors of it are made ready too
        (`core.training.PREPARED`).
        """
        with self._changed:
            if self._closing:
                return
            if key in (self._building, self._ready and self._ready[0]):
                self._wanted = None
                return
            if self._wanted is None or self._wanted[0] != key:
                self._wanted = (key, spec, data)
                self._asked_at = time.monotonic()
            self._changed.notify_all()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="warm-start", daemon=True)
                self._thread.start()

    def take(self, key: WarmKey, timeout: float = 30.0):
        """The model built for `key`, or None; waits for a build of `key` under way.

        A model is handed out once. Whatever else was asked for and not yet built is dropped:
        the job that calls this is about to train, and needs the processor more.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            self._wanted = None
            while self._building == key and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            if self._ready is not None and self._ready[0] == key:
                model, self._ready = self._ready[1], None
                return model
            return None

    def close(self, timeout: float = 60.0) -> None:
        """Build nothing more, and wait for a build under way to end (at the process's exit:
        TensorFlow aborts the process if it is stopped in the middle of building a model)."""
        with self._changed:
            self._closing = True
            self._wanted = None
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def ready_key(self) -> WarmKey | None:
        with self._changed:
            return self._ready[0] if self._ready else None

    def _work(self) -> None:
        from core import gradient_registry

        while True:
            with self._changed:
                # Wait for a request, then for the settings to rest for `delay` seconds.
                while True:
                    if self._closing:
                        self._thread = None
                        return
                    if self._wanted is None:
                        if not self._changed.wait(timeout=60):
                            self._thread = None
                            return  # idle for a minute: end; the next request starts anew
                        continue
                    rest = self._asked_at + self.delay - time.monotonic()
                    if rest <= 0:
                        break
                    self._changed.wait(rest)
                (key, spec, data), self._wanted = self._wanted, None
                self._building, self._ready = key, None  # the old model goes now
            model = None
            try:
                gradient_registry.track()
                model = self._build(spec, key)
                if data is not None:
                    from core.training import PREPARED

                    PREPARED.get(data, spec.validation_split, spec.seed)
            except Exception:  # the job builds its own model and shows any real error
                logger.exception("Building a model ahead of Train failed")
            finally:
                gradient_registry.release()
                with self._changed:
                    self._building = None
                    if model is not None:
                        self._ready = (key, model)
                    self._changed.notify_all()


WARM_STARTS = WarmStarts()
atexit.register(WARM_STARTS.close)
