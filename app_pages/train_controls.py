"""The Train page's model controls: widgets drawn from one spec, edits written back to it.

The page's state is one `ModelSpec`, session key "train_spec" (app_pages/state.py). It is read
with `current_spec()` and set only with `set_spec(spec)`: by a preset, an edit, the Experiments
page, a share link or a settings file. Every widget takes its value from the spec: `show_spec`
writes the spec into the widgets' keys whenever the spec changed, and every widget's
`on_change` is `edited`, which reads the widgets back into a new spec (`spec_from_widgets`). An
edit that would make an invalid network is refused with the reason, and the widgets snap back
to the spec. The widgets keep their values while another page is shown (`state.KEEP`).
"""

from __future__ import annotations

import copy
from dataclasses import replace

import streamlit as st

from app_pages import state
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
W = "train_w_"  # the widgets' keys, kept while another page is shown
LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
UNIT_CHOICES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
FILTER_CHOICES = [4, 8, 16, 24, 32, 48, 64, 96, 128, 256]
KERNEL_CHOICES = [1, 3, 5, 7]
DROPOUT_STEP = 0.05
MAX_DROPOUT = 0.8
MAX_EPOCHS = 50
MAX_PATIENCE = 10
MAX_SEED = 2**31 - 1
# The ends of the page's controls, in one table: the sliders take their ends from it, and share
# links and settings files are held to it (app_pages/code_views.py), so a link never sets a
# value that the controls cannot show. A link may still set a value between two of a slider's
# marks (100 units, say); the slider then shows it as one more mark (`with_value`).
LIMITS = {
    "Dense.units": (UNIT_CHOICES[0], UNIT_CHOICES[-1]),
    "Conv2D.filters": (FILTER_CHOICES[0], FILTER_CHOICES[-1]),
    "Conv2D.kernel_size": (KERNEL_CHOICES[0], KERNEL_CHOICES[-1]),
    "Dropout.rate": (0.0, MAX_DROPOUT),
    "learning_rate": (LEARNING_RATES[0], LEARNING_RATES[-1]),
    "batch_size": (BATCH_SIZES[0], BATCH_SIZES[-1]),
    "epochs": (1, MAX_EPOCHS),
    "patience": (0, MAX_PATIENCE),
    "seed": (0, MAX_SEED),
}
TRAINING_FIELDS = ("optimizer", "learning_rate", "loss", "lr_schedule", "batch_size", "epochs")
TRAINING_FIELDS += ("early_stopping", "patience", "seed")


def with_value(options: list, value) -> list:
    """`options` plus `value` where a preset or link holds one the slider does not list."""
    return sorted(set(options) | {value})


def widget(name: str):
    """The value of the widget `W + name`."""
    return state.get(W + name)


def current_spec() -> ModelSpec:
    """The page's spec; the default preset's until someone chooses another."""
    if state.get(SPEC) is None:
        state.set(SPEC, copy.deepcopy(PRESETS[DEFAULT_PRESET].spec))
    return state.get(SPEC)


def set_spec(spec: ModelSpec) -> None:
    """Make `spec` the Train page's network, its widgets showing it: THE way to set it, from
    this page (a preset, an edit, a share link, a settings file) or another (Experiments)."""
    state.set(SPEC, spec)
    show_spec(spec)


def preset_of(spec: ModelSpec) -> str | None:
    """The preset whose settings `spec` has, or None; the one the box shows if it is one."""
    shown = widget("preset")
    names = [shown, *PRESETS] if shown in PRESETS else list(PRESETS)
    return next((name for name in names if PRESETS[name].spec == spec), None)


def show_spec(spec: ModelSpec) -> None:
    """Write the spec into every widget's key (never the other way round); the preset box
    names the preset whose settings it has, however it was set (a link, a file, an edit)."""
    blocks = from_layers(spec.layers) or Blocks(family=CONV if spec.is_convolutional else DENSE)
    shown = {"family": blocks.family, "conv_blocks": len(blocks.conv)}
    for i, block in enumerate(blocks.conv):
        shown[f"filters_{i}"] = block.filters
        shown[f"kernel_{i}"] = block.kernel_size
        shown[f"conv_activation_{i}"] = block.activation
        shown[f"padding_{i}"] = block.padding
        shown[f"batch_norm_{i}"] = block.batch_norm
        shown[f"pooling_{i}"] = block.pooling
    shown.update(head=blocks.head, head_dropout=blocks.head_dropout, layers=len(blocks.dense))
    for i, dense in enumerate(blocks.dense):
        shown[f"units_{i}"] = dense.units
        shown[f"activation_{i}"] = dense.activation
        shown[f"dropout_{i}"] = dense.dropout
    shown.update({name: getattr(spec, name) for name in TRAINING_FIELDS})
    preset = preset_of(spec)
    if preset is not None:
        shown["preset"] = preset
    for name, value in shown.items():
        state.set(W + name, value)
    state.set(SHOWN, spec.to_json())


