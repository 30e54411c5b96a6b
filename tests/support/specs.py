"""Model specs for tests: a few layers, one small spec, and random valid specs from a seed.

    from tests.support.specs import random_spec, random_specs, small_spec
    spec = small_spec(epochs=1)               # 784-8-10, quick to build and train
    spec = random_spec(random.Random(3))      # one ModelSpec, dense or convolutional
    for spec in random_specs(20, seed=0): ...  # twenty of them, the same twenty every time
    spec = ModelSpec(layers=KERAS_CONVNET)    # keras.io's MNIST convnet (CONV, POOL, FLAT, ...)

Each random spec is built layer by layer, keeping only layers whose shape checks pass
(core.nets.layers.output_shape), so every one validates; about half are convolutional.
KERAS_CONVNET here is a layer list; core.nets.presets.KERAS_CONVNET is the preset's name.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from core.nets.layers import ACTIVATIONS, SpecError, clean_layer, output_shape
from core.nets.model import IMAGE_SHAPE, INPUT_SIZE, LOSSES, LR_SCHEDULES, OPTIMIZERS, ModelSpec

CONV = {"type": "Conv2D", "filters": 32, "kernel_size": 3}
POOL = {"type": "MaxPooling2D", "pool_size": 2}
FLAT = {"type": "Flatten"}
GAP = {"type": "GlobalAveragePooling2D"}
BN = {"type": "BatchNormalization"}

# The keras.io "Simple MNIST convnet": its page prints 34,826 parameters.
KERAS_CONVNET = [
    CONV,
    POOL,
    {**CONV, "filters": 64},
    POOL,
    FLAT,
    {"type": "Dropout", "rate": 0.5},
]


def small_spec(units: int = 8, **changes: Any) -> ModelSpec:
    """One hidden Dense layer of `units` (relu), 3 epochs in batches of 32; `changes` are other
    ModelSpec fields (epochs, seed, learning_rate, layers...)."""
    defaults = {"layers": [{"type": "Dense", "units": units}], "epochs": 3, "batch_size": 32}
    return ModelSpec(**(defaults | changes))


def _try_add(layers: list[dict[str, Any]], layer: dict[str, Any], shape: tuple[int, ...]):
    """The shape after `layer`, appending it, or `shape` unchanged where it does not fit."""
    cleaned = clean_layer(layer, len(layers) + 1)
    try:
        out = output_shape(cleaned, shape, len(layers) + 1)
    except SpecError:
        return shape
    layers.append(layer)
    return out


def random_layers(rng: random.Random, convolutional: bool) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    shape: tuple[int, ...] = IMAGE_SHAPE if convolutional else (INPUT_SIZE,)
    if convolutional:
        for _ in range(rng.randint(1, 4)):
            conv = {
                "type": "Conv2D",
                "filters": rng.choice([1, 4, 8, 16, 32]),
                "kernel_size": rng.choice([1, 2, 3, 5, 7]),
            }
            if rng.random() < 0.3:
                conv["strides"] = rng.choice([1, 2, 3])
            if rng.random() < 0.3:
                conv["padding"] = rng.choice(["valid", "same"])
            if rng.random() < 0.5:
                conv["activation"] = rng.choice(ACTIVATIONS)
            shape = _try_add(layers, conv, shape)
            if rng.random() < 0.4:
                shape = _try_add(layers, {"type": "BatchNormalization"}, shape)
            if rng.random() < 0.6:
                pool: dict[str, Any] = {"type": "MaxPooling2D", "pool_size": rng.choice([2, 3])}
                if rng.random() < 0.3:
                    pool["strides"] = rng.choice([1, 2])
                shape = _try_add(layers, pool, shape)
            if rng.random() < 0.2:
                shape = _try_add(
                    layers, {"type": "Dropout", "rate": rng.choice([0.1, 0.25])}, shape
                )
        if not any(layer["type"] == "Conv2D" for layer in layers):
            shape = _try_add(layers, {"type": "MaxPooling2D"}, shape)  # still convolutional
        end = rng.choice(["Flatten", "GlobalAveragePooling2D"])
        shape = _try_add(layers, {"type": end}, shape)
    for _ in range(rng.randint(0, 3)):
        dense = {"type": "Dense", "units": rng.choice([1, 8, 32, 100, 512])}
        if rng.random() < 0.5:
            dense["activation"] = rng.choice(ACTIVATIONS)
        shape = _try_add(layers, dense, shape)
        if rng.random() < 0.3:
            shape = _try_add(layers, {"type": "BatchNormalization"}, shape)
        if rng.random() < 0.5:
            rate = rng.choice([0.0, 0.2, 0.5, 0.95])
            shape = _try_add(layers, {"type": "Dropout", "rate": rate}, shape)
    return layers


def random_spec(rng: random.Random) -> ModelSpec:
    """One valid spec with random layers (defaults sometimes left out) and training settings."""
    return ModelSpec(
        layers=random_layers(rng, convolutional=rng.random() < 0.5),
        optimizer=rng.choice(OPTIMIZERS),
        learning_rate=rng.choice([1e-4, 1e-3, 3e-3, 0.1]),
        lr_schedule=rng.choice(list(LR_SCHEDULES)),
        loss=rng.choice(list(LOSSES)),
        batch_size=rng.choice([16, 32, 128, 1024]),
        epochs=rng.randint(1, 30),
        early_stopping=rng.random() < 0.5,
        patience=rng.randint(0, 5),
        restore_best_weights=rng.random() < 0.5,
        validation_split=rng.choice([0.0, 0.1, 0.2]),
        seed=rng.randint(0, 2**31 - 1),
    )


def random_specs(count: int, seed: int = 0) -> Iterator[ModelSpec]:
    rng = random.Random(seed)
    for _ in range(count):
        yield random_spec(rng)
