"""Seeding under concurrency: "the seed fixes the starting weights" must hold with two sessions.

`keras.utils.set_random_seed` seeds process-wide generators (Python's `random`, NumPy's, and
TensorFlow's), and Keras draws each new layer's initializer seed from Python's `random`. Two
sessions building at once on their worker threads would interleave: one's seeding resets the
other's half-built network. `seeded(seed)` holds one process-wide lock from the seeding until
the block ends, so every model built inside it gets the starting weights its seed names.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_lock = threading.RLock()  # re-entrant: a build may build a part inside another seeded block


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Keras with `seed` and keep other threads from seeding until the block ends."""
    import keras

    with _lock:
        keras.utils.set_random_seed(int(seed))
        yield