def follow_spec() -> None:
    """Show the spec in the widgets if it changed since they last showed them (set without
    `set_spec`: by a test, say)."""
    spec = current_spec()
    if state.get(SHOWN) != spec.to_json():
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
    old_blocks = from_layers(old.layers) or Blocks()
    family = widget("family")
    blocks = Blocks(family=family, head=widget("head"), head_dropout=widget("head_dropout"))
    if family == CONV:
        switched = old_blocks.family != CONV
        shown = 0 if switched else len(old_blocks.conv)
        count = (widget("conv_blocks") or 2) if switched else widget("conv_blocks")
        for i in range(count):
            if i < shown:
                blocks.conv.append(
                    ConvBlock(
                        int(widget(f"filters_{i}")),
                        int(widget(f"kernel_{i}")),
                        widget(f"conv_activation_{i}"),
                        widget(f"padding_{i}"),
                        bool(widget(f"batch_norm_{i}")),
                        bool(widget(f"pooling_{i}")),
                    )
                )
            else:
                blocks.conv.append(_added_block(old, blocks, i))
    for i in range(widget("layers")):
        if i < len(old_blocks.dense):
            blocks.dense.append(
                DenseLayer(
                    int(widget(f"units_{i}")),
                    widget(f"activation_{i}"),
                    float(widget(f"dropout_{i}")),
                )
            )
        else:
            blocks.dense.append(DenseLayer())
    training = {name: widget(name) for name in TRAINING_FIELDS}
    if training["optimizer"] != old.optimizer:
        training["learning_rate"] = DEFAULT_LEARNING_RATES[training["optimizer"]]
    return replace(old, layers=to_layers(blocks), **training)


def edited() -> None:
    """Every widget's on_change: the widgets become the new spec, or snap back with the reason."""
    old = current_spec()
    try:
        spec = spec_from_widgets(old)
    except SpecError as error:
        state.set("train_error", f"That change was undone: {error}")
        show_spec(old)
        return
    state.set("train_error", None)
    set_spec(spec)


def apply_preset() -> None:
    state.set("train_error", None)
    set_spec(copy.deepcopy(PRESETS[widget("preset")].spec))


def preset_recipe() -> None:
    """The chosen preset's recipe, each choice and what it buys, folded under the preset box."""
    preset = PRESETS.get(widget("preset"))
    if preset is None or not preset.recipe:
        return
    with st.expander("The recipe: each choice and what it buys", icon=":material/bolt:"):
        st.markdown("\n".join(f"- **{choice}**: {buys}" for choice, buys in preset.recipe))
        st.caption(
            "Change any of them below and train again to see what it costs; "
            "docs/benchmarks.md has each one undone and measured."
        )


