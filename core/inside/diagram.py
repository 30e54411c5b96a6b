"""The network as a picture: input, one column per layer, output.

`spec_diagram(spec)` draws a network from its spec's layer list (`core.nets.layers` dicts, their
shapes from `core.nets.layers.trace`) without TensorFlow, fast enough to redraw as the Train page's sliders move: a dense
layer is a column of units (at most `MAX_NODES` drawn, the true count written under it), a
convolutional or pooling layer a stack of feature maps with its shape, dropout and batch
normalisation a note on the layer they follow.

`weights_diagram(model)` draws a trained Keras model the same way, with its weights: each
column shows the units with the largest incoming weights, and between two columns the
`MAX_EDGES` strongest weights joining shown units, blue for positive and red for negative,
thicker for larger; each feature map of a convolutional layer is coloured by the mean of its
filter's weights. `Diagram.note` says how the picture was reduced.

Both build a list of `Column`s; `core.charts.diagram.diagram_figure` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.inside.activations import layer_chain, model_input_shape
from core.nets.layers import trace
from core.nets.model import IMAGE_SIDE, INPUT_SIZE, NUM_CLASSES

MAX_NODES = 10  # units drawn per column
MAX_MAPS = 6  # feature maps drawn per stack
MAX_EDGES = 40  # strongest weights drawn between two columns of a trained model
MAX_COLUMNS = 12  # a spec diagram with more columns draws pooling as notes
MODIFIERS = ("Dropout", "BatchNormalization", "SpatialDropout2D")


@dataclass
class Column:
    """One column of the diagram: a layer of units ("nodes") or of feature maps ("maps")."""

    kind: str  # "nodes" or "maps"
    title: str  # "Dense", "Conv2D 3x3", "Input"
    shape: tuple[int, ...]  # (units,) or (height, width, channels)
    notes: list[str] = field(default_factory=list)  # "relu", "dropout 0.3", ...
    shown: list[int] = field(default_factory=list)  # which units / maps are drawn
    colours: list[float] | None = None  # per shown item, in [-1, 1] (weights diagram)
    hover: list[str] | None = None  # per shown item
    labels: list[str] | None = None  # per shown item, written beside it (the output digits)

    @property
    def count(self) -> int:
        return int(self.shape[-1])

    @property
    def size_text(self) -> str:
        if self.kind == "maps":
            return " x ".join(str(n) for n in self.shape)
        return f"{self.count:,} units"


@dataclass
class Diagram:
    columns: list[Column]
    # Edges between columns i and i + 1: (column, from item, to item, weight in [-1, 1]);
    # None means "every shown unit to every shown unit" in a neutral colour.
    edges: list[tuple[int, int, int, float]] | None
    note: str


def sample_units(count: int, limit: int = MAX_NODES) -> list[int]:
    """Up to `limit` units of `count`: all of them, or the first and last few."""
    if count <= limit:
        return list(range(count))
    head = (limit + 1) // 2
    return list(range(head)) + list(range(count - (limit - head), count))


def _pair(value: Any) -> int:
    return int(value[0]) if isinstance(value, (list, tuple)) else int(value)


def column_title(kind: str, config: dict) -> str:
    """A layer's name in the diagram: "Conv 3x3", "Max pool 2x2", "Dense", ..."""
    if kind == "Conv2D":
        kernel = _pair(config.get("kernel_size", 3))
        return f"Conv {kernel}x{kernel}"
    if kind == "MaxPooling2D":
        pool = _pair(config.get("pool_size", 2))
        return f"Max pool {pool}x{pool}"
    if kind == "GlobalAveragePooling2D":
        return "Global avg pool"
    return kind


def _input_column(convolutional: bool) -> Column:
    if convolutional:
        return Column("maps", "Input", (IMAGE_SIDE, IMAGE_SIDE, 1), ["your digit"], [0])
    return Column("nodes", "Input", (INPUT_SIZE,), ["pixels"], sample_units(INPUT_SIZE))


def _output_column() -> Column:
    return Column(
        "nodes",
        "Output",
        (NUM_CLASSES,),
        ["softmax"],
        list(range(NUM_CLASSES)),
        labels=[str(d) for d in range(NUM_CLASSES)],
    )


def _modifier_note(kind: str, rate: Any = None) -> str:
    if kind == "BatchNormalization":
        return "batch norm"
    return f"dropout {float(rate):g}" if rate is not None else "dropout"


def spec_diagram(spec: Any) -> Diagram:
    """The diagram of a `ModelSpec` from its layer list; no weights, every drawn edge in grey."""
    shapes = [shape for shape, _ in trace(spec.layers, spec.input_shape)]
    columns = [_input_column(spec.is_convolutional)]
    for layer, shape in zip(spec.layers, shapes, strict=True):
        kind = layer["type"]
        if kind in MODIFIERS:
            columns[-1].notes.append(_modifier_note(kind, layer.get("rate")))
            continue
        notes = [layer["activation"]] if layer.get("activation") not in (None, "linear") else []
        stride = _pair(layer.get("strides", 1)) if kind == "Conv2D" else 1
        if stride > 1:
            notes.append(f"stride {stride}")
        title = column_title(kind, layer)
        is_map = len(shape) == 3
        shown = list(range(min(shape[-1], MAX_MAPS))) if is_map else sample_units(shape[-1])
        columns.append(Column("maps" if is_map else "nodes", title, shape, notes, shown))
    columns.append(_output_column())
    note = (
        f"Each column is a layer; at most {MAX_NODES} units (or {MAX_MAPS} feature maps) are drawn, "
        "the true count is written under it."
    )
    if len(columns) > MAX_COLUMNS:
        columns = _merge_pooling(columns)
        note += " Each pooling layer is written under the convolution before it."
    return Diagram(columns, None, note)


