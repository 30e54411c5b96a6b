"""The network diagram as a plotly figure: columns of units and stacks of feature maps.

`diagram_figure` draws a `core.diagram.Diagram`: every unit in one scatter trace, every map
in another, edges in one trace (a spec's diagram) or one per sign and thickness (a trained
model's), so even the largest network the builder allows draws in a few milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.diagram import Diagram

BLUE = "rgb(33,102,172)"
RED = "rgb(178,24,43)"

NODE_PITCH = 1.0
MAP_STEP = (0.07, -0.55)  # each map of a stack drawn this much right and down of the last
TOP, BOTTOM = 6.2, -6.6


def _item_positions(column, x: float) -> tuple[list[float], list[float]]:
    """Where a column's shown items sit; a sampled column leaves a gap in the middle."""
    n = len(column.shown)
    if column.kind == "maps":
        start_y = -MAP_STEP[1] * (n - 1) / 2
        return (
            [x + MAP_STEP[0] * i for i in range(n)],
            [start_y + MAP_STEP[1] * i for i in range(n)],
        )
    slots = list(range(n))
    sampled = column.count > n
    if sampled:
        slots = [i + (i >= (n + 1) // 2) for i in slots]  # one empty slot for the dots
    total = n + sampled
    return [x] * n, [((total - 1) / 2 - slot) * NODE_PITCH for slot in slots]


def _colour(value: float) -> str:
    """A colour for a value in [-1, 1]: red negative, grey zero, blue positive."""
    value = max(-1.0, min(1.0, value))
    grey, end = np.array([225, 225, 225]), np.array([33, 102, 172] if value >= 0 else [178, 24, 43])
    r, g, b = (grey + (end - grey) * abs(value)).astype(int)
    return f"rgb({r},{g},{b})"


def diagram_figure(diagram: Diagram, height: int = 380) -> go.Figure:
    """Input, one column per layer, output; edges as the `Diagram` says."""
    columns = diagram.columns
    positions = [_item_positions(column, float(i)) for i, column in enumerate(columns)]
    traces: list[Any] = []
    # Edges first, under the units.
    if diagram.edges is None:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i in range(len(columns) - 1):
            (lx, ly), (rx, ry) = positions[i], positions[i + 1]
            both_nodes = columns[i].kind == columns[i + 1].kind == "nodes"
            left = range(len(lx)) if both_nodes else [0, len(lx) - 1]
            right = range(len(rx)) if both_nodes else [0, len(rx) - 1]
            for a in left:
                for b in right:
                    xs += [lx[a], rx[b], None]
                    ys += [ly[a], ry[b], None]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": "rgba(140,150,170,0.35)", "width": 0.7},
                hoverinfo="skip",
            )
        )
    else:
        groups: dict[tuple[bool, int], tuple[list, list]] = {}
        for column, a, b, weight in diagram.edges:
            (lx, ly), (rx, ry) = positions[column], positions[column + 1]
            key = (weight >= 0, min(3, int(abs(weight) * 4)))
            xs_, ys_ = groups.setdefault(key, ([], []))
            xs_ += [lx[a], rx[b], None]
            ys_ += [ly[a], ry[b], None]
        for (positive, size), (xs_, ys_) in sorted(groups.items()):
            traces.append(
                go.Scatter(
                    x=xs_,
                    y=ys_,
                    mode="lines",
                    hoverinfo="skip",
                    line={"color": BLUE if positive else RED, "width": 0.4 + 0.8 * size},
                    opacity=0.25 + 0.2 * size,
                )
            )
    # Units and maps, one trace each.
    node_x, node_y, node_colour, node_text = [], [], [], []
    map_x, map_y, map_size, map_colour, map_text = [], [], [], [], []
    annotations = []
    for i, (column, (xs_, ys_)) in enumerate(zip(columns, positions, strict=True)):
        colours = [_colour(c) for c in column.colours] if column.colours else None
        for j, unit in enumerate(column.shown):
            text = column.hover[j] if column.hover else f"{column.title}: unit {unit + 1}"
            if column.kind == "maps":
                map_x.append(xs_[j])
                map_y.append(ys_[j])
                map_size.append(min(46, 12 + 1.2 * column.shape[0]))
                map_colour.append(colours[j] if colours else "rgb(222,235,247)")
                map_text.append(text if column.hover else f"{column.title}: map {unit + 1}")
            else:
                node_x.append(xs_[j])
                node_y.append(ys_[j])
                node_colour.append(colours[j] if colours else "rgb(222,235,247)")
                node_text.append(text)
        if column.kind == "nodes" and column.count > len(column.shown):
            annotations.append(
                {
                    "x": i,
                    "y": (ys_[(len(ys_) - 1) // 2] + ys_[(len(ys_) + 1) // 2]) / 2,
                    "text": "⋮",
                    "showarrow": False,
                    "font": {"size": 16},
                }
            )
        if column.labels:
            for y, label in zip(ys_, column.labels, strict=True):
                annotations.append(
                    {"x": i + 0.18, "y": y, "text": label, "showarrow": False, "font": {"size": 11}}
                )
        annotations.append(
            {
                "x": i,
                "y": TOP,
                "text": f"<b>{column.title}</b>",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
        below = [column.size_text, *column.notes]
        annotations.append(
            {
                "x": i,
                "y": BOTTOM,
                "text": "<br>".join(below),
                "showarrow": False,
                "yanchor": "top",
                "font": {"size": 11},
            }
        )
    traces.append(
        go.Scatter(
            x=node_x,
            y=node_y,
            mode="markers",
            marker={
                "size": 13,
                "color": node_colour,
                "line": {"color": "rgb(80,90,110)", "width": 1},
            },
            hovertext=node_text,
            hoverinfo="text",
        )
    )
    if map_x:
        traces.append(
            go.Scatter(
                x=map_x,
                y=map_y,
                mode="markers",
                marker={
                    "symbol": "square",
                    "size": map_size,
                    "color": map_colour,
                    "line": {"color": "rgb(80,90,110)", "width": 1},
                },
                hovertext=map_text,
                hoverinfo="text",
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        showlegend=False,
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-0.6, len(columns) - 0.4], "fixedrange": True},
        yaxis={"visible": False, "range": [BOTTOM - 1.8, TOP + 0.6], "fixedrange": True},
        plot_bgcolor="white",
        annotations=annotations,
    )
    return figure
