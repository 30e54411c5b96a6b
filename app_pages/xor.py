"""The 2-D playground: seed 000's XOR network first, then TensorFlow Playground and more.

The page only draws widgets and the job's snapshot. The whole set-up is one `PlaneSpec`
built from the sidebar's widgets (app_pages/plane_settings.py); any change to it rebuilds the
network from the seed on the job's worker thread.
"""

from __future__ import annotations

import streamlit as st

from app_pages import code_views, keras_runtime, state
from app_pages.plane_settings import current, sidebar, spec_from_state
from core.charts.plane import network_figure, unit_figure, unit_label
from core.charts.xor import boundary_figure, plane_curves_figure
from core.plane.explanations import READING, explanation
from core.plane.model import prediction_rows
from core.plane.spec import PlaneSpecError
from core.plane.xor import XorJob

POLL_SECONDS = 0.5
SLOW_EPOCHS_PER_SECOND = 100

TABLE_COLUMNS = {
    "input": st.column_config.TextColumn(help="(x1, x2), the two inputs."),
    "target": st.column_config.NumberColumn(help="The right answer: x1 XOR x2."),
    "raw output": st.column_config.NumberColumn(
        format="%.3f", help="The sigmoid's output, 0 to 1."
    ),
    "rounded": st.column_config.NumberColumn(help="The raw output rounded: the network's answer."),
}


def job() -> XorJob:
    """This session's job, made when the page first draws."""
    if state.get("xor_job") is None:
        state.set("xor_job", XorJob())
    return state.get("xor_job")


def train_epochs() -> None:
    pace = SLOW_EPOCHS_PER_SECOND if current("xor_slow") else None
    job().train(int(current("xor_epochs")), epochs_per_second=pace)


def train_one_epoch() -> None:
    job().train(1)


def reset_weights() -> None:
    job().reset(spec_from_state())


