"""Plotly figures for the XOR page: the decision boundary over the plane, and the curves.

Colours follow TensorFlow Playground: orange for class 0, blue for class 1, and the same two
colours (through a pale middle) for the network's output from 0 to 1.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.xor import Boundary, XorData

ORANGE = "#f59322"  # class 0
BLUE = "#0877bd"  # class 1
OUTPUT_COLOURS = [[0.0, ORANGE], [0.5, "#e8eaeb"], [1.0, BLUE]]
CLASS_COLOURS = {0: ORANGE, 1: BLUE}


def boundary_figure(boundary: Boundary | None, data: XorData, *, height: int = 460) -> go.Figure:
    """The output heatmap (0 to 1) with its 0.5 contour, and the data points on top.

    Training points are circles in their class's colour with a white rim; test points (the
    cloud's held-out part) are diamonds with a black rim. Without a boundary yet, only the points are drawn.
    """
    figure = go.Figure()
    if boundary is not None:
        figure.add_trace(
            go.Heatmap(
                x=boundary.axis,
                y=boundary.axis,
                z=boundary.z,
                zmin=0.0,
                zmax=1.0,
                colorscale=OUTPUT_COLOURS,
                colorbar={"title": {"text": "network<br>output"}, "tickvals": [0, 0.5, 1]},
                hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>output %{z:.3f}<extra></extra>",
                name="output",
            )
        )
        if np.nanmin(boundary.z) < 0.5 < np.nanmax(boundary.z):
            figure.add_trace(
                go.Contour(
                    x=boundary.axis,
                    y=boundary.axis,
                    z=boundary.z,
                    contours={"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"},
                    line={"color": "black", "width": 2},
                    colorscale=[[0, "black"], [1, "black"]],
                    showscale=False,
                    hoverinfo="skip",
                    name="output = 0.5",
                )
            )
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        for label in (0, 1):
            rows = y.reshape(-1) == label
            if not rows.any():
                continue
            test = part == "test"
            figure.add_trace(
                go.Scatter(
                    x=x[rows, 0],
                    y=x[rows, 1],
                    mode="markers",
                    name=f"class {label} ({part})" if data.has_test else f"class {label}",
                    marker={
                        "color": CLASS_COLOURS[label],
                        "size": (9 if test else 8) if data.has_test else 16,
                        "symbol": "diamond" if test else "circle",
                        "line": {"color": "black" if test else "white", "width": 1},
                    },
                    hovertemplate=f"({part}) class {label}<br>x1 %{{x:.2f}}, x2 %{{y:.2f}}"
                    "<extra></extra>",
                )
            )
    epoch = "" if boundary is None else f" after {boundary.epoch} epochs"
    figure.update_layout(
        title={"text": f"Network output over the input plane{epoch}"},
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "h", "y": -0.15},
        plot_bgcolor="white",
    )
    figure.update_xaxes(
        title_text="x1 (first input)", range=[data.low, data.high], constrain="domain"
    )
    figure.update_yaxes(
        title_text="x2 (second input)",
        range=[data.low, data.high],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    return figure


def curves_figure(history: dict[str, list[float]], *, height: int = 320) -> go.Figure:
    """Loss and binary accuracy per epoch, for training and (when there is one) the test part."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Binary accuracy"))
    panels = (("loss", "test_loss", 1), ("binary_accuracy", "test_binary_accuracy", 2))
    for train_name, test_name, column in panels:
        for name, label, colour in ((train_name, "training", BLUE), (test_name, "test", ORANGE)):
            values = history.get(name, [])
            if not values or all(math.isnan(v) for v in values):
                continue
            figure.add_trace(
                go.Scatter(
                    x=np.arange(1, len(values) + 1),
                    y=values,
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    showlegend=column == 1,
                    line={"color": colour},
                ),
                row=1,
                col=column,
            )
        figure.update_xaxes(title_text="epoch", row=1, col=column)
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="fraction right", range=[0, 1.05], row=1, col=2)
    figure.update_layout(height=height, margin={"l": 50, "r": 20, "t": 40, "b": 40})
    return figure
