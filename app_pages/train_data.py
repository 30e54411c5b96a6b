"""Train's "Training data" expander: My digits added to the training images, repeated.

Its widgets follow the page's one spec as the other controls do (app_pages/train_controls.py):
they show `ModelSpec.my_digits_repeats` and write an edit back with `set_spec`.
`training_data` is the data a run of the spec trains on: MNIST, plus My digits when the spec
asks for them (core.training.my_digits), the same object while neither changes, so the tensors
made of it are kept for the next run (core.training.prepared).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import streamlit as st

from app_pages import state
from app_pages.my_digits_store import my_digits_or_none
from app_pages.train_controls import W, current_spec, set_spec, widget
from core.mnist.data import MNIST
from core.nets.model import MAX_MY_DIGITS_REPEATS, ModelSpec
from core.training.my_digits import with_my_digits
from core.training.prepared import held_out_count

DEFAULT_REPEATS = 10  # where the toggle turns My digits on


def _my_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every kept digit's image and label (none when the store cannot be opened)."""
    store = my_digits_or_none()
    if store is None:
        return np.empty((0, 28, 28), np.float32), np.empty(0, np.uint8)
    digits = store.digit_set()
    return digits.images, digits.labels


@st.cache_resource(max_entries=1, show_spinner=False)
def _with_mine(_data: MNIST, source: str, digest: str, repeats: int) -> MNIST:
    # `digest` (of the digits) and `source` stand for the arrays in the cache key.
    images, labels = _my_digits()
    return with_my_digits(_data, images, labels, repeats)


def training_data(data: MNIST | None, spec: ModelSpec) -> MNIST | None:
    """What a run of `spec` trains on: `data`, plus My digits `spec.my_digits_repeats` times."""
    if data is None or not spec.my_digits_repeats:
        return data
    images, labels = _my_digits()
    if not len(labels):
        return data
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    return _with_mine(data, data.source, digest, spec.my_digits_repeats)


def _show(spec: ModelSpec) -> None:
    """The widgets show `spec` (a preset, a link or an upload may have changed it)."""
    repeats = spec.my_digits_repeats
    if bool(widget("use_my_digits")) != bool(repeats) or (
        repeats and widget("my_digits_repeats") != repeats
    ):
        state.set(W + "use_my_digits", bool(repeats))
        state.set(W + "my_digits_repeats", repeats or DEFAULT_REPEATS)
    if widget("my_digits_repeats") is None:
        state.set(W + "my_digits_repeats", DEFAULT_REPEATS)


def _edited() -> None:
    repeats = int(widget("my_digits_repeats")) if widget("use_my_digits") else 0
    set_spec(replace(current_spec(), my_digits_repeats=repeats))


def training_data_controls(data: MNIST | None, disabled: bool) -> None:
    """The expander: add My digits to the training images, and how many times each."""
    spec = current_spec()
    _show(spec)
    _, labels = _my_digits()
    with st.expander("Training data", icon=":material/dataset:"):
        st.toggle(
            "Add My digits",
            key=W + "use_my_digits",
            on_change=_edited,
            disabled=disabled or (not len(labels) and not spec.my_digits_repeats),
            help="Your kept drawings (the My digits page) join the training images, never the "
            "validation split, so the validation and test figures stay MNIST's.",
            **state.KEEP,
        )
        st.slider(
            "Times each",
            1,
            MAX_MY_DIGITS_REPEATS,
            key=W + "my_digits_repeats",
            on_change=_edited,
            disabled=disabled or not spec.my_digits_repeats,
            help="A few dozen drawings beside 54,000 of MNIST's count for little; repeated, "
            "each is seen this many times an epoch.",
            **state.KEEP,
        )
        st.caption(_summary(spec, len(labels), data))


def _summary(spec: ModelSpec, count: int, data: MNIST | None) -> str:
    if not count:
        return (
            "You have kept no digits yet: keep some on **Draw**, or import a file on **My digits**."
        )
    if not spec.my_digits_repeats:
        return f"You have kept {count:,} digits; they are not used for training."
    total = count * spec.my_digits_repeats
    base = "" if data is None else f" beside {_mnist_rows(data, spec):,} of MNIST's"
    return (
        f"**{count:,} of My digits × {spec.my_digits_repeats} = {total:,} training images**"
        f"{base} every epoch."
    )


def _mnist_rows(data: MNIST, spec: ModelSpec) -> int:
    base = len(data.x_train) - data.train_only
    return base - held_out_count(base, spec.validation_split)
