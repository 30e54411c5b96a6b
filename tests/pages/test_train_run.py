"""The Train page's training runs through Streamlit's AppTest: a short run on the network built
ahead, Stop during a long run, the norms toggle. Its controls and the spec they make are
test_train.py's."""

import gc
import json
import threading
import time
import weakref

from streamlit.testing.v1 import AppTest

import core.training.job
from app_pages import training_session
from core.inside.dynamics import norm_log
from core.mnist.data import load_mnist
from core.training.job import warm_key
from core.training.live_callback import LiveMetrics
from core.training.registry import JOBS
from core.training.warm_start import WARM_STARTS
from tests.support.pages import open_page, run_until, set_small_network
from tests.support.waiting import eventually


def curves(at: AppTest) -> dict:
    """The loss and accuracy chart's figure."""
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next(f for f in figures if f["layout"].get("uirevision") == "training-curves")


def points(figure: dict) -> int:
    return sum(len(trace.get("x") or []) for trace in figure["data"])


def test_a_short_run_trains_the_model_built_ahead_finishes_and_is_not_kept_in_memory(
    small_mnist,
):
    """One short run, and the facts about it: the page builds its network ahead while it is
    read and Train trains that very model; the run finishes with its test accuracy and
    "Trained 3 epochs"; with the norms toggle off the run records no norms; and once
    forgotten, the page does not keep the run in memory (Streamlit keeps a page run's
    namespace for as long as the session lives, through its widget callbacks, so a job in a
    module-level name would pin its model and graphs)."""
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=3)
    at.toggle(key="train_inside_dynamics").set_value(False).run()
    key = warm_key(at.session_state["train_spec"], load_mnist())
    eventually(lambda: WARM_STARTS.ready_key() == key, message="not built while the page was read")
    built_ahead = WARM_STARTS._ready[1]
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    # The page is looked at once the run has ended: reruns while it trains take its CPU.
    assert job.join(timeout=120)
    assert job.model is built_ahead and job.snapshot().status == "completed"
    assert norm_log(job) is None  # the toggle off: no LayerNorms callback, no norms
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    accuracy = next(m for m in at.metric if m.label == "Test accuracy")
    assert float(accuracy.value.rstrip("%")) > 50  # patch digits are easy; chance is 10 %
    assert any("Trained 3 epochs" in s.value for s in at.success)
    assert not at.slider(key="train_w_layers").disabled

    model = weakref.ref(job.model)
    del job, built_ahead
    JOBS.forget_finished(keep=0)
    assert at.session_state["train_run_id"]  # the session is alive and remembers its run

    def holders() -> str:
        found = model()
        kinds = [type(r).__name__ for r in gc.get_referrers(found)] if found is not None else []
        return f"the page's session still holds the run's model (held by {kinds})"

    # Freed once the run's own threads (its test pass, its saving) have let go: a busy machine
    # may still be finishing them as the run is forgotten.
    eventually(lambda: gc.collect() is not None and model() is None, timeout=20, message=holders)


def slow_batches_and_a_held_test_pass(monkeypatch) -> threading.Event:
    """Each batch ends 0.3 s late, the page waits for a run's first point, and a run's test
    pass waits until the returned event is set."""
    # Fifty epochs of 400 digits go quickly on a network built ahead: slow each batch down
    # (seven of 64 a epoch), so the run is surely still training when Stop is pressed, and
    # the first point comes long after the page drawn by the click would have reached its
    # chart; that page waits for the point (training_session.FIRST_POINT_WAIT_SECONDS,
    # lengthened so a busy machine cannot make it miss).
    batch_end = LiveMetrics.on_train_batch_end

    def slow_batch_end(self, batch, logs=None):
        time.sleep(0.3)
        return batch_end(self, batch, logs)

    monkeypatch.setattr(LiveMetrics, "on_train_batch_end", slow_batch_end)
    monkeypatch.setattr(training_session, "FIRST_POINT_WAIT_SECONDS", 60.0)
    # And hold the test pass until the page has been looked at.
    tested = threading.Event()
    predict = core.training.job.predict_eagerly

    def held_predict(*args, **kwargs):
        tested.wait(60)
        return predict(*args, **kwargs)

    monkeypatch.setattr(core.training.job, "predict_eagerly", held_predict)
    return tested


def test_the_click_draws_the_first_point_and_stop_ends_a_long_run(small_mnist, monkeypatch):
    """Two facts of one long run: the curves' axes show before Train, and the page drawn by
    the click already has the first point; Stop ends the run, saying so while its test pass
    is under way and keeping its epochs."""
    tested = slow_batches_and_a_held_test_pass(monkeypatch)
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=50)
    at.select_slider(key="train_w_batch_size").set_value(64).run()
    before = curves(at)  # before any run: the axes the curves will be drawn on, empty
    assert points(before) == 0
    assert before["layout"]["xaxis"]["range"] == [0, 50.05]
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert points(curves(at)) > 0  # the page drawn by the click already has the first point
    eventually(lambda: job.monitor.snapshot().epoch >= 1, 120, 0.1, "the run finished no epoch")
    at.run()
    # Fifty epochs of 7 batches are far from done after one: the page shows a run under way.
    assert job.running
    assert not at.button(key="train_stop_button").disabled
    assert at.button(key="train_start_button").disabled
    assert at.slider(key="train_w_layers").disabled
    at.button(key="train_stop_button").click().run()
    # The page drawn by the click says training has ended, with its kept epochs, while the
    # test pass is still under way; Stop has been pressed, Train waits for the test pass.
    kept = job.monitor.snapshot().epoch
    said = [i.value for i in at.info if "Stopped by you" in i.value]
    assert said == [
        f"Stopped by you after {kept} complete epoch{'s' * (kept != 1)}. "
        "Testing on the 100 test images…"
    ]
    assert job.running
    assert at.button(key="train_stop_button").disabled
    assert at.button(key="train_start_button").disabled
    assert not any(m.label == "Test accuracy" for m in at.metric)
    tested.set()
    assert job.join(timeout=60)
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    assert job.monitor.snapshot().status == "stopped"
    assert any(i.value.startswith(f"Stopped by you after {kept} ") for i in at.info)
    assert not at.button(key="train_start_button").disabled


def test_the_norms_toggle_on_makes_a_run_record_norms(small_mnist):
    """On: the run carries a LayerNorms callback and its log fills with one weight and one
    gradient norm per layer (off, the run carries none: the short run's test checks it)."""
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=2)
    at.toggle(key="train_inside_dynamics").set_value(True).run()
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert job is not None and job.join(timeout=120)
    history = norm_log(job).snapshot()
    assert history.layers and history.epochs  # measured before training and during it
    for name in history.layers:
        assert len(history.weight_norms[name]) == len(history.epochs)
        assert all(value > 0 for value in history.weight_norms[name])
