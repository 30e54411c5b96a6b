"""The Train page's controls through Streamlit's AppTest: its widgets and presets, the spec they
make (the family switch, an invalid edit undone), the network diagram beside them, and a data
folder that cannot be loaded. Training runs on the page are test_train_run.py's."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import train_controls
from core.mnist.data import load_mnist
from core.nets.model import ModelSpec, layer_table
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS
from tests.support.pages import build_nothing_ahead, open_page


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
