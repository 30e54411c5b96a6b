"""TensorFlow, imported the one way that is safe from any thread: through Keras.

Importing TensorFlow is not safe when two threads start it at once through different doors.
One thread imports `keras` (which imports `tensorflow`), another `tensorflow` itself (whose
package reaches back into Keras): each holds one of Python's module locks and waits for the
other's, Python breaks the deadlock by handing one of them a half-made module, both imports
fail part-way, and the next attempt runs TensorFlow's module code a second time ("KeyError:
Registering two gradient with name 'ReduceDataset'"). The app met this when Train was
pressed on a fresh server whose background import (app_pages/keras_runtime.warm_up_keras) and
network built ahead (core.training.warm_start) were still importing: the page showed that traceback.
Two threads that both import `keras` first are safe (the second waits for the first), so
code that may be the first on its thread to import TensorFlow (a thread's first step:
`core.runtime.gradient_registry`, the background import) asks `tensorflow()` for it; code that runs
on a Keras model already built may import `tensorflow` as usual.

Once imported, the objects made so far (TensorFlow's, Keras's and the server's: hundreds of
thousands, none of them ever garbage) are moved out of the garbage collector's sight
(`gc.freeze`). Every job ends with a full collection, to free its model's reference cycles
at once (`core.runtime.jobs`), which holds Python's lock while it runs: with them out of its
way it takes almost nothing. Objects made afterwards, models and their graphs included, are
collected as before.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_imported = False


def tensorflow():
    """The `tensorflow` module, imported after Keras (see the module's docstring); its first
    import freezes the objects it made (`gc.freeze`) before any caller goes on."""
    global _imported
    if not _imported:
        with _lock:
            if not _imported:
                import keras  # noqa: F401  (first, always; Keras: not at start-up)
                import tensorflow  # noqa: F401  (TensorFlow: not at start-up)

                gc.freeze()
                _imported = True
    import tensorflow as tf  # imported above: this only names it

    return tf
