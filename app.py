"""Keras Playground: the entry point only routes (run it with `streamlit run app.py`)."""

import streamlit as st

from app_pages import keras_runtime, state
from core.runtime import ast_lock

ast_lock.install()  # pages are parsed while models build on other threads (see the module)
st.set_page_config(page_title="Keras Playground", page_icon=":material/neurology:", layout="wide")
keras_runtime.keep_keras_state()
state.init()

PAGES = [
    ("app_pages/home.py", "Home", ":material/home:", None),
    ("app_pages/learn.py", "Learn", ":material/school:", "learn"),
    ("app_pages/train.py", "Train", ":material/model_training:", "train"),
    ("app_pages/evaluate.py", "Evaluate", ":material/fact_check:", "evaluate"),
    ("app_pages/draw.py", "Draw", ":material/draw:", "draw"),
    ("app_pages/my_digits.py", "My digits", ":material/gesture:", "my-digits"),
    ("app_pages/runs.py", "Runs", ":material/history:", "runs"),
    ("app_pages/experiments.py", "Experiments", ":material/science:", "experiments"),
    ("app_pages/xor.py", "XOR", ":material/grid_4x4:", "xor"),
]
navigation = st.navigation(
    [
        st.Page(path, title=title, icon=icon, url_path=url, default=url is None)
        for path, title, icon, url in PAGES
    ]
)
try:
    navigation.run()
finally:
    # After the page, not before: importing TensorFlow holds Python's lock much of the time,
    # and a fresh server's first page waited for it.
    keras_runtime.warm_up_keras()