def model_controls(disabled: bool) -> None:
    """Family, conv blocks, head and dense layers."""
    shared = {"on_change": edited, "disabled": disabled, **state.KEEP}
    st.segmented_control(
        "Network",
        list(FAMILIES),
        format_func=FAMILIES.get,
        key=W + "family",
        required=True,
        help="A dense network reads the 784 pixels as one row. A convolutional network first "
        "slides small filters over the image to find strokes and edges wherever they are.",
        **shared,
    )
    if widget("family") == CONV:
        st.slider("Conv blocks", 0, MAX_CONV_BLOCKS, key=W + "conv_blocks", **shared)
        for i in range(widget("conv_blocks")):
            conv_block(i, shared)
        head, head_dropout = st.columns(2)
        head.selectbox(
            "Then",
            list(HEADS),
            format_func=HEADS.get,
            key=W + "head",
            help="Flatten lays the last feature maps out as one long row; global average "
            "pooling keeps one number per filter (its average over the map).",
            **shared,
        )
        head_dropout.slider(
            "Dropout after it",
            *LIMITS["Dropout.rate"],
            step=DROPOUT_STEP,
            key=W + "head_dropout",
            **shared,
        )
    st.slider(
        "Dense layers" if widget("family") == CONV else "Hidden layers",
        0,
        MAX_HIDDEN_LAYERS,
        key=W + "layers",
        **shared,
    )
    for i in range(widget("layers")):
        units, activation, dropout = st.columns(3)
        units.select_slider(
            f"Layer {i + 1} units",
            with_value(UNIT_CHOICES, widget(f"units_{i}")),
            key=W + f"units_{i}",
            **shared,
        )
        activation.selectbox(
            f"Layer {i + 1} activation", ACTIVATIONS, key=W + f"activation_{i}", **shared
        )
        dropout.slider(
            f"Layer {i + 1} dropout",
            *LIMITS["Dropout.rate"],
            step=DROPOUT_STEP,
            key=W + f"dropout_{i}",
            **shared,
        )


def conv_block(i: int, shared: dict) -> None:
    with st.container(border=True):
        filters, kernel = st.columns(2)
        filters.select_slider(
            f"Block {i + 1} filters",
            with_value(FILTER_CHOICES, widget(f"filters_{i}")),
            key=W + f"filters_{i}",
            **shared,
        )
        kernel.select_slider(
            "Kernel size",
            with_value(KERNEL_CHOICES, widget(f"kernel_{i}")),
            key=W + f"kernel_{i}",
            format_func=lambda k: f"{k}x{k}",
            **shared,
        )
        activation, padding = st.columns(2)
        activation.selectbox("Activation", ACTIVATIONS, key=W + f"conv_activation_{i}", **shared)
        padding.selectbox(
            "Padding",
            PADDINGS,
            key=W + f"padding_{i}",
            help="valid: the map shrinks by the kernel size less one; same: zeros around the "
            "border keep its size.",
            **shared,
        )
        batch_norm, pooling = st.columns(2)
        batch_norm.toggle("Batch norm", key=W + f"batch_norm_{i}", **shared)
        pooling.toggle("2x2 max pooling", key=W + f"pooling_{i}", **shared)


def training_controls(disabled: bool) -> None:
    shared = {"on_change": edited, "disabled": disabled, **state.KEEP}
    left, right = st.columns(2)
    left.selectbox("Optimizer", OPTIMIZERS, key=W + "optimizer", **shared)
    right.select_slider(
        "Learning rate",
        with_value(LEARNING_RATES, widget("learning_rate")),
        key=W + "learning_rate",
        format_func=lambda rate: f"{rate:g}",
        **shared,
    )
    left.selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key=W + "loss", **shared)
    right.selectbox(
        "Learning-rate schedule",
        list(LR_SCHEDULES),
        format_func=LR_SCHEDULES.get,
        key=W + "lr_schedule",
        help="Constant keeps the learning rate. Cosine decay lowers it smoothly to zero by "
        "the last epoch. One cycle climbs in a straight line from a 25th of it to the full "
        "rate over the first quarter of the batches, then falls along a cosine to zero: the "
        "climb lets a high rate start safely, the fall settles the weights (the 99 % in "
        "seconds preset uses it).",
        **shared,
    )
    left.select_slider(
        "Batch size",
        with_value(BATCH_SIZES, widget("batch_size")),
        key=W + "batch_size",
        **shared,
    )
    # A spec from the Experiments page may train longer than a link can ask for.
    first, last = LIMITS["epochs"]
    right.slider("Epochs", first, max(last, widget("epochs")), key=W + "epochs", **shared)
    left.toggle(
        "Early stopping",
        key=W + "early_stopping",
        help="Stop when the validation loss has not improved for `patience` epochs, and keep "
        "the best weights.",
        **shared,
    )
    right.slider(
        "Patience (epochs)",
        LIMITS["patience"][0],
        max(LIMITS["patience"][1], widget("patience")),
        key=W + "patience",
        on_change=edited,
        disabled=disabled or not widget("early_stopping"),
        **state.KEEP,
    )
    left.number_input("Random seed", *LIMITS["seed"], key=W + "seed", **shared)
