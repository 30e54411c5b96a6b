"""Work on a background thread, never the script thread: the base of every job the pages start.

`BackgroundJob` owns what every job needs: its worker thread, a stop request, a lock for the
progress the page reads as `snapshot()`, a failure captured into that progress instead of a
thread dying silently, TensorFlow's gradient-registry release once the work is done
(`core.runtime.gradient_registry`), and a full garbage collection after it. Subclasses say what the
work is (`work(stop)`), how a failure shows in their progress (`fail(message)`) and, if they
like, what happens once the work is over (`finished()`).

A job may run one piece of work (`start()`: `TrainingJob`) or a series of them (`_launch`:
`XorJob`, where each reset or train queues a worker that waits for the one before it).
"""

from __future__ import annotations

import copy
import ctypes
import gc
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from core.runtime import gradient_registry

logger = logging.getLogger(__name__)


def release_free_memory() -> bool:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim); False elsewhere.

    Every job runs on a new thread, and glibc gives threads their own heaps ("arenas"), which
    keep freed memory for reuse rather than returning it, so a freed model's pages stayed in
    the server's resident memory (bench/memory.py --conv measures it).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True


# The heaps ("arenas") glibc may keep for the process's threads: `limit_malloc_arenas`.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Have glibc keep at most `count` heaps for the process's threads (mallopt's
    M_ARENA_MAX, what the MALLOC_ARENA_MAX variable sets); False elsewhere.

    glibc gives threads that allocate at the same moment heaps of their own, up to eight a
    core, and each heap keeps what is freed in it, in pieces `malloc_trim` cannot hand back.
    Every run here is new threads (the job, the builds ahead, each script run of the page),
    and the server grew by 1 to 3 MB a run with nothing kept in use (bench/memory.py); with
    two heaps it stays level, and training is as fast. Call it early: heaps made already
    stay, and glibc fixes the limit once more than eight exist.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_ARENA_MAX, int(count)))


# How much lower than the page a background thread runs (Linux's nice scale, 0 to 19): with
# the same two cores busy, the page and the browser drawing it get about ten times the
# processor time of training; with the cores free, training runs as fast as ever.
BACKGROUND_NICENESS = 10


def run_in_background() -> bool:
    """Lower the calling thread's processor priority to `BACKGROUND_NICENESS`; False where
    that cannot be done for one thread (only Linux can).

    Threads that train or build call this first: the threads TensorFlow starts for its work
    (its thread pools, made by the first thread to run an operation, normally the network
    built ahead) inherit it. On two cores a run used both at full priority, and a browser
    that was still loading the chart's code when Train was pressed drew the first curve
    point late (bench/latency.py, on a fresh server).
    """
    if not sys.platform.startswith("linux"):  # elsewhere the call would lower the process
        return False
    try:
        thread = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS,
            thread,
            max(os.getpriority(os.PRIO_PROCESS, thread), BACKGROUND_NICENESS),
        )
    except OSError:
        return False
    return True


def describe_failure(error: BaseException) -> str:
    """ "ValueError: the message" for a page to show."""
    return "".join(traceback.format_exception_only(type(error), error)).strip()


class BackgroundJob:
    """One worker thread at a time; the page calls `start`/`stop` and reads `snapshot()`."""

    thread_name = "job"

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards self._state, the progress the page reads
        self._state: Any = None
        self._thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    # ----- what subclasses give ----------------------------------------------------------

    def work(self, stop: threading.Event) -> None:
        """The job's work, on the worker thread; return soon after `stop` is set."""
        raise NotImplementedError

    def fail(self, message: str) -> None:
        """Show a failure in the progress (by default: status "failed" and the message)."""
        self._change(status="failed", message=message)

    def finished(self) -> None:
        """Called on the worker thread once the work is over, even if it failed."""

    # ----- the page's side ---------------------------------------------------------------

    def start(self) -> BackgroundJob:
        self._launch(self.work)
        return self

    def stop(self) -> None:
        """Ask the running work to end soon; it keeps what it has done."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True if it has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.alive

    @property
    def alive(self) -> bool:
        """Whether a worker thread is still going."""
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self) -> Any:
        """A copy of the progress, taken under the lock: never half-written."""
        with self._lock:
            return copy.deepcopy(self._state)

    # ----- for subclasses ----------------------------------------------------------------

    def _change(self, **changes) -> None:
        """Change the progress under the lock and bump its version."""
        with self._lock:
            for name, value in changes.items():
                setattr(self._state, name, value)
            self._state.version += 1

    def _launch(
        self,
        work: Callable[..., None],
        *args,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        """Run `work(stop, *args)` on a new worker that first waits for the previous one."""
        previous, stop = self._thread, threading.Event()
        self.stop_event = stop
        on_failure = on_failure or self.fail

        def main() -> None:
            run_in_background()
            if previous is not None:
                previous.join()  # one worker at a time owns the model
            try:
                gradient_registry.track()
                work(stop, *args)
            except Exception as error:  # the page shows it; the thread must not die silently
                self.error = error
                on_failure(f"Training failed: {describe_failure(error)}")
            finally:
                gradient_registry.release()  # else TensorFlow keeps every traced graph
            try:
                self.finished()
            except Exception as error:  # a failing hook must not hide the work's own result
                logger.exception("A job's finishing step failed")
                self.error = self.error or error
            # A Keras model and its traced graphs form reference cycles, which only Python's
            # full collection frees, and with the server's hundreds of thousands of objects
            # that runs only every several jobs: the models of forgotten jobs (megabytes
            # each) would wait for it. Collecting here, off the script thread and once the
            # result is saved, frees them now.
            gc.collect()
            release_free_memory()

        self._thread = threading.Thread(target=main, name=self.thread_name, daemon=True)
        self._thread.start()
