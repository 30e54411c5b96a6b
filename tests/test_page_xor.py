"""The XOR page through Streamlit's AppTest: it loads, trains seed 000's network, steps, resets."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def run_until_idle(at: AppTest, timeout: float = 120.0) -> None:
    """Rerun the page (as the polling fragment would) until the job's worker has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if not at.session_state["xor_job"].running:
            at.run()  # the page as it looks once the job has ended
            assert not at.exception, at.exception
            return
        time.sleep(0.2)
    raise AssertionError(f"the XOR job still runs after {timeout} s")


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app_pages" / "xor.py"), default_timeout=60)
    at.run(timeout=60)
    assert not at.exception, at.exception
    run_until_idle(at)
    return at


def table(at: AppTest):
    return at.dataframe[0].value


def test_page_loads_with_seed_000s_network_untrained():
    at = open_page()
    assert at.number_input(key="xor_epochs").value == 500
    assert at.slider(key="xor_hidden_layers").value == 1
    assert at.select_slider(key="xor_units").value == 16
    assert at.selectbox(key="xor_loss").value == "mean_squared_error"
    assert at.button(key="xor_stop").disabled and not at.button(key="xor_train").disabled
    assert table(at)["input"].tolist() == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]
    assert table(at)["raw output"].notna().all()  # the untrained network's answers
    assert any("single" in md.value or "one straight line" in md.value for md in at.markdown)
    assert at.session_state["xor_job"].snapshot().epoch == 0


def test_train_solves_the_four_points():
    at = open_page()
    at.button(key="xor_train").click().run()
    assert not at.exception, at.exception
    run_until_idle(at)
    snapshot = at.session_state["xor_job"].snapshot()
    assert snapshot.epoch == 500
    assert table(at)["rounded"].tolist() == [0, 1, 1, 0]
    assert table(at)["right?"].tolist() == ["✓"] * 4
    assert any("Trained 500 epochs" in caption.value for caption in at.caption)


def test_one_epoch_then_reset_and_a_changed_network():
    at = open_page()
    job = at.session_state["xor_job"]
    at.button(key="xor_step").click().run()
    run_until_idle(at)
    assert job.snapshot().epoch == 1
    at.button(key="xor_reset").click().run()
    run_until_idle(at)
    assert job.snapshot().epoch == 0
    at.slider(key="xor_hidden_layers").set_value(0).run()
    run_until_idle(at)
    assert job.spec.architecture() == "2-1"
    assert at.select_slider(key="xor_units").disabled
    at.radio(key="xor_data").set_value("cloud").run()
    run_until_idle(at)
    assert at.slider(key="xor_noise").value == 0.15
    assert job.snapshot().data.has_test
