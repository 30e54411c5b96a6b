"""The Draw page through AppTest. The canvas is a custom component that AppTest cannot draw
on, so these tests cover the page around it: no run yet, the quick-model button, the prompt
before anything is drawn; drawing itself is tested in tests/browser/ and through core."""

from core.training import JOBS
from tests.page_helpers import open_page, train_stored_run


def test_without_a_model_the_page_offers_a_quick_one(small_mnist):
    at = open_page("app_pages/draw.py")
    assert any("no trained network" in i.value for i in at.info)
    button = at.button(key="draw_quick_train")
    assert "Train a quick model" in button.label
    button.click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert job is not None and job.spec.epochs == 3
    job.stop()
    assert job.join(timeout=120)


def test_with_a_model_the_page_prompts_for_a_drawing(small_mnist):
    run_id, _ = train_stored_run(small_mnist, epochs=1, units=8)
    at = open_page("app_pages/draw.py")
    assert at.selectbox(key="draw_run").value == run_id
    assert any("Draw a digit on the black square" in i.value for i in at.info)
    assert not at.metric  # no prediction before anything is drawn
    assert at.slider(key="draw_pen").value == 18
