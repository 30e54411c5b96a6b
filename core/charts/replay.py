"""The replay's figure of first-layer templates: light enough to redraw as a slider moves.

`replay_templates_figure` draws a frame's templates (`core.training.replay.ReplayFrame`) as one
mosaic heatmap, as Evaluate's weights tab does (`core.charts.images`), but each tile is scaled
by its own largest absolute weight to whole numbers from -127 to 127 (int8: a quarter of the
bytes of float32, and no colour scale shows more than 256 steps), with no title over each tile
(a tile's hover names it). Gaps are 0, white like a weight of 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.charts.images import GAP, TILE, mosaic
from core.charts.style import DIVERGING

LEVELS = 127


def quantised_tiles(templates: Any) -> np.ndarray:
    """Templates (k, s, s) as 28 x 28 int8 tiles, each scaled by its largest absolute value
    to -127..127; smaller filters are blown up with square blocks to the tile, centred."""
    templates = np.asarray(templates, dtype=np.float32)
    size = templates.shape[1]
    if size < TILE:
        scale = TILE // size
        blocks = np.kron(templates, np.ones((scale, scale), dtype=np.float32))
        pad = TILE - size * scale
        templates = np.pad(blocks, ((0, 0), (pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2)))
    largest = np.abs(templates.reshape(len(templates), -1)).max(axis=1)
    scaled = templates / np.where(largest > 0, largest, 1.0)[:, None, None]
    return np.rint(scaled * LEVELS).astype(np.int8)


def replay_templates_figure(
    templates: Any, what: str, title: str, columns: int = 6, height: int | None = None
) -> go.Figure:
    """The templates (k, s, s) in rows of `columns`, red < 0 < blue, each tile on its own
    scale; `what` names a tile in its hover ("unit", "filter")."""
    tiles = quantised_tiles(templates)
    k = len(tiles)
    canvas = mosaic(tiles, columns, GAP)
    slots = np.arange(k)
    centre_x = (slots % columns) * (TILE + GAP) + (TILE - 1) / 2
    centre_y = (slots // columns) * (GAP + TILE) + GAP + (TILE - 1) / 2
    rows = math.ceil(k / columns)
    figure = go.Figure(
        [
            go.Heatmap(
                z=canvas,
                colorscale=DIVERGING,
                zmin=-LEVELS,
                zmax=LEVELS,
                showscale=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=centre_x,
                y=centre_y,
                mode="markers",
                marker={"symbol": "square", "size": 30, "opacity": 0},
                hovertext=[f"{what} {i + 1}" for i in range(k)],
                hoverinfo="text",
                showlegend=False,
            ),
        ]
    )
    figure.update_layout(
        title={"text": title},
        xaxis={"visible": False, "range": [-0.5, canvas.shape[1] - 0.5], "constrain": "domain"},
        yaxis={
            "visible": False,
            "range": [canvas.shape[0] - 0.5, -0.5],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        height=height or 70 * rows + 50,
        margin={"l": 5, "r": 5, "t": 40, "b": 5},
        plot_bgcolor="white",
        hovermode="closest",
    )
    return figure
