"""Train's steering controls (app_pages/steer_panel.py): Pause and Resume, a new learning rate
and weight decay asked for while a run trains, said on the page, marked on the curves and
stored with the run."""

from __future__ import annotations

import json

from app_pages.run_store import get_store
from core.runs.changes import read_changes
from core.training.registry import JOBS
from tests.support.pages import open_page
from tests.support.waiting import eventually


def small_run(at, epochs: int) -> None:
    at.slider(key="train_w_layers").set_value(1).run()
    at.select_slider(key="train_w_units_0").set_value(32).run()
    at.slider(key="train_w_epochs").set_value(epochs).run()
    at.select_slider(key="train_w_batch_size").set_value(32).run()


def curve_labels(at) -> list[str]:
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    figure = next(f for f in figures if f["layout"].get("uirevision") == "training-curves")
    return [note["text"] for note in figure["layout"].get("annotations", [])]


def test_pause_a_new_rate_and_resume_show_on_the_page_and_stay_with_the_run(small_mnist):
    at = open_page("app_pages/train.py")
    small_run(at, epochs=3)
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    try:
        steer_while_paused(at, job)
    finally:
        job.steer.resume()  # never leave a run paused, nor training, for the next test
        assert job.join(timeout=120)
    at.run()
    kinds = [change.kind for change in job.steer.changes()]
    assert kinds == ["pause", "learning_rate", "weight_decay"]
    labels = curve_labels(at)
    assert "lr 0.01" in labels and "wd 0.001" in labels
    assert any(label.startswith("paused") for label in labels)
    assert read_changes(get_store(), job.run_id) == job.steer.changes()


def steer_while_paused(at, job) -> None:
    at.button(key="train_steer_pause_button").click().run()
    assert job.steer.paused
    eventually(lambda: job.snapshot().paused, 120, message="the run never paused")
    at.run()
    assert at.button(key="train_steer_pause_button").label == "Resume"
    assert any("Paused after batch" in info.value for info in at.info)

    rate = at.number_input(key=f"train_steer_lr_{job.run_id}")
    rate.set_value(0.0).run()  # learns nothing: refused, said why
    assert any("learns nothing" in error.value for error in at.error)
    assert job.steer.learning_rate == job.spec.learning_rate
    at.number_input(key=f"train_steer_lr_{job.run_id}").set_value(0.01).run()
    assert job.steer.learning_rate == 0.01
    # The default preset's rate follows a cosine schedule: the box is its peak.
    assert any("Peak learning rate 0.01 asked for" in c.value for c in at.caption)
    at.number_input(key=f"train_steer_wd_{job.run_id}").set_value(0.001).run()
    assert job.steer.weight_decay == 0.001

    at.button(key="train_steer_pause_button").click().run()
    assert not job.steer.paused


def test_a_scheduled_run_takes_a_new_peak_and_the_page_says_what_it_means(small_mnist):
    at = open_page("app_pages/train.py")
    small_run(at, epochs=3)
    at.selectbox(key="train_w_lr_schedule").set_value("one_cycle").run()
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    job.steer.pause()  # holds the run (at its first batch end) while the page is read
    try:
        at.run()
        rate = at.number_input(key=f"train_steer_lr_{job.run_id}")
        assert rate.label == "Peak learning rate" and not rate.disabled
        assert any("one-cycle schedule" in c.value for c in at.caption)
        rate.set_value(0.0005).run()
        assert any("Peak learning rate 0.0005 asked for" in c.value for c in at.caption)
    finally:
        job.steer.resume()
        assert job.join(timeout=120)
    assert [c.value for c in job.steer.changes() if c.kind == "learning_rate"] == [0.0005]
