"""The part of an exported Keras script that replays what the learner changed while the run
trained (core/training/steering.py): a callback that sets the same learning rate and weight
decay before the same batches.

A scheduled run's new rate scales the rest of its schedule by new peak / LEARNING_RATE (as
core/training/steer_callback.py does), through a small schedule class around Keras's own.
The script trains one batch per compiled call (Keras's default), so a callback's
`on_train_batch_begin` comes before every batch and a rate it sets is the one that batch uses.
Keras reads an optimizer's `weight_decay` when it traces the training step, so after a new
decay the callback has the step traced again. Pauses change no number; the script lists them
in a comment.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.export.template import fill
from core.training.steering import Change

STEERING = '''\
# What you changed while the run trained in the playground, set again before the same
# batches: (batch, counted from 0 over all the epochs; setting; its new value).
CHANGES = [
    $changes
]$pauses
$scaled_schedule


class Steering(keras.callbacks.Callback):
    """Sets each changed setting just before its batch, as the playground did."""

    def on_train_begin(self, logs=None):
        self.batches_done = 0

    def on_train_batch_begin(self, batch, logs=None):
        for step, setting, value in CHANGES:
            if step == self.batches_done and setting == "learning_rate":
                $set_rate
            elif step == self.batches_done:
                # Keras reads weight_decay as it builds the training step: build it again.
                self.model.optimizer.weight_decay = value
                self.model.make_train_function(force=True)

    def on_train_batch_end(self, batch, logs=None):
        self.batches_done += 1
$restore_schedule


steering = Steering()'''

# A new rate of a scheduled run scales the rest of its schedule by new peak / LEARNING_RATE.
SCALED_SCHEDULE = '''\


class ScaledSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The schedule above, times peak / LEARNING_RATE: Steering below sets the peak."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.peak = keras.Variable(LEARNING_RATE, trainable=False)

    def __call__(self, step):
        return self.schedule(step) * (self.peak / LEARNING_RATE)


optimizer.learning_rate = scaled = ScaledSchedule(learning_rate)'''

RESTORE_SCHEDULE = """\

    def on_train_end(self, logs=None):
        # Saved with Keras's own schedule, so the model file loads anywhere.
        self.model.optimizer.learning_rate = learning_rate"""


def steering_part(changes: Sequence[Change], scheduled: bool = False) -> str:
    """The CHANGES list and the callback that applies it ("" for a run with no new values);
    `scheduled`: the run's rate follows a schedule, which a new rate scales."""
    settings = [c for c in changes if c.kind in ("learning_rate", "weight_decay")]
    if not settings:
        return ""
    rows = "\n".join(
        f'({c.step}, "{c.kind}", {c.value!r}),  # epoch {c.epoch + 1}, batch {c.batch + 1}'
        for c in settings
    )
    pauses = [c for c in changes if c.kind == "pause"]
    said = "".join(
        f"\n# Paused {c.value or 0:.0f} s after batch {c.step} (a pause changes no number)."
        for c in pauses
    )
    scales = scheduled and any(c.kind == "learning_rate" for c in settings)
    return fill(
        STEERING,
        changes=rows,
        pauses=said,
        scaled_schedule=SCALED_SCHEDULE if scales else "",
        set_rate="scaled.peak.assign(value)"
        if scales
        else "self.model.optimizer.learning_rate = value",
        restore_schedule=RESTORE_SCHEDULE if scales else "",
    )


def callbacks_line(early_stopping: bool, steering: bool) -> str:
    """fit's `callbacks=[...]` argument, or "" when there is none."""
    names = [
        name for name, used in (("early_stopping", early_stopping), ("steering", steering)) if used
    ]
    return f"callbacks=[{', '.join(names)}]," if names else ""
