"""Draw's answer time: from lifting the pen to the prediction on the page, beside a bare canvas.

    MNIST_DATA=../shared/data/mnist python bench/draw_latency.py [--repeats 5] [--port 8621]
        [--width 1440] [--gap 0.3] [--before DIR] [--models DIR]

Starts `streamlit run app.py` twice, each with a run store holding one network, the default
dense preset and the keras.io convnet (each trained here for one epoch on 12,000 MNIST digits
and kept in --models: how fast the answer comes does not depend on how good it is), and
bench/bare_canvas_app.py: the same canvas component on a bare Streamlit page that answers with
the count of inked pixels in the same kind of element. Ports --port, --port + 1, ... In
headless Chromium (Debian's /usr/bin/chromium), one page each, every page gets the same
drawings: a 7, a 1, a 0 in one stroke each, a 4 and a 5 in two, each on a cleared canvas, the
pages taking turns in an order that rotates every repeat. The Draw page shows what it shows
by default: the answer, its probabilities and the inside views.

Timed in the page itself, without Playwright's round trips: a listener notes the moment the
mouse button is released (pointerup), and a MutationObserver the first moment after it that
the "Prediction" metric shows the answer to that stroke (its text changed, or it was redrawn
after being marked stale while the run was under way), and when the script run ended. The
second stroke of a drawing starts --gap seconds after the first one's answer, as a person
glances at it (the page may still be drawing its charts); after the last one, once the page
is idle, the canvas is cleared. Each page draws once first, not counted: its first answer
fills the server's caches (the inside views rank the test digits for each unit then).

The table gives, per page, the median over every stroke, the bare page's median, and the
median of the differences between the page's and the bare page's answer to the same stroke
in the same repeat; then the median over second strokes alone, and the median time until the
script run ended. Every stroke's figure follows.

The bare page's answer is mostly the canvas's own: streamlit-drawable-canvas sends a drawing
200 ms after the pen is lifted (a debounce in its frontend), so no page using it can answer
sooner.

`--before DIR` runs another copy of the app from DIR beside this one, in the same turns
(for the code before a change: `git archive COMMIT | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.latency import CHROMIUM_ARGS  # noqa: E402
from core.mnist.data import load_mnist, subset, to_model_inputs  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS  # noqa: E402
from core.runs.store import RunStore  # noqa: E402

BARE_APP = "bench/bare_canvas_app.py"
NETWORKS = {"dense (default preset)": DEFAULT_PRESET, "convnet (keras.io)": KERAS_CONVNET}
TRAIN_DIGITS = 12_000
SECONDS = 120  # the longest any one wait may take on a busy machine


def _ellipse(cx, cy, rx, ry, pieces=28):
    return [
        (cx + rx * math.sin(2 * math.pi * i / pieces), cy - ry * math.cos(2 * math.pi * i / pieces))
        for i in range(pieces + 1)
    ]


# Each drawing is a list of strokes, each the points the pen goes through on the 280x280 canvas.
DRAWINGS = {
    "7": [[(80, 50), (200, 50), (120, 240)]],
    "1": [[(140, 40), (145, 240)]],
    "4": [[(75, 40), (65, 170), (215, 170)], [(170, 60), (170, 245)]],
    "0": [_ellipse(140, 140, 65, 100)],
    "5": [
        [
            (95, 45),
            (85, 130),
            (140, 115),
            (190, 145),
            (195, 195),
            (160, 235),
            (100, 235),
            (75, 215),
        ],
        [(95, 45), (200, 45)],
    ],
}

# Installed in every page before its scripts. Notes when the pen is lifted, and then the first
# moment the page shows the answer to that stroke: the "Prediction" metric is there and not
# stale (Streamlit marks an element stale while the run that will redraw it is under way), and
# its text has changed, or it was stale or absent since the pen was lifted, or the run ended.
# Notes too when the script run after the stroke ends.
TIMERS = """
window.__draw = {armed: false};
window.__prediction = () => {
    const metric = [...document.querySelectorAll('[data-testid=stMetric]')].find(
        m => m.textContent.includes('Prediction'));
    if (!metric) return null;
    const value = metric.querySelector('[data-testid=stMetricValue]');
    const box = metric.closest('[data-testid=stElementContainer]');
    return {text: value ? value.textContent.trim() : '',
            stale: !!box && box.getAttribute('data-stale') === 'true'};
};
window.__predictionText = () => (window.__prediction() || {text: ''}).text;
addEventListener('pointerup', () => {
    const d = window.__draw;
    if (d.armed && d.up === null) d.up = performance.now();
}, true);
new MutationObserver(records => {
    const d = window.__draw;
    if (!d.armed || d.up === null) return;
    const now = performance.now();
    if (d.done === null && records.some(r => r.attributeName === 'data-test-script-state'
            && r.oldValue === 'running')) d.done = now;
    if (d.changed === null) {
        const shown = window.__prediction();
        if (!shown || shown.stale) d.redrawn = true;
        else if (shown.text !== d.before || d.redrawn || d.done !== null) d.changed = now;
    }
    // A run quicker than one redraw may never show the state "running": once the answer is
    // shown, the run that gave it has started, so "not running" means it has ended.
    const app = document.querySelector('[data-testid=stApp]');
    if (d.done === null && d.changed !== null && app
            && app.getAttribute('data-test-script-state') === 'notRunning') d.done = now;
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ['data-test-script-state', 'data-stale'],
                      attributeOldValue: true});
