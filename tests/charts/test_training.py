"""core/training_charts: the live curves show each epoch and, between them, Keras's running
average of the epoch under way, labelled as what it is."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio

from core.charts.training import RUNNING_AVERAGE, training_curves_figure
from core.training.monitor import Snapshot


def snapshot() -> Snapshot:
    return Snapshot(
        status="running",
        epoch=2,
        epochs=4,
        history={
            "loss": [0.9, 0.5],
            "accuracy": [0.7, 0.85],
            "val_loss": [0.8, 0.6],
            "val_accuracy": [0.75, 0.8],
        },
        batches=[(0.5, 1.2, 0.6), (1.0, 0.9, 0.7), (1.5, 0.6, 0.82), (2.5, 0.45, 0.88)],
    )


def traces(figure, name):
    return [trace for trace in figure.data if trace.name == name]


def test_epoch_markers_carry_the_history_at_the_epoch_they_ended():
    figure = training_curves_figure(snapshot())
    loss, accuracy = traces(figure, "train")
    assert list(loss.x) == [1, 2] and list(loss.y) == [0.9, 0.5]
    assert list(accuracy.y) == [0.7, 0.85]
    val_loss, _ = traces(figure, "validation")
    assert list(val_loss.y) == [0.8, 0.6]


def test_the_line_between_epochs_is_named_a_running_average_not_batches():
    figure = training_curves_figure(snapshot())
    loss, accuracy = traces(figure, RUNNING_AVERAGE)
    assert list(loss.x) == [0.5, 1.0, 1.5, 2.5]
    assert list(loss.y) == [1.2, 0.9, 0.6, 0.45]
    assert list(accuracy.y) == [0.6, 0.7, 0.82, 0.88]
    assert "epoch so far" in RUNNING_AVERAGE and "batch" not in RUNNING_AVERAGE
    assert "average of the epoch so far" in loss.hovertemplate
    assert not traces(training_curves_figure(Snapshot(epochs=4)), RUNNING_AVERAGE)


def test_validation_is_left_out_when_there_is_none():
    bare = snapshot()
    bare.history["val_loss"] = [float("nan")] * 2
    bare.history["val_accuracy"] = [float("nan")] * 2
    assert not traces(training_curves_figure(bare), "validation")


def test_empty_axes_before_a_run_span_the_epochs_and_accuracies_from_0_to_100_percent():
    empty = training_curves_figure(Snapshot(epochs=4))
    assert list(empty.layout.xaxis.range) == [0, 4.05]
    assert list(empty.layout.yaxis2.range) == [0, 1]  # plotly alone shows -100 % to 400 %
    assert training_curves_figure(snapshot()).layout.yaxis2.range is None  # data: fitted


def test_the_first_batch_point_shows_as_a_dot_until_there_is_a_line_to_draw():
    first = Snapshot(epochs=4, steps_per_epoch=10, batches=[(0.1, 2.3, 0.1)])
    assert {t.mode for t in traces(training_curves_figure(first), RUNNING_AVERAGE)} == {"markers"}
    assert {t.mode for t in traces(training_curves_figure(snapshot()), RUNNING_AVERAGE)} == {
        "lines"
    }


def test_plotly_accepts_the_unchecked_figure_as_it_is_and_changes_nothing():
    """The figure is made from plain dicts without plotly's checks (for speed): plotly's checked
    construction must accept every property and value, and give the same figure."""
    without_validation = snapshot()
    without_validation.history["val_loss"] = [float("nan")] * 2
    without_validation.history["val_accuracy"] = [float("nan")] * 2
    for case in (
        Snapshot(epochs=4),
        Snapshot(epochs=4, steps_per_epoch=10, batches=[(0.1, 2.3, 0.1)]),
        snapshot(),
        without_validation,
    ):
        figure = training_curves_figure(case)
        checked = go.Figure(figure.to_dict())  # raises on what plotly does not know
        assert json.loads(pio.to_json(checked)) == json.loads(pio.to_json(figure))