def controls(running: bool, failed: bool) -> None:
    epochs, train, step, reset, stop, slow, discrete = st.columns(
        [1.3, 1, 1, 1.3, 1, 1.5, 1.5], vertical_alignment="bottom"
    )
    epochs.number_input(
        "Epochs", 1, 5000, current("xor_epochs"), step=50, key="xor_epochs", **state.KEEP
    )
    blocked = running or failed
    why = " The loss blew up: press Reset weights first." if failed else ""
    train.button(
        "Train",
        key="xor_train",
        type="primary",
        on_click=train_epochs,
        disabled=blocked,
        help="Train the number of epochs on the left, continuing from where the network is." + why,
        width="stretch",
    )
    step.button(
        "1 epoch", key="xor_step", on_click=train_one_epoch, disabled=blocked, width="stretch"
    )
    reset.button(
        "Reset weights",
        key="xor_reset",
        on_click=reset_weights,
        help="Rebuild the untrained network from the seed.",
        width="stretch",
        type="primary" if failed else "secondary",
    )
    stop.button("Stop", key="xor_stop", on_click=job().stop, disabled=not running, width="stretch")
    slow.toggle(
        "Slow motion",
        value=current("xor_slow"),
        key="xor_slow",
        help=f"Train {SLOW_EPOCHS_PER_SECOND} epochs a second, to watch the boundary move.",
        **state.KEEP,
    )
    discrete.toggle(
        "Discretize",
        value=current("xor_discrete"),
        key="xor_discrete",
        help="Colour each point by the class the network picks, not by how sure it is.",
        **state.KEEP,
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
    epochs, loss, accuracy, test_loss, test = st.columns(5)
    shown = {
        "loss": lambda v: f"{v:.4f}",
        "accuracy": lambda v: f"{v:.0%}",
        "test_loss": lambda v: f"{v:.4f}",
        "test_accuracy": lambda v: f"{v:.0%}",
    }
    values = {name: snapshot.last(name) for name in shown}
    text = {name: "–" if v is None else shown[name](v) for name, v in values.items()}
    epochs.metric("Epochs trained", snapshot.epoch)
    loss.metric("Training loss", text["loss"])
    accuracy.metric("Training accuracy", text["accuracy"])
    if snapshot.data is not None and snapshot.data.has_test:
        test_loss.metric("Test loss", text["test_loss"])
        test.metric("Test accuracy", text["test_accuracy"])


def unit_choices(snapshot) -> dict[str, str]:
    """Every feature and hidden unit of the shown network, "layer:unit" -> its name."""
    names = snapshot.spec.features
    return {
        f"{layer}:{unit}": unit_label(layer, unit, names)
        for layer, units in enumerate(snapshot.boundary.units)
        for unit in range(len(units))
    }


def clicked_unit() -> None:
    """A click on a square of the network picks that unit for the large view."""
    event = state.get("xor_network")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        layer, unit = point.get("customdata", [None, None])[:2]
        key = f"{layer}:{unit}"
        if layer is not None and key in state.get("xor_unit_choices"):
            state.set("xor_unit", key)


def show_network(snapshot) -> None:
    choices = unit_choices(snapshot)
    state.set("xor_unit_choices", choices)
    unit = state.get("xor_unit")
    if unit not in choices:
        unit = "1:0" if "1:0" in choices else next(iter(choices))
    state.set("xor_unit", unit)
    layer, index = (int(part) for part in unit.split(":"))
    discrete = current("xor_discrete")
    st.plotly_chart(
        network_figure(
            snapshot.boundary, snapshot.spec.features, selected=(layer, index), discrete=discrete
        ),
        width="stretch",
        key="xor_network",
        on_select=clicked_unit,
        selection_mode="points",
        config={"displayModeBar": False},
    )
    output, large = st.columns([5, 4])
    with output:
        figure = boundary_figure(snapshot.boundary, snapshot.data, discrete=discrete)
        st.plotly_chart(figure, width="stretch", key="xor_boundary")
    with large:
        # its value lives in session state only (set above), as a click on a square sets it
        st.selectbox("Unit to look at", list(choices), format_func=choices.get, key="xor_unit")
        figure = unit_figure(snapshot.boundary, layer, index, snapshot.spec.features, height=400)
        st.plotly_chart(figure, width="stretch", key="xor_unit_view")


def show_words(snapshot) -> None:
    if snapshot.spec.data == "points":
        table, words = st.columns([4, 5])
        with table:
            st.markdown("**The four XOR inputs**, as seed 000 prints them")
            st.dataframe(
                prediction_rows(snapshot.corner_outputs),
                hide_index=True,
                width="stretch",
                column_config=TABLE_COLUMNS,
            )
    else:
        words = st.container()
    with words:
        st.markdown(explanation(snapshot.spec))
    with st.expander("How to read the pictures"):
        st.markdown(READING)


warm_up = keras_runtime.warm_up_keras()
if warm_up.is_alive():
    # The job's worker imports TensorFlow; two threads importing it at once can leave it half
    # initialised (seen on a fresh server opened at /xor), so let the server's import finish.
    with st.spinner("Loading TensorFlow…"):
        warm_up.join()
code_views.plane_link(spec_from_state)  # share links (app_pages/code_views.py)
try:
    spec = spec_from_state()
except PlaneSpecError as error:
    spec = None
    st.error(
        f"{error} The network shown is the last one that could be built.", icon=":material/error:"
    )
if spec is not None and spec != job().spec:  # also while a job runs: it is stopped
    job().reset(spec)
first = job().snapshot()
running = job().running

st.title("XOR and the 2-D playground")
st.caption(
    "It begins with seed 000's first network: two inputs, Dense(16, relu), a sigmoid output, "
    "mean squared error and Adam, 500 epochs on the four XOR points. Press **1 epoch** to see "
    "how wrong the untrained network is, then **Train**. Then change the dataset, features "
    "and network in the sidebar."
)
sidebar()
controls(running, first.status == "failed")


@st.fragment(run_every=POLL_SECONDS if running else None)
def live_view(polling: bool) -> None:
    snapshot = job().snapshot()
    show_status(snapshot)
    show_numbers(snapshot)
    if snapshot.boundary is not None and snapshot.spec is not None:
        show_network(snapshot)
    elif snapshot.data is not None:
        st.plotly_chart(boundary_figure(None, snapshot.data), width="stretch", key="xor_boundary")
    if snapshot.spec is not None:
        show_words(snapshot)
    if snapshot.history["loss"]:
        st.plotly_chart(plane_curves_figure(snapshot.history), width="stretch", key="xor_curves")
    else:
        st.caption("The loss and accuracy curves appear here once the network trains.")
    if polling and not snapshot.running:
        st.rerun()  # the job ended: redraw the controls enabled and stop polling


live_view(running)
if spec is not None:
    code_views.plane_code(spec, int(current("xor_epochs")))
