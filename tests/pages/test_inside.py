"""The inside views' controls, in AppTest: on their own for a stored run, and on the pages."""

from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.inside_views import saliency_words
from core.inside.saliency import Saliency
from core.nets.model_files import standard_form
from core.runs.store import RunStore
from core.training.registry import JOBS
from tests.support.digits import small_digits
from tests.support.pages import open_page, train_stored_run


def _inside_script(run_id: str) -> None:
    import streamlit as st

    from app_pages import inside_views
    from app_pages.data_source import get_data
    from app_pages.run_store import checked_model_stamp

    data, _ = get_data()
    stamp = checked_model_stamp(run_id)
    image = data.x_test[st.session_state.get("test_index", 0)] / 255.0
    true_digit = st.session_state.get("true_digit")
    inside_views.inside_section(run_id, stamp, image, key="evaluate", true_digit=true_digit)


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory):
    """A run store holding one small network trained on `small_mnist`'s digits, made once for
    the tests that only read it; returns the store's folder and the run's id."""
    home = tmp_path_factory.mktemp("trained-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_PLAYGROUND_HOME", str(home))
        run_id, _ = train_stored_run(small_digits(), epochs=1, units=16)
    return home, run_id


@pytest.fixture
def stored(small_mnist, trained_home, _playground_home):
    """The trained run, copied into the test's own run store (its database and model file)."""
    home, run_id = trained_home
    # SQLite rebuilds the write-ahead log's index (-shm) from the log on opening the copy.
    skip = shutil.ignore_patterns("*-shm")
    shutil.copytree(home, _playground_home, dirs_exist_ok=True, ignore=skip)
    model, _ = standard_form(RunStore().load_model(run_id, compile=False))
    return small_mnist, run_id, model


def _captions(at) -> str:
    return " | ".join(caption.value for caption in at.caption)


