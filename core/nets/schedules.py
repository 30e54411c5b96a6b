"""Learning-rate schedules a spec may name, made from Keras's own `CosineDecay`.

"cosine" falls from the learning rate to zero along a cosine over all the batches. "one_cycle"
(Leslie Smith's one-cycle policy, as in "super-convergence") first climbs in a straight line
from a 25th of the learning rate to the learning rate over the first quarter of the batches,
then falls along a cosine to zero by the last one: a short warm-up lets a high peak rate be
used without the first batches blowing the weights up, and the long fall settles them. Both
are built-in Keras objects, so a saved model with either loads anywhere, safe mode included.
"""

from __future__ import annotations

from core.nets.layers import SpecError

ONE_CYCLE_WARMUP_DIVISOR = 4  # a quarter of the batches climb
ONE_CYCLE_START_DIVISOR = 25  # the climb starts at learning_rate / 25


def one_cycle_steps(total_steps: int) -> tuple[int, int]:
    """(climbing steps, falling steps) of a one-cycle schedule over `total_steps` batches:
    a quarter, rounded down, then the rest (under 4 batches, no climb)."""
    warmup = total_steps // ONE_CYCLE_WARMUP_DIVISOR
    return warmup, total_steps - warmup


def learning_rate_schedule(schedule: str, learning_rate: float, total_steps: int | None):
    """The Keras schedule for "cosine" or "one_cycle" peaking at `learning_rate` and
    reaching zero after `total_steps` batches (all the epochs' batches)."""
    import keras  # Keras: not at start-up

    if schedule not in ("cosine", "one_cycle"):
        raise SpecError(f"{schedule!r} is not a learning-rate schedule; try cosine or one_cycle.")
    if not total_steps:
        raise SpecError(f"a {schedule} learning-rate schedule needs the number of training steps.")
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    warmup, decay = one_cycle_steps(total_steps)
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / ONE_CYCLE_START_DIVISOR,
        decay_steps=decay,
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
