"""What the inside views read about one image: the layers shown and their outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A unit is "strong" in the dense grid when it is among this many of the layer's largest.
STRONGEST = 5


@dataclass(frozen=True)
class LayerInfo:
    """One layer shown in the activation views."""

    position: int  # index in the inspector's chain
    name: str
    kind: str  # Keras class name: "Dense", "Conv2D", ...
    shape: tuple[int, ...]  # output shape of one image: (units,) or (height, width, channels)
    activation: str | None  # "relu", ... for layers that have one

    @property
    def is_map(self) -> bool:
        """Whether the layer gives feature maps (height, width, channels)."""
        return len(self.shape) == 3

    @property
    def units(self) -> int:
        """Units of a dense layer, or feature maps (channels) of a convolutional one."""
        return int(self.shape[-1])

    @property
    def label(self) -> str:
        size = " x ".join(str(n) for n in self.shape)
        activation = f", {self.activation}" if self.activation else ""
        return f"{self.name} ({self.kind}{activation}, {size})"


@dataclass(frozen=True, eq=False)
class Activations:
    """One image's probabilities (10,) and each shown layer's output, in `layers` order."""

    probabilities: np.ndarray
    layers: list[LayerInfo]
    outputs: list[np.ndarray]  # (units,) or (height, width, channels), float32

    def strongest(self, layer_index: int, count: int = STRONGEST) -> np.ndarray:
        """The `count` units (or maps, by their largest value) firing most, strongest first."""
        return strongest_units(self.outputs[layer_index], count)


def strongest_units(output: np.ndarray, count: int = STRONGEST) -> np.ndarray:
    """Indices of the `count` largest units (maps: by their largest value), largest first."""
    values = output.reshape(-1, output.shape[-1]).max(axis=0) if output.ndim == 3 else output
    count = min(count, len(values))
    top = np.argpartition(-values, count - 1)[:count]
    return top[np.argsort(-values[top], kind="stable")]
