"""Steering a run while it trains: how soon a new learning rate takes effect, what steering
costs the training, and how soon the page answers the control.

    MNIST_DATA=../shared/data/mnist python bench/steer.py [--requests 20] [--port 8611]

(a) In process, on the default preset's network (512-512, batch 128, so 16 batches a
compiled call) made constant-rate: a thread asks for a new learning rate `--requests` times
at random moments while a `TrainingJob` trains, reading the optimizer's batch count just
before each request. The delay is the batch the change took effect at (`Change.step`) minus
the batches done when it was asked for: 0 when the batch under way had not yet read its rate,
1 when it had. Baseline, in the same process: Keras's usual way, a callback that sets
`optimizer.learning_rate` in `on_train_batch_begin`, which with 16 batches a compiled call
runs only between calls.

(c) Training speed of a steerable model against the same model as Keras compiles it (both
fit on the same 20,000 images, in turn, median of five epochs each): what the compiled step's
reading of the requests costs.

(b) In headless Chromium (Debian's /usr/bin/chromium), on `streamlit run app.py` started on
`--port` with a temporary run store: while a run trains, a new learning rate is typed into
the live panel's box and Enter pressed; the time until the page says it was asked for, and
until its mark is on the curves (polled in the page every 10 ms). Medians of `--answers`.
No baseline here: the answer is one rerun of the live panel's fragment, which Streamlit's own
floor on the machine at that moment dominates (bench/latency.py measures that floor).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.export.links import spec_to_params  # noqa: E402
from core.mnist.data import load_mnist, one_hot, to_model_inputs  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from core.training.job import TrainingJob, steps_per_execution_for  # noqa: E402
from tests.browser.page_actions import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SPEC = replace(PRESETS[DEFAULT_PRESET].spec, lr_schedule="constant", epochs=3)
BROWSER_SPEC = replace(PRESETS[DEFAULT_PRESET].spec, epochs=50)  # stopped long before its end


def ask_at_random(requests: int, iterations, ask, running) -> list[tuple[int, float]]:
    """Ask for `requests` new rates at random moments; (batches done when asked, rate)."""
    rng = random.Random(1)
    asked = []
    for i in range(requests):
        time.sleep(rng.uniform(0.05, 0.25))
        if not running():
            break
        rate = round(0.001 * (1 + (i + 1) / 100), 6)  # each request its own value
        done = int(iterations().numpy())
        ask(rate)
        asked.append((done, rate))
    return asked


def steered_delays(data, requests: int) -> list[int]:
    """Batches from request to effect, through the job's steering."""
    job = TrainingJob(SPEC, data)
    job.start()
    while job.model is None or not job.snapshot().batches:
        time.sleep(0.01)
    asked = ask_at_random(
        requests,
        lambda: job.model.optimizer.iterations,
        job.steer.set_learning_rate,
        lambda: job.running,
    )
    job.stop()
    job.join(timeout=600)
    taken = {c.value: c.step for c in job.steer.changes() if c.kind == "learning_rate"}
    return [taken[rate] - done for done, rate in asked if rate in taken]


