"""Evaluate on My digits through AppTest: the figures against a count by hand of the model's
own predictions on the kept digits, every tab drawn on them, and back to MNIST's."""

from __future__ import annotations

import numpy as np
import pytest

from core.mydigits.store import MyDigitsStore
from core.runs.store import RunStore, default_home
from tests.pages.test_evaluate import chart_titled, describe, open_tab
from tests.support.pages import open_page
from tests.support.runs import model_bytes, tiny_model

PAGE = "app_pages/evaluate.py"
KEPT = 14


@pytest.fixture
def kept(small_mnist, tmp_path):
    """A stored network and 14 kept digits (MNIST test images, some labelled wrongly on
    purpose); returns the model's probabilities on them and their labels."""
    model = tiny_model()
    RunStore().import_model(model_bytes(model, tmp_path, "tiny.keras"), "tiny.keras", "tiny")
    images = small_mnist.x_test[:KEPT].astype(np.float32) / np.float32(255)
    labels = small_mnist.y_test[:KEPT].astype(int)
    labels[::3] = (labels[::3] + 1) % 10
    store = MyDigitsStore(default_home())
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        store.keep(image, int(label), created=float(i))
    probabilities = np.asarray(model(images.reshape(KEPT, -1), training=False))
    return probabilities, labels


def test_every_figure_on_my_digits_matches_a_count_by_hand(kept):
    probabilities, labels = kept
    at = open_page(PAGE)
    at.session_state["evaluate_test_set"] = "mine"
    at.run()
    assert not at.exception, at.exception
    predicted = probabilities.argmax(axis=1)
    wrong = sum(1 for p, t in zip(predicted, labels, strict=True) if p != t)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[f"Wrong, of {KEPT}"] == str(wrong)
    assert metrics["My digits: accuracy"] == f"{(KEPT - wrong) / KEPT:.2%}"
    assert "Test accuracy" not in metrics  # the label says which test set
    by_hand = np.zeros((10, 10), int)
    for t, p in zip(labels, predicted, strict=True):
        by_hand[t, p] += 1
    np.testing.assert_array_equal(chart_titled(at, "Confusion matrix")["data"][0]["z"], by_hand)

    open_tab(at, "Mistakes")
    assert any(f"**{wrong:,}** mistakes" in m.value for m in at.markdown)
    open_tab(at, "Per digit")
    assert not at.exception, at.exception
    open_tab(at, "Inspect a digit")
    at.number_input(key="evaluate_index").set_value(KEPT - 1).run()
    assert not at.exception, at.exception
    title = chart_titled(at, "true ")["layout"]["title"]["text"]
    assert title == describe(probabilities, labels, KEPT - 1)


def test_a_score_on_my_digits_is_kept_for_the_runs_table(kept):
    probabilities, labels = kept
    right = int((probabilities.argmax(axis=1) == labels).sum())
    at = open_page(PAGE)
    at.session_state["evaluate_test_set"] = "mine"
    at.run()
    assert not at.exception, at.exception
    (run,) = RunStore().list_runs()
    score = MyDigitsStore(default_home()).scores()[run.id]
    assert (score.count, score.accuracy) == (KEPT, pytest.approx(right / KEPT))
    runs = open_page("app_pages/runs.py")
    table = runs.dataframe[0].value
    assert table.loc[run.id, "My digits (%)"] == pytest.approx(100 * right / KEPT)
    assert any(f"of {KEPT} digits right" in c.value for c in runs.caption), [
        c.value for c in runs.caption
    ]


def test_back_on_mnist_the_index_inspected_in_my_digits_is_kept_in_range(kept):
    at = open_tab(open_page(PAGE), "Inspect a digit")
    at.number_input(key="evaluate_index").set_value(90).run()
    at.session_state["evaluate_test_set"] = "mine"
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="evaluate_index").value == 0  # 90 is past the 14 kept
    assert [m.label for m in at.metric if m.label.startswith("Wrong")] == [f"Wrong, of {KEPT}"]


def test_my_digits_with_none_kept_points_at_draw(small_mnist, tmp_path):
    RunStore().import_model(model_bytes(tiny_model(), tmp_path, "t.keras"), "t.keras", "t")
    at = open_page(PAGE)
    at.session_state["evaluate_test_set"] = "mine"
    at.run()
    assert any("No digits kept yet" in i.value for i in at.info)
    assert not at.metric
