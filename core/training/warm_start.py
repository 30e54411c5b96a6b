"""Build and trace the Train page's network before Train is pressed.

Most of the wait between pressing Train and the first point on the curves is not training:
Keras traces the model's training step into a TensorFlow graph on the first call of `fit`
(about a second for the default network on two cores). The model's starting weights and its
traced step depend only on the settings, so while a person reads the page, `WarmStarts`
builds the model for the settings shown (`core.nets.model.build_model`, seeded as always) and
traces its training and validation steps on an empty dataset of the right shapes: nothing is
trained, no weight or optimizer state changes. Train then takes that model instead of
building one (`take`), and `fit` finds its steps already traced. Given the data, it also turns
it into the tensors and batches the job will train on (`core.training.prepared.PREPARED`).

One model is kept at a time (the latest settings asked for), built on one background thread
a moment after the settings stop changing (`delay`), so dragging sliders does not queue
builds. A model is handed to one job only.

Tracing is most of a build (about 0.9 s of CPU against 0.05 s for building the untraced
model), and runs that differ only in their seed, learning rate, epochs or batch size trace
the same steps: those read the weights, the dropout seeds and the learning rate from
variables. So a traced model is kept for the next such run (`TracedModels`, one per set of
traced steps): the run's own model is still built as always, untraced, for its starting
state; the kept traced model is given that state (every layer and optimizer variable) and
trains; at the end the trained state goes back into the run's own model, which the job
keeps, and the traced one waits for the next run (`Lease`). Only the first run of a network
is traced, by `WarmStarts` ahead of it or by its own `fit`.

Keras's seeding empties TensorFlow's caches (`tf.random.set_seed` does), and a traced step's
first call after that readies it again, 0.2-0.4 s of CPU. The app's seeding keeps them
(`core.runtime.seeding.seed_process`); where it cannot (a Keras or TensorFlow whose private seed
state has moved, when it seeds Keras's way), a build ahead, which seeds the model and then
the batches, still leaves the step ready: it ends by running the kept traced model's steps
once on a batch of zeros (`prime_steps`, 0.01-0.03 s when nothing was emptied), so the run's
first point on the curves does not wait for it. A job hands the traced model back as its
training ends, before its test pass, so an experiment's next run, built ahead at that moment,
finds it to prime; a job that asks for a model being primed waits for it rather than trace
its own.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass

from core.training.prepared import PREPARED

logger = logging.getLogger(__name__)

# How long a job waits for a kept model being primed (TracedModels.prime, a few tenths of a
# second) before it trains a model of its own, which traces its steps anew (a second or more).
PRIME_WAIT_SECONDS = 10.0


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

    from core.nets.model import NUM_CLASSES

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


def prime_steps(model, spec) -> None:
    """Run `model`'s traced training and validation steps once, on one batch of zeros.

    TensorFlow makes a traced step ready to run (its graph optimised, its kernels made) at
    its first call, and keeps it so until its caches are cleared; `tf.random.set_seed`
    clears them, and so did every seeded build and the seeded batches of
    `core.training.prepared.PREPARED` before `core.runtime.seeding.seed_process` kept them (it still falls
    back to Keras's seeding if TensorFlow's private seed state moves). The first call after
    that took 0.17-0.25 s more than the next ones for the default network (0.28 s against
    0.11 s for its 16 batches): time the first point on the curves waited for. Called after
    the last seeding of a build ahead, it moves that cost off the click.

    The batch changes the model's state: only for a model whose state is replaced before it
    trains, as a kept traced model's is (`TracedModels.lease` gives it the run's state).
    """
    import numpy as np
    import tensorflow as tf

    from core.nets.model import NUM_CLASSES

    if model.train_function is None or model.test_function is None:
        return
    zeros = tf.data.Dataset.from_tensor_slices(
        (
            np.zeros((spec.batch_size, *spec.input_shape), np.float32),
            np.zeros((spec.batch_size, NUM_CLASSES), np.float32),
        )
    ).batch(spec.batch_size)  # (None, ...) batches, as `fit` feeds them: no new trace
    zeros = model.distribute_strategy.experimental_distribute_dataset(zeros)
    for step in (model.train_function, model.test_function):
        step(iter(zeros))
    model.reset_metrics()


def build_untraced(spec, key: WarmKey):
    """The model a training job builds for `spec`: compiled, its steps not traced."""
    from core.nets.model import build_model

    return build_model(
        spec, steps_per_epoch=key.steps_per_epoch, steps_per_execution=key.steps_per_execution
    )


def build_traced(spec, key: WarmKey):
    """A compiled model for `spec`, as a training job builds it, with its steps traced."""
    model = build_untraced(spec, key)
    trace_steps(model, spec)
    return model


# Settings the traced steps never read: they change the starting state (seed) or what `fit`
# does around the steps. With a constant learning rate, the rate is a variable the steps read,
# and the batch size changes only the batches' length, which the steps take as unknown; a
# cosine schedule's rate and length (epochs times batches an epoch) are constants in them.
UNTRACED_SETTINGS = (
    "seed",
    "early_stopping",
    "patience",
    "restore_best_weights",
    "validation_split",
)
CONSTANT_RATE_SETTINGS = ("learning_rate", "epochs", "batch_size")


def trace_key(key: WarmKey) -> str:
    """What a model's traced steps depend on: models of equal trace keys train alike once
    their variables are equal (tests/training/test_warm_start.py trains both ways)."""
    settings = json.loads(key.spec_json)
    dropped = UNTRACED_SETTINGS
    steps_per_epoch = key.steps_per_epoch
    if settings["lr_schedule"] == "constant":
        dropped += CONSTANT_RATE_SETTINGS
        steps_per_epoch = None
    for name in dropped:
        settings.pop(name)
    settings["steps_per_epoch"] = steps_per_epoch
    settings["steps_per_execution"] = key.steps_per_execution
    return json.dumps(settings, sort_keys=True)


def copy_state(source, target) -> None:
    """Give `target` every variable of `source`, a model built from a spec of the same trace
    key: weights, dropout seeds, and the optimizer's step count, rate and moments."""
    for model in (source, target):
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    pairs = [
        *zip(source.variables, target.variables, strict=True),
        *zip(source.optimizer.variables, target.optimizer.variables, strict=True),
    ]
    for a, b in pairs:
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            raise ValueError(
                f"cannot copy {a.path} {tuple(a.shape)} into {b.path} {tuple(b.shape)}: the "
                "models were built from specs of different trace keys."
            )
    for a, b in pairs:
        b.assign(a)
    target.reset_metrics()


