"""Writing a run's model file: atomically, and never cut short by the process's exit.

`save_atomically` saves a model to a temporary file beside its final one and renames it over
it, so a kill never leaves a broken file (`core.runtime.liveness.remove_leftovers` removes the
temporary files of dead processes). `MODEL_WRITES` counts the writes under way, which the
process's exit waits for.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

# How long the process's exit waits for models being written (`ModelWrites`).
EXIT_WAIT_SECONDS = 30.0


class ModelWrites:
    """The models being written, which the process's exit waits for.

    Python's shutdown freezes every daemon thread where it stands, and the training threads
    are daemons. One frozen while Keras wrote a model's weights (with h5py) kept h5py's lock,
    and the exit itself then waited on it for good (seen: the server stopped just after
    Stop, while the run was saved). At the exit, writes under way end first and no new one
    starts; the run stays "running" in the store and reads "interrupted" next time, as when
    the process is killed.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writing = 0
        self._closed = False

    @contextlib.contextmanager
    def writing(self):
        with self._changed:
            while self._closed:  # the process is ending: this thread waits for the end
                self._changed.wait()
            self._writing += 1
        try:
            yield
        finally:
            with self._changed:
                self._writing -= 1
                self._changed.notify_all()

    def close(self, timeout: float = EXIT_WAIT_SECONDS) -> bool:
        """Let the writes under way end (up to `timeout`) and start no other; True if none is left."""
        with self._changed:
            self._closed = True
            done = self._changed.wait_for(lambda: self._writing == 0, timeout)
        if not done:
            logger.warning("A model was still being written %.0f s into the exit", timeout)
        return done


MODEL_WRITES = ModelWrites()
atexit.register(MODEL_WRITES.close)


def save_atomically(model, final: Path) -> None:
    """`model.save` to `final` through a temporary file beside it, then renamed over it."""
    partial = final.with_name(
        f"{final.stem}.{os.getpid()}-{threading.get_ident()}.partial{final.suffix}"
    )
    try:
        with MODEL_WRITES.writing():
            model.save(partial)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
