"""Build and trace the Train page's network before Train is pressed.

Most of the wait between pressing Train and the first point on the curves is not training:
Keras traces the model's training step into a TensorFlow graph on the first call of `fit`.
The model's starting weights and its traced step depend only on the settings, so while a
person reads the page, `WarmStarts` builds the model for the settings shown
(`core.nets.model.build_model`, seeded as always) and traces its training and validation steps
on an empty dataset of the right shapes (`core.training.tracing`): nothing is trained, no
weight or optimizer state changes. Train then takes that model instead of building one
(`take`), and `fit` finds its steps already traced. Given the data, it also turns it into the
tensors and batches the job will train on (`core.training.prepared.PREPARED`).

One model is kept at a time (the latest settings asked for), built on one background thread
a moment after the settings stop changing (`delay`), so dragging sliders does not queue
builds. A model is handed to one job only. The traced steps live in a pool of traced models
(`core.training.traced_models`), which later runs of the same network train.

Keras's seeding empties TensorFlow's caches (`tf.random.set_seed` does), and a traced step's
first call after that readies it again. The app's seeding keeps them
(`core.runtime.seeding.seed_process`); where it cannot (a Keras or TensorFlow whose private seed
state has moved, when it seeds Keras's way), a build ahead, which seeds the model and then
the batches, still leaves the step ready: it ends by running the kept traced model's steps
once on a batch of zeros (`TracedModels.prime`), so the run's first point on the curves does
not wait for it.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time

from core.runtime import gradient_registry, kernel_cache
from core.runtime.jobs import run_in_background
from core.training.prepared import PREPARED
from core.training.traced_models import TracedModels
from core.training.tracing import WarmKey, build_traced, build_untraced

logger = logging.getLogger(__name__)


class WarmStarts:
    """One model built ahead for the settings the Train page shows; `take` hands it over.

    By default (`build` not given) the model handed over is the run's own, untraced: the
    traced steps are in `pool`, built ahead too if the pool has none of their kind.
    """

    def __init__(self, delay: float = 0.5, build=None, pool: TracedModels | None = None) -> None:
        self.delay = delay
        self.pool = pool if pool is not None else TracedModels()
        self._build = build or self._build_with_pool
        self._changed = threading.Condition()
        self._wanted: tuple | None = None  # (key, spec, data) asked for last
        self._asked_at = 0.0
        self._building: WarmKey | None = None
        self._ready: tuple[WarmKey, object] | None = None  # (key, model)
        self._thread: threading.Thread | None = None
        self._closing = False

    def request(self, spec, key: WarmKey, data=None) -> None:
        """Ask for `spec`'s model to be ready; earlier requests not yet built are dropped.

        With `data`, the training job's tensors and batches of it are made ready too
        (`core.training.prepared.PREPARED`).
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

    def _build_with_pool(self, spec, key: WarmKey):
        """The run's own model, untraced (its optimizer built); first, a traced model of its
        kind for the pool if it has none (the first run of a network)."""
        if not self.pool.covers(key):
            self.pool.add(key, build_traced(spec, key))
        model = build_untraced(spec, key)
        # Its optimizer's variables too (zeros, as `fit` would make them), which the job
        # would otherwise make when it gives this model's state to the traced one.
        model.optimizer.build(model.trainable_variables)
        return model

    def ready_key(self) -> WarmKey | None:
        with self._changed:
            return self._ready[0] if self._ready else None

    def _log_failure(self) -> None:
        """Log the build that just failed: an error, unless the process is exiting (`close`
        ran). Exit handlers registered after `close`, TensorFlow's among them, run before it,
        and a build under way then can break midway with errors that mean nothing."""
        if self._closing:
            logger.debug("A build ahead of Train ended with the process", exc_info=True)
        else:
            logger.exception("Building a model ahead of Train failed")

    def _work(self) -> None:
        run_in_background()
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
                # The kernels earlier networks' variables left in TensorFlow's cache go, before
                # a build that ends by making the kept traced steps ready (core/runtime/
                # kernel_cache.py); else each network built stays in memory for good.
                kernel_cache.clear()
                model = self._build(spec, key)
                if data is not None:
                    PREPARED.batches(data, spec)
                # After the build's and the batches' seeding, which emptied TensorFlow's
                # caches: the run's first call then costs no more than its others.
                self.pool.prime(spec, key)
            except Exception:  # the job builds its own model and shows any real error
                self._log_failure()
            finally:
                gradient_registry.release()
                with self._changed:
                    self._building = None
                    if model is not None:
                        self._ready = (key, model)
                    self._changed.notify_all()


WARM_STARTS = WarmStarts()
atexit.register(WARM_STARTS.close)
