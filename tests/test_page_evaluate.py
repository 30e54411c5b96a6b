"""The Evaluate page through AppTest, on a small network trained and stored by the test."""

import numpy as np
import pytest

from core.evaluation import confusion_matrix
from tests.page_helpers import open_page, train_stored_run


@pytest.fixture
def trained_run(small_mnist):
    return train_stored_run(small_mnist)


def test_page_shows_the_runs_numbers_and_figures(trained_run):
    run_id, job = trained_run
    at = open_page("app_pages/evaluate.py")
    metrics = {m.label: m.value for m in at.metric}
    expected = job.monitor.snapshot().test_accuracy
    assert metrics["Test accuracy"] == f"{expected:.2%}"
    predicted = job.test_probabilities.argmax(axis=1)
    errors = int(np.sum(predicted != job.data.y_test))
    assert metrics["Wrong"] == f"{errors:,} of 100"
    # Confusion matrix, cell gallery, per-class, mistakes, digit, probabilities, weights.
    assert len(at.get("plotly_chart")) >= 6
    cm = confusion_matrix(job.data.y_test, predicted)
    at.selectbox(key="evaluate_true").set_value(3).run()
    at.selectbox(key="evaluate_predicted").set_value(3).run()
    assert any(f"**{cm[3, 3]:,}** test images of a **3**" in m.value for m in at.markdown)


def test_inspecting_and_filtering(trained_run):
    at = open_page("app_pages/evaluate.py")
    at.number_input(key="evaluate_index").set_value(7).run()
    assert not at.exception
    at.selectbox(key="evaluate_mistake_true").set_value(1).run()
    assert any("mistakes, the most confident first" in m.value for m in at.markdown)
    at.button(key="evaluate_random").click().run()
    assert 0 <= at.number_input(key="evaluate_index").value < 100


def test_without_runs_the_page_points_to_train(small_mnist):
    at = open_page("app_pages/evaluate.py")
    assert any("No trained network yet" in i.value for i in at.info)
