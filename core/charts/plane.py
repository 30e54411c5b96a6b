"""The network as TensorFlow Playground draws it: every unit's output over the plane as a
small heatmap, laid out layer by layer, with the weights between them drawn by sign and size;
and one unit's heatmap drawn large.

Colours follow Playground: orange for negative (class 0), blue for positive (class 1), pale in
between; more classes take the next colours of `CLASS_COLOURS`. The small heatmaps are PNG
images placed on the figure (one image each, so a 6 × 32 network stays one light figure);
each is scaled to its own largest absolute value, so its shape shows whatever its size, and
the large view gives the actual values.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go

from core.plane.model import Boundary
from core.plane.spec import FEATURES

PLANE_ORANGE = "#f59322"  # class 0, negative
PLANE_BLUE = "#0877bd"  # class 1, positive
PLANE_PALE = "#e8eaeb"
CLASS_COLOURS = [PLANE_ORANGE, PLANE_BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b"]
DIVERGING = [[0.0, PLANE_ORANGE], [0.5, PLANE_PALE], [1.0, PLANE_BLUE]]

ROW_STEP = 1.3  # a tile is 1 by 1; columns are spread to fill about `WIDTH_PIXELS`
WIDTH_PIXELS = 1000
MIN_COLUMN_STEP, MAX_COLUMN_STEP = 2.5, 14.0


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype="float32")


ORANGE_RGB, PALE_RGB, BLUE_RGB = rgb(PLANE_ORANGE), rgb(PLANE_PALE), rgb(PLANE_BLUE)
CLASS_RGB = np.stack([rgb(c) for c in CLASS_COLOURS])


def diverging_rgb(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] to colours: orange at -1, pale at 0, blue at 1; shape (..., 3) uint8."""
    v = np.clip(values, -1.0, 1.0)[..., None]
    colours = np.where(
        v < 0, PALE_RGB + (PALE_RGB - ORANGE_RGB) * v, PALE_RGB + (BLUE_RGB - PALE_RGB) * v
    )
    return colours.astype("uint8")


def class_rgb(probabilities: np.ndarray, discrete: bool = False) -> np.ndarray:
    """Softmax outputs (..., k) to colours: each class's colour weighted by its probability,
    or (discrete) the colour of the likeliest class; shape (..., 3) uint8."""
    k = probabilities.shape[-1]
    if discrete:
        probabilities = np.eye(k, dtype="float32")[np.argmax(probabilities, axis=-1)]
    pale = 1.0 - probabilities.max(axis=-1, keepdims=True)  # unsure points fade to pale
    blend = probabilities @ CLASS_RGB[:k] / probabilities.sum(axis=-1, keepdims=True)
    return (blend * (1 - pale) + PALE_RGB * pale).astype("uint8")


def output_rgb(z: np.ndarray, discrete: bool = False) -> np.ndarray:
    """The output grid (r, r) sigmoid or (r, r, k) softmax as colours (r, r, 3)."""
    if z.ndim == 2:
        p = (z >= 0.5).astype("float32") if discrete else z
        return diverging_rgb(2.0 * p - 1.0)
    return class_rgb(z, discrete)


def class_tile(z: np.ndarray, c: int) -> np.ndarray:
    """Class c's probability over the plane (r, r) from softmax outputs (r, r, k): pale at 0,
    the class's colour at 1."""
    p = z[:, :, c : c + 1]
    return (PALE_RGB * (1 - p) + CLASS_RGB[c] * p).astype("uint8")


def scaled_units(units: np.ndarray) -> np.ndarray:
    """Each unit's values (units, s, s) divided by its own largest absolute value."""
    top = np.max(np.abs(units), axis=(1, 2), keepdims=True) if units.size else units
    ok = (top > 0) & np.isfinite(top)
    return np.where(ok, units / np.where(ok, top, 1.0), 0.0)


def png_uri(colours: np.ndarray) -> str:
    """An (h, w, 3) uint8 picture whose row 0 is the plane's lowest x2, as a PNG data URI
    (flipped, so the top of the picture is the top of the plane)."""
    height, width = colours.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype="uint8")  # each row: filter 0, then RGB
    rows[:, 1:] = colours[::-1].reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def unit_label(layer: int, unit: int, feature_names: list[str]) -> str:
    """How a unit is named on the page: a feature, "layer 2, unit 3", or "output"."""
    if layer == 0:
        return FEATURES[feature_names[unit]]
    return f"layer {layer}, unit {unit + 1}"


