"""My digits in the browser: draw a 7, keep it twice (the canvas is blank after a keep), see
the two on the My digits page, and evaluate the run on them.

With MYDIGITS_SHOTS set to a folder, it also saves the Draw, My digits and Evaluate pages there
at 1440 and 900 px wide (draw-1440.png, ...), to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from core.mydigits.store import MyDigitsStore
from tests.browser.draw_canvas import SEVEN, draw_on_canvas
from tests.browser.page_actions import PAGE_SECONDS, open_page, runs_so_far, wait_idle, wait_rerun
from tests.browser.test_e2e import no_exception
from tests.browser.train_page import ensure_model

KEEPS = 2
WIDTHS = (1440, 900)


def screenshots(page, name: str) -> None:
    folder = os.environ.get("MYDIGITS_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wait_idle(page)
        page.wait_for_timeout(800)  # the layout settles at the new width
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)
    wait_idle(page)


def keep_a_drawn_seven(page, shots: bool = False) -> str:
    """Draw a 7 on the (blank) canvas, keep it with the prediction; returns the prediction."""
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=PAGE_SECONDS * 1000)
    prediction = page.get_by_test_id("stMetric").filter(has_text="Prediction")
    expect(prediction).to_have_count(0)
    draw_on_canvas(page, SEVEN)
    expect(prediction).to_be_visible(timeout=PAGE_SECONDS * 1000)
    digit = prediction.get_by_test_id("stMetricValue").inner_text().strip()
    if shots:
        screenshots(page, "draw-answer")
    before = runs_so_far(page)
    page.get_by_test_id("stMain").get_by_role("button", name=re.compile(r"Keep$")).click()
    wait_rerun(page, before)
    return digit


def test_keep_two_drawn_digits_then_evaluate_the_run_on_them(app_server, open_session):
    page = open_session()
    ensure_model(app_server, page)
    kept_before = MyDigitsStore(app_server.home).count()
    open_page(page, app_server, "/draw", "Draw")
    digits = []
    for keep in range(KEEPS):
        digits.append(keep_a_drawn_seven(page, shots=keep == 0))
        total = kept_before + keep + 1
        expect(page.get_by_text(f"Kept as a {digits[-1]}: {total} in My digits")).to_be_visible()
        if keep == 0:
            screenshots(page, "draw")
    no_exception(page)
    kept = MyDigitsStore(app_server.home).digits()[kept_before:]
    assert [str(d.label) for d in kept] == digits

    open_page(page, app_server, "/my-digits", "My digits")
    tiles = page.get_by_test_id("stMain").get_by_test_id("stImage")
    expect(tiles).to_have_count(kept_before + KEEPS)
    screenshots(page, "my-digits")

    open_page(page, app_server, "/evaluate", "Evaluate")
    before = runs_so_far(page)
    page.get_by_test_id("stMain").get_by_text(re.compile(r"^My digits \(\d+\)$")).click()
    wait_rerun(page, before)
    metrics = page.get_by_test_id("stMetric")
    total = kept_before + KEEPS
    # Kept with the prediction of this run's network: evaluated again, every label is its answer.
    expect(metrics.filter(has_text=f"Wrong, of {total}")).to_contain_text("0")
    expect(metrics.filter(has_text="My digits: accuracy")).to_contain_text("100.00%")
    no_exception(page)
    screenshots(page, "evaluate")
