"""A network's traced training and validation steps, apart from any training.

Keras traces a model's training step into a TensorFlow graph on the first call of `fit`. The
traced steps depend only on the settings (`WarmKey`), and several settings are never read by
them (`trace_key`), so they can be traced before a run (`trace_steps`, which trains nothing),
made ready to run (`prime_steps`), and reused by another model of the same trace key once it
holds that model's state (`copy_state`). `core.training.traced_models` keeps such models;
`core.training.warm_start` builds them ahead of Train.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import numpy as np

from core.nets.model import NUM_CLASSES, build_model


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
    import tensorflow as tf  # TensorFlow: not at start-up

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
    clears them (`core.runtime.seeding.seed_process` keeps them, unless it falls back to
    Keras's seeding because TensorFlow's private seed state moved). The first call after
    that costs more than the next ones, and the first point on the curves waits for it.
    Called after the last seeding of a build ahead, it moves that cost off the click.

    The batch changes the model's state: only for a model whose state is replaced before it
    trains, as a kept traced model's is (`TracedModels.lease` gives it the run's state).
    """
    import tensorflow as tf  # TensorFlow: not at start-up

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
    """The model a training job builds for `spec`: compiled, its steps not traced, and
    steerable while it trains (core.training.steer_callback)."""
    from core.training.steer_callback import make_steerable  # Keras: not at start-up

    model = build_model(
        spec, steps_per_epoch=key.steps_per_epoch, steps_per_execution=key.steps_per_execution
    )
    make_steerable(model)
    return model


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
    "my_digits_repeats",  # the data's length, which steps_per_epoch holds
)
CONSTANT_RATE_SETTINGS = ("learning_rate", "epochs", "batch_size")


def trace_key(key: WarmKey) -> str:
    """What a model's traced steps depend on: models of equal trace keys train alike once
    their variables are equal (tests/training/test_traced_models.py trains both ways)."""
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