def _chart(at, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if chart.proto.id and key in chart.proto.id:
            return spec
    raise AssertionError(f"no chart {key}")


def _array(value) -> np.ndarray:
    """A figure's array as sent to the browser: a plain list, or plotly's typed-array dict."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return flat.reshape(shape) if shape else flat
    return np.array(value, dtype=float)


def _hidden_outputs(model, images: np.ndarray) -> np.ndarray:
    """The hidden layer's outputs computed with numpy from the stored weights."""
    kernel, bias = (np.asarray(w) for w in model.get_layer("dense_1").get_weights())
    return np.maximum(images.reshape(len(images), -1) / 255.0 @ kernel + bias, 0)


def test_saliency_compares_the_answer_with_the_chosen_digit(stored):
    data, run_id, model = stored
    at = AppTest.from_function(_inside_script, args=(run_id,), default_timeout=120).run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Inside the network"
    probabilities = np.asarray(model(data.x_test[:1].reshape(1, -1) / 255.0))[0]
    answer, runner_up = np.argsort(probabilities)[::-1][:2]
    assert f"towards {answer}, red ones towards {runner_up};" in _captions(at)
    other = (answer + 1) % 10
    at.selectbox(key="evaluate_inside_other").set_value(int(other)).run()
    assert f"towards {answer}, red ones towards {other};" in _captions(at)


def _logits(model, image: np.ndarray) -> np.ndarray:
    """The stored 784-16-10 network's logits, computed with numpy from its weights."""
    (k1, b1), (k2, b2) = (
        [np.asarray(w) for w in model.get_layer(name).get_weights()]
        for name in ("dense_1", "output")
    )
    return np.maximum(image.reshape(-1) / 255.0 @ k1 + b1, 0) @ k2 + b2


def test_the_saliency_words_give_the_scores_and_what_the_pixels_add_up_to(stored):
    data, run_id, model = stored
    at = AppTest.from_function(_inside_script, args=(run_id,), default_timeout=120).run()
    assert not at.exception, at.exception
    logits = _logits(model, data.x_test[0])
    answer, runner_up = np.argsort(logits)[::-1][:2]
    words = next(c.value for c in at.caption if "score less" in c.value)
    assert f"{answer}'s score less {runner_up}'s: {logits[answer] - logits[runner_up]:.2f}" in words
    assert "raises" not in words and "black image" not in words


def _saliency(margin: float, baseline: float, total: float) -> Saliency:
    attributions = np.full((28, 28), total / 784, dtype=np.float32)
    return Saliency(attributions, np.zeros((28, 28)), 1, 4, margin, baseline, steps=8)


def test_the_words_never_contradict_the_answer():
    """The issue's 1, read as 1 at 100 %: the old words said the image "raises 1's score over
    4's by -43.56"; the words now say which way it goes, with every number they give."""
    negative = saliency_words(_saliency(margin=20.0, baseline=63.56, total=-43.56))
    assert "1's score less 4's: 20.00 for this image, 63.56 for the average digits" in negative
    assert "favour 1 over 4 even more than this image does" in negative
    assert "add up to a negative number (-43.56) although the answer is 1" in negative
    assert "raises" not in negative and "by -" not in negative
    positive = saliency_words(_saliency(margin=44.42, baseline=0.3, total=44.12))
    assert "add up to the difference, 44.12: what in this image makes it more of a 1" in positive
    assert "negative" not in positive and "off that difference" not in positive
    same = saliency_words(_saliency(margin=3.0, baseline=2.998, total=0.002))
    assert "as much as they do" in same and "about 0 (0.00)" in same
    # A sum the paths could not bring within 2 % says so, with the difference it misses.
    off = saliency_words(_saliency(margin=10.0, baseline=0.0, total=8.0))
    assert "Their sum is 20% off that difference (10.00)" in off


def test_a_labelled_digit_is_compared_with_its_true_digit(stored):
    data, run_id, model = stored
    probabilities = np.asarray(model(data.x_test[:1].reshape(1, -1) / 255.0))[0]
    answer, runner_up = np.argsort(probabilities)[::-1][:2]
    label = int((answer + 2) % 10 if (answer + 2) % 10 != runner_up else (answer + 3) % 10)
    at = AppTest.from_function(_inside_script, args=(run_id,), default_timeout=120)
    at.session_state["true_digit"] = label  # as if the network had got this digit wrong
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="evaluate_inside_other").value == -2  # "the true digit"
    assert f"towards {answer}, red ones towards {label};" in _captions(at)
    # When the network is right, comparing with the true digit falls back to the runner-up.
    at.session_state["true_digit"] = int(answer)
    at.run()
    assert f"towards {answer}, red ones towards {runner_up};" in _captions(at)


def test_a_chosen_unit_shows_its_weights_and_its_top_test_digits(stored):
    data, run_id, model = stored
    at = AppTest.from_function(_inside_script, args=(run_id,), default_timeout=120).run()
    assert not at.exception, at.exception
    # By default: the first hidden layer's strongest unit for this image.
    outputs = _hidden_outputs(model, data.x_test[:1])[0]
    assert at.number_input(key="evaluate_inside_unit").value == int(outputs.argmax()) + 1
    at.number_input(key="evaluate_inside_unit").set_value(3).run()
    assert not at.exception, at.exception
    assert "make unit 3 fire most" in _captions(at)
    assert f"for your image it gives {outputs[2]:.3g}" in _captions(at)
    # The gallery's digits are the brute-force top 12 for unit 3 over the test digits.
    responses = _hidden_outputs(model, data.x_test)[:, 2]
    expected = sorted(range(len(responses)), key=lambda i: (-responses[i], i))[:12]
    gallery = _chart(at, "evaluate_inside_top")
    hover = gallery["data"][1]["hovertext"]
    shown = [int(text.split()[2]) for text in hover]
    np.testing.assert_allclose(responses[shown], responses[expected], rtol=1e-4, atol=1e-6)
    # A first-layer unit also shows its 28x28 weights.
    template = _chart(at, "evaluate_inside_template")
    kernel = np.asarray(model.get_layer("dense_1").get_weights()[0])
    np.testing.assert_allclose(
        _array(template["data"][0]["z"]), kernel[:, 2].reshape(28, 28), rtol=1e-5
    )


