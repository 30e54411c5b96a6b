"""Session state: `SESSION_DEFAULTS` lists every key a page reads before writing it, with its
default, and `init_session` (called by app.py on every run, and by any page that can be opened
on its own) sets the missing ones. Every key a page owns starts with its name. The Train page's
network (`train_spec` and the widgets drawn from it, app_pages/train_controls.py) is the one
computed default: it starts from the default preset.
"""

from __future__ import annotations

import os

import streamlit as st

SESSION_DEFAULTS = {
    "train_run_id": None,  # the run this session's training job trains (or trained last)
    "selected_run_id": None,  # the run Evaluate, Draw and Runs show (None: the newest)
    "train_error": None,  # why the last Train press started nothing
    "evaluate_true": 4,  # the confusion-matrix cell opened on Evaluate
    "evaluate_predicted": 9,
    "evaluate_index": 0,  # the test image inspected on Evaluate
    "draw_pen": 18,  # the Draw page's pen width in pixels
    "runs_compare": [],  # the runs compared on Runs
    "runs_notice": None,  # (kind, text) to show once on Runs after a rename or delete
    "runs_import_notice": None,  # the same for an import
}


def init_session() -> None:
    """Set every session value a page reads to its default, where it is not set yet."""
    st.session_state.setdefault("data_path", os.environ.get("MNIST_DATA", ""))
    for key, value in SESSION_DEFAULTS.items():
        st.session_state.setdefault(key, list(value) if isinstance(value, list) else value)


def keep_widget_state(prefix: str) -> None:
    """Keep the values of widgets whose keys start with `prefix` while their page is not shown.

    Streamlit forgets a widget's value once a run does not draw it; writing the value back as
    plain session state on every run (from app.py) keeps it for when the page is shown again.
    Only value widgets carry such a prefix, never buttons, which cannot be set this way.
    """
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        st.session_state[key] = st.session_state[key]
