"""The replay panel through AppTest: on made-up frames in the store (no training), and on the
Train and Evaluate pages with a run trained and recorded."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.runs.replay_store import ReplayStore
from core.runs.store import RunStore
from core.training.registry import JOBS
from tests.charts.test_replay import Cells, colour, pixels, tile
from tests.runs.test_replay_store import made_up_frame
from tests.support.pages import decoded, open_page, run_until, set_small_network, train_stored_run


def panel_script(run_id: str, key: str, live: bool) -> None:
    from app_pages.replay_views import replay_panel

    replay_panel(run_id, key=key, live=live)


def panel(run_id: str, key: str = "evaluate", live: bool = False) -> AppTest:
    at = AppTest.from_function(panel_script, args=(run_id, key, live), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at) -> dict[str, dict]:
    """The panel's figures by the start of their title."""
    figures = [decoded(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]
    titled = [(f["layout"].get("title", {}).get("text", ""), f) for f in figures]
    return {title.split(" at ")[0]: f for title, f in titled if " at " in title}


def epoch_slider(at):
    """The panel's slider (its key names the run, and while it follows a run, its newest epoch)."""
    (slider,) = [s for s in at.select_slider if s.label == "Epoch"]
    return slider


def templates_view(at) -> tuple[str, np.ndarray]:
    """The templates' title (bold, over the image) and the image's RGB pixels."""
    (title,) = [m.value.strip("*") for m in at.markdown if m.value.startswith("**The first ")]
    ((url,),) = [image.value for image in at.get("image")]
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix), url[:40]
    return title, pixels(base64.b64decode(url[len(prefix) :]))


def confusion(at) -> Cells:
    """The confusion matrix's grid (HTML)."""
    (grid,) = [Cells(h.value) for h in at.get("html") if "replay-confusion" in h.value]
    return grid


def titles(at) -> list[str]:
    """The three views' titles: the diagram's, the confusion matrix's and the templates'."""
    figures = [f["layout"]["title"]["text"] for f in charts(at).values()]
    return sorted([*figures, *confusion(at).titles, templates_view(at)[0]])


def shows_templates(at, templates) -> None:
    """The templates image shows `templates` (k, 28, 28): each tile's most positive and most
    negative weight in the scale's two ends, on a tile of its own scale, in rows of six."""
    _, image = templates_view(at)
    for index in (0, 7, len(templates) - 1):
        weights = templates[index].astype(np.float64)
        got = tile(image, index, 6)
        for where in (weights.argmax(), weights.argmin()):
            y, x = np.unravel_index(where, weights.shape)
            share = (weights[y, x] / np.abs(weights).max() + 1) / 2
            np.testing.assert_allclose(got[y, x], colour(share), atol=6)


@pytest.fixture
def recorded():
    """A run with frames of epochs 0 to 3 (made up), and the store."""
    store = RunStore()
    run_id = store.create_run(made_up_spec(), "test digits")
    replays = ReplayStore(store)
    for epoch in range(4):
        replays.add(run_id, made_up_frame(epoch))
    return store, run_id


def made_up_spec():
    from tests.support.specs import small_spec

    return small_spec(units=12)


def test_the_panel_opens_on_the_newest_epoch_and_the_slider_goes_back_to_the_start(recorded):
    _, run_id = recorded
    at = panel(run_id)
    slider = epoch_slider(at)
    assert slider.options == ["start", "1", "2", "3"] and slider.value == 3
    assert titles(at) == [
        "Confusion at epoch 3: " + f"{np.trace(made_up_frame(3).confusion) / 1000:.1%} right",
        "The first layer's units at epoch 3",
        "Weights at epoch 3",
    ]
    np.testing.assert_array_equal(confusion(at).counts(), made_up_frame(3).confusion)
    shows_templates(at, made_up_frame(3).templates)
    assert any("On 1,000 held-out test digits" in c.value for c in at.caption)

    slider.set_value(0).run()
    assert not at.exception, at.exception
    assert "The first layer's units at the start" in titles(at)
    np.testing.assert_array_equal(confusion(at).counts(), made_up_frame(0).confusion)
    shows_templates(at, made_up_frame(0).templates)


def test_a_live_panel_follows_new_epochs_unless_moved_back(recorded):
    store, run_id = recorded
    at = panel(run_id, key="train", live=True)
    assert epoch_slider(at).value == 3
    ReplayStore(store).add(run_id, made_up_frame(4))
    at.run()
    assert epoch_slider(at).value == 4  # it was at the newest
    assert any("new epochs join the slider" in c.value for c in at.caption)

    epoch_slider(at).set_value(1).run()
    ReplayStore(store).add(run_id, made_up_frame(5))
    at.run()
    slider = epoch_slider(at)
    assert slider.value == 1 and slider.options[-1] == "5"  # left where the learner put it
    assert "Weights at epoch 1" in titles(at)


def test_a_run_without_frames_says_why():
    store = RunStore()
    run_id = store.create_run(made_up_spec(), "test digits")
    at = panel(run_id)
    assert "has no replay" in at.info[0].value and not at.get("plotly_chart")
    at = panel(run_id, key="train", live=True)
    assert "as soon as training starts" in at.caption[0].value


def test_a_run_deleted_meanwhile_leaves_the_panel_empty(recorded):
    store, run_id = recorded
    at = panel(run_id)
    store.finish_run(run_id, "completed", "Trained.")
    store.delete(run_id)
    at.run()
    assert not at.exception and "has no replay" in at.info[0].value


def test_evaluate_replays_a_recorded_run(small_mnist):
    run_id, _ = train_stored_run(small_mnist, epochs=2)
    at = open_page("app_pages/evaluate.py")
    at.session_state["evaluate_tab"] = "Replay"
    at.run()
    assert not at.exception, at.exception
    slider = epoch_slider(at)
    assert slider.options == ["start", "1", "2"] and slider.value == 2
    frame = ReplayStore(RunStore()).frame(run_id, 2)
    np.testing.assert_array_equal(confusion(at).counts(), frame.confusion)
    shows_templates(at, frame.templates)


def test_train_shows_the_replay_under_the_curves(small_mnist):
    at = open_page("app_pages/train.py")
    set_small_network(at, epochs=2)
    at.button(key="train_start_button").click().run()
    assert JOBS.get(at.session_state["train_run_id"]).join(timeout=120)
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    slider = epoch_slider(at)
    assert slider.options == ["start", "1", "2"] and slider.value == 2
    assert "Weights at epoch 2" in titles(at)


def test_a_live_slider_moved_back_to_the_newest_follows_again(recorded):
    store, run_id = recorded
    at = panel(run_id, key="train", live=True)
    epoch_slider(at).set_value(1).run()
    epoch_slider(at).set_value(3).run()  # the newest again
    ReplayStore(store).add(run_id, made_up_frame(4))
    at.run()
    assert epoch_slider(at).value == 4
