"""Plotly figures for the inside views: activations, a unit's template, saliency and the
training dynamics (the network diagram's figure is in `core.charts.diagram`).

Each builder takes plain arrays (or a `Diagram` / `NormHistory`) and returns a figure; the
pages decide where it goes. Colours follow the Evaluate page: blue positive, red negative.
Grids of units are one heatmap with an invisible marker per unit whose `customdata` is the
unit's index, so a click in Streamlit gives it back (`app_pages.selection.selected_image`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BLUE = "rgb(33,102,172)"
RED = "rgb(178,24,43)"
GREY = "#B8C4D6"
MARK = "#FF7F0E"  # the strongest units
DIVERGING = "RdBu"
ACTIVATION_SCALE = "Viridis"
# Saliency: red (towards the other digit) - transparent (no effect) - blue (towards the answer).
SALIENCY_SCALE = [
    [0.0, "rgba(178,24,43,0.95)"],
    [0.35, "rgba(244,165,130,0.6)"],
    [0.5, "rgba(255,255,255,0)"],
    [0.65, "rgba(146,197,222,0.6)"],
    [1.0, "rgba(33,102,172,0.95)"],
]
MAP_GAP = 2
MAX_MAPS_SHOWN = 16
ASSUMED_WIDTH = (
    480  # pixels: the plot's width in the column the pages draw these in (less its colour bar)
)


def _square_axes(figure: go.Figure, rows: int, columns: int) -> None:
    figure.update_layout(
        xaxis={"visible": False, "range": [-0.5, columns - 0.5], "constrain": "domain"},
        yaxis={
            "visible": False,
            "range": [rows - 0.5, -0.5],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        plot_bgcolor="white",
        hovermode="closest",
        clickmode="event+select",
    )


def _selectable(
    x: np.ndarray, y: np.ndarray, units: np.ndarray, texts: list[str], size: int
) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        marker={"symbol": "square", "size": size, "opacity": 0},
        selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}},
        customdata=units.tolist(),
        hovertext=texts,
        hoverinfo="text",
        showlegend=False,
    )


def dense_activations_figure(
    output: Any, strongest: Any = (), height: int | None = None
) -> go.Figure:
    """A dense layer's units as a compact grid of coloured cells, the strongest ringed."""
    output = np.asarray(output, dtype=np.float32).ravel()
    units = len(output)
    columns = max(1, math.ceil(math.sqrt(units * 4)))  # four times as wide as tall
    rows = math.ceil(units / columns)
    grid = np.full(rows * columns, np.nan, dtype=np.float32)
    grid[:units] = output
    index = np.arange(units)
    negative = bool((output < 0).any())
    largest = float(np.abs(output).max()) or 1.0
    texts = [f"unit {i + 1}: {v:.3g}" for i, v in enumerate(output.tolist())]
    figure = go.Figure(
        [
            go.Heatmap(
                z=grid.reshape(rows, columns),
                colorscale=DIVERGING if negative else ACTIVATION_SCALE,
                zmin=-largest if negative else 0.0,
                zmax=largest,
                xgap=1,
                ygap=1,
                colorbar={"thickness": 10, "title": {"text": "output"}},
                hoverinfo="skip",
            ),
            _selectable(index % columns, index // columns, index, texts, 12),
        ]
    )
    strongest = np.asarray(strongest, dtype=np.int64)
    if strongest.size:
        figure.add_trace(
            go.Scatter(
                x=strongest % columns,
                y=strongest // columns,
                mode="markers+text",
                marker={"symbol": "circle-open", "size": 13, "color": MARK, "line": {"width": 2}},
                text=[str(rank + 1) for rank in range(strongest.size)],
                textposition="top center",
                textfont={"color": MARK, "size": 10},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    _square_axes(figure, rows, columns)
    if height is None:  # cells stay square at the width the pages give it
        height = int(30 + ASSUMED_WIDTH * rows / columns)
    figure.update_layout(height=height, margin={"l": 5, "r": 5, "t": 10, "b": 5})
    return figure


def feature_maps_figure(maps: Any, strongest: Any = (), limit: int = MAX_MAPS_SHOWN) -> go.Figure:
    """A convolutional layer's feature maps (h, w, c) side by side, on one shared scale.

    The first `limit` maps are drawn, eight to a row; the strongest are outlined.
    """
    maps = np.asarray(maps, dtype=np.float32)
    h, w, c = maps.shape
    shown = min(c, limit)
    per_row = min(8, shown)
    rows = math.ceil(shown / per_row)
    pitch_y, pitch_x = h + MAP_GAP, w + MAP_GAP
    canvas = np.full((rows * pitch_y - MAP_GAP, per_row * pitch_x - MAP_GAP), np.nan, np.float32)
    for i in range(shown):
        top, left = (i // per_row) * pitch_y, (i % per_row) * pitch_x
        canvas[top : top + h, left : left + w] = maps[:, :, i]
    largest = float(np.abs(maps).max()) or 1.0
    negative = bool((maps < 0).any())
    index = np.arange(shown)
    centre_x = (index % per_row) * pitch_x + (w - 1) / 2
    centre_y = (index // per_row) * pitch_y + (h - 1) / 2
    peaks = maps.reshape(-1, c).max(axis=0)
    texts = [f"map {i + 1}: strongest {peaks[i]:.3g}" for i in range(shown)]
    figure = go.Figure(
        [
            go.Heatmap(
                z=canvas,
                colorscale=DIVERGING if negative else ACTIVATION_SCALE,
                zmin=-largest if negative else 0.0,
                zmax=largest,
                colorbar={"thickness": 10, "title": {"text": "output"}},
                hoverinfo="skip",
            ),
            _selectable(centre_x, centre_y, index, texts, 26),
        ]
    )
    for i in (int(s) for s in np.asarray(strongest, dtype=np.int64) if s < shown):
        top, left = (i // per_row) * pitch_y, (i % per_row) * pitch_x
        figure.add_shape(
            type="rect",
            x0=left - 0.9,
            y0=top - 0.9,
            x1=left + w - 0.1,
            y1=top + h - 0.1,
            line={"color": MARK, "width": 2},
        )
    _square_axes(figure, canvas.shape[0], canvas.shape[1])
    figure.update_layout(
        height=int(30 + ASSUMED_WIDTH * canvas.shape[0] / canvas.shape[1]),
        margin={"l": 5, "r": 5, "t": 10, "b": 5},
    )
    return figure


def template_figure(template: Any, title: str | None = None) -> go.Figure:
    """A unit's weights on the pixels (28 x 28) or a filter's kernel: blue > 0 > red."""
    template = np.asarray(template, dtype=np.float32)
    largest = float(np.abs(template).max()) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=template,
            colorscale=DIVERGING,
            zmin=-largest,
            zmax=largest,
            colorbar={"thickness": 10, "title": {"text": "weight"}},
            hovertemplate="row %{y}, column %{x}: %{z:.3g}<extra></extra>",
        )
    )
    rows, columns = template.shape
    _square_axes(figure, rows, columns)
    figure.update_layout(
        height=260,
        title={"text": title} if title else None,
        margin={"l": 5, "r": 5, "t": 35 if title else 5, "b": 5},
    )
    return figure


def saliency_figure(image: Any, attributions: Any, title: str | None = None) -> go.Figure:
    """The 28 x 28 image in grey with the attributions over it: blue towards the answer,
    red towards the other digit, clear where a pixel made no difference."""
    image = np.asarray(image, dtype=np.float32).reshape(28, 28)
    attributions = np.asarray(attributions, dtype=np.float32).reshape(28, 28)
    largest = float(np.abs(attributions).max()) or 1.0
    figure = go.Figure(
        [
            go.Heatmap(
                z=image, colorscale="Greys", zmin=0, zmax=1, showscale=False, hoverinfo="skip"
            ),
            go.Heatmap(
                z=attributions,
                colorscale=SALIENCY_SCALE,
                zmin=-largest,
                zmax=largest,
                colorbar={
                    "thickness": 10,
                    "tickvals": [-largest, 0, largest],
                    "ticktext": ["other digit", "0", "answer"],
                },
                customdata=image,
                hovertemplate="row %{y}, column %{x}: %{z:+.3g} (ink %{customdata:.2f})<extra></extra>",
            ),
        ]
    )
    _square_axes(figure, 28, 28)
    figure.update_layout(
        height=300,
        title={"text": title} if title else None,
        margin={"l": 5, "r": 5, "t": 35 if title else 5, "b": 5},
    )
    return figure


# --- training dynamics -----------------------------------------------------------------------


NICE_MANTISSAS = (1, 2, 5)
MOST_LOG_TICKS = 7


def _log_label(mantissa: int, exponent: int) -> str:
    """1 x 10^-2 -> "0.01", 2 x 10^1 -> "20", 5 x 10^-6 -> "5e-6": never just a "2"."""
    if -4 <= exponent <= 4:
        return f"{mantissa * 10.0**exponent:.{max(0, -exponent)}f}"
    return f"{mantissa}e{exponent}"


def log_ticks(values) -> tuple[list[float], list[str], list[float]]:
    """Ticks for a log axis over the positive, finite `values`: (values, labels, the axis's
    range in log10 units).

    1, 2 and 5 times the powers of ten from the nearest below the smallest value to the
    nearest above the largest, if at most MOST_LOG_TICKS of them; else powers of ten only,
    every few decades if need be. Each label is the whole number (plotly's own labels on a
    log axis read "2" for both 2 and 20). No value: no ticks, plotly's range.
    """
    shown = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if not shown:
        return [], [], []
    low, high = min(shown), max(shown)
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1
    nice = [(m, e) for e in range(first, last + 1) for m in NICE_MANTISSAS]
    below = max(i for i, (m, e) in enumerate(nice) if m * 10.0**e <= low * (1 + 1e-9))
    above = min(i for i, (m, e) in enumerate(nice) if m * 10.0**e >= high * (1 - 1e-9))
    ticks = nice[below : above + 1] if above > below else nice[below : below + 2]
    if len(ticks) > MOST_LOG_TICKS:
        decades = list(range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1))
        step = math.ceil(len(decades) / MOST_LOG_TICKS)
        ticks = [(1, e) for e in decades[::step]]
        if ticks[-1][1] < decades[-1]:
            ticks.append((1, ticks[-1][1] + step))
    values_ = [m * 10.0**e for m, e in ticks]
    return (
        values_,
        [_log_label(m, e) for m, e in ticks],
        [
            math.log10(values_[0]),
            math.log10(values_[-1]),
        ],
    )


def norms_figure(history, epochs: int | None = None) -> go.Figure:
    """Each layer's weight norm and gradient norm against epochs, on log scales.

    The x axis runs from 0 to the run's planned `epochs` (or to the last point), as the
    training curves' does: one point before the first epoch is not a range of its own.
    """
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Weight norm", "Gradient norm"), horizontal_spacing=0.12
    )
    palette = [
        "#4C78A8",
        "#F58518",
        "#54A24B",
        "#E45756",
        "#72B7B2",
        "#B279A2",
        "#FF9DA6",
        "#9D755D",
    ]
    for i, name in enumerate(history.layers):
        colour = palette[i % len(palette)]
        for col, values in ((1, history.weight_norms[name]), (2, history.gradient_norms[name])):
            figure.add_trace(
                go.Scatter(
                    x=history.epochs,
                    y=values,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line={"color": colour},
                    marker={"size": 4},
                    hovertemplate=f"{name}<br>epoch %{{x:.2f}}: %{{y:.3g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    for col, norms in ((1, history.weight_norms), (2, history.gradient_norms)):
        ticks, labels, span = log_ticks(v for values in norms.values() for v in values)
        axis = {"type": "log"}
        if ticks:
            axis.update(tickmode="array", tickvals=ticks, ticktext=labels, range=span)
        figure.update_yaxes(axis, row=1, col=col)
    last = max(history.epochs, default=0.0)
    figure.update_xaxes(title_text="epoch", range=[0, max(epochs or 0, last, 1) + 0.05])
    figure.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure
