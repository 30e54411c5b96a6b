"""Inside the network in the browser: a drawn digit's saliency and activations appear on Draw
and follow the drawing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import (
    PAGE_SECONDS,
    ensure_model,
    open_page,
    runs_so_far,
    wait_idle,
    wait_rerun,
)
from tests.browser.test_e2e import draw_stroke, line, no_exception

SALIENCY = ".st-key-draw_saliency .js-plotly-plot"
FIRST_GRID = "[class*='st-key-draw_inside_grid_'] .js-plotly-plot"
PLOT_DATA = "plot => JSON.stringify(plot.data.map(trace => trace.z ?? trace.source ?? trace.y))"


def test_drawing_shows_saliency_and_activations_that_follow_the_drawing(app_server, open_session):
    page = open_session()
    ensure_model(app_server, page)
    open_page(page, app_server, "/draw", "Draw")
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=PAGE_SECONDS * 1000)
    wait_idle(page)
    expect(page.get_by_text("Inside the network")).to_have_count(0)  # nothing drawn yet

    before = runs_so_far(page)
    draw_stroke(page, canvas, [*line((80, 50), (200, 50)), *line((200, 50), (120, 240))[1:]])
    wait_rerun(page, before)
    expect(page.get_by_text("Inside the network")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(page.get_by_text("Why 7 and not")).to_be_visible()
    saliency = page.locator(SALIENCY).first
    grid = page.locator(FIRST_GRID).first
    # Plotly draws the charts in the browser after the script has ended: on a busy machine
    # that took over Playwright's default 5 s.
    expect(saliency).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(grid).to_be_visible(timeout=PAGE_SECONDS * 1000)
    first_saliency, first_grid = saliency.evaluate(PLOT_DATA), grid.evaluate(PLOT_DATA)
    no_exception(page)

    # A second stroke (a bar across the middle) changes the image the network gets, so its
    # attributions and its first layer's activations must change with it.
    before = runs_so_far(page)
    draw_stroke(page, canvas, line((110, 140), (210, 140)))
    wait_rerun(page, before)
    wait_idle(page)
    saliency = page.locator(SALIENCY).first
    grid = page.locator(FIRST_GRID).first
    expect(saliency).to_be_visible(timeout=PAGE_SECONDS * 1000)
    assert saliency.evaluate(PLOT_DATA) != first_saliency
    assert grid.evaluate(PLOT_DATA) != first_grid
    no_exception(page)
