"""The playground page through Streamlit's AppTest: seed 000's opening, Train, step, reset,
the data, feature and network controls, the unit view, and Train refused after divergence."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.support.pages import scan_components_once
from tests.support.waiting import eventually

scan_components_once()  # as every page test does (on importing tests.support.pages)


def run_until_idle(at: AppTest, timeout: float = 120.0) -> None:
    """Rerun the page (as the polling fragment would) until the job's worker has finished."""

    def finished() -> bool:
        # Wait for the worker without rerunning the page (reruns take its CPU), then rerun
        # it: the page may have started more work.
        eventually(
            lambda: not at.session_state["xor_job"].running, timeout, message="the job still runs"
        )
        at.run()
        assert not at.exception, at.exception
        return not at.session_state["xor_job"].running

    at.run()
    assert not at.exception, at.exception
    if at.session_state["xor_job"].running:
        eventually(finished, timeout, message="the job still runs")
    at.run()  # the page as it looks once the job has ended
    assert not at.exception, at.exception


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app_pages" / "xor.py"), default_timeout=60)
    at.run(timeout=60)
    assert not at.exception, at.exception
    run_until_idle(at)
    return at


def job(at: AppTest):
    return at.session_state["xor_job"]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_page_opens_on_seed_000s_network_untrained_train_solves_it_and_a_unit_is_shown_large():
    """The page as it opens (seed 000's network, untrained); Train on it solves the four
    points; a unit picked is shown large, and another once it no longer exists."""
    at = open_page()
    assert at.selectbox(key="xor_data").value == "points"
    assert at.number_input(key="xor_epochs").value == 500
    assert at.slider(key="xor_hidden_layers").value == 1
    assert at.number_input(key="xor_units_1").value == 16
    assert at.selectbox(key="xor_activation_1").value == "relu"
    assert at.selectbox(key="xor_loss").value == "mean_squared_error"
    assert at.checkbox(key="xor_x1").value and not at.checkbox(key="xor_sin_x1").value
    assert at.button(key="xor_stop").disabled and not at.button(key="xor_train").disabled
    table = at.dataframe[0].value
    assert table["input"].tolist() == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
    assert table["raw output"].notna().all()  # the untrained network's answers
    assert any("one straight line" in md.value for md in at.markdown)
    assert charts(at) == 3  # the network, the output, the unit shown large
    assert job(at).spec.architecture() == "2-16-1" and job(at).snapshot().epoch == 0
    at.button(key="xor_train").click().run()
    run_until_idle(at)
    assert job(at).snapshot().epoch == 500
    table = at.dataframe[0].value
    assert table["rounded"].tolist() == [0, 1, 1, 0]
    assert table["right?"].tolist() == ["✓"] * 4
    assert any("Trained 500 epochs" in caption.value for caption in at.caption)
    assert charts(at) == 4  # and the curves
    assert at.selectbox(key="xor_unit").value == "1:0"
    options = at.selectbox(key="xor_unit").options
    assert len(options) == 2 + 16 and "x2" in options and "layer 1, unit 16" in options
    at.selectbox(key="xor_unit").set_value("0:1").run()
    assert not at.exception
    assert at.selectbox(key="xor_unit").value == "0:1"
    at.slider(key="xor_hidden_layers").set_value(0).run()  # the unit shown no longer exists
    run_until_idle(at)
    assert at.selectbox(key="xor_unit").value in ("0:0", "0:1")


def test_step_reset_and_the_network_controls():
    at = open_page()
    at.button(key="xor_step").click().run()
    run_until_idle(at)
    assert job(at).snapshot().epoch == 1
    at.button(key="xor_reset").click().run()
    run_until_idle(at)
    assert job(at).snapshot().epoch == 0
    at.slider(key="xor_hidden_layers").set_value(3).run()
    at.number_input(key="xor_units_2").set_value(5).run()
    at.selectbox(key="xor_activation_3").set_value("tanh").run()
    at.selectbox(key="xor_regularization").set_value("l2").run()
    at.selectbox(key="xor_regularization_rate").set_value(0.001).run()
    at.slider(key="xor_dropout").set_value(0.1).run()
    run_until_idle(at)
    spec = job(at).spec
    assert spec.units == [16, 5, 8] and spec.activations == ["relu", "relu", "tanh"]
    assert (spec.regularization, spec.regularization_rate, spec.dropout) == ("l2", 0.001, 0.1)
    assert len(job(at).snapshot().boundary.units) == 4  # features and three layers
    at.slider(key="xor_hidden_layers").set_value(0).run()
    run_until_idle(at)
    assert job(at).spec.architecture() == "2-1"
    assert not [w for w in at.number_input if w.key == "xor_units_1"]


