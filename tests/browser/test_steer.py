"""Steering in the browser: a new learning rate asked for while a run trains is taken at the
next batch and marked on the curves."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import PAGE_SECONDS, button, open_network, press_stop, press_train

# The curves' labels (plotly annotations), read in the page.
LABELS = """() => {
    const plot = document.querySelector('.st-key-train_curves .js-plotly-plot');
    return ((plot && plot.layout && plot.layout.annotations) || []).map(a => a.text);
}"""


def test_a_new_learning_rate_mid_run_is_marked_on_the_curves(app_server, open_session):
    page = open_session()
    open_network(page, app_server, units="32", batch="32", epochs=50)  # stopped long before
    press_train(page)
    rate = page.locator("[class*='st-key-train_steer_lr_'] input")
    rate.fill("0.0005")
    rate.press("Enter")
    expect(page.get_by_text("learning rate 0.0005 asked for")).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    page.wait_for_function(
        f"() => ({LABELS})().includes('lr 0.0005')", timeout=PAGE_SECONDS * 1000, polling=50
    )
    press_stop(page)
    expect(button(page, "Train")).to_be_enabled(timeout=PAGE_SECONDS * 1000)
