"""Seeding under concurrency: "the seed fixes the starting weights" must hold with two sessions.

`keras.utils.set_random_seed` seeds process-wide generators (Python's `random`, NumPy's, and
TensorFlow's), and Keras draws each new layer's initializer seed from Python's `random`. Two
sessions building at once on their worker threads would interleave: one's seeding resets the
other's half-built network. `seeded(seed)` holds one process-wide lock from the seeding until
the block ends, so every model built inside it gets the starting weights its seed names.

It seeds as `keras.utils.set_random_seed` does, but keeps TensorFlow's caches
(`seed_process`): `tf.random.set_seed` also empties the eager context's kernel cache, so
every traced training step made ready before it is made ready again at its next call
(and every run seeds its build and its batches). The app's randomness never comes from a
cached kernel's state: Keras draws initializers, dropout and its seed generator with
stateless ops, and the batches' shuffle is an op of a tf.data function, made anew with each
dataset.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Iterator

import numpy as np

logger = logging.getLogger(__name__)

_lock = threading.RLock()  # re-entrant: a build may build a part inside another seeded block
_warned = False


def _seeders():
    """The private places `keras.utils.set_random_seed` writes to, besides `random` and NumPy:
    Keras's global state (its seed, its seed generator) and TensorFlow's eager context (its
    global seed and the generator of op seeds). Raises if they have moved."""
    from keras.src.backend.common import global_state  # Keras: not at start-up
    from keras.src.random import seed_generator  # Keras: not at start-up
    from keras.src.utils import rng_utils  # Keras: not at start-up
    from tensorflow.python.eager import context  # TensorFlow: not at start-up

    ctx = context.context()
    # `_rng` is made by the first seeding; `_internal_operation_seed` is what reads it.
    for name in ("_seed", "_set_global_seed", "_internal_operation_seed"):
        if not hasattr(ctx, name):
            raise AttributeError(f"TensorFlow's eager context has no {name}")
    return global_state, seed_generator.GLOBAL_SEED_GENERATOR, rng_utils.GLOBAL_RANDOM_SEED, ctx


def available() -> bool:
    """Whether seeding can keep TensorFlow's caches (the private places are where expected)."""
    try:
        _seeders()
        return True
    except Exception:
        return False


def seed_process(seed: int) -> None:
    """`keras.utils.set_random_seed(seed)`, without emptying TensorFlow's kernel cache.

    The same seeds everywhere it sets them (tests/runtime/test_seeding.py compares every one). Falls
    back to `keras.utils.set_random_seed` itself, with one warning in the log, if the private
    places it writes to have moved in another Keras or TensorFlow.
    """
    global _warned
    seed = int(seed)
    try:
        global_state, generator_name, seed_name, ctx = _seeders()
    except Exception:
        if not _warned:
            _warned = True
            logger.warning(
                "Keras's or TensorFlow's private seed state is not where core/runtime/seeding.py "
                "expects it, so seeding empties TensorFlow's caches (each run's first step is "
                "slower). Training still works; update that module."
            )
        import keras  # Keras: not at start-up

        keras.utils.set_random_seed(seed)
        return
    # As keras.utils.set_random_seed: its seed, a new global seed generator (made from it).
    global_state.set_global_attribute(seed_name, seed)
    global_state.set_global_attribute(generator_name, None)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator, as Keras seeds it)
    # As tf.random.set_seed in eager mode (Context._set_global_seed), without its
    # TFE_ContextClearCaches.
    ctx._seed = seed
    ctx._rng = random.Random(seed)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Keras with `seed` and keep other threads from seeding until the block ends."""
    with _lock:
        seed_process(seed)
        yield
