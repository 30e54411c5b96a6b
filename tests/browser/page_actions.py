"""What a browser test does on a page: Chromium and its contexts, waits, and the app's widgets.

The pages of the contexts made here count the runs of the app's script that end (from the
app's own WebSocket messages), so a test can wait for the rerun an action starts. Every wait
here waits for a condition (an element, a text, a count, the app going idle), never for a fixed
time; the timeouts are generous because the machine is small and shared.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.streamlit_server import Server
from tests.support.waiting import eventually

PAGE_SECONDS = 90  # a page showing what it should

# ----- Chromium ----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}


# ----- pages -------------------------------------------------------------------------------


def open_page(page: Page, server: Server, path: str, heading: str) -> None:
    """Go to `path` and wait until its title heading is there and the script has finished."""
    page.goto(server.url + path)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    wait_idle(page)


# Script runs each page has seen end, counted from the app's own messages: the server sends a
# ForwardMsg "script_finished" over the page's WebSocket when a run of the script ends.
_FINISHED_RUNS: dict = {}
RUN_ENDS = (0, 1, 3)  # finished, finished with a compile error, fragment finished (not cut short)


def _count_runs(page: Page) -> None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    _FINISHED_RUNS[page] = 0

    def frame(payload) -> None:
        if not isinstance(payload, bytes | bytearray):
            return
        message = ForwardMsg()
        message.ParseFromString(bytes(payload))
        kind = message.WhichOneof("type")
        if kind == "script_finished" and message.script_finished in RUN_ENDS:
            _FINISHED_RUNS[page] += 1

    page.on("websocket", lambda socket: socket.on("framereceived", frame))


def new_context(browser):
    """A browser context (a Streamlit session per page) whose pages count the script's runs."""
    context = browser.new_context(viewport=VIEWPORT)
    context.on("page", _count_runs)
    return context


def profile_context(playwright, folder: Path):
    """Chromium started on a profile in `folder` (a persistent context: its cache on disk
    keeps the scripts pages load and their compiled code, which an incognito context, as
    `new_context` makes, does not); its pages count the script's runs, as `new_context`'s."""
    context = playwright.chromium.launch_persistent_context(
        folder, executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=VIEWPORT
    )
    context.on("page", _count_runs)
    for page in context.pages:  # the blank tab it starts with
        page.close()
    return context


def runs_so_far(page: Page) -> int:
    """How many runs of the app's script have ended for this page so far."""
    return _FINISHED_RUNS.get(page, 0)


def pause_on(page: Page):
    """A pause for `eventually` that lets Playwright deliver the page's WebSocket frames (which
    `runs_so_far` counts) while it waits; a plain sleep would hold them back."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def wait_rerun(page: Page, before: int, timeout: float = PAGE_SECONDS) -> None:
    """Wait until a script run has ended since `runs_so_far(page)` gave `before`."""
    eventually(
        lambda: runs_so_far(page) > before,
        timeout,
        message="no run of the app's script ended",
        pause=pause_on(page),
    )
    wait_idle(page)


def button(page: Page, name: str):
    """The page's own button called `name` (not the header's Stop, shown while a script runs)."""
    return page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True)


def wait_idle(page: Page, timeout: float = PAGE_SECONDS) -> None:
    """Wait until the app's script is not running (the page has been redrawn)."""
    expect(page.locator("[data-testid=stApp]")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout * 1000
    )


def slider(page: Page, label: str):
    """The slider (or select slider) labelled `label` (its hidden range input)."""
    return page.get_by_role("group", name=label, exact=True).locator("input[type=range]")


def slider_text(page: Page, label: str) -> str:
    group = page.get_by_role("group", name=label, exact=True)
    return group.get_by_test_id("stSliderThumbValue").inner_text().strip()


def set_slider(page: Page, label: str, value: str, options: list[str]) -> None:
    """Move a slider until it shows `value`; `options` are all its values, in order.

    A click on the track where `value` sits (the thumb's place is linear in its index), then,
    should rounding land one step off, arrow keys; each change waits for the app's rerun.
    """
    group = page.get_by_role("group", name=label, exact=True)
    thumb = group.get_by_test_id("stSliderThumbValue")
    track = group.locator("xpath=./div").first  # the thumb's `left: x%` is relative to it
    target = options.index(value)
    current = ""
    for attempt in range(len(options) + 2):
        wait_idle(page)
        current = thumb.inner_text().strip()
        if current == value:
            return
        before = runs_so_far(page)
        if attempt == 0:
            # a click at page coordinates outside the window hits nothing: below the fold
            # (e.g. Epochs under a preset's conv blocks) the slider must be scrolled to first
            track.scroll_into_view_if_needed()
            box = track.bounding_box()
            x = box["width"] * target / (len(options) - 1)
            page.mouse.click(
                box["x"] + min(max(x, 1), box["width"] - 1), box["y"] + 0.5 * box["height"]
            )
        else:
            slider(page, label).focus()
            here = options.index(current)
            page.keyboard.press("ArrowRight" if target > here else "ArrowLeft")
        expect(thumb).not_to_have_text(current, timeout=PAGE_SECONDS * 1000)
        wait_rerun(page, before)
    raise AssertionError(f"slider {label!r} did not reach {value!r}; it shows {current!r}")


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    before = runs_so_far(page)
    page.get_by_role("option", name=option, exact=True).click()
    wait_rerun(page, before)


def plot_points(page: Page, key: str) -> int:
    """How many points the plotly chart with widget key `key` draws, over all its traces."""
    return page.locator(f".st-key-{key} .js-plotly-plot").first.evaluate(
        "plot => (plot.data || []).reduce((n, trace) => n + ((trace.x || []).length), 0)"
    )


def choose_matching(page: Page, label: str, pattern: re.Pattern) -> str:
    """Pick the first option matching `pattern` in the select box labelled `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    shown = box.input_value()  # the option chosen now (Streamlit's box is a text input)
    if pattern.search(shown):
        return shown  # choosing it again would not rerun the page
    box.click()
    option = page.get_by_role("option").filter(has_text=pattern).first
    text = option.inner_text()
    before = runs_so_far(page)
    option.click()
    wait_rerun(page, before)
    return text


def error_alert(page, pattern):
    alert = page.get_by_test_id("stAlertContentError").filter(has_text=pattern)
    expect(alert.first).to_be_visible(timeout=PAGE_SECONDS * 1000)
    return alert.first.inner_text()
