"""Plotly figures for live training: loss and accuracy, train against validation.

Epoch `e` (counting from 1) is drawn at x = e, the moment it ended. Between the epoch markers
runs a thin line of what Keras reports after each batch: not that batch's own loss, but the
average over the epoch so far (Keras's running mean, which restarts at each epoch), drawn at
x = epoch + fraction done; so it is labelled "train (epoch so far)" and runs into the next
epoch's marker, which is the same average over the whole epoch.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.monitor import Snapshot

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BATCH_COLOUR = "rgba(31, 119, 180, 0.35)"
RUNNING_AVERAGE = "train (epoch so far)"


HEIGHT = 360


def _epoch_line(epochs: list[int], values: list[float], name: str, colour: str, col: int):
    """One marker per finished epoch; the legend lists it once (from the left panel)."""
    return go.Scatter(
        x=epochs,
        y=values,
        mode="lines+markers",
        line={"color": colour},
        name=name,
        legendgroup=name,
        showlegend=col == 1,
        hovertemplate=f"epoch %{{x}}<br>%{{y:.4f}}<extra>{name}</extra>",
    )


def training_curves_figure(snapshot: Snapshot) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, with the running average within each epoch."""
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1
    )
    history = snapshot.history
    epochs = list(range(1, len(history["loss"]) + 1))
    for col, (train_key, val_key) in enumerate(
        (("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1
    ):
        if snapshot.batches:
            index = 1 if train_key == "loss" else 2
            figure.add_trace(
                go.Scatter(
                    x=[point[0] for point in snapshot.batches],
                    y=[point[index] for point in snapshot.batches],
                    # One point is no line: until a second comes, it shows as a dot.
                    mode="lines" if len(snapshot.batches) > 1 else "markers",
                    line={"color": BATCH_COLOUR, "width": 1},
                    marker={"color": BATCH_COLOUR, "size": 6},
                    name=RUNNING_AVERAGE,
                    legendgroup="batches",
                    showlegend=col == 1,
                    hovertemplate=(
                        "epoch %{x:.2f}<br>%{y:.4f}<extra>average of the epoch so far</extra>"
                    ),
                ),
                row=1,
                col=col,
            )
        figure.add_trace(
            _epoch_line(epochs, history[train_key], "train", TRAIN_COLOUR, col), 1, col
        )
        if any(value == value for value in history[val_key]):  # not all NaN
            line = _epoch_line(epochs, history[val_key], "validation", VALIDATION_COLOUR, col)
            figure.add_trace(line, 1, col)
        figure.update_xaxes(
            title_text="epoch", range=[0, max(snapshot.epochs, 1) + 0.05], row=1, col=col
        )
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="accuracy", tickformat=".0%", row=1, col=2)
    if not snapshot.batches and not epochs:  # empty axes (before a run): nothing to fit
        figure.update_yaxes(range=[0, 1], row=1, col=2)  # not plotly's -100 % to 400 %
    figure.update_layout(
        height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": -0.35, "x": 0.5, "xanchor": "center"},
        uirevision="training-curves",
    )
    return figure
