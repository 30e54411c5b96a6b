"""Draw: draw a digit and see what the network reads, and the 28x28 image it really gets."""

import time

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages import inside_views, state
from app_pages.data_source import get_data, show_data_source
from app_pages.my_digits_store import my_digits_or_none
from app_pages.run_picker import run_picker
from app_pages.run_store import checked_model_stamp, load_run_model, model_runs, store_or_stop
from app_pages.training_session import current_job, start_training, training_now
from core.charts.metrics import probabilities_figure
from core.inside.evaluation import tenths_text
from core.mnist.recognise import LOW_CONFIDENCE, get_ready, recognise
from core.mydigits.records import MyDigitsError
from core.nets.presets import PRESETS, QUICK_PRESET

CANVAS_SIZE = 280
# Pixels. The canvas and the answer fit side by side in the 440 px a 900 px window leaves
# beside the sidebar; the probabilities go under them there, beside them where there is room.
ANSWER_WIDTH = 140
# The canvas shows its toolbar only while the pointer is over it (streamlit-drawable-canvas).
TOOLBAR_HELP = (
    "Undo, redo and clear: point at the canvas and its toolbar appears above its top-right "
    "corner. Draw big or small, anywhere."
)
ANSWER_PAUSE = 0.05  # seconds between sending the answer and the charts below it
SEEN_HELP = (
    "The 28x28 digit the network gets: your strokes redrawn along their paths at MNIST's usual "
    "stroke width whatever the pen, with half their slant taken away, fitted into 20x20 and "
    "centred by mass in 28x28, as MNIST's digits were."
)


def draw_canvas(pen_width: int, key: str) -> tuple[np.ndarray | None, dict | None]:
    """The one place that knows the canvas component: returns the drawing as (H, W, 4) RGBA
    and its strokes as the canvas's `json_data` (its paths), each None before any drawing.

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
    return (
        (None, None) if image is None else (np.asarray(image), getattr(result, "json_data", None))
    )


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


def answer_view(recognition, rgba: np.ndarray) -> None:
    """The network's answer (its digit, how sure it is, a warning when it is unsure), Keep,
    and the 28x28 image it read, as the canvas shows it: white ink on black."""
    st.metric(  # the confidence is not a change: no arrow, no colour
        "Prediction",
        str(recognition.digit),
        f"{tenths_text(100 * recognition.confidence)} sure",  # to a tenth, as the chart
        delta_color="off",
        delta_arrow="off",
    )
    if recognition.unsure:
        st.warning(
            f"Not sure: under {LOW_CONFIDENCE:.0%} for any digit; its next guess is "
            f"{recognition.runner_up}. Try drawing bigger and clearer.",
            icon=":material/help:",
        )
    keep_view(recognition, rgba)
    st.markdown("**What it reads**")
    st.image(enlarged(recognition.image, ANSWER_WIDTH // 28))  # a PNG: no chart to draw
    st.caption(SEEN_HELP)


def keep_digit(image28: np.ndarray, canvas: np.ndarray, label: int) -> None:
    """The Keep button's action, before the page reruns: the digit joins My digits and the
    canvas starts blank (a new key), or the page says why it was not kept."""
    store = my_digits_or_none()
    if store is None:
        return
    try:
        store.keep(image28, label, canvas=canvas)
    except MyDigitsError as error:
        state.set("draw_keep_notice", ("error", str(error)))
        return
    state.set(
        "draw_keep_notice", ("success", f"Kept as a {label}: {store.count():,} in My digits.")
    )
    state.set("draw_canvas_round", state.get("draw_canvas_round") + 1)


def keep_view(recognition, rgba: np.ndarray) -> None:
    """Keep this digit in My digits, labelled with the prediction or the digit chosen here."""
    # A new drawing's prediction starts the box anew; a choice made here stays for this one.
    label = st.selectbox(
        "It is a",
        range(10),
        index=recognition.digit,
        key=f"draw_keep_label_{state.get('draw_canvas_round')}_{recognition.digit}",
        help="The digit you meant: the prediction, or another if the network got it wrong.",
    )
    st.button(
        "Keep",
        icon=":material/bookmark_add:",
        key="draw_keep",
        on_click=keep_digit,
        args=(recognition.image, rgba, label),
        help="Keep this digit in My digits, to test and train networks on your own handwriting.",
        width="stretch",
    )


def keep_notice() -> None:
    """What the last Keep did, said once."""
    notice = state.pop("draw_keep_notice")
    if notice is None:
        return
    kind, text = notice
    if kind == "error":
        st.error(text, icon=":material/error:")
    else:
        st.success(text, icon=":material/bookmark_added:")
        st.page_link("app_pages/my_digits.py", label="See My digits", icon=":material/gesture:")


def enlarged(image28: np.ndarray, scale: int) -> np.ndarray:
    """A (28, 28) image in [0, 1] as 8-bit grey pixels, each a `scale` x `scale` square."""
    pixels = np.repeat(np.repeat(image28, scale, axis=0), scale, axis=1)
    return (255 * np.clip(pixels, 0, 1)).round().astype(np.uint8)


@st.fragment
def draw_section() -> None:
    run = run_picker("draw_run", "Network")
    if run is None:  # none yet, or the one last seen was deleted (the picker said so)
        if not model_runs():
            quick_model_panel(data)
        return
    stamp = checked_model_stamp(run.id)
    if stamp is None:
        return
    model = load_run_model(run.id, stamp)
    # Side by side where there is room; what does not fit goes under the rest.
    with st.container(horizontal=True):
        canvas_box = st.container(width=CANVAS_SIZE)
        answer_box = st.container(width=ANSWER_WIDTH)
        details_box = st.container(width="stretch")
    with canvas_box:
        st.markdown("**Draw a digit, 0 to 9**")
        # A new key after each kept digit: the canvas starts blank for the next one.
        rgba, paths = draw_canvas(
            state.get("draw_pen"), key=f"draw_canvas_{state.get('draw_canvas_round')}"
        )
        st.slider("Pen width", 6, 30, key="draw_pen")
        st.caption(TOOLBAR_HELP)
    recognition = None if rgba is None else recognise(model, rgba, paths)
    with answer_box:
        keep_notice()
        if recognition is None:
            st.info(
                "Draw a digit on the black square and the network's answer appears here.",
                icon=":material/edit:",
            )
            get_ready(model)  # while the person starts to draw
            return
        answer_view(recognition, rgba)  # first: the slower views wait for it, not it for them
    # A moment between the answer and the charts: sent together, the browser shows them in one
    # redraw, and the answer waits for every chart to be drawn (bench/draw_latency.py).
    time.sleep(ANSWER_PAUSE)
    with details_box:
        st.plotly_chart(
            probabilities_figure(recognition.probabilities),
            key="draw_probabilities",
            width="stretch",
        )
    # Inside the network: saliency, activations, what a unit responds to
    inside_views.inside_section(run.id, stamp, recognition.image, key="draw")


draw_section()
