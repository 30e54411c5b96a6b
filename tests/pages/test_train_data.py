"""Train's Training data expander through AppTest: My digits added to a run's training images."""

from __future__ import annotations

import numpy as np

from app_pages import train_controls
from core.mydigits.store import MyDigitsStore
from core.runs.store import RunStore, default_home
from core.training.registry import JOBS
from tests.support.pages import build_nothing_ahead, open_page, run_until, set_small_network


def keep_digits(count: int) -> None:
    store = MyDigitsStore(default_home())
    for i in range(count):
        image = np.zeros((28, 28), np.float32)
        image[4 + i, 4:20] = 1.0
        store.keep(image, i % 10)


def test_without_kept_digits_the_option_says_how_to_get_some(small_mnist, monkeypatch):
    build_nothing_ahead(monkeypatch)
    at = open_page("app_pages/train.py")
    assert at.toggle(key="train_w_use_my_digits").disabled
    assert any("You have kept no digits yet" in c.value for c in at.caption)


def test_my_digits_join_the_run_the_stated_number_of_times_and_augmentation_stays_in_its_spec(
    small_mnist,
):
    """One run with both: My digits join its training images the stated number of times (said
    on the page and in the stored run's data source), and a run with augmentation trains and
    keeps it in its stored spec and in its model's augmentation layer."""
    keep_digits(3)
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=1)
    at.toggle(key="train_w_use_my_digits").set_value(True).run()
    at.slider(key="train_w_my_digits_repeats").set_value(7).run()
    at.slider(key="train_w_augment_shift").set_value(0.1).run()
    assert not at.exception, at.exception
    assert at.session_state[train_controls.SPEC].my_digits_repeats == 7
    assert any("3 of My digits × 7 = 21 training images" in c.value for c in at.caption)
    at.button(key="train_start_button").click().run()
    assert JOBS.get(at.session_state["train_run_id"]).join(timeout=120)  # then look at the page
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    [run] = RunStore().list_runs()
    assert "3 of My digits × 7 (21 training images)" in run.data_source
    assert RunStore().get(run.id).spec.augment_shift == 0.1
    model = RunStore().load_model(run.id, compile=False)
    assert model.get_layer("augmentation").get_config()["shift"] == 0.1
    at.toggle(key="train_w_use_my_digits").set_value(False).run()
    assert at.session_state[train_controls.SPEC].my_digits_repeats == 0


def test_augmentation_sliders_set_the_spec_and_show_the_preview(small_mnist, monkeypatch):
    build_nothing_ahead(monkeypatch)
    at = open_page("app_pages/train.py")
    charts = len(at.get("plotly_chart"))
    at.slider(key="train_w_augment_rotation").set_value(15.0).run()
    at.slider(key="train_w_augment_thickness").set_value(1).run()
    assert not at.exception, at.exception
    spec = at.session_state[train_controls.SPEC]
    assert (spec.augment_rotation, spec.augment_thickness) == (15.0, 1)
    assert len(at.get("plotly_chart")) == charts + 1  # the preview
    # A preset sets the sliders back to its own settings: none.
    at.selectbox(key="train_w_preset").set_value("128 relu, plain SGD").run()
    assert at.slider(key="train_w_augment_rotation").value == 0.0
    assert at.session_state[train_controls.SPEC].augment_rotation == 0.0