def tile_positions(sizes: list[int], column_step: float) -> list[list[tuple[float, float]]]:
    """The centre (x, y) of every tile, column by column; columns are centred vertically."""
    tallest = max(sizes)
    return [
        [(c * column_step + 0.5, -((tallest - size) / 2 + j) * ROW_STEP - 0.5) for j in range(size)]
        for c, size in enumerate(sizes)
    ]


def plain_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts, skipping plotly's validation, which costs far more than the
    drawing on a figure of many pictures; the tests check what the figures hold."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def weight_traces(boundary: Boundary, positions) -> list[dict]:
    """The weights as lines from each unit to the next layer's: blue positive, orange negative,
    width by size relative to the largest weight drawn (four widths, so eight traces)."""
    kernels = [kernel for kernel, _ in boundary.weights]
    top = max((float(np.nanmax(np.abs(k))) for k in kernels if k.size), default=0.0)
    if not top > 0 or not np.isfinite(top):
        return []
    segments = []  # per weight drawn: x from, x to, y from, y to, the weight
    for layer, kernel in enumerate(kernels):
        a, b = np.nonzero(np.abs(kernel) >= 0.02 * top)
        start, end = np.asarray(positions[layer]), np.asarray(positions[layer + 1])
        segments.append(
            np.column_stack(
                [start[a, 0] + 0.5, end[b, 0] - 0.5, start[a, 1], end[b, 1], kernel[a, b]]
            )
        )
    lines = np.concatenate(segments) if segments else np.zeros((0, 5))
    width_class = np.minimum(3, (4 * np.abs(lines[:, 4]) / top).astype(int))
    buckets = {}
    for positive in (False, True):
        for width in range(4):
            rows = lines[((lines[:, 4] > 0) == positive) & (width_class == width)]
            if len(rows):
                gap = np.full(len(rows), np.nan)  # NaN breaks the line between two weights
                xs = np.column_stack([rows[:, 0], rows[:, 1], gap]).ravel()
                ys = np.column_stack([rows[:, 2], rows[:, 3], gap]).ravel()
                buckets[(positive, width)] = (xs, ys)
    return [
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines",
            "line": {"color": PLANE_BLUE if positive else PLANE_ORANGE, "width": 0.6 + 1.3 * width},
            "opacity": 0.35 + 0.15 * width,
            "hoverinfo": "skip",
            "showlegend": False,
            "name": f"{'positive' if positive else 'negative'} weights",
        }
        for (positive, width), (xs, ys) in sorted(buckets.items())
    ]


def network_figure(
    boundary: Boundary,
    feature_names: list[str],
    *,
    selected: tuple[int, int] | None = None,
    discrete: bool = False,
    height: int | None = None,
) -> go.Figure:
    """Features, every hidden unit and the output, each as a heatmap over the plane, with the
    weights between them. `selected` (layer, unit) gets a frame; layer 0 is the features.
    A softmax output has one tile per class (its probability)."""
    outputs = _output_tiles(boundary, discrete)
    sizes = [len(u) for u in boundary.units] + [len(outputs)]
    tallest = max(sizes)
    height = height or int(min(640, max(300, 60 + 38 * tallest)))
    column_step = _column_step(sizes, height)
    positions = tile_positions(sizes, column_step)
    centres = [p for column in positions for p in column]
    width_units = (len(sizes) - 1) * column_step + 1
    layout = {
        "images": _tile_images(boundary, outputs, centres),
        "shapes": _selection_frame(positions, sizes, selected),
        "annotations": _column_titles(len(sizes), column_step),
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "plot_bgcolor": "white",
        "dragmode": False,
        "clickmode": "event+select",
        "xaxis": {"visible": False, "range": [-0.4, width_units + 0.4], "fixedrange": True},
        "yaxis": {
            "visible": False,
            "range": [-tallest * ROW_STEP - 0.1, 0.9],
            "fixedrange": True,
            "scaleanchor": "x",
            "constrain": "domain",
        },
    }
    units = _unit_markers(centres, sizes, feature_names)
    return plain_figure([*weight_traces(boundary, positions), units], layout)