def test_activations_follow_the_image(stored):
    data, run_id, model = stored
    at = AppTest.from_function(_inside_script, args=(run_id,), default_timeout=120).run()
    grid_key = "evaluate_inside_grid_"
    first = _array(_chart(at, grid_key)["data"][0]["z"]).astype(float)
    at.session_state["test_index"] = 1
    at.run()
    second = _array(_chart(at, grid_key)["data"][0]["z"]).astype(float)
    for grid, index in ((first, 0), (second, 1)):
        values = grid[~np.isnan(grid)]
        np.testing.assert_allclose(
            values, _hidden_outputs(model, data.x_test[index : index + 1])[0], atol=1e-5
        )
    assert not np.allclose(first, second, equal_nan=True)


def test_evaluate_page_shows_the_inside_of_the_inspected_digit(stored):
    _, run_id, _ = stored
    at = open_page("app_pages/evaluate.py")
    at.session_state["evaluate_tab"] = "Inspect a digit"  # only the open tab is drawn
    at.run()
    assert any(s.value == "Inside the network" for s in at.subheader)
    assert "Blue pixels pushed the network towards" in _captions(at)


def test_train_page_diagram_follows_the_sliders(small_mnist):
    at = open_page("app_pages/train.py")
    diagram = _chart(at, "train_diagram")
    assert any("512 units" in str(t.get("text")) for t in diagram["data"])
    at.slider(key="train_w_layers").set_value(1).run()
    at.select_slider(key="train_w_units_0").set_value(32).run()
    assert not at.exception, at.exception
    texts = " ".join(str(t.get("text")) for t in _chart(at, "train_diagram")["data"])
    assert "32 units" in texts and "512 units" not in texts


def _train_script() -> None:
    import streamlit as st

    from app_pages import inside_views
    from app_pages.data_source import get_data
    from core.nets.model import ModelSpec

    spec = ModelSpec(
        layers=[{"type": "Dense", "units": 8, "activation": "sigmoid"}] * 3, epochs=2, batch_size=64
    )
    if "dynamics_started" not in st.session_state:
        from core.training.job import TrainingJob
        from core.training.registry import JOBS

        data, _ = get_data()
        st.session_state["train_inside_dynamics"] = True
        callbacks = inside_views.dynamics_callbacks(data)  # as the Train page's start() would
        job = JOBS.add(TrainingJob(spec, data, callbacks=callbacks))
        job.start()
        st.session_state["train_run_id"] = job.run_id
        st.session_state["dynamics_started"] = True
    inside_views.train_inside(spec)


def test_training_dynamics_show_each_layers_norms(small_mnist):
    at = AppTest.from_function(_train_script, default_timeout=120).run()
    assert not at.exception, at.exception
    job = JOBS.get(at.session_state["train_run_id"])
    assert job.join(timeout=120)
    at.run()
    assert not at.exception, at.exception
    norms = _chart(at, "train_norms")
    names = [layer.name for layer in job.model.layers if hasattr(layer, "kernel")]
    lines = {trace["name"]: trace for trace in norms["data"] if trace.get("xaxis", "x") == "x"}
    assert sorted(lines) == sorted(names)
    # The last weight norm of each layer is the norm of its kernel as trained.
    for layer in job.model.layers:
        if hasattr(layer, "kernel"):
            last = _array(lines[layer.name]["y"])[-1]
            assert last == pytest.approx(np.linalg.norm(np.asarray(layer.kernel)), rel=1e-5)
    assert "Training dynamics" in [m.value.strip("*") for m in at.markdown]
