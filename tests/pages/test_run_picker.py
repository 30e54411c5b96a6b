"""The run picker of Evaluate and Draw (app_pages/run_picker.py): the run the person chose, or
none with the reason, never another in its place."""

from __future__ import annotations

import pytest

from core.runs.store import RunStore
from tests.support.pages import open_page
from tests.support.runs import model_bytes, small_spec, tiny_model

PICKERS = [("app_pages/evaluate.py", "evaluate_run"), ("app_pages/draw.py", "draw_run")]


@pytest.fixture
def runs(small_mnist, tmp_path) -> dict[str, str]:
    """An imported run with a model, and, newer, a run still in its first epoch."""
    store = RunStore()
    data = model_bytes(tiny_model(), tmp_path, "m.keras")
    with_model = store.import_model(data, "m.keras", "with a model")
    training = store.create_run(small_spec(), "x", name="still training")
    return {"with a model": with_model, "still training": training}


@pytest.mark.parametrize(("page", "picker"), PICKERS)
def test_a_new_session_is_shown_the_newest_run_with_a_model_and_keeps_it(runs, page, picker):
    at = open_page(page)
    assert at.selectbox(key=picker).value == runs["with a model"]
    assert at.session_state["selected_run_id"] == runs["with a model"]


@pytest.mark.parametrize(("page", "picker"), PICKERS)
def test_the_run_chosen_without_a_model_yet_is_said_and_none_shown_instead(runs, page, picker):
    at = open_page(page)
    at.session_state["selected_run_id"] = runs["still training"]  # as pressing Train leaves it
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key=picker).value is None
    said = [info.value for info in at.info]
    assert any("still training** has no saved model yet" in text for text in said), said
    assert not at.metric and not at.warning
    at.selectbox(key=picker).set_value(runs["with a model"]).run()
    assert at.session_state["selected_run_id"] == runs["with a model"]
    assert not at.exception, at.exception
