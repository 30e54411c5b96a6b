"""Does the server's memory stay bounded? Twenty training runs in a row, through the browser.

    python bench/memory.py [--runs 20] [--epochs 2] [--units 32] [--same-session] [--full]
    python bench/memory.py --conv [keras|fast] [--runs 20] [--epochs 2] ...

Starts `streamlit run app.py` on a free port with a temporary run store and 2,000 training /
500 test digits (`--full`: the whole MNIST from ../shared/data/mnist), then drives the Train
page in headless Chromium (Debian's /usr/bin/chromium): each run opens a new browser session
(`--same-session`: one session for all), sets one hidden layer, presses Train and waits for
"Trained N epochs". `--conv` trains a convolutional network instead: the keras.io "Simple MNIST
convnet" preset (`--conv fast`: the fast CNN preset, with batch norm) cut to `--epochs`, set up
the way a shared link does it (the Train page restores its whole spec from the URL's query
parameters, core/export/links.py), so every new session opens /train?layers=conv-32-...

After each run it reads the resident memory (RSS) of the server and every process it started
(psutil): as the run ends, and settled (the least reading over the next `--settle` seconds,
once the server's work after a run is done) and prints a table; the growth of the settled
figure from the first run to the last (TensorFlow's one-time allocations happen in the first)
is the figure to watch, and what each run adds from run 10 on, once the first runs' memory has
settled (a least-squares slope; the goal is at most +1 MB a run). The server, the browser
pages and the waits are the browser tests' own (tests/browser/streamlit_server.py,
page_actions.py and train_page.py); `--port` picks the server's port (default: any free one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dataclasses import replace  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import numpy as np  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

import core.nets.presets  # noqa: E402
from core.export.links import spec_to_params  # noqa: E402
from core.nets.model import count_parameters  # noqa: E402
from tests.browser.page_actions import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_SECONDS,
    new_context,
    open_page,
)
from tests.browser.streamlit_server import SHARED_MNIST, Server, write_small_mnist  # noqa: E402
from tests.browser.train_page import (  # noqa: E402
    open_network,
    outcome,
    press_train,
)

LIMIT_MB = 200
CONV_LIMIT_MB = 150  # issue 14's goal for twenty CNN runs
# Issue 29's goal: what each run leaves once the first runs' memory has settled (closed
# browser sessions are kept two minutes, the last finished jobs stay in the registry).
SETTLED_FROM_RUN = 10
LATE_LIMIT_MB = 1.0
# --conv's choices: the Train page's presets of those names (core/nets/presets.py).
CONV_PRESETS = {"keras": "KERAS_CONVNET_SPEC", "fast": "FAST_CNN_SPEC"}


def conv_link(name: str, epochs: int) -> tuple[str, str, str]:
    """Preset `name` cut to `epochs` (early stopping off, so every run trains them all): the
    Train page's path with the spec as query parameters, its architecture, and the model line
    the page's summary shows for it."""

    spec = getattr(core.nets.presets, CONV_PRESETS[name])
    spec = replace(spec, epochs=epochs, early_stopping=False)
    model = f"Model: {spec.architecture()}, {count_parameters(spec):,} parameters"
    return "/train?" + urlencode(spec_to_params(spec)), spec.architecture(), model


def megabytes(count: int) -> float:
    return count / 1024 / 1024


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--units", default="32", help="units of the one hidden layer")
    parser.add_argument("--same-session", action="store_true", help="one browser session")
    parser.add_argument("--full", action="store_true", help="the full MNIST, not 2,000 digits")
    parser.add_argument(
        "--conv",
        nargs="?",
        const="keras",
        choices=sorted(CONV_PRESETS),
        help="a convolutional preset (default keras: the keras.io convnet) instead of --units",
    )
    parser.add_argument("--port", type=int, default=0, help="the server's port (0: any free)")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds after each run to read the memory"
    )
    args = parser.parse_args()
    args.link = conv_link(args.conv, args.epochs) if args.conv else None
    return args


def data_folder(args: argparse.Namespace, scratch: Path) -> Path:
    """The full MNIST with --full, else a small subset written into `scratch`."""
    if args.full:
        return SHARED_MNIST
    data = scratch / "mnist"
    write_small_mnist(data)
    return data


def print_header(args: argparse.Namespace, data: Path, start: float) -> None:
    network = (
        f"{args.link[1]} ({args.conv} preset)" if args.conv else f"one hidden layer of {args.units}"
    )
    print(f"data: {data}; {network}, {args.epochs} epochs")
    print(f"server after start and the home page: {start:,.0f} MB")
    print(
        f"{'run':>4} {'seconds':>8} {'at end':>8} {'settled':>8} "
        f"{'vs run 1':>9} {'vs start':>9}   (RSS MB)"
    )


