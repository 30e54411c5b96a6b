"""Continue and rewind on the pages (core/runs/lineage.py): the Runs page's actions on one run
and what it says of a run's lineage and of compared runs' starting weights; the Train page's
pinned starting weights and the note above a continued run's curves.

Fine-tuning (issue 31) is a continued run whose training images add My digits.

A continued run is a NEW run that names its parent (the parent stays as it was); its history
holds the parent's epochs first, numbered on. A rewind pins the starting weights of a run on
the Train page, with that run's settings: the learner changes a setting and presses Train.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from app_pages import state
from app_pages.data_source import get_data
from app_pages.run_picker import run_label
from app_pages.text import plain
from app_pages.train_controls import set_spec
from app_pages.train_data import DEFAULT_REPEATS, my_digits_count, training_data
from app_pages.training_session import current_job, start_training, training_now
from core.charts.runs import shared_start_text
from core.runs.lineage import (
    MAX_EPOCHS,
    LineageError,
    continue_start,
    lineage,
    lineages,
    rewind_spec,
    rewind_start,
    start_path,
)
from core.runs.records import RunNotFoundError, RunStoreError
from core.runs.store import RunStore

DEFAULT_MORE_EPOCHS = 5
TRAIN_PAGE = "app_pages/train.py"


def _name(store: RunStore, run_id: str | None) -> str:
    """ "#3 name" of a run, or words for one deleted since."""
    try:
        return run_label(store.get(run_id))
    except RunNotFoundError:
        return "a run deleted since"


def run_lineage(store: RunStore, run) -> None:
    """Where the run came from (its parent, or the run it was rewound to), under its status."""
    found = lineage(store, run.id)
    if found.parent_id:
        st.caption(
            f":material/moving: Continues {plain(_name(store, found.parent_id))} from its epoch "
            f"{found.parent_epochs}: a new run, the parent is kept as it was. Its first "
            f"{found.parent_epochs} epochs are the parent's (dotted on the compared curves)."
        )
    if found.rewound_from:
        st.caption(
            f":material/replay: Rewound: started from the same weights as "
            f"{plain(_name(store, found.rewound_from))}."
        )


def run_actions(store: RunStore, run) -> None:
    """Continue the run for more epochs, or train again from its starting weights."""
    busy = training_now()
    has_model = run.model_epochs and run.status != "running" and run.spec is not None
    st.caption(
        "Train on from this run: continue it as a new run that carries on its epochs, or "
        "train a new run from the very weights it started from, with a setting changed."
    )
    kept = my_digits_count()
    mine = kept > 0 and st.toggle(
        f"Fine-tune with My digits: add your {kept:,} kept digits, each {DEFAULT_REPEATS} times "
        "an epoch, to the continued run's training images",
        key="runs_fine_tune",
        help="Continue trains on MNIST plus My digits (never in the validation split), so the "
        "network learns your handwriting without forgetting MNIST. Compare the runs' Mine % "
        "after evaluating both on My digits.",
    )
    with st.container(horizontal=True, vertical_alignment="bottom", key="runs_lineage_row"):
        more = st.number_input(
            "More epochs",
            min_value=1,
            max_value=max(1, MAX_EPOCHS - (run.model_epochs or 0)),
            value=DEFAULT_MORE_EPOCHS,
            key="runs_more_epochs",
            width=140,
        )
        go_on = st.button(
            f"{'Fine-tune' if mine else 'Continue'} for {more} more "
            f"epoch{'' if more == 1 else 's'}",
            icon=":material/fast_forward:",
            disabled=busy or not has_model,
            key="runs_continue",
            help="A new run that starts from this run's saved model and optimizer state and "
            "carries on its epoch count; this run stays as it is.",
        )
        again = st.button(
            "Train again from these starting weights",
            icon=":material/replay:",
            disabled=busy or run.spec is None or not start_path(store, run.id).exists(),
            key="runs_rewind",
            help="Opens Train with this run's settings and its starting weights pinned: "
            "change one setting and press Train.",
        )
    if busy:
        st.caption("This session is training a run: Continue and Rewind wait for it to end.")
    if go_on:
        continue_run(store, run.id, int(more), DEFAULT_REPEATS if mine else 0)
    if again:
        rewind(store, run.id)


def continue_run(store: RunStore, run_id: str, more: int, my_digits_repeats: int = 0) -> None:
    """Start the continued run on a background job and open Train to watch it; with
    `my_digits_repeats`, it fine-tunes on MNIST plus My digits, each that many times."""
    data, _ = get_data()
    try:
        spec, starting = continue_start(store, run_id, more)
        if my_digits_repeats:
            spec = replace(spec, my_digits_repeats=my_digits_repeats)
        if data is None:
            raise LineageError("No training data is loaded: choose it on the Train page first.")
        set_spec(spec)  # Train shows the network being trained
        start_training(spec, training_data(data, spec), starting=starting)
    except RunStoreError as error:
        st.error(plain(error), icon=":material/error:")
        return
    state.set("train_just_started", True)
    st.switch_page(TRAIN_PAGE)


def rewind(store: RunStore, run_id: str) -> None:
    """Open Train with the run's settings and its starting weights pinned."""
    try:
        spec = rewind_spec(store, run_id)
        label = run_label(store.get(run_id))
    except RunStoreError as error:
        st.error(plain(error), icon=":material/error:")
        return
    set_spec(spec)
    state.set("train_pinned", (run_id, label))
    st.switch_page(TRAIN_PAGE)