class Lease:
    """One training job's use of `TracedModels`: `model` is what it trains; `end` gives the
    model it keeps, with the trained state, and hands a traced model back for the next run.

    lent: the job trains a kept traced model given its own model's starting state; at the end
    the trained state goes into its own model, which it keeps.
    donor: no traced model of its kind exists; the job trains its own model (its `fit` traces
    it) and at the end keeps `twin`, built with it, given the trained state; the traced one is
    kept for the next run. (Built at the start, not the end: a build seeds the process, and
    the next run's `fit` shuffles by the seed of the last build, its own built ahead.)
    own: another job has the traced model of its kind; it trains and keeps its own.
    """

    def __init__(self, pool: TracedModels, key: WarmKey, own, traced, twin) -> None:
        self.pool = pool
        self.key = key
        self.own = own
        self.twin = twin
        self.model = traced if traced is not None else own
        self.kind = "lent" if traced is not None else "donor" if twin is not None else "own"

    def end(self):
        """The model the job keeps (not traced, unless the lease was "own"); call it once,
        after the last use of `model`."""
        if self.kind == "own":
            return self.own
        traced = self.model
        try:
            if self.kind == "lent":
                kept = self.own
            elif traced.train_function is None or not self.pool.wants(self.key):
                self.pool.give_back(self.key, None)  # never traced, or one is kept already
                return traced
            else:
                kept = self.twin
            copy_state(traced, kept)
        except Exception:
            logger.exception("Handing a traced model back failed; the run keeps it")
            self.pool.give_back(self.key, None)
            return traced
        self.pool.give_back(self.key, traced)
        return kept


