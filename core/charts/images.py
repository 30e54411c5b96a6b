"""Plotly figures of images: one digit enlarged, and galleries of digits or first-layer weights.

Galleries are one heatmap of all the tiles side by side (a mosaic), not one subplot per digit,
which builds and serialises much faster (bench/evaluate.py compares the two). Each tile
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
    images = _gallery_images(images)
    k = len(images)
    if k == 0:
        return empty_figure("No images to show.")
    if titles is not None and len(titles) != k:
        raise ValueError(f"{k} images but {len(titles)} titles; give one title per image.")
    # Fewer images than columns still lay out a whole row: the tiles keep the size they have
    # in a full gallery instead of one digit stretching to the page's width.
    columns = max(1, int(columns))
    band = TITLE_BAND if titles else GAP
    tiles = weight_tiles(images) if diverging else images
    canvas = mosaic(tiles, columns, band)
    slots = np.arange(k)
    centre_x = (slots % columns) * (TILE + GAP) + (TILE - 1) / 2
    tile_top = (slots // columns) * (band + TILE) + band
    centre_y = tile_top + (TILE - 1) / 2
    custom = (slots if customdata is None else np.asarray(customdata)).tolist()
    hover = hover_texts if hover_texts is not None else (titles or None)
    figure = go.Figure(
        [
            _mosaic_heatmap(canvas, images, diverging),
            _click_targets(centre_x, centre_y, custom, hover),
        ]
    )
    figure.update_layout(
        **_gallery_layout(canvas, diverging),
        annotations=_tile_titles(centre_x, tile_top - 0.5, titles or []),
    )
    return figure


def _gallery_images(images: Any) -> np.ndarray:
    """The images as (k, 28, 28); rows of 784 pixels are folded into tiles."""
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == TILE * TILE:
        images = images.reshape(-1, TILE, TILE)
    if images.ndim != 3 or images.shape[1:] != (TILE, TILE):
        raise ValueError(f"a gallery takes images of shape (k, 28, 28); got {images.shape}.")
    return images


def weight_tiles(images: np.ndarray) -> np.ndarray:
    """Each tile divided by its own largest absolute value, so it runs from -1 to 1."""
    scale = np.abs(images.reshape(len(images), -1)).max(axis=1)
    return (images / np.where(scale > 0, scale, 1.0)[:, None, None]).astype(np.float32)


WEIGHT_COLOURBAR = {
    "title": {"text": "weight"},
    "tickvals": [-1, 0, 1],
    "ticktext": ["most negative", "0", "most positive"],
    "thickness": 12,
}


def _mosaic_heatmap(canvas: np.ndarray, images: np.ndarray, diverging: bool) -> go.Heatmap:
    """The mosaic: ink on paper for digits, red - white - blue with a colour bar for weights."""
    if diverging:
        (zmin, zmax), colourscale = (-1.0, 1.0), DIVERGING
    else:
        (zmin, zmax), colourscale = _value_range(images), INK
    return go.Heatmap(
        z=canvas,
        colorscale=colourscale,
        zmin=zmin,
        zmax=zmax,
        showscale=diverging,
        colorbar=WEIGHT_COLOURBAR if diverging else None,
        hoverinfo="skip",
    )


def _click_targets(centre_x, centre_y, customdata: list, hover: list[str] | None) -> go.Scatter:
    """An invisible marker on each tile: it carries the tile's `customdata` back from a click
    and shows its hover text."""
    return go.Scatter(
        x=centre_x,
        y=centre_y,
        mode="markers",
        marker={"symbol": "square", "size": 30, "opacity": 0},
        selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}},
        customdata=customdata,
        hovertext=hover,
        hoverinfo="text" if hover is not None else "skip",
        showlegend=False,
    )


def _tile_titles(centre_x: np.ndarray, above: np.ndarray, titles: list[str]) -> list[dict]:
    """A title over each tile.

    Titles are annotations, not a text trace: a click selects a tile, and plotly would fade
    the text of every unselected point of a trace.
    """
    return [
        {
            "x": x,
            "y": y,
            "text": title,
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"size": 11},
        }
        for x, y, title in zip(centre_x.tolist(), above.tolist(), titles, strict=False)
    ]


def _gallery_layout(canvas: np.ndarray, diverging: bool) -> dict[str, Any]:
    """Hidden axes that show the whole mosaic with square pixels, a height that keeps them
    square at ASSUMED_WIDTH (less the colour bar's width), and a click that selects a tile."""
    height_ratio = canvas.shape[0] / canvas.shape[1]
    return {
        "xaxis": {"visible": False, "range": [-0.5, canvas.shape[1] - 0.5], "constrain": "domain"},
        "yaxis": {
            "visible": False,
            "range": [canvas.shape[0] - 0.5, -0.5],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        "height": int((ASSUMED_WIDTH - 110 * diverging) * height_ratio) + 25,
        "margin": {"l": 5, "r": 5, "t": 20, "b": 5},
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "clickmode": "event+select",
    }


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
    tiles = filter_tiles(filters)
    titles = [f"filter {i + 1}" for i in range(len(tiles))]
    return digit_grid_figure(tiles, titles, columns, diverging=True)


def filter_tiles(filters: Any) -> np.ndarray:
    """Filters (k, size, size) blown up with square blocks to 28 x 28 tiles, centred."""
    filters = np.asarray(filters, dtype=np.float32)
    if filters.ndim != 3 or filters.shape[1] != filters.shape[2] or filters.shape[1] > TILE:
        raise ValueError(f"filters have shape {filters.shape}; pass (k, size, size), size <= 28.")
    size = filters.shape[1]
    scale = TILE // size
    blocks = np.kron(filters, np.ones((scale, scale), dtype=np.float32))
    pad = TILE - size * scale
    return np.pad(blocks, ((0, 0), (pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2)))