def compared_lineage(store: RunStore, runs: list) -> dict:
    """Say which compared runs share their starting weights; returns their lineages."""
    found = lineages(store, [run.id for run in runs])
    for sentence in shared_start_text(runs, found):
        st.markdown(f":material/replay: {plain(sentence)}")
    for run in runs:
        known = found.get(run.id)
        if known is not None and known.parent_id:
            st.markdown(
                f":material/moving: {plain(run.name)} continues "
                f"{plain(_name(store, known.parent_id))}: its first {known.parent_epochs} "
                "epochs, dotted on the curves, are the parent's."
            )
    return found


def carried_epochs(found: dict) -> dict[str, int]:
    """The parent's epochs each continued run carries, by id (for the compared curves)."""
    return {run_id: known.parent_epochs for run_id, known in found.items() if known.parent_epochs}


# ----- Train --------------------------------------------------------------------------------


def unpin() -> None:
    state.set("train_pinned", None)


def pinned_panel(spec, store: RunStore, disabled: bool) -> None:
    """On Train: the starting weights pinned by a rewind, whether the network still takes
    them, and Unpin."""
    pinned = state.get("train_pinned")
    if not pinned:
        return
    run_id, label = pinned
    try:
        rewind_start(store, run_id, spec)
        problem = None
    except RunStoreError as error:
        problem = str(error)
    fingerprint = lineage(store, run_id).short_fingerprint
    st.info(
        f"**Starting weights pinned:** the weights {plain(label)} started from (fingerprint "
        f"{fingerprint}). Change one setting and press Train: the new run differs only in "
        "what you changed.",
        icon=":material/push_pin:",
    )
    st.button(
        "Unpin the starting weights",
        key="train_unpin",
        icon=":material/keep_off:",
        on_click=unpin,
        disabled=disabled,
        width="content",
    )
    if problem:
        st.warning(plain(problem), icon=":material/warning:")


def pinned_start(store: RunStore, spec):
    """Train's starting state: the pinned weights (`LineageError` if they do not fit), or
    None when nothing is pinned."""
    pinned = state.get("train_pinned")
    return rewind_start(store, pinned[0], spec) if pinned else None


def train_note() -> dict:
    """Above Train's curves: what a continued or rewound run starts from; returns the
    curves' shading of the parent's epochs (keyword arguments of training_curves_figure)."""
    job = current_job()
    starting = getattr(job, "starting", None)
    if starting is None:
        return {}
    if starting.initial_epoch:
        st.caption(
            f":material/moving: Continues {plain(starting.source)}: its epochs are shaded, "
            "this run's carry on from them (a new run; the parent is kept as it was)."
        )
        return {"carried": starting.initial_epoch}
    st.caption(f":material/replay: Started from the weights {plain(starting.source)} started from.")
    return {}
