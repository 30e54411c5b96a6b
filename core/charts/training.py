"""Plotly figures for live training: loss and accuracy, train against validation.

Epoch `e` (counting from 1) is drawn at x = e, the moment it ended. Between the epoch markers
runs a thin line of what Keras reports after each batch: not that batch's own loss, but the
average over the epoch so far (Keras's running mean, which restarts at each epoch), drawn at
x = epoch + fraction done; so it is labelled "train (epoch so far)" and runs into the next
epoch's marker, which is the same average over the whole epoch.

What the learner changed while it trained (`Snapshot.changes`: a new learning rate or weight
decay, a pause) is a dashed vertical line on both panels where it happened, labelled on the
loss panel ("lr 0.0003", "wd 0.0001", "paused 12 s").
"""

from __future__ import annotations

import copy
import functools

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.training.monitor import Snapshot

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BATCH_COLOUR = "rgba(31, 119, 180, 0.35)"
RUNNING_AVERAGE = "train (epoch so far)"
PARENT_SHADE = "rgba(128, 128, 128, 0.14)"  # a continued run's epochs carried from its parent


HEIGHT = 360
CHANGE_COLOURS = {"learning_rate": "#7b2cbf", "weight_decay": "#2a9d8f", "pause": "#6c757d"}


@functools.cache
def _panels_layout() -> dict:
    """The two panels (loss left, accuracy right) as `make_subplots` lays them out, made once:
    plotly's checked construction is slow, and would be paid at every redraw of the live
    curves (twice a second, on the cores training uses) and on the page Train and Stop draw.
    Callers copy it."""
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1
    )
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(title_text="loss", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="accuracy", tickformat=".0%", row=1, col=2)
    figure.update_layout(
        height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": -0.35, "x": 0.5, "xanchor": "center"},
        uirevision="training-curves",
    )
    return figure.to_plotly_json()["layout"]


# Each panel's axes, as its traces name them and as the layout does: col 1 is loss, 2 accuracy.
_AXES = {1: {"xaxis": "x", "yaxis": "y"}, 2: {"xaxis": "x2", "yaxis": "y2"}}
_X_AXIS = {1: "xaxis", 2: "xaxis2"}


def _epoch_line(epochs: list[int], values: list[float], name: str, colour: str, col: int):
    """One marker per finished epoch; the legend lists it once (from the left panel)."""
    return {
        "type": "scatter",
        "x": epochs,
        "y": values,
        "mode": "lines+markers",
        "line": {"color": colour},
        "name": name,
        "legendgroup": name,
        "showlegend": col == 1,
        "hovertemplate": f"epoch %{{x}}<br>%{{y:.4f}}<extra>{name}</extra>",
        **_AXES[col],
    }


def training_curves_figure(snapshot: Snapshot, carried: int = 0) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, with the running average within each epoch.

    `carried`: a continued run's first epochs, its parent's (core/runs/lineage.py), shaded grey.
    Made from plain dicts without plotly's checks (a fourteenth of the cost); the tests check
    that plotly's checked construction accepts it and gives the same figure."""
    layout = copy.deepcopy(_panels_layout())
    data = []
    history = snapshot.history
    epochs = list(range(1, len(history["loss"]) + 1))
    for col, (train_key, val_key) in enumerate(
        (("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1
    ):
        if snapshot.batches:
            index = 1 if train_key == "loss" else 2
            data.append(
                {
                    "type": "scatter",
                    "x": [point[0] for point in snapshot.batches],
                    "y": [point[index] for point in snapshot.batches],
                    # One point is no line: until a second comes, it shows as a dot.
                    "mode": "lines" if len(snapshot.batches) > 1 else "markers",
                    "line": {"color": BATCH_COLOUR, "width": 1},
                    "marker": {"color": BATCH_COLOUR, "size": 6},
                    "name": RUNNING_AVERAGE,
                    "legendgroup": "batches",
                    "showlegend": col == 1,
                    "hovertemplate": (
                        "epoch %{x:.2f}<br>%{y:.4f}<extra>average of the epoch so far</extra>"
                    ),
                    **_AXES[col],
                }
            )
        data.append(_epoch_line(epochs, list(history[train_key]), "train", TRAIN_COLOUR, col))
        if any(value == value for value in history[val_key]):  # not all NaN
            values = list(history[val_key])
            data.append(_epoch_line(epochs, values, "validation", VALIDATION_COLOUR, col))
        layout[_X_AXIS[col]]["range"] = [0, max(snapshot.epochs, 1) + 0.05]
    _mark_changes(layout, snapshot)
    if not snapshot.batches and not epochs:  # empty axes (before a run): nothing to fit
        layout["yaxis2"]["range"] = [0, 1]  # not plotly's -100 % to 400 %
    if carried:
        _shade_parent(layout, carried)
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _shade_parent(layout: dict, carried: int) -> None:
    """A grey band over the parent's epochs of a continued run, in both panels, named once."""
    for x, y in (("x", "y"), ("x2", "y2")):
        layout.setdefault("shapes", []).append(
            {
                "type": "rect",
                "xref": x,
                "yref": f"{y} domain",
                "x0": 0,
                "x1": carried,
                "y0": 0,
                "y1": 1,
                "fillcolor": PARENT_SHADE,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        layout["annotations"].append(
            {
                "text": "parent run",
                "xref": x,
                "yref": f"{y} domain",
                "x": carried / 2,
                "y": 0.02,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": "#777"},
            }
        )


def _mark_changes(layout: dict, snapshot: Snapshot) -> None:
    """A dashed line on both panels at each change, its label on the loss panel."""
    if not snapshot.changes:
        return
    shapes, notes = list(layout.get("shapes", [])), list(layout.get("annotations", []))
    for change in snapshot.changes:
        x = change.x(snapshot.steps_per_epoch)
        colour = CHANGE_COLOURS.get(change.kind, "#6c757d")
        dash = "dot" if change.kind == "pause" else "dash"
        for col in (1, 2):
            axes = _AXES[col]
            shapes.append(
                {
                    "type": "line",
                    "xref": axes["xaxis"],
                    "yref": f"{axes['yaxis']} domain",
                    "x0": x,
                    "x1": x,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": colour, "width": 1.5, "dash": dash},
                }
            )
        notes.append(
            {
                "x": x,
                "y": 1,
                "xref": "x",
                "yref": "y domain",
                "text": change.label(),
                "textangle": -90,  # along its line: marks close together keep apart
                "showarrow": False,
                "xanchor": "left",  # right of its line: a change at batch 0 still shows
                "yanchor": "top",
                "font": {"size": 11, "color": colour},
                "bgcolor": "rgba(255, 255, 255, 0.8)",
            }
        )
    layout["shapes"], layout["annotations"] = shapes, notes