def _output_tiles(boundary: Boundary, discrete: bool) -> list[np.ndarray]:
    """The output on the units' coarser grid: one tile for a sigmoid, one per class for a
    softmax."""
    step = max(1, len(boundary.axis) // len(boundary.unit_axis))
    z = boundary.z[::step, ::step]
    if z.ndim == 2:
        return [output_rgb(z, discrete)]
    return [class_tile(z, c) for c in range(z.shape[2])]


def _column_step(sizes: list[int], height: int) -> float:
    """The distance between two columns that spreads them over about WIDTH_PIXELS."""
    units_high = max(sizes) * ROW_STEP + 1.0
    units_wide = WIDTH_PIXELS / ((height - 20) / units_high)
    return float(
        np.clip((units_wide - 1) / max(1, len(sizes) - 1), MIN_COLUMN_STEP, MAX_COLUMN_STEP)
    )


def _tile_images(boundary: Boundary, outputs: list[np.ndarray], centres) -> list[dict]:
    """Every unit's tile, then the output's, as a picture centred where the unit sits."""
    coloured = [diverging_rgb(scaled_units(layer)) for layer in boundary.units]
    tiles = [png_uri(tile) for layer in coloured for tile in layer]
    tiles.extend(png_uri(tile) for tile in outputs)
    return [
        {
            "source": tile,
            "xref": "x",
            "yref": "y",
            "x": x - 0.5,
            "y": y + 0.5,
            "sizex": 1.0,
            "sizey": 1.0,
            "sizing": "stretch",
            "layer": "above",
        }
        for tile, (x, y) in zip(tiles, centres, strict=True)
    ]


def _unit_markers(centres, sizes: list[int], feature_names: list[str]) -> dict:
    """A nearly invisible marker on every tile: it names the unit on hover and carries
    [layer, unit] back from a click."""
    labels, keys = [], []
    for layer, size in enumerate(sizes):
        last = layer == len(sizes) - 1
        for unit in range(size):
            name = "output" if size == 1 else f"class {unit} probability"
            labels.append(name if last else unit_label(layer, unit, feature_names))
            keys.append([layer, unit])
    return {
        "type": "scatter",
        "x": [x for x, _ in centres],
        "y": [y for _, y in centres],
        "mode": "markers",
        "marker": {"size": 18, "color": "rgba(0,0,0,0.01)", "symbol": "square"},
        "text": labels,
        "customdata": keys,
        "hovertemplate": "%{text}<extra></extra>",
        "showlegend": False,
        "name": "units",
    }


def _selection_frame(positions, sizes: list[int], selected: tuple[int, int] | None) -> list:
    """A black frame around the selected unit; none when nothing (or the output) is selected."""
    if selected is None or selected[0] >= len(sizes) - 1 or selected[1] >= sizes[selected[0]]:
        return []
    x, y = positions[selected[0]][selected[1]]
    return [
        {
            "type": "rect",
            "x0": x - 0.62,
            "x1": x + 0.62,
            "y0": y - 0.62,
            "y1": y + 0.62,
            "line": {"color": "black", "width": 2},
        }
    ]


def _column_titles(columns: int, column_step: float) -> list[dict]:
    """The titles above the columns: features, layer 1, ..., output."""
    titles = ["features", *[f"layer {i}" for i in range(1, columns - 1)], "output"]
    return [
        {
            "x": c * column_step + 0.5,
            "y": 0.2,
            "text": title,
            "showarrow": False,
            "yanchor": "bottom",
            "xref": "x",
            "yref": "y",
        }
        for c, title in enumerate(titles)
    ]


def unit_figure(
    boundary: Boundary, layer: int, unit: int, feature_names: list[str], *, height: int = 380
) -> go.Figure:
    """One unit's output over the plane, large, on its own colour scale (0 in the middle)."""
    values = boundary.units[layer][unit]
    top = float(np.nanmax(np.abs(values))) if values.size else 1.0
    top = top if top > 0 and np.isfinite(top) else 1.0
    low, high = float(boundary.unit_axis[0]), float(boundary.unit_axis[-1])
    name = unit_label(layer, unit, feature_names)
    heatmap = {
        "type": "heatmap",
        "x": boundary.unit_axis,
        "y": boundary.unit_axis,
        "z": values,
        "zmin": -top,
        "zmax": top,
        "colorscale": DIVERGING,
        "colorbar": {"title": {"text": "output"}, "thickness": 12},
        "hovertemplate": "x1 %{x:.2f}, x2 %{y:.2f}<br>%{z:.3f}<extra></extra>",
        "name": name,
    }
    layout = {
        "title": {"text": name},
        "height": height,
        "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
        "xaxis": {"title": {"text": "x1"}, "range": [low, high], "constrain": "domain"},
        "yaxis": {
            "title": {"text": "x2"},
            "range": [low, high],
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    }
    return plain_figure([heatmap], layout)
