"""From a canvas image to what the network says: the Draw page's whole computation.

`recognise` prepares the drawing the MNIST way (`canvas_to_mnist`) and runs the model on it
once; the page only shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mnist.data import to_model_inputs
from core.mnist.preprocess import canvas_to_mnist

# Below this probability for the top digit the page says the network is unsure.
LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Recognition:
    image: np.ndarray  # (28, 28) float32 in [0, 1]: exactly what the network received
    probabilities: np.ndarray  # (10,) float32, summing to 1

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def unsure(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])


def probabilities_for(model, image28: np.ndarray) -> np.ndarray:
    """The model's ten probabilities for one (28, 28) image in [0, 1].

    Calls the model directly: for one image this avoids the data pipeline that `predict` sets
    up on every call (see bench/draw.py).
    """
    x = to_model_inputs(np.asarray(image28, dtype=np.float32)[None])
    return np.asarray(model(x, training=False))[0]


def recognise(model, canvas_rgba: np.ndarray) -> Recognition | None:
    """What `model` reads in the drawing, or None when the canvas holds no digit yet."""
    image = canvas_to_mnist(canvas_rgba)
    if image is None:
        return None
    return Recognition(image=image, probabilities=probabilities_for(model, image))
