"""How soon the Learn page shows, against the bare Streamlit page beside it (bench/latency.py's
floor).

    MNIST_DATA=../shared/data/mnist python bench/learn.py [--repeats 5]

Each repeat starts a fresh `streamlit run app.py` (a temporary run store) and opens /learn in a
browser that has never seen the app, timing in the page itself (a MutationObserver, as
bench/latency.py does) from the navigation's start until the first lesson's "What to watch."
shows (its words; the pills, progress and buttons follow once the run store is read). The same
repeat times the app's Home page ("Where to start") and bench/bare_app.py's page the same way,
each on a fresh server, the order alternating. Prints the medians and each page's median difference from the
bare page, pair by pair (the goal for Learn: within 0.2 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.latency import BARE_APP, CHROMIUM_ARGS, free_port, start_server  # noqa: E402

# When `text` first shows, in the page's own time (milliseconds since the navigation began).
SHOWN = """text => new MutationObserver((_, observer) => {
    if (document.body && document.body.textContent.includes(text)) {
        window.shownAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {subtree: true, childList: true, characterData: true})"""
# name -> (the app, its path, the text that shows it is there)
PAGES = {
    "Learn (/learn)": ("app.py", "learn", "What to watch."),
    "Home (/), the app's first page": ("app.py", "", "Where to start"),
    "bare Streamlit page": (BARE_APP, "", "Where to start"),
}


def first_show(browser, name: str, home: str, data: str) -> float:
    """Seconds until the page `name` shows, on a fresh server."""
    app, path, text = PAGES[name]
    port = free_port()
    server = start_server(port, home, data, app)
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.add_init_script(f"({SHOWN})({text!r})")
        page.goto(f"http://127.0.0.1:{port}/{path}")
        page.wait_for_function("window.shownAt !== undefined", timeout=60_000)
        shown = page.evaluate("window.shownAt") / 1000
        page.close()
        return shown
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not ended 30 s later (TensorFlow's import, begun as the
    page showed, can hold a fresh server's shutdown up)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = os.environ.get("MNIST_DATA") or str(REPO.parent / "shared" / "data" / "mnist")
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in PAGES}
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for repeat in range(args.repeats):
            names = list(times) if repeat % 2 == 0 else list(times)[::-1]
            for name in names:
                times[name].append(first_show(browser, name, home, data))
        browser.close()
    print("| page (fresh server each time) | median s | beyond bare, median of pairs | runs |")
    print("|---|---:|---:|---|")
    bare = times["bare Streamlit page"]
    for name, values in times.items():
        beyond = statistics.median(a - b for a, b in zip(values, bare, strict=True))
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {statistics.median(values):.2f} | {beyond:+.2f} | {runs} |")


if __name__ == "__main__":
    main()
