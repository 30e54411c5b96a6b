"""Evaluate: what a trained network gets right and wrong on the 10,000 test digits, or on My
digits (the learner's own, kept on Draw): every view works on the test set chosen.

What is ready is drawn first: the run's stored test figures, then (once the test digits are
predicted) the same figures measured here and the open tab. Only the open tab is drawn
(`st.tabs(on_change="rerun")`): opening another reruns the page, so a tab never shows what
an earlier choice left in it (a mistake chosen in Mistakes is in Inspect a digit when opened),
and the inside views of a convnet are computed only when Inspect a digit is open.
"""

import hashlib

import numpy as np
import streamlit as st

from app_pages import inside_views, replay_views, state
from app_pages.data_source import get_data, show_data_source
from app_pages.my_digits_store import my_digits_or_none
from app_pages.run_picker import run_picker
from app_pages.run_store import (
    checked_model_stamp,
    get_store,
    load_run_model,
    model_runs,
    store_or_stop,
)
from app_pages.selection import clickable_chart, selected_cell, selected_image
from app_pages.text import plain
from core.charts.images import (
    digit_figure,
    digit_grid_figure,
    filters_grid_figure,
    misclassified_grid_figure,
    weights_grid_figure,
)
from core.charts.metrics import (
    confusion_matrix_figure,
    per_class_accuracy_figure,
    probabilities_figure,
)
from core.inside.evaluation import (
    evaluate_probabilities,
    first_conv_filters,
    first_layer_weight_images,
    predict_probabilities,
)
from core.mydigits.records import MyDigitsError
from core.runs.records import RunNotFoundError

GALLERY_SIZE = 48
DIGITS = list(range(10))
TABS = [
    "Confusion matrix",
    "Per digit",
    "Mistakes",
    "Inspect a digit",
    "First-layer weights",
    "Replay",
]
# The per-digit table's rates, all with one decimal: one test image in a thousand.
PERCENT = st.column_config.NumberColumn(format="%.1f")


MNIST_SET, MY_SET = "mnist", "mine"


@st.cache_resource(max_entries=4, show_spinner="Predicting the test digits…")
def evaluate_run(run_id: str, stamp: float, test_key: str, _images, _labels):
    """Predictions and every number on the page, computed once per model file and test set
    (`test_key` names the set and its contents: the arrays are not hashed by Streamlit)."""
    model = load_run_model(run_id, stamp)
    return evaluate_probabilities(predict_probabilities(model, _images), _labels)


def choose_test_set(data) -> tuple[str, str, np.ndarray, np.ndarray]:
    """The test set chosen: (its name, a key that changes with its contents, images, labels).
    My digits with none kept says how to keep some and stops the page."""
    store = my_digits_or_none()
    kept = store.count() if store is not None else 0
    choice = st.segmented_control(
        "Test on",
        [MNIST_SET, MY_SET],
        format_func=lambda c: (
            f"MNIST's {len(data.y_test):,} test digits"
            if c == MNIST_SET
            else f"My digits ({kept:,})"
        ),
        key="evaluate_test_set",
        **state.KEEP,
    )
    if choice != MY_SET:
        return MNIST_SET, data.description, data.x_test, data.y_test
    if not kept:
        st.info(
            "No digits kept yet: draw some on Draw and press Keep under the answer.",
            icon=":material/info:",
        )
        st.page_link("app_pages/draw.py", label="Go to Draw", icon=":material/draw:")
        st.stop()
    digits = store.digit_set()
    digest = hashlib.sha256(digits.images.tobytes() + digits.labels.tobytes()).hexdigest()
    return MY_SET, f"my digits {digest}", digits.images, digits.labels


def record_my_digits_score(run_id: str, evaluation) -> None:
    """Keep the run's figures on My digits for the Runs table (once per figures shown)."""
    figures = (run_id, evaluation.accuracy, evaluation.loss, evaluation.count)
    if state.get("evaluate_my_score") == figures:
        return
    store = my_digits_or_none()
    if store is None:
        return
    try:
        store.record_score(run_id, evaluation.accuracy, evaluation.loss, evaluation.count)
    except MyDigitsError as error:
        st.warning(f"Could not keep this score for the Runs table: {plain(error)}")
        return
    state.set("evaluate_my_score", figures)


def unit_image(image: np.ndarray) -> np.ndarray:
    """A test image in [0, 1]: MNIST's bytes scaled, My digits' floats as they are."""
    return image / 255.0 if image.dtype == np.uint8 else image


