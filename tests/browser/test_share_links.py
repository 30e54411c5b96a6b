"""Share links in the browser: a link opens Train with every slider where the link put it."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from core.export.links import spec_to_params
from core.nets.presets import DEFAULT_PRESET, PRESETS
from tests.browser.helpers import (
    EPOCHS,
    PAGE_SECONDS,
    open_page,
    set_slider,
    slider,
    slider_text,
)

pytestmark = pytest.mark.browser

DEFAULT = PRESETS[DEFAULT_PRESET].spec
LINKED = replace(
    DEFAULT,
    layers=[
        {"type": "Dense", "units": 64, "activation": "tanh"},
        {"type": "Dropout", "rate": 0.25},
    ],
    optimizer="rmsprop",
    learning_rate=0.0003,
    lr_schedule="constant",
    batch_size=256,
    epochs=7,
    seed=4321,
)


def open_link(page, server, params: dict[str, str]) -> None:
    open_page(page, server, "/train?" + urllib.parse.urlencode(params), "Train")
    expect(slider(page, "Epochs")).to_be_attached(timeout=PAGE_SECONDS * 1000)


def test_a_shared_link_restores_the_sliders_and_follows_them(app_server, open_session):
    page = open_session()
    open_link(page, app_server, spec_to_params(LINKED))
    assert slider_text(page, "Hidden layers") == "1"
    assert slider_text(page, "Layer 1 units") == "64"
    assert slider_text(page, "Layer 1 dropout") == "0.25"
    assert slider_text(page, "Learning rate") == "0.0003"
    assert slider_text(page, "Batch size") == "256"
    assert slider_text(page, "Epochs") == "7"
    expect(page.get_by_text("Model: 784-64-10,")).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="Not restored")).to_have_count(0)

    # The Keras code shows the linked network.
    page.get_by_text("Keras code for this network").click()
    expect(page.get_by_text('layers.Dense(64, activation="tanh", name="dense_1")')).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )

    # The address follows the sliders, so it can be copied and shared at any moment.
    set_slider(page, "Epochs", "9", EPOCHS)
    expect(page).to_have_url(re.compile(r"[?&]epochs=9(&|$)"), timeout=PAGE_SECONDS * 1000)
    assert "layers=dense-64-tanh~dropout-0.25" in page.url


def test_a_bad_link_restores_the_rest_and_says_what_it_could_not(app_server, open_session):
    page = open_session()
    params = spec_to_params(LINKED) | {"epochs": "5000", "lr": "fast"}
    open_link(page, app_server, params)
    notice = page.get_by_test_id("stAlert").filter(has_text="Not restored from this link")
    expect(notice).to_have_count(1)
    text = notice.inner_text()
    assert "epochs 5,000 is out of range" in text and "lr 'fast' is not a number" in text
    assert slider_text(page, "Epochs") == str(DEFAULT.epochs)  # the default for that one
    assert slider_text(page, "Layer 1 units") == "64"  # the rest as the link says
    assert slider_text(page, "Batch size") == "256"
