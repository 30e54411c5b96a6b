"""Every value the app keeps in a browser session: its key, its default, how long it lives.

The one owner of `st.session_state`: pages read and write it only through `get`, `set` and
`pop` here (tests/pages/test_state.py checks that no other file touches it). `KEYS` declares
each key a page reads or writes, `FAMILIES` the keys built from a prefix (one per layer, run or
page); a key declared nowhere is refused with the fix. Every key starts with its page's name.

A key lives one of three ways:

- SESSION: a plain value, kept for the whole session.
- KEPT: a widget's value, kept while its page is not shown and there again on return. The
  widget passes `**KEEP` (Streamlit's `persist_state="session"`): the one way the app keeps
  widget values across pages.
- PAGE: a widget's value, which Streamlit forgets once a page without the widget is shown;
  `init` gives it its default again.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import streamlit as st

SESSION = "session"
KEPT = "kept"
PAGE = "page"
KEEP = {"persist_state": "session"}  # what a KEPT widget passes
PAGES = ("home", "learn", "train", "evaluate", "draw", "mydigits", "runs", "experiments", "xor")


@dataclass(frozen=True)
class Key:
    """How one key lives, its default (for a widget, None: the widget's own), what it holds."""

    lifetime: str
    default: Any = None
    holds: str = ""


def _data_path() -> str:
    return os.environ.get("MNIST_DATA", "")


KEYS: dict[str, Key] = {
    # Data and runs, shared by every page
    "data_path": Key(SESSION, _data_path, "the MNIST folder or .npz; '' is Keras's own copy"),
    "train_run_id": Key(SESSION, None, "the run this session's job trains (or trained last)"),
    "selected_run_id": Key(SESSION, None, "the run Evaluate, Draw and Runs show (run_picker)"),
    "selected_run_names": Key(SESSION, {}, "'#3 name' of runs shown, by id: names a deleted one"),
    # Learn (app_pages/learn.py)
    "learn_lesson": Key(KEPT, None, "the lesson shown (its file name); first: the first lesson"),
    "learn_verdict": Key(SESSION, None, "(lesson, passed, sentences) of the last check pressed"),
    "learn_notice": Key(SESSION, None, "(lesson, text) said after Set it up"),
    # Train (app_pages/train.py, train_controls.py)
    "train_spec": Key(SESSION, None, "the network, a ModelSpec; None: the default preset's"),
    "train_spec_shown": Key(SESSION, None, "train_spec's JSON as the widgets show it now"),
    "train_error": Key(SESSION, None, "why the last edit or Train press did nothing"),
    "train_pinned": Key(SESSION, None, "(run id, '#3 name') whose starting weights Train uses"),
    "train_just_started": Key(SESSION, False, "Train was pressed: the next draw waits for a point"),
    "train_w_preset": Key(KEPT, None, "the preset box; first: its first option, the default"),
    "train_inside_dynamics": Key(PAGE, None, "record weight and gradient norms"),
    "train_link_read": Key(SESSION, False, "the page's address was read for a shared link"),
    "train_link_problem": Key(SESSION, (None, None), "(what the link could not set, its spec)"),
    "train_spec_upload_json": Key(PAGE, None, "the settings file being uploaded"),
    "train_spec_upload_notice": Key(SESSION, None, "(kind, text) said once about an upload"),
    "train_replay_moved": Key(SESSION, None, "(run id, epoch) where the replay slider was left"),
    # Evaluate: only its open tab is drawn, so the tabs' widgets are kept while another is open
    "evaluate_true": Key(KEPT, 4, "the confusion-matrix cell opened: its true digit"),
    "evaluate_predicted": Key(KEPT, 9, "... and its predicted digit"),
    "evaluate_normalised": Key(KEPT, None, "the confusion matrix shows rates"),
    "evaluate_mistake_true": Key(KEPT, None, "the mistakes shown: their true digit (None: any)"),
    "evaluate_mistake_predicted": Key(KEPT, None, "... and their predicted digit"),
    "evaluate_index": Key(KEPT, 0, "the test image inspected"),
    "evaluate_test_set": Key(
        KEPT, "mnist", "the test set: 'mnist' (MNIST's) or 'mine' (My digits)"
    ),
    "evaluate_my_score": Key(SESSION, None, "(run, accuracy, loss, count) last kept on My digits"),
    "evaluate_run": Key(PAGE, None, "the run picker, set from selected_run_id on every draw"),
    "evaluate_replay_moved": Key(SESSION, None, "(run id, epoch) where the replay slider was left"),
    # Draw
    "draw_pen": Key(PAGE, 18, "the pen's width in pixels"),
    "draw_run": Key(PAGE, None, "the run picker, set from selected_run_id on every draw"),
    "draw_canvas_round": Key(SESSION, 0, "digits kept this session: the canvas's key, blank anew"),
    "draw_keep_notice": Key(SESSION, None, "(kind, text) said once after Keep"),
    # My digits (app_pages/my_digits.py)
    "mydigits_show": Key(KEPT, "all", "the label whose digits the gallery shows, or 'all'"),
    "mydigits_notice": Key(SESSION, None, "(kind, text) said once after a relabel, delete, import"),
    # Runs
    "runs_run": Key(PAGE, None, "the run picker, set from selected_run_id on every draw"),
    "runs_compare": Key(PAGE, [], "the runs compared"),
    "runs_notice": Key(SESSION, None, "(kind, text) said once after a rename or delete"),
    "runs_upload": Key(PAGE, None, "the model file to import"),
    "runs_import_name": Key(PAGE, None, "the imported run's name, if typed"),
    "runs_import_notice": Key(SESSION, None, "(kind, text) said once after an import"),
    # Experiments
    "experiments_selected": Key(PAGE, None, "the experiment shown, set on every draw"),
    "experiments_ray": Key(PAGE, None, "the Ray cluster's address, if typed"),
    "experiments_notice": Key(SESSION, None, "why the last start or resume failed, said once"),
    "experiments_plan": Key(SESSION, None, "a lesson's experiment, written into the form once"),
    # XOR (app_pages/xor.py, plane_settings.py)
    "xor_job": Key(SESSION, None, "the page's XorJob; None until the page first draws"),
    "xor_unit": Key(PAGE, None, "the unit shown large, 'layer:unit'"),
    "xor_unit_choices": Key(SESSION, {}, "the units of the network shown, 'layer:unit' -> name"),
    "xor_network": Key(PAGE, None, "the network chart's click"),
    "xor_new_seed": Key(PAGE, None, "the New seed button"),
    "plane_link_read": Key(SESSION, False, "the page's address was read for a shared link"),
    "plane_link_problem": Key(SESSION, (None, None), "(what the link could not set, its spec)"),
}

FAMILIES: dict[str, Key] = {
    # Every other widget of a page: its key starts with the page's name.
    **{f"{page}_": Key(PAGE, None, "the page's other widgets") for page in PAGES},
    "train_w_": Key(KEPT, None, "Train's network widgets, written from train_spec (show_spec)"),
    "runs_name_": Key(PAGE, None, "the name box of one run, by its id"),
    # The inside views' choices: the digit compared with, the layer and unit shown, the click.
    "draw_inside_": Key(PAGE, None, "the inside views' choices on Draw"),
    "evaluate_inside_": Key(PAGE, None, "the inside views' choices on Evaluate"),
    "xor_": Key(KEPT, None, "XOR's settings (defaults: plane_settings.WIDGET_DEFAULTS), buttons"),
}


def declared(key: str) -> Key:
    """How `key` lives: its own entry, else the longest family prefix it starts with."""
    if key in KEYS:
        return KEYS[key]
    families = [prefix for prefix in FAMILIES if key.startswith(prefix)]
    if not families:
        raise KeyError(
            f"{key!r} is not a session key of this app: declare it in app_pages/state.py "
            "(KEYS, or FAMILIES for keys built from a prefix)."
        )
    return FAMILIES[max(families, key=len)]


def default(key: str) -> Any:
    """`key`'s default (a fresh copy: pages may change it in place)."""
    value = declared(key).default
    return value() if callable(value) else copy.deepcopy(value)


def init() -> None:
    """Give every declared key its default where the session has no value yet.

    app.py calls it on every run; so do the pages whose widgets start from a default here
    (Draw, Runs), so that they can be opened on their own. A widget whose default is None
    starts from its own (a select box's first option).
    """
    for key, entry in KEYS.items():
        if key not in st.session_state and (entry.lifetime == SESSION or entry.default is not None):
            st.session_state[key] = default(key)


def get(key: str, fallback: Any = None) -> Any:
    """The session's value of `key`; if it has none, `fallback`, else its default."""
    declared(key)
    if key in st.session_state:
        return st.session_state[key]
    return default(key) if fallback is None else fallback


def set(key: str, value: Any) -> None:
    """Make `value` the session's value of `key` (a widget's key: before the widget is drawn)."""
    declared(key)
    st.session_state[key] = value


def pop(key: str) -> Any:
    """The session's value of `key`, which it then forgets (a notice said once)."""
    declared(key)
    return st.session_state.pop(key, default(key))
