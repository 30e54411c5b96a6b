"""Replay: what recording a run's frames costs in training time and in the store, and how fast
the replay slider redraws in the browser.

    MNIST_DATA=../shared/data/mnist python bench/replay.py [--repeats 3] [--epochs 1]
        [--presets NAME ...] [--skip-training] [--skip-store] [--skip-browser] [--port 8612]

1. Training time. Each preset (the default dense preset and the four convnet presets) is
   trained on the full MNIST for its own epochs, at most --epochs, as the app trains it (a
   `TrainingJob`), once to warm up (not counted), then --repeats times with the
   `ReplayRecorder` writing into a run store and as often without it, in this process, the
   order alternating. A clock callback before the recorder times each run from
   `on_train_begin` to `on_train_end`, so frame 0 (the starting weights) is counted. The
   figures are the median of (with / without) over the pairs, the median share of the run the
   recorder's own hooks took, their seconds a frame, and from these the share at the preset's
   own epochs (one frame more than epochs, over epochs as long as these). On a loaded machine
   the ratio moves by tens of percent from run to run; the recorder's share, timed inside the
   same run, does not.
2. The store. The 512-512 network (the default preset) trained for 20 epochs on 3,000 MNIST
   digits (a frame's size does not depend on how many digits train) records 21 frames; the
   figure is the bytes its rows hold (`ReplayStore.stored_bytes`) and the growth of
   runs.sqlite3 (checkpointed) from before the run's first frame to after its last.
3. The browser. That store is served by `streamlit run app.py` on --port, Evaluate's Replay
   tab opened in headless Chromium (Debian's /usr/bin/chromium) at 1440 px. The slider's thumb
   has the focus; each step presses an arrow key, and the page itself notes the moment of the
   keydown and the first moment all three views name the new epoch (a MutationObserver, and a
   listener for images loading): the diagram's title (a plotly figure), the confusion matrix's
   (HTML), and the templates' title over their image once that image has loaded. The time until
   the panel shows it. Twenty steps, left then right (on the way left, epochs the panel has not
   shown before); median and slowest. bench/bare_replay_app.py, Streamlit's own floor (a select
   slider redrawing three tiny plotly figures), is timed the same way, the two pages taking turns
   step by step. Absolute times: the goal is one.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from bench.latency import CHROMIUM_ARGS, start_server  # noqa: E402
from core.mnist.data import load_mnist, subset  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from core.runs.replay_store import ReplayStore, replay_recorder  # noqa: E402
from core.runs.start import start_recorded_run  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.job import TrainingJob  # noqa: E402
from core.training.registry import JobRegistry  # noqa: E402

CONVNETS = [name for name, preset in PRESETS.items() if preset.spec.is_convolutional]
STORE_EPOCHS = 20
STORE_DIGITS = 3000
STEPS = 20
BARE_APP = "bench/bare_replay_app.py"


class Clock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.started


def timed_run(spec, data, store: RunStore | None) -> tuple[float, float, int]:
    """Seconds of one run's `fit`, of its recorder's hooks, and its frames (0, 0 without)."""
    clock = Clock()
    callbacks: list = [clock]
    if store is not None:
        run_id = store.create_run(spec, data.description)
        callbacks.append(replay_recorder(store, run_id, data))
    job = TrainingJob(spec, data, callbacks=callbacks)
    job.start().join()
    assert job.snapshot().status == "completed", job.snapshot().message
    if store is None:
        return clock.seconds, 0.0, 0
    return clock.seconds, callbacks[1].seconds, len(callbacks[1].frames)


def training_cost(data, names: list[str], most_epochs: int, repeats: int, store: RunStore) -> None:
    print(f"\n1. Training time with the replay recorder / without (at most {most_epochs} epochs)")
    print(
        f"{'preset':<34} {'epochs':>6} {'without s':>9} {'with s':>7} {'ratio':>6} "
        f"{'recorder':>8} {'s/frame':>7} {'at own epochs':>13}"
    )
    for name in names:
        own = PRESETS[name].spec.epochs
        spec = dataclasses.replace(PRESETS[name].spec, epochs=min(own, most_epochs))
        timed_run(spec, data, None)  # warm-up: tracing, the prepared tensors
        ratios, shares, per_frame, without, with_ = [], [], [], [], []
        for repeat in range(repeats):
            first, second = (
                timed_run(spec, data, s) for s in ([store, None] if repeat % 2 else [None, store])
            )
            (bare, _, _), (recorded, hooks, frames) = (
                (second, first) if repeat % 2 else (first, second)
            )
            ratios.append(recorded / bare)
            shares.append(hooks / recorded)
            per_frame.append(hooks / frames)
            without.append(bare)
            with_.append(recorded)
        # The share at the preset's own epochs: own + 1 frames over own epochs of the same length.
        epoch_seconds = statistics.median(without) / spec.epochs
        own_share = (own + 1) * statistics.median(per_frame) / (own * epoch_seconds)
        print(
            f"{name[:34]:<34} {spec.epochs:>6} {statistics.median(without):9.1f} "
            f"{statistics.median(with_):7.1f} {statistics.median(ratios):6.3f} "
            f"{100 * statistics.median(shares):7.2f}% {statistics.median(per_frame):7.3f} "
            f"{100 * own_share:12.2f}%"
        )
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def database_bytes(store: RunStore) -> int:
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.db_path.stat().st_size


def store_cost(data, home: Path) -> RunStore:
    """Train the 512-512 network for STORE_EPOCHS epochs into a store in `home`; print its bytes."""
    store = RunStore(home)
    spec = dataclasses.replace(PRESETS[DEFAULT_PRESET].spec, epochs=STORE_EPOCHS)
    small = subset(data, STORE_DIGITS, len(data.y_test))
    before = database_bytes(store)
    job = start_recorded_run(store, spec, small, owner="bench", registry=JobRegistry())
    job.join()
    assert job.result is not None and job.result.status == "completed", job.result
    replays = ReplayStore(store)
    epochs = replays.epochs(job.run_id)
    stored = replays.stored_bytes(job.run_id)
    grown = database_bytes(store) - before
    print(f"\n2. The store: {spec.architecture()}, {len(epochs)} frames (epochs 0 to {epochs[-1]})")
    print(f"   rows' bytes {stored:,} ({stored / 2**20:.2f} MB), {stored // len(epochs):,} a frame")
    print(f"   runs.sqlite3 grew {grown:,} bytes ({grown / 2**20:.2f} MB; with the run's row)")
    return store


# The titles of the panel's three views as shown: the diagram's (a plotly figure), the confusion
# matrix's (HTML), and the templates' (bold, over their image) once that image has loaded.
SHOWN_TITLES = """() => {
    const titles = [...document.querySelectorAll('.gtitle, .replay-title')].map(t => t.textContent);
    for (const box of document.querySelectorAll('[class*="_replay_templates"]')) {
        const title = box.querySelector('strong'), image = box.querySelector('img');
        if (title && image && image.complete && image.naturalWidth > 0) {
            titles.push(title.textContent);
        }
    }
    return titles;
}"""

SCRUB_TIMER = f"""() => {{
    window.__replay = {{t0: null, done: null, target: null}};
    document.addEventListener('keydown', () => {{ window.__replay.t0 = performance.now(); }}, true);
    const shown = {SHOWN_TITLES};
    const check = () => {{
        const r = window.__replay;
        if (r.target === null || r.done !== null || r.t0 === null) return;
        const pattern = new RegExp(r.target);
        if (shown().filter(t => pattern.test(t)).length >= 3) r.done = performance.now();
    }};
    // Any change to the page, an image's new source included, and any image finishing loading.
    new MutationObserver(check).observe(document.body, {{subtree: true, childList: true,
        characterData: true, attributes: true, attributeFilter: ['src']}});
    document.addEventListener('load', check, true);
}}"""


def open_replay(browser, url: str):
    """A page of `url` with its Replay tab open, the timer in place and the slider focused."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(url)
    expect(page.get_by_role("tab", name="Replay")).to_be_visible(timeout=180_000)
    page.get_by_role("tab", name="Replay").click()
    thumb = page.get_by_role("group", name="Epoch", exact=True).get_by_role("slider")
    expect(thumb).to_be_visible(timeout=180_000)
    page.evaluate(SCRUB_TIMER)
    thumb.focus()
    return page


