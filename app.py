"""Keras Playground: the entry point only routes (run it with `streamlit run app.py`)."""

import streamlit as st

from pages import common

st.set_page_config(page_title="Keras Playground", page_icon=":material/neurology:", layout="wide")
common.init_session()
common.keep_widget_state("train_w_")
common.warm_up_keras()

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page(
            "pages/train.py", title="Train", icon=":material/model_training:", url_path="train"
        ),
    ]
)
navigation.run()
