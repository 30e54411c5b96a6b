"""Keras inside the Streamlit server: imported ahead on a thread, its session kept between runs."""

from __future__ import annotations

import atexit
import logging
import threading

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

from core.runtime.jobs import limit_malloc_arenas
from core.runtime.tf_import import tensorflow

LOG = logging.getLogger(__name__)
# How long the server's exit waits for the background import to finish: a process that ends
# while TensorFlow's C++ code is still loading on a daemon thread aborts
# ("FATAL: exception not rethrown") instead of exiting.
EXIT_WAIT_SECONDS = 120.0


def keep_keras_state() -> bool:
    """Stop Streamlit from clearing Keras's session after every script run.

    Streamlit (1.67, `script_runner._clean_problem_modules`) calls
    `keras.backend.clear_session()` at the end of each run of the page, and the live curves
    rerun twice a second. Each call forces a full garbage collection and resets TensorFlow's
    state while the training thread is using it, which stalls training. Every run here builds
    its own model, so nothing needs clearing. The hook is private API: if a later Streamlit
    renames it, this warns in the log and returns False (tests/pages/test_keras_runtime.py
    fails then, so an upgrade cannot lose it unnoticed).
    """
    if not hasattr(script_runner, "_clean_problem_modules"):
        LOG.warning(
            "Streamlit %s has no script_runner._clean_problem_modules: it may now clear "
            "Keras's session after every page run, stalling training; see "
            "app_pages/keras_runtime.keep_keras_state.",
            st.__version__,
        )
        return False
    script_runner._clean_problem_modules = lambda: None
    return True


@st.cache_resource(show_spinner=False)
def warm_up_keras() -> threading.Thread:
    """Import TensorFlow and Keras on a background thread once per server.

    The first page shows at once; by the time a person presses Train the import has already
    happened. First, glibc is told to keep few heaps for the server's many threads
    (`core.runtime.jobs.limit_malloc_arenas`), before they have made more.
    """
    limit_malloc_arenas()

    def _import() -> None:
        # At the page's own priority (not core.runtime.jobs.run_in_background): importing holds
        # Python's lock most of the time, and a page waiting for it would wait as long as the
        # import is kept off the processor. The import runs no operation, so TensorFlow's
        # thread pools are made later, by the first build or job, at theirs.
        tensorflow()

    thread = threading.Thread(target=_import, name="warm-up-keras", daemon=True)
    thread.start()
    atexit.register(thread.join, EXIT_WAIT_SECONDS)
    return thread
