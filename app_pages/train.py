"""Train: build a network with sliders, train it on a background job, watch the curves move.

The network is one `ModelSpec` in session state (app_pages/train_controls.py draws the
widgets from it and writes their edits back); the model summary beside the controls is
computed from the spec by hand (core.nets.model.layer_table), so it follows every slider at once.
"""

from dataclasses import replace

import pandas as pd
import streamlit as st

from app_pages import code_views, inside_views, lineage_views, replay_views, state
from app_pages.data_source import get_data, show_data_source
from app_pages.run_store import get_store, store_or_stop
from app_pages.steer_panel import steer_controls
from app_pages.text import format_seconds, plain
from app_pages.train_controls import (
    W,
    apply_preset,
    current_spec,
    follow_spec,
    model_controls,
    preset_recipe,
    set_spec,
    training_controls,
)
from app_pages.train_data import training_data, training_data_controls
from app_pages.training_session import (
    FIRST_POINT_WAIT_SECONDS,
    build_ahead,
    current_job,
    start_training,
    training_now,
)
from core.charts.training import training_curves_figure
from core.nets.blocks import from_layers
from core.nets.model import count_parameters, layer_table
from core.nets.presets import PRESETS
from core.runs.lineage import LineageError
from core.runs.records import RunStoreError
from core.training.monitor import Snapshot


def start() -> None:
    data, _ = get_data()
    state.set("train_error", None)
    try:
        spec = current_spec()
        starting = lineage_views.pinned_start(get_store(), spec)  # a rewind's weights
        start_training(
            spec,
            training_data(data, spec),
            callbacks=inside_views.dynamics_callbacks(data),
            starting=starting,
        )
    except LineageError as error:  # the pinned weights do not fit the network as changed
        state.set("train_error", f"**Nothing was trained.** {plain(error)}")
        return
    except RunStoreError as error:  # the store was damaged since the page was drawn
        state.set(
            "train_error", f"**Nothing was trained: the run store cannot be used.** {plain(error)}"
        )
        return
    state.set("train_just_started", True)


CONTROLS_WIDTH = 380  # pixels: the network and training controls' column
LIVE_MIN_REM = 22  # the curves and the diagram beside the controls need at least this width

# Training ends soon after Stop, once the batches under way are done: the click waits up to
# this long for it, so the page it redraws already says so and which epochs were kept (its
# test figures follow once the test pass is done; a longer wait, a big CNN's batches say,
# shows "Stopping…" first).
STOP_WAIT_SECONDS = 1.0


def stop() -> None:
    job = current_job()
    if job is not None:
        job.stop(wait=STOP_WAIT_SECONDS)


def model_summary(spec) -> None:
    """Every layer with its output shape and parameters, as a table that wraps, never cuts."""
    rows = pd.DataFrame(layer_table(spec))
    rows["parameters"] = rows["parameters"].map("{:,}".format)
    # "(None, 26, 26, 32)" -> "26 × 26 × 32": one example's shape, short enough not to wrap
    rows["output shape"] = rows["output shape"].str.removeprefix("(None, ").str.rstrip(")")
    rows["output shape"] = rows["output shape"].str.replace(", ", " × ")
    rows.columns = ["Layer", "Output shape", "Parameters"]
    with st.expander(
        f"Model: {spec.architecture()}, {count_parameters(spec):,} parameters", expanded=True
    ):
        st.table(rows.set_index("Layer"))


follow_spec()  # the widgets show the spec, however it was set
code_views.train_link(current_spec, set_spec)  # a shared link's settings; the URL follows the spec

st.title(":material/model_training: Train")
data, data_error = get_data()
show_data_source(data, data_error)
store_or_stop()  # every run is recorded there: without it, the page says why and stops
running = training_now()
spec = current_spec()
build_ahead(spec, training_data(data, spec))

# The button as wide as its word, the preset box the rest of the row (a share of the row, at
# 900 px, left the button "T..").
with st.container(horizontal=True, vertical_alignment="bottom", key="train_preset_row"):
    st.selectbox(
        "Preset",
        list(PRESETS),
        key=W + "preset",
        on_change=apply_preset,
        disabled=running,
        help="\n\n".join(f"**{name}**: {preset.source}" for name, preset in PRESETS.items()),
        **state.KEEP,
    )
    st.button(
        "Train",
        type="primary",
        icon=":material/play_arrow:",
        on_click=start,
        disabled=running or data is None,
        width="content",
        key="train_start_button",
    )
if spec.to_dict() != PRESETS[state.get(W + "preset")].spec.to_dict():
    # After an edit, a share link or an uploaded file, the box still names the last preset
    # chosen: say the settings are no longer that preset's.
    st.caption(
        ":material/edit: Changed since this preset was chosen: the settings below are your own."
    )
preset_recipe()
lineage_views.pinned_panel(spec, get_store(), disabled=running)  # a rewind's starting weights
if state.get("train_error"):
    st.error(state.get("train_error"), icon=":material/error:")

# The controls keep a width their three-in-a-row widgets read well at; the live area takes the
# rest of the row where at least LIVE_MIN_REM is left, else it goes below them (a laptop with
# the sidebar open): a row that wraps, where columns would have squeezed both.
st.html(
    f"<style>.st-key-train_layout > :last-child {{ min-width: min(100%, {LIVE_MIN_REM}rem); }}"
    "</style>"
)
with st.container(horizontal=True, gap="large", key="train_layout"):
    controls = st.container(width=CONTROLS_WIDTH, key="train_controls")
    live_area = st.container(key="train_live")

