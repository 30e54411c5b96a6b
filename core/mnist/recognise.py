"""From a canvas image to what the network says: the Draw page's whole computation.

`recognise` prepares the drawing the MNIST way (`paths_to_mnist`: from the canvas's paths, or
from its image by `canvas_to_mnist` where there are none) and runs the model on it once; the
page only shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mnist.data import to_model_inputs
from core.mnist.strokes import paths_to_mnist

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

    Uses `predict_on_batch`: Keras's compiled predict function, without the data pipeline that
    `predict` sets up on every call. Its first call compiles it (see `get_ready`); calling the
    model eagerly instead goes through every layer in Python on every drawing.
    """
    x = to_model_inputs(np.asarray(image28, dtype=np.float32)[None])
    return np.asarray(model.predict_on_batch(x))[0]


def get_ready(model) -> None:
    """Compile `model`'s predict function now, if it has not been, so that the first drawing
    is answered as quickly as the next ones (the page calls it while nothing is drawn yet)."""
    if getattr(model, "predict_function", True) is None:  # a Keras model not yet used
        probabilities_for(model, np.zeros((28, 28), np.float32))


def recognise(model, canvas_rgba: np.ndarray, paths=None) -> Recognition | None:
    """What `model` reads in the drawing, or None when the canvas holds no digit yet.

    `paths` is the canvas's `json_data` (its strokes as paths), if there is one: the strokes
    are then redrawn from their paths, else prepared from the image (`paths_to_mnist`).
    """
    image = paths_to_mnist(canvas_rgba, paths)
    if image is None:
        return None
    return Recognition(image=image, probabilities=probabilities_for(model, image))