class TracedModels:
    """Traced models kept for the next run of the same traced steps (`trace_key`): one per
    trace key, those of the `size` keys used last. A kept model is lent to one job at a time."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._back = threading.Condition(self._lock)  # a model primed is back
        self._idle: OrderedDict[str, object] = OrderedDict()  # trace key -> traced model
        self._out: Counter[str] = Counter()  # trace key -> models lent (or to come, donor)
        self._priming: set[str] = set()  # trace keys whose kept model is being primed

    def covers(self, key: WarmKey) -> bool:
        """Whether a traced model for `key`'s steps is kept, lent, or being traced to be kept."""
        tkey = trace_key(key)
        with self._lock:
            return tkey in self._idle or self._out[tkey] > 0

    def wants(self, key: WarmKey) -> bool:
        """Whether a traced model for `key`'s steps handed back now would be kept."""
        with self._lock:
            return trace_key(key) not in self._idle

    def add(self, key: WarmKey, traced) -> bool:
        """Keep `traced` (a model traced ahead, `build_traced`) unless one is kept for its key."""
        tkey = trace_key(key)
        with self._lock:
            if tkey in self._idle:
                return False
            self._keep(tkey, traced)
            return True

    def lease(self, spec, key: WarmKey, own, donate: bool = True) -> Lease:
        """What a job trains `own` (its model for `spec`, untraced) with: a kept traced model
        given `own`'s state, else `own` itself. With `donate`, a job that traces the first
        model of its kind gives it to be kept at its end."""
        tkey = trace_key(key)
        with self._lock:
            # A kept model being primed is back in a moment (`prime`): wait for it rather
            # than train a model of its own, whose `fit` would trace its steps anew.
            self._back.wait_for(lambda: tkey not in self._priming, timeout=PRIME_WAIT_SECONDS)
            traced = self._idle.pop(tkey, None)
            donor = traced is None and donate and self._out[tkey] == 0
            if traced is not None or donor:
                self._out[tkey] += 1
        twin = None
        try:
            if traced is not None:
                copy_state(own, traced)
            elif donor:
                twin = build_untraced(spec, key)
        except Exception:
            logger.exception("A kept traced model could not take a run's state")
            self.give_back(key, None)
            traced = twin = None
        return Lease(self, key, own, traced, twin)

    def prime(self, spec, key: WarmKey) -> bool:
        """Ready the kept traced model of `key`'s steps for its next run's first call
        (`prime_steps`); False if none is idle (lent, or none kept)."""
        tkey = trace_key(key)
        with self._lock:
            traced = self._idle.pop(tkey, None)
            if traced is None:
                return False
            self._out[tkey] += 1
            self._priming.add(tkey)
        try:
            prime_steps(traced, spec)
        except Exception:  # the run pays the wait at its first call instead
            logger.exception("Priming a kept traced model failed")
        finally:
            self.give_back(key, traced, primed=True)
        return True

    def give_back(self, key: WarmKey, traced, primed: bool = False) -> None:
        """End a lease: keep `traced` for the next run unless one is kept (None: nothing);
        `primed`: the lease was `prime`'s."""
        tkey = trace_key(key)
        with self._lock:
            self._out[tkey] -= 1
            if self._out[tkey] <= 0:
                del self._out[tkey]
            if traced is not None and tkey not in self._idle:
                self._keep(tkey, traced)
            if primed:
                self._priming.discard(tkey)
                self._back.notify_all()

    def _keep(self, tkey: str, traced) -> None:
        self._idle[tkey] = traced
        self._idle.move_to_end(tkey)
        while len(self._idle) > self.size:
            self._idle.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)


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

    def _work(self) -> None:
        from core.runtime import gradient_registry
        from core.runtime.jobs import run_in_background

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
                model = self._build(spec, key)
                if data is not None:
                    PREPARED.batches(data, spec)
                # After the build's and the batches' seeding, which emptied TensorFlow's
                # caches: the run's first call then costs no more than its others.
                self.pool.prime(spec, key)
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
