"""The run Evaluate, Draw and Runs show: one session value, and the select box that changes it.

Train sets it when it starts a run (app_pages/training_session.py); each page's run picker shows
and changes it, so choosing a run on one page chooses it on all of them.
"""

from __future__ import annotations

import streamlit as st

from app_pages import state
from app_pages.run_store import model_runs


def shown_run_id() -> str | None:
    """The run the pages show (Evaluate, Draw, Runs), or None for the newest."""
    return state.get("selected_run_id")


def run_picker(key: str, label: str = "Run", runs: list | None = None, format_func=None):
    """A select box of `runs` (default: the runs with a model) showing the session's run.

    The session's run (`shown_run_id`), else the newest, is chosen; choosing another changes
    it for every page. The widget's own `key` only mirrors that one value, so a run deleted
    or added elsewhere never leaves the box on a stale choice. Returns the chosen run, or
    None when there are no runs.
    """
    runs = model_runs() if runs is None else runs
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    chosen = shown_run_id()
    state.set(key, chosen if chosen in by_id else runs[0].id)

    def remember() -> None:
        state.set("selected_run_id", state.get(key))

    run_id = st.selectbox(
        label,
        list(by_id),
        key=key,
        on_change=remember,
        format_func=lambda run_id: (format_func or describe_run)(by_id[run_id]),
    )
    return by_id[run_id]


def describe_run(run) -> str:
    """ "#3 name (completed, 5 epochs, test 97.80%)"."""
    accuracy = f", test {run.test_accuracy:.2%}" if run.test_accuracy is not None else ""
    return f"#{run.number} {run.name} ({run.status}, {run.epochs_done} epochs{accuracy})"
