"""The Train page's model controls: widgets drawn from one spec, edits written back to it.

The page's state is one `ModelSpec` in `st.session_state["train_spec"]` (presets, the
Experiments page, share links and code export read and write that object). Every widget takes
its value from the spec: `show_spec` writes the spec into the widgets' keys whenever the spec
changed (an edit, a preset, another page), and every widget's `on_change` is `edited`, which
reads the widgets back into a new spec (`spec_from_widgets`). An edit that would make an
invalid network is refused with the reason, and the widgets snap back to the spec.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import streamlit as st

from core.nets.blocks import (
    CONV,
    DENSE,
    FAMILIES,
    HEADS,
    MAX_CONV_BLOCKS,
    Blocks,
    ConvBlock,
    DenseLayer,
    from_layers,
    new_conv_block,
    to_layers,
)
from core.nets.layers import ACTIVATIONS, PADDINGS
from core.nets.model import (
    DEFAULT_LEARNING_RATES,
    LOSSES,
    LR_SCHEDULES,
    MAX_HIDDEN_LAYERS,
    OPTIMIZERS,
    ModelSpec,
    SpecError,
)
from core.nets.presets import DEFAULT_PRESET, PRESETS

SPEC = "train_spec"  # the one spec object
SHOWN = "train_spec_shown"  # the spec's JSON as the widgets show it now
W = "train_w_"  # widget keys; app.py keeps their values while another page is shown
LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
UNIT_CHOICES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
FILTER_CHOICES = [4, 8, 16, 32, 48, 64, 96, 128, 256]
KERNEL_CHOICES = [1, 3, 5, 7]
DROPOUT_STEP = 0.05
TRAINING_FIELDS = ("optimizer", "learning_rate", "loss", "lr_schedule", "batch_size", "epochs")
TRAINING_FIELDS += ("early_stopping", "patience", "seed")


def with_value(options: list, value) -> list:
    """`options` plus `value` where a preset or link holds one the slider does not list."""
    return sorted(set(options) | {value})


def current_spec() -> ModelSpec:
    """The page's spec; the default preset's until someone chooses another."""
    if st.session_state.get(SPEC) is None:
        st.session_state[SPEC] = copy.deepcopy(PRESETS[DEFAULT_PRESET].spec)
    return st.session_state[SPEC]


def set_spec(spec: ModelSpec) -> None:
    """Make `spec` the page's spec (a preset, a share link, another page); widgets follow."""
    st.session_state[SPEC] = spec
    show_spec(spec)


def show_spec(spec: ModelSpec) -> None:
    """Write the spec into every widget's key (never the other way round)."""
    state = st.session_state
    blocks = from_layers(spec.layers) or Blocks(family=CONV if spec.is_convolutional else DENSE)
    state[W + "family"] = blocks.family
    state[W + "conv_blocks"] = len(blocks.conv)
    for i, block in enumerate(blocks.conv):
        state[W + f"filters_{i}"] = block.filters
        state[W + f"kernel_{i}"] = block.kernel_size
        state[W + f"conv_activation_{i}"] = block.activation
        state[W + f"padding_{i}"] = block.padding
        state[W + f"batch_norm_{i}"] = block.batch_norm
        state[W + f"pooling_{i}"] = block.pooling
    state[W + "head"] = blocks.head
    state[W + "head_dropout"] = blocks.head_dropout
    state[W + "layers"] = len(blocks.dense)
    for i, dense in enumerate(blocks.dense):
        state[W + f"units_{i}"] = dense.units
        state[W + f"activation_{i}"] = dense.activation
        state[W + f"dropout_{i}"] = dense.dropout
    for name in TRAINING_FIELDS:
        state[W + name] = getattr(spec, name)
    state[SHOWN] = spec.to_json()


def follow_spec() -> None:
    """Show the spec in the widgets if it changed since they last showed it (another page)."""
    spec = current_spec()
    if st.session_state.get(SHOWN) != spec.to_json():
        show_spec(spec)


def _valid(spec: ModelSpec, blocks: Blocks) -> bool:
    try:
        replace(spec, layers=to_layers(blocks))
    except SpecError:
        return False
    return True


def _added_block(spec: ModelSpec, blocks: Blocks, index: int) -> ConvBlock:
    """A new block that keeps the network valid: pooled if the map is big enough, else not."""
    for padding, pooling in (("valid", True), ("same", True), ("same", False)):
        block = replace(new_conv_block(index), padding=padding, pooling=pooling)
        trial = replace(blocks, conv=[*blocks.conv, block])
        if _valid(spec, trial):
            return block
    return replace(new_conv_block(index), padding="same", pooling=False)


def spec_from_widgets(old: ModelSpec) -> ModelSpec:
    """A new spec from the widgets; blocks and layers the counts add get defaults."""
    state = st.session_state
    old_blocks = from_layers(old.layers) or Blocks()
    family = state[W + "family"]
    blocks = Blocks(family=family, head=state[W + "head"], head_dropout=state[W + "head_dropout"])
    if family == CONV:
        switched = old_blocks.family != CONV
        shown = 0 if switched else len(old_blocks.conv)
        count = (state[W + "conv_blocks"] or 2) if switched else state[W + "conv_blocks"]
        for i in range(count):
            if i < shown:
                blocks.conv.append(
                    ConvBlock(
                        int(state[W + f"filters_{i}"]),
                        int(state[W + f"kernel_{i}"]),
                        state[W + f"conv_activation_{i}"],
                        state[W + f"padding_{i}"],
                        bool(state[W + f"batch_norm_{i}"]),
                        bool(state[W + f"pooling_{i}"]),
                    )
                )
            else:
                blocks.conv.append(_added_block(old, blocks, i))
    for i in range(state[W + "layers"]):
        if i < len(old_blocks.dense):
            blocks.dense.append(
                DenseLayer(
                    int(state[W + f"units_{i}"]),
                    state[W + f"activation_{i}"],
                    float(state[W + f"dropout_{i}"]),
                )
            )
        else:
            blocks.dense.append(DenseLayer())
    training = {name: state[W + name] for name in TRAINING_FIELDS}
    if training["optimizer"] != old.optimizer:
        training["learning_rate"] = DEFAULT_LEARNING_RATES[training["optimizer"]]
    return replace(old, layers=to_layers(blocks), **training)


