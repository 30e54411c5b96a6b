"""The replay slider in the browser: a run trained on Train, its epochs scrubbed under the curves."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import PAGE_SECONDS, open_network, outcome, press_train, slider_text
from tests.browser.test_e2e import no_exception

# The titles of the panel's three views as shown: the diagram's (a plotly figure), the confusion
# matrix's (HTML), and the templates' (bold, over their image) once that image has loaded (as
# bench/replay.py times them).
TITLES = """() => {
    const titles = [...document.querySelectorAll('.gtitle, .replay-title')].map(t => t.textContent);
    for (const box of document.querySelectorAll('[class*="_replay_templates"]')) {
        const title = box.querySelector('strong'), image = box.querySelector('img');
        if (title && image && image.complete && image.naturalWidth > 0) {
            titles.push(title.textContent);
        }
    }
    return titles;
}"""


def titles_say(page, words: str) -> None:
    page.wait_for_function(
        f"() => ({TITLES})().filter(t => t.includes({words!r})).length >= 3",
        timeout=PAGE_SECONDS * 1000,
    )


def test_a_trained_run_is_scrubbed_from_its_last_epoch_to_its_start(app_server, open_session):
    page = open_session()
    open_network(page, app_server, epochs=3)
    press_train(page)
    text = outcome(page)
    assert "Trained 3 epochs" in text, text
    epoch = page.get_by_role("group", name="Epoch", exact=True)
    expect(epoch).to_be_visible(timeout=PAGE_SECONDS * 1000)
    titles_say(page, "at epoch 3")
    assert slider_text(page, "Epoch") == "3"

    epoch.get_by_role("slider").focus()
    page.keyboard.press("Home")
    titles_say(page, "at the start")
    assert slider_text(page, "Epoch") == "start"
    page.keyboard.press("ArrowRight")
    titles_say(page, "at epoch 1")
    shown = page.evaluate(TITLES)
    assert any(t.startswith("The first layer's units at epoch 1") for t in shown), shown
    no_exception(page)
