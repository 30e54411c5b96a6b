"""Draw: draw a digit and see what the network reads, and the 28x28 image it really gets."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages import inside_views, state
from app_pages.data_source import get_data, show_data_source
from app_pages.run_picker import run_picker
from app_pages.run_store import checked_model_stamp, load_run_model, model_runs, store_or_stop
from app_pages.training_session import current_job, start_training, training_now
from core.charts.images import digit_figure
from core.charts.metrics import probabilities_figure
from core.mnist.recognise import LOW_CONFIDENCE, recognise
from core.nets.presets import PRESETS, QUICK_PRESET

CANVAS_SIZE = 280


def draw_canvas(pen_width: int, key: str) -> np.ndarray | None:
    """The one place that knows the canvas component: returns the drawing as (H, W, 4) RGBA.

    White pen on black, as MNIST digits are; its toolbar has undo, redo and clear.
    """
    result = st_canvas(
        stroke_width=pen_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    image = result.image_data
    return None if image is None else np.asarray(image)


def quick_model_panel(data) -> None:
    """No trained network yet: one click trains the quick preset, with its progress."""
    if training_now():
        waiting_panel()
        return
    st.info("There is no trained network to read your digits yet.", icon=":material/info:")
    spec = PRESETS[QUICK_PRESET].spec
    if st.button(
        f"Train a quick model ({spec.architecture()}, {spec.epochs} epochs)",
        type="primary",
        icon=":material/bolt:",
        key="draw_quick_train",
        disabled=data is None,
    ):
        start_training(spec, data)
        st.rerun()


@st.fragment(run_every=1.0)
def waiting_panel() -> None:
    """The quick model's progress, redrawn every second while there is nothing to draw for.

    The only part of the page that polls: once the first model is saved (or training ends)
    it reruns the whole page, which then shows the canvas and polls no more.
    """
    job = current_job()
    if job is None or not job.running or model_runs():
        st.rerun(scope="app")
    snapshot = job.monitor.snapshot()
    st.progress(
        snapshot.fraction_done,
        text=f"Training a quick model: epoch {min(snapshot.epoch + 1, max(snapshot.epochs, 1))}"
        f" of {snapshot.epochs}…",
    )
    st.caption("Draw when it is ready: the first complete epoch is enough to try it.")


state.init()  # so that the page can be opened on its own
st.title(":material/draw: Draw")
data, data_error = get_data()
show_data_source(data, data_error)
store_or_stop()


@st.fragment
def draw_section() -> None:
    run = run_picker("draw_run", "Network")
    if run is None:
        quick_model_panel(data)
        return
    stamp = checked_model_stamp(run.id)
    if stamp is None:
        return
    model = load_run_model(run.id, stamp)
    canvas_col, seen_col, answer_col = st.columns([3, 2, 3], gap="medium")
    with canvas_col:
        st.markdown("**Draw a digit, 0 to 9**")
        rgba = draw_canvas(state.get("draw_pen"), key="draw_canvas")
        st.slider("Pen width", 6, 30, key="draw_pen")
        st.caption("Use the canvas toolbar to undo or clear. Draw big or small, anywhere.")
    recognition = None if rgba is None else recognise(model, rgba)
    if recognition is None:
        with answer_col:
            st.info(
                "Draw a digit on the black square and the network's answer appears here.",
                icon=":material/edit:",
            )
        return
    with seen_col:
        st.markdown("**What the network receives**")
        st.plotly_chart(digit_figure(recognition.image), key="draw_seen", width="stretch")
        st.caption(
            "Your drawing cropped to its ink, its strokes made no thinner or thicker than most "
            "of MNIST's, fitted into 20x20 and centred by its mass in 28x28, as MNIST's digits "
            "were."
        )
    with answer_col:
        st.metric(  # the confidence is not a change: no arrow, no colour
            "Prediction",
            str(recognition.digit),
            f"{recognition.confidence:.0%} sure",
            delta_color="off",
            delta_arrow="off",
        )
        if recognition.unsure:
            st.warning(
                f"Not sure: under {LOW_CONFIDENCE:.0%} for any digit; its next guess is "
                f"{recognition.runner_up}. Try drawing bigger and clearer.",
                icon=":material/help:",
            )
        st.plotly_chart(
            probabilities_figure(recognition.probabilities),
            key="draw_probabilities",
            width="stretch",
        )
    # Inside the network: saliency, activations, what a unit responds to
    inside_views.inside_section(run.id, stamp, recognition.image, key="draw")


draw_section()
