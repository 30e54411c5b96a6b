"""The Draw page's canvas in the browser: pen strokes drawn with the mouse, the ink they leave,
and a plain 7 to draw."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.page_actions import PAGE_SECONDS, pause_on, runs_so_far, wait_idle, wait_rerun
from tests.support.waiting import eventually

# ----- the Draw page's canvas --------------------------------------------------------------

# How many pixels of ink the canvas holds, read from its lower layer (where the canvas draws a
# finished stroke), after two animation frames (the canvas paints a new stroke at the next
# one); -1 once the canvas is no longer in the page.
INK = """async upper => {
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    if (!upper.isConnected) return -1;
    const lower = upper.parentElement.querySelector('canvas.lower-canvas');
    const pixels = lower.getContext('2d').getImageData(0, 0, lower.width, lower.height).data;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 128) ink += 1;
    return ink;
}"""


def draw_stroke(page: Page, canvas, points) -> bool:
    """Press the mouse at the first point, move through the rest, release: one pen stroke.

    `canvas` is a locator or an element handle; False if it was not in the page to draw on."""
    box = canvas.bounding_box()
    if box is None:
        return False
    x, y = box["x"], box["y"]
    page.mouse.move(x + points[0][0], y + points[0][1])
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(x + px, y + py, steps=4)
    page.mouse.up()
    return True


def line(start, end, pieces: int = 12) -> list[tuple[float, float]]:
    """Points along a straight pen movement from `start` to `end`, both included."""
    (x0, y0), (x1, y1) = start, end
    return [(x0 + (x1 - x0) * i / pieces, y0 + (y1 - y0) * i / pieces) for i in range(pieces + 1)]


# A plain 7 in one stroke: the bar left to right, then down to the lower left.
SEVEN = [*line((80, 50), (200, 50)), *line((200, 50), (120, 240))[1:]]


def draw_on_canvas(page: Page, points, timeout: float = PAGE_SECONDS) -> None:
    """Draw one stroke on the Draw page's canvas and wait for the run of the app it starts.

    A stroke can miss: after a Keep the page swaps the canvas for a blank one (a new key), and
    a stroke begun on the old one as it went landed on the text that moved up into its place
    (no ink, no run: a test waited 90 s for one); a new canvas takes strokes only once its pen
    is set up. So the stroke is drawn again on the canvas the page shows, until one leaves ink
    on a canvas still in the page; then the wait is for the run that sends it.
    """
    canvas = page.locator("canvas.upper-canvas")

    def stroke_left_ink() -> tuple[int] | None:
        """The runs so far before a stroke that left ink, in a tuple (0 runs is an answer)."""
        expect(canvas).to_be_visible(timeout=timeout * 1000)
        wait_idle(page)
        upper = canvas.element_handle()
        ink = upper.evaluate(INK)
        before = runs_so_far(page)
        if draw_stroke(page, upper, points) and upper.evaluate(INK) > ink >= 0:
            return (before,)
        return None  # the page is swapping its canvas, or setting up its pen: again

    (before,) = eventually(
        stroke_left_ink,
        timeout,
        interval=0.1,
        message="no stroke on the canvas left ink",
        pause=pause_on(page),
    )
    wait_rerun(page, before)
