"""The worker's side of steering (core/training/steering.py): the compiled step's own reading of
the learner's requests, and the Keras callback that reports what it did and pauses.

Keras runs `steps_per_execution` batches (up to 32 here, core/training/job.py) in one compiled
call, and a callback's batch hooks run only between calls. So a new rate set by a callback
would wait for the end of the call under way. Instead `make_steerable` gives a model's
optimizer, before its step is traced, a learning rate that the compiled step itself reads
at every batch from a request variable the page writes into (`Knobs`; with a schedule,
the new rate over the schedule's peak scales the schedule from then on): the first batch that
starts after the request takes it, and writes its own step number into a small log, which
`SteerCallback` reads after each call to record the change where it happened. Weight decay
goes the same way: the step applies the decay asked for (none while it is 0), from the same
request.

Keras's private hooks used (docs/private-api.md): the optimizer's `_learning_rate` (called
when it is a callable) and `_apply_weight_decay`; tests/training/test_steering.py fails if an
upgrade moves them.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from core.training.monitor import TrainingMonitor
from core.training.steering import Change, Steering

# Requests the step logs between two reads of the log: one per batch at most, and the
# callback reads it after every compiled call, so any steps_per_execution up to this.
LOG_SIZE = 64


class _SteeredRate:
    """The optimizer's `_learning_rate` once steerable: called by the compiled step (Keras
    calls a callable rate with no argument). `assign` keeps `optimizer.learning_rate = x`
    working for a constant rate, as Keras's own variable would."""

    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs

    def __call__(self):
        return self.knobs.rate()

    def assign(self, value) -> None:
        self.knobs.base.assign(value)


def own_decay(optimizer) -> float:
    """The weight decay Keras built `optimizer` with (None there: 0)."""
    return float(getattr(optimizer, "weight_decay", None) or 0.0)


class Knobs:
    """The variables through which a model's compiled step reads the learner's requests.

    request: (version, learning rate, weight decay), written by the page (`send`);
    applied: the same, as the step last took it; at the first call of each step (`checked_at`
    is not yet this step), a request of a new version is taken and logged with the step.
    """

    def __init__(self, optimizer) -> None:
        self.optimizer = optimizer
        self.base = optimizer._learning_rate  # a variable, or a schedule
        self.scheduled = isinstance(self.base, keras.optimizers.schedules.LearningRateSchedule)
        self.initial_decay = own_decay(optimizer)
        # tf.Variables, not Keras's: the optimizer does not track them, so saved models and
        # `copy_state` (core/training/tracing.py) see the optimizer as Keras made it.
        with tf.init_scope():
            self.request = tf.Variable(tf.zeros(3), trainable=False, name="steer_request")
            self.applied = tf.Variable(tf.zeros(3), trainable=False, name="steer_applied")
            self.checked_at = tf.Variable(tf.constant(-1, tf.int64), trainable=False)
            self.log_steps = tf.Variable(tf.zeros(LOG_SIZE, tf.int64), trainable=False)
            self.log_values = tf.Variable(tf.zeros((LOG_SIZE, 2)), trainable=False)
            self.log_count = tf.Variable(tf.constant(0, tf.int64), trainable=False)
            # A schedule's peak rate as the spec gives it: a new rate scales the schedule by
            # new / peak from its batch on.
            self.peak = tf.Variable(tf.constant(1.0), trainable=False, name="steer_peak")
        self.start_step = 0
        self.read_count = 0

    # ----- in the compiled step ---------------------------------------------------------------

    def rate(self):
        """This step's learning rate; the step's first call takes a new request."""
        step = tf.cast(tf.convert_to_tensor(self.optimizer.iterations), tf.int64)
        request = self.request.read_value()
        applied = self.applied.read_value()
        take = tf.logical_and(
            tf.not_equal(self.checked_at.read_value(), step),
            tf.not_equal(request[0], applied[0]),
        )
        now = tf.where(take, request, applied)
        self.applied.assign(now)
        self.checked_at.assign(step)

        def log():
            slot = tf.reshape(self.log_count.read_value() % LOG_SIZE, (1, 1))
            self.log_steps.scatter_nd_update(slot, tf.reshape(step, (1,)))
            self.log_values.scatter_nd_update(slot, tf.reshape(now[1:], (1, 2)))
            self.log_count.assign_add(1)
            return tf.constant(True)

        tf.cond(take, log, lambda: tf.constant(False))
        if self.scheduled:
            return self.base(self.optimizer.iterations) * (now[1] / self.peak.read_value())
        base = tf.cast(tf.convert_to_tensor(self.base), tf.float32)
        return tf.where(now[0] > 0, now[1], base)

    def apply_weight_decay(self, variables) -> None:
        """Keras's decoupled weight decay (`variable -= variable * decay * rate`) with the
        decay in force, before the step's update; nothing while it is 0."""
        optimizer = self.optimizer
        rate = tf.convert_to_tensor(optimizer.learning_rate)  # takes a new request first
        decay = self.applied.read_value()[2]

        def apply():
            for variable in variables:
                if optimizer._use_weight_decay(variable):
                    value = variable.value if isinstance(variable, keras.Variable) else variable
                    lr = tf.cast(rate, value.dtype)
                    wd = tf.cast(decay, value.dtype)
                    value.assign_sub(value * wd * lr)
            return tf.constant(True)

        tf.cond(decay > 0, apply, lambda: tf.constant(False))

    # ----- on the worker, between compiled calls ----------------------------------------------

    def send(self, version: int, learning_rate: float, weight_decay: float) -> None:
        """Write a request (any thread); the next step to start takes it."""
        self.request.assign([float(version), float(learning_rate), float(weight_decay)])

    def reset(
        self, version: int, learning_rate: float, weight_decay: float, *, peak: float
    ) -> None:
        """Start a run: nothing applied yet, the request in force waiting (its version 0 if
        none was made), the log empty; steps count from the optimizer's iterations now.
        `peak` is the spec's learning rate (a schedule's peak)."""
        self.start_step = int(self.optimizer.iterations.numpy())
        base = peak if self.scheduled else float(np.asarray(self.base.numpy()))
        self.peak.assign(peak)
        self.applied.assign([0.0, base, self.initial_decay])
        self.request.assign([float(version), float(learning_rate), float(weight_decay)])
        self.checked_at.assign(-1)
        self.log_count.assign(0)
        self.read_count = 0

    def taken(self) -> list[tuple[int, float, float]]:
        """The requests steps took since the last call: (run's step, learning rate, decay)."""
        count = int(self.log_count.numpy())
        if count == self.read_count:
            return []
        steps, values = self.log_steps.numpy(), self.log_values.numpy()
        rows = [
            (
                int(steps[i % LOG_SIZE]) - self.start_step,
                float(values[i % LOG_SIZE][0]),
                float(values[i % LOG_SIZE][1]),
            )
            for i in range(self.read_count, count)
        ]
        self.read_count = count
        return rows


