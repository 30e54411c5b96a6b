"""XOR: seed 000's first network, with its decision boundary redrawn as it learns.

The page only draws widgets and the job's snapshot; the network lives in an `XorJob` kept in
session state and trains on that job's worker thread.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import streamlit as st

REPO = str(Path(__file__).resolve().parents[1])
# `streamlit run app_pages/xor.py` on its own puts only app_pages/ on the path.
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from core.model import ACTIVATIONS, OPTIMIZERS  # noqa: E402
from core.xor import DATASETS, DEFAULT_EPOCHS, LOSSES, XorJob, XorSpec, prediction_rows  # noqa: E402
from core.xor_charts import boundary_figure, curves_figure  # noqa: E402

POLL_SECONDS = 0.5  # each rerun costs Streamlit a gc.collect (keras clear_session)
SLOW_EPOCHS_PER_SECOND = 100
UNITS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [1, 8, 16, 32, 64, 128]

# Every value widget's key and first value: the spec's fields, then the training controls.
SPEC_KEYS = {f"xor_{name}": value for name, value in XorSpec().to_dict().items()}
WIDGET_DEFAULTS = {**SPEC_KEYS, "xor_epochs": DEFAULT_EPOCHS, "xor_slow": False}

TABLE_COLUMNS = {
    "input": st.column_config.TextColumn(help="(x1, x2), the two inputs."),
    "target": st.column_config.NumberColumn(help="The right answer: x1 XOR x2."),
    "raw output": st.column_config.NumberColumn(
        format="%.3f", help="The sigmoid's output, 0 to 1."
    ),
    "rounded": st.column_config.NumberColumn(help="The raw output rounded: the network's answer."),
}

EXPLANATION = """
**What you are looking at.** The colour at each point of the plane is the network's output
for that input: blue near 1, orange near 0. The black line is where the output crosses 0.5,
the network's decision boundary; the dots are the data, coloured by the answer they should get.

