"""Steering a run while it trains: the request object, the compiled step's reading of it, pauses.

The weights of a steered run are checked against runs made another way: a learning rate
changed at batch k against Keras's own PiecewiseConstantDecay switching at batch k, a weight
decay changed at batch k against a plain Keras optimizer given that decay (and its step traced
again) by a callback at batch k, a paused run against one never paused.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.mnist.data import one_hot, to_model_inputs
from core.nets.model import build_model
from core.nets.schedules import learning_rate_schedule
from core.training.job import TrainingJob
from core.training.monitor import TrainingMonitor
from core.training.steer_callback import LOG_SIZE, SteerCallback, knobs_of, make_steerable
from core.training.steering import Change, Steering, SteeringError
from tests.support.digits import patch_digits
from tests.support.specs import small_spec
from tests.support.waiting import eventually

SPEC = small_spec(units=16, epochs=2, batch_size=16)
STEPS_PER_EXECUTION = 8
NEW_RATE = 0.02


@pytest.fixture(scope="module")
def arrays():
    data = patch_digits(n_train=320, n_test=20, seed=3)
    return to_model_inputs(data.x_train), one_hot(data.y_train)


def batches(arrays, at: int | None = None, do=lambda: None):
    """The training batches in order; `do()` runs as batch `at` of the first epoch is
    fetched, which in a compiled call of several batches happens inside the call, just
    before that batch's step."""
    x, y = arrays
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(SPEC.batch_size)
    if at is None:
        return dataset

    done = []

    def fetched(index, batch):
        def call(i):
            if int(i) == at and not done:
                done.append(do())
            return i

        tf.py_function(call, [index], tf.int64)
        return batch

    options = tf.data.Options()  # no batch fetched ahead: `do` runs just before its step
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    return dataset.enumerate().map(fetched).with_options(options)


def steered_model(steering: Steering, monitor: TrainingMonitor, steps: int):
    model = build_model(SPEC, steps_per_epoch=steps, steps_per_execution=STEPS_PER_EXECUTION)
    make_steerable(model)
    callback = SteerCallback(steering, monitor, lambda: False, steps_per_epoch=steps)
    return model, callback


