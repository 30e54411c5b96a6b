"""The network diagram as a plotly figure: columns of units and stacks of feature maps.

`diagram_figure` draws a `core.inside.diagram.Diagram`: every unit in one scatter trace, every map
in another, edges in one trace (a spec's diagram) or one per sign and thickness (a trained
model's), so even the largest network the builder allows stays a light figure.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.inside.diagram import Diagram

BLUE = "rgb(33,102,172)"
RED = "rgb(178,24,43)"

NODE_PITCH = 1.0
MAP_STEP = (0.07, -0.55)  # each map of a stack drawn this much right and down of the last
TOP, BOTTOM = 5.9, -6.6  # titles start above TOP, notes below BOTTOM
CROWDED = 6  # more columns than this: titles on two lines, smaller text, notes staggered
NOTE_STAGGER = 3.4


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


def _segments(pairs: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Line segments (x0, y0, x1, y1) as x and y arrays with a gap (NaN) after each one."""
    if not pairs:
        return np.empty(0), np.empty(0)
    ends = np.asarray(pairs, dtype=np.float64)
    xs = np.column_stack([ends[:, 0], ends[:, 2], np.full(len(ends), np.nan)]).ravel()
    ys = np.column_stack([ends[:, 1], ends[:, 3], np.full(len(ends), np.nan)]).ravel()
    return xs, ys


def _lines(pairs, colour: str, width: float, opacity: float = 1.0) -> go.Scatter:
    xs, ys = _segments(pairs)
    return go.Scatter(
        x=xs,
        y=ys,
        mode="lines",
        line={"color": colour, "width": width},
        opacity=opacity,
        hoverinfo="skip",
    )


def _text(xs, ys, texts, size: int, position: str) -> go.Scatter:
    return go.Scatter(
        x=np.asarray(xs, dtype=np.float64),
        y=np.asarray(ys, dtype=np.float64),
        text=texts,
        mode="text",
        textposition=position,
        textfont={"size": size},
        hoverinfo="skip",
    )


def _edge_traces(diagram: Diagram, positions) -> list[go.Scatter]:
    columns = diagram.columns
    if diagram.edges is None:
        pairs = []
        for i in range(len(columns) - 1):
            (lx, ly), (rx, ry) = positions[i], positions[i + 1]
            both_nodes = columns[i].kind == columns[i + 1].kind == "nodes"
            left = range(len(lx)) if both_nodes else sorted({0, len(lx) - 1})
            right = range(len(rx)) if both_nodes else sorted({0, len(rx) - 1})
            pairs += [(lx[a], ly[a], rx[b], ry[b]) for a in left for b in right]
        return [_lines(pairs, "rgba(140,150,170,0.35)", 0.7)]
    groups: dict[tuple[bool, int], list] = {}
    for column, a, b, weight in diagram.edges:
        (lx, ly), (rx, ry) = positions[column], positions[column + 1]
        key = (weight >= 0, min(3, int(abs(weight) * 4)))
        groups.setdefault(key, []).append((lx[a], ly[a], rx[b], ry[b]))
    return [
        _lines(pairs, BLUE if positive else RED, 0.4 + 0.8 * size, 0.25 + 0.2 * size)
        for (positive, size), pairs in sorted(groups.items())
    ]


def _unit_trace(xs, ys, colours, texts, symbol: str, sizes) -> go.Scatter:
    return go.Scatter(
        x=np.asarray(xs, dtype=np.float64),
        y=np.asarray(ys, dtype=np.float64),
        mode="markers",
        marker={
            "symbol": symbol,
            "size": sizes,
            "color": colours,
            "line": {"color": "rgb(80,90,110)", "width": 1},
        },
        hovertext=texts,
        hoverinfo="text",
    )


def diagram_figure(diagram: Diagram, height: int = 380) -> go.Figure:
    """Input, one column per layer, output; edges as the `Diagram` says.

    Everything is a handful of traces holding arrays (no layout annotations or shapes, which
    plotly validates one by one), so even the largest network draws quickly.
    """
    columns = diagram.columns
    positions = [_item_positions(column, float(i)) for i, column in enumerate(columns)]
    crowded = len(columns) > CROWDED
    traces = [
        *_edge_traces(diagram, positions),
        *_unit_and_map_traces(columns, positions),
        *_text_traces(columns, positions, crowded),
    ]
    figure = go.Figure(traces)
    figure.update_layout(
        showlegend=False,
        height=height + 60 * crowded,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-0.6, len(columns) - 0.4], "fixedrange": True},
        yaxis={
            "visible": False,
            "range": [BOTTOM - 2.4 - NOTE_STAGGER * crowded, TOP + 1.6],
            "fixedrange": True,
        },
        plot_bgcolor="white",
    )
    return figure


def _unit_and_map_traces(columns, positions) -> list[go.Scatter]:
    """Every unit shown as a circle in one trace, and every feature map as a square in another
    (sized by the map's side), coloured by their values when the diagram has them."""
    units: dict[str, list[list]] = {"nodes": [[], [], [], []], "maps": [[], [], [], [], []]}
    for column, (xs, ys) in zip(columns, positions, strict=True):
        colours = [_colour(c) for c in column.colours] if column.colours else None
        what = "map" if column.kind == "maps" else "unit"
        for j, unit in enumerate(column.shown):
            text = column.hover[j] if column.hover else f"{column.title}: {what} {unit + 1}"
            target = units[column.kind]
            target[0].append(xs[j])
            target[1].append(ys[j])
            target[2].append(colours[j] if colours else "rgb(222,235,247)")
            target[3].append(text)
            if column.kind == "maps":
                target[4].append(min(46, 12 + 1.2 * column.shape[0]))
    nodes, maps = units["nodes"], units["maps"]
    traces = [_unit_trace(*nodes, "circle", 13)]
    if maps[0]:
        traces.append(_unit_trace(*maps[:4], "square", maps[4]))
    return traces


def _text_traces(columns, positions, crowded: bool) -> list[go.Scatter]:
    """The columns' titles above them and their sizes and notes below, the labels beside
    units that have one, and dots where a column's units were sampled."""
    titles, notes, labels, dots = [], [], [], []
    for i, (column, (_, ys)) in enumerate(zip(columns, positions, strict=True)):
        if column.kind == "nodes" and column.count > len(column.shown):
            middle = (ys[(len(ys) - 1) // 2] + ys[(len(ys) + 1) // 2]) / 2
            dots.append((i, middle))
        for y, label in zip(ys, column.labels or [], strict=False):
            labels.append((i + 0.12, y, label))
        title = column.title.replace(" ", "<br>", 1) if crowded else column.title
        titles.append((i, TOP, f"<b>{title}</b>"))
        # Crowded notes alternate between two heights so neighbours do not overlap.
        below = BOTTOM - (NOTE_STAGGER if crowded and i % 2 else 0.0)
        notes.append((i, below, "<br>".join([column.size_text, *column.notes])))
    traces = []
    for items, size, position in (
        (titles, 11 if crowded else 12, "top center"),
        (notes, 10 if crowded else 11, "bottom center"),
        (labels, 11, "middle right"),
    ):
        if items:
            xs, ys, texts = zip(*items, strict=True)
            traces.append(_text(xs, ys, list(texts), size, position))
    if dots:
        xs, ys = zip(*dots, strict=True)
        traces.append(_text(xs, ys, ["⋮"] * len(dots), 16, "middle center"))
    return traces
