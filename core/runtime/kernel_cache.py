"""Empty TensorFlow's eager kernel cache, where every Keras variable ever made leaves a kernel.

TensorFlow keeps the kernel of every eager op it has run, keyed by the op's attributes, for
the life of the process. Making a variable runs `VarHandleOp` with the variable's name as its
`debug_name` attribute, and Keras names many variables uniquely (an optimizer's
`adam/dense_12_kernel_momentum`, a `keras.Variable` without a name), so each such variable
leaves a kernel of its own, about 35 KB, that is never used again. Every network built (a
run's model and optimizer, each network built ahead as the sliders move) left a megabyte or
more behind, for good: bench/memory.py's server grew by 2 to 5 MB a run. Keras's own
`clear_session()` empties the cache, and Streamlit called it after every run of a page
until app_pages/keras_runtime.py stopped that (it also resets Keras's global state, under a
training run on another thread).

`clear()` empties the cache. The cost: each traced function is made ready again at its next
call (0.2 to 0.4 s of CPU for the default network's training step), so it is called where
that is paid anyway: before a network is built ahead of Train (core/training/warm_start.py),
a build that ends by making the kept traced steps ready (`TracedModels.prime`). A run
training meanwhile in another session pays it once, at its next compiled call. Stateful
kernels are reset too; the app draws no randomness from them (core/runtime/seeding.py).

This calls TensorFlow's private eager context (`context.context().clear_kernel_cache()`, what
`tf.random.set_seed` and `keras.backend.clear_session` call). If it has moved, `clear()` logs
one warning and returns False: memory then grows by each network's variables, as before.
tests/runtime/test_kernel_cache.py fails if it has.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)

_warned = False


def _context():
    from tensorflow.python.eager import context  # TensorFlow: only once it is imported

    ctx = context.context()
    if not callable(getattr(ctx, "clear_kernel_cache", None)):
        raise AttributeError("TensorFlow's eager context has no clear_kernel_cache")
    return ctx


def available() -> bool:
    """Whether TensorFlow's eager context can empty its kernel cache where this module expects."""
    try:
        _context()
        return True
    except Exception:
        return False


def clear() -> bool:
    """Empty TensorFlow's kernel cache; True if done. Nothing to do (False) before TensorFlow
    is imported: nothing is cached then. Never raises."""
    global _warned
    if "tensorflow" not in sys.modules:
        return False
    try:
        _context().clear_kernel_cache()
        return True
    except Exception:
        if not _warned:
            _warned = True
            logger.warning(
                "TensorFlow's eager context cannot empty its kernel cache where "
                "core/runtime/kernel_cache.py expects it, so every network built leaves its "
                "variables' kernels in memory. Training still works; update that module."
            )
        return False