def print_growth(args: argparse.Namespace, sizes: list[float], start: float) -> None:
    """The settled memory's growth from the first run to the last, against the bound."""
    first, last = sizes[0], sizes[-1]
    growth = last - first
    print(
        f"growth from run 1 to run {len(sizes)}: {growth:+,.0f} MB "
        f"({growth / max(len(sizes) - 1, 1):+,.1f} MB a run); "
        f"from start: {last - start:+,.0f} MB; peak {max(sizes):,.0f} MB"
    )
    limit = CONV_LIMIT_MB if args.conv else LIMIT_MB
    verdict = "within" if growth < limit else "OVER"
    print(f"{verdict} the {limit} MB bound over {len(sizes)} runs")
    print_late_growth(sizes)


def late_growth(sizes: list[float], first: int = SETTLED_FROM_RUN) -> tuple[float, float] | None:
    """From run `first` (1-based) to the last: the settled memory's growth, and its slope in
    MB a run (a least-squares line through every reading, steadier than two of them); None
    with fewer than three runs there."""
    late = sizes[first - 1 :]
    if len(late) < 3:
        return None
    slope = float(np.polyfit(np.arange(len(late)), late, 1)[0])
    return late[-1] - late[0], slope


def print_late_growth(sizes: list[float]) -> None:
    """What each run leaves once the first runs' own memory has settled (issue 29's goal:
    at most +1 MB a run after run 10)."""
    found = late_growth(sizes)
    if found is None:
        return
    growth, slope = found
    verdict = "within" if slope <= LATE_LIMIT_MB else "OVER"
    print(
        f"from run {SETTLED_FROM_RUN} to run {len(sizes)}: {growth:+,.0f} MB, "
        f"{slope:+,.1f} MB a run (least squares); {verdict} the goal of "
        f"{LATE_LIMIT_MB:+.0f} MB a run"
    )


def main() -> None:
    args = parse_arguments()

    with tempfile.TemporaryDirectory(prefix="memory-bench-") as scratch:
        root = Path(scratch)
        data = data_folder(args, root)
        server = Server(data=data, home=root / "home", log=root / "streamlit.log")
        if args.port:
            server.port = args.port
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            server.start()
            try:
                server.warm_up(browser)
                start = megabytes(server.rss_bytes())
                print_header(args, data, start)
                sizes = run_all(browser, server, args, start)
            finally:
                server.stop()
                browser.close()
    print_growth(args, sizes, start)


def open_conv_page(page, server: Server, path: str, architecture: str, model: str) -> None:
    """Open the Train page at a link that sets up the whole conv spec; wait until it shows it."""
    open_page(page, server, path, "Train")
    expect(page.get_by_text(model)).to_be_visible(timeout=PAGE_SECONDS * 1000)


def settled_rss(server: Server, seconds: float) -> tuple[float, float]:
    """The server's memory as the run ends, and the least of it over the next `seconds`.

    Right after a run the server is still busy for a moment (the job's collection, the Train
    page building the next network ahead, core/training/warm_start.py), and its memory swings by a
    hundred megabytes or more with it; what a run leaves behind is what stays once that
    settles, so the table's figure is the smallest reading over a few seconds."""
    at_end = megabytes(server.rss_bytes())
    readings = [at_end]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        time.sleep(0.25)
        readings.append(megabytes(server.rss_bytes()))
    return at_end, min(readings)


def run_all(browser, server: Server, args, start: float) -> list[float]:
    sizes: list[float] = []
    context = page = None
    for number in range(1, args.runs + 1):
        began = time.perf_counter()
        if page is None or not args.same_session:
            if context is not None:
                context.close()
            context = new_context(browser)
            page = context.new_page()
            if args.link:
                open_conv_page(page, server, *args.link)
            else:
                open_network(page, server, units=args.units, epochs=args.epochs)
        press_train(page)
        text = outcome(page)
        if f"Trained {args.epochs} epoch" not in text:  # "1 epoch", "2 epochs"
            raise SystemExit(f"run {number} did not complete: {text}")
        seconds = time.perf_counter() - began
        at_end, size = settled_rss(server, args.settle)
        sizes.append(size)
        print(
            f"{number:>4} {seconds:>8.1f} {at_end:>8,.0f} {size:>8,.0f} "
            f"{size - sizes[0]:>+9,.0f} {size - start:>+9,.0f}",
            flush=True,
        )
    if context is not None:
        context.close()
    return sizes


if __name__ == "__main__":
    main()
