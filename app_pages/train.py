"""Train: build a network with sliders, train it on a background job, watch the curves move."""

import streamlit as st

from app_pages import common
from core.model import (
    ACTIVATIONS,
    DEFAULT_LEARNING_RATES,
    LOSSES,
    LR_SCHEDULES,
    MAX_HIDDEN_LAYERS,
    OPTIMIZERS,
    ModelSpec,
    SpecError,
    count_parameters,
    dense_layers,
    layer_table,
)
from core.presets import DEFAULT_PRESET, PRESETS
from core.training_charts import training_curves_figure

LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
UNIT_CHOICES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
DROPOUT_STEP = 0.05
# Widget keys that hold the spec start with "train_w_" so app.py keeps them across pages.
W = "train_w_"


def _dense_stack(spec: ModelSpec) -> tuple[list[int], list[str], list[float]]:
    units, activations, dropouts = [], [], []
    for layer in spec.layers:
        if layer["type"] == "Dense":
            units.append(layer["units"])
            activations.append(layer["activation"])
            dropouts.append(0.0)
        elif layer["type"] == "Dropout" and dropouts:
            dropouts[-1] = layer["rate"]
    return units, activations, dropouts


def spec_to_widgets(spec: ModelSpec) -> None:
    state = st.session_state
    units, activations, dropouts = _dense_stack(spec)
    n = len(units)
    state[W + "layers"] = n
    for i in range(MAX_HIDDEN_LAYERS):
        state[W + f"units_{i}"] = units[i] if i < n else 128
        state[W + f"activation_{i}"] = activations[i] if i < n else "relu"
        state[W + f"dropout_{i}"] = dropouts[i] if i < n else 0.0
    state[W + "optimizer"] = spec.optimizer
    state[W + "learning_rate"] = min(
        LEARNING_RATES, key=lambda rate: abs(rate - spec.learning_rate)
    )
    state[W + "loss"] = spec.loss
    state[W + "lr_schedule"] = spec.lr_schedule
    state[W + "batch_size"] = spec.batch_size
    state[W + "epochs"] = spec.epochs
    state[W + "early_stopping"] = spec.early_stopping
    state[W + "patience"] = spec.patience
    state[W + "seed"] = spec.seed


def spec_from_widgets() -> ModelSpec:
    state = st.session_state
    n = state[W + "layers"]
    return ModelSpec(
        layers=dense_layers(
            [int(state[W + f"units_{i}"]) for i in range(n)],
            [state[W + f"activation_{i}"] for i in range(n)],
            [float(state[W + f"dropout_{i}"]) for i in range(n)],
        ),
        optimizer=state[W + "optimizer"],
        learning_rate=float(state[W + "learning_rate"]),
        loss=state[W + "loss"],
        lr_schedule=state[W + "lr_schedule"],
        batch_size=int(state[W + "batch_size"]),
        epochs=int(state[W + "epochs"]),
        early_stopping=bool(state[W + "early_stopping"]),
        patience=int(state[W + "patience"]),
        seed=int(state[W + "seed"]),
    )


def apply_preset() -> None:
    spec_to_widgets(PRESETS[st.session_state[W + "preset"]].spec)


def optimizer_changed() -> None:
    st.session_state[W + "learning_rate"] = DEFAULT_LEARNING_RATES[
        st.session_state[W + "optimizer"]
    ]


def start() -> None:
    data, _ = common.get_data()
    try:
        spec = spec_from_widgets()
    except SpecError as error:
        st.session_state["train_error"] = str(error)
        return
    st.session_state["train_error"] = None
    common.start_training(spec, data)


def stop() -> None:
    job = common.current_job()
    if job is not None:
        job.stop()


if W + "layers" not in st.session_state:
    st.session_state[W + "preset"] = DEFAULT_PRESET
    spec_to_widgets(PRESETS[DEFAULT_PRESET].spec)

st.title(":material/model_training: Train")
data, data_error = common.get_data()
common.show_data_source(data, data_error)
running = common.training_now()

try:
    spec, spec_error = spec_from_widgets(), None
except SpecError as error:
    spec, spec_error = None, str(error)

preset_col, train_col, stop_col = st.columns([4, 1, 1], vertical_alignment="bottom")
preset_col.selectbox(
    "Preset",
    list(PRESETS),
    key=W + "preset",
    on_change=apply_preset,
    disabled=running,
    help="\n\n".join(f"**{name}**: {preset.source}" for name, preset in PRESETS.items()),
)
train_col.button(
    "Train",
    type="primary",
    icon=":material/play_arrow:",
    on_click=start,
    disabled=running or data is None or spec is None,
    width="stretch",
    key="train_start_button",
)
stop_col.button(
    "Stop",
    icon=":material/stop:",
    on_click=stop,
    disabled=not running,
    width="stretch",
    key="train_stop_button",
)
if spec_error or st.session_state.get("train_error"):
    st.error(spec_error or st.session_state["train_error"], icon=":material/error:")

