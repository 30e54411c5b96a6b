"""Train's live panel: steering the run while it trains (core/training/steering.py).

Pause and Resume, a new learning rate and a new weight decay. Each control only writes a
request into the job's `Steering` (never a Keras call from here); the training thread takes it
at the next batch and the curves mark where (core/charts/training.py).
"""

from __future__ import annotations

import streamlit as st

from app_pages import state
from core.training.registry import JOBS
from core.training.steering import MAX_LEARNING_RATE, MAX_WEIGHT_DECAY, SteeringError

NOTICE = "train_steer_notice"
DECAY_HELP = (
    "Decoupled L2 weight decay, as AdamW's: at every batch each weight shrinks by decay × "
    "learning rate before the optimizer's step. Every optimizer the playground offers takes "
    "it in Keras 3 (its `weight_decay`); a run starts with its optimizer's own (Keras's AdamW "
    "decays, the others do not)."
)


def _key(job, name: str) -> str:
    return f"train_steer_{name}_{job.run_id}"  # a new run starts from its own values


# The widgets' callbacks get the run's id, never its job: Streamlit keeps a callback's
# arguments for as long as the session lives, and a job there would keep its model in memory.


def _toggle_pause(run_id: str) -> None:
    job = JOBS.get(run_id)
    if job is None:
        return
    if job.steer.paused:
        job.steer.resume()
    else:
        job.steer.pause()


def _ask(run_id: str, setting: str) -> None:
    job = JOBS.get(run_id)
    if job is None:
        return
    value = state.get(_key(job, setting))
    try:
        if setting == "lr":
            job.steer.set_learning_rate(value)
            what = "Peak learning rate" if job.steer.scheduled else "Learning rate"
            said = f"{what} {value:g} asked for: it applies from the next batch."
        else:
            job.steer.set_weight_decay(value)
            said = f"Weight decay {value:g} asked for: it applies from the next batch."
        state.set(NOTICE, (job.run_id, "info", said))
    except SteeringError as error:
        state.set(NOTICE, (job.run_id, "error", str(error)))


def steer_controls(job) -> None:
    """Pause/Resume, the learning rate and the weight decay of `job`, training now: a
    fragment of their own inside the live panel, so a change redraws only them (the curves
    follow at the panel's next timed redraw)."""
    _controls(job.run_id)


@st.fragment
def _controls(run_id: str) -> None:
    job = JOBS.get(run_id)  # its id, not the job: a fragment's arguments are kept too
    if job is None:
        return
    snapshot = job.snapshot()  # fresh: this fragment also redraws on its own
    steer = job.steer
    over = bool(snapshot.outcome) or job.stop_event.is_set()
    with st.container(horizontal=True, vertical_alignment="bottom", key="train_steer_row"):
        paused = steer.paused
        st.button(
            "Resume" if paused else "Pause",
            icon=":material/play_arrow:" if paused else ":material/pause:",
            on_click=_toggle_pause,
            args=(job.run_id,),
            disabled=over,
            key="train_steer_pause_button",
            help="Pause at the end of the batches under way; Resume goes on from there.",
        )
        st.number_input(
            "Peak learning rate" if steer.scheduled else "Learning rate",
            min_value=0.0,
            max_value=MAX_LEARNING_RATE,
            value=steer.learning_rate,
            step=0.0001,
            format="%g",
            key=_key(job, "lr"),
            on_change=_ask,
            args=(job.run_id, "lr"),
            disabled=over,
            help="A new rate applies from the next batch and is marked on the curves."
            + (
                " With a schedule, the rest of the schedule is scaled by new peak / old peak."
                if steer.scheduled
                else ""
            ),
            width=150,
        )
        decay = steer.weight_decay  # None until the optimizer is built and says its own
        st.number_input(
            "Weight decay",
            min_value=0.0,
            max_value=MAX_WEIGHT_DECAY,
            value=decay,
            step=0.0001,
            format="%g",
            key=_key(job, "wd" if decay is not None else "wd_pending"),
            on_change=_ask,
            args=(job.run_id, "wd"),
            disabled=over or decay is None,
            placeholder="starting…",
            help=DECAY_HELP,
            width=150,
        )
    _say_state(job, snapshot)


def _say_state(job, snapshot) -> None:
    """What the run does now: paused where, the last request; why the rate is fixed."""
    steer = job.steer
    if steer.scheduled:
        st.caption(
            f":material/show_chart: The learning rate follows this run's "
            f"{steer.schedule.replace('_', '-')} schedule (peak {steer.peak:g}): a new peak "
            "scales the rest of the schedule by new peak / old peak."
        )
    if snapshot.paused and snapshot.changes:
        where = snapshot.changes[-1]
        st.info(
            f"Paused after batch {where.batch} of epoch {where.epoch + 1}. Press **Resume** "
            "to go on.",
            icon=":material/pause_circle:",
        )
    elif steer.paused:
        st.caption(":material/pause: Pausing at the end of the batches under way…")
    notice = state.get(NOTICE)
    if notice and notice[0] == job.run_id:
        _, kind, text = notice
        (st.error if kind == "error" else st.caption)(text)