def step(page, key: str, epoch: int) -> float:
    """Seconds from pressing `key` to the three titles naming `epoch`."""
    target = "at the start" if epoch == 0 else f"at epoch {epoch}(?!\\d)"
    page.evaluate("t => Object.assign(window.__replay, {t0: null, done: null, target: t})", target)
    page.keyboard.press(key)
    page.wait_for_function("() => window.__replay.done !== null", timeout=30_000)
    return page.evaluate("() => (window.__replay.done - window.__replay.t0) / 1000")


def scrub_times(urls: dict[str, str], epochs: list[int]) -> dict[str, list[float]]:
    """Each page's seconds from each arrow key to the panel showing the new epoch, the pages
    taking turns step by step (see the module notes)."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in urls}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        pages = {name: open_replay(browser, url) for name, url in urls.items()}
        position = len(epochs) - 1
        for number in range(STEPS):
            key = "ArrowLeft" if number < STEPS // 2 else "ArrowRight"
            position += -1 if key == "ArrowLeft" else 1
            for name, page in pages.items():
                page.bring_to_front()
                times[name].append(step(page, key, epochs[position]))
                page.wait_for_timeout(300)  # a person looks before the next step
        browser.close()
    return times


def browser_cost(store: RunStore, data_path: str, port: int) -> None:
    run_id = store.list_runs()[0].id
    epochs = ReplayStore(store).epochs(run_id)
    servers = [
        start_server(port, str(store.home), data_path),
        start_server(port + 1, str(store.home), data_path, app=BARE_APP),
    ]
    try:
        urls = {"app": f"http://127.0.0.1:{port}/evaluate", "bare": f"http://127.0.0.1:{port + 1}/"}
        times = scrub_times(urls, epochs)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    print(f"\n3. Scrubbing in headless Chromium, 1440 px: {STEPS} steps over {len(epochs)} frames")
    for name, label in (("app", "Evaluate's Replay tab"), ("bare", BARE_APP)):
        each = " ".join(f"{1000 * t:.0f}" for t in times[name])
        print(
            f"   {label}: median {1000 * statistics.median(times[name]):.0f} ms, slowest "
            f"{1000 * max(times[name]):.0f} ms; each: {each}"
        )
    differences = [a - b for a, b in zip(times["app"], times["bare"], strict=True)]
    print(
        f"   the app beyond the bare page, median of the steps: {1000 * statistics.median(differences):.0f} ms"
    )
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="at most this many epochs a run")
    parser.add_argument("--presets", nargs="*", default=[DEFAULT_PRESET, *CONVNETS])
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--port", type=int, default=8612)
    args = parser.parse_args()
    data_path = os.environ.get("MNIST_DATA", str(REPO.parent / "shared" / "data" / "mnist"))
    data = load_mnist(data_path)
    with tempfile.TemporaryDirectory(prefix="replay-bench-") as home:
        if not args.skip_training:
            training_cost(data, args.presets, args.epochs, args.repeats, RunStore(Path(home) / "t"))
        if args.skip_store:
            return
        store = store_cost(data, Path(home) / "s")
        if not args.skip_browser:
            browser_cost(store, data_path, args.port)


if __name__ == "__main__":
    main()
