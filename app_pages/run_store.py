"""The run store as the pages use it: opened once per server, its runs' models loaded once."""

from __future__ import annotations

import streamlit as st

from app_pages.text import plain
from core.nets.model_files import standard_form
from core.runs.records import RunStoreError
from core.runs.store import RunStore, default_home


@st.cache_resource(max_entries=4, show_spinner=False)
def _open_store(home: str) -> RunStore:
    store = RunStore(home)
    store.mark_interrupted()
    return store


def get_store() -> RunStore:
    """The run store, opened once per server and folder; runs a dead process left running are
    marked interrupted when it is opened."""
    return _open_store(str(default_home()))


def store_or_stop() -> RunStore:
    """The run store; if it cannot be opened or read now (say its file is not a database, or
    was damaged since the server opened it), the page shows the store's message and stops.
    The file is left as it is."""
    try:
        store = get_store()
        store.check()
        return store
    except RunStoreError as error:
        st.error(f"**The run store cannot be opened.** {plain(error)}", icon=":material/error:")
        st.stop()


def model_runs() -> list:
    """Stored runs that have a model to look at, newest first."""
    return [run for run in get_store().list_runs() if run.has_model]


def model_stamp(run_id: str) -> float:
    """Changes whenever the run's model file is rewritten (after each epoch while training)."""
    path = get_store().model_path(run_id)
    return path.stat().st_mtime if path is not None else 0.0


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_run_model(run_id: str, stamp: float):
    """The run's model in safe mode, as (N, 784) -> (N, 10) probabilities; one per file version."""
    model = get_store().load_model(run_id, compile=False)
    if getattr(model, "is_baseline", False):  # a random forest: already (N, 784) -> (N, 10)
        return model
    model, _ = standard_form(model)
    return model


def checked_model_stamp(run_id: str) -> float | None:
    """The run's `model_stamp` once its model has loaded (`load_run_model` then has it cached),
    or None after showing why it cannot be: the run or its model file was deleted meanwhile,
    or the file is damaged. Pages then call `load_run_model(run_id, stamp)` where they use it."""
    try:
        stamp = model_stamp(run_id)
        load_run_model(run_id, stamp)
    except (RunStoreError, OSError, ValueError) as error:
        st.error(f"**This run's model cannot be loaded.** {plain(error)}", icon=":material/error:")
        return None
    return stamp
