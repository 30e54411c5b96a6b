"""The Train page through Streamlit's AppTest: widgets, a short training run, Stop."""

import time

from streamlit.testing.v1 import AppTest

from core.presets import DEFAULT_PRESET, PRESETS
from core.training import JOBS
from tests.page_helpers import open_page, run_until


def set_small_network(at: AppTest, epochs: int) -> None:
    at.slider(key="train_w_layers").set_value(1).run()
    at.select_slider(key="train_w_units_0").set_value(32).run()
    at.slider(key="train_w_epochs").set_value(epochs).run()
    at.select_slider(key="train_w_batch_size").set_value(32).run()


def test_page_shows_every_control_and_the_model_summary(small_mnist):
    at = open_page("app_pages/train.py")
    spec = PRESETS[DEFAULT_PRESET].spec  # the page opens on the default preset's values
    assert at.selectbox(key="train_w_preset").value == DEFAULT_PRESET
    dense = [layer for layer in spec.layers if layer["type"] == "Dense"]
    assert at.slider(key="train_w_layers").value == len(dense)
    assert at.slider(key="train_w_epochs").value == spec.epochs
    assert at.slider(key="train_w_patience").value == spec.patience
    assert at.selectbox(key="train_w_optimizer").value == spec.optimizer
    assert at.selectbox(key="train_w_loss").value == spec.loss
    assert at.toggle(key="train_w_early_stopping").value == spec.early_stopping
    assert "669,706 parameters" in at.expander[0].label  # the default 784-512-512-10
    at.slider(key="train_w_layers").set_value(0).run()
    assert "7,850 parameters" in at.expander[0].label
    assert at.button(key="train_stop_button").disabled
    assert "synthetic" not in at.caption[0].value  # the data's description names its folder
    assert "400 training and 100 test images" in at.caption[0].value


def test_preset_and_optimizer_fill_the_widgets(small_mnist):
    at = open_page("app_pages/train.py")
    at.selectbox(key="train_w_preset").set_value("128 relu, plain SGD").run()
    assert at.slider(key="train_w_layers").value == 1
    assert at.select_slider(key="train_w_units_0").value == 128
    assert at.selectbox(key="train_w_optimizer").value == "sgd"
    at.selectbox(key="train_w_optimizer").set_value("adam").run()
    assert at.select_slider(key="train_w_learning_rate").value == 0.001


def test_short_training_run_starts_and_finishes(small_mnist):
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=3)
    at.button(key="train_start_button").click().run()
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    accuracy = next(m for m in at.metric if m.label == "Test accuracy")
    assert float(accuracy.value.rstrip("%")) > 50  # patch digits are easy; chance is 10 %
    assert any("Trained 3 epochs" in s.value for s in at.success)
    assert not at.slider(key="train_w_layers").disabled


def test_stop_ends_a_long_run(small_mnist):
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=50)
    at.select_slider(key="train_w_batch_size").set_value(16).run()
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    deadline = time.monotonic() + 120
    while job.monitor.snapshot().epoch < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    at.run()
    # Fifty epochs of 25 batches are far from done after one: the page shows a run under way.
    assert job.running
    assert not at.button(key="train_stop_button").disabled
    assert at.button(key="train_start_button").disabled
    assert at.slider(key="train_w_layers").disabled
    at.button(key="train_stop_button").click().run()
    assert job.join(timeout=60)
    run_until(at, lambda at: any("Stopped by you" in i.value for i in at.info))
    assert job.monitor.snapshot().status == "stopped"


def test_broken_data_folder_shows_the_reason_and_disables_train(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    at = open_page("app_pages/train.py")
    assert any("could not be loaded" in e.value for e in at.error)
    assert at.button(key="train_start_button").disabled


def test_the_page_does_not_keep_a_forgotten_run_in_memory(small_mnist):
    """Streamlit keeps a page run's namespace for as long as the session lives (through its
    widget callbacks), so a job in a module-level name would pin its model and graphs."""
    import gc
    import weakref

    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=1)
    at.button(key="train_start_button").click().run()
    job = JOBS.get(at.session_state["train_run_id"])
    assert job.join(timeout=120)
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    model = weakref.ref(job.model)
    del job
    JOBS.forget_finished(keep=0)
    gc.collect()
    assert at.session_state["train_run_id"]  # the session is alive and remembers its run
    assert model() is None, "the page's session still holds the run's model"
