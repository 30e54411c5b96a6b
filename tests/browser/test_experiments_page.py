"""The Experiments page in headless Chromium: what only the browser's own widgets show."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.page_actions import PAGE_SECONDS, choose, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_the_chosen_experiment_stays_chosen_when_its_status_changes(app_server, open_session):
    """The selector's labels show each experiment's status, and Streamlit's select box keeps
    the label it shows as its value: when the chosen experiment's status changed (running to
    completed, say), the old label stayed shown after the page's next run (in a minimal app,
    such a choice also fell back to the first option; streamlit/streamlit#13788)."""
    from core.experiments.runner import create_experiment
    from core.experiments.store import ExperimentStore
    from core.experiments.sweeps import ExperimentDefinition
    from core.nets.presets import DEFAULT_PRESET, PRESETS

    xstore = ExperimentStore(app_server.home)
    base = {"layers": [{"type": "Dense", "units": 8}], "epochs": 1}
    older = create_experiment(
        xstore, ExperimentDefinition(base, [], seeds=1, budget=1, name="The older one")
    )
    create_experiment(xstore, ExperimentDefinition(base, [], seeds=1, budget=1, name="Newer"))
    number = xstore.get(older).number
    page = open_session()
    open_page(page, app_server, "/experiments", "Experiments")
    choose(page, "Experiment", f"#{number} The older one (stopped)")
    expect(page.get_by_text("Stopped.", exact=True)).to_be_visible()

    xstore.set_status(older, "failed", "Failed in the test.")
    page.get_by_text("New experiment", exact=True).click()
    start_from = page.get_by_role("combobox", name="Start from", exact=True)
    start_from.scroll_into_view_if_needed()  # once the expander has opened and settled
    expect(start_from).to_be_in_viewport()
    page.wait_for_timeout(500)  # the expander's opening animation moves the box
    other = next(name for name in PRESETS if name != DEFAULT_PRESET)  # a full rerun of the page:
    choose(page, "Start from", other)
    selector = page.get_by_role("combobox", name="Experiment", exact=True)
    expect(page.get_by_text("Failed in the test.")).to_be_visible(timeout=PAGE_SECONDS * 1000)
    expect(selector).to_have_value(f"#{number} The older one (failed)")