def test_a_new_rate_inside_a_compiled_call_equals_a_schedule_switching_at_that_batch(arrays):
    steps = len(arrays[0]) // SPEC.batch_size  # 20 a epoch
    steering, monitor = Steering(SPEC.learning_rate), TrainingMonitor()
    model, callback = steered_model(steering, monitor, steps)
    # Batch 13 is the sixth of the second compiled call (8 batches each).
    dataset = batches(arrays, at=13, do=lambda: steering.set_learning_rate(NEW_RATE))
    model.fit(dataset, epochs=SPEC.epochs, callbacks=[callback], shuffle=False, verbose=0)
    changes = steering.changes()
    assert [change.kind for change in changes] == ["learning_rate"]
    change = changes[0]
    assert change.value == NEW_RATE and change.step % STEPS_PER_EXECUTION != 0
    # The batch fetched then (13), or the one whose step was still running when TensorFlow's
    # loop fetched 13 ahead of it (12): the rate is read at each step's start, so the change is
    # recorded where it applied, and the run below must equal a switch at exactly that batch.
    assert change.step in (12, 13), change
    assert monitor.snapshot().changes == changes

    reference = build_model(SPEC, steps_per_epoch=steps)
    # PiecewiseConstantDecay gives values[1] once the step count (batches done) passes k - 1.
    rate = keras.optimizers.schedules.PiecewiseConstantDecay(
        [change.step - 1], [SPEC.learning_rate, NEW_RATE]
    )
    reference.compile(optimizer=keras.optimizers.Adam(rate), loss=SPEC.loss)
    reference.fit(batches(arrays), epochs=SPEC.epochs, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    # One batch later is another run: the comparison can tell the batch.
    late = build_model(SPEC, steps_per_epoch=steps)
    later = keras.optimizers.schedules.PiecewiseConstantDecay(
        [change.step], [SPEC.learning_rate, NEW_RATE]
    )
    late.compile(optimizer=keras.optimizers.Adam(later), loss=SPEC.loss)
    late.fit(batches(arrays), epochs=SPEC.epochs, shuffle=False, verbose=0)
    assert not np.allclose(model.get_weights()[0], late.get_weights()[0], rtol=0, atol=1e-6)


class ScaledFrom(keras.optimizers.schedules.LearningRateSchedule):
    """`schedule` times new / peak from step `k` on, written out: what a new peak rate means
    for a run whose rate follows a schedule."""

    def __init__(self, schedule, k: int, new: float, peak: float) -> None:
        self.schedule, self.k, self.new, self.peak = schedule, k, new, peak

    def __call__(self, step):
        rate = self.schedule(step)
        factor = tf.constant(self.new, tf.float32) / tf.constant(self.peak, tf.float32)
        return tf.where(step >= self.k, rate * factor, rate)


def test_a_new_peak_scales_a_schedule_from_that_batch(arrays):
    spec = replace(SPEC, lr_schedule="cosine")
    steps = len(arrays[0]) // spec.batch_size
    steering = Steering(spec.learning_rate, schedule="cosine")
    monitor = TrainingMonitor()
    model = build_model(spec, steps_per_epoch=steps, steps_per_execution=STEPS_PER_EXECUTION)
    make_steerable(model)
    callback = SteerCallback(steering, monitor, lambda: False, steps_per_epoch=steps)
    dataset = batches(arrays, at=10, do=lambda: steering.set_learning_rate(0.0002))
    model.fit(dataset, epochs=spec.epochs, callbacks=[callback], shuffle=False, verbose=0)
    (change,) = steering.changes()
    assert change.kind == "learning_rate" and change.value == 0.0002

    reference = build_model(spec, steps_per_epoch=steps)
    cosine = learning_rate_schedule("cosine", spec.learning_rate, steps * spec.epochs)
    rate = ScaledFrom(cosine, change.step, 0.0002, spec.learning_rate)
    reference.compile(optimizer=keras.optimizers.Adam(rate), loss=spec.loss)
    reference.fit(batches(arrays), epochs=spec.epochs, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


class DecayAt(keras.callbacks.Callback):
    """Plain Keras: set the optimizer's weight decay before batch `step` (and trace the step
    again, as Keras reads `weight_decay` when it traces), as the exported script does."""

    def __init__(self, step: int, value: float) -> None:
        super().__init__()
        self.step, self.value, self.done = step, value, 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.done == self.step:
            self.model.optimizer.weight_decay = self.value
            self.model.make_train_function(force=True)

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1


def test_a_new_weight_decay_equals_keras_decaying_from_that_batch(arrays):
    steps = len(arrays[0]) // SPEC.batch_size
    steering, monitor = Steering(SPEC.learning_rate), TrainingMonitor()
    model, callback = steered_model(steering, monitor, steps)
    dataset = batches(arrays, at=17, do=lambda: steering.set_weight_decay(0.05))
    model.fit(dataset, epochs=SPEC.epochs, callbacks=[callback], shuffle=False, verbose=0)
    (change,) = steering.changes()
    assert change.kind == "weight_decay" and change.value == 0.05
    assert (change.epoch, change.batch) == divmod(change.step, steps)

    reference = build_model(SPEC, steps_per_epoch=steps)  # steps_per_execution 1
    decay = DecayAt(change.step, 0.05)
    reference.fit(batches(arrays), epochs=SPEC.epochs, callbacks=[decay], shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_a_steerable_model_saves_and_trains_as_keras_made_it(arrays, tmp_path):
    steps = len(arrays[0]) // SPEC.batch_size
    steered = build_model(SPEC, steps_per_epoch=steps, steps_per_execution=STEPS_PER_EXECUTION)
    knobs = make_steerable(steered)
    assert make_steerable(steered) is knobs is knobs_of(steered)
    plain = build_model(SPEC, steps_per_epoch=steps, steps_per_execution=STEPS_PER_EXECUTION)
    assert len(steered.optimizer.variables) == len(plain.optimizer.variables)
    config = steered.optimizer.get_config() | {"name": "adam"}
    assert config == plain.optimizer.get_config() | {"name": "adam"}
    for model in (steered, plain):
        model.fit(batches(arrays), epochs=1, shuffle=False, verbose=0)
    for a, b in zip(steered.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing asked: the very same floats
    steered.save(tmp_path / "steered.keras")
    loaded = keras.saving.load_model(tmp_path / "steered.keras", safe_mode=True)
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(SPEC.learning_rate)
    steered.optimizer.learning_rate = 0.005  # Keras's own setter still works
    assert float(knobs.base.numpy()) == pytest.approx(0.005)


def test_keras_still_has_the_optimizer_hooks_steering_replaces():
    optimizer = keras.optimizers.Adam(0.001)
    assert isinstance(optimizer._learning_rate, keras.Variable)
    assert callable(getattr(optimizer, "_apply_weight_decay", None))
    assert LOG_SIZE >= 32  # core.training.job.MAX_STEPS_PER_EXECUTION


def pause_then_resume_after(job: TrainingJob, at_batch: int) -> threading.Thread:
    """Pause `job` at a batch end past `at_batch` (the next compiled call's end: the job's
    own steering callback saw this one before); resume once it says it is paused."""

    class PauseAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch >= at_batch and not job.steer.changes() and not job.steer.paused:
                job.steer.pause()

    job.callbacks.insert(0, PauseAt())

    def resume():
        eventually(lambda: job.monitor.snapshot().paused, timeout=60)
        job.steer.resume()

    thread = threading.Thread(target=resume, daemon=True)
    thread.start()
    return thread


def test_pause_and_resume_give_the_weights_of_a_run_never_paused():
    data = patch_digits(n_train=400, n_test=40, seed=5)
    plain = TrainingJob(SPEC, data, steps_per_execution=4).start()
    assert plain.join(timeout=120)
    paused = TrainingJob(SPEC, data, steps_per_execution=4)
    resumer = pause_then_resume_after(paused, at_batch=5)
    paused.start()
    assert paused.join(timeout=120)
    resumer.join(timeout=10)
    assert paused.result.status == plain.result.status == "completed"
    (pause,) = paused.steer.changes()
    assert pause.kind == "pause" and pause.value is not None and pause.step == 12
    snapshot = paused.snapshot()
    assert not snapshot.paused and snapshot.changes == [pause]
    for a, b in zip(paused.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_ends_a_paused_run():
    job = TrainingJob(SPEC, patch_digits(n_train=400, n_test=40), steps_per_execution=4)
    job.steer.pause()
    job.start()
    eventually(lambda: job.monitor.snapshot().paused, timeout=60)
    job.stop()
    assert job.join(timeout=60)
    assert job.result.status == "stopped"


def test_requests_are_checked_and_sent_with_their_version():
    steering = Steering(0.001)
    for bad in ("fast", -1, float("nan"), 11, 0):
        with pytest.raises(SteeringError):
            steering.set_learning_rate(bad)
    with pytest.raises(SteeringError, match="0 to 1"):
        steering.set_weight_decay(2)
    sent = []
    assert steering.attach(lambda *request: sent.append(request)) == (0, 0.001, 0.0)
    steering.set_learning_rate("0.01")
    steering.set_weight_decay(0.001)
    assert sent == [(1, 0.01, 0.0), (2, 0.01, 0.001)]
    scheduled = Steering(0.001, schedule="one_cycle")
    assert scheduled.scheduled and scheduled.peak == 0.001


@pytest.mark.parametrize(("optimizer", "asked"), [("adamw", None), ("adam", None), ("adamw", 0.01)])
def test_the_decay_in_force_is_the_built_optimizers_own_until_one_is_asked_for(optimizer, asked):
    spec = replace(SPEC, optimizer=optimizer)
    steering = Steering(spec.learning_rate)
    assert steering.weight_decay is None  # not known before the optimizer is built
    if asked is not None:
        steering.set_weight_decay(asked)
    model = build_model(spec, steps_per_epoch=20)
    make_steerable(model)
    callback = SteerCallback(steering, TrainingMonitor(), lambda: False, steps_per_epoch=20)
    callback.set_model(model)
    callback.on_train_begin()
    own = model.optimizer.weight_decay or 0.0  # Keras's AdamW decays by default, Adam not
    assert steering.weight_decay == pytest.approx(asked if asked is not None else own)
    assert (own > 0) == (optimizer == "adamw")
    assert knobs_of(model).request.numpy()[2] == pytest.approx(steering.weight_decay)
    callback.on_train_end()


def test_a_change_knows_its_place_and_says_it():
    change = Change.at("learning_rate", 45, 20, 0.0003)
    assert (change.epoch, change.batch) == (2, 5)
    assert change.x(20) == 2.25 and change.label() == "lr 0.0003"
    assert Change.from_dict(change.to_dict()) == change
    assert Change.at("pause", 3, 20, 12.4).label() == "paused 12 s"
    assert Change.at("pause", 3, 20, None).label() == "paused"