**Why one layer cannot do it.** With no hidden layer the network is
sigmoid(w1·x1 + w2·x2 + b), and its boundary is one straight line. No straight line puts
(0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other. Set *hidden layers* to 0
and train: the accuracy stalls at 50 or 75 %.

**What the hidden units do.** Each hidden unit draws its own line across the plane and
answers how far an input lies past it (relu: 0 on the near side). The output unit adds these
answers up, so the boundary can bend or become two lines, which is what XOR needs.
"""


def init_state() -> None:
    """Session state for this page, set here only."""
    if "xor_job" not in st.session_state:
        st.session_state["xor_job"] = XorJob()


def current(key: str):
    """A widget's value: what the person chose, or its default before it is first drawn.

    Every value widget gets this as its `value=` and keeps it with `persist_state="session"`.
    Passing the current value (rather than writing it into session state) keeps the browser's
    copy right even when a fragment rerun makes the browser forget the widget's state.
    """
    return st.session_state.get(key, WIDGET_DEFAULTS[key])


def spec_from_state() -> XorSpec:
    return XorSpec(**{key[len("xor_") :]: current(key) for key in SPEC_KEYS})


def job() -> XorJob:
    return st.session_state["xor_job"]


def train_epochs() -> None:
    pace = SLOW_EPOCHS_PER_SECOND if current("xor_slow") else None
    job().train(int(current("xor_epochs")), epochs_per_second=pace)


def train_one_epoch() -> None:
    job().train(1)


def reset_weights() -> None:
    job().reset(spec_from_state())


def new_seed() -> None:
    st.session_state["xor_seed"] = random.randrange(10_000)  # the changed spec resets the job


def settings() -> None:
    keep = {"persist_state": "session"}
    st.header("Data")
    st.radio(
        "Points to learn",
        list(DATASETS),
        index=list(DATASETS).index(current("xor_data")),
        format_func=DATASETS.get,
        key="xor_data",
        **keep,
    )
    if current("xor_data") == "cloud":
        st.slider(
            "Points in the cloud",
            100,
            1000,
            current("xor_cloud_points"),
            step=50,
            key="xor_cloud_points",
            **keep,
        )
        st.slider(
            "Noise (spread around each corner)",
            0.0,
            0.5,
            current("xor_noise"),
            step=0.05,
            key="xor_noise",
            **keep,
        )
        st.slider(
            "Held out to test",
            0.1,
            0.5,
            current("xor_test_fraction"),
            step=0.05,
            key="xor_test_fraction",
            **keep,
        )
        st.select_slider(
            "Batch size",
            BATCH_SIZES,
            value=current("xor_batch_size"),
            key="xor_batch_size",
            **keep,
        )
    st.header("Network")
    st.slider("Hidden layers", 0, 4, current("xor_hidden_layers"), key="xor_hidden_layers", **keep)
    st.select_slider(
        "Units per hidden layer",
        UNITS,
        value=current("xor_units"),
        key="xor_units",
        disabled=current("xor_hidden_layers") == 0,
        **keep,
    )
    for label, key, options, names in (
        ("Activation", "xor_activation", ACTIVATIONS, None),
        ("Loss", "xor_loss", list(LOSSES), LOSSES.get),
        ("Optimizer", "xor_optimizer", OPTIMIZERS, None),
    ):
        st.selectbox(
            label,
            options,
            index=list(options).index(current(key)),
            format_func=names or str,
            key=key,
            **keep,
        )
    st.select_slider(
        "Learning rate",
        LEARNING_RATES,
        value=current("xor_learning_rate"),
        format_func=str,
        key="xor_learning_rate",
        **keep,
    )
    st.header("Seed")
    seed, button = st.columns([3, 2], vertical_alignment="bottom")
    seed.number_input(
        "Seed",
        0,
        2**31 - 1,
        # "New seed" writes the seed into session state; that run must not pass a value too
        "min" if st.session_state.get("xor_new_seed") else current("xor_seed"),
        key="xor_seed",
        help="The seed fixes the starting weights, the cloud and the order of the batches.",
        **keep,
    )
    button.button("New seed", key="xor_new_seed", on_click=new_seed)
    st.caption("Any change here rebuilds the network from the seed.")


def controls(running: bool) -> None:
    epochs, train, step, reset, stop, slow = st.columns(
        [1.3, 1, 1, 1.3, 1, 1.6], vertical_alignment="bottom"
    )
    epochs.number_input(
        "Epochs", 1, 5000, current("xor_epochs"), step=50, key="xor_epochs", persist_state="session"
    )
    train.button(
        "Train",
        key="xor_train",
        type="primary",
        on_click=train_epochs,
        disabled=running,
        help="Train the number of epochs on the left, continuing from where the network is.",
        width="stretch",
    )
    step.button(
        "1 epoch", key="xor_step", on_click=train_one_epoch, disabled=running, width="stretch"
    )
    reset.button(
        "Reset weights",
        key="xor_reset",
        on_click=reset_weights,
        help="Rebuild the untrained network from the seed.",
        width="stretch",
    )
    stop.button("Stop", key="xor_stop", on_click=job().stop, disabled=not running, width="stretch")
    slow.toggle(
        "Slow motion",
        value=current("xor_slow"),
        key="xor_slow",
        help=f"Train {SLOW_EPOCHS_PER_SECOND} epochs a second, to watch the boundary move.",
        persist_state="session",
    )


def show_status(snapshot) -> None:
    if snapshot.status == "failed":
        st.error(snapshot.message, icon=":material/error:")
    elif snapshot.status == "building":
        st.info(snapshot.message, icon=":material/hourglass_top:")
    elif snapshot.status == "training":
        st.progress(
            snapshot.fraction_done, text=f"Epoch {snapshot.epoch} of {snapshot.target_epoch}"
        )
    else:
        seconds = f" in {snapshot.seconds:.2f} s" if snapshot.seconds else ""
        st.caption(f"{snapshot.message.rstrip('.')}{seconds}.")


def show_numbers(snapshot) -> None:
    epochs, loss, accuracy, test = st.columns(4)
    last_loss, last_accuracy = snapshot.last("loss"), snapshot.last("binary_accuracy")
    test_accuracy = snapshot.last("test_binary_accuracy")
    epochs.metric("Epochs trained", snapshot.epoch)
    loss.metric("Loss", "–" if last_loss is None else f"{last_loss:.4f}")
    accuracy.metric("Binary accuracy", "–" if last_accuracy is None else f"{last_accuracy:.0%}")
    if snapshot.data is not None and snapshot.data.has_test:
        test.metric("Test accuracy", "–" if test_accuracy is None else f"{test_accuracy:.0%}")


init_state()
spec = spec_from_state()
if spec != job().spec:  # also while a job runs: it is stopped
    job().reset(spec)
running = job().running

st.title("XOR: what one hidden layer buys")
st.caption(
    "Seed 000's first network: two inputs, Dense(16, relu), a sigmoid output, mean squared "
    "error and Adam, 500 epochs on the four XOR points. Press **1 epoch** to see how wrong "
    "the untrained network is, then **Train**."
)
with st.sidebar:
    settings()
controls(running)


@st.fragment(run_every=POLL_SECONDS if running else None)
def live_view(polling: bool) -> None:
    snapshot = job().snapshot()
    show_status(snapshot)
    show_numbers(snapshot)
    chart, table = st.columns([5, 4])
    with chart:
        if snapshot.data is not None:
            figure = boundary_figure(snapshot.boundary, snapshot.data)
            st.plotly_chart(figure, width="stretch", key="xor_boundary")
    with table:
        st.markdown("**The four XOR inputs**, as seed 000 prints them")
        st.dataframe(
            prediction_rows(snapshot.corner_outputs),
            hide_index=True,
            width="stretch",
            column_config=TABLE_COLUMNS,
        )
        st.markdown(EXPLANATION)
    if snapshot.history["loss"]:
        st.plotly_chart(curves_figure(snapshot.history), width="stretch", key="xor_curves")
    else:
        st.caption("The loss and accuracy curves appear here once the network trains.")
    if polling and not snapshot.running:
        st.rerun()  # the job ended: redraw the controls enabled and stop polling


live_view(running)
