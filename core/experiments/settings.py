"""The settings an experiment can vary, and how each one changes a spec (layer-list form).

`SETTINGS` maps a setting's name to its label, kind ("int", "float" or "choice"), allowed
range and an `apply(spec_dict, value)` that changes a spec dict in place: the number of hidden
layers rebuilds the trailing Dense/Dropout block from its first layer; units, activation and
dropout change every hidden layer; the training settings are plain fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.nets.model import ACTIVATIONS, LR_SCHEDULES, OPTIMIZERS


@dataclass(frozen=True)
class Setting:
    """A setting an experiment can vary: its label, its kind, and how it changes a spec."""

    label: str
    kind: str  # "int", "float" or "choice"
    apply: Callable[[dict, Any], None]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()


# ----- applying a value to a spec dict (layer-list form, contract B) ------------------------


def _is_head(layer: dict) -> bool:
    return layer["type"] in ("Dense", "Dropout")


def _split_head(layers: list[dict]) -> tuple[list[dict], list[dict]]:
    """(the feature layers, the trailing Dense/Dropout block the dense settings change)."""
    cut = len(layers)
    while cut and _is_head(layers[cut - 1]):
        cut -= 1
    return layers[:cut], layers[cut:]


def _template(head: list[dict]) -> tuple[int, str, float]:
    dense = [layer for layer in head if layer["type"] == "Dense"]
    drops = [layer for layer in head if layer["type"] == "Dropout"]
    units = int(dense[0]["units"]) if dense else 512
    activation = dense[0].get("activation", "relu") if dense else "relu"
    rate = float(drops[0]["rate"]) if drops else 0.0
    return units, activation, rate


def _dense_block(n: int, units: int, activation: str, rate: float) -> list[dict]:
    block: list[dict] = []
    for _ in range(n):
        block.append({"type": "Dense", "units": units, "activation": activation})
        if rate > 0:
            block.append({"type": "Dropout", "rate": rate})
    return block


def _set_hidden_layers(spec: dict, value: Any) -> None:
    body, head = _split_head(spec["layers"])
    spec["layers"] = body + _dense_block(int(value), *_template(head))


def _set_units(spec: dict, value: Any) -> None:
    for layer in _split_head(spec["layers"])[1]:
        if layer["type"] == "Dense":
            layer["units"] = int(value)


def _set_activation(spec: dict, value: Any) -> None:
    for layer in spec["layers"]:
        if layer["type"] in ("Dense", "Conv2D"):
            layer["activation"] = str(value)


def _set_dropout(spec: dict, value: Any) -> None:
    body, head = _split_head(spec["layers"])
    block: list[dict] = []
    for layer in [layer for layer in head if layer["type"] == "Dense"]:
        block.append(layer)
        if float(value) > 0:
            block.append({"type": "Dropout", "rate": float(value)})
    spec["layers"] = body + block


def _field(name: str, cast: Callable) -> Callable[[dict, Any], None]:
    def apply(spec: dict, value: Any) -> None:
        spec[name] = cast(value)

    return apply


# The order is the order of application: the number of layers first, then what fills them.
SETTINGS: dict[str, Setting] = {
    "hidden_layers": Setting("Hidden layers", "int", _set_hidden_layers, 0, 5),
    "units": Setting("Units per hidden layer", "int", _set_units, 8, 2048, log=True),
    "activation": Setting("Activation", "choice", _set_activation, choices=ACTIVATIONS),
    "dropout": Setting("Dropout", "float", _set_dropout, 0.0, 0.8),
    "optimizer": Setting("Optimizer", "choice", _field("optimizer", str), choices=OPTIMIZERS),
    "learning_rate": Setting(
        "Learning rate", "float", _field("learning_rate", float), 1e-5, 1.0, log=True
    ),
    "lr_schedule": Setting(
        "Learning-rate schedule",
        "choice",
        _field("lr_schedule", str),
        choices=tuple(LR_SCHEDULES),
    ),
    "batch_size": Setting("Batch size", "int", _field("batch_size", int), 8, 4096, log=True),
    "epochs": Setting("Epochs", "int", _field("epochs", int), 1, 100),
}