"""
ARM = """() => { window.__draw = {armed: true, up: null, changed: null, done: null,
                                redrawn: false, before: window.__predictionText()}; }"""
ANSWERED = "() => window.__draw.changed !== null"
IDLE = """() => { const app = document.querySelector('[data-testid=stApp]');
                  return app && app.getAttribute('data-test-script-state') === 'notRunning'; }"""
ENDED = f"() => window.__draw.done !== null && ({IDLE})()"
CLEARED = f"() => window.__predictionText() === '' && ({IDLE})()"


# ----- the networks ------------------------------------------------------------------------


def model_file(name: str, data, folder: Path) -> Path:
    """The preset `name` trained one epoch on TRAIN_DIGITS digits, saved in `folder` (reused)."""
    architecture = PRESETS[name].spec.architecture()
    path = folder / f"{''.join(c if c.isalnum() else '-' for c in architecture)}.keras"
    if path.exists():
        return path
    spec = dataclasses.replace(PRESETS[name].spec, epochs=1, validation_split=0.0)
    small = subset(data, TRAIN_DIGITS, 100)
    model = build_model(spec, steps_per_epoch=math.ceil(TRAIN_DIGITS / spec.batch_size))
    print(f"training {name} for one epoch on {TRAIN_DIGITS:,} digits ...", flush=True)
    x = to_model_inputs(small.x_train, spec.input_shape)
    model.fit(x, np.eye(10, dtype="float32")[small.y_train], batch_size=spec.batch_size, verbose=0)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def store_with(model_path: Path, name: str, home: Path) -> None:
    RunStore(home).import_model(model_path.read_bytes(), model_path.name, name)


# ----- servers and pages -------------------------------------------------------------------


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
    except OSError:
        return False
    return True


def start(root: Path, app: str, port: int, home: Path, data: str) -> subprocess.Popen:
    """`streamlit run app` from the folder `root` on `port`, answering once healthy."""
    if _answers(port):
        raise RuntimeError(f"a server already answers on port {port}: choose others (--port)")
    env = os.environ | {"MNIST_DATA": data, "KERAS_PLAYGROUND_HOME": str(home)}
    command = [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true"]
    process = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.fileWatcherType", "none"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        if _answers(port):
            return process
        time.sleep(0.2)  # polling the health endpoint until the server is up
    process.kill()
    raise RuntimeError(f"{app} in {root} did not start on port {port}")


def _wait(page, condition: str) -> None:
    try:
        page.wait_for_function(condition, timeout=SECONDS * 1000, polling=20)
    except Exception as error:
        shot = Path(tempfile.gettempdir()) / "draw-latency-timeout.png"
        page.screenshot(path=shot, full_page=True)
        state = page.evaluate("JSON.stringify(window.__draw)")
        raise RuntimeError(
            f"{page.url}: waited in vain for {condition} ({state}); the page: {shot}"
        ) from error


def open_draw_page(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.add_init_script(TIMERS)
    page.goto(url)
    try:  # the first visit imports TensorFlow and loads the network: minutes on a busy machine
        page.locator("canvas.upper-canvas").wait_for(timeout=3 * SECONDS * 1000)
    except Exception as error:
        shot = Path(tempfile.gettempdir()) / "draw-latency-timeout.png"
        page.screenshot(path=shot)
        raise RuntimeError(f"{url}: no canvas; the page: {shot}") from error
    _wait(page, IDLE)
    return page


def stroke(page, points) -> None:
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        pieces = max(2, round(math.dist((x0, y0), (x1, y1)) / 15))
        for i in range(1, pieces + 1):
            t = i / pieces
            page.mouse.move(box["x"] + x0 + (x1 - x0) * t, box["y"] + y0 + (y1 - y0) * t)
    page.mouse.up()


def time_drawing(page, strokes, gap: float) -> list[tuple[float, float | None]]:
    """Each stroke's seconds from the pen lifted to the page showing the answer, and to the end
    of the script run it started (None where the next stroke came first).

    The next stroke starts `gap` seconds after the answer is shown, as a person glances at it;
    after the last, once the run has ended and half a second more, the canvas is cleared.
    """
    times = []
    for number, points in enumerate(strokes, 1):
        page.evaluate(ARM)
        stroke(page, points)
        _wait(page, ANSWERED)
        if number == len(strokes):
            _wait(page, ENDED)
        else:
            page.wait_for_timeout(1000 * gap)
        up, changed, done = page.evaluate(
            "[window.__draw.up, window.__draw.changed, window.__draw.done]"
        )
        times.append(((changed - up) / 1000, None if done is None else (done - up) / 1000))
    page.wait_for_timeout(500)  # as a person reads the answer (and plotly finishes drawing)
    page.evaluate("() => { window.__draw.armed = false; }")
    page.get_by_role("button", name="Reset canvas & history").click()
    _wait(page, CLEARED)
    return times


# ----- the run -----------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """One page the drawings go to, and what it measured: (repeat, digit, stroke) -> seconds."""

    label: str
    root: Path
    app: str
    home: Path
    port: int
    process: subprocess.Popen | None = None
    page: object = None
    answers: dict = dataclasses.field(default_factory=dict)
    ends: dict = dataclasses.field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/" + ("" if self.app == BARE_APP else "draw")


def targets_for(args, data, scratch: Path) -> list[Target]:
    """The app on each network (and the app before a change, with --before), then the bare
    page, each on its own port from --port on."""
    roots = {"app": REPO} | ({"before": Path(args.before).resolve()} if args.before else {})
    targets, port = [], args.port
    for network, preset in NETWORKS.items():
        path = model_file(preset, data, Path(args.models))
        for version, root in roots.items():
            home = scratch / f"{version}-{path.stem}"
            store_with(path, network, home)
            targets.append(Target(f"{version}, {network}", root, "app.py", home, port))
            port += 1
    targets.append(Target("bare canvas", REPO, BARE_APP, scratch / "bare", port))
    return targets


def measure(targets: list[Target], args, data_path: str) -> None:
    """Every drawing on every page, --repeats times, the pages' order rotating each repeat."""
    from playwright.sync_api import sync_playwright  # only for the browser part

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            for target in targets:
                target.process = start(target.root, target.app, target.port, target.home, data_path)
                target.page = open_draw_page(browser, target.url, args.width)
                time_drawing(target.page, DRAWINGS["4"], args.gap)  # fills the server's caches
            for repeat in range(args.repeats):
                shift = repeat % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    for digit, strokes in DRAWINGS.items():
                        times = time_drawing(target.page, strokes, args.gap)
                        for number, (answer, end) in enumerate(times, 1):
                            target.answers[repeat, digit, number] = answer
                            if end is not None:
                                target.ends[repeat, digit, number] = end
                print(f"repeat {repeat + 1} of {args.repeats} done", flush=True)
        finally:
            browser.close()
            for target in targets:
                if target.process is not None:
                    target.process.terminate()
                    target.process.wait(timeout=30)


