"""The Evaluate page through AppTest, on a small untrained network stored as an imported run
(no training: the page's numbers are checked against the model's own predictions)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import core.inside.evaluation
from core.inside.evaluation import confusion_matrix
from core.mnist.data import load_mnist
from core.runs.store import RunStore
from tests.conftest import REPO
from tests.support.pages import decoded, open_page, train_stored_run
from tests.support.runs import model_bytes, tiny_model

PAGE = "app_pages/evaluate.py"


@pytest.fixture
def stored(small_mnist, tmp_path):
    """(store, run id, the model's probabilities on the test digits, true digits)."""
    store = RunStore()
    model = tiny_model()
    run_id = store.import_model(model_bytes(model, tmp_path, "tiny.keras"), "tiny.keras", "tiny")
    x = small_mnist.x_test.reshape(len(small_mnist.x_test), -1).astype(np.float32) / 255
    probabilities = np.asarray(model(x, training=False))
    return store, run_id, probabilities, small_mnist.y_test.astype(int)


def charts(at) -> list[dict]:
    return [decoded(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]


def chart_titled(at, start: str) -> dict:
    found = [
        c for c in charts(at) if c["layout"].get("title", {}).get("text", "").startswith(start)
    ]
    assert len(found) == 1, [c["layout"].get("title") for c in charts(at)]
    return found[0]


def describe(probabilities, labels, index) -> str:
    """The page's caption of one test image, written out here from the probabilities."""
    predicted, confidence = int(probabilities[index].argmax()), probabilities[index].max()
    joiner = "," if predicted == labels[index] else " →"
    return f"true {labels[index]}{joiner} predicted {predicted} ({100 * confidence:.0f} %)"


def test_page_shows_the_runs_numbers_and_figures(stored):
    _, _, probabilities, labels = stored
    at = open_page(PAGE)
    predicted = probabilities.argmax(axis=1)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{np.mean(predicted == labels):.2%}"
    assert metrics["Wrong, of 100"] == f"{int(np.sum(predicted != labels)):,}"
    cm = confusion_matrix(labels, predicted)
    matrix = chart_titled(at, "Confusion matrix")
    np.testing.assert_array_equal(matrix["data"][0]["z"], cm)
    at.selectbox(key="evaluate_true").set_value(3).run()
    at.selectbox(key="evaluate_predicted").set_value(int(predicted[labels == 3][0])).run()
    cell = int(cm[3, predicted[labels == 3][0]])
    assert any(f"**{cell:,}** test images of a **3**" in m.value for m in at.markdown)


def open_tab(at, label: str):
    """Open one of the page's tabs, as a click on it does (it reruns the page)."""
    at.session_state["evaluate_tab"] = label
    return at.run()


def test_inspecting_and_filtering(stored):
    _, _, probabilities, labels = stored
    at = open_tab(open_page(PAGE), "Inspect a digit")

    # 1. The chosen test image is drawn and captioned with its own prediction.
    at.number_input(key="evaluate_index").set_value(7).run()
    assert not at.exception, at.exception
    digit = chart_titled(at, "true ")
    assert digit["layout"]["title"]["text"] == describe(probabilities, labels, 7)
    bars = chart_titled(at, "Predicted ")
    np.testing.assert_allclose(
        [b for t in bars["data"] for b in t["y"]], 100 * probabilities[7], rtol=1e-5
    )

    # 2. Filtering mistakes by true digit counts and shows only those, most confident first.
    open_tab(at, "Mistakes")
    at.selectbox(key="evaluate_mistake_true").set_value(1).run()
    wrong = np.flatnonzero((probabilities.argmax(1) != labels) & (labels == 1))
    assert any(f"**{len(wrong):,}** mistakes" in m.value for m in at.markdown)
    gallery = next(
        c for c in charts(at) if c["data"][-1].get("hovertext", [""])[0].startswith("test")
    )
    shown = gallery["data"][1]["customdata"]
    assert sorted(shown) == sorted(wrong.tolist())
    confidence = probabilities.max(axis=1)[shown]
    assert list(confidence) == sorted(confidence, reverse=True)

    # 3. Random picks other images, each then shown with its own caption.
    open_tab(at, "Inspect a digit")
    assert at.number_input(key="evaluate_index").value == 7  # kept while Mistakes was open
    seen = set()
    for _ in range(6):
        at.button(key="evaluate_random").click().run()
        index = at.number_input(key="evaluate_index").value
        assert 0 <= index < 100
        assert chart_titled(at, "true ")["layout"]["title"]["text"] == describe(
            probabilities, labels, index
        )
        seen.add(index)
    assert len(seen) > 1  # six draws from 100 all alike: one chance in 10^10


def test_without_runs_the_page_points_to_train(small_mnist):
    at = open_page(PAGE)
    assert any("No trained network yet" in i.value for i in at.info)


@pytest.mark.parametrize("damage", ["deleted", "overwritten"])
def test_a_run_whose_model_file_is_gone_is_an_error_not_a_traceback(stored, damage):
    store, run_id, _, _ = stored
    path = store.model_path(run_id)
    if damage == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"not a model any more")
    at = open_page(PAGE)
    assert any("model cannot be loaded" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.metric


def test_a_mistake_chosen_is_the_image_inspect_a_digit_shows(stored, monkeypatch):
    """Choosing a mistake reruns only the Mistakes tab (a fragment); Inspect a digit kept
    showing the image before until a full rerun (issue 29). Only the open tab is drawn now,
    and opening Inspect a digit reruns the page with the chosen image."""
    _, _, probabilities, labels = stored
    wrong = np.flatnonzero(probabilities.argmax(1) != labels)
    chosen = int(wrong[-1])  # the least confident mistake: not the first tile
    at = open_page(PAGE)  # the confusion matrix open
    assert all(n.key != "evaluate_index" for n in at.number_input)
    open_tab(at, "Mistakes")
    # While Mistakes is open, Inspect a digit is not drawn: nothing there can go stale.
    assert all(n.key != "evaluate_index" for n in at.number_input)
    assert not [h for h in at.subheader if h.value == "Inside the network"]

    import app_pages.selection

    real = app_pages.selection.clickable_chart

    def click_a_mistake(figure, key, read):
        real(figure, key, read)
        return chosen if key == "evaluate_mistakes" else None

    monkeypatch.setattr(app_pages.selection, "clickable_chart", click_a_mistake)
    at.run()
    assert any(f"Test image {chosen} is now in" in i.value for i in at.info)
    monkeypatch.setattr(app_pages.selection, "clickable_chart", real)

    open_tab(at, "Inspect a digit")
    assert at.number_input(key="evaluate_index").value == chosen
    digit = chart_titled(at, "true ")
    assert digit["layout"]["title"]["text"] == describe(probabilities, labels, chosen)


def test_the_first_draw_leaves_the_inside_views_until_their_tab_is_opened(stored, monkeypatch):
    """With a convnet the page took 14.9 s to first show, most of it the inside views of a
    tab nobody had opened (issue 29)."""
    import app_pages.inside_views

    opened = []
    monkeypatch.setattr(
        app_pages.inside_views, "get_inspector", lambda *args: opened.append(args) or 1 / 0
    )
    at = open_page(PAGE)
    assert {m.label for m in at.metric} == {"Test accuracy", "Test loss", "Wrong, of 100"}
    assert chart_titled(at, "Confusion matrix")
    assert opened == []
    for tab in ("Per digit", "Mistakes", "First-layer weights"):
        open_tab(at, tab)
        assert not at.exception and opened == [], tab


def test_the_per_digit_table_gives_every_rate_with_one_decimal(stored):
    """It showed "99.8" beside "99.24", and an F1 of "98" (issue 29)."""
    at = open_tab(open_page(PAGE), "Per digit")
    (table,) = at.dataframe
    rates = ["precision %", "recall (accuracy) %", "F1 %"]
    columns = json.loads(table.proto.columns)
    assert {name: columns[name]["type_config"]["format"] for name in rates} == dict.fromkeys(
        rates, "%.1f"
    )
    values = table.value[rates].to_numpy()
    assert np.array_equal(values, np.round(values, 1))
    dots = chart_titled(at, "Accuracy on each digit")
    start = dots["layout"]["yaxis"]["range"][0]
    subtitle = dots["layout"]["title"].get("subtitle", {}).get("text", "")
    assert (start == 0 and not subtitle) or f"starts at {start:g} %, not 0" in subtitle


def test_the_stored_test_figures_show_while_the_page_predicts(small_mnist, monkeypatch):
    """With a convnet run the page took 14.9 s to first show (issue 29): the figures stored
    when the run was tested are there at once, before the model is loaded and run."""
    _, job = train_stored_run(load_mnist(os.environ["MNIST_DATA"]), epochs=1)  # the page's data

    def still_predicting(*args, **kwargs):
        raise TimeoutError("still predicting the test digits")

    monkeypatch.setattr(core.inside.evaluation, "predict_probabilities", still_predicting)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90).run()
    at.switch_page(PAGE).run()
    assert "still predicting" in at.exception[0].message  # the page got no further
    wrong = round((1 - job.result.test_accuracy) * len(small_mnist.y_test))
    assert {m.label: m.value for m in at.metric} == {
        "Test accuracy": f"{job.result.test_accuracy:.2%}",
        "Test loss": f"{job.result.test_loss:.4f}",
        "Wrong, of 100": f"{wrong:,}",
    }
