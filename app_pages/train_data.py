"""Train's "Training data" expander: My digits added to the training images, repeated, and
augmentation (random shifts, rotations, zoom and stroke thickness) with a preview.

Its widgets follow the page's one spec as the other controls do (app_pages/train_controls.py):
they show `ModelSpec.my_digits_repeats` and the `augment_*` fields and write an edit back
with `set_spec`.
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
from core.charts.images import digit_grid_figure
from core.mnist.data import MNIST, one_of_each_digit
from core.nets import augment
from core.nets.model import MAX_MY_DIGITS_REPEATS, ModelSpec
from core.training.my_digits import with_my_digits
from core.training.prepared import held_out_count

DEFAULT_REPEATS = 10  # where the toggle turns My digits on
# field -> (label, step, how a value is shown, help)
AUGMENT_SLIDERS = {
    "augment_shift": (
        "Shift (of the side)",
        0.05,
        "%.2f",
        "Each training image moves up to this fraction of its side, up or down and left or "
        "right: 0.1 is about 3 pixels.",
    ),
    "augment_rotation": ("Rotation (degrees)", 5.0, "%.0f°", "Turned up to this far either way."),
    "augment_zoom": ("Zoom", 0.05, "%.2f", "Made up to this fraction bigger or smaller."),
    "augment_thickness": (
        "Stroke thickness (pixels)",
        1,
        "%d",
        "Strokes grow or shrink by up to this many pixels on each side, as a wider or "
        "narrower pen would draw them. Keep 0 for a network that reads your drawings: Draw "
        "already redraws strokes at MNIST's width, and thicker strokes fill the small loops "
        "of MNIST's 6s, so a drawn 6 with an open loop is read as 0.",
    ),
}
PREVIEW_DRAWS = 3  # rows of augmented digits under the digits as they are


def _my_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every kept digit's image and label (none when the store cannot be opened)."""
    store = my_digits_or_none()
    if store is None:
        return np.empty((0, 28, 28), np.float32), np.empty(0, np.uint8)
    digits = store.digit_set()
    return digits.images, digits.labels


def my_digits_count() -> int:
    """How many digits are kept (0 if My digits cannot be read)."""
    store = my_digits_or_none()
    return store.count() if store is not None else 0


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


def _show_augmentation(spec: ModelSpec) -> None:
    for name in augment.FIELDS:
        if widget(name) != getattr(spec, name):
            state.set(W + name, getattr(spec, name))


def _augmentation_edited() -> None:
    values = {name: widget(name) for name in augment.FIELDS}
    set_spec(replace(current_spec(), **values))


def _edited() -> None:
    repeats = int(widget("my_digits_repeats")) if widget("use_my_digits") else 0
    set_spec(replace(current_spec(), my_digits_repeats=repeats))


def training_data_controls(data: MNIST | None, disabled: bool) -> None:
    """The expander: add My digits to the training images, and how many times each."""
    spec = current_spec()
    _show(spec)
    _, labels = _my_digits()
    with st.expander("Training data and augmentation", icon=":material/dataset:"):
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
        augmentation_controls(spec, data, disabled)


def augmentation_controls(spec: ModelSpec, data: MNIST | None, disabled: bool) -> None:
    """The four augmentation sliders (0: off) and, when any is on, the preview."""
    _show_augmentation(spec)
    st.markdown("**Augmentation**: random changes of each training batch, never of the test.")
    left, right = st.columns(2)
    for i, (name, (label, step, shown, help_text)) in enumerate(AUGMENT_SLIDERS.items()):
        top = augment.LIMITS[name][0]
        (left if i % 2 == 0 else right).slider(
            label,
            type(top)(0),
            top,
            step=step,
            format=shown,
            key=W + name,
            on_change=_augmentation_edited,
            disabled=disabled,
            help=help_text,
            **state.KEEP,
        )
    if data is not None and augment.augments(spec):
        st.plotly_chart(
            _preview(spec, data), width="stretch", key="train_augment_preview", config=STATIC
        )
        st.caption(
            "Top row: training digits as they are; below: as augmentation hands them to "
            "the network in three batches."
        )


STATIC = {"staticPlot": True}


@st.cache_data(max_entries=16, show_spinner=False)
def _preview_images(settings: tuple, source: str, _data: MNIST) -> tuple[np.ndarray, list[int]]:
    # `settings` (the augment_* values) and `source` stand for the spec and data in the key.
    images, digits = one_of_each_digit(_data)
    x = images.astype(np.float32) / 255
    spec = ModelSpec(**dict(zip(augment.FIELDS, settings, strict=True)))
    rows = [x, *(augment.augmented(spec, x, seed=draw) for draw in range(PREVIEW_DRAWS))]
    return np.concatenate(rows), digits


def _preview(spec: ModelSpec, data: MNIST):
    """One training digit of each class as it is, then `PREVIEW_DRAWS` augmented draws."""
    settings = tuple(getattr(spec, name) for name in augment.FIELDS)
    images, digits = _preview_images(settings, data.source, data)
    titles = [str(d) for d in digits] + [""] * (len(digits) * PREVIEW_DRAWS)
    figure = digit_grid_figure(images, titles, columns=len(digits))
    figure.update_layout(height=220, margin={"l": 0, "r": 0, "t": 0, "b": 0})
    return figure


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
