"""The 2-D playground in headless Chromium: XOR's network and output as the page opens, then
switch the dataset and the features and see the network's squares and the output's boundary
follow, then train (500 epochs, the page's default) and see them move."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.page_actions import (
    PAGE_SECONDS,
    button,
    choose,
    open_page,
    runs_so_far,
    wait_rerun,
)
from tests.browser.test_e2e import no_exception
from tests.browser.train_page import TRAIN_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NETWORK = ".st-key-xor_network .js-plotly-plot"
BOUNDARY = ".st-key-xor_boundary .js-plotly-plot"
SQUARES = f"() => document.querySelector('{NETWORK}')?.layout?.images?.length ?? 0"
UNIT_NAMES = (
    f"() => document.querySelector('{NETWORK}')?.data?.find(t => t.name == 'units')?.text ?? []"
)
BOUNDARY_PICTURE = f"""() => {{
    const plot = document.querySelector('{BOUNDARY}');
    if (!plot || !plot.layout) return null;
    const lines = plot.data.filter(t => t.type == 'contour').length;
    const image = (plot.layout.images || [])[0];
    return {{lines, image: image ? image.source.length + ':' + image.source.slice(-40) : null,
             points: plot.data.filter(t => t.mode == 'markers').length}};
}}"""


def wait_for(page, script: str, value, timeout: float = PAGE_SECONDS) -> None:
    # every 100 ms, not at every animation frame (Playwright's default keeps the page drawing)
    page.wait_for_function(
        f"() => JSON.stringify(({script})()) == {value!r}", timeout=timeout * 1000, polling=100
    )


def test_dataset_and_features_change_the_network_and_the_boundary(app_server, open_session):
    page = open_session()
    open_page(page, app_server, "/xor", "XOR")
    train = button(page, "Train")
    expect(train).to_be_enabled(timeout=TRAIN_SECONDS * 1000)
    # seed 000: two features, sixteen hidden units, one output
    wait_for(page, SQUARES, "19")
    assert page.evaluate(UNIT_NAMES)[:3] == ["x1", "x2", "layer 1, unit 1"]
    epochs = page.get_by_test_id("stMetric").filter(has_text="Epochs trained")
    expect(epochs.get_by_test_id("stMetricValue")).to_have_text("0")
    # XOR's two classes: the output drawn in the page as a heatmap of the sigmoid
    boundary = page.locator(BOUNDARY).first
    expect(boundary).to_be_visible(timeout=PAGE_SECONDS * 1000)
    kinds = boundary.evaluate("plot => plot.data.map(t => t.type || 'scatter')")
    assert "heatmap" in kinds, kinds

    choose(page, "Dataset", "Blobs (3 or more classes)")
    expect(train).to_be_enabled(timeout=TRAIN_SECONDS * 1000)
    wait_for(page, SQUARES, "21")  # a square for each of the three classes' outputs
    # the boundary is its own element, which may be redrawn a moment after the network
    page.wait_for_function(
        f"() => {{ const p = ({BOUNDARY_PICTURE})(); return p && p.image && p.points == 6; }}",
        timeout=PAGE_SECONDS * 1000,
        polling=100,
    )
    untrained = page.evaluate(BOUNDARY_PICTURE)
    assert untrained["image"] is not None  # the classes' colours, as a picture
    assert untrained["points"] == 6  # three classes, train and test apart

    before = runs_so_far(page)
    page.get_by_test_id("stSidebar").get_by_text("x1²", exact=True).click()
    wait_rerun(page, before)
    expect(train).to_be_enabled(timeout=TRAIN_SECONDS * 1000)
    wait_for(page, SQUARES, "22")  # the input layer widened by one feature
    assert "x1²" in page.evaluate(UNIT_NAMES)[:3]

    train.click()
    expect(epochs.get_by_test_id("stMetricValue")).to_have_text("500", timeout=TRAIN_SECONDS * 1000)
    expect(train).to_be_enabled(timeout=PAGE_SECONDS * 1000)
    page.wait_for_function(
        f"() => {{ const p = ({BOUNDARY_PICTURE})(); return p && p.lines >= 2; }}",
        timeout=PAGE_SECONDS * 1000,
        polling=100,
    )
    trained = page.evaluate(BOUNDARY_PICTURE)
    assert trained["image"] != untrained["image"], "the output picture did not change"
    accuracy = page.get_by_test_id("stMetric").filter(has_text="Training accuracy")
    assert int(accuracy.get_by_test_id("stMetricValue").inner_text().rstrip("%")) >= 90
    no_exception(page)
