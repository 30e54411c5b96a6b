"""The Draw page through AppTest. The canvas is a custom component that AppTest cannot draw
on: these tests cover the page around it (no run yet, the quick-model button, the prompt before
anything is drawn, when the page polls, its layout), and, with the component replaced by one
that returns a drawn 7, what the page sends and in which order. Drawing with the mouse is
tested in tests/browser/."""

from __future__ import annotations

import re
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

from core.inside.activations import Inspector
from core.runs.store import RunStore
from core.training.registry import JOBS
from tests.support.drawings import draw_digit
from tests.support.pages import open_page
from tests.support.runs import model_bytes, tiny_model

PAGE = "app_pages/draw.py"
CANVAS = 280
# The width Streamlit leaves for the page in a 900 px window with the sidebar open (measured in
# Chromium: the main block runs from x = 380 to 820).
MAIN_AT_900 = 440
SMALL_GAP = 16  # pixels between the blocks of a row: Streamlit's "small" gap, 1rem


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


@pytest.fixture
def stored_model(small_mnist, tmp_path) -> str:
    """A small network in the run store (the page shows the newest)."""
    return RunStore().import_model(model_bytes(tiny_model(), tmp_path, "m.keras"), "m.keras", "m")


def open_with_a_drawing(monkeypatch, log: list | None = None):
    """The page with the canvas component replaced by one holding a drawn 7, white on black
    (patched once the page has imported it: it loads only inside Streamlit's runtime)."""
    canvas, _ = draw_digit(
        7, "plain", pen=18, height=200, rng=np.random.default_rng(0), background="black"
    )
    at = open_page(PAGE)
    monkeypatch.setattr(
        sys.modules["streamlit_drawable_canvas"],
        "st_canvas",
        lambda **_: SimpleNamespace(image_data=canvas),
    )
    if log is not None:
        log.clear()
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, object]]:
    """What the script thread did, in order: each element it sent ("element", its type), each
    pause ("sleep", seconds) and each call of Inspector.explain ("explain", None)."""
    log: list[tuple[str, object]] = []
    script_threads: set[int] = set()
    enqueue, sleep, explain = ScriptRunContext.enqueue, time.sleep, Inspector.explain

    def spy_enqueue(self, msg):
        if msg.HasField("delta") and msg.delta.HasField("new_element"):
            script_threads.add(threading.get_ident())
            log.append(("element", msg.delta.new_element.WhichOneof("type")))
        return enqueue(self, msg)

    def spy_sleep(seconds):
        if threading.get_ident() in script_threads:
            log.append(("sleep", seconds))
        return sleep(seconds)

    def spy_explain(self, *args, **kwargs):
        log.append(("explain", None))
        return explain(self, *args, **kwargs)

    monkeypatch.setattr(ScriptRunContext, "enqueue", spy_enqueue)
    monkeypatch.setattr(time, "sleep", spy_sleep)
    monkeypatch.setattr(Inspector, "explain", spy_explain)
    return log


def test_the_prediction_is_sent_before_any_chart_and_before_the_inside_views(
    stored_model, sent, monkeypatch
):
    at = open_with_a_drawing(monkeypatch, sent)
    assert at.metric[0].label == "Prediction"
    assert at.metric[0].value in [str(d) for d in range(10)]
    assert re.fullmatch(r"(> )?\d{1,3}\.\d % sure", at.metric[0].delta)  # as the chart's title
    answer = sent.index(("element", "metric"))
    first_chart = sent.index(("element", "plotly_chart"))
    assert answer < first_chart
    assert answer < sent.index(("explain", None))  # the inside views are computed after it
    # ... and the charts wait a moment, so that the browser shows the answer on its own first
    # instead of drawing it together with every chart.
    assert any(what == "sleep" and seconds >= 0.03 for what, seconds in sent[answer:first_chart])


def test_the_toolbar_text_says_where_the_toolbar_appears(stored_model):
    """The canvas shows its toolbar only while the pointer is over it: the text must say so,
    not send a person looking for a toolbar that is not there."""
    at = open_page(PAGE)
    text = " ".join(c.value for c in at.caption)
    assert "point at the canvas" in text and "above its top-right corner" in text
    assert "Use the canvas toolbar" not in text


def _parents(node, target, path=()):
    """The blocks from `node` down to the element of type `target`, outermost first."""
    for child in getattr(node, "children", {}).values():
        if child.type == target:
            return [*path, node]
        found = _parents(child, target, (*path, node))
        if found:
            return found
    return []


def _pixel_width(block) -> int:
    """A block's fixed width in pixels; 0 for one that takes a share of its row."""
    config = getattr(block.proto, "width_config", None)
    return config.pixel_width if config is not None else 0


def test_the_canvas_and_the_answer_fit_beside_each_other_in_a_900_px_window(stored_model):
    """The canvas sits in a block of its own width, not in a share of the page's width (3/8 of
    440 px cut it in half), and the answer's block fits beside it at 900 px; the row wraps what
    does not fit under them."""
    at = open_page(PAGE)
    *_, row, canvas_block = _parents(at.main, "bidi_component")
    assert row.type == "flex_container" and row.proto.flex_container.wrap
    assert canvas_block is list(row.children.values())[0]
    canvas_width, answer_width = map(_pixel_width, list(row.children.values())[:2])
    assert canvas_width >= CANVAS
    assert canvas_width + SMALL_GAP + answer_width <= MAIN_AT_900
