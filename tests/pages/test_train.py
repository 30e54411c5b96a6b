"""The Train page through Streamlit's AppTest: widgets, a short training run, Stop."""

import gc
import json
import threading
import time
import weakref

import pytest
from streamlit.testing.v1 import AppTest

import core.training.job
from app_pages import train_controls, training_session
from core.inside.dynamics import norm_log
from core.mnist.data import load_mnist
from core.nets.model import ModelSpec, layer_table
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS
from core.training.job import warm_key
from core.training.live_callback import LiveMetrics
from core.training.registry import JOBS
from core.training.warm_start import WARM_STARTS
from tests.support.pages import build_nothing_ahead, open_page, run_until, set_small_network
from tests.support.waiting import eventually


def curves(at: AppTest) -> dict:
    """The loss and accuracy chart's figure."""
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next(f for f in figures if f["layout"].get("uirevision") == "training-curves")


def points(figure: dict) -> int:
    return sum(len(trace.get("x") or []) for trace in figure["data"])


@pytest.fixture
def widgets_only(monkeypatch):
    """For a test that never presses Train: no network built ahead while it runs."""
    build_nothing_ahead(monkeypatch)


@pytest.mark.usefixtures("widgets_only")
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
    # Stop shows beside a run's progress, inside the live panel: with no run, there is none.
    assert "train_stop_button" not in [button.key for button in at.button]
    assert "synthetic" not in at.caption[0].value  # the data's description names its folder
    assert "400 training and 100 test images" in at.caption[0].value


@pytest.mark.usefixtures("widgets_only")
def test_preset_and_optimizer_fill_the_widgets(small_mnist):
    at = open_page("app_pages/train.py")
    at.selectbox(key="train_w_preset").set_value("128 relu, plain SGD").run()
    assert at.slider(key="train_w_layers").value == 1
    assert at.select_slider(key="train_w_units_0").value == 128
    assert at.selectbox(key="train_w_optimizer").value == "sgd"
    at.selectbox(key="train_w_optimizer").set_value("adam").run()
    assert at.select_slider(key="train_w_learning_rate").value == 0.001


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


