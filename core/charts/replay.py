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
import html
import io
from typing import Any

import numpy as np
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale, unlabel_rgb

from core.charts.images import GAP, TILE, filter_tiles, mosaic, weight_tiles
from core.charts.style import DIVERGING, NUM_CLASSES, SQRT_BLUES

LEVELS = 127


def quantised_tiles(templates: Any) -> np.ndarray:
    """Templates (k, s, s) as 28 x 28 int8 tiles, each scaled by its largest absolute value
    to -127..127; smaller filters are blown up with square blocks to the tile, centred (as
    Evaluate's weights tab draws them: `core.charts.images.filter_tiles`, `weight_tiles`)."""
    templates = np.asarray(templates, dtype=np.float32)
    if templates.shape[1] < TILE:
        templates = filter_tiles(templates)
    return np.rint(weight_tiles(templates) * LEVELS).astype(np.int8)


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


CONFUSION_STYLE = """<style>
.replay-confusion { font-size: 0.8rem; color: rgb(49,51,63); max-width: 26rem; }
.replay-confusion .replay-title { font-weight: 700; font-size: 1rem; margin: 0.2rem 0 0.6rem; }
.replay-confusion .grid { display: grid; grid-template-columns: 1.2rem 1.2rem repeat(10, 1fr);
  gap: 1px; align-items: center; }
.replay-confusion .axis { grid-row: 1 / span 10; writing-mode: vertical-rl;
  transform: rotate(180deg); text-align: center; color: rgb(110,114,130); }
.replay-confusion .tick { text-align: center; color: rgb(110,114,130); }
.replay-confusion .cell { aspect-ratio: 1; display: flex; align-items: center;
  justify-content: center; font-size: 0.75rem; }
.replay-confusion .below { text-align: center; color: rgb(110,114,130); margin-top: 0.2rem;
  padding-left: 2.4rem; }
</style>"""


def _text_colour(rgb: tuple[float, ...]) -> str:
    """White on a dark cell, dark grey on a light one (perceived brightness)."""
    r, g, b = rgb
    return "rgb(68,68,68)" if (299 * r + 587 * g + 114 * b) / 1000 > 128 else "white"


def confusion_html(cm: Any, title: str) -> str:
    """The confusion matrix (true digit by row, 0 at the top; predicted digit by column) as
    an HTML grid under `title`: each cell coloured by its count on the confusion matrix's own
    scale (`core.charts.style.SQRT_BLUES`, 0 to the largest count), its count written in it
    (blank for 0), and named on hover."""
    cm = np.asarray(cm)
    if cm.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(f"a confusion matrix for ten digits is 10 x 10; got {cm.shape}.")
    largest = max(int(cm.max()), 1)
    colours = sample_colorscale(SQRT_BLUES, (cm.ravel() / largest).tolist())
    cells = ['<div class="axis">True digit</div>']
    for true in range(NUM_CLASSES):
        cells.append(f'<div class="tick">{true}</div>')
        for said in range(NUM_CLASSES):
            count = int(cm[true, said])
            background = colours[true * NUM_CLASSES + said]
            text = _text_colour(unlabel_rgb(background))
            cells.append(
                f'<div class="cell" style="background:{background};color:{text}" '
                f'title="true {true}, said {said}: {count}">{count or ""}</div>'
            )
    cells += ["<div></div>", "<div></div>"] + [
        f'<div class="tick">{d}</div>' for d in range(NUM_CLASSES)
    ]
    return (
        f'{CONFUSION_STYLE}<div class="replay-confusion"><div class="replay-title">'
        f'{html.escape(title)}</div><div class="grid">{"".join(cells)}</div>'
        '<div class="below">Predicted digit</div></div>'
    )
