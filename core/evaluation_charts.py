"""Plotly figures for the Evaluate page: confusion matrix, per-digit accuracy, one digit's
probabilities, enlarged digits and galleries of digits or first-layer weights.

Every builder takes plain arrays (or an `Evaluation`) and returns a `plotly.graph_objects.Figure`
with labelled axes and digit names 0-9; the page decides where it goes. Figures that can be
clicked in Streamlit (`st.plotly_chart(..., on_select="rerun")`) carry an invisible marker per
cell or tile whose `customdata` says what was clicked; `selected_cell` and `selected_image`
read it back from the chart's selection.

Galleries are one heatmap of all the tiles side by side (a mosaic), not one subplot per digit:
for 48 digits it builds and serialises 10 to 20 times faster (see bench/evaluate.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.evaluation import NUM_CLASSES, ClassMetrics, Evaluation, normalise_rows

DIGITS = [str(d) for d in range(NUM_CLASSES)]

BLUES = [
    "rgb(247,251,255)",
    "rgb(222,235,247)",
    "rgb(198,219,239)",
    "rgb(158,202,225)",
    "rgb(107,174,214)",
    "rgb(66,146,198)",
    "rgb(33,113,181)",
    "rgb(8,81,156)",
    "rgb(8,48,107)",
]
# Colour grows with the square root of the value, so a cell with 1 % of the diagonal's count
# is still visibly tinted: the mistakes stand out next to the large diagonal.
SQRT_BLUES = [[(i / (len(BLUES) - 1)) ** 2, colour] for i, colour in enumerate(BLUES)]
DIVERGING = "RdBu"
INK = "Greys"  # 0 = white paper, 255 = black ink

BAR_COLOUR = "#4C78A8"
OTHER_COLOUR = "#B8C4D6"
TRUE_COLOUR = "#2CA02C"
WRONG_COLOUR = "#D62728"
LINE_COLOUR = "#555555"
SELECTED_COLOUR = "#FF7F0E"

TILE = 28
GAP = 2
TITLE_BAND = 9  # mosaic rows above each tile kept free for its title
ASSUMED_WIDTH = 720  # pixels; used only to choose a height that keeps tiles square


def _digit_axis(title: str, reversed_: bool = False) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "title": {"text": title},
        "type": "category",
        "categoryorder": "array",
        "categoryarray": DIGITS,
        "tickmode": "array",
        "tickvals": DIGITS,
        "showgrid": False,
    }
    if reversed_:
        axis["autorange"] = "reversed"
    return axis


def _empty_figure(message: str, height: int = 200) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font_size=14
    )
    figure.update_layout(
        height=height,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return figure


def confusion_matrix_figure(cm: Any, normalised: bool = False) -> go.Figure:
    """Heatmap of true digit (rows, 0 at top) by predicted digit (columns).

    Cells show counts, or with `normalised` the share of each true digit in % (z is then
    the row rates x 100). Empty cells are left blank. An invisible marker on each cell
    carries customdata [true, predicted] so a click can open that cell (`selected_cell`).
    """
    cm = np.asarray(cm)
    if cm.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(f"a confusion matrix for ten digits is 10 x 10; got {cm.shape}.")
    rates = normalise_rows(cm) * 100
    if normalised:
        z = rates
        text = np.where(cm > 0, np.char.mod("%.1f", rates), "")
        colour_title = "% of true digit"
    else:
        z = cm
        text = np.where(cm > 0, cm.astype(str), "")
        colour_title = "images"
    true_grid, predicted_grid = np.meshgrid(range(NUM_CLASSES), range(NUM_CLASSES), indexing="ij")
    # One marker per cell: [true, predicted, count, % of the true digit]. Plain lists, not a
    # numpy array: plotly sends arrays as typed arrays, and a clicked point's customdata then
    # comes back from Streamlit as {"0": ..., "1": ...} instead of a list.
    customdata = [
        [int(t), int(p), int(cm[t, p]), float(rates[t, p])]
        for t, p in zip(true_grid.ravel(), predicted_grid.ravel(), strict=True)
    ]
    figure = go.Figure(
        [
            go.Heatmap(
                z=z,
                x=DIGITS,
                y=DIGITS,
                text=text,
                texttemplate="%{text}",
                textfont={"size": 12},
                colorscale=SQRT_BLUES,
                zmin=0,
                colorbar={"title": {"text": colour_title}, "thickness": 14},
                hoverinfo="skip",
                xgap=1,
                ygap=1,
            ),
            go.Scatter(
                x=[DIGITS[p] for p in predicted_grid.ravel()],
                y=[DIGITS[t] for t in true_grid.ravel()],
                mode="markers",
                # Invisible until clicked; the clicked cell is then outlined.
                marker={
                    "symbol": "square-open",
                    "size": 30,
                    "opacity": 0,
                    "color": SELECTED_COLOUR,
                    "line": {"width": 3},
                },
                selected={"marker": {"opacity": 1}},
                unselected={"marker": {"opacity": 0}},
                customdata=customdata,
                hovertemplate=(
                    "true %{customdata[0]}, predicted %{customdata[1]}<br>"
                    "%{customdata[2]} images (%{customdata[3]:.1f} % of the %{customdata[0]}s)"
                    "<extra></extra>"
                ),
                showlegend=False,
            ),
        ]
    )
    figure.update_layout(
        title={"text": "Confusion matrix" + (" (% of each true digit)" if normalised else "")},
        xaxis=_digit_axis("Predicted digit"),
        yaxis=_digit_axis("True digit", reversed_=True),
        height=520,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="white",
        hovermode="closest",
        clickmode="event+select",
    )
    return figure


def per_class_accuracy_figure(metrics: ClassMetrics) -> go.Figure:
    """Bars of each digit's accuracy (recall) in %, with the overall accuracy as a line."""
    percent = 100 * np.asarray(metrics.recall, dtype=np.float64)
    overall = 100 * metrics.overall_accuracy
    customdata = np.stack([metrics.correct, metrics.support], axis=1)
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=percent,
            marker_color=BAR_COLOUR,
            text=[f"{v:.1f} %" for v in percent],
            textposition="auto",
            textangle=0,
            customdata=customdata,
            hovertemplate=(
                "digit %{x}: %{customdata[0]} of %{customdata[1]} right (%{y:.2f} %)<extra></extra>"
            ),
        )
    )
    figure.add_hline(y=overall, line={"dash": "dash", "color": LINE_COLOUR, "width": 1})
    figure.update_layout(
        title={"text": f"Accuracy on each digit (dashed line: all digits, {overall:.1f} %)"},
        xaxis=_digit_axis("True digit"),
        yaxis={"title": {"text": "Accuracy (%)"}, "range": [0, 100], "ticksuffix": " %"},
        height=360,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        showlegend=False,
    )
    return figure


