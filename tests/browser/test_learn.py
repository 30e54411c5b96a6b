"""The Learn page in headless Chromium, as a learner uses it: lessons 1 and 2 set up, trained,
checked and their answers revealed, then the progress seen again after a server restart.

Lesson 2 asks for 90 % on the test set, which a network without a hidden layer reaches on the
full MNIST, not on the browser tests' 2,000 digits; so this test uses the full MNIST where it
is on the machine (never downloaded) and is skipped elsewhere.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.page_actions import PAGE_SECONDS, button, open_page, runs_so_far, wait_rerun
from tests.browser.streamlit_server import SHARED_MNIST
from tests.browser.train_page import TRAIN_SECONDS, outcome, press_train

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def go_to(page, title: str, heading: str) -> None:
    """Open a page from the sidebar: the same session (a new address would start a new one)."""
    before = runs_so_far(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(
        timeout=PAGE_SECONDS * 1000
    )
    wait_rerun(page, before)


def press(page, name: str) -> None:
    before = runs_so_far(page)
    button(page, name).click()
    wait_rerun(page, before)


def choose_lesson(page, number: int) -> None:
    """Click the lesson's button, unless it is the one shown (a click on it does nothing)."""
    pill = page.locator(".st-key-learn_lesson").get_by_role("radio").nth(number - 1)
    if pill.get_attribute("aria-checked") != "true":
        before = runs_so_far(page)
        pill.click()
        wait_rerun(page, before)
    expect(page.get_by_role("heading", name=f"{number}. ")).to_be_visible()


def check_and_reveal(page, passed: str, answer: str) -> None:
    press(page, "Check my runs")
    expect(page.get_by_test_id("stAlert").filter(has_text=passed)).to_be_visible()
    page.get_by_text("Show the answer", exact=True).click()
    expect(page.get_by_text(answer)).to_be_visible()


def lesson_1(page) -> None:
    """Set up the XOR page, train the 2-2-1 network there, come back and check it."""
    press(page, "Set it up")
    expect(page.get_by_text("Set up on the XOR page.")).to_be_visible()
    page.get_by_role("link", name="Open the XOR page").click()
    expect(page.get_by_role("heading", name="XOR").first).to_be_visible(timeout=PAGE_SECONDS * 1000)
    train = button(page, "Train")
    expect(train).to_be_enabled(timeout=TRAIN_SECONDS * 1000)
    units = page.get_by_test_id("stSidebar").get_by_label("Layer 1 units")
    expect(units).to_have_value("2")
    train.click()
    epochs = page.get_by_test_id("stMetric").filter(has_text="Epochs trained")
    expect(epochs.get_by_test_id("stMetricValue")).to_have_text("500", timeout=TRAIN_SECONDS * 1000)
    expect(train).to_be_enabled(timeout=PAGE_SECONDS * 1000)
    go_to(page, "Learn", "Learn")
    check_and_reveal(page, "accuracy on its training points of 100.0%", "diagonally opposite")


def lesson_2(page) -> None:
    """Set up the Train page (no hidden layer), train there, come back and check the run."""
    choose_lesson(page, 2)
    press(page, "Set it up")
    page.get_by_role("link", name="Open the Train page").click()
    expect(page.get_by_text("Model: 784-10,")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    press_train(page)
    assert "Trained 5 epochs" in outcome(page)
    go_to(page, "Learn", "Learn")
    choose_lesson(page, 2)
    check_and_reveal(page, "at least 90.0% as this lesson asks", "10 × (784 + 1) = 7,850")


def test_lessons_1_and_2_end_to_end_and_progress_survives_a_restart(
    start_server, open_session, tmp_path
):
    if not (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"lesson 2's 90 % needs the full MNIST in {SHARED_MNIST}")
    home = tmp_path / "home"
    server = start_server(SHARED_MNIST, home)  # no warm-up: Learn is its first page
    page = open_session()
    open_page(page, server, "/learn", "Learn")
    expect(page.get_by_text("0 of 8")).to_be_visible()
    lesson_1(page)
    lesson_2(page)
    expect(page.get_by_text("2 of 8")).to_be_visible()

    server.stop()
    again = start_server(SHARED_MNIST, home)
    page = open_session()
    open_page(page, again, "/learn", "Learn")
    expect(page.get_by_text("2 of 8")).to_be_visible()
    pills = page.locator(".st-key-learn_lesson").get_by_role("radio")
    expect(pills.nth(0)).to_have_text("1 ✓")
    expect(pills.nth(1)).to_have_text("2 ✓")
    expect(pills.nth(2)).to_have_text("3")
    choose_lesson(page, 2)
    expect(page.get_by_text("Passed. Check again any time")).to_be_visible()
    expect(page.get_by_text("Last checked")).to_be_visible()
