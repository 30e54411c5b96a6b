"""Streamlit's own floor for bench/latency.py: the same three waits with nothing of the app.

    streamlit run bench/bare_app.py

Two pages, as the app has: Home (the text the bench waits for, and a small chart, so that the
browser loads plotly's code there, as the app's Home does) and Train, whose Train button draws
the same curves chart the app draws, with one point, and whose Stop button says "Stopped by
you". No TensorFlow, no data, no controls: what is left is the server's round
trip, Streamlit's frontend and plotly in the browser, on the same machine at the same moment.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.charts.training import training_curves_figure  # noqa: E402
from core.training.monitor import Snapshot  # noqa: E402

EPOCHS = 10  # as the default preset's


def home() -> None:
    st.title("Home")
    st.markdown("Where to start")
    st.plotly_chart(training_curves_figure(Snapshot(epochs=EPOCHS)), key="home_chart")


def train() -> None:
    st.title("Train")
    state = st.session_state.setdefault("bare_state", "ready")
    left, right = st.columns(2)
    if left.button("Train", type="primary", disabled=state != "ready"):
        state = st.session_state["bare_state"] = "running"
    if right.button("Stop", disabled=state != "running"):
        state = st.session_state["bare_state"] = "stopped"
    if state == "stopped":
        st.info("Stopped by you after 0 complete epochs.")
    batches = [] if state == "ready" else [(0.01, 2.3, 0.1)]
    figure = training_curves_figure(Snapshot(epochs=EPOCHS, batches=batches))
    st.plotly_chart(figure, width="stretch", key="train_curves")


st.navigation([st.Page(home, title="Home", default=True), st.Page(train, title="Train")]).run()
