"""Home: what the playground is and where to start."""

import streamlit as st

st.title(":material/neurology: Keras Playground")
st.markdown(
    "Build a neural network for handwritten digits, train it and watch it learn, then find out "
    "what it gets right and wrong, and draw your own digits for it to read. Everything runs on "
    "your own computer with [Keras](https://keras.io); no GPU needed."
)

st.subheader("Where to start")
left, right = st.columns(2)
with left:
    st.page_link("app_pages/learn.py", label="**Learn** step by step", icon=":material/school:")
    st.caption(
        "Eight short lessons, from XOR to convolutions: each sets the playground up, and checks "
        "your own run to see whether you reached its point."
    )
    st.page_link(
        "app_pages/train.py", label="**Train** a network on MNIST", icon=":material/model_training:"
    )
    st.caption(
        "Choose layers, units, activation, dropout, optimizer and learning rate with sliders "
        "(or a preset), press Train and watch loss and accuracy move epoch by epoch."
    )
with right:
    st.caption(
        "MNIST is 70,000 handwritten digits, 28x28 pixels each: 60,000 to learn from and "
        "10,000 kept apart to test on. A network that has only ever seen the first 60,000 and "
        "still reads the other 10,000 has learned something about digits, not just the answers."
    )

# Imported here, below the text: they import NumPy and the app's core, which on a fresh server
# held back the page's title.
from app_pages.data_source import data_source_panel, get_data  # noqa: E402
from app_pages.train_controls import current_spec  # noqa: E402
from app_pages.training_session import build_ahead  # noqa: E402
from core.charts.images import digit_grid_figure  # noqa: E402
from core.mnist.data import one_of_each_digit  # noqa: E402

data_source_panel()

data = get_data()[0]
if data is not None:
    # What the digits look like. Also the first chart a visit draws, so the browser loads and
    # runs plotly's code while this page is read, not when Train is.
    images, digits = one_of_each_digit(data)
    figure = digit_grid_figure(images, [str(digit) for digit in digits], columns=10)
    figure.update_layout(height=100)  # one row in half the page's width
    with right:
        st.plotly_chart(
            figure,
            key="home_digits",
            width="stretch",
            config={"displayModeBar": False},
        )
# The network Train opens with is built while this page is read (core/training/warm_start.py).
build_ahead(current_spec(), data)