def make_steerable(model) -> Knobs:
    """Give `model`'s optimizer a learning rate and weight decay the compiled step reads from
    `Knobs` (before the step is traced: a traced step keeps what it read). Once is enough."""
    optimizer = model.optimizer
    knobs = getattr(optimizer, "_steer_knobs", None)
    if knobs is not None:
        return knobs
    knobs = Knobs(optimizer)
    steered = _SteeredRate(knobs)
    plain_config = type(optimizer).get_config

    def get_config():
        # Saved as Keras made it: the schedule or the variable's value, not the callable.
        object.__setattr__(optimizer, "_learning_rate", knobs.base)
        try:
            return plain_config(optimizer)
        finally:
            object.__setattr__(optimizer, "_learning_rate", steered)

    # object.__setattr__: neither Keras's nor TensorFlow's attribute tracking should see these.
    object.__setattr__(optimizer, "_steer_knobs", knobs)
    object.__setattr__(optimizer, "_learning_rate", steered)
    object.__setattr__(optimizer, "_apply_weight_decay", knobs.apply_weight_decay)
    object.__setattr__(optimizer, "get_config", get_config)
    return knobs


def knobs_of(model) -> Knobs | None:
    """The `Knobs` of a model made steerable, else None."""
    optimizer = getattr(model, "optimizer", None)
    return getattr(optimizer, "_steer_knobs", None)


class SteerCallback(keras.callbacks.Callback):
    """Carries a run's `Steering` into training: sends its requests to the compiled step,
    records the changes the step took (in the steering, and in `monitor` for the page), and
    pauses between compiled calls while paused.

    It goes first among `fit`'s callbacks, so when Stop ends a pause, the page's `LiveMetrics`
    sees Stop at the same batch end and ends training there.
    """

    def __init__(
        self,
        steering: Steering,
        monitor: TrainingMonitor,
        stopped,
        *,
        steps_per_epoch: int,
    ) -> None:
        super().__init__()
        self.steering = steering
        self.monitor = monitor
        self.stopped = stopped  # () -> bool: Stop was pressed
        self.steps_per_epoch = steps_per_epoch
        self.knobs: Knobs | None = None
        self._epoch = 0
        self._values = (0.0, 0.0)

    def on_train_begin(self, logs=None):
        self.knobs = knobs_of(self.model)
        decay = own_decay(self.model.optimizer)
        if self.knobs is None:  # not built by build_untraced: pauses only
            self.steering.attach(None, decay)
            return
        version, learning_rate, weight_decay = self.steering.attach(None, decay)
        self.knobs.reset(version, learning_rate, weight_decay, peak=self.steering.peak)
        base = self.knobs.applied.numpy()
        self._values = (float(base[1]), float(base[2]))
        self.steering.attach(self.knobs.send)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._record_taken()
        if not self.steering.paused:
            return
        done = self._epoch * self.steps_per_epoch + min(batch + 1, self.steps_per_epoch)
        change = Change.at("pause", done, self.steps_per_epoch, None)
        self.monitor.set_paused(change)
        started = self.monitor.clock()
        self.steering.wait_while_paused(self.stopped)
        seconds = self.monitor.clock() - started
        change = Change.at("pause", done, self.steps_per_epoch, round(seconds, 1))
        self.steering.record(change)
        self.monitor.end_pause(change, seconds)

    def on_train_end(self, logs=None):
        self._record_taken()
        self.steering.attach(None)

    def _record_taken(self) -> None:
        if self.knobs is None:
            return
        for step, learning_rate, weight_decay in self.knobs.taken():
            for kind, old, new in (
                ("learning_rate", self._values[0], learning_rate),
                ("weight_decay", self._values[1], weight_decay),
            ):
                if new != old:
                    change = Change.at(kind, step, self.steps_per_epoch, _short(new))
                    self.steering.record(change)
                    self.monitor.record_change(change)
            self._values = (learning_rate, weight_decay)


def _short(value: float) -> float:
    """A float32 read back as the float it was given as (0.0003, not 0.00030000001...)."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