def _merge_pooling(columns: list[Column]) -> list[Column]:
    """A pooling layer as a note on the convolution before it, with the shape it gives."""
    merged: list[Column] = []
    for column in columns:
        previous = merged[-1] if merged else None
        pooling = column.title.startswith("Max pool")
        if pooling and previous is not None and previous.title.startswith("Conv"):
            previous.notes.append(f"pool → {column.shape[0]}x{column.shape[1]}")
            continue
        merged.append(column)
    return merged


def _scaled(values: np.ndarray) -> list[float]:
    """Values divided by the largest absolute one, so colours span [-1, 1]."""
    largest = float(np.abs(values).max()) if values.size else 0.0
    return (values / largest).tolist() if largest > 0 else [0.0] * len(values)


def weights_diagram(model: Any) -> Diagram:
    """The diagram of a trained Keras model, coloured by its weights (see the module notes)."""
    import keras  # Keras: not at start-up

    chain = layer_chain(model)
    shape = model_input_shape(model)
    convolutional = any(isinstance(layer, keras.layers.Conv2D) for layer in chain)
    columns = [_input_column(convolutional)]
    edges: list[tuple[int, int, int, float]] = []
    for position, layer in enumerate(chain):
        kind = layer.__class__.__name__
        shape = tuple(int(n) for n in layer.compute_output_shape((None, *shape))[1:])
        last = position == len(chain) - 1
        if kind in MODIFIERS:
            columns[-1].notes.append(_modifier_note(kind, getattr(layer, "rate", None)))
            continue
        if kind in ("Reshape", "Softmax", "Activation") and not last:
            continue
        kernel = getattr(layer, "kernel", None)
        kernel = None if kernel is None else np.asarray(keras.ops.convert_to_numpy(kernel))
        if last and shape == (NUM_CLASSES,):
            column = _output_column()
        elif len(shape) == 3:
            title = column_title(kind, layer.get_config())
            column = Column("maps", title, shape, [], list(range(min(shape[-1], MAX_MAPS))))
        elif len(shape) == 1:
            title = column_title(kind, layer.get_config())
            column = Column("nodes", title, shape, [], sample_units(shape[-1]))
        else:
            continue
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None)
        if name and name != "linear" and not column.notes:
            column.notes.append(name)
        if kernel is not None and column.kind == "maps" and kernel.ndim == 4:
            _colour_filters(column, kernel)
        elif kernel is not None and kernel.ndim == 2:
            _strongest_units(column, kernel, keep_all=column.labels is not None)
            edges.extend(_edges(len(columns) - 1, columns[-1], column, kernel))
        columns.append(column)
    if columns[-1].labels is None:
        columns.append(_output_column())
    note = (
        f"Each column shows at most {MAX_NODES} units, those with the largest incoming weights "
        f"(the true count is written under it). Lines are the {MAX_EDGES} strongest weights "
        "between shown units of two layers: blue positive, red negative, thicker = larger. "
        "A convolutional layer's maps are coloured by the mean weight of their filter."
    )
    return Diagram(columns, edges, note)


def _colour_filters(column: Column, kernel: np.ndarray) -> None:
    """Show the filters with the largest weights, coloured by their mean weight."""
    norms = np.sqrt((kernel**2).reshape(-1, kernel.shape[-1]).sum(axis=0))
    shown = np.argsort(-norms, kind="stable")[:MAX_MAPS]
    column.shown = sorted(int(i) for i in shown)
    means = kernel.reshape(-1, kernel.shape[-1]).mean(axis=0)
    column.colours = _scaled(means[column.shown])
    column.hover = [
        f"filter {i + 1}: mean weight {means[i]:+.3f}, size (norm) {norms[i]:.2f}"
        for i in column.shown
    ]


def _strongest_units(column: Column, kernel: np.ndarray, keep_all: bool) -> None:
    """Show the units whose incoming weights are largest (all of them for the output)."""
    norms = np.sqrt((kernel**2).sum(axis=0))
    if not keep_all:
        column.shown = sorted(int(i) for i in np.argsort(-norms, kind="stable")[:MAX_NODES])
    column.hover = [
        f"unit {i + 1}: incoming weights' size (norm) {norms[i]:.2f}" for i in column.shown
    ]


def _edges(left_index: int, left: Column, right: Column, kernel: np.ndarray) -> list:
    """The `MAX_EDGES` largest weights between the shown units of two node columns."""
    if left.kind != "nodes" or kernel.shape[0] != left.count:
        return []
    if left.title == "Input" or left.hover is None:
        # Inputs and flattened maps are not chosen by a previous layer: take those sending the
        # largest weights into the shown units.
        outgoing = np.sqrt((kernel[:, right.shown] ** 2).sum(axis=1))
        left.shown = sorted(int(i) for i in np.argsort(-outgoing, kind="stable")[:MAX_NODES])
        left.hover = [
            f"input {i + 1}: outgoing weights' size {outgoing[i]:.2f}" for i in left.shown
        ]
    block = kernel[np.ix_(left.shown, right.shown)]
    flat = np.argsort(-np.abs(block), axis=None, kind="stable")[:MAX_EDGES]
    largest = float(np.abs(block).max()) or 1.0
    rows, cols = np.unravel_index(flat, block.shape)
    return [
        (left_index, int(r), int(c), float(block[r, c]) / largest)
        for r, c in zip(rows, cols, strict=True)
    ]
