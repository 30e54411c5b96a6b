"""Traced models kept for the next run of the same traced steps.

Tracing is most of a build, and runs that differ only in their seed, learning rate, epochs or
batch size trace the same steps (`core.training.tracing.trace_key`): those read the weights,
the dropout seeds and the learning rate from variables. So a traced model is kept for the next
such run (`TracedModels`, one per set of traced steps): the run's own model is still built as
always, untraced, for its starting state; the kept traced model is given that state (every
layer and optimizer variable) and trains; at the end the trained state goes back into the
run's own model, which the job keeps, and the traced one waits for the next run (`Lease`).
Only the first run of a network is traced, by `core.training.warm_start` ahead of it or by its
own `fit`.

A job hands the traced model back as its training ends, before its test pass, so an
experiment's next run, built ahead at that moment, finds it to prime (`TracedModels.prime`); a
job that asks for a model being primed waits for it rather than trace its own.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict

from core.training.tracing import WarmKey, build_untraced, copy_state, prime_steps, trace_key

logger = logging.getLogger(__name__)

# How long a job waits for a kept model being primed (TracedModels.prime, which runs one batch)
# before it trains a model of its own, which traces its steps anew.
PRIME_WAIT_SECONDS = 10.0


class Lease:
    """One training job's use of `TracedModels`: `model` is what it trains; `end` gives the
    model it keeps, with the trained state, and hands a traced model back for the next run.

    lent: the job trains a kept traced model given its own model's starting state; at the end
    the trained state goes into its own model, which it keeps.
    donor: no traced model of its kind exists; the job trains its own model (its `fit` traces
    it) and at the end keeps `twin`, built with it, given the trained state; the traced one is
    kept for the next run. (Built at the start, not the end: a build seeds the process, and
    the next run's `fit` shuffles by the seed of the last build, its own built ahead.)
    own: another job has the traced model of its kind; it trains and keeps its own.
    """

    def __init__(self, pool: TracedModels, key: WarmKey, own, traced, twin) -> None:
        self.pool = pool
        self.key = key
        self.own = own
        self.twin = twin
        self.model = traced if traced is not None else own
        self.kind = "lent" if traced is not None else "donor" if twin is not None else "own"

    def end(self):
        """The model the job keeps (not traced, unless the lease was "own"); call it once,
        after the last use of `model`."""
        if self.kind == "own":
            return self.own
        traced = self.model
        try:
            if self.kind == "lent":
                kept = self.own
            elif traced.train_function is None or not self.pool.wants(self.key):
                self.pool.give_back(self.key, None)  # never traced, or one is kept already
                return traced
            else:
                kept = self.twin
            copy_state(traced, kept)
        except Exception:
            logger.exception("Handing a traced model back failed; the run keeps it")
            self.pool.give_back(self.key, None)
            return traced
        self.pool.give_back(self.key, traced)
        return kept


class TracedModels:
    """Traced models kept for the next run of the same traced steps (`trace_key`): one per
    trace key, those of the `size` keys used last. A kept model is lent to one job at a time."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._back = threading.Condition(self._lock)  # a model primed is back
        self._idle: OrderedDict[str, object] = OrderedDict()  # trace key -> traced model
        self._out: Counter[str] = Counter()  # trace key -> models lent (or to come, donor)
        self._priming: set[str] = set()  # trace keys whose kept model is being primed

    def covers(self, key: WarmKey) -> bool:
        """Whether a traced model for `key`'s steps is kept, lent, or being traced to be kept."""
        tkey = trace_key(key)
        with self._lock:
            return tkey in self._idle or self._out[tkey] > 0

    def wants(self, key: WarmKey) -> bool:
        """Whether a traced model for `key`'s steps handed back now would be kept."""
        with self._lock:
            return trace_key(key) not in self._idle

    def add(self, key: WarmKey, traced) -> bool:
        """Keep `traced` (a model traced ahead, `build_traced`) unless one is kept for its key."""
        tkey = trace_key(key)
        with self._lock:
            if tkey in self._idle:
                return False
            self._keep(tkey, traced)
            return True

    def lease(self, spec, key: WarmKey, own, donate: bool = True) -> Lease:
        """What a job trains `own` (its model for `spec`, untraced) with: a kept traced model
        given `own`'s state, else `own` itself. With `donate`, a job that traces the first
        model of its kind gives it to be kept at its end."""
        tkey = trace_key(key)
        with self._lock:
            # A kept model being primed is back in a moment (`prime`): wait for it rather
            # than train a model of its own, whose `fit` would trace its steps anew.
            self._back.wait_for(lambda: tkey not in self._priming, timeout=PRIME_WAIT_SECONDS)
            traced = self._idle.pop(tkey, None)
            donor = traced is None and donate and self._out[tkey] == 0
            if traced is not None or donor:
                self._out[tkey] += 1
        twin = None
        try:
            if traced is not None:
                copy_state(own, traced)
            elif donor:
                twin = build_untraced(spec, key)
        except Exception:
            logger.exception("A kept traced model could not take a run's state")
            self.give_back(key, None)
            traced = twin = None
        return Lease(self, key, own, traced, twin)

    def prime(self, spec, key: WarmKey) -> bool:
        """Ready the kept traced model of `key`'s steps for its next run's first call
        (`prime_steps`); False if none is idle (lent, or none kept)."""
        tkey = trace_key(key)
        with self._lock:
            traced = self._idle.pop(tkey, None)
            if traced is None:
                return False
            self._out[tkey] += 1
            self._priming.add(tkey)
        try:
            prime_steps(traced, spec)
        except Exception:  # the run pays the wait at its first call instead
            logger.exception("Priming a kept traced model failed")
        finally:
            self.give_back(key, traced, primed=True)
        return True

    def give_back(self, key: WarmKey, traced, primed: bool = False) -> None:
        """End a lease: keep `traced` for the next run unless one is kept (None: nothing);
        `primed`: the lease was `prime`'s."""
        tkey = trace_key(key)
        with self._lock:
            self._out[tkey] -= 1
            if self._out[tkey] <= 0:
                del self._out[tkey]
            if traced is not None and tkey not in self._idle:
                self._keep(tkey, traced)
            if primed:
                self._priming.discard(tkey)
                self._back.notify_all()

    def _keep(self, tkey: str, traced) -> None:
        self._idle[tkey] = traced
        self._idle.move_to_end(tkey)
        while len(self._idle) > self.size:
            self._idle.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)
