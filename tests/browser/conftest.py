"""Browser test set-up: headless Debian Chromium, Streamlit servers, screenshots of failures,
and the model files and saved run both test_reliability modules use.

The `app_server` is shared by the whole session (one TensorFlow import, one warm-up); each
page a test opens is a Streamlit session of its own (its own WebSocket). The pages share one
browser context, a profile on disk whose cache keeps the app's scripts and styles and V8's
code for them: each server sends them once, not once per test, and Chromium takes their
compiled code from its cache. What else the context keeps between tests, no test's claim
depends on: Streamlit's XSRF cookie, and UI preferences in local storage (the sidebar's width,
the theme), which no test changes. test_reliability_server kills the shared server mid-training
and starts it again (`Server.restart`) on the same run store and port. Tests that need a server of
their own (a fresh one, another data set) start one with `start_server`, or share a module's
fixture. A failing test leaves a full-page PNG of each of its pages in test-artifacts/.

Every test here is marked `browser`. When pytest-xdist runs the suite on several workers, one
worker runs all of them, in file order, on one shared server and one Chromium
(`pytest_xdist_make_scheduler` in tests/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.browser.page_actions import CHROMIUM, profile_context
from tests.browser.streamlit_server import REPO, Server, write_small_mnist

ARTIFACTS = REPO / "test-artifacts"
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Mark every test of this folder `browser`, whether or not its file says so."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def small_mnist_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "small-mnist"


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory) -> Path:
    """2,000 training and 500 test digits as gzip IDX files (real MNIST where present)."""
    folder = small_mnist_folder(tmp_path_factory)
    write_small_mnist(folder)
    return folder


@pytest.fixture(scope="session")
def shared_context(tmp_path_factory):
    """Chromium with a profile of the session's own, as the one browser context every test's
    pages are opened in (see the module's docstring)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), "
            "as .ci/run does, to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = profile_context(playwright, tmp_path_factory.mktemp("chromium-profile"))
        yield context
        context.close()


@pytest.fixture(scope="session")
def app_server(request, tmp_path_factory):
    """One server for most tests, on the small data set, with its own run store.

    Its process starts first and boots while the data set is written and Chromium starts
    (no page asks it for data before the warm-up)."""
    root = tmp_path_factory.mktemp("app-server")
    data = small_mnist_folder(tmp_path_factory)
    server = Server(data=data, home=root / "home", log=root / "streamlit.log")
    server.launch()
    try:
        assert request.getfixturevalue("small_mnist") == data
        context = request.getfixturevalue("shared_context")
        server.wait_healthy()
        server.warm_up(context)
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_server(tmp_path):
    """Start servers of the test's own: `start_server(data, home, browser=None)`; given a browser
    or a context, the server is warmed up (`Server.warm_up`).

    Every server it started is stopped (its whole process group) when the test ends.
    """
    servers: list[Server] = []

    def start(data: Path, home: Path, browser=None) -> Server:
        log = tmp_path / f"streamlit-{len(servers)}.log"
        server = Server(data=data, home=home, log=log)
        servers.append(server)
        server.start()
        if browser is not None:
            server.warm_up(browser)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def open_session(request, shared_context):
    """`open_session()` -> a new page (in the shared context): a Streamlit session of its own.
    The test's pages are closed when it ends."""
    pages = request.node.stash.setdefault(PAGES, [])

    def open_one():
        page = shared_context.new_page()
        pages.append(page)
        return page

    yield open_one
    for page in pages:
        page.close()


PAGES = pytest.StashKey[list]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Save a screenshot of every page a failing browser test had open."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    pages = item.stash.get(PAGES, [])
    if not pages:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])[:120]
    saved = []
    for number, page in enumerate(pages, start=1):
        path = ARTIFACTS / f"{stem}-{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=30_000)
        except Exception as error:  # a closed or crashed page: say so, keep the report
            saved.append(f"(page {number}: no screenshot: {error})")
        else:
            saved.append(str(path.relative_to(REPO)))
    report.sections.append(("screenshots", "\n".join(saved)))


# ----- model files and a saved run for test_reliability_input and _server ------------------


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """Small .keras files built here: a good one, one with a Lambda layer, one of the wrong
    shape, and random bytes named like a model."""
    import keras

    folder = tmp_path_factory.mktemp("models")

    def save(name: str, inputs, outputs) -> None:
        keras.Model(inputs, outputs).save(folder / name)

    pixels = keras.Input(shape=(784,))
    save("good.keras", pixels, keras.layers.Dense(10, activation="softmax")(pixels))
    doubled = keras.layers.Lambda(lambda x: x * 2.0, name="doubling")(pixels)
    save("lambda.keras", pixels, keras.layers.Dense(10, activation="softmax")(doubled))
    small = keras.Input(shape=(100,))
    save("shape.keras", small, keras.layers.Dense(3, activation="softmax")(small))
    (folder / "x.keras").write_bytes(np.random.default_rng(0).bytes(4096))
    return {path.name: path for path in folder.iterdir()}


@pytest.fixture
def saved_before(model_files, _playground_home) -> Path:
    from core.runs.store import RunStore

    RunStore(_playground_home).import_model(
        model_files["good.keras"].read_bytes(), "good.keras", name="Saved before"
    )
    return _playground_home
