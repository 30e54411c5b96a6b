"""What the browser tests share: a Streamlit server on a free port, small data, page actions.

Every wait here waits for a condition (an element, a text, a count, the app going idle), never
for a fixed time; the timeouts are generous because the machine is small and shared and
TensorFlow's first import takes seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
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
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
TRAIN_DIGITS = 2000
TEST_DIGITS = 500

START_SECONDS = 120  # a server starting (the machine may be busy)
PAGE_SECONDS = 90  # a page showing what it should
TRAIN_SECONDS = 300  # a small run ending (a busy machine is slow)
VIEWPORT = {"width": 1400, "height": 1000}


# ----- data --------------------------------------------------------------------------------


def small_data_is_mnist() -> bool:
    """Whether the browser tests' small data set is real MNIST digits (`write_small_mnist`).
    Made-up patch digits, where MNIST is absent, teach a network no handwriting: what it reads
    in a drawn digit is then any digit."""
    return (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists()


def write_small_mnist(folder: Path) -> str:
    """2,000 training and 500 test digits as gzip IDX files in `folder`; returns their origin.

    They come from the real MNIST where it is present, else from made-up patch digits.
    """
    from core.mnist.data import load_mnist, subset
    from tests.support.digits import patch_digits, write_idx_folder

    folder.mkdir(parents=True, exist_ok=True)
    if small_data_is_mnist():
        data, origin = subset(load_mnist(SHARED_MNIST), TRAIN_DIGITS, TEST_DIGITS), "mnist"
    else:
        data, origin = patch_digits(n_train=TRAIN_DIGITS, n_test=TEST_DIGITS), "synthetic"
    write_idx_folder(folder, data)
    return origin


# ----- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """`streamlit run app.py` in its own process group, with its data and run store."""

    data: Path
    home: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start the server and wait until it answers."""
        self.launch()
        self.wait_healthy()
        return self

    def launch(self) -> None:
        """Start the server's process, not waiting for it to answer (`wait_healthy`)."""
        env = {
            **os.environ,
            "MNIST_DATA": str(self.data),
            "KERAS_PLAYGROUND_HOME": str(self.home),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one at the end
            )

    def wait_healthy(self, timeout: float = START_SECONDS) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {self.process.returncode}; its log:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer,
            ):
                return answer.status == 200
            return False

        eventually(
            healthy, timeout, interval=0.2, message=f"streamlit did not answer on {self.url}"
        )

    def warm_up(self, browser) -> None:
        """Load the home page once: the first session starts the app's Keras import.

        `browser` is a Browser or a BrowserContext: the page is opened with its `new_page` and
        closed after (a Browser's page has a context of its own, closed with it; a context
        keeps the app's scripts in its cache for the pages opened in it later).
        (While the pages lived in a folder named pages/, this was also what made a fresh
        server route deep links such as /train through app.py; see the deep-link test.)
        """
        page = browser.new_page()
        try:
            page.goto(self.url + "/")
            expect(page.get_by_text("Where to start")).to_be_visible(timeout=START_SECONDS * 1000)
        finally:
            page.close()

    def kill(self, sig: int = signal.SIGKILL, grace: float = 20) -> None:
        """Send `sig` to the whole process group and wait for the server to end (SIGKILL after
        `grace` seconds)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGKILL to the whole process group: after SIGTERM a server took seconds to exit,
        and nothing is read from it once stopped (its run store is SQLite's, safe from a
        kill; a restart test reads the store the stopped server left, as after a crash)."""
        self.kill(signal.SIGKILL)

    def restart(self, data: Path | None = None) -> Server:
        """Kill the server (SIGKILL, mid-whatever) and start it again on the same port and
        run store; on `data` if given. Its first session after the restart is a test's."""
        self.kill()
        if data is not None:
            self.data = data
        return self.start()

    def rss_bytes(self) -> int:
        """Resident memory of the server and every process it started."""
        import psutil

        root = psutil.Process(self.process.pid)
        total = 0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total


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


# ----- the Train page ----------------------------------------------------------------------

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


def store(server: Server):
    """The server's run store, read from the test (SQLite allows both at once)."""
    from core.runs.store import RunStore

    return RunStore(server.home)


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
