"""The Draw page through AppTest. The canvas is a custom component that AppTest cannot draw
on, so these tests cover the page around it: no run yet, the quick-model button, the prompt
before anything is drawn; drawing itself is tested in tests/browser/ and through core."""

import pytest
from streamlit.testing.v1 import AppTest

from core.model import ModelSpec
from core.runs import RunStore
from core.training import JOBS, TrainingJob
from tests.conftest import REPO
from tests.synthetic import patch_digits, write_idx_folder


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    data = patch_digits(n_train=300, n_test=60)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx_folder(folder, data)
    monkeypatch.setenv("MNIST_DATA", str(folder))
    return data


def open_draw() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/draw.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_without_a_model_the_page_offers_a_quick_one(small_mnist):
    at = open_draw()
    assert any("no trained network" in i.value for i in at.info)
    button = at.button(key="draw_quick_train")
    assert "Train a quick model" in button.label
    button.click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert job is not None and job.spec.epochs == 3
    job.stop()
    assert job.join(timeout=120)


def test_with_a_model_the_page_prompts_for_a_drawing(small_mnist):
    store = RunStore()
    spec = ModelSpec(
        hidden_units=[8], activations=["relu"], dropouts=[0.0], epochs=1, batch_size=32
    )
    run_id = store.create_run(spec, "patch digits")
    job = TrainingJob(
        spec,
        small_mnist,
        run_id=run_id,
        listeners=(store.epoch_listener,),
        finish_listeners=(store.finish_listener,),
    )
    assert job.start().join(timeout=120)
    at = open_draw()
    assert at.selectbox(key="draw_run").value == run_id
    assert any("Draw a digit on the black square" in i.value for i in at.info)
    assert not at.metric  # no prediction before anything is drawn
    assert at.slider(key="draw_pen").value == 18
