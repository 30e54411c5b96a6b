"""The Runs page's table and comparison charts, checked against the stored values."""

from __future__ import annotations

import dataclasses
import datetime
import html
import re

import numpy as np
import pandas as pd
import pytest

from core.charts.runs import (
    TABLE_COLUMNS,
    UNKNOWN,
    confusion_figures,
    differing_rows,
    highlight_differences,
    overlay_figure,
    run_labels,
    runs_table,
    setting_label,
    spec_table,
)
from core.runs.store import RunStore
from tests.support.runs import epoch_logs, fill_run
from tests.support.specs import small_spec


@pytest.fixture
def store() -> RunStore:
    return RunStore()


def test_table_has_one_sortable_row_per_run(store):
    first, _ = fill_run(store, small_spec(learning_rate=0.01), epochs=2)
    second = store.create_run(small_spec(batch_size=256), "x")
    summaries = store.list_runs()
    table = runs_table(summaries)
    assert list(table.columns) == [c for c in TABLE_COLUMNS if c != "My digits (%)"]
    scored = runs_table(summaries, {second: (0.9, 20)})  # once a run has a score on My digits
    assert list(scored.columns) == list(TABLE_COLUMNS)
    assert scored.loc[second, "My digits (%)"] == 90.0 and pd.isna(scored.iloc[-1]["My digits (%)"])
    assert list(table.index) == [second, first]
    done = table.loc[first]
    run = store.get(first)
    assert done["Name"] == run.name and done["Status"] == "completed"
    assert done["Epochs"] == 2 and done["Learning rate"] == 0.01
    assert done["Val accuracy (%)"] == pytest.approx(100 * epoch_logs(1)["val_accuracy"])
    assert done["Test accuracy (%)"] == pytest.approx(100 * run.test_accuracy)
    local_time = datetime.datetime.fromtimestamp(run.created)  # naive local time, as shown
    assert abs((done["Created"] - local_time).total_seconds()) < 0.001
    # numbers stay numbers (so the table sorts them as numbers) and a missing one is empty
    assert table["Batch size"].dtype.kind == "i" and table["Time (s)"].dtype.kind == "f"
    assert table.loc[second, "Batch size"] == 256
    assert table["Test accuracy (%)"].isna().tolist() == [True, False]


def test_labels_tell_runs_with_the_same_name_apart(store):
    a = store.create_run(small_spec(), "x", name="same")
    b = store.create_run(small_spec(), "x", name="same")
    c = store.create_run(small_spec(), "x", name="other")
    summaries = {run.id: run for run in store.list_runs()}
    assert run_labels([summaries[i] for i in (a, b, c)]) == ["same (#1)", "same (#2)", "other"]


def test_overlay_draws_each_runs_history(store):
    runs = [store.get(fill_run(store, epochs=n, seed=n)[0]) for n in (2, 4)]
    figure = overlay_figure(runs, "val_loss")
    assert [trace.name for trace in figure.data] == [run.name for run in runs]
    for trace, run in zip(figure.data, runs, strict=True):
        assert list(trace.x) == list(range(1, run.epochs_done + 1))
        assert list(trace.y) == pytest.approx(
            [epoch_logs(e)["val_loss"] for e in range(run.epochs_done)]
        )
    assert figure.layout.xaxis.title.text == "Epoch"
    assert figure.layout.yaxis.title.text == "Validation loss"
    with pytest.raises(ValueError, match="unknown metric"):
        overlay_figure(runs, "f1")


def test_overlay_says_which_runs_have_no_values(store):
    with_validation = store.get(fill_run(store)[0])
    without = store.get(store.create_run(small_spec(), "x", name="no validation"))
    figure = overlay_figure([with_validation, without], "val_accuracy")
    assert len(figure.data) == 1
    assert "no validation" in figure.layout.annotations[0].text


def test_spec_table_marks_exactly_the_settings_that_differ(store):
    a = store.get(store.create_run(small_spec(learning_rate=0.01), "mnist"))
    b = store.get(store.create_run(small_spec(units=16, learning_rate=0.1), "mnist"))
    table = spec_table([a, b])
    assert list(table.columns) == [a.name, b.name]
    assert table.loc["Learning rate"].tolist() == ["0.01", "0.1"]
    assert table.loc["Layer 1"].tolist() == ["Dense 8, relu", "Dense 16, relu"]
    # the reference: fields (and layers) whose values differ between the two spec dicts
    layers = zip(a.spec_dict["layers"], b.spec_dict["layers"], strict=True)
    expected = (
        {"Architecture"}
        | {f"Layer {i}" for i, (x, y) in enumerate(layers, start=1) if x != y}
        | {
            setting_label(name)
            for name in a.spec_dict
            if name != "layers" and a.spec_dict[name] != b.spec_dict[name]
        }
    )
    assert (
        set(table.index[differing_rows(table)])
        == expected
        == {
            "Architecture",
            "Layer 1",
            "Learning rate",
        }
    )


