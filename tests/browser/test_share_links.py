"""Share links in the browser: a link opens Train with every slider where the link put it."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from core.export.links import spec_to_params
from core.nets.presets import DEFAULT_PRESET, PRESETS
from tests.browser.page_actions import PAGE_SECONDS, open_page, set_slider, slider, slider_text
from tests.browser.streamlit_server import REPO
from tests.browser.train_page import EPOCHS

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


def test_a_bad_link_restores_the_rest_and_says_what_it_could_not(small_mnist, monkeypatch):
    """The same page through AppTest: what the notice says and the widgets show are the page's
    own (the browser test above checks that the sliders show a link's values)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MNIST_DATA", str(small_mnist))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=PAGE_SECONDS)
    at.run()
    at.switch_page("app_pages/train.py")
    at.query_params.update(spec_to_params(LINKED) | {"epochs": "5000", "lr": "fast"})
    at.run()
    assert not at.exception, at.exception
    notices = [n.value for n in at.warning if "Not restored from this link" in n.value]
    assert len(notices) == 1, [n.value for n in at.warning]
    text = notices[0].replace("\\", "")
    assert "epochs 5,000 is out of range" in text and "lr 'fast' is not a number" in text
    assert at.slider(key="train_w_epochs").value == DEFAULT.epochs  # the default for that one
    assert at.select_slider(key="train_w_units_0").value == 64  # the rest as the link says
    assert at.select_slider(key="train_w_batch_size").value == 256
