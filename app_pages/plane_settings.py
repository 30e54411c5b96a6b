"""The 2-D playground's sidebar: one widget per `PlaneSpec` field, keyed "xor_<field>".

`spec_from_state` reads the spec back from the widgets (or their defaults before they are
first drawn); the page (app_pages/xor.py) rebuilds the network whenever it changes.
"""

from __future__ import annotations

import random

import streamlit as st

from app_pages import state
from core.plane.spec import (
    DATASETS,
    FEATURES,
    MAX_CLASSES,
    MAX_PLANE_LAYERS,
    MAX_PLANE_UNITS,
    PLANE_ACTIVATIONS,
    PLANE_LOSSES,
    PLANE_OPTIMIZERS,
    REGULARIZATIONS,
    PlaneSpec,
)
from core.plane.xor import DEFAULT_EPOCHS

LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
REGULARIZATION_RATES = [0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [1, 4, 8, 10, 16, 32, 64, 128]
# What the sidebar's controls can show, in one table: a (low, high) tuple is a slider's or a
# number box's ends, a list a control's choices. The widgets take their ends and choices from
# it, and a share link is held to it (app_pages/code_views.py), so a link never sets a value
# the sidebar cannot show (the spec's own ranges are wider).
LIMITS = {
    "samples": (100, 1000),
    "noise": (0.0, 0.5),
    "test_fraction": (0.1, 0.5),
    "batch_size": BATCH_SIZES,
    "classes": (3, MAX_CLASSES),
    "hidden_layers": (0, MAX_PLANE_LAYERS),
    **{f"units_{i}": (1, MAX_PLANE_UNITS) for i in range(1, MAX_PLANE_LAYERS + 1)},
    "dropout": (0.0, 0.5),
    "regularization_rate": REGULARIZATION_RATES,
    "learning_rate": LEARNING_RATES,
    "seed": (0, 2**31 - 1),
}

# Every value widget's key and first value: the spec's fields, then the view's.
SPEC_KEYS = {f"xor_{name}": value for name, value in PlaneSpec().to_dict().items()}
WIDGET_DEFAULTS = {
    **SPEC_KEYS,
    "xor_epochs": DEFAULT_EPOCHS,
    "xor_slow": False,
    "xor_discrete": False,
}


def current(key: str):
    """A widget's value: what the person chose, or its default before it is first drawn.

    Every value widget gets this as its `value=` and keeps its value with `state.KEEP`, which
    keeps the browser's copy right through fragment reruns and while another page is shown.
    """
    return state.get(key, WIDGET_DEFAULTS[key])


def spec_from_state() -> PlaneSpec:
    return PlaneSpec.from_dict({key[len("xor_") :]: current(key) for key in SPEC_KEYS})


def new_seed() -> None:
    state.set("xor_seed", random.randrange(10_000))  # the changed spec resets the job


def new_sample() -> None:
    state.set("xor_sample", current("xor_sample") + 1)


def choice(label: str, key: str, options, names=None, **more) -> None:
    options = list(options)
    st.selectbox(
        label,
        options,
        index=options.index(current(key)),
        format_func=names or str,
        key=key,
        **state.KEEP,
        **more,
    )


def dataset_chosen() -> None:
    """Choosing the blobs (three or more classes) chooses cross-entropy, the usual loss for
    classes; the page's words say which loss is in use (core/plane/explanations.py)."""
    if state.get("xor_data") == "blobs":
        state.set("xor_loss", "crossentropy")


def data_settings() -> None:
    st.header("Data")
    choice("Dataset", "xor_data", DATASETS, DATASETS.get, on_change=dataset_chosen)
    if current("xor_data") == "points":
        return
    if current("xor_data") == "blobs":
        st.slider(
            "Classes", *LIMITS["classes"], current("xor_classes"), key="xor_classes", **state.KEEP
        )
    st.slider(
        "Points",
        *LIMITS["samples"],
        current("xor_samples"),
        step=50,
        key="xor_samples",
        **state.KEEP,
    )
    st.slider(
        "Noise", *LIMITS["noise"], current("xor_noise"), step=0.05, key="xor_noise", **state.KEEP
    )
    st.slider(
        "Held out to test",
        *LIMITS["test_fraction"],
        current("xor_test_fraction"),
        step=0.05,
        key="xor_test_fraction",
        **state.KEEP,
    )
    st.select_slider(
        "Batch size",
        LIMITS["batch_size"],
        value=current("xor_batch_size"),
        key="xor_batch_size",
        **state.KEEP,
    )
    st.button(
        "New sample",
        key="xor_new_sample",
        on_click=new_sample,
        help="Draw the points again (the same seed and sample number always give the same).",
    )


def feature_settings() -> None:
    st.header("Features")
    left, right = st.columns(2)
    for i, (name, label) in enumerate(FEATURES.items()):
        (left if i % 2 == 0 else right).checkbox(
            label, value=current(f"xor_{name}"), key=f"xor_{name}", **state.KEEP
        )


def network_settings() -> None:
    st.header("Network")
    layers = st.slider(
        "Hidden layers",
        *LIMITS["hidden_layers"],
        current("xor_hidden_layers"),
        key="xor_hidden_layers",
        **state.KEEP,
    )
    for i in range(1, layers + 1):
        units, activation = st.columns([2, 3])
        units.number_input(
            f"Layer {i} units",
            *LIMITS[f"units_{i}"],
            current(f"xor_units_{i}"),
            key=f"xor_units_{i}",
            **state.KEEP,
        )
        with activation:
            choice(f"Layer {i} activation", f"xor_activation_{i}", PLANE_ACTIVATIONS)
    st.slider(
        "Dropout after each layer",
        *LIMITS["dropout"],
        current("xor_dropout"),
        step=0.05,
        key="xor_dropout",
        disabled=layers == 0,
        **state.KEEP,
    )
    kind, rate = st.columns(2)
    with kind:
        choice("Regularisation", "xor_regularization", REGULARIZATIONS, REGULARIZATIONS.get)
    with rate:
        choice(
            "Rate",
            "xor_regularization_rate",
            LIMITS["regularization_rate"],
            disabled=current("xor_regularization") == "none",
        )
    choice("Loss", "xor_loss", PLANE_LOSSES, PLANE_LOSSES.get)
    choice("Optimizer", "xor_optimizer", PLANE_OPTIMIZERS)
    st.select_slider(
        "Learning rate",
        LIMITS["learning_rate"],
        value=current("xor_learning_rate"),
        format_func=str,
        key="xor_learning_rate",
        **state.KEEP,
    )


def seed_settings() -> None:
    st.header("Seed")
    seed, button = st.columns([3, 2], vertical_alignment="bottom")
    seed.number_input(
        "Seed",
        *LIMITS["seed"],
        # "New seed" writes the seed into session state; that run must not pass a value too
        "min" if state.get("xor_new_seed") else current("xor_seed"),
        key="xor_seed",
        help="The seed fixes the starting weights, the data and the order of the batches.",
        **state.KEEP,
    )
    button.button("New seed", key="xor_new_seed", on_click=new_seed)
    st.caption("Any change here rebuilds the network from the seed.")


def sidebar() -> None:
    with st.sidebar:
        data_settings()
        feature_settings()
        network_settings()
        seed_settings()
