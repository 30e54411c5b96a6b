"""What a person gives the app that it cannot use, in the browser: each case gives a clear
message and loses nothing saved.

An unusable model upload (one through the browser's file picker on the shared server; each kind
through AppTest, in a fraction of the time), a blank canvas sent to the Draw page and a learning
rate that blows up the loss. The server's own faults are in test_reliability_server.py.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from core.export.links import spec_to_params
from core.nets.presets import DEFAULT_PRESET, PRESETS
from tests.browser.page_actions import (
    PAGE_SECONDS,
    button,
    error_alert,
    open_page,
    runs_so_far,
    slider_text,
    wait_rerun,
)
from tests.browser.streamlit_server import run_ids, saved_files, store
from tests.browser.train_page import ensure_model, outcome

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


# ----- uploads -----------------------------------------------------------------------------

# What each refusal says went wrong, and the fix it gives.
UPLOADS = {
    "x.keras": (
        r"x\.keras is not a Keras model file \(a \.keras file is a zip archive\)",
        "Upload a file made with model.save('model.keras')",
    ),
    "lambda.keras": (
        r"safe mode refused lambda\.keras: it carries Python code in a Lambda layer "
        r"\(layer doubling\)",
        "Rebuild the model from built-in layers",
    ),
    "shape.keras": (
        r"shape\.keras takes input of shape \(100,\) and gives output of shape \(3,\)",
        "the playground needs input of shape (784,)",
    ),
}


def test_an_unusable_upload_is_refused_and_nothing_is_stored(app_server, open_session, model_files):
    """One refusal through the browser's own file picker (a model with a Lambda layer); the
    page's refusal of each kind is checked through AppTest below."""
    name = "lambda.keras"
    before_runs, before_files = run_ids(app_server), saved_files(app_server.home)
    page = open_session()
    open_page(page, app_server, "/runs", "Runs")
    before = runs_so_far(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(model_files[name])
    expect(page.get_by_test_id("stFileChipName").filter(has_text=name)).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    # The upload reruns the page: a click on Import during that run had its refusal shown by
    # the Import run, then wiped by the upload's run ending after it (seen on a busy machine).
    wait_rerun(page, before)
    before = runs_so_far(page)
    button(page, "Import").click()
    wait_rerun(page, before)
    fault, fix = UPLOADS[name]
    text = " ".join(error_alert(page, re.compile(fault)).split())
    assert fix in text, text
    assert run_ids(app_server) == before_runs
    assert saved_files(app_server.home) == before_files  # no model file, no scratch folder


@pytest.mark.parametrize("name", list(UPLOADS))
def test_an_unusable_upload_is_refused_and_nothing_is_stored_in_the_app(
    saved_before, model_files, name
):
    from core.runs.store import RunStore
    from tests.support.pages import open_page as open_app_page

    before_files = saved_files(saved_before)
    at = open_app_page("app_pages/runs.py")
    content = model_files[name].read_bytes()
    at.file_uploader(key="runs_upload").set_value((name, content, "application/octet-stream"))
    at.button(key="runs_import").click().run()
    assert not at.exception, at.exception
    fault, fix = UPLOADS[name]
    errors = [re.sub(r"\\(.)", r"\1", " ".join(e.value.split())) for e in at.error]
    assert any(re.search(fault, e) and fix in e for e in errors), errors
    assert [run.name for run in RunStore(saved_before).list_runs()] == ["Saved before"]
    assert saved_files(saved_before) == before_files  # no model file, no scratch folder


# ----- the Draw and Train pages ------------------------------------------------------------


def test_a_blank_canvas_asks_for_a_digit(app_server, open_session):
    page = open_session()
    ensure_model(app_server, page)
    open_page(page, app_server, "/draw", "Draw")
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    before = runs_so_far(page)
    page.get_by_role("button", name="Update the app with this drawing").click()  # send it blank
    wait_rerun(page, before)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Prediction")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_learning_rate_of_10_stops_the_run_with_advice(app_server, open_session):
    earlier = {run.id: run.status for run in store(app_server).list_runs()}
    page = open_session()
    # The default two layers of 512: with SGD at 10 their weights overflow in the first batches.
    # Opened on a share link with those two settings (test_share_links checks that a link
    # sets the sliders; the sliders themselves are moved in test_e2e).
    spec = replace(PRESETS[DEFAULT_PRESET].spec, optimizer="sgd", learning_rate=10.0)
    open_page(page, app_server, "/train?" + urllib.parse.urlencode(spec_to_params(spec)), "Train")
    assert slider_text(page, "Learning rate") == "10"
    expect(page.get_by_role("combobox", name="Optimizer", exact=True)).to_have_value("sgd")
    # Not press_train: this run can fail in its first batches, before the page ever draws
    # Stop (its wait for Stop timed out once); the outcome below waits for the run's end.
    button(page, "Train").click()
    text = " ".join(outcome(page).split())
    assert re.search(r"The loss became (nan|inf|[\d.e+]+) at epoch 1", text), text
    assert "learning rate is too high" in text and "10 times smaller" in text, text
    expect(button(page, "Train")).to_be_enabled(timeout=PAGE_SECONDS * 1000)
    runs = store(app_server).list_runs()
    assert runs[0].id not in earlier and runs[0].status == "failed"
    assert {run.id: run.status for run in runs[1:]} == earlier