st.title(":material/fact_check: Evaluate")
data, data_error = get_data()
show_data_source(data, data_error)
if data is None:
    st.stop()
store_or_stop()
run = run_picker("evaluate_run")
if run is None:  # none yet, or the one last seen was deleted (the picker said so)
    if not model_runs():
        st.info(
            "No trained network yet. Train one first; it appears here as soon as its first "
            "epoch ends."
        )
        st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()


def show_metrics(
    slots, accuracy: float, loss: float, errors: int, count: int, test_set: str = MNIST_SET
) -> None:
    """The three test figures, short enough for a 900 px window with the sidebar open; their
    labels say when they are on My digits."""
    accuracy_slot, loss_slot, wrong_slot = slots
    on = "Test" if test_set == MNIST_SET else "My digits:"
    accuracy_slot.metric(f"{on} accuracy", f"{accuracy:.2%}")
    loss_slot.metric(
        f"{on} loss",
        f"{loss:.4f}",
        help="Cross-entropy of the predicted probabilities, computed the same way for every run.",
    )
    wrong_slot.metric(f"Wrong, of {count:,}", f"{errors:,}")


def stored_metrics(run, data) -> tuple[float, float, int, int] | None:
    """The run's test figures as the store has them, if they were measured on these test
    digits: shown while the page predicts them (the same figures for a network's run)."""
    if run.test_accuracy is None or run.test_loss is None or run.data_source != data.description:
        return None
    count = len(data.y_test)
    return run.test_accuracy, run.test_loss, round((1 - run.test_accuracy) * count), count


test_set, test_key, x_test, y_test = choose_test_set(data)
slots = [column.empty() for column in st.columns(3)]
ready = stored_metrics(run, data) if test_set == MNIST_SET else None
if ready is not None:  # before the model is loaded, a few seconds for a convnet
    show_metrics(slots, *ready)
stamp = checked_model_stamp(run.id)
if stamp is None:
    st.stop()
evaluation = evaluate_run(run.id, stamp, test_key, x_test, y_test)
if (
    test_set == MNIST_SET
    and run.test_accuracy is None
    and run.status != "running"
    and not data.is_sample
):
    # An imported model has no test results yet: keep these for the Runs table and comparisons.
    try:
        get_store().record_test_results(
            run.id, evaluation.loss, evaluation.accuracy, evaluation.confusion_matrix
        )
    except RunNotFoundError:  # deleted meanwhile: the picker says so
        st.rerun()
if test_set == MY_SET and run.status != "running":
    record_my_digits_score(run.id, evaluation)
show_metrics(
    slots, evaluation.accuracy, evaluation.loss, evaluation.errors, evaluation.count, test_set
)
if run.status == "running":
    st.caption(
        ":material/autorenew: Still training: this is the model as saved after its last complete epoch."
    )

# Only the open tab is drawn; opening another reruns the whole page.
matrix_tab, class_tab, mistakes_tab, inspect_tab, weights_tab, replay_tab = st.tabs(
    TABS, key="evaluate_tab", on_change="rerun"
)


@st.fragment
def confusion_section() -> None:
    normalised = st.toggle(
        "Show rates (each row adds up to 100 %)", key="evaluate_normalised", **state.KEEP
    )
    figure = confusion_matrix_figure(evaluation.confusion_matrix, normalised=normalised)
    clicked = clickable_chart(figure, "evaluate_matrix", selected_cell)
    if clicked is not None:
        state.set("evaluate_true", clicked[0])
        state.set("evaluate_predicted", clicked[1])
    st.caption(
        "Rows are the true digit, columns what the network said. Click a cell, or choose one:"
    )
    true_col, predicted_col = st.columns(2)
    true_digit = true_col.selectbox("True digit", DIGITS, key="evaluate_true", **state.KEEP)
    predicted = predicted_col.selectbox(
        "Predicted digit", DIGITS, key="evaluate_predicted", **state.KEEP
    )
    indices = evaluation.cell_indices(true_digit, predicted)
    st.markdown(f"**{len(indices):,}** test images of a **{true_digit}** read as **{predicted}**")
    if len(indices):
        shown = indices[:GALLERY_SIZE]
        st.plotly_chart(
            digit_grid_figure(x_test[shown], evaluation.titles(shown)),
            key="evaluate_cell",
            width="stretch",
        )


