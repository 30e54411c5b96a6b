"""The Train page's view of a layer list: conv blocks, a head, and dense layers.

A learner builds a network from a few repeated parts rather than from single layers:

- a dense network is hidden Dense layers, each with an optional Dropout after it;
- a convolutional network is 0 to 4 conv blocks (Conv2D, then BatchNormalization if asked,
  then 2x2 MaxPooling2D if asked), then Flatten or GlobalAveragePooling2D, an optional Dropout,
  then the same dense layers.

`to_layers` writes a `Blocks` as `ModelSpec.layers`; `from_layers` reads layers back into
blocks, or returns None for a list that is not of this form (an imported network, say), so
the page can say it cannot show it as sliders. Plain values only; nothing here imports
Streamlit or Keras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.nets.layers import LAYER_TYPES, SpecError, clean_layer

DENSE, CONV = "dense", "conv"
FAMILIES = {DENSE: "Dense network", CONV: "Convolutional network"}
HEADS = {"Flatten": "Flatten", "GlobalAveragePooling2D": "Global average pooling"}
MAX_CONV_BLOCKS = 4
POOL = {"type": "MaxPooling2D", "pool_size": 2, "strides": 2}
_CONV_DEFAULTS = {name: s.default for name, s in LAYER_TYPES["Conv2D"].settings.items()}


@dataclass
class ConvBlock:
    filters: int = 32
    kernel_size: int = 3
    activation: str = "relu"
    padding: str = "valid"
    batch_norm: bool = False
    pooling: bool = True


@dataclass
class DenseLayer:
    units: int = 128
    activation: str = "relu"
    dropout: float = 0.0


@dataclass
class Blocks:
    family: str = DENSE
    conv: list[ConvBlock] = field(default_factory=list)
    head: str = "Flatten"
    head_dropout: float = 0.0
    dense: list[DenseLayer] = field(default_factory=list)


def new_conv_block(index: int) -> ConvBlock:
    """The block the page adds as block `index` (0-based): filters double from 32."""
    return ConvBlock(filters=min(32 * 2**index, 256))


def to_layers(blocks: Blocks) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    if blocks.family == CONV:
        for block in blocks.conv:
            layers.append(
                {
                    **_CONV_DEFAULTS,
                    "type": "Conv2D",
                    "filters": block.filters,
                    "kernel_size": block.kernel_size,
                    "activation": block.activation,
                    "padding": block.padding,
                }
            )
            if block.batch_norm:
                layers.append({"type": "BatchNormalization"})
            if block.pooling:
                layers.append(dict(POOL))
        layers.append({"type": blocks.head})
        if blocks.head_dropout > 0:
            layers.append({"type": "Dropout", "rate": blocks.head_dropout})
    for dense in blocks.dense:
        layers.append({"type": "Dense", "units": dense.units, "activation": dense.activation})
        if dense.dropout > 0:
            layers.append({"type": "Dropout", "rate": dense.dropout})
    return layers


class _Reader:
    """Cleaned layers read one at a time."""

    def __init__(self, layers: list[dict[str, Any]]) -> None:
        self.layers = [clean_layer(layer, i) for i, layer in enumerate(layers, start=1)]
        self.at = 0

    def peek(self, kind: str) -> dict[str, Any] | None:
        if self.at < len(self.layers) and self.layers[self.at]["type"] == kind:
            return self.layers[self.at]
        return None

    def take(self, kind: str) -> dict[str, Any] | None:
        layer = self.peek(kind)
        if layer is not None:
            self.at += 1
        return layer


def _dropout(reader: _Reader) -> float:
    layer = reader.take("Dropout")
    return layer["rate"] if layer else 0.0


def from_layers(layers: list[dict[str, Any]]) -> Blocks | None:
    """The blocks that `to_layers` turns into `layers` (filled with defaults), or None."""
    try:
        reader = _Reader(layers)
    except SpecError:
        return None
    blocks = Blocks()
    convolutional = any(
        layer["type"] in ("Conv2D", "MaxPooling2D", "GlobalAveragePooling2D", "Flatten")
        for layer in reader.layers
    )
    if convolutional:
        blocks.family = CONV
        while conv := reader.take("Conv2D"):
            if conv["strides"] != 1:
                return None
            block = ConvBlock(
                conv["filters"], conv["kernel_size"], conv["activation"], conv["padding"]
            )
            block.batch_norm = reader.take("BatchNormalization") is not None
            pool = reader.peek("MaxPooling2D")
            block.pooling = pool is not None and pool == POOL
            if block.pooling:
                reader.take("MaxPooling2D")
            blocks.conv.append(block)
        head = reader.take("Flatten") or reader.take("GlobalAveragePooling2D")
        if head is None or len(blocks.conv) > MAX_CONV_BLOCKS:
            return None
        blocks.head = head["type"]
        blocks.head_dropout = _dropout(reader)
    while dense := reader.take("Dense"):
        blocks.dense.append(DenseLayer(dense["units"], dense["activation"], _dropout(reader)))
    if reader.at != len(reader.layers):
        return None
    return blocks
