"""The Evaluate page through AppTest, on a small network trained and stored by the test."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import confusion_matrix
from core.model import ModelSpec
from core.runs import RunStore
from core.training import TrainingJob
from tests.conftest import REPO
from tests.synthetic import patch_digits, write_idx_folder


@pytest.fixture
def trained_run(tmp_path, monkeypatch):
    data = patch_digits(n_train=400, n_test=120, seed=3)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx_folder(folder, data)
    monkeypatch.setenv("MNIST_DATA", str(folder))
    store = RunStore()
    spec = ModelSpec(
        hidden_units=[16], activations=["relu"], dropouts=[0.0], epochs=2, batch_size=32
    )
    run_id = store.create_run(spec, "patch digits")
    job = TrainingJob(
        spec,
        data,
        run_id=run_id,
        listeners=(store.epoch_listener,),
        finish_listeners=(store.finish_listener,),
    )
    assert job.start().join(timeout=120)
    return run_id, job


def open_evaluate() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/evaluate.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_shows_the_runs_numbers_and_figures(trained_run):
    run_id, job = trained_run
    at = open_evaluate()
    metrics = {m.label: m.value for m in at.metric}
    expected = job.monitor.snapshot().test_accuracy
    assert metrics["Test accuracy"] == f"{expected:.2%}"
    predicted = job.test_probabilities.argmax(axis=1)
    errors = int(np.sum(predicted != job.data.y_test))
    assert metrics["Wrong"] == f"{errors:,} of 120"
    # Confusion matrix, cell gallery, per-class, mistakes, digit, probabilities, weights.
    assert len(at.get("plotly_chart")) >= 6
    cm = confusion_matrix(job.data.y_test, predicted)
    at.selectbox(key="evaluate_true").set_value(3).run()
    at.selectbox(key="evaluate_predicted").set_value(3).run()
    assert any(f"**{cm[3, 3]:,}** test images of a **3**" in m.value for m in at.markdown)


def test_inspecting_and_filtering(trained_run):
    at = open_evaluate()
    at.number_input(key="evaluate_index").set_value(7).run()
    assert not at.exception
    at.selectbox(key="evaluate_mistake_true").set_value(1).run()
    assert any("mistakes, the most confident first" in m.value for m in at.markdown)
    at.button(key="evaluate_random").click().run()
    assert 0 <= at.number_input(key="evaluate_index").value < 120


def test_without_runs_the_page_points_to_train(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx_folder(folder, patch_digits(n_train=50, n_test=20))
    monkeypatch.setenv("MNIST_DATA", str(folder))
    at = open_evaluate()
    assert any("No trained network yet" in i.value for i in at.info)
