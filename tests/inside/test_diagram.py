"""The network diagram: columns and shapes from a spec (checked against Keras's own model), and
a trained model's strongest weights against a brute-force search."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from core.charts.diagram import diagram_figure
from core.inside.diagram import (
    MAX_EDGES,
    MAX_MAPS,
    MAX_NODES,
    sample_units,
    spec_diagram,
    weights_diagram,
)
from core.nets.model import ModelSpec, build_model
from core.nets.presets import DEFAULT_PRESET, PRESETS

CONV_LAYERS = [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {
        "type": "Conv2D",
        "filters": 64,
        "kernel_size": 3,
        "strides": 2,
        "padding": "same",
        "activation": "relu",
    },
    {"type": "BatchNormalization"},
    {"type": "Flatten"},
    {"type": "Dropout", "rate": 0.5},
    {"type": "Dense", "units": 100, "activation": "tanh"},
]


def _annotation_texts(figure) -> str:
    """Every text the figure writes (titles, sizes, notes: text traces)."""
    return " | ".join(" | ".join(t.text) for t in figure.data if t.mode == "text")


def test_sample_units_keeps_all_or_both_ends():
    assert sample_units(7) == list(range(7))
    shown = sample_units(512)
    assert len(shown) == MAX_NODES and shown[0] == 0 and shown[-1] == 511
    assert shown == sorted(set(shown))


def test_dense_preset_diagram():
    spec = PRESETS[DEFAULT_PRESET].spec
    diagram = spec_diagram(spec)
    titles = [column.title for column in diagram.columns]
    assert titles == ["Input", "Dense", "Dense", "Output"]
    dense = [layer for layer in spec.layers if layer["type"] == "Dense"]
    assert [c.count for c in diagram.columns] == [784, *[d["units"] for d in dense], 10]
    assert diagram.columns[1].notes == ["relu", f"dropout {spec.layers[1]['rate']:g}"]
    assert all(len(c.shown) <= MAX_NODES for c in diagram.columns)
    figure = diagram_figure(diagram)
    assert "512 units" in _annotation_texts(figure) and "784 units" in _annotation_texts(figure)


def test_conv_shapes_match_the_keras_model():
    spec = ModelSpec(layers=CONV_LAYERS)
    diagram = spec_diagram(spec)
    model = build_model(spec)
    # Keras's own output shapes, for the layers that get a column (not dropout or batch norm).
    keras_shapes = [
        tuple(layer.output.shape[1:])
        for layer in model.layers
        if layer.__class__.__name__ not in ("InputLayer", "Dropout", "BatchNormalization")
    ]
    assert [c.shape for c in diagram.columns[1:]] == keras_shapes
    conv = diagram.columns[1]
    assert conv.kind == "maps" and conv.title == "Conv 3x3" and len(conv.shown) == MAX_MAPS
    assert diagram.columns[3].notes == ["relu", "stride 2", "batch norm"]
    assert "dropout 0.5" in diagram.columns[4].notes
    assert "26 x 26 x 32" in _annotation_texts(diagram_figure(diagram))


def test_a_crowded_diagram_writes_pooling_under_its_convolution():
    conv = []
    for filters in (8, 8, 16, 16):
        conv += [
            {"type": "Conv2D", "filters": filters, "padding": "same"},
            {"type": "MaxPooling2D"},
        ]
    dense = [{"type": "Dense", "units": 64}] * 5
    diagram = spec_diagram(ModelSpec(layers=[*conv, {"type": "Flatten"}, *dense]))
    titles = [c.title for c in diagram.columns]
    assert titles.count("Conv 3x3") == 4 and "Max pool 2x2" not in titles
    assert diagram.columns[1].notes == ["relu", "pool → 14x14"]
    assert diagram.columns[4].notes == ["relu", "pool → 1x1"]


def test_no_hidden_layer_is_input_to_output():
    diagram = spec_diagram(ModelSpec(layers=[]))
    assert [c.title for c in diagram.columns] == ["Input", "Output"]
    figure = diagram_figure(diagram)
    edges = figure.data[0]
    # Every drawn input unit joins every output unit: 10 x 10 segments of 3 points each.
    assert len(edges.x) == MAX_NODES * 10 * 3


def test_trained_weights_diagram_shows_the_strongest_weights():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(40, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(30, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    diagram = weights_diagram(model)
    assert [c.count for c in diagram.columns] == [784, 40, 30, 10]
    assert diagram.columns[1].notes == ["relu", "dropout 0.2"]
    kernels = [np.asarray(layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]
    # The shown hidden units are those with the largest incoming weights.
    for column, kernel in zip(diagram.columns[1:3], kernels, strict=False):
        norms = np.linalg.norm(kernel, axis=0)
        assert sorted(column.shown) == sorted(np.argsort(-norms)[:MAX_NODES].tolist())
    # Between the two hidden layers: the strongest weights among the shown units, sign kept.
    left, right = diagram.columns[1], diagram.columns[2]
    block = kernels[1][np.ix_(left.shown, right.shown)]
    edges = [e for e in diagram.edges if e[0] == 1]
    assert len(edges) == MAX_EDGES
    threshold = np.sort(np.abs(block), axis=None)[-MAX_EDGES]
    for _, a, b, weight in edges:
        assert abs(block[a, b]) >= threshold
        assert np.sign(weight) == np.sign(block[a, b])
    assert max(abs(e[3]) for e in edges) == 1.0
    figure = diagram_figure(diagram)
    colours = {trace.line.color for trace in figure.data if trace.mode == "lines"}
    assert len(colours) == 2  # blue and red edges


def test_trained_conv_diagram_colours_filters_by_their_mean_weight():
    keras.utils.set_random_seed(1)
    inner = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model = keras.Sequential([keras.Input((784,)), layers.Reshape((28, 28, 1)), inner])
    diagram = weights_diagram(model)
    assert [c.title for c in diagram.columns] == [
        "Input",
        "Conv 3x3",
        "Max pool 2x2",
        "Flatten",
        "Output",
    ]
    conv = diagram.columns[1]
    kernel = np.asarray(inner.layers[0].kernel)
    means = kernel.reshape(-1, 8).mean(axis=0)[conv.shown]
    np.testing.assert_allclose(conv.colours, means / np.abs(means).max(), rtol=1e-5)
    assert diagram.columns[3].count == 13 * 13 * 8
    assert all(e[0] == 3 for e in diagram.edges)  # only the flattened maps -> output weights
