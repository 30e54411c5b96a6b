"""The run Evaluate, Draw and Runs show: one session value, and the select box that changes it.

Train sets it when it starts a run (app_pages/training_session.py); each page's run picker shows
and changes it, so choosing a run on one page chooses it on all of them.

The value is the id of the run the person last saw, and nothing else takes its place: a
session that has chosen nothing yet is shown the newest run, which is then its choice; a run
deleted meanwhile (in another tab, another window) is named in a warning and the box is left
empty until the person chooses again. Actions on a run (rename, delete, downloads) are given
the id drawn with them, never "whatever is chosen now".
"""

from __future__ import annotations

import streamlit as st

from app_pages import state
from app_pages.run_store import get_store, model_runs
from app_pages.text import plain
from core.runs.records import RunNotFoundError

NOTHING = ""  # selected_run_id after the person deleted the run they were shown


def shown_run_id() -> str | None:
    """The run the pages show (Evaluate, Draw, Runs): None before any was shown, NOTHING
    after the shown run was deleted here, or the id of the run the person last saw."""
    return state.get("selected_run_id")


def run_label(run) -> str:
    """ "#3 name": how messages name a run."""
    return f"#{run.number} {run.name}"


def seen_label(run_id: str) -> str:
    """The run's label as this session last showed it (the run may be gone since)."""
    return state.get("selected_run_names").get(run_id, f"The run {run_id}")


def remember_seen(runs) -> None:
    """Keep the labels of `runs` as shown, to name them if they are deleted meanwhile."""
    state.set(
        "selected_run_names", state.get("selected_run_names") | {r.id: run_label(r) for r in runs}
    )


def run_picker(key: str, label: str = "Run", runs: list | None = None, format_func=None):
    """A select box of `runs` (default: the runs with a model) showing the session's run.

    The session's run (`shown_run_id`) is chosen; in a session that has chosen none, the
    newest, which becomes its choice. Choosing another changes it for every page. If the
    session's run is not among `runs` (deleted meanwhile, or without a model on a page that
    needs one), the box is left empty with a message saying so, and None is returned: no other
    run is put in its place. Also None when there are no runs.
    """
    runs = model_runs() if runs is None else runs
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    chosen = shown_run_id()
    if chosen is None:
        chosen = runs[0].id
        state.set("selected_run_id", chosen)
    state.set(key, chosen if chosen in by_id else None)

    def remember() -> None:
        state.set("selected_run_id", state.get(key))

    run_id = st.selectbox(
        label,
        list(by_id),
        key=key,
        on_change=remember,
        format_func=lambda run_id: (format_func or describe_run)(by_id[run_id]),
        placeholder="Choose a run",
    )
    if run_id is None:
        explain_missing(chosen)
        return None
    remember_seen([by_id[run_id]])
    return by_id[run_id]


def explain_missing(run_id: str) -> None:
    """Why the box is empty: the run last seen was deleted, or has no model to use here."""
    if run_id == NOTHING:
        return
    try:
        run = get_store().get(run_id)
    except RunNotFoundError:
        st.warning(
            f"**{plain(seen_label(run_id))}**, the run you were looking at, was deleted "
            "meanwhile (in another tab or window?). No other run was chosen in its place: "
            "choose one above.",
            icon=":material/warning:",
        )
        return
    why = (
        "yet: its first epoch is not over"
        if run.status == "running"
        else "(it ended before its first epoch was saved)"
    )
    st.info(
        f"**{plain(run_label(run))}** has no saved model {why}. Choose a run that has one above.",
        icon=":material/info:",
    )


def describe_run(run) -> str:
    """ "#3 name (completed, 5 epochs, test 97.80%)"."""
    accuracy = f", test {run.test_accuracy:.2%}" if run.test_accuracy is not None else ""
    return f"#{run.number} {run.name} ({run.status}, {run.epochs_done} epochs{accuracy})"
