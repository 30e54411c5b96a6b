import random

import pytest

from core.nets.blocks import (
    CONV,
    DENSE,
    Blocks,
    ConvBlock,
    DenseLayer,
    from_layers,
    new_conv_block,
    to_layers,
)
from core.nets.layers import ACTIVATIONS
from core.nets.model import ModelSpec, SpecError


def random_blocks(rng: random.Random) -> Blocks:
    family = rng.choice([DENSE, CONV])
    blocks = Blocks(family=family)
    if family == CONV:
        for _ in range(rng.randint(0, 4)):
            blocks.conv.append(
                ConvBlock(
                    filters=rng.choice([4, 16, 32]),
                    kernel_size=rng.choice([1, 3, 5]),
                    activation=rng.choice(ACTIVATIONS),
                    padding=rng.choice(["valid", "same"]),
                    batch_norm=rng.random() < 0.5,
                    pooling=rng.random() < 0.5,
                )
            )
        blocks.head = rng.choice(["Flatten", "GlobalAveragePooling2D"])
        blocks.head_dropout = rng.choice([0.0, 0.25, 0.5])
    for _ in range(rng.randint(0, 5)):
        blocks.dense.append(
            DenseLayer(rng.choice([8, 128]), rng.choice(ACTIVATIONS), rng.choice([0.0, 0.3]))
        )
    return blocks


def test_blocks_to_layers_and_back_is_the_identity():
    rng = random.Random(4)
    checked = 0
    for _ in range(300):
        blocks = random_blocks(rng)
        layers = to_layers(blocks)
        try:
            spec = ModelSpec(layers=layers)
        except SpecError:
            continue  # e.g. four pooled valid blocks shrink the map below the kernel
        checked += 1
        assert from_layers(spec.layers) == blocks
        assert spec.is_convolutional == (blocks.family == CONV)
    assert checked > 150


def test_a_conv_block_is_conv_then_batch_norm_then_pooling():
    blocks = Blocks(
        family=CONV,
        conv=[ConvBlock(8, 5, "tanh", "same", batch_norm=True, pooling=True)],
        head="GlobalAveragePooling2D",
        head_dropout=0.5,
        dense=[DenseLayer(16, "relu", 0.2)],
    )
    assert [layer["type"] for layer in to_layers(blocks)] == [
        "Conv2D",
        "BatchNormalization",
        "MaxPooling2D",
        "GlobalAveragePooling2D",
        "Dropout",
        "Dense",
        "Dropout",
    ]


def test_no_conv_blocks_is_a_flatten_then_the_dense_head():
    spec = ModelSpec(layers=to_layers(Blocks(family=CONV, dense=[DenseLayer(32)])))
    assert spec.input_shape == (28, 28, 1)
    assert spec.architecture() == "28x28-F-32-10"
    assert from_layers(spec.layers).family == CONV


@pytest.mark.parametrize(
    "layers",
    [
        [{"type": "Conv2D", "strides": 2}, {"type": "Flatten"}],  # strides are not a control
        [
            {"type": "Conv2D"},
            {"type": "Conv2D"},
            {"type": "Flatten"},
            {"type": "Dropout"},
            {"type": "Dropout"},
        ],
        [{"type": "MaxPooling2D"}, {"type": "Flatten"}],  # pooling without a conv
        [{"type": "Dense"}, {"type": "BatchNormalization"}],
        [{"type": "Conv2D"}, {"type": "MaxPooling2D", "pool_size": 3}, {"type": "Flatten"}],
        [{"type": "Conv2D"}] * 5 + [{"type": "Flatten"}],  # more blocks than the page offers
    ],
)
def test_layers_the_blocks_cannot_express_give_none(layers):
    assert from_layers(layers) is None


def test_new_blocks_double_their_filters():
    assert [new_conv_block(i).filters for i in range(4)] == [32, 64, 128, 256]
