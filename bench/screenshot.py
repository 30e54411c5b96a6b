"""The README's picture of the app: the Train page a few epochs into a run, as a PNG.

    .venv/bin/python bench/screenshot.py [--epochs 3] [--out docs/screenshot.png]

Starts `streamlit run app.py --server.headless true` on a free port with a temporary run store
and MNIST from $MNIST_DATA or ../shared/data/mnist, opens the Train page in Debian's headless
Chromium (/usr/bin/chromium, driven by the playwright package) at 1440x900, presses Train on
the default preset and waits until the curves show --epochs epochs, then saves the window as
it is. A PNG over --max-kb is reduced to 256 colours, which keeps text and charts sharp. The
server, the browser and the page actions are the browser tests' own
(tests/browser/streamlit_server.py, page_actions.py and train_page.py).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.page_actions import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.streamlit_server import SHARED_MNIST, Server  # noqa: E402
from tests.browser.train_page import (  # noqa: E402
    TRAIN_SECONDS,
    curves_when,
    open_train_page,
    press_train,
)

WINDOW = {"width": 1440, "height": 900}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs on the curves (at least)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--max-kb", type=int, default=300, help="larger PNGs get 256 colours")
    parser.add_argument("--port", type=int, default=0, help="the server's port (0: any free)")
    return parser.parse_args()


def train_page_while_training(browser, server: Server, epochs: int) -> bytes:
    """The Train page's window (PNG bytes) once the running default preset has `epochs`
    epochs on its curves (a training and a validation point each, in both panels)."""
    context = browser.new_context(viewport=WINDOW)
    try:
        page = context.new_page()
        open_train_page(page, server)
        press_train(page)
        counts = curves_when(
            page, lambda counts: counts.get("validation", 0) >= 2 * epochs, TRAIN_SECONDS
        )
        if counts.get("validation", 0) < 2 * epochs:
            raise SystemExit(f"the curves did not reach {epochs} epochs: {counts}")
        return page.screenshot()
    finally:
        context.close()


def modest_png(png: bytes, max_kb: int) -> bytes:
    """`png` as it is, or reduced to 256 colours when it is over `max_kb` kilobytes."""
    if len(png) <= max_kb * 1024:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    smaller = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(smaller, "PNG", optimize=True)
    return smaller.getvalue()


def main() -> None:
    args = parse_arguments()
    data = Path(os.environ.get("MNIST_DATA") or SHARED_MNIST)
    with tempfile.TemporaryDirectory(prefix="screenshot-") as scratch, sync_playwright() as pw:
        root = Path(scratch)
        server = Server(data=data, home=root / "home", log=root / "streamlit.log")
        if args.port:
            server.port = args.port
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server.start()
        try:
            server.warm_up(browser)  # Keras imports while the Home page is read, as a person's
            png = modest_png(train_page_while_training(browser, server, args.epochs), args.max_kb)
        finally:
            server.stop()
            browser.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    print(f"{args.out}: {WINDOW['width']}x{WINDOW['height']}, {len(png) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
