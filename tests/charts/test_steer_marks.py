"""The live curves mark what the learner changed while the run trained: a dashed line on both
panels where it happened, labelled on the loss panel."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio

from core.charts.training import CHANGE_COLOURS, training_curves_figure
from core.training.monitor import Snapshot
from core.training.steering import Change


def test_each_change_is_a_line_on_both_panels_at_its_batch_with_its_label():
    changes = [
        Change.at("learning_rate", 25, 10, 0.0003),
        Change.at("pause", 31, 10, 12.0),
        Change.at("weight_decay", 40, 10, 0.0001),
    ]
    snapshot = Snapshot(status="running", epochs=5, steps_per_epoch=10, changes=changes)
    layout = training_curves_figure(snapshot).to_dict()["layout"]
    lines = layout["shapes"]
    assert [(line["x0"], line["xref"]) for line in lines] == [
        (2.5, "x"),
        (2.5, "x2"),
        (3.1, "x"),
        (3.1, "x2"),
        (4.0, "x"),
        (4.0, "x2"),
    ]
    assert lines[0]["line"]["color"] == CHANGE_COLOURS["learning_rate"]
    assert lines[2]["line"]["dash"] == "dot"  # a pause
    labels = [(note["text"], note["x"]) for note in layout["annotations"]]
    assert ("lr 0.0003", 2.5) in labels and ("paused 12 s", 3.1) in labels
    assert ("wd 0.0001", 4.0) in labels
    figure = training_curves_figure(snapshot)  # plotly's checks accept it unchanged
    assert json.loads(pio.to_json(go.Figure(figure.to_dict()))) == json.loads(pio.to_json(figure))


def test_a_run_never_steered_has_no_marks():
    layout = training_curves_figure(Snapshot(epochs=3, steps_per_epoch=10)).to_dict()["layout"]
    assert not layout.get("shapes")
    assert [note["text"] for note in layout["annotations"]] == ["Loss", "Accuracy"]
