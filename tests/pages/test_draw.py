"""The Draw page through AppTest. The canvas is a custom component that AppTest cannot draw
on, so these tests cover the page around it: no run yet, the quick-model button, the prompt
before anything is drawn, when the page polls; drawing itself is tested in tests/browser/ and
through core."""

from __future__ import annotations

import pytest
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

from core.runs.store import RunStore
from core.training.registry import JOBS
from tests.support.pages import open_page
from tests.support.runs import model_bytes, tiny_model

PAGE = "app_pages/draw.py"


@pytest.fixture
def timers(monkeypatch) -> list[float]:
    """The intervals of every fragment timer (st.fragment(run_every=...)) the page sets up."""
    seen: list[float] = []
    enqueue = ScriptRunContext.enqueue

    def spy(self, msg):
        if msg.HasField("auto_rerun"):
            seen.append(msg.auto_rerun.interval)
        return enqueue(self, msg)

    monkeypatch.setattr(ScriptRunContext, "enqueue", spy)
    return seen


def test_without_a_model_the_page_offers_a_quick_one_and_polls_only_while_it_trains(
    small_mnist, timers
):
    at = open_page(PAGE)
    assert any("no trained network" in i.value for i in at.info)
    assert timers == []  # nothing to wait for
    button = at.button(key="draw_quick_train")
    assert "Train a quick model" in button.label
    button.click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert job is not None and job.spec.epochs == 3
    assert timers and set(timers) == {1.0}  # the progress panel follows the training
    job.stop()
    assert job.join(timeout=120)
    timers.clear()
    at.run()
    assert not at.exception, at.exception
    assert timers == []  # training over: no timer left


def test_with_a_model_the_page_prompts_for_a_drawing_and_does_not_poll(
    small_mnist, tmp_path, timers
):
    store = RunStore()
    run_id = store.import_model(model_bytes(tiny_model(), tmp_path, "m.keras"), "m.keras", "m")
    at = open_page(PAGE)
    assert at.selectbox(key="draw_run").value == run_id
    assert any("Draw a digit on the black square" in i.value for i in at.info)
    assert not at.metric  # no prediction before anything is drawn
    assert at.slider(key="draw_pen").value == 18
    assert timers == []


def test_a_run_whose_model_file_is_gone_is_an_error_not_a_traceback(small_mnist, tmp_path):
    store = RunStore()
    run_id = store.import_model(model_bytes(tiny_model(), tmp_path, "m.keras"), "m.keras", "m")
    store.model_path(run_id).unlink()
    at = open_page(PAGE)
    assert any("model cannot be loaded" in e.value for e in at.error), [e.value for e in at.error]
