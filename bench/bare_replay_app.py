"""Streamlit's own floor for bench/replay.py's scrubbing: a select slider over 21 epochs in a
fragment that redraws three small plotly figures titled with the epoch, and nothing of the app.

    streamlit run bench/bare_replay_app.py

Same slider label ("Epoch"), same titles ("... at epoch 3"), so the bench times it the same way:
what is left is the server's round trip, Streamlit's frontend and plotly in the browser.
"""

import plotly.graph_objects as go
import streamlit as st

EPOCHS = list(range(21))


@st.fragment
def panel() -> None:
    epoch = st.select_slider(
        "Epoch",
        options=EPOCHS,
        value=EPOCHS[-1],
        format_func=lambda e: "start" if e == 0 else str(e),
    )
    at = "the start" if epoch == 0 else f"epoch {epoch}"
    for i, name in enumerate(("Templates", "Confusion", "Weights")):
        figure = go.Figure(go.Scatter(x=[0, 1], y=[epoch, i]))
        figure.update_layout(title={"text": f"{name} at {at}"}, height=200)
        st.plotly_chart(figure, key=f"bare_{name}", width="stretch")


st.title("Evaluate")
with st.tabs(["Replay"])[0]:
    panel()