def print_table(targets: list[Target]) -> None:
    """Medians per page beside the bare page's, and every stroke's figure."""
    bare = targets[-1]
    print(
        "| page | answer, median s | bare canvas, median s | app minus bare, median s "
        "| second strokes, median s | run ended, median s | strokes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        answers = target.answers
        differences = [answers[k] - bare.answers[k] for k in answers]
        later = [v for (_, _, number), v in answers.items() if number > 1]
        print(
            f"| {target.label} | {statistics.median(answers.values()):.2f} "
            f"| {statistics.median(bare.answers.values()):.2f} "
            f"| {statistics.median(differences):+.2f} "
            f"| {statistics.median(later):.2f} "
            f"| {statistics.median(target.ends.values()):.2f} | {len(answers)} |"
        )
    for target in targets:
        figures = ", ".join(f"{v:.2f}" for v in target.answers.values())
        print(f"{target.label}: {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="turns of every page")
    parser.add_argument("--port", type=int, default=8621, help="the first server's port")
    parser.add_argument("--width", type=int, default=1440, help="the browser window's width")
    parser.add_argument("--before", help="a copy of the app before a change, run beside it")
    parser.add_argument(
        "--gap", type=float, default=0.3, help="seconds from an answer to the next stroke"
    )
    parser.add_argument(
        "--models",
        default=str(Path(tempfile.gettempdir()) / "draw-latency-models"),
        help="where the trained networks are kept between runs",
    )
    args = parser.parse_args()
    data_path = os.environ.get("MNIST_DATA") or str(REPO.parent / "shared" / "data" / "mnist")
    data = load_mnist(data_path)
    with tempfile.TemporaryDirectory() as scratch:
        targets = targets_for(args, data, Path(scratch))
        measure(targets, args, data_path)
    print_table(targets)


if __name__ == "__main__":
    main()
