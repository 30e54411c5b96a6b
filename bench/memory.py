"""Does the server's memory stay bounded? Twenty training runs in a row, through the browser.

    python bench/memory.py [--runs 20] [--epochs 2] [--units 32] [--same-session] [--full]

Starts `streamlit run app.py` on a free port with a temporary run store and 2,000 training /
500 test digits (`--full`: the whole MNIST from ../shared/data/mnist), then drives the Train
page in headless Chromium (Debian's /usr/bin/chromium): each run opens a new browser session
(`--same-session`: one session for all), sets one hidden layer, presses Train and waits for
"Trained N epochs". After each run it reads the resident memory (RSS) of the server and every
process it started (psutil) and prints a table; the growth from the first run to the last
(TensorFlow's one-time allocations happen in the first) is the figure to watch. The server,
the browser pages and the waits are the browser tests' own (tests/browser/helpers.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    SHARED_MNIST,
    Server,
    new_context,
    open_train_page,
    outcome,
    press_train,
    set_network,
    write_small_mnist,
)

LIMIT_MB = 200


def megabytes(count: int) -> float:
    return count / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--units", default="32", help="units of the one hidden layer")
    parser.add_argument("--same-session", action="store_true", help="one browser session")
    parser.add_argument("--full", action="store_true", help="the full MNIST, not 2,000 digits")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="memory-bench-") as scratch:
        root = Path(scratch)
        if args.full:
            data = SHARED_MNIST
        else:
            data = root / "mnist"
            write_small_mnist(data)
        server = Server(data=data, home=root / "home", log=root / "streamlit.log")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            server.start()
            try:
                server.warm_up(browser)
                start = megabytes(server.rss_bytes())
                print(f"data: {data}; one hidden layer of {args.units}, {args.epochs} epochs")
                print(f"server after start and the home page: {start:,.0f} MB")
                print(f"{'run':>4} {'seconds':>8} {'RSS MB':>8} {'vs run 1':>9} {'vs start':>9}")
                sizes = run_all(browser, server, args, start)
            finally:
                server.stop()
                browser.close()
    first, last = sizes[0], sizes[-1]
    growth = last - first
    print(
        f"growth from run 1 to run {len(sizes)}: {growth:+,.0f} MB "
        f"({growth / max(len(sizes) - 1, 1):+,.1f} MB a run); "
        f"from start: {last - start:+,.0f} MB; peak {max(sizes):,.0f} MB"
    )
    verdict = "within" if growth < LIMIT_MB else "OVER"
    print(f"{verdict} the {LIMIT_MB} MB bound over {len(sizes)} runs")


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
            open_train_page(page, server)
            set_network(page, units=args.units, epochs=args.epochs)
        press_train(page)
        text = outcome(page)
        if f"Trained {args.epochs} epochs" not in text:
            raise SystemExit(f"run {number} did not complete: {text}")
        size = megabytes(server.rss_bytes())
        sizes.append(size)
        print(
            f"{number:>4} {time.perf_counter() - began:>8.1f} {size:>8,.0f} "
            f"{size - sizes[0]:>+9,.0f} {size - start:>+9,.0f}",
            flush=True,
        )
    if context is not None:
        context.close()
    return sizes


if __name__ == "__main__":
    main()
