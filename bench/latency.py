"""What a person waits for: loading MNIST, the first page, the first curve point, Stop.

    MNIST_DATA=../shared/data/mnist python bench/latency.py [--repeats 3]

Loads the IDX files with `load_mnist` (median of five), then starts `streamlit run app.py` on
a free port with a temporary run store and drives it in headless Chromium (Debian's
/usr/bin/chromium): time from the navigation's start until the Home page shows, and, after
TensorFlow's background import has had time to finish (and the Home page has built the
default network ahead, core/training/warm_start.py), time from pressing Train (default preset) until
the first point is on the curves, and from pressing Stop until the page says the run stopped.
All three are timed in the page itself (a MutationObserver notes the moment the page shows
the change; the two buttons are clicked by the page's script): what a person waits for,
without Playwright's own polling and round trips. Medians. Each repeat's browser has never
seen the app; `--cached` times a browser that has (Streamlit's frontend in its HTTP cache).

Each repeat also runs bench/bare_app.py the same way, on a fresh server of its own, in turn
with the app (the order alternating): Streamlit with nothing of the app, the same chart and the
same clicks. It is the baseline in the same process the machine's load moves with the app; the
table gives both, and the app's seconds beyond it. `--no-baseline` leaves it out.

    python bench/latency.py --in-process

times the same two waits on `TrainingJob` alone, cold and with the model built ahead.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import core.training.job as training  # noqa: E402
from core.inside.evaluation import predict_probabilities  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402
from core.nets.model import ModelSpec  # noqa: E402
from core.training.job import TrainingJob  # noqa: E402
from core.training.warm_start import WarmStarts  # noqa: E402
from tests.browser.page_actions import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

FIRST_POINT = (
    "() => { const d = document.querySelector('.st-key-train_curves .js-plotly-plot');"
    " return d && d.data && d.data.some(t => t.x && t.x.length > 0); }"
)
STOPPED = "() => document.body.textContent.includes('Stopped by you')"
# When the Home page's "Where to start" first shows, in the page's own time (milliseconds since
# the navigation began): Playwright's wait for the text polls at growing intervals, which
# would add its own delay to the figure.
HOME_SHOWN = """new MutationObserver((_, observer) => {
    if (document.body && document.body.textContent.includes('Where to start')) {
        window.homeShown = performance.now();
        observer.disconnect();
    }
}).observe(document, {subtree: true, childList: true, characterData: true});"""
# Click the page's own button and time, in the page, until `done()` holds: watched on every
# change to the page and every 10 ms. Timed in the browser, so the figure is what a person
# waits for, not what Playwright's own round trips to a busy page add.
CLICK_AND_TIME = """async ([label, done]) => {
    const ready = eval(done);
    const button = [...document.querySelectorAll('[data-testid=stMain] button')].find(
        b => [...b.querySelectorAll('p')].some(p => p.innerText.trim() === label));
    return await new Promise(resolve => {
        const start = performance.now();
        const check = () => {
            if (ready()) { observer.disconnect(); clearInterval(timer); resolve(performance.now() - start); }
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, {subtree: true, childList: true, characterData: true});
        const timer = setInterval(check, 10);
        button.click();
    });
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BARE_APP = "bench/bare_app.py"


def start_server(port: int, home: str, data: str, app: str = "app.py") -> subprocess.Popen:
    env = os.environ | {"MNIST_DATA": data, "KERAS_PLAYGROUND_HOME": home}
    command = [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true"]
    process = subprocess.Popen(
        [*command, "--server.port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start within 60 s")


VIEWPORT = {"width": 1440, "height": 1000}
# Seconds until the Home page shows, from Train to the first curve point, from Stop to stopped.
Timings = tuple[float, float, float]


def one_session(browser, url: str, settle: float, read: float, reload: bool = False) -> Timings:
    """One visit: `browser` is a Browser (each page a browser that has never seen the app) or
    a BrowserContext made with VIEWPORT (every page in one profile, its HTTP cache kept)."""
    page = browser.new_page(**({"viewport": VIEWPORT} if hasattr(browser, "contexts") else {}))
    page.add_init_script(HOME_SHOWN)
    page.goto(url)
    page.get_by_text("Where to start").wait_for(timeout=60_000)
    home = page.evaluate("window.homeShown") / 1000
    time.sleep(settle)  # as a person reads the page, TensorFlow finishes loading
    if reload:  # the Train page opened from its address: the whole frontend loads anew
        page.goto(url + "train")
    else:  # as a person goes there from Home: the sidebar's link, the frontend already running
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    time.sleep(read)  # as a person looks at the settings before pressing Train
    first_point = page.evaluate(CLICK_AND_TIME, ["Train", FIRST_POINT]) / 1000
    page.wait_for_timeout(3000)
    stopped = page.evaluate(CLICK_AND_TIME, ["Stop", STOPPED]) / 1000
    page.close()
    return home, first_point, stopped


def old_stop_path(training) -> None:
    """The end after Stop as it was: validate the cut epoch, trace a predict function."""
    training._UntilStopped = lambda stopped: 1
    training.predict_eagerly = predict_probabilities


def in_process(data_path: str, repeats: int, old: bool = False, warm: bool = False) -> None:
    """The same two waits without a server or browser: TrainingJob on the default preset,
    from start() to the first batch point, and from stop() (3 s later) to the finished result.
    `old` times the end after Stop as it was before (a baseline in the same process); `warm`
    builds and traces the model ahead first, as the Train page does while it is read."""

    if old:
        old_stop_path(training)
    data = load_mnist(data_path)
    firsts, stops = [], []
    for _ in range(repeats):
        ahead = WarmStarts(delay=0)
        if warm:  # as while the Train page is read: the model is built and traced ahead
            training.build_ahead(ModelSpec(), data, ahead)
            while ahead.ready_key() is None:
                time.sleep(0.01)
        job = TrainingJob(ModelSpec(), data, warm_starts=ahead)
        start = time.perf_counter()
        job.start()
        while not job.snapshot().batches:
            time.sleep(0.005)
        firsts.append(time.perf_counter() - start)
        time.sleep(3)
        start = time.perf_counter()
        job.stop()
        while job.monitor.running:
            time.sleep(0.005)
        stops.append(time.perf_counter() - start)
        job.join()
    print(
        f"in process{' (old stop path)' if old else ''}{' (built ahead)' if warm else ' (cold)'}:"
        f" start -> first batch point median {statistics.median(firsts):.2f} s "
        f"({', '.join(f'{v:.2f}' for v in firsts)}); stop -> result median "
        f"{statistics.median(stops):.2f} s ({', '.join(f'{v:.2f}' for v in stops)})"
    )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settle", type=float, default=15.0, help="seconds on Home before Train")
    parser.add_argument(
        "--read", type=float, default=0.0, help="seconds on the Train page before pressing Train"
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="open the Train page from its address (the whole page loads anew), not the sidebar",
    )
    parser.add_argument(
        "--in-process", action="store_true", help="only time TrainingJob itself, no browser"
    )
    parser.add_argument("--old", action="store_true", help="with --in-process: the old Stop path")
    parser.add_argument(
        "--no-baseline", action="store_true", help="leave out bench/bare_app.py's repeats"
    )
    parser.add_argument(
        "--cached",
        action="store_true",
        help="a browser that has opened the app before: one profile, the same port every time "
        "(as `streamlit run` uses 8501), and one visit first, so Streamlit's frontend is in the "
        "browser's HTTP cache",
    )
    return parser.parse_args()


def time_mnist_load(data: str) -> None:
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        load_mnist(data)
        loads.append(time.perf_counter() - start)
    print(f"load_mnist from IDX files: median {statistics.median(loads):.2f} s (5 loads)")


def fill_http_cache(opener, home: str, data: str) -> int:
    """One visit to the bare app (the same frontend files) on a port the app will use too;
    that port."""
    port = free_port()
    server = start_server(port, home, data, BARE_APP)
    try:
        page = opener.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_text("Where to start").wait_for(timeout=60_000)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return port


def time_one_server(
    opener, port: int, home: str, data: str, app: str, args: argparse.Namespace
) -> Timings:
    """A fresh server of `app` and one visit to it, timed."""
    server = start_server(port, home, data, app)
    # The bare app has no TensorFlow to import and nothing to build: it settles only while
    # plotly's code loads.
    settle = args.settle if app == "app.py" else 3.0
    try:
        return one_session(opener, f"http://127.0.0.1:{port}/", settle, args.read, args.reload)
    finally:
        server.terminate()
        server.wait(timeout=30)


def time_in_browser(args: argparse.Namespace, data: str) -> dict[str, list[Timings]]:
    """Every repeat's timings by app, the app and the bare app taking turns to go first."""
    from playwright.sync_api import sync_playwright  # Playwright: not for --in-process

    apps = ["app.py"] if args.no_baseline else ["app.py", BARE_APP]
    rows: dict[str, list[Timings]] = {app: [] for app in apps}
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        opener, cached_port = browser, None
        if args.cached:
            opener = browser.new_context(viewport=VIEWPORT)
            cached_port = fill_http_cache(opener, home, data)
        for repeat in range(args.repeats):
            for app in apps if repeat % 2 == 0 else apps[::-1]:
                port = cached_port or free_port()
                rows[app].append(time_one_server(opener, port, home, data, app, args))
        browser.close()
    return rows


def main() -> None:
    args = parse_arguments()
    data = os.environ.get("MNIST_DATA") or str(REPO.parent / "shared" / "data" / "mnist")
    if args.in_process:
        for warm in (False, True):
            in_process(data, args.repeats, old=args.old, warm=warm)
        return
    time_mnist_load(data)
    print_table(time_in_browser(args, data))


def print_table(rows: dict[str, list[Timings]]) -> None:
    """Medians and every repeat's figure, the app's beside the bare app's when it ran."""
    app, bare = rows["app.py"], rows.get(BARE_APP)
    if bare:
        print(
            "| what (fresh server each time) | app, median s | bare Streamlit, median s "
            "| app beyond bare, median s | app, runs | bare, runs |"
        )
        print("|---|---:|---:|---:|---|---|")
    else:
        print("| what (fresh server each time) | median s | runs |")
        print("|---|---:|---|")
    names = ["Home page shown", "Train pressed -> first curve point", "Stop -> stopped"]
    for i, name in enumerate(names):
        values = [row[i] for row in app]
        runs = ", ".join(f"{v:.2f}" for v in values)
        if not bare:
            print(f"| {name} | {statistics.median(values):.2f} | {runs} |")
            continue
        floor = [row[i] for row in bare]
        # Repeat k of the app ran next to repeat k of the bare app: the difference is taken
        # within each pair, then its median.
        beyond = statistics.median(a - b for a, b in zip(values, floor, strict=True))
        print(
            f"| {name} | {statistics.median(values):.2f} | {statistics.median(floor):.2f} "
            f"| {beyond:+.2f} | {runs} | {', '.join(f'{v:.2f}' for v in floor)} |"
        )


if __name__ == "__main__":
    main()
