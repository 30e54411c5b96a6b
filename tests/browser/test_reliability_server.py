"""What goes wrong around the server, in the browser: each case gives a clear message and
loses nothing saved.

Two sessions train at once on the shared server. Then the shared server is killed mid-training
and started again on its run store, on a copy of its data folder with one file broken, so it
also shows a broken data set (one fault in the browser; the other faults and an npz without the
MNIST arrays are checked on the same pages through AppTest, at the end). The folder is mended
afterwards for the later tests. What a person gives the app that it cannot use is in
test_reliability_input.py.
"""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from core.mnist.data import IDX_NAMES
from tests.browser.page_actions import PAGE_SECONDS, button, error_alert, open_page
from tests.browser.streamlit_server import Server, run_ids, saved_files, store
from tests.browser.train_page import (
    TRAIN_SECONDS,
    curves_when,
    open_network,
    outcome,
    press_stop,
    press_train,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


# ----- broken data -------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">I", 0x0800 + array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def good_idx_files() -> dict[str, bytes]:
    """Four small, valid, uncompressed IDX files (made-up digits: only their form matters)."""
    rng = np.random.default_rng(1)
    arrays = {
        "train_images": rng.integers(0, 256, (300, 28, 28)),
        "train_labels": rng.integers(0, 10, 300),
        "test_images": rng.integers(0, 256, (100, 28, 28)),
        "test_labels": rng.integers(0, 10, 100),
    }
    return {f"{IDX_NAMES[key]}.gz": gzip.compress(idx_bytes(a)) for key, a in arrays.items()}


def truncated_gzip(files: dict[str, bytes]) -> None:
    name = "train-images-idx3-ubyte.gz"
    files[name] = files[name][: len(files[name]) // 2]


def truncated_body(files: dict[str, bytes]) -> None:
    name = "train-images-idx3-ubyte.gz"
    files[name] = gzip.compress(gzip.decompress(files[name])[: -28 * 28 * 10])


def wrong_magic(files: dict[str, bytes]) -> None:
    name = "train-labels-idx1-ubyte.gz"
    files[name] = gzip.compress(b"\x12\x34\x56\x78" + gzip.decompress(files[name])[4:])


BROKEN_DATA = {
    "truncated gzip": (truncated_gzip, re.compile(r"does not decompress.*cut short")),
    "truncated IDX": (truncated_body, re.compile(r"header promises.*Was the download cut short")),
    "wrong magic number": (wrong_magic, re.compile(r"magic number 0x12345678.*not an IDX file")),
}


def fill(folder: Path, files: dict[str, bytes]) -> None:
    for old in folder.iterdir():
        old.unlink()
    for name, content in files.items():
        (folder / name).write_bytes(content)


def check_data_error(server: Server, open_session, pattern: re.Pattern) -> None:
    """The Train page names the data's fault and disables Train; the runs saved before are
    still listed on Runs, and no file of the store changes."""
    before = saved_files(server.home)
    names = [run.name for run in store(server).list_runs()]
    page = open_session()
    open_page(page, server, "/train", "Train")
    text = error_alert(page, "The data could not be loaded.")
    assert pattern.search(" ".join(text.split())), text
    # The page draws its error before its buttons: give a busy machine time to draw them.
    expect(button(page, "Train")).to_be_disabled(timeout=PAGE_SECONDS * 1000)
    # Nothing saved is lost: the run made before is listed and its files are untouched.
    open_page(page, server, "/runs", "Runs")
    for name in names:
        expect(
            page.get_by_role("gridcell", name=name, exact=True, include_hidden=True)
        ).to_be_attached()
    expect(page.get_by_role("combobox", name="Run", exact=True)).to_be_visible()
    assert [run.name for run in store(server).list_runs()] == names
    assert saved_files(server.home) == before


# ----- two sessions at once ----------------------------------------------------------------

# The loss panel's per-epoch training curve, as the page draws it.
TRAIN_LOSSES = """() => Array.from(document.querySelector('.st-key-train_curves .js-plotly-plot')
    .data.find(trace => trace.name === 'train').y || [])"""


def test_two_sessions_train_at_once_and_each_sees_its_own_run(app_server, open_session):
    # The first run is long (fifty epochs in batches of 16) and is stopped once the second has
    # ended: however fast the machine or late the second's start, the two overlap.
    first, second = open_session(), open_session()
    open_network(first, app_server, units="32", batch="16", epochs=50)
    open_network(second, app_server, units="32", batch="128", epochs=1)
    earlier = set(run_ids(app_server))
    for page in (first, second):  # one right after the other, neither waiting for its start
        button(page, "Train").click()
    text = outcome(second)
    assert "Trained 1 epoch" in text, text
    stop = button(first, "Stop")
    expect(stop).to_be_enabled(timeout=PAGE_SECONDS * 1000)  # the first still trains

    def both_under_way():
        runs = [r for r in store(app_server).list_runs() if r.id not in earlier]
        long_one = next((r for r in runs if r.epochs_planned == 50), None)
        return runs if len(runs) == 2 and long_one and long_one.epochs_done >= 1 else None

    new = eventually(
        both_under_way, TRAIN_SECONDS, interval=0.2, message="the first run finished no epoch"
    )
    press_stop(first)
    text = outcome(first)
    match = re.search(r"Stopped by you after (\d+) complete epochs?\b", text)
    assert match, text
    stopped = int(match.group(1))
    runs = {run.epochs_planned: store(app_server).get(run.id) for run in new}
    assert runs[50].id != runs[1].id
    assert (runs[50].status, runs[50].epochs_done) == ("stopped", stopped)
    assert (runs[1].status, runs[1].epochs_done) == ("completed", 1)
    # Each page draws its own run's curve: its epochs, with its own losses.
    for page, run in ((first, runs[50]), (second, runs[1])):
        counts = curves_when(page, lambda c, n=run.epochs_done: c.get("train") == 2 * n)
        assert counts.get("train") == 2 * run.epochs_done, (run.epochs_planned, counts)
        assert page.evaluate(TRAIN_LOSSES) == pytest.approx(run.history["loss"])
    # They overlapped: the second started before the first had finished.
    assert runs[1].created < runs[50].updated


# ----- the server killed mid-training, restarted on broken data ---------------------------


@pytest.fixture(scope="module")
def killed_and_restarted(app_server, shared_context, small_mnist, tmp_path_factory):
    """The shared server killed mid-training, then started again on its run store and on a
    data folder of its own (a copy of its data) with the training images cut short (truncated
    gzip): (the server, the run as the kill left it). The restarted server's first session is
    the tests'. Afterwards the folder's files are made whole again: the app loads data afresh
    while its load fails, so the later tests' sessions train on the same 2,000 digits."""
    root = tmp_path_factory.mktemp("killed")
    data = root / "data"
    data.mkdir()
    good = {path.name: path.read_bytes() for path in small_mnist.iterdir()}
    fill(data, good)
    server = app_server
    try:
        page = shared_context.new_page()
        try:
            open_network(page, server, units="32", batch="16", epochs=50)
            earlier = set(run_ids(server))
            press_train(page)
            run = eventually(
                # The store writes an epoch's history, then its model file: wait for both, so
                # the kill cannot land between the two (that run would rightly have no model).
                lambda: next(
                    (
                        r
                        for r in store(server).list_runs()
                        if r.id not in earlier and r.epochs_done >= 1 and r.has_model
                    ),
                    None,
                ),
                TRAIN_SECONDS,
                interval=0.2,
                message="a first complete epoch and its model in the store did not happen",
            )
            server.kill()  # SIGKILL to the whole process group, mid-training
        finally:
            page.close()
        killed = store(server).get(run.id)
        files = dict(good)
        BROKEN_DATA["truncated gzip"][0](files)
        fill(data, files)
        yield server.restart(data), killed
    finally:
        fill(data, good)
        if server.process.poll() is not None:  # a failure above left it dead: start it again
            server.start()


def test_a_run_outlives_its_killed_server_marked_interrupted(killed_and_restarted, open_session):
    again, killed = killed_and_restarted
    assert killed.status == "running" and killed.epochs_done >= 1
    assert killed.epochs_done < 50
    page = open_session()
    open_page(page, again, "/runs", "Runs")  # the server's first session: nothing trains
    done = killed.epochs_done
    expect(page.get_by_text("Interrupted.")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(page.get_by_text(f"after {done} of 50 epochs")).to_be_visible()
    after = store(again).get(killed.id)
    assert (after.status, after.epochs_done) == ("interrupted", done)
    assert len(after.history["loss"]) == done
    assert store(again).model_path(killed.id) is not None  # the model of its last epoch is kept


def test_a_broken_idx_file_is_named_with_its_fault(killed_and_restarted, open_session):
    """A truncated gzip in the data folder the killed server trained on: the interrupted run
    is still listed, and its files stay as they were."""
    again, _ = killed_and_restarted
    check_data_error(again, open_session, BROKEN_DATA["truncated gzip"][1])


# ----- broken data, without a browser ------------------------------------------------------
# The browser checks one broken file above (the message on the page, Train disabled, the
# saved run still listed); the other faults take the same path through the pages, so AppTest
# checks what they say, on the same pages, in a fraction of the time (no server of their own).


def check_data_error_in_app(folder: Path, home: Path, monkeypatch, pattern) -> None:
    from tests.support.pages import open_page as open_app_page

    monkeypatch.setenv("MNIST_DATA", str(folder))
    before = saved_files(home)
    at = open_app_page("app_pages/train.py")
    # as the page shows them: the markdown's backslash escapes (\_ \[) read as their character
    errors = [re.sub(r"\\(.)", r"\1", " ".join(e.value.split())) for e in at.error]
    assert any("The data could not be loaded." in e and pattern.search(e) for e in errors), errors
    assert at.button(key="train_start_button").disabled
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception, at.exception
    assert "Saved before" in at.selectbox(key="runs_run").options
    assert any(
        "Imported." in text
        for text in [c.value for c in at.caption] + [m.value for m in at.markdown]
    ), "the imported run's origin is not shown"
    from core.runs.store import RunStore

    assert [run.name for run in RunStore(home).list_runs()] == ["Saved before"]
    assert saved_files(home) == before


@pytest.mark.parametrize("case", [case for case in BROKEN_DATA if case != "truncated gzip"])
def test_a_broken_idx_file_is_named_with_its_fault_in_the_app(
    saved_before, tmp_path, monkeypatch, case
):
    files = good_idx_files()
    breaks, pattern = BROKEN_DATA[case]
    breaks(files)
    fill(tmp_path, files)
    check_data_error_in_app(tmp_path, saved_before, monkeypatch, pattern)


def test_an_npz_without_the_mnist_arrays_is_refused(saved_before, tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    np.savez(
        tmp_path / "mnist.npz",
        images=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        labels=rng.integers(0, 10, 10, dtype=np.uint8),
    )
    pattern = re.compile(r"has arrays \['images', 'labels'\] but not \['x_train'.*x_test, y_test")
    check_data_error_in_app(tmp_path, saved_before, monkeypatch, pattern)