def test_spec_table_lists_conv_layers_side_by_side(store):
    dense = store.get(store.create_run(small_spec(), "mnist"))
    conv_layers = [
        {"type": "Conv2D", "filters": 4},
        {"type": "MaxPooling2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
    ]
    conv = store.get(store.create_run(small_spec(layers=conv_layers), "mnist"))
    table = spec_table([dense, conv])
    layer_rows = [f"Layer {i}" for i in range(1, 5)]
    assert table.loc[layer_rows, table.columns[1]].tolist() == [
        "Conv2D 4 of 3x3, relu",
        "MaxPooling2D 2x2",
        "Flatten",
        "Dense 8, relu",
    ]
    assert table.loc[layer_rows, table.columns[0]].tolist() == ["Dense 8, relu", "", "", ""]
    assert table.loc["Architecture"].tolist() == ["784-8-10", "28x28-4C3-P2-F-8-10"]
    differs = differing_rows(table)
    assert all(differs[row] for row in layer_rows) and not differs["Optimizer"]


def test_spec_table_shows_unknown_settings_of_an_import(store):
    trained = store.get(store.create_run(small_spec(), "mnist"))
    known = {"hidden_units": [8], "activations": ["relu"], "dropouts": [0.0]}
    imported = dataclasses.replace(
        trained, id="other", name="imported", spec_dict=known, architecture="Flatten-Dense-Dense"
    )
    table = spec_table([trained, imported])
    column = table.columns[1]
    assert table.loc["Layer 1", column] == "Dense 8, relu"  # an old flat-form spec
    assert table.loc["Optimizer", column] == UNKNOWN
    differs = differing_rows(table)
    assert not differs["Optimizer"] and not differs["Layer 1"]  # unknown is not a difference
    assert set(table.index[differs]) == {"Architecture"}


def test_highlight_shades_only_the_rows_that_differ(store):
    a = store.get(store.create_run(small_spec(seed=1), "mnist"))
    b = store.get(store.create_run(small_spec(seed=2), "mnist"))
    table = spec_table([a, b])
    html = highlight_differences(table).to_html()
    styled_rows = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", html):
        if "background-color" in body:
            styled_rows |= {int(row) for row in re.findall(r"_row(\d+)_col", selectors)}
    assert styled_rows == {list(table.index).index("Seed")}


def test_confusion_figures_show_each_runs_matrix(store):
    trained = store.get(fill_run(store)[0])
    empty = store.get(store.create_run(small_spec(), "x", name="untested"))
    figures = confusion_figures([trained, empty])
    assert len(figures) == 2
    heatmap = figures[0].data[0]
    np.testing.assert_array_equal(np.asarray(heatmap.z), np.asarray(trained.confusion))
    assert trained.name in figures[0].layout.title.text
    assert figures[0].layout.title.subtitle.text == f"test {100 * trained.test_accuracy:.2f} %"
    assert "No test results" in figures[1].layout.annotations[0].text
    # Each cell wide enough for "1135" at its text's size (a digit is about 0.6 of it, plus
    # a little room), the plot not shared with a colour bar.
    layout = figures[0].layout
    cell = (layout.width - layout.margin.l - layout.margin.r) / 10
    assert cell >= 4 * 0.6 * heatmap.textfont.size + 6 and heatmap.showscale is False
    normalised = confusion_figures([trained], normalised=True)[0].data[0]
    rows = np.asarray(trained.confusion, dtype=float)
    np.testing.assert_allclose(
        np.asarray(normalised.z), 100 * rows / rows.sum(axis=1, keepdims=True)
    )


def test_a_name_is_shown_as_typed_in_the_figures_not_as_html(store):
    """Plotly draws <b> and <a href> in names and titles; a run's name must stay text."""
    name = "<b>bold</b> & <a href='http://example.com'>link</a> %{y}"
    runs = [store.get(fill_run(store, name=n, seed=i)[0]) for i, n in enumerate([name, "plain"])]
    overlay = overlay_figure(runs, "loss")
    matrices = confusion_figures(runs)
    for text in (overlay.data[0].name, matrices[0].layout.title.text):
        assert "<" not in text, text
        assert html.unescape(text).startswith(name)  # plotly shows the entities as characters
    # The hover text takes the (escaped) trace name; the name itself in the template would have
    # its "%{y}" filled in.
    assert name not in overlay.data[0].hovertemplate
    assert overlay.data[0].hovertemplate.startswith("%{fullData.name}<br>")


def test_the_settings_table_names_my_digits_and_augmentation_in_words():
    from core.charts.runs import setting_label

    assert setting_label("my_digits_repeats") == "My digits, times each (0: none)"
    assert setting_label("augment_rotation") == "Augmentation: rotation (degrees)"
