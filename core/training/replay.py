"""Replay: what a run looked like at the end of each epoch, recorded while it trains.

A `ReplayFrame` is one epoch's picture, kept small: the first layer's weight templates (the
units Evaluate's weights tab draws, `TEMPLATES` of them) or a convnet's first filters, as
float16; the network diagram as `core.inside.diagram.weights_diagram` drew it then (only the
units and weights it shows); and the confusion matrix on a fixed set of held-out test digits
(`held_out_digits`: up to `DIGITS_PER_CLASS` of each digit, never trained on). Frame 0 is the
starting weights.

`core.training.replay_callback.ReplayRecorder` makes them as a run trains (this module does
not import Keras: the pages read frames without it). `diagram_to_dict` and `diagram_from_dict` turn a diagram into plain values
and back, for storing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.inside.diagram import Column, Diagram, weights_diagram
from core.inside.evaluation import confusion_matrix, first_conv_filters, first_layer_weight_images
from core.mnist.data import MNIST, to_model_inputs
from core.nets.model import INPUT_SIZE, NUM_CLASSES

TEMPLATES = 36  # first-layer units or filters kept per frame: those Evaluate draws
DIGITS_PER_CLASS = 30  # held-out test digits of each class the matrix is counted on


@dataclass(frozen=True)
class ReplayFrame:
    """One epoch of a run (0: the starting weights).

    `templates` is (k, h, w) float16: the first Dense layer's weights on the 28 x 28 pixels,
    one image per unit (`kind` "units"), or the first convolution's filters (`kind`
    "filters"); None for a network that has neither. `confusion` counts the `digits`
    held-out test digits: rows the true digit, columns the predicted one.
    """

    epoch: int
    kind: str
    templates: np.ndarray | None
    diagram: Diagram
    confusion: np.ndarray
    digits: int

    @property
    def accuracy(self) -> float:
        """The share of the held-out digits the network read right at this epoch."""
        return float(np.trace(self.confusion)) / self.digits if self.digits else math.nan


def held_out_digits(
    data: MNIST, per_class: int = DIGITS_PER_CLASS
) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` test digits of each class, in test-set order: the same digits
    for every run of the same data, so frames of two runs count the same images."""
    labels = np.asarray(data.y_test)
    rows = np.sort(
        np.concatenate(
            [np.flatnonzero(labels == digit)[:per_class] for digit in range(NUM_CLASSES)]
        )
    )
    return np.asarray(data.x_test)[rows], labels[rows]


def first_layer_templates(model: Any, limit: int = TEMPLATES) -> tuple[str, np.ndarray | None]:
    """("filters", (k, s, s)) for a convnet's first filters, ("units", (k, 28, 28)) for a
    dense network's first-layer units, or ("", None): the first `limit`, as float16."""
    filters = first_conv_filters(model, limit=limit)
    if filters is not None:
        return "filters", filters.astype(np.float16)
    try:
        return "units", first_layer_weight_images(model, limit=limit).astype(np.float16)
    except ValueError:  # no Dense layer reads the 784 pixels
        return "", None


def _input_shape(model: Any) -> tuple[int, ...]:
    shape = tuple(int(n) for n in model.inputs[0].shape[1:])
    return shape if math.prod(shape) == INPUT_SIZE else (INPUT_SIZE,)


def frame_of(model: Any, epoch: int, images: np.ndarray, labels: np.ndarray) -> ReplayFrame:
    """The frame of `model` as it is now, called `epoch`; `images` (uint8) and `labels` are
    the held-out digits its confusion matrix counts (`held_out_digits`)."""
    kind, templates = first_layer_templates(model)
    if len(labels):
        x = to_model_inputs(images, _input_shape(model))
        # Called directly: no predict function to trace for a few hundred digits.
        predicted = np.asarray(model(x, training=False)).argmax(axis=1)
    else:
        predicted = np.empty(0, np.int64)
    return ReplayFrame(
        epoch=epoch,
        kind=kind,
        templates=templates,
        diagram=weights_diagram(model),
        confusion=confusion_matrix(labels, predicted),
        digits=len(labels),
    )


def diagram_to_dict(diagram: Diagram) -> dict:
    """The diagram as plain values (JSON); colours rounded to three places."""
    columns = []
    for column in diagram.columns:
        values = asdict(column)
        if column.colours is not None:
            values["colours"] = [round(c, 3) for c in column.colours]
        columns.append(values)
    edges = None
    if diagram.edges is not None:
        edges = [[c, a, b, round(w, 3)] for c, a, b, w in diagram.edges]
    return {"columns": columns, "edges": edges, "note": diagram.note}


def diagram_from_dict(values: dict) -> Diagram:
    """The diagram `diagram_to_dict` gave."""
    columns = [Column(**{**c, "shape": tuple(c["shape"])}) for c in values["columns"]]
    edges = values["edges"]
    if edges is not None:
        edges = [(int(c), int(a), int(b), float(w)) for c, a, b, w in edges]
    return Diagram(columns, edges, values["note"])