def test_blobs_rebuild_the_network_the_loss_and_the_words_agree_and_features_rebuild_it():
    """Choosing the blobs rebuilds the network for three classes and chooses cross-entropy,
    and the words say the loss in use (with three classes the loss stayed mean squared error
    while the page said "Cross-entropy is the usual loss here"); a new sample and the
    features rebuild it too."""
    at = open_page()
    assert job(at).spec.loss == "mean_squared_error"  # seed 000's XOR network
    at.selectbox(key="xor_data").set_value("blobs").run()
    run_until_idle(at)
    assert at.slider(key="xor_classes").value == 3 and at.slider(key="xor_noise").value == 0.15
    snapshot = job(at).snapshot()
    assert snapshot.spec.n_classes == 3 and snapshot.boundary.z.shape[2] == 3
    assert not at.dataframe  # the four-row table belongs to the XOR points
    assert any("Three or more classes" in md.value for md in at.markdown)
    assert_the_words_name_the_loss(at)
    before = snapshot.data.x_train.copy()
    at.button(key="xor_new_sample").click().run()
    run_until_idle(at)
    assert job(at).spec.sample == 1
    assert not np.array_equal(job(at).snapshot().data.x_train, before)
    at.checkbox(key="xor_x1_squared").check().run()
    at.checkbox(key="xor_sin_x2").check().run()
    run_until_idle(at)
    assert job(at).spec.features == ["x1", "x2", "x1_squared", "sin_x2"]
    assert job(at).model.get_weights()[0].shape[0] == 4  # the input layer's width follows
    assert any("**Features.**" in md.value for md in at.markdown)


def assert_the_words_name_the_loss(at: AppTest) -> None:
    """On the blobs: cross-entropy chosen and said; mean squared error chosen, said so."""
    assert at.selectbox(key="xor_loss").value == "crossentropy"
    assert job(at).spec.loss == "crossentropy" and job(at).spec.n_classes == 3
    words = " ".join(" ".join(md.value.split()) for md in at.markdown)
    assert "**The loss is cross-entropy**" in words and "mean squared error" not in words
    at.selectbox(key="xor_loss").set_value("mean_squared_error").run()
    run_until_idle(at)
    assert job(at).spec.loss == "mean_squared_error"
    words = " ".join(" ".join(md.value.split()) for md in at.markdown)
    assert "**The loss is mean squared error**" in words
    assert "Choose it under Network, Loss, to compare" in words


def test_every_feature_off_is_refused_with_the_fix():
    at = open_page()
    at.checkbox(key="xor_x1").uncheck().run()
    at.checkbox(key="xor_x2").uncheck().run()
    assert any("turn on at least one" in error.value for error in at.error)
    assert job(at).spec.features == ["x2"]  # the last network that could be built stays
    run_until_idle(at)  # no worker left tracing when the tests end


def test_after_the_loss_blows_up_train_waits_for_a_reset():
    at = open_page()
    runner = job(at).runner
    real_run = runner.run

    def blow_up(first_epoch, epochs):
        logs = real_run(first_epoch, epochs)
        logs["loss"][:] = np.nan
        return logs

    runner.run = blow_up
    at.button(key="xor_train").click().run()
    run_until_idle(at)
    assert any("Lower the learning rate" in error.value for error in at.error)
    assert at.button(key="xor_train").disabled and at.button(key="xor_step").disabled
    at.button(key="xor_reset").click().run()
    run_until_idle(at)
    assert not at.button(key="xor_train").disabled and job(at).snapshot().status == "idle"