with controls:
    if from_layers(spec.layers) is None:
        st.info(
            "This network's layers do not fit the page's blocks (it was imported or built on "
            "another page); the summary shows it as it is, and the controls below start it "
            "over as blocks.",
            icon=":material/info:",
        )
    model_controls(disabled=running)
    training_controls(disabled=running)
    inside_views.dynamics_toggle(disabled=running)
    model_summary(spec)
    training_data_controls(data, disabled=running)


def show_progress(snapshot) -> None:
    if not snapshot.running:
        return
    if snapshot.outcome:  # training has ended; its test pass is under way
        (st.info if snapshot.outcome_status == "stopped" else st.success)(
            f"{snapshot.outcome} {snapshot.message}", icon=":material/hourglass_top:"
        )
        return
    if snapshot.stopping:
        text = "Stopping at the next batch, then testing the model…"
    elif snapshot.paused:
        text = f"Paused in epoch {snapshot.epoch + 1}/{snapshot.epochs}"
    elif snapshot.message or not snapshot.steps_per_epoch:
        text = snapshot.message or "Starting…"
    else:
        text = (
            f"Epoch {min(snapshot.epoch + 1, snapshot.epochs)}/{snapshot.epochs} · "
            f"batch {snapshot.step}/{snapshot.steps_per_epoch} · "
            f"{snapshot.images_per_second:,.0f} images/s · "
            f"about {format_seconds(snapshot.eta_seconds)} left"
        )
    st.progress(snapshot.fraction_done, text=text)


def show_result(snapshot) -> None:
    if snapshot.status == "failed":
        st.error(snapshot.message, icon=":material/error:")
    elif snapshot.status in ("completed", "stopped"):
        (st.success if snapshot.status == "completed" else st.info)(
            f"{snapshot.message} ({format_seconds(snapshot.elapsed_seconds)})",
            icon=":material/check_circle:"
            if snapshot.status == "completed"
            else ":material/stop_circle:",
        )
        if snapshot.test_accuracy is not None:
            accuracy, loss, wrong = st.columns(3)
            accuracy.metric("Test accuracy", f"{snapshot.test_accuracy:.2%}")
            loss.metric("Test loss", f"{snapshot.test_loss:.4f}")
            if snapshot.history["val_accuracy"]:
                wrong.metric(
                    "Best validation accuracy", f"{max(snapshot.history['val_accuracy']):.2%}"
                )


def live_snapshot(job, just_started: bool) -> Snapshot:
    """The job's progress to draw; right after Train, its first point if it comes soon."""
    if just_started:
        snapshot = job.monitor.wait_for(
            lambda progress: bool(progress.batches) or not progress.running,
            FIRST_POINT_WAIT_SECONDS,
        )
    else:
        snapshot = job.monitor.snapshot()
    # Before the job has begun, the axes it will have (as drawn before Train was pressed).
    return snapshot if snapshot.epochs else replace(snapshot, epochs=job.spec.epochs)


@st.fragment(run_every=0.5 if running else None)
def live_panel() -> None:
    just_started = state.pop("train_just_started")  # this redraw only
    job = current_job()
    if job is not None and not job.running and not get_store().exists(job.run_id):
        # Its run was deleted (on Runs, in any tab): its result goes with it.
        state.set("train_run_id", None)
        job = None
    if job is None:
        st.info(
            "Choose a network and press **Train** to watch it learn.",
            icon=":material/info:",
        )
        # The empty axes the curves will be drawn on. Streamlit draws a chart anew whenever
        # its figure changes; this one does not change when Train is pressed, so the browser,
        # busy then with the page's controls, draws no chart until the first point.
        snapshot = Snapshot(epochs=spec.epochs)
    else:
        snapshot = live_snapshot(job, just_started)
        if snapshot.running:
            # Stop is here, beside the progress, inside this fragment: pressing it redraws
            # only this panel (a few elements), not the whole page, so the end shows at once.
            # The progress takes the row's room; Stop keeps its own width, so a narrow page
            # (900 px with the sidebar open) still reads "Stop", not "S…".
            with st.container(horizontal=True, vertical_alignment="center"):
                with st.container(width="stretch"):
                    show_progress(snapshot)
                st.button(
                    "Stop",
                    icon=":material/stop:",
                    on_click=stop,
                    # pressed already, or training is over and the model is being tested
                    disabled=job.stop_event.is_set() or bool(snapshot.outcome),
                    width="content",
                    key="train_stop_button",
                )
            steer_controls(job)  # pause, a new learning rate or weight decay
        show_result(snapshot)  # above the curves: the first thing the page draws at the end
    carried = lineage_views.train_note() if job is not None else {}  # a continued run's parent
    st.plotly_chart(
        training_curves_figure(snapshot, **carried), width="stretch", key="train_curves"
    )
    if job is None:
        return
    # `running` is what the page's controls were last drawn with: once training has ended,
    # redraw the page so they are enabled again (after a Stop that waited for the end, the
    # page was drawn with it already: no second redraw).
    if running and not job.running:
        st.rerun(scope="app")


with live_area:
    with st.container():  # the panel's elements come and go; what follows it stays in place
        live_panel()
    replay_views.replay_panel(state.get("train_run_id"), key="train", live=running)
    inside_views.train_inside(spec)  # the network diagram and training dynamics

# The Keras code and the settings file, under everything: 88-column code needs the full width.
code_views.train_extras(spec, set_spec)
