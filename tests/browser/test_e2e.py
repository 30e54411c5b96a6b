"""End to end in headless Chromium: every page as a person uses it, on one shared server.

The tests run in file order and build on each other's runs where that saves training time:
the Train tests store a completed run and a stopped one, which Evaluate, Draw and Runs then
look at. Run alone, a test that needs a model trains a small one first (`ensure_model`).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.draw_canvas import SEVEN, draw_on_canvas, line
from tests.browser.page_actions import (
    PAGE_SECONDS,
    button,
    choose_matching,
    open_page,
    plot_points,
    runs_so_far,
    slider_text,
    wait_idle,
    wait_rerun,
)
from tests.browser.streamlit_server import TEST_DIGITS, Server, small_data_is_mnist, store
from tests.browser.train_page import (
    TRAIN_SECONDS,
    curves_when,
    ensure_model,
    open_network,
    outcome,
    press_stop,
    press_train,
    train_small_model,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

NAVIGATION = ["Home", "Learn", "Train", "Evaluate", "Draw", "Runs", "XOR"]
TOTAL_POINTS = """key => {
    const plot = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    return plot && plot.data ? plot.data.reduce((n, t) => n + ((t.x || []).length), 0) : 0;
}"""


def no_exception(page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_home_page_loads_with_no_error(app_server, open_session):
    page = open_session()
    open_page(page, app_server, "/", "Keras Playground")
    expect(page.get_by_text("Where to start")).to_be_visible()
    expect(page.get_by_text("MNIST, 2,000 training and 500 test images")).to_be_visible()
    navigation = page.get_by_test_id("stSidebarNav")
    for title in NAVIGATION:
        expect(navigation.get_by_role("link", name=title, exact=True)).to_be_visible()
    no_exception(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


# The titles of the replay panel's three views as shown: the diagram's (a plotly figure), the
# confusion matrix's (HTML), and the templates' (bold, over their image) once that image has
# loaded (as bench/replay.py times them).
TITLES = """() => {
    const titles = [...document.querySelectorAll('.gtitle, .replay-title')].map(t => t.textContent);
    for (const box of document.querySelectorAll('[class*="_replay_templates"]')) {
        const title = box.querySelector('strong'), image = box.querySelector('img');
        if (title && image && image.complete && image.naturalWidth > 0) {
            titles.push(title.textContent);
        }
    }
    return titles;
}"""


def titles_say(page, words: str) -> None:
    # Checked every 100 ms: Playwright's default checks at every animation frame, which keeps
    # the page drawing frames (Chromium's CPU) for the whole wait. The states waited for here
    # and below last once reached.
    page.wait_for_function(
        f"() => ({TITLES})().filter(t => t.includes({words!r})).length >= 3",
        timeout=PAGE_SECONDS * 1000,
        polling=100,
    )


def test_train_page_trains_a_small_model_and_replays_it(app_server, open_session):
    page = open_session()
    # Opened on a share link with the network: the sliders themselves are moved and read in
    # test_share_links and test_cnn.
    open_network(page, app_server, units="32", batch="128", epochs=2)
    press_train(page)
    expect(page.locator(".st-key-train_curves .js-plotly-plot").first).to_be_visible(
        timeout=TRAIN_SECONDS * 1000
    )
    text = outcome(page)
    assert "Trained 2 epochs" in text, text
    no_exception(page)

    run = store(app_server).list_runs()[0]
    assert (run.status, run.epochs_done, run.architecture) == ("completed", 2, "784-32-10")
    # Both panels (loss and accuracy) show one marker per epoch, for training and validation.
    counts = curves_when(page, lambda counts: counts.get("train") == 2 * 2)
    assert counts["train"] == 2 * 2 and counts["validation"] == 2 * 2, counts
    shown = page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
    expect(shown).to_contain_text(f"{run.test_accuracy:.2%}")

    # The replay slider under the curves scrubs the run from its last epoch to its start.
    epoch = page.get_by_role("group", name="Epoch", exact=True)
    expect(epoch).to_be_visible(timeout=PAGE_SECONDS * 1000)
    titles_say(page, "at epoch 2")
    assert slider_text(page, "Epoch") == "2"
    epoch.get_by_role("slider").focus()
    page.keyboard.press("Home")
    titles_say(page, "at the start")
    assert slider_text(page, "Epoch") == "start"
    page.keyboard.press("ArrowRight")
    titles_say(page, "at epoch 1")
    shown = page.evaluate(TITLES)
    assert any(t.startswith("The first layer's units at epoch 1") for t in shown), shown
    no_exception(page)


# The curves' labels (plotly annotations), read in the page.
LABELS = """() => {
    const plot = document.querySelector('.st-key-train_curves .js-plotly-plot');
    return ((plot && plot.layout && plot.layout.annotations) || []).map(a => a.text);
}"""


def test_curves_gain_points_while_training_a_new_rate_is_marked_and_stop_stops_it(
    app_server, open_session
):
    """The curves gain points while a run trains; a new learning rate asked for mid-run is
    taken at the next batch and marked on the curves (steering); Stop stops the run. One run
    for the three, long enough to stop."""
    page = open_session()
    open_network(page, app_server, units="32", batch="16", epochs=50)  # long enough to stop
    press_train(page)

    seen = [0]
    for _ in range(3):  # three redraws, each with more points than the one before
        page.wait_for_function(
            f"last => ({TOTAL_POINTS})('train_curves') > last",
            arg=seen[-1],
            timeout=TRAIN_SECONDS * 1000,
            polling=100,
        )
        seen.append(plot_points(page, "train_curves"))
    stop = button(page, "Stop")
    expect(stop).to_be_enabled()  # the points came while it trained

    rate = page.locator("[class*='st-key-train_steer_lr_'] input")
    rate.fill("0.0005")
    rate.press("Enter")
    expect(page.get_by_text("learning rate 0.0005 asked for")).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    page.wait_for_function(
        f"() => ({LABELS})().includes('lr 0.0005')", timeout=PAGE_SECONDS * 1000, polling=50
    )
    press_stop(page)

    text = outcome(page)
    match = re.search(r"Stopped by you after (\d+) complete epochs?\b", text)
    assert match, text
    epochs = int(match.group(1))
    assert epochs < 50
    expect(button(page, "Train")).to_be_enabled(timeout=PAGE_SECONDS * 1000)
    expect(stop).to_have_count(0)  # Stop is offered beside a run's progress, and only then
    assert plot_points(page, "train_curves") >= seen[-1]
    run = store(app_server).list_runs()[0]
    assert (run.status, run.epochs_done, run.epochs_planned) == ("stopped", epochs, 50)


def test_evaluate_page_shows_the_confusion_matrix_of_the_run(app_server, open_session):
    page = open_session()
    run = next(
        (r for r in store(app_server).list_runs() if r.status == "completed" and r.has_model),
        None,
    ) or ensure_model(app_server, page)
    open_page(page, app_server, "/evaluate", "Evaluate")
    choose_matching(page, "Run", re.compile(rf"^#{run.number} "))
    matrix = page.locator(".st-key-evaluate_matrix .js-plotly-plot").first
    expect(matrix).to_be_visible(timeout=PAGE_SECONDS * 1000)
    wait_idle(page)
    no_exception(page)

    shown = matrix.evaluate(
        "plot => plot._fullData.find(t => t.type === 'heatmap').z.map(row => Array.from(row))"
    )
    counts = [[int(value) for value in row] for row in shown]
    assert len(counts) == 10 and all(len(row) == 10 for row in counts)
    assert sum(map(sum, counts)) == TEST_DIGITS
    # The training job counted its own predictions; the page predicted again with the saved
    # model: the two matrices agree cell by cell.
    assert counts == store(app_server).get(run.id).confusion
    right = sum(counts[digit][digit] for digit in range(10))
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Test accuracy")).to_contain_text(f"{right / TEST_DIGITS:.2%}")
    expect(metrics.filter(has_text=f"Wrong, of {TEST_DIGITS:,}")).to_contain_text(
        f"{TEST_DIGITS - right:,}"
    )
    assert f"{right / TEST_DIGITS:.2%}" == f"{run.test_accuracy:.2%}"


SALIENCY = ".st-key-draw_saliency .js-plotly-plot"
FIRST_GRID = "[class*='st-key-draw_inside_grid_'] .js-plotly-plot"
PLOT_DATA = "plot => JSON.stringify(plot.data.map(trace => trace.z ?? trace.source ?? trace.y))"


def test_draw_page_reads_a_drawn_digit_shows_inside_and_clearing_removes_it(
    app_server, open_session
):
    """A drawn 7 is read as 7; its saliency and activations appear and follow the drawing; Reset
    clears it."""
    page = open_session()
    ensure_model(app_server, page)
    open_page(page, app_server, "/draw", "Draw")
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=PAGE_SECONDS * 1000)
    wait_idle(page)
    prediction = page.get_by_test_id("stMetric").filter(has_text="Prediction")
    expect(prediction).to_have_count(0)
    expect(page.get_by_text("Inside the network")).to_have_count(0)  # nothing drawn yet

    # A plain 7 in one stroke. Even the weakest network these tests train (784-32-10, two
    # epochs on 2,000 MNIST digits) reads it as 7 with a wide margin over its next guess.
    draw_on_canvas(page, SEVEN)
    expect(prediction).to_be_visible(timeout=PAGE_SECONDS * 1000)
    digit = prediction.get_by_test_id("stMetricValue").inner_text().strip()
    assert digit == "7" if small_data_is_mnist() else digit in list("0123456789"), digit
    # The probabilities chart is drawn from the same answer: its tallest bar is that digit.
    bars = page.locator(".st-key-draw_probabilities .js-plotly-plot").first.evaluate(
        """plot => { const bar = plot._fullData.find(t => t.type === 'bar');
                     return {x: Array.from(bar.x), y: Array.from(bar.y)}; }"""
    )
    tallest = bars["x"][max(range(len(bars["y"])), key=bars["y"].__getitem__)]
    assert str(tallest).strip() == digit, bars
    no_exception(page)

    # Inside the network: the drawing's saliency and the first layer's activations.
    expect(page.get_by_text("Inside the network")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(page.get_by_text("Why 7 and not")).to_be_visible()
    saliency, grid = page.locator(SALIENCY).first, page.locator(FIRST_GRID).first
    # Plotly draws the charts in the browser after the script has ended: on a busy machine
    # that took over Playwright's default 5 s.
    expect(saliency).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(grid).to_be_visible(timeout=PAGE_SECONDS * 1000)
    first_saliency, first_grid = saliency.evaluate(PLOT_DATA), grid.evaluate(PLOT_DATA)
    # A second stroke (a bar across the middle) changes the image the network gets, so its
    # attributions and its first layer's activations must change with it.
    draw_on_canvas(page, line((110, 140), (210, 140)))
    saliency, grid = page.locator(SALIENCY).first, page.locator(FIRST_GRID).first
    expect(saliency).to_be_visible(timeout=PAGE_SECONDS * 1000)
    assert saliency.evaluate(PLOT_DATA) != first_saliency
    assert grid.evaluate(PLOT_DATA) != first_grid
    no_exception(page)

    before = runs_so_far(page)
    page.get_by_role("button", name="Reset canvas & history").click()
    wait_rerun(page, before)
    expect(prediction).to_have_count(0)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()


def test_runs_page_lists_the_runs_and_compares_two(app_server, open_session):
    page = open_session()
    while len(store(app_server).list_runs()) < 2:  # the Train tests above store two
        train_small_model(page, app_server)
    runs = store(app_server).list_runs()
    open_page(page, app_server, "/runs", "Runs")
    no_exception(page)
    # The Runs page names runs by their names (unique here), as its table does.
    page.get_by_role("combobox", name="Run", exact=True).click()
    for run in runs:
        expect(page.get_by_role("option", name=run.name, exact=True)).to_have_count(1)
    page.keyboard.press("Escape")

    compare = page.get_by_role("combobox", name="Runs to compare", exact=True)
    for run in runs[:2]:
        # The box sits at the bottom edge of the 1000-pixel window; a click there (after
        # Playwright's own minimal scroll) mostly left its list closed. Centred, it opens.
        compare.evaluate("box => box.scrollIntoView({block: 'center'})")
        compare.click()
        before = runs_so_far(page)
        page.get_by_role("option", name=run.name, exact=True).click()
        wait_rerun(page, before)
        page.keyboard.press("Escape")
    overlay = page.locator(".st-key-runs_overlay .js-plotly-plot").first
    expect(overlay).to_be_visible(timeout=PAGE_SECONDS * 1000)
    names = overlay.evaluate("plot => plot.data.map(t => t.name)")
    assert sorted(names) == sorted(run.name for run in runs[:2]), names
    expect(page.get_by_text("Settings (shaded rows differ)")).to_be_visible()
    for run in runs[:2]:
        expect(
            page.locator(f".st-key-runs_confusion_{run.id} .js-plotly-plot").first
        ).to_be_visible(timeout=PAGE_SECONDS * 1000)
    no_exception(page)


@pytest.fixture(scope="module")
def fresh_server(small_mnist, tmp_path_factory):
    """A server of these two tests' own, with an empty run store and "/" never loaded: first
    the deep-link test opens it, then the quick-model test (one server start for both)."""
    root = tmp_path_factory.mktemp("fresh-server")
    server = Server(data=small_mnist, home=root / "home", log=root / "streamlit.log")
    server.start()  # no warm-up: "/" never loaded
    try:
        yield server
    finally:
        server.stop()


def test_a_fresh_servers_first_session_on_a_deep_link_gets_the_app_navigation(
    fresh_server, open_session
):
    # A folder named pages/ used to make this open in Streamlit's v1 folder-of-pages mode,
    # bypassing app.py; the pages now live in app_pages/.
    server = fresh_server  # its first session: the tests before this one use app_server
    page = open_session()
    open_page(page, server, "/train", "Train")
    navigation = page.get_by_test_id("stSidebarNav")
    for title in NAVIGATION:
        expect(navigation.get_by_role("link", name=title, exact=True)).to_be_visible(timeout=10_000)


def test_draw_pages_quick_model_then_the_page_stops_polling(fresh_server, open_session):
    """With no model, Draw trains a quick one and follows it every second; once the model is
    there the page must stop rerunning (it went on re-listing runs and re-predicting)."""
    server = fresh_server  # an empty run store: the deep-link test before trains nothing
    assert store(server).list_runs() == []
    page = open_session()
    open_page(page, server, "/draw", "Draw")
    page.get_by_test_id("stMain").get_by_role(
        "button", name=re.compile("^Train a quick model")
    ).click()
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=TRAIN_SECONDS * 1000)
    wait_idle(page)
    before = runs_so_far(page)
    page.wait_for_timeout(2500)  # two and a half of the old one-second polls
    assert runs_so_far(page) == before, "the Draw page still reruns with nothing to wait for"
    no_exception(page)
