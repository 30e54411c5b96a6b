"""Plotly figures of how a network scores: the confusion matrix, the accuracy on each digit and
one image's ten probabilities.

Every builder takes plain arrays (or `ClassMetrics`) and returns a `plotly.graph_objects.Figure`
with labelled axes and digit names 0-9; the page decides where it goes. The confusion matrix
can be clicked in Streamlit (`st.plotly_chart(..., on_select="rerun")`): an invisible marker on
each cell carries [true, predicted] in its `customdata` (app_pages/selection.py reads it back).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.charts.style import (
    BAR_COLOUR,
    DIGITS,
    LINE_COLOUR,
    OTHER_COLOUR,
    SELECTED_COLOUR,
    SQRT_BLUES,
    TRUE_COLOUR,
    WRONG_COLOUR,
)
from core.inside.evaluation import ClassMetrics, normalise_rows, tenths_text
from core.nets.model import NUM_CLASSES


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


def confusion_matrix_figure(cm: Any, normalised: bool = False) -> go.Figure:
    """Heatmap of true digit (rows, 0 at top) by predicted digit (columns).

    Cells show counts, or with `normalised` the share of each true digit in % (z is then
    the row rates x 100). Empty cells are left blank. An invisible marker on each cell
    carries customdata [true, predicted] so a click can open that cell (app_pages/selection.py).
    """
    cm = np.asarray(cm)
    if cm.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(f"a confusion matrix for ten digits is 10 x 10; got {cm.shape}.")
    rates = normalise_rows(cm) * 100
    figure = go.Figure([_cell_heatmap(cm, rates, normalised), _cell_markers(cm, rates)])
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


def _cell_heatmap(cm: np.ndarray, rates: np.ndarray, normalised: bool) -> go.Heatmap:
    """The cells coloured and labelled by their count, or by their % of the true digit."""
    if normalised:
        z = rates
        text = np.where(cm > 0, np.char.mod("%.1f", rates), "")
        colour_title = "% of true digit"
    else:
        z = cm
        text = np.where(cm > 0, cm.astype(str), "")
        colour_title = "images"
    return go.Heatmap(
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
    )


def _cell_markers(cm: np.ndarray, rates: np.ndarray) -> go.Scatter:
    """An invisible marker on each cell, outlined once clicked, that names the cell on hover
    and carries [true, predicted, count, % of the true digit] back from a click."""
    true_grid, predicted_grid = np.meshgrid(range(NUM_CLASSES), range(NUM_CLASSES), indexing="ij")
    # Plain lists, not a numpy array: plotly sends arrays as typed arrays, and a clicked
    # point's customdata then comes back from Streamlit as {"0": ..., "1": ...} instead of a list.
    customdata = [
        [int(t), int(p), int(cm[t, p]), float(rates[t, p])]
        for t, p in zip(true_grid.ravel(), predicted_grid.ravel(), strict=True)
    ]
    return go.Scatter(
        x=[DIGITS[p] for p in predicted_grid.ravel()],
        y=[DIGITS[t] for t in true_grid.ravel()],
        mode="markers",
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
    )


# Steps the per-digit accuracy axis may start on (in %), finest first.
AXIS_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20)
# Below this the accuracy axis starts at 0: the spread is wide enough to see on a full axis.
ZERO_AXIS_BELOW = 50.0


def accuracy_axis(percent: Any) -> tuple[float, float]:
    """Where an accuracy axis (in %, up to 100) should start so that the differences between
    `percent` show, and its tick step: a round number a little below the lowest value, or 0
    (ticks every 20 %) if that is low.

    96.9 % and 99.8 % on a 0-100 axis are bars of the same height; from 96 % they differ by
    three quarters of the axis."""
    values = np.asarray(percent, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 20.0
    lowest = float(values.min())
    spread = max(100.0 - lowest, 0.5)
    target = lowest - 0.15 * spread  # room under the lowest dot
    step = next((s for s in AXIS_STEPS if (100.0 - target) / s <= 8), AXIS_STEPS[-1])
    start = float(np.floor(target / step) * step)
    return (0.0, 20.0) if start < ZERO_AXIS_BELOW else (round(start, 1), float(step))


def per_class_accuracy_figure(metrics: ClassMetrics) -> go.Figure:
    """A dot for each digit's accuracy (recall) in %, with the overall accuracy as a line.

    The axis starts where the differences show (`accuracy_axis`), not at 0, and the
    subtitle says so; dots, not bars, since a bar's length would mean nothing on it. A digit
    with no test images has no dot."""
    present = np.asarray(metrics.support) > 0
    percent = np.where(present, 100 * np.asarray(metrics.recall, dtype=np.float64), np.nan)
    overall = 100 * metrics.overall_accuracy
    start, step = accuracy_axis(percent)
    customdata = np.stack([metrics.correct, metrics.support], axis=1)
    figure = go.Figure(
        go.Scatter(
            x=DIGITS,
            y=[None if np.isnan(v) else float(v) for v in percent],
            mode="markers+text",
            marker={"color": BAR_COLOUR, "size": 12},
            text=["" if np.isnan(v) else f"{v:.1f} %" for v in percent],
            textposition="top center",
            customdata=customdata,
            hovertemplate=(
                "digit %{x}: %{customdata[0]} of %{customdata[1]} right (%{y:.1f} %)<extra></extra>"
            ),
        )
    )
    figure.add_hline(y=overall, line={"dash": "dash", "color": LINE_COLOUR, "width": 1})
    title: dict[str, Any] = {
        "text": f"Accuracy on each digit (dashed line: all digits, {overall:.1f} %)"
    }
    if start > 0:
        title["subtitle"] = {
            "text": f"The axis starts at {start:g} %, not 0, to show the differences."
        }
    figure.update_layout(
        title=title,
        xaxis=_digit_axis("True digit"),
        yaxis={
            "title": {"text": "Accuracy (%)"},
            # headroom over 100 % for the labels above the dots
            "range": [start, 100 + 0.12 * (100 - start)],
            "tick0": start,
            "dtick": step,
            "ticksuffix": " %",
            "zeroline": False,
        },
        height=380,
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
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
    true_label = None if true_label is None else int(true_label)
    percent = 100 * probs
    colours, notes = _marked_digits(percent, true_label, predicted)
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=percent,
            marker_color=colours,
            text=[tenths_text(v) if v >= 0.5 else "" for v in percent],
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
    title = f"Predicted {predicted} with {tenths_text(percent[predicted])}"
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


def _marked_digits(
    percent: np.ndarray, true_label: int | None, predicted: int
) -> tuple[list[str], dict[int, str]]:
    """Each bar's colour, and the notes over the true and the predicted digit's bars."""
    colours = [OTHER_COLOUR] * NUM_CLASSES
    if true_label is None:
        colours[predicted] = BAR_COLOUR
        return colours, {predicted: "predicted"}
    colours[true_label] = TRUE_COLOUR
    if predicted == true_label:
        return colours, {true_label: "true = predicted"}
    colours[predicted] = WRONG_COLOUR
    return colours, {
        true_label: f"true ({tenths_text(percent[true_label])})",
        predicted: "predicted",
    }