controls, live_area = st.columns([2, 3], gap="large")

with controls:
    st.slider("Hidden layers", 0, MAX_HIDDEN_LAYERS, key=W + "layers", disabled=running)
    for i in range(st.session_state[W + "layers"]):
        units, activation, dropout = st.columns(3)
        units.select_slider(
            f"Layer {i + 1} units", UNIT_CHOICES, key=W + f"units_{i}", disabled=running
        )
        activation.selectbox(
            f"Layer {i + 1} activation", ACTIVATIONS, key=W + f"activation_{i}", disabled=running
        )
        dropout.slider(
            f"Layer {i + 1} dropout",
            0.0,
            0.8,
            step=DROPOUT_STEP,
            key=W + f"dropout_{i}",
            disabled=running,
        )
    left, right = st.columns(2)
    left.selectbox(
        "Optimizer", OPTIMIZERS, key=W + "optimizer", on_change=optimizer_changed, disabled=running
    )
    right.select_slider(
        "Learning rate",
        LEARNING_RATES,
        key=W + "learning_rate",
        format_func=lambda rate: f"{rate:g}",
        disabled=running,
    )
    left.selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key=W + "loss", disabled=running)
    right.selectbox(
        "Learning-rate schedule",
        list(LR_SCHEDULES),
        format_func=LR_SCHEDULES.get,
        key=W + "lr_schedule",
        disabled=running,
        help="Cosine decay lowers the learning rate smoothly to zero by the last epoch.",
    )
    left.select_slider("Batch size", BATCH_SIZES, key=W + "batch_size", disabled=running)
    right.slider("Epochs", 1, 50, key=W + "epochs", disabled=running)
    left.toggle(
        "Early stopping",
        key=W + "early_stopping",
        disabled=running,
        help="Stop when the validation loss has not improved for `patience` epochs, and keep the best weights.",
    )
    right.slider(
        "Patience (epochs)",
        0,
        10,
        key=W + "patience",
        disabled=running or not st.session_state[W + "early_stopping"],
    )
    left.number_input("Random seed", 0, 2**31 - 1, key=W + "seed", disabled=running)
    if spec is not None:
        with st.expander(
            f"Model: {spec.architecture()}, {count_parameters(spec):,} parameters", expanded=True
        ):
            st.dataframe(
                layer_table(spec),
                hide_index=True,
                width="stretch",
                column_config={"parameters": st.column_config.NumberColumn(format="localized")},
            )


def show_progress(snapshot) -> None:
    if not snapshot.running:
        return
    if snapshot.stopping:
        text = "Stopping at the next batch, then testing the model…"
    elif snapshot.message or not snapshot.steps_per_epoch:
        text = snapshot.message or "Starting…"
    else:
        text = (
            f"Epoch {min(snapshot.epoch + 1, snapshot.epochs)}/{snapshot.epochs} · "
            f"batch {snapshot.step}/{snapshot.steps_per_epoch} · "
            f"{snapshot.images_per_second:,.0f} images/s · "
            f"about {common.format_seconds(snapshot.eta_seconds)} left"
        )
    st.progress(snapshot.fraction_done, text=text)


def show_result(snapshot) -> None:
    if snapshot.status == "failed":
        st.error(snapshot.message, icon=":material/error:")
    elif snapshot.status in ("completed", "stopped"):
        (st.success if snapshot.status == "completed" else st.info)(
            f"{snapshot.message} ({common.format_seconds(snapshot.elapsed_seconds)})",
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


@st.fragment(run_every=0.5 if running else None)
def live_panel() -> None:
    job = common.current_job()
    if job is None:
        st.info(
            "Choose a network on the left and press **Train** to watch it learn.",
            icon=":material/info:",
        )
        return
    snapshot = job.monitor.snapshot()
    show_progress(snapshot)
    st.plotly_chart(training_curves_figure(snapshot), width="stretch", key="train_curves")
    show_result(snapshot)
    was_running = st.session_state.get("train_live_running", False)
    st.session_state["train_live_running"] = job.running
    if was_running and not job.running:
        st.rerun(scope="app")  # re-enable the controls


with live_area:
    live_panel()
