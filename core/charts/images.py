"""Plotly figures of images: one digit enlarged, and galleries of digits or first-layer weights.

Galleries are one heatmap of all the tiles side by side (a mosaic), not one subplot per digit:
for 48 digits it builds and serialises 10 to 20 times faster (see bench/evaluate.py). Each tile
has an invisible marker whose `customdata` (by default its position; for mistakes, the test-set
index) comes back when it is clicked in Streamlit (app_pages/selection.py reads it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.charts.style import DIVERGING, INK, OTHER_COLOUR, empty_figure
from core.inside.evaluation import Evaluation

TILE = 28
GAP = 2
TITLE_BAND = 9  # mosaic rows above each tile kept free for its title
ASSUMED_WIDTH = 720  # pixels; used only to choose a height that keeps tiles square


def _value_range(images: np.ndarray) -> tuple[float, float]:
    if images.dtype == np.uint8:
        return 0.0, 255.0
    if images.size == 0:
        return 0.0, 1.0
    low, high = float(images.min()), float(images.max())
    return (0.0, 1.0) if low >= 0 and high <= 1 else (low, high)


def digit_figure(image28: Any, title: str | None = None) -> go.Figure:
    """One digit enlarged: dark ink on white, square pixels, no axis ticks."""
    image = np.asarray(image28)
    if image.size != TILE * TILE:
        raise ValueError(f"a digit is 28 x 28 = 784 pixels; got shape {image.shape}.")
    image = image.reshape(TILE, TILE)
    zmin, zmax = _value_range(image)
    figure = go.Figure(
        go.Heatmap(
            z=image,
            colorscale=INK,
            zmin=zmin,
            zmax=zmax,
            showscale=False,
            hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": title} if title else None,
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={
            "visible": False,
            "autorange": "reversed",
            "scaleanchor": "x",
            "constrain": "domain",
        },
        height=300,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        plot_bgcolor="white",
    )
    figure.add_shape(
        type="rect",
        x0=-0.5,
        y0=-0.5,
        x1=TILE - 0.5,
        y1=TILE - 0.5,
        line={"color": OTHER_COLOUR, "width": 1},
    )
    return figure


def mosaic(images: np.ndarray, columns: int, band: int) -> np.ndarray:
    """Tiles (k, 28, 28) laid out in rows of `columns`, with `band` free rows above each
    tile and GAP columns between tiles. The free space is 0 (white paper) for integer
    images and NaN (drawn transparent) for float ones."""
    k = len(images)
    rows = math.ceil(k / columns)
    pitch_y, pitch_x = band + TILE, TILE + GAP
    fill = np.nan if np.issubdtype(images.dtype, np.floating) else 0
    padded = np.full((rows * columns, pitch_y, pitch_x), fill, dtype=images.dtype)
    padded[:k, band:, :TILE] = images
    canvas = padded.reshape(rows, columns, pitch_y, pitch_x).transpose(0, 2, 1, 3)
    return canvas.reshape(rows * pitch_y, columns * pitch_x)[:, : columns * pitch_x - GAP]


def digit_grid_figure(
    images: Any,
    titles: list[str] | None = None,
    columns: int = 8,
    *,
    hover_texts: list[str] | None = None,
    customdata: Any = None,
    diverging: bool = False,
) -> go.Figure:
    """A gallery of 28 x 28 images drawn as one mosaic heatmap, with a title over each tile.

    Digits are drawn dark on white. With `diverging`, each tile is scaled by its own largest
    absolute value and drawn red (negative) - white (0) - blue (positive), for weights.
    `customdata` (one value per tile, e.g. the test-set index) comes back from a click
    through app_pages/selection.py; `hover_texts` is shown when the mouse is over a tile.
    """
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == TILE * TILE:
        images = images.reshape(-1, TILE, TILE)
    if images.ndim != 3 or images.shape[1:] != (TILE, TILE):
        raise ValueError(f"a gallery takes images of shape (k, 28, 28); got {images.shape}.")
    k = len(images)
    if k == 0:
        return empty_figure("No images to show.")
    if titles is not None and len(titles) != k:
        raise ValueError(f"{k} images but {len(titles)} titles; give one title per image.")
    # Fewer images than columns still lay out a whole row: the tiles keep the size they have
    # in a full gallery instead of one digit stretching to the page's width.
    columns = max(1, int(columns))
    band = TITLE_BAND if titles else GAP
    if diverging:
        scale = np.abs(images.reshape(k, -1)).max(axis=1)
        tiles = (images / np.where(scale > 0, scale, 1.0)[:, None, None]).astype(np.float32)
        zmin, zmax, colourscale = -1.0, 1.0, DIVERGING
    else:
        tiles = images
        (zmin, zmax), colourscale = _value_range(images), INK
    canvas = mosaic(tiles, columns, band)

    slots = np.arange(k)
    centre_x = (slots % columns) * (TILE + GAP) + (TILE - 1) / 2
    tile_top = (slots // columns) * (band + TILE) + band
    centre_y = tile_top + (TILE - 1) / 2
    custom = (slots if customdata is None else np.asarray(customdata)).tolist()
    traces: list[Any] = [
        go.Heatmap(
            z=canvas,
            colorscale=colourscale,
            zmin=zmin,
            zmax=zmax,
            showscale=diverging,
            colorbar=(
                {
                    "title": {"text": "weight"},
                    "tickvals": [-1, 0, 1],
                    "ticktext": ["most negative", "0", "most positive"],
                    "thickness": 12,
                }
                if diverging
                else None
            ),
            hoverinfo="skip",
        ),
        go.Scatter(
            x=centre_x,
            y=centre_y,
            mode="markers",
            marker={"symbol": "square", "size": 30, "opacity": 0},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            customdata=custom,
            hovertext=hover_texts if hover_texts is not None else titles,
            hoverinfo="text" if (hover_texts is not None or titles) else "skip",
            showlegend=False,
        ),
    ]
    # Titles are annotations, not a text trace: a click selects a tile, and plotly would fade
    # the text of every unselected point of a trace.
    annotations = [
        {
            "x": x,
            "y": y,
            "text": title,
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"size": 11},
        }
        for x, y, title in zip(
            centre_x.tolist(), (tile_top - 0.5).tolist(), titles or [], strict=False
        )
    ]
    height_ratio = canvas.shape[0] / canvas.shape[1]
    figure = go.Figure(traces)
    figure.update_layout(
        xaxis={"visible": False, "range": [-0.5, canvas.shape[1] - 0.5], "constrain": "domain"},
        yaxis={
            "visible": False,
            "range": [canvas.shape[0] - 0.5, -0.5],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        height=int((ASSUMED_WIDTH - 110 * diverging) * height_ratio) + 25,
        margin={"l": 5, "r": 5, "t": 20, "b": 5},
        plot_bgcolor="white",
        hovermode="closest",
        clickmode="event+select",
        annotations=annotations,
    )
    return figure


def misclassified_grid_figure(
    evaluation: Evaluation, images: Any, indices: Any, columns: int = 8
) -> go.Figure:
    """The test images at `indices` titled '4 → 9 (97 %)' (true → predicted, confidence);
    a click gives back the test-set index through app_pages/selection.py."""
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return empty_figure("No mistakes here.")
    return digit_grid_figure(
        np.asarray(images)[indices],
        evaluation.titles(indices),
        columns,
        hover_texts=[f"test image {i}: {evaluation.describe(i)}" for i in indices],
        customdata=indices,
    )


def weights_grid_figure(weight_images: Any, columns: int = 8) -> go.Figure:
    """First-layer weights, one tile per unit ('unit 1', ...), red < 0 < blue."""
    weight_images = np.asarray(weight_images)
    titles = [f"unit {i + 1}" for i in range(len(weight_images))]
    return digit_grid_figure(weight_images, titles, columns, diverging=True)


def filters_grid_figure(filters: Any, columns: int = 8) -> go.Figure:
    """A conv layer's filters (k, size, size), one tile per filter ('filter 1', ...), each
    blown up with square blocks to the gallery's tile, red < 0 < blue."""
    filters = np.asarray(filters, dtype=np.float32)
    if filters.ndim != 3 or filters.shape[1] != filters.shape[2] or filters.shape[1] > TILE:
        raise ValueError(f"filters have shape {filters.shape}; pass (k, size, size), size <= 28.")
    size = filters.shape[1]
    scale = TILE // size
    blocks = np.kron(filters, np.ones((scale, scale), dtype=np.float32))
    pad = TILE - size * scale
    tiles = np.pad(blocks, ((0, 0), (pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2)))
    titles = [f"filter {i + 1}" for i in range(len(filters))]
    return digit_grid_figure(tiles, titles, columns, diverging=True)