@pytest.mark.usefixtures("widgets_only")
def test_broken_data_folder_shows_the_reason_and_disables_train(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    at = open_page("app_pages/train.py")
    assert any("could not be loaded" in e.value for e in at.error)
    assert at.button(key="train_start_button").disabled


# ----- the spec and the family switch (helper "cnn") ---------------------------------------


def page_spec(at: AppTest):
    return at.session_state["train_spec"]


@pytest.mark.usefixtures("widgets_only")
def test_switching_family_makes_a_conv_network_and_back(small_mnist):
    at = open_page("app_pages/train.py")
    at.button_group(key="train_w_family").set_value("conv").run()
    assert not at.exception, at.exception
    spec = page_spec(at)
    assert spec.is_convolutional and at.slider(key="train_w_conv_blocks").value == 2
    assert [layer["type"] for layer in spec.layers[:6]] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    assert f"{spec.architecture()}," in at.expander[0].label
    table = at.table[0].value
    assert list(table.index) == [row["layer"] for row in layer_table(spec)]  # every layer shown
    at.select_slider(key="train_w_filters_1").set_value(16).run()
    assert page_spec(at).layers[2]["filters"] == 16
    assert "11 × 11 × 16" in at.table[0].value["Output shape"].tolist()  # follows the slider
    at.button_group(key="train_w_family").set_value("dense").run()
    assert not page_spec(at).is_convolutional
    assert page_spec(at).architecture() == "784-512-512-10"


@pytest.mark.usefixtures("widgets_only")
def test_an_invalid_edit_is_undone_with_the_reason(small_mnist):
    at = open_page("app_pages/train.py")
    at.selectbox(key="train_w_preset").set_value(KERAS_CONVNET).run()
    before = page_spec(at)
    at.select_slider(key="train_w_kernel_1").set_value(7).run()  # a 13x13 map: fine
    at.select_slider(key="train_w_kernel_0").set_value(7).run()
    at.slider(key="train_w_conv_blocks").set_value(4).run()  # added blocks keep the map >= 1x1
    assert not at.exception, at.exception
    spec = page_spec(at)
    convs = [layer for layer in spec.layers if layer["type"] == "Conv2D"]
    assert len(convs) == 4 and convs[-1]["padding"] == "same"  # the last block meets a 1x1 map
    at.selectbox(key="train_w_padding_3").set_value("valid").run()  # a 3x3 kernel on 1x1
    assert any(
        "That change was undone" in e.value and "larger than the 1x1 feature map" in e.value
        for e in at.error
    )
    assert page_spec(at) == spec and at.selectbox(key="train_w_padding_3").value == "same"
    assert before != spec


@pytest.mark.usefixtures("widgets_only")
def test_a_conv_preset_fills_the_page(small_mnist):
    at = open_page("app_pages/train.py")
    at.selectbox(key="train_w_preset").set_value(KERAS_CONVNET).run()
    assert page_spec(at) == PRESETS[KERAS_CONVNET].spec
    assert at.button_group(key="train_w_family").value == "conv"
    assert at.slider(key="train_w_conv_blocks").value == 2
    assert [at.select_slider(key=f"train_w_filters_{i}").value for i in range(2)] == [32, 64]
    assert [at.toggle(key=f"train_w_pooling_{i}").value for i in range(2)] == [True, True]
    assert at.slider(key="train_w_head_dropout").value == 0.5
    assert at.slider(key="train_w_layers").value == 0
    assert at.slider(key="train_w_epochs").value == 15
    assert "34,826 parameters" in at.expander[0].label


SLIDER_CHOICES = {
    "train_w_learning_rate": train_controls.LEARNING_RATES,
    "train_w_batch_size": train_controls.BATCH_SIZES,
    "train_w_units_": train_controls.UNIT_CHOICES,
    "train_w_filters_": train_controls.FILTER_CHOICES,
    "train_w_kernel_": train_controls.KERNEL_CHOICES,
}


def slider_choices(key: str):
    """The option list of the select slider with widget key `key`."""
    return next(choices for start, choices in SLIDER_CHOICES.items() if key.startswith(start))


@pytest.mark.usefixtures("widgets_only")
def test_every_preset_round_trips_through_the_widgets(small_mnist):
    """Preset -> widgets -> spec gives the preset back: each value is one the widgets offer.
    Every preset in turn on one page (chosen after the one before it, as a person would)."""
    at = open_page("app_pages/train.py")
    for name, preset in PRESETS.items():
        at.selectbox(key="train_w_preset").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert page_spec(at) == preset.spec, name
        # every widget holds a value from its own option list (no value added for the preset)
        for slider in at.select_slider:
            assert slider.value in slider_choices(slider.key), (name, slider.key, slider.value)
        # touching a widget rebuilds the spec from all widgets: the same spec again
        at.number_input(key="train_w_seed").set_value(preset.spec.seed).run()
        at.slider(key="train_w_layers").set_value(at.slider(key="train_w_layers").value).run()
        assert page_spec(at) == preset.spec, name


@pytest.mark.usefixtures("widgets_only")
def test_a_spec_set_by_another_page_shows_in_the_widgets(small_mnist):
    at = open_page("app_pages/train.py")
    spec = ModelSpec(
        layers=[
            {"type": "Conv2D", "filters": 8, "kernel_size": 5, "padding": "same"},
            {"type": "BatchNormalization"},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dense", "units": 64, "activation": "tanh"},
        ],
        epochs=4,
    )
    at.session_state["train_spec"] = spec
    at.run()
    assert at.slider(key="train_w_conv_blocks").value == 1
    assert at.select_slider(key="train_w_kernel_0").value == 5
    assert at.toggle(key="train_w_batch_norm_0").value is True
    assert at.selectbox(key="train_w_head").value == "GlobalAveragePooling2D"
    assert at.select_slider(key="train_w_units_0").value == 64
    assert at.slider(key="train_w_epochs").value == 4
    at.slider(key="train_w_epochs").set_value(5).run()
    assert page_spec(at) == ModelSpec.from_dict({**spec.to_dict(), "epochs": 5})


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


@pytest.mark.usefixtures("widgets_only")
def test_the_page_says_when_the_settings_are_no_longer_the_chosen_presets(small_mnist):
    """The Preset box keeps naming the last preset chosen; after an edit the page says the
    settings are no longer that preset's, and choosing a preset again clears it."""

    def says_changed(at) -> bool:
        return any("Changed since this preset was chosen" in c.value for c in at.caption)

    at = open_page("app_pages/train.py")
    assert not says_changed(at)
    at.slider(key="train_w_epochs").set_value(3).run()
    assert says_changed(at)
    at.selectbox(key="train_w_preset").set_value("128 relu, plain SGD").run()
    assert not says_changed(at)


# ----- the network diagram beside the controls (issue 29) ------------------------------------


def chart_texts(at: AppTest, key: str) -> str | None:
    """Every text of the chart with widget key `key`, or None if the page has no such chart."""
    for chart in at.get("plotly_chart"):
        if chart.proto.id and f"-{key}" in chart.proto.id:
            spec = json.loads(chart.proto.spec)
            return " ".join(str(trace.get("text")) for trace in spec["data"]) + json.dumps(
                spec["layout"].get("annotations", [])
            )
    return None


def diagram_choice(at: AppTest):
    return next(group for group in at.button_group if group.key.startswith("train_inside_diagram"))


@pytest.mark.usefixtures("widgets_only")
def test_the_diagram_shows_the_network_the_controls_describe(small_mnist):
    """A trained dense run's weights, then a convnet preset: the diagram draws the convnet, not
    the run; chosen again, the run's diagram says plainly that it is another network."""
    from tests.support.pages import train_stored_run

    train_stored_run(load_mnist(), epochs=1, units=16)
    at = open_page("app_pages/train.py")
    assert chart_texts(at, "train_diagram") is not None
    diagram_choice(at).set_value("Trained weights of run #1").run()
    assert not at.exception, at.exception
    assert chart_texts(at, "train_weights_diagram") is not None
    assert chart_texts(at, "train_diagram") is None
    at.selectbox(key="train_w_preset").set_value(KERAS_CONVNET).run()
    assert not at.exception, at.exception
    assert chart_texts(at, "train_weights_diagram") is None  # run #1's dense network is gone
    assert "Conv" in chart_texts(at, "train_diagram")
    assert diagram_choice(at).value == "As built"
    diagram_choice(at).set_value("Trained weights of run #1").run()
    said = " ".join(info.value for info in at.info)
    assert "run #1's network, 784-16-10: not the one the controls describe" in said
    assert PRESETS[KERAS_CONVNET].spec.architecture() in said


@pytest.mark.usefixtures("widgets_only")
def test_the_99_percent_preset_shows_its_recipe_and_the_one_cycle_schedule(small_mnist):
    from core.nets.presets import SECONDS_PRESET

    at = open_page("app_pages/train.py")
    assert not any("The recipe" in expander.label for expander in at.expander)
    assert "One cycle" in at.selectbox(key="train_w_lr_schedule").options
    at.selectbox(key="train_w_preset").set_value(SECONDS_PRESET).run()
    assert at.selectbox(key="train_w_lr_schedule").value == "one_cycle"
    assert at.select_slider(key="train_w_batch_size").value == 256
    recipe = next(e for e in at.expander if "The recipe" in e.label)
    text = " ".join(m.value for m in recipe.markdown)
    for choice in ("one-cycle", "Batches of 256", "0.01", "No dropout", "16 and 32 filters"):
        assert choice in text, choice
    # Another preset has no recipe: the expander goes.
    at.selectbox(key="train_w_preset").set_value(KERAS_CONVNET).run()
    assert not any("The recipe" in expander.label for expander in at.expander)
