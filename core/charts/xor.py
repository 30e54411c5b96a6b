"""Plotly figures for the playground's output: the network's answer over the plane with its
decision boundary and the data, and the loss and accuracy curves.

Colours follow TensorFlow Playground: orange for class 0, blue for class 1 (more classes take
the next colours of `CLASS_COLOURS`), through a pale middle where the network is unsure. The
figures are built from plain dicts without plotly's validation (`plain_figure`): the page
redraws them several times a second while training.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from core.charts.plane import (
    CLASS_COLOURS,
    DIVERGING,
    PLANE_BLUE,
    PLANE_ORANGE,
    output_rgb,
    plain_figure,
    png_uri,
)
from core.plane.data import PlaneData
from core.plane.model import Boundary

BLACK_LINE = {
    "type": "contour",
    "line": {"color": "black", "width": 2},
    "colorscale": [[0, "black"], [1, "black"]],
    "showscale": False,
    "hoverinfo": "skip",
}


def output_traces(boundary: Boundary, discrete: bool) -> tuple[list[dict], list[dict]]:
    """The output's heatmap (two classes) or picture (more), and its boundary lines.

    Two classes: a heatmap of the sigmoid from 0 to 1 (or its rounding, discretized) and the
    0.5 contour. More classes: each class's colour weighted by its probability as a picture,
    and for each class the line where it stops being the likeliest, so the boundary between
    every pair of neighbouring classes is drawn.
    """
    axis, z = boundary.axis, boundary.z
    if z.ndim == 2:
        return _sigmoid_traces(axis, z, discrete), []
    return _class_boundaries(axis, z), [_class_picture(axis, z, discrete)]


def _sigmoid_traces(axis: np.ndarray, z: np.ndarray, discrete: bool) -> list[dict]:
    """The sigmoid output as a heatmap from 0 to 1, and its 0.5 line where it crosses 0.5."""
    traces = [
        {
            "type": "heatmap",
            "x": axis,
            "y": axis,
            "z": (z >= 0.5).astype("float32") if discrete else z,
            "zmin": 0.0,
            "zmax": 1.0,
            "colorscale": DIVERGING,
            "colorbar": {"title": {"text": "network<br>output"}, "tickvals": [0, 0.5, 1]},
            "hovertemplate": "x1 %{x:.2f}, x2 %{y:.2f}<br>output %{z:.3f}<extra></extra>",
            "name": "output",
        }
    ]
    if np.nanmin(z) < 0.5 < np.nanmax(z):
        traces.append(
            {
                **BLACK_LINE,
                "x": axis,
                "y": axis,
                "z": z,
                "contours": {"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"},
                "name": "output = 0.5",
            }
        )
    return traces


def _class_picture(axis: np.ndarray, z: np.ndarray, discrete: bool) -> dict:
    """The softmax output as one picture under the plot: each point in its classes' colours."""
    low, high = float(axis[0]), float(axis[-1])
    step = (high - low) / (len(axis) - 1)
    return {
        "source": png_uri(output_rgb(z, discrete)),
        "xref": "x",
        "yref": "y",
        "x": low - step / 2,
        "y": high + step / 2,
        "sizex": high - low + step,
        "sizey": high - low + step,
        "sizing": "stretch",
        "layer": "below",
    }


def _class_boundaries(axis: np.ndarray, z: np.ndarray) -> list[dict]:
    """For each class that is the likeliest somewhere but not everywhere, the line where it
    stops being the likeliest."""
    traces = []
    for c in range(z.shape[2]):
        margin = z[:, :, c] - np.delete(z, c, axis=2).max(axis=2)
        if np.nanmin(margin) < 0 < np.nanmax(margin):
            traces.append(
                {
                    **BLACK_LINE,
                    "x": axis,
                    "y": axis,
                    "z": margin,
                    "contours": {"start": 0.0, "end": 0.0, "size": 1.0, "coloring": "lines"},
                    "name": f"class {c} boundary",
                }
            )
    return traces


