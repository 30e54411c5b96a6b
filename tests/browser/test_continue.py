"""Continue a stored run in the browser: Runs' Continue opens Train, whose curves carry on from
the parent's epochs (shaded) with the new ones."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.page_actions import PAGE_SECONDS, button, open_page, runs_so_far, wait_rerun
from tests.browser.streamlit_server import store
from tests.browser.train_page import curves_when, outcome, train_small_model


def test_continuing_a_run_carries_its_curves_on(app_server, open_session):
    page = open_session()
    train_small_model(page, app_server, epochs=1)
    parent = store(app_server).list_runs()[0]
    open_page(page, app_server, "/runs", "Runs")
    before = runs_so_far(page)
    page.get_by_label("More epochs").fill("1")
    page.keyboard.press("Enter")
    wait_rerun(page, before)
    button(page, "Continue for 1 more epoch").click()
    expect(page.get_by_role("heading", name="Train").first).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    text = outcome(page)
    assert "Trained 2 epochs" in text and "Continued from run #" in text, text
    # Per panel (loss, accuracy), the parent's epoch, then this run's
    counts = curves_when(page, lambda counts: counts.get("train", 0) >= 2 * 2)
    assert counts.get("train") == 2 * 2, counts
    shaded = page.locator(".st-key-train_curves .js-plotly-plot").first.evaluate(
        "plot => (plot.layout.shapes || []).map(shape => shape.x1)"
    )
    assert shaded == [1, 1], shaded  # the parent's epoch, in both panels
    child = store(app_server).list_runs()[0]
    assert child.id != parent.id and child.epochs_done == 2