@st.fragment
def mistakes_section() -> None:
    left, right = st.columns(2)
    options = [None, *DIGITS]
    true_digit = left.selectbox(
        "True digit",
        options,
        format_func=lambda d: "any" if d is None else str(d),
        key="evaluate_mistake_true",
        **state.KEEP,
    )
    predicted = right.selectbox(
        "Predicted digit",
        options,
        format_func=lambda d: "any" if d is None else str(d),
        key="evaluate_mistake_predicted",
        **state.KEEP,
    )
    indices = evaluation.misclassified(true_digit, predicted)
    st.markdown(
        f"**{len(indices):,}** mistakes, the most confident first (showing up to {GALLERY_SIZE}). Click one to inspect it."
    )
    notice = st.empty()  # above the gallery, where it is seen
    figure = misclassified_grid_figure(evaluation, x_test, indices[:GALLERY_SIZE])
    clicked = clickable_chart(figure, "evaluate_mistakes", selected_image)
    if clicked is not None:
        # Inspect a digit is drawn only once opened, with this image (see the module's doc).
        state.set("evaluate_index", int(clicked))
        notice.info(
            f"Test image {clicked} is now in **Inspect a digit**.", icon=":material/search:"
        )


def random_image() -> None:
    state.set("evaluate_index", int(np.random.default_rng().integers(evaluation.count)))


@st.fragment
def inspect_section() -> None:
    if state.get("evaluate_index") >= evaluation.count:  # chosen in a larger test set
        state.set("evaluate_index", 0)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.number_input(
        "Test image", 0, evaluation.count - 1, key="evaluate_index", **state.KEEP
    )
    right.button(
        "Random",
        icon=":material/casino:",
        on_click=random_image,
        width="stretch",
        key="evaluate_random",
    )
    digit_col, probability_col = st.columns([2, 3])
    true_label = int(evaluation.labels[index])
    digit_col.plotly_chart(
        digit_figure(x_test[index], title=evaluation.describe(index)), key="evaluate_digit"
    )
    probability_col.plotly_chart(
        probabilities_figure(evaluation.probabilities[index], true_label=true_label),
        key="evaluate_probabilities",
        width="stretch",
    )
    # Inside the network: saliency, activations, what a unit responds to
    inside_views.inside_section(
        run.id, stamp, unit_image(x_test[index]), key="evaluate", true_digit=true_label
    )


def per_digit_section() -> None:
    st.plotly_chart(
        per_class_accuracy_figure(evaluation.metrics), key="evaluate_per_class", width="stretch"
    )
    st.dataframe(
        evaluation.metrics.rows(),
        hide_index=True,
        width="stretch",
        column_config={name: PERCENT for name in ("precision %", "recall (accuracy) %", "F1 %")},
    )
    st.caption(
        "Precision: of the images the network called this digit, the share that were. "
        "Recall (accuracy for the digit): of the images of this digit, the share it got right. "
        "F1 balances the two."
    )


def weights_section() -> None:
    # no module-level name for the model: the session would keep it (training_session.current_job)
    filters = first_conv_filters(load_run_model(run.id, stamp))
    if filters is not None:
        st.plotly_chart(filters_grid_figure(filters), key="evaluate_filters", width="stretch")
        st.caption(
            f"Each tile is one filter of the first convolution, {filters.shape[1]}x"
            f"{filters.shape[2]} pixels, blown up: it slides over the digit and lights up where "
            "the ink looks like it (blue weights want ink, red ones want none). Many become "
            "small edge and stroke detectors."
        )
        return
    try:
        weights = first_layer_weight_images(load_run_model(run.id, stamp), limit=36)
    except ValueError as error:
        st.info(str(error))
    else:
        st.plotly_chart(weights_grid_figure(weights), key="evaluate_weights", width="stretch")
        st.caption(
            "Each tile is one unit of the first layer: the weight it gives every pixel. Blue "
            "pixels push the unit up, red ones push it down; many units look for strokes in "
            "particular places."
        )


def replay_section() -> None:
    replay_views.replay_panel(run.id, key="evaluate", live=run.status == "running")


for tab, section in (
    (matrix_tab, confusion_section),
    (class_tab, per_digit_section),
    (mistakes_tab, mistakes_section),
    (inspect_tab, inspect_section),
    (weights_tab, weights_section),
    (replay_tab, replay_section),
):
    if tab.open:
        with tab:
            section()