def callback_delays(data, requests: int) -> list[int]:
    """Batches from request to effect, set by a callback before each compiled call."""
    import keras

    from core.nets.model import build_model

    x, y = to_model_inputs(data.x_train), one_hot(data.y_train)
    spe = steps_per_execution_for(SPEC.batch_size)
    model = build_model(SPEC, steps_per_execution=spe)
    pending: list[float] = []
    taken: dict[float, int] = {}
    training, done = threading.Event(), threading.Event()

    class SetRate(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            training.set()
            self.model.stop_training = done.is_set()
            if pending:  # the last asked for is set; those before it are taken by it
                self.model.optimizer.learning_rate = pending[-1]
                step = int(self.model.optimizer.iterations.numpy())
                taken.update(dict.fromkeys(pending, step))
                pending.clear()

    fit = threading.Thread(
        target=lambda: model.fit(
            x,
            y,
            batch_size=SPEC.batch_size,
            epochs=SPEC.epochs,
            callbacks=[SetRate()],
            verbose=0,
        )
    )
    fit.start()
    training.wait()
    asked = ask_at_random(
        requests, lambda: model.optimizer.iterations, pending.append, fit.is_alive
    )
    time.sleep(0.5)  # the last request taken
    done.set()
    fit.join()
    return [taken[rate] - done for done, rate in asked if rate in taken]


TIMED = 20_000  # images a timed epoch of (c)


def training_cost(data, repeats: int = 5) -> tuple[float, float]:
    """Seconds an epoch of TIMED images, median: (steerable model, the same model as Keras
    compiles it)."""
    from core.nets.model import build_model
    from core.training.steer_callback import make_steerable

    x, y = to_model_inputs(data.x_train[:TIMED]), one_hot(data.y_train[:TIMED])
    spe = steps_per_execution_for(SPEC.batch_size)
    steered, plain = (
        build_model(SPEC, steps_per_execution=spe),
        build_model(SPEC, steps_per_execution=spe),
    )
    make_steerable(steered)
    times: dict[str, list[float]] = {"steered": [], "plain": []}
    for model in (steered, plain):  # traced first, not timed
        model.fit(x, y, batch_size=SPEC.batch_size, epochs=1, verbose=0, shuffle=False)
    for repeat in range(repeats):
        order = (("steered", steered), ("plain", plain))
        for name, model in order if repeat % 2 else order[::-1]:
            start = time.perf_counter()
            model.fit(x, y, batch_size=SPEC.batch_size, epochs=1, verbose=0, shuffle=False)
            times[name].append(time.perf_counter() - start)
    return statistics.median(times["steered"]), statistics.median(times["plain"])


# ----- (b) in the browser --------------------------------------------------------------------

LABELS = """() => {
    const plot = document.querySelector('.st-key-train_curves .js-plotly-plot');
    return ((plot && plot.layout && plot.layout.annotations) || []).map(a => a.text);
}"""


IDLE = """() => document.querySelector('[data-testid=stApp]')
    .getAttribute('data-test-script-state') === 'notRunning'"""


@contextlib.contextmanager
def app_server(port: int, data: str):
    home = tempfile.mkdtemp(prefix="steer-bench-")
    env = {**os.environ, "MNIST_DATA": data, "KERAS_PLAYGROUND_HOME": home}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            health = f"http://127.0.0.1:{port}/_stcore/health"
            with contextlib.suppress(OSError), urllib.request.urlopen(health) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def answer_times(url: str, answers: int) -> tuple[list[float], list[float]]:
    """Seconds from Enter in the learning-rate box to the page saying it was asked for, and
    to its mark on the curves."""
    from playwright.sync_api import sync_playwright

    said, marked = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url + "/train?" + urllib.parse.urlencode(spec_to_params(BROWSER_SPEC)))
        page.get_by_role("button", name="Train").click(timeout=120_000)
        box = page.locator("[class*='st-key-train_steer_lr_'] input")
        box.wait_for(timeout=120_000)
        for i in range(answers):
            rate = f"{0.0005 + i * 0.0001:g}"
            box.fill(rate)
            start = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(
                f"() => document.body.innerText.includes('{rate} asked for')", polling=10
            )
            said.append(time.perf_counter() - start)
            page.wait_for_function(f"() => ({LABELS})().includes('lr {rate}')", polling=10)
            marked.append(time.perf_counter() - start)
        page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).last.click()
        browser.close()
    return said, marked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--answers", type=int, default=7)
    parser.add_argument("--port", type=int, default=8611)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--browser-only", action="store_true")
    args = parser.parse_args()
    folder = os.environ.get("MNIST_DATA", "")
    if not args.browser_only:
        in_process(load_mnist(folder or None), args.requests)
    if args.no_browser:
        return
    with app_server(args.port, folder) as url:
        said, marked = answer_times(url, args.answers)
    print(f"(b) Enter to 'asked for' shown: median {statistics.median(said):.3f} s {said}")
    print(f"    Enter to the mark on the curves: median {statistics.median(marked):.3f} s")


def in_process(data, requests: int) -> None:
    steered = steered_delays(data, requests)
    baseline = callback_delays(data, requests)
    print("(a) batches from a learning-rate request to its effect")
    print(f"  steering:  max {max(steered)}, median {statistics.median(steered)} ({steered})")
    print(f"  callback:  max {max(baseline)}, median {statistics.median(baseline)}")
    with_knobs, without = training_cost(data)
    print(
        f"(c) seconds an epoch: steerable {with_knobs:.2f}, Keras's own {without:.2f}, "
        f"ratio {with_knobs / without:.3f}"
    )


if __name__ == "__main__":
    main()
