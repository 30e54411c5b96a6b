"""Share links and the code view on the pages, through Streamlit's AppTest."""

from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from core.export.keras_script import export_script
from core.export.links import flat_spec_to_params, spec_to_params
from core.export.plane_script import export_plane_script
from core.nets.model import ModelSpec
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS
from core.plane.spec import PlaneSpec
from core.plane.xor import DEFAULT_EPOCHS
from core.runs.store import RunStore
from tests.conftest import REPO
from tests.support.pages import build_nothing_ahead, open_page
from tests.support.runs import fill_run
from tests.support.specs import small_spec

DEFAULT = PRESETS[DEFAULT_PRESET].spec


@pytest.fixture(autouse=True)
def _widgets_only(monkeypatch):
    """No test here presses Train: no network built ahead while they run."""
    build_nothing_ahead(monkeypatch)


def open_with_link(page: str, params: dict[str, str]) -> AppTest:
    """A new session opening `page` from a URL that carries `params`."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(page)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def script(spec: ModelSpec) -> str:
    """The script as st.code shows it (without the file's last newline)."""
    return export_script(spec).rstrip("\n")


def open_code(at: AppTest, key: str) -> AppTest:
    """Open the code expander of `key`, as a click on it does (the page reruns)."""
    assert not at.code  # folded, the script is not drawn at all
    at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    return at


def page_spec(at: AppTest) -> ModelSpec:
    return at.session_state["train_spec"]


def test_a_link_restores_every_setting_and_the_url_follows_the_sliders(small_mnist):
    spec = replace(
        DEFAULT,
        layers=[
            {"type": "Dense", "units": 64, "activation": "tanh"},
            {"type": "Dropout", "rate": 0.25},
            {"type": "Dense", "units": 32, "activation": "elu"},
        ],
        optimizer="rmsprop",
        learning_rate=0.0003,
        lr_schedule="constant",
        batch_size=256,
        epochs=17,
        early_stopping=True,
        patience=4,
        seed=1234,
    )
    at = open_with_link("app_pages/train.py", spec_to_params(spec))
    assert page_spec(at) == spec
    assert at.slider(key="train_w_layers").value == 2
    assert at.select_slider(key="train_w_units_0").value == 64
    assert at.selectbox(key="train_w_activation_1").value == "elu"
    assert at.slider(key="train_w_dropout_0").value == 0.25
    assert at.selectbox(key="train_w_optimizer").value == "rmsprop"
    assert at.select_slider(key="train_w_learning_rate").value == 0.0003
    assert at.select_slider(key="train_w_batch_size").value == 256
    assert at.slider(key="train_w_epochs").value == 17
    assert at.slider(key="train_w_patience").value == 4
    assert at.toggle(key="train_w_early_stopping").value is True
    assert at.number_input(key="train_w_seed").value == 1234
    assert not at.warning  # nothing to complain about
    assert dict(at.query_params) == spec_to_params(spec)

    at.slider(key="train_w_epochs").set_value(5).run()
    assert dict(at.query_params) == spec_to_params(replace(spec, epochs=5))
    assert at.query_params["epochs"] == "5"


def test_a_convolutional_link_and_the_code_view_follow_the_spec(small_mnist):
    spec = replace(PRESETS[KERAS_CONVNET].spec, seed=9)
    at = open_with_link("app_pages/train.py", spec_to_params(spec))
    assert page_spec(at) == spec
    assert open_code(at, "train_code_open").code[0].value == script(spec)
    at.slider(key="train_w_epochs").set_value(3).run()
    assert at.code[0].value == script(replace(spec, epochs=3))


def test_a_bad_link_restores_the_rest_and_says_why_in_one_line(small_mnist):
    params = spec_to_params(replace(DEFAULT, epochs=12, seed=77))
    params |= {"lr": "quick", "layers": "dense-64-relu~dropout-0.95", "v": "0"}
    at = open_with_link("app_pages/train.py", params)
    spec = page_spec(at)
    assert (spec.epochs, spec.seed) == (12, 77)
    assert spec.learning_rate == DEFAULT.learning_rate
    # The page's dropout sliders end at 0.8: that layer is left out, the Dense one kept.
    assert spec.layers == [{"type": "Dense", "units": 64, "activation": "relu"}]
    assert len(at.warning) == 1
    line = at.warning[0].value.replace("\\", "")  # shown as typed: markdown escaped
    assert "\n" not in line
    assert "lr 'quick' is not a number" in line and "layer 2 rate 0.95" in line
    assert "version '0'" in line
    at.slider(key="train_w_epochs").set_value(4).run()  # a change: the notice has done its job
    assert not at.warning


def test_without_a_link_the_page_opens_on_the_default_and_writes_its_url(small_mnist):
    at = open_page("app_pages/train.py")
    assert page_spec(at) == DEFAULT
    assert dict(at.query_params) == spec_to_params(DEFAULT)
    assert open_code(at, "train_code_open").code[0].value == script(DEFAULT)


def test_runs_shows_a_runs_script_and_the_diff_of_two(small_mnist):
    store = RunStore()  # two runs recorded as training records them; their specs are read
    first, _ = fill_run(store, small_spec(units=16, epochs=1), epochs=1)
    second, _ = fill_run(store, small_spec(units=24, epochs=1), epochs=1)
    at = open_page("app_pages/runs.py")
    shown = [code.value for code in open_code(at, "runs_code_open").code]
    assert script(store.get(second).spec) in shown  # the newest run is picked first
    at.multiselect(key="runs_compare").set_value([first, second]).run()
    assert not at.exception, at.exception
    diffs = [code.value for code in at.code if code.language == "diff"]
    assert len(diffs) == 1
    changed = [
        line
        for line in diffs[0].splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert any(line.startswith("-") and "Dense(16" in line for line in changed), changed
    assert any(line.startswith("+") and "Dense(24" in line for line in changed), changed


def test_a_plane_link_restores_the_2d_playground_and_follows_it(small_mnist):
    spec = PlaneSpec(
        data="circle", x1_squared=True, hidden_layers=2, units_1=8, learning_rate=0.03, seed=4
    )
    params = flat_spec_to_params(spec) | {"noise": "lots"}
    at = open_with_link("app_pages/xor.py", params)
    assert at.session_state["xor_job"].spec == spec
    assert at.slider(key="xor_hidden_layers").value == 2
    assert at.selectbox(key="xor_data").value == "circle"
    assert len(at.warning) == 1 and "noise 'lots' is not a number" in at.warning[0].value
    assert dict(at.query_params) == flat_spec_to_params(spec)  # the bad key is gone
    shown = open_code(at, "xor_code_open").code[0].value
    assert shown == export_plane_script(spec, epochs=DEFAULT_EPOCHS).rstrip("\n")
    at.slider(key="xor_hidden_layers").set_value(3).run()
    assert at.query_params["hidden_layers"] == "3"
    assert not at.warning


def test_a_link_with_a_presets_settings_names_that_preset(small_mnist):
    """A link that restores exactly a preset's settings shows that preset in the box, not the
    default's name with "Changed since this preset was chosen"."""
    spec = PRESETS[KERAS_CONVNET].spec
    at = open_with_link("app_pages/train.py", spec_to_params(spec))
    assert page_spec(at) == spec
    assert at.selectbox(key="train_w_preset").value == KERAS_CONVNET
    assert not [c for c in at.caption if "Changed since this preset" in c.value]
    at.slider(key="train_w_epochs").set_value(3).run()  # an edit: no longer the preset's
    assert at.selectbox(key="train_w_preset").value == KERAS_CONVNET
    assert [c for c in at.caption if "Changed since this preset" in c.value]


def test_a_link_is_held_to_the_limits_the_sliders_show(small_mnist):
    """One table of limits: the units slider's last mark is the most a link may ask for."""
    at = open_with_link("app_pages/train.py", {"layers": "dense-4096-relu~dense-2048-relu"})
    assert page_spec(at).layers == [{"type": "Dense", "units": 2048, "activation": "relu"}]
    assert at.select_slider(key="train_w_units_0").options[-1] == "2048"
    line = at.warning[0].value.replace("\\", "")
    assert "layer 1 units 4,096 is out of range (8 to 2,048), so it was left out" in line
    assert line.endswith("The network built is 784-2048-10.")


def test_a_long_value_makes_a_short_warning(small_mnist):
    at = open_with_link("app_pages/train.py", {"optimizer": "a" * 5000, "epochs": "9" * 5000})
    assert len(at.warning) == 1
    line = at.warning[0].value.replace("\\", "")
    assert len(line) < 400, line
    assert "(5,000 characters)" in line and "a" * 100 not in line


def test_a_plane_link_is_held_to_the_sidebars_limits(small_mnist):
    """Values the spec allows but the sidebar cannot show (a batch size or learning rate it
    does not offer, more points than its slider) once stopped the page with a traceback."""
    params = {"data": "cloud", "batch_size": "100", "learning_rate": "0.05"}
    params |= {"regularization_rate": "0.5", "samples": "20", "dropout": "0.8", "seed": "7"}
    at = open_with_link("app_pages/xor.py", params)
    spec = at.session_state["xor_job"].spec
    assert (spec.data, spec.seed) == ("cloud", 7)
    default = PlaneSpec()
    for name in ("batch_size", "learning_rate", "regularization_rate", "samples", "dropout"):
        assert getattr(spec, name) == getattr(default, name), name
    line = at.warning[0].value.replace("\\", "")
    assert "samples 20 is out of range (100 to 1,000), so the default 400 is used" in line
    at = open_with_link("app_pages/xor.py", {"data": "cloud", "batch_size": "100"})
    line = at.warning[0].value.replace("\\", "")
    assert "batch_size 100 is not one of the page's choices (1, 4, 8, 10, 16, 32, 64, 128)" in line