def point_traces(data: PlaneData) -> list[dict]:
    """Training points as circles with a white rim, test points as diamonds with a black rim,
    in their class's colour."""
    traces = []
    parts = (("train", data.x_train, data.labels_train), ("test", data.x_test, data.labels_test))
    for part, x, classes in parts:
        test = part == "test"
        for label in range(data.n_classes):
            rows = classes == label
            if not rows.any():
                continue
            traces.append(
                {
                    "type": "scatter",
                    "x": x[rows, 0],
                    "y": x[rows, 1],
                    "mode": "markers",
                    "name": f"class {label} ({part})" if data.has_test else f"class {label}",
                    "marker": {
                        "color": CLASS_COLOURS[label],
                        "size": (8 if test else 7) if data.has_test else 16,
                        "symbol": "diamond" if test else "circle",
                        "line": {"color": "black" if test else "white", "width": 1},
                    },
                    "hovertemplate": f"({part}) class {label}<br>x1 %{{x:.2f}}, x2 %{{y:.2f}}"
                    "<extra></extra>",
                }
            )
    return traces


def boundary_figure(
    boundary: Boundary | None, data: PlaneData, *, discrete: bool = False, height: int = 460
) -> go.Figure:
    """The output over the plane with its boundary, and the data points on top.
    Without a boundary yet, only the points are drawn."""
    traces, images = output_traces(boundary, discrete) if boundary is not None else ([], [])
    points = point_traces(data)
    legend_rows = -(-len(points) // 4)  # about four entries fit a row
    epoch = "" if boundary is None else f" after {boundary.epoch} epochs"
    layout = {
        "title": {"text": f"Network output over the input plane{epoch}"},
        "images": images,
        "height": height + 22 * max(0, legend_rows - 1),
        "margin": {"l": 50, "r": 20, "t": 50, "b": 70 + 22 * legend_rows},
        "legend": {"orientation": "h", "y": -0.2, "yanchor": "top"},
        "plot_bgcolor": "white",
        "xaxis": {
            "title": {"text": "x1 (first input)"},
            "range": [data.low, data.high],
            "constrain": "domain",
        },
        "yaxis": {
            "title": {"text": "x2 (second input)"},
            "range": [data.low, data.high],
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    }
    return plain_figure([*traces, *points], layout)


def plane_curves_figure(history: dict[str, list[float]], *, height: int = 300) -> go.Figure:
    """Loss and accuracy per epoch side by side, for training and (when there is one) the
    test part."""
    traces = []
    panels = (("loss", "test_loss", ""), ("accuracy", "test_accuracy", "2"))
    for train_name, test_name, axis in panels:
        for name, label, colour in (
            (train_name, "training", PLANE_BLUE),
            (test_name, "test", PLANE_ORANGE),
        ):
            values = history.get(name, [])
            if not values or all(math.isnan(v) for v in values):
                continue
            traces.append(
                {
                    "type": "scatter",
                    "x": np.arange(1, len(values) + 1),
                    "y": np.asarray(values, dtype="float64"),
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "mode": "lines",
                    "name": label,
                    "legendgroup": label,
                    "showlegend": axis == "",
                    "line": {"color": colour},
                }
            )
    title = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False}
    layout = {
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "xaxis": {"domain": [0.0, 0.45], "anchor": "y", "title": {"text": "epoch"}},
        "yaxis": {"anchor": "x", "title": {"text": "loss"}, "rangemode": "tozero"},
        "xaxis2": {"domain": [0.55, 1.0], "anchor": "y2", "title": {"text": "epoch"}},
        "yaxis2": {"anchor": "x2", "title": {"text": "fraction right"}, "range": [0, 1.05]},
        "annotations": [
            {**title, "x": 0.225, "text": "Loss", "xanchor": "center"},
            {**title, "x": 0.775, "text": "Accuracy", "xanchor": "center"},
        ],
    }
    return plain_figure(traces, layout)
