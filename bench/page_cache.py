"""What one page load costs the browser tests' Chromium and app server, by kind of context.

    python bench/page_cache.py [--path /train] [--heading Train] [--loads 4] [--port 0]

Starts `streamlit run app.py` on the browser tests' small data set
(tests/browser/streamlit_server.py) and loads `--path` in headless Chromium `--loads` times in
each of three ways: each load in a new incognito context (what the browser tests did before),
every load in one incognito context, and every load in one context on a profile of its own
(Playwright's persistent context, what the browser tests do now). Each kind first loads the
page once, uncounted (its cache filled). A load counts from `goto` until the page's heading
shows, its script has ended and 1.5 s more have passed (Plotly draws after the script's end).
It prints, per kind, the median CPU seconds of Chromium (every process) and of the server per
load, and their ratio to the first kind's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.page_actions import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    profile_context,
    wait_idle,
)
from tests.browser.streamlit_server import Server, free_port, write_small_mnist  # noqa: E402


def cpu_seconds(word: str) -> float:
    """User and system CPU seconds of this process's descendants whose command has `word`."""
    total = 0.0
    for process in psutil.Process().children(recursive=True):
        try:
            if word in " ".join(process.cmdline()):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def load(context, server: Server, path: str, heading: str) -> tuple[float, float]:
    """Chromium's and the server's CPU seconds for one load of `path` in a new page."""
    page = context.new_page()
    chromium, streamlit = cpu_seconds("chrom"), cpu_seconds("streamlit")
    page.goto(server.url + path)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=90_000)
    wait_idle(page)
    page.wait_for_timeout(1500)
    spent = cpu_seconds("chrom") - chromium, cpu_seconds("streamlit") - streamlit
    page.close()  # its renderer's CPU is read before it ends
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/train")
    parser.add_argument("--heading", default="Train")
    parser.add_argument("--loads", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="page-cache-"))
    write_small_mnist(root / "data")
    server = Server(root / "data", root / "home", root / "streamlit.log", args.port or free_port())
    server.start()
    rows = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            one = browser.new_context(viewport=VIEWPORT)
            profile = profile_context(playwright, root / "profile")
            kinds = {
                "incognito context per load": None,
                "one incognito context": one,
                "one profile context": profile,
            }
            for kind, shared in kinds.items():
                spent = []
                for number in range(args.loads + 1):
                    context = shared or browser.new_context(viewport=VIEWPORT)
                    cost = load(context, server, args.path, args.heading)
                    if shared is None:
                        context.close()
                    if number:  # the first fills the cache
                        spent.append(cost)
                rows[kind] = [statistics.median(cost[i] for cost in spent) for i in (0, 1)]
            profile.close()
            browser.close()
    finally:
        server.stop()
    first = rows["incognito context per load"]
    print(f"{args.path}: median CPU-s per load over {args.loads} loads")
    print(f"{'context':28} {'Chromium':>9} {'ratio':>6} {'server':>7} {'ratio':>6}")
    for kind, (chromium, streamlit) in rows.items():
        print(
            f"{kind:28} {chromium:9.2f} {chromium / first[0]:6.2f} "
            f"{streamlit:7.2f} {streamlit / first[1]:6.2f}"
        )


if __name__ == "__main__":
    main()
