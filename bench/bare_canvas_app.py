"""Streamlit's own floor for bench/draw_latency.py: the Draw page's canvas and nothing of the app.

    streamlit run bench/bare_canvas_app.py

The same canvas component with the same settings as the Draw page (280x280, white pen on
black, the PNG sent back on every stroke); its answer is the number of inked pixels, shown in
the same kind of element as the Draw page's prediction (an `st.metric` labelled "Prediction"),
and a prompt while the canvas is empty. No TensorFlow, no data, no charts: what is left is the
canvas sending its image, the server's round trip and Streamlit's frontend.
"""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

st.set_page_config(page_title="Bare canvas", layout="wide")
st.title("Draw")
result = st_canvas(
    stroke_width=18,
    stroke_color="#FFFFFF",
    background_color="#000000",
    width=280,
    height=280,
    drawing_mode="freedraw",
    return_image_data=True,
    key="draw_canvas",
)
image = result.image_data
inked = 0 if image is None else int((np.asarray(image)[..., :3].max(axis=-1) > 127).sum())
if inked:
    st.metric("Prediction", f"{inked:,}", "inked pixels", delta_color="off", delta_arrow="off")
else:
    st.info("Draw on the black square and the count of inked pixels appears here.")
