"""Continue and Rewind through Streamlit's AppTest (app_pages/lineage_views.py): the Runs
page's buttons start the run or pin the weights and open Train; Train trains from them."""

from __future__ import annotations

import numpy as np

from app_pages.train_data import DEFAULT_REPEATS
from core.mydigits.store import MyDigitsStore
from core.runs.lineage import lineage, lineages
from core.runs.store import RunStore, default_home
from core.training.registry import JOBS
from tests.support.pages import open_page, run_until, train_stored_run


def joined(at) -> str:
    """The run this session's job trains, once it has ended."""
    run_id = at.session_state["train_run_id"]
    assert JOBS.get(run_id).join(timeout=120)
    return run_id


def said(elements) -> str:
    """The text of `elements` as shown (markdown's escapes removed)."""
    return " ".join(element.value for element in elements).replace("\\", "")


def on_train_page(at) -> bool:
    return any(button.key == "train_start_button" for button in at.button)


def test_continue_starts_a_new_run_that_names_its_parent_and_opens_train(small_mnist):
    parent, _ = train_stored_run(small_mnist, epochs=2)
    at = open_page("app_pages/runs.py")
    at.number_input(key="runs_more_epochs").set_value(1).run()
    assert at.button(key="runs_continue").label == "Continue for 1 more epoch"
    at.button(key="runs_continue").click().run()
    assert not at.exception, at.exception
    assert on_train_page(at)
    child = joined(at)
    at.switch_page("app_pages/train.py")  # AppTest's next run shows the page it was told
    run_until(at, lambda at: "Continues run #1 after 2 epochs" in said(at.caption))
    assert "Continued from run #1 after 2 epochs: 1 epoch here" in said(at.success)
    store = RunStore()
    assert lineage(store, child).parent_id == parent
    run = store.get(child)
    assert run.epochs_done == 3 and run.history["loss"][:2] == store.get(parent).history["loss"]
    curves = at.get("plotly_chart")[0].proto.spec
    assert '"parent run"' in curves  # the parent's epochs are shaded
    # The Runs page names the parent of the continued run.
    at.switch_page("app_pages/runs.py").run()
    assert "Continues #1" in said(at.caption)
    at.multiselect(key="runs_compare").set_value([parent, child]).run()
    assert f"{run.name} continues #1" in said(at.markdown)


def test_rewind_pins_the_starting_weights_and_the_comparison_says_so(small_mnist):
    first, _ = train_stored_run(small_mnist, epochs=1)
    at = open_page("app_pages/runs.py")
    at.button(key="runs_rewind").click().run()
    assert on_train_page(at)
    at.switch_page("app_pages/train.py").run()
    assert "Starting weights pinned" in said(at.info)
    at.select_slider(key="train_w_learning_rate").set_value(0.01).run()
    at.button(key="train_start_button").click().run()
    second = joined(at)
    store = RunStore()
    found = lineages(store, [first, second])
    assert found[second].rewound_from == first
    assert found[second].start_fingerprint == found[first].start_fingerprint
    at.switch_page("app_pages/runs.py").run()
    at.multiselect(key="runs_compare").set_value([first, second]).run()
    assert "started from the same starting weights" in said(at.markdown)


def test_a_changed_architecture_is_refused_with_a_message_and_unpin_frees_it(small_mnist):
    train_stored_run(small_mnist, epochs=1, units=16)
    at = open_page("app_pages/runs.py")
    at.button(key="runs_rewind").click().run()
    at.switch_page("app_pages/train.py").run()
    before = len(RunStore().list_runs())
    at.select_slider(key="train_w_units_0").set_value(32).run()
    assert "do not fit this network" in said(at.warning)
    at.button(key="train_start_button").click().run()
    assert "Nothing was trained" in said(at.error)
    assert len(RunStore().list_runs()) == before  # no run was started
    at.button(key="train_unpin").click().run()
    assert "Starting weights pinned" not in said(at.info)
    assert not at.warning


def test_fine_tune_continues_on_mnist_and_my_digits_as_a_child_run(small_mnist):
    """Issue 31's fine-tune: a continued run whose training images add the kept digits."""
    parent, _ = train_stored_run(small_mnist, epochs=1)
    mine = MyDigitsStore(default_home())
    for i in range(3):
        mine.keep(small_mnist.x_test[i].astype(np.float32) / 255, int(small_mnist.y_test[i]))
    at = open_page("app_pages/runs.py")
    assert at.button(key="runs_continue").label.startswith("Continue for")
    at.toggle(key="runs_fine_tune").set_value(True).run()
    assert at.button(key="runs_continue").label == "Fine-tune for 5 more epochs"
    at.number_input(key="runs_more_epochs").set_value(1).run()
    at.button(key="runs_continue").click().run()
    assert not at.exception, at.exception
    child = joined(at)
    run = RunStore().get(child)
    assert run.spec.my_digits_repeats == DEFAULT_REPEATS and run.epochs_done == 2
    assert lineage(RunStore(), child).parent_id == parent
    assert RunStore().get(parent).spec.my_digits_repeats == 0
    assert "My digits" in run.data_source, run.data_source  # what it trained on says so
