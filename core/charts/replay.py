"""The replay's picture of first-layer templates: an image, light enough to redraw as a slider
moves.

`templates_png` draws a frame's templates (`core.training.replay.ReplayFrame`) as one mosaic,
laid out as Evaluate's weights tab lays out its heatmap (`core.charts.images.mosaic`): one pixel
a weight, red < 0 < blue on the diverging scale the heatmaps use (`core.charts.style.DIVERGING`),
each tile scaled by its own largest absolute weight to whole numbers from -127 to 127 (no colour
scale shows more than 256 steps), gaps the colour of a weight of 0. A PNG of 255 palette
colours: a 36-unit mosaic is about 30 kB, and the browser only decodes and scales it.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale, unlabel_rgb

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


@functools.cache
def palette() -> np.ndarray:
    """(255, 3) uint8: the colour of each level from -127 (row 0) to 127 (row 254)."""
    stops = [(level + LEVELS) / (2 * LEVELS) for level in range(-LEVELS, LEVELS + 1)]
    colours = sample_colorscale(get_colorscale(DIVERGING), stops)
    return (
        np.array([unlabel_rgb(colour) for colour in colours], dtype=np.float64)
        .round()
        .astype(np.uint8)
    )


def templates_mosaic(templates: Any, columns: int = 6) -> np.ndarray:
    """The templates (k, s, s) as levels -127..127 in rows of `columns` tiles (each with GAP
    rows above it and GAP columns between), 0 in the gaps: the picture `templates_png` draws."""
    return mosaic(quantised_tiles(templates), columns, GAP)


def templates_png(templates: Any, columns: int = 6) -> bytes:
    """The templates (k, s, s) as a PNG mosaic in rows of `columns`, one pixel a weight."""
    levels = templates_mosaic(templates, columns)
    image = Image.fromarray((levels.astype(np.int16) + LEVELS).astype(np.uint8))
    image.putpalette(palette().ravel().tolist())  # an "L" image becomes a palette ("P") one
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
