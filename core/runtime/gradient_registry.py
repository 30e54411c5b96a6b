"""Let TensorFlow free a finished run's traced training step.

Every time Keras traces a training step, the optimizer sums the gradients through
`tf.distribute`'s replica context, whose `all_reduce` is a `tf.custom_gradient`. In graph mode
each call registers a gradient function under a new name ("CustomGradient-1234") in
TensorFlow's process-wide gradient registry, and never removes it; in TensorFlow 2.21 that
function's closure holds the traced step's output tensors, so the whole traced graph of every
model ever trained stays in memory, growing without bound (tensorflow/tensorflow#97697 and
#80895).

A registered custom gradient is only needed while the graph that registered it is being traced:
`tape.gradient` in the same trace, on the same thread, looks it up. So once a thread's
`fit` (or compiled loop) has returned, the entries that thread registered can go, and so can
those of threads that have ended. `track()` swaps the registry's table for a dict that notes which thread adds each entry;
`release()` removes the entries of the calling thread and of dead threads. Entries registered
before `track()` (or by code on other live threads) are left alone.

This reaches into TensorFlow's private registry (`ops._gradient_registry`). If its shape
changes, `track()` logs a warning (once), returns False and touches nothing: runs then leak as
before, but train. tests/runtime/test_gradient_registry.py fails if the registry has moved.
"""

from __future__ import annotations

import logging
import threading

from core.runtime.tf_import import tensorflow

PREFIX = "CustomGradient-"

_lock = threading.Lock()
_owners: dict[str, int] = {}  # entry name -> ident of the thread that registered it
_installed = False
_warned = False

logger = logging.getLogger(__name__)


def _registry():
    tensorflow()  # first: importing `tensorflow.python` on its own can deadlock another thread
    from tensorflow.python.framework import ops  # TensorFlow: not at start-up

    registry = getattr(ops, "_gradient_registry", None)
    if registry is None or not isinstance(getattr(registry, "_registry", None), dict):
        return None
    return registry


class _RecordingEntries(dict):
    """The registry's own table, noting which thread adds each custom gradient."""

    def __setitem__(self, name, entry) -> None:
        super().__setitem__(name, entry)
        if isinstance(name, str) and name.startswith(PREFIX):
            with _lock:
                _owners[name] = threading.get_ident()


def available() -> bool:
    """Whether TensorFlow's private gradient registry is where this module expects it."""
    try:
        return _registry() is not None
    except Exception:
        return False


def track() -> bool:
    """Start recording which thread registers each custom gradient; True if in place.

    Safe to call many times and from many threads; never raises.
    """
    global _installed, _warned
    with _lock:
        if _installed:
            return True
        try:
            registry = _registry()
            if registry is not None:
                registry._registry = _RecordingEntries(registry._registry)
                _installed = True
                return True
        except Exception:  # a TensorFlow whose registry looks different: leave it alone
            pass
        if not _warned:
            _warned = True
            logger.warning(
                "TensorFlow's private gradient registry (ops._gradient_registry) is not where "
                "core/runtime/gradient_registry.py expects it, so finished runs' traced graphs stay in "
                "memory (megabytes a run). Training still works; update that module."
            )
        return False


def release() -> int:
    """Drop the custom gradients registered by this thread or by threads that have ended.

    Call it on a thread whose tracing is finished (after `fit`, `evaluate` or a compiled loop
    returns). Returns how many entries were removed.
    """
    registry = _registry()
    if registry is None:
        return 0
    me = threading.get_ident()
    alive = {thread.ident for thread in threading.enumerate()}
    removed = 0
    with _lock:
        for name, owner in list(_owners.items()):
            if owner == me or owner not in alive:
                registry._registry.pop(name, None)
                del _owners[name]
                removed += 1
    return removed


def tracked() -> int:
    """How many registered custom gradients are waiting to be released."""
    with _lock:
        return len(_owners)
