"""The Train page in the browser: its sliders' values, a network opened on a share link,
Train and Stop, a run's outcome and curves, and a small model trained for the tests that need one.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.page_actions import (
    PAGE_SECONDS,
    button,
    open_page,
    pause_on,
    runs_so_far,
    slider,
    slider_text,
    wait_rerun,
)
from tests.browser.streamlit_server import Server, store
from tests.support.waiting import eventually

TRAIN_SECONDS = 300  # a small run ending (a busy machine is slow)

# The Train page's slider values, in order, as it shows them (pages/train.py).
LAYERS = [str(n) for n in range(6)]
UNITS = ["8", "16", "32", "64", "128", "256", "512", "1024", "2048"]
BATCH_SIZES = ["16", "32", "64", "128", "256", "512", "1024"]
EPOCHS = [str(n) for n in range(1, 51)]
LEARNING_RATES = [f"{rate:g}" for rate in (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03)] + [
    f"{rate:g}" for rate in (0.1, 0.3, 1.0, 3.0, 10.0)
]
# What the live panel says once a run has ended, whichever way it ended.
OUTCOME = re.compile(
    r"Trained \d+ epochs?|Stopped by you|Stopped before|Early stopping ended|Training failed"
    r"|The loss became"
)


def open_network(
    page: Page, server: Server, *, units: str = "32", batch: str = "128", epochs: int = 2
) -> None:
    """Open Train on a share link with one hidden layer of `units`, the batch size and the
    epochs, and check the sliders show them: one page load instead of four slider moves, each
    a rerun. test_share_links and test_cnn keep moving the sliders themselves under test."""
    import urllib.parse
    from dataclasses import replace

    from core.export.links import spec_to_params
    from core.nets.presets import DEFAULT_PRESET, PRESETS

    default = PRESETS[DEFAULT_PRESET].spec
    spec = replace(
        default,
        layers=[{"type": "Dense", "units": int(units), "activation": "relu"}, default.layers[1]],
        batch_size=int(batch),
        epochs=epochs,
    )
    open_page(page, server, "/train?" + urllib.parse.urlencode(spec_to_params(spec)), "Train")
    expect(page.get_by_text(f"Model: 784-{units}-10,")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    shown = {
        label: slider_text(page, label)
        for label in ("Hidden layers", "Layer 1 units", "Batch size", "Epochs")
    }
    assert shown == {
        "Hidden layers": "1",
        "Layer 1 units": units,
        "Batch size": batch,
        "Epochs": str(epochs),
    }, shown


# Whether the page's own Stop button (in the main area) is enabled, checked in the page.
STOP_ENABLED = """() => [...document.querySelectorAll('[data-testid=stMain] button')].some(
    b => !b.disabled && [...b.querySelectorAll('p')].some(p => p.innerText.trim() === 'Stop'))"""


# Click the page's own enabled Stop button, in the page; whether there was one to click.
CLICK_STOP = """() => {
    const stop = [...document.querySelectorAll('[data-testid=stMain] button')].find(
        b => !b.disabled && [...b.querySelectorAll('p')].some(p => p.innerText.trim() === 'Stop'));
    if (stop) stop.click();
    return Boolean(stop);
}"""


def press_stop(page: Page) -> None:
    """Press the page's own Stop once it is enabled, with a click event sent in the page.

    Stop sits in the live panel, a fragment redrawn every half second: on a busy machine
    Playwright's click, which waits for the button to hold still, timed out while the run
    went on to its end.
    """
    page.wait_for_function(CLICK_STOP, timeout=PAGE_SECONDS * 1000, polling=50)


def press_train(page: Page) -> None:
    """Press Train and wait until the run is under way (the Stop button is enabled).

    Checked in the page every 20 ms: a short run on a network built ahead can end moments
    after it starts, and Playwright's own retries (up to a second apart) can miss the moment
    Stop is enabled.
    """
    button(page, "Train").click()
    page.wait_for_function(STOP_ENABLED, timeout=PAGE_SECONDS * 1000, polling=20)


def outcome(page: Page, timeout: float = TRAIN_SECONDS) -> str:
    """Wait until the run has ended, its test pass included (Train is enabled again), and
    return what the live panel says about how it ended."""
    expect(button(page, "Train")).to_be_enabled(timeout=timeout * 1000)
    alert = page.get_by_test_id("stAlert").filter(has_text=OUTCOME)
    expect(alert.first).to_be_visible(timeout=timeout * 1000)
    return alert.first.inner_text()


def curves_when(page: Page, condition, timeout: float = PAGE_SECONDS) -> dict[str, int]:
    """The Train page's curve counts once `condition(counts)` holds, or the last ones after
    `timeout` seconds: at a run's end the page draws its result a moment before its chart."""
    deadline = time.monotonic() + timeout
    while True:
        counts = curve_counts(page)
        if condition(counts) or time.monotonic() > deadline:
            return counts
        page.wait_for_timeout(100)


def curve_counts(page: Page, key: str = "train_curves") -> dict[str, int]:
    """Points per trace name of a chart (the Train page's curves by default), summed."""
    counts = page.locator(f".st-key-{key} .js-plotly-plot").first.evaluate(
        """plot => {
            const counts = {};
            for (const trace of plot.data || []) {
                const name = trace.name || trace.type;
                counts[name] = (counts[name] || 0) + ((trace.x || []).length);
            }
            return counts;
        }"""
    )
    return {str(name): int(count) for name, count in counts.items()}


def open_train_page(page: Page, server: Server) -> None:
    open_page(page, server, "/train", "Train")
    expect(slider(page, "Hidden layers")).to_be_attached(timeout=PAGE_SECONDS * 1000)


def ensure_model(server: Server, page: Page):
    """A run with a model in the server's store; trains a small one on the Train page if none.

    Returns its `RunSummary`. Tests that need a model (Evaluate, Draw) use the runs earlier
    tests trained, and still pass when run alone.
    """
    runs = [run for run in store(server).list_runs() if run.has_model]
    if runs:
        return runs[0]
    train_small_model(page, server)
    return next(run for run in store(server).list_runs() if run.has_model)


def train_small_model(page: Page, server: Server, epochs: int = 2) -> None:
    """Train 784-32-10 for `epochs` on the Train page (opened on its share link), to the end."""
    open_network(page, server, epochs=epochs)
    stored, before = len(store(server).list_runs()), runs_so_far(page)
    button(page, "Train").click()
    # The page has drawn the new run: under way, or already ended (a run of a few batches on
    # a network built ahead can end before the page ever shows its Stop button enabled).
    wait_rerun(page, before)
    eventually(lambda: len(store(server).list_runs()) > stored, PAGE_SECONDS, pause=pause_on(page))
    text = outcome(page)
    assert re.search(rf"Trained {epochs} epochs?\b", text), text