def edited() -> None:
    """Every widget's on_change: the widgets become the new spec, or snap back with the reason."""
    old = current_spec()
    try:
        spec = spec_from_widgets(old)
    except SpecError as error:
        st.session_state["train_error"] = f"That change was undone: {error}"
        show_spec(old)
        return
    st.session_state["train_error"] = None
    set_spec(spec)


def apply_preset() -> None:
    st.session_state["train_error"] = None
    set_spec(copy.deepcopy(PRESETS[st.session_state[W + "preset"]].spec))


def model_controls(disabled: bool) -> None:
    """Family, conv blocks, head and dense layers."""
    state = st.session_state
    common = {"on_change": edited, "disabled": disabled}
    st.segmented_control(
        "Network",
        list(FAMILIES),
        format_func=FAMILIES.get,
        key=W + "family",
        required=True,
        help="A dense network reads the 784 pixels as one row. A convolutional network first "
        "slides small filters over the image to find strokes and edges wherever they are.",
        **common,
    )
    if state[W + "family"] == CONV:
        st.slider("Conv blocks", 0, MAX_CONV_BLOCKS, key=W + "conv_blocks", **common)
        for i in range(state[W + "conv_blocks"]):
            conv_block(i, common)
        head, head_dropout = st.columns(2)
        head.selectbox(
            "Then",
            list(HEADS),
            format_func=HEADS.get,
            key=W + "head",
            help="Flatten lays the last feature maps out as one long row; global average "
            "pooling keeps one number per filter (its average over the map).",
            **common,
        )
        head_dropout.slider(
            "Dropout after it", 0.0, 0.8, step=DROPOUT_STEP, key=W + "head_dropout", **common
        )
    st.slider(
        "Dense layers" if state[W + "family"] == CONV else "Hidden layers",
        0,
        MAX_HIDDEN_LAYERS,
        key=W + "layers",
        **common,
    )
    for i in range(state[W + "layers"]):
        units, activation, dropout = st.columns(3)
        units.select_slider(
            f"Layer {i + 1} units",
            with_value(UNIT_CHOICES, state[W + f"units_{i}"]),
            key=W + f"units_{i}",
            **common,
        )
        activation.selectbox(
            f"Layer {i + 1} activation", ACTIVATIONS, key=W + f"activation_{i}", **common
        )
        dropout.slider(
            f"Layer {i + 1} dropout", 0.0, 0.8, step=DROPOUT_STEP, key=W + f"dropout_{i}", **common
        )


def conv_block(i: int, common: dict) -> None:
    state = st.session_state
    with st.container(border=True):
        filters, kernel = st.columns(2)
        filters.select_slider(
            f"Block {i + 1} filters",
            with_value(FILTER_CHOICES, state[W + f"filters_{i}"]),
            key=W + f"filters_{i}",
            **common,
        )
        kernel.select_slider(
            "Kernel size",
            with_value(KERNEL_CHOICES, state[W + f"kernel_{i}"]),
            key=W + f"kernel_{i}",
            format_func=lambda k: f"{k}x{k}",
            **common,
        )
        activation, padding = st.columns(2)
        activation.selectbox("Activation", ACTIVATIONS, key=W + f"conv_activation_{i}", **common)
        padding.selectbox(
            "Padding",
            PADDINGS,
            key=W + f"padding_{i}",
            help="valid: the map shrinks by the kernel size less one; same: zeros around the "
            "border keep its size.",
            **common,
        )
        batch_norm, pooling = st.columns(2)
        batch_norm.toggle("Batch norm", key=W + f"batch_norm_{i}", **common)
        pooling.toggle("2x2 max pooling", key=W + f"pooling_{i}", **common)


def training_controls(disabled: bool) -> None:
    state = st.session_state
    common = {"on_change": edited, "disabled": disabled}
    left, right = st.columns(2)
    left.selectbox("Optimizer", OPTIMIZERS, key=W + "optimizer", **common)
    right.select_slider(
        "Learning rate",
        with_value(LEARNING_RATES, state[W + "learning_rate"]),
        key=W + "learning_rate",
        format_func=lambda rate: f"{rate:g}",
        **common,
    )
    left.selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key=W + "loss", **common)
    right.selectbox(
        "Learning-rate schedule",
        list(LR_SCHEDULES),
        format_func=LR_SCHEDULES.get,
        key=W + "lr_schedule",
        help="Cosine decay lowers the learning rate smoothly to zero by the last epoch.",
        **common,
    )
    left.select_slider(
        "Batch size",
        with_value(BATCH_SIZES, state[W + "batch_size"]),
        key=W + "batch_size",
        **common,
    )
    right.slider("Epochs", 1, max(50, state[W + "epochs"]), key=W + "epochs", **common)
    left.toggle(
        "Early stopping",
        key=W + "early_stopping",
        help="Stop when the validation loss has not improved for `patience` epochs, and keep "
        "the best weights.",
        **common,
    )
    right.slider(
        "Patience (epochs)",
        0,
        max(10, state[W + "patience"]),
        key=W + "patience",
        on_change=edited,
        disabled=disabled or not state[W + "early_stopping"],
    )
    left.number_input("Random seed", 0, 2**31 - 1, key=W + "seed", **common)