def probabilities_figure(
    probs: Any, true_label: int | None = None, predicted: int | None = None
) -> go.Figure:
    """The ten softmax probabilities of one image as bars (in %).

    The true digit is green and labelled "true"; a wrong prediction is red and labelled
    "predicted". `predicted` defaults to the most probable digit.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if probs.shape != (NUM_CLASSES,):
        raise ValueError(f"one image has {NUM_CLASSES} probabilities; got {probs.size}.")
    predicted = int(probs.argmax()) if predicted is None else int(predicted)
    percent = 100 * probs
    colours = [OTHER_COLOUR] * NUM_CLASSES
    notes: dict[int, str] = {}
    if true_label is None:
        colours[predicted] = BAR_COLOUR
        notes[predicted] = "predicted"
    else:
        true_label = int(true_label)
        colours[true_label] = TRUE_COLOUR
        if predicted == true_label:
            notes[true_label] = "true = predicted"
        else:
            colours[predicted] = WRONG_COLOUR
            notes[true_label] = f"true ({_percent(percent[true_label])})"
            notes[predicted] = "predicted"
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=percent,
            marker_color=colours,
            text=[f"{v:.1f} %" if v >= 0.5 else "" for v in percent],
            textposition="inside",
            insidetextanchor="end",
            textangle=0,
            hovertemplate="digit %{x}: %{y:.2f} %<extra></extra>",
        )
    )
    for digit, note in notes.items():
        figure.add_annotation(
            x=DIGITS[digit],
            y=min(percent[digit], 100) + 2,
            yanchor="bottom",
            text=f"<b>{note}</b>",
            showarrow=False,
            font={"color": colours[digit], "size": 13},
        )
    title = f"Predicted {predicted} with {percent[predicted]:.1f} %"
    if true_label is not None:
        title += f" (true digit {true_label})"
    figure.update_layout(
        title={"text": title},
        xaxis=_digit_axis("Digit"),
        yaxis={
            "title": {"text": "Probability (%)"},
            "range": [0, 112],
            "dtick": 20,
            "ticksuffix": " %",
        },
        height=320,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        showlegend=False,
        bargap=0.25,
    )
    return figure


def _percent(value: float) -> str:
    return f"{value:.1f} %" if value >= 0.05 else "< 0.1 %"


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
    through `selected_image`; `hover_texts` is shown when the mouse is over a tile.
    """
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == TILE * TILE:
        images = images.reshape(-1, TILE, TILE)
    if images.ndim != 3 or images.shape[1:] != (TILE, TILE):
        raise ValueError(f"a gallery takes images of shape (k, 28, 28); got {images.shape}.")
    k = len(images)
    if k == 0:
        return _empty_figure("No images to show.")
    if titles is not None and len(titles) != k:
        raise ValueError(f"{k} images but {len(titles)} titles; give one title per image.")
    columns = max(1, min(int(columns), k))
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
    a click gives back the test-set index through `selected_image`."""
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return _empty_figure("No mistakes here.")
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


def _values(customdata: Any) -> list[Any]:
    """A point's customdata as a list: a value, a list, or the {"0": ..} of a typed array."""
    if isinstance(customdata, dict):
        return [customdata[key] for key in sorted(customdata, key=int)]
    if isinstance(customdata, list | tuple):
        return list(customdata)
    return [customdata]


def _first_point(selection: Any) -> dict[str, Any] | None:
    if selection is None:
        return None
    points = selection.get("points") if hasattr(selection, "get") else None
    if points is None and hasattr(selection, "selection"):  # the whole event was passed
        return _first_point(selection.selection)
    for point in points or []:
        if point.get("customdata") is not None:
            return point
    return None


def selected_cell(selection: Any) -> tuple[int, int] | None:
    """(true, predicted) of the clicked confusion-matrix cell, from st.plotly_chart's
    selection (or the whole event); None if nothing is selected."""
    point = _first_point(selection)
    if point is None:
        return None
    data = _values(point["customdata"])
    return int(data[0]), int(data[1])


def selected_image(selection: Any) -> int | None:
    """The customdata (for galleries, the test-set index) of the clicked tile, or None."""
    point = _first_point(selection)
    if point is None:
        return None
    return int(_values(point["customdata"])[0])
