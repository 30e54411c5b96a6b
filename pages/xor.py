"""XOR: seed 000's first network, with its decision boundary redrawn as it learns.

The page only draws widgets and the job's snapshot; the network lives in an `XorJob` kept in
session state and trains on that job's worker thread.
"""

from __future__ import annotations

import random

import streamlit as st

from core.model import ACTIVATIONS, OPTIMIZERS
from core.xor import DATASETS, DEFAULT_EPOCHS, LOSSES, XorJob, XorSpec, prediction_rows
from core.xor_charts import boundary_figure, curves_figure

POLL_SECONDS = 0.3
SLOW_EPOCHS_PER_SECOND = 100
UNITS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [1, 8, 16, 32, 64, 128]

# Every value widget's key and first value: the spec's fields, then the training controls.
SPEC_KEYS = {f"xor_{name}": value for name, value in XorSpec().to_dict().items()}
WIDGET_DEFAULTS = {**SPEC_KEYS, "xor_epochs": DEFAULT_EPOCHS, "xor_slow": False}

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
    """Session state for this page, set here only. Widget values survive a page switch."""
    memory = st.session_state.setdefault("xor_memory", dict(WIDGET_DEFAULTS))
    for key, value in WIDGET_DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = memory.get(key, value)
    if "xor_job" not in st.session_state:
        st.session_state["xor_job"] = XorJob()


def remember_widgets() -> None:
    """Streamlit drops a widget's value when a run does not draw it; keep a plain copy."""
    memory = st.session_state["xor_memory"]
    memory.update(
        {key: st.session_state[key] for key in WIDGET_DEFAULTS if key in st.session_state}
    )


def spec_from_state() -> XorSpec:
    return XorSpec(**{key[len("xor_") :]: st.session_state[key] for key in SPEC_KEYS})


def job() -> XorJob:
    return st.session_state["xor_job"]


def train_epochs() -> None:
    pace = SLOW_EPOCHS_PER_SECOND if st.session_state["xor_slow"] else None
    job().train(int(st.session_state["xor_epochs"]), epochs_per_second=pace)


def train_one_epoch() -> None:
    job().train(1)


def reset_weights() -> None:
    job().reset(spec_from_state())


def new_seed() -> None:
    st.session_state["xor_seed"] = random.randrange(10_000)  # the changed spec resets the job


def settings() -> None:
    st.header("Data")
    st.radio(
        "Points to learn",
        list(DATASETS),
        format_func=DATASETS.get,
        key="xor_data",
    )
    if st.session_state["xor_data"] == "cloud":
        st.slider("Points in the cloud", 100, 1000, step=50, key="xor_cloud_points")
        st.slider(
            "Noise (spread around each corner)",
            0.0,
            0.5,
            step=0.05,
            key="xor_noise",
        )
        st.slider("Held out to test", 0.1, 0.5, step=0.05, key="xor_test_fraction")
        st.select_slider("Batch size", BATCH_SIZES, key="xor_batch_size")
    st.header("Network")
    st.slider("Hidden layers", 0, 4, key="xor_hidden_layers")
    st.select_slider(
        "Units per hidden layer",
        UNITS,
        key="xor_units",
        disabled=st.session_state["xor_hidden_layers"] == 0,
    )
    st.selectbox("Activation", ACTIVATIONS, key="xor_activation")
    st.selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key="xor_loss")
    st.selectbox("Optimizer", OPTIMIZERS, key="xor_optimizer")
    st.select_slider("Learning rate", LEARNING_RATES, format_func=str, key="xor_learning_rate")
    st.header("Seed")
    seed, button = st.columns([3, 2], vertical_alignment="bottom")
    seed.number_input(
        "Seed",
        0,
        2**31 - 1,
        key="xor_seed",
        help="The seed fixes the starting weights, the cloud and the order of the batches.",
    )
    button.button("New seed", key="xor_new_seed", on_click=new_seed)
    st.caption("Any change here rebuilds the network from the seed.")


def controls(running: bool) -> None:
    epochs, train, step, reset, stop, slow = st.columns(
        [1.3, 1, 1, 1.3, 1, 1.6], vertical_alignment="bottom"
    )
    epochs.number_input("Epochs", 1, 5000, step=50, key="xor_epochs")
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
        key="xor_slow",
        help=f"Train {SLOW_EPOCHS_PER_SECOND} epochs a second, to watch the boundary move.",
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
    loss, accuracy, test = st.columns(3)
    last_loss, last_accuracy = snapshot.last("loss"), snapshot.last("binary_accuracy")
    loss.metric("Loss", "–" if last_loss is None else f"{last_loss:.4f}")
    accuracy.metric("Binary accuracy", "–" if last_accuracy is None else f"{last_accuracy:.0%}")
    test_accuracy = snapshot.last("test_binary_accuracy")
    if test_accuracy is not None:
        test.metric("Test accuracy", f"{test_accuracy:.0%}")
    else:
        test.metric("Epochs trained", snapshot.epoch)


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
remember_widgets()


@st.fragment(run_every=POLL_SECONDS if running else None)
def live_view(polling: bool) -> None:
    snapshot = job().snapshot()
    show_status(snapshot)
    chart, table = st.columns([3, 2])
    with chart:
        if snapshot.data is not None:
            figure = boundary_figure(snapshot.boundary, snapshot.data)
            st.plotly_chart(figure, width="stretch", key="xor_boundary")
        st.markdown(EXPLANATION)
    with table:
        show_numbers(snapshot)
        st.markdown("**The four XOR inputs**, as seed 000 prints them")
        st.dataframe(
            prediction_rows(snapshot.corner_outputs),
            hide_index=True,
            width="stretch",
            column_config={"raw output": st.column_config.NumberColumn(format="%.4f")},
        )
        st.plotly_chart(curves_figure(snapshot.history), width="stretch", key="xor_curves")
    if polling and not snapshot.running:
        st.rerun()  # the job ended: redraw the controls enabled and stop polling


live_view(running)
