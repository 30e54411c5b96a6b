"""Replay: a run's epochs under a slider, from its stored frames (core/runs/replay_store.py).

`replay_panel(run_id, key=...)` draws the panel in a fragment of its own, so moving the slider
redraws only the panel: the first layer's weight templates (or a convnet's first filters), the
confusion matrix on the held-out test digits, and the network diagram's weights, each as they
were at the end of the epoch chosen (epoch 0: the starting weights). While the run trains
(`live`), the fragment polls the store and the slider gains each new epoch; a slider left at
the newest epoch follows it. The Train page draws it under the live curves, Evaluate in its
Replay tab.

Each step of the slider redraws three views: the templates as one PNG under a bold title, the
matrix as an HTML grid (both core/charts/replay.py), and the diagram as a plotly figure; the
browser decodes a picture and lays out a grid far sooner than it draws a chart anew.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from app_pages import state
from app_pages.run_store import get_store
from core.charts.diagram import diagram_figure
from core.charts.replay import confusion_html, templates_png
from core.runs.records import RunStoreError
from core.runs.replay_store import ReplayStore
from core.training.replay import DIGITS_PER_CLASS

POLL_SECONDS = 2.0  # while the run trains: how often the panel looks for a new epoch
TEMPLATE_COLUMNS = 6
UNIT_WORDS = "Each tile is one unit's weight on every pixel: blue wants ink there, red none."
FILTER_WORDS = (
    "Each tile is one filter: it slides over the digit, lighting up where the ink looks like it."
)
MIN_REM = 22  # the templates and the matrix go side by side where each has this much room
TEMPLATES_PX = 420  # the templates' mosaic at most this wide (178 weights across for 6 tiles)


def replay_panel(run_id: str | None, *, key: str, live: bool = False) -> None:
    """The replay of run `run_id` (nothing for None); `key` is the page's name, `live` says
    the run is training (the panel then polls for new epochs)."""
    if run_id is None:
        return
    # The templates and the matrix side by side where both have room, else one under the
    # other (a row that wraps). Outside the fragment: a style drawn in one is not applied.
    st.html(
        f"<style>.st-key-{key}_replay_row > div {{ flex: 1 1 {MIN_REM}rem; "
        f"min-width: min(100%, {MIN_REM}rem); }} .st-key-{key}_replay_templates img "
        "{ image-rendering: pixelated; }</style>"
    )
    st.fragment(run_every=POLL_SECONDS if live else None)(_panel)(run_id, key, live)


def _panel(run_id: str, key: str, live: bool) -> None:
    try:
        replays = ReplayStore(get_store())
        epochs = replays.epochs(run_id)
    except RunStoreError as error:
        st.warning(f"The replay cannot be read: {error}", icon=":material/warning:")
        return
    if not epochs:
        if live:
            st.caption(":material/replay: The replay appears here as soon as training starts.")
        else:
            st.info(
                "This run has no replay: runs trained before replays were recorded, imported "
                "models and experiments' runs have none. Train it again on Train to get one.",
                icon=":material/info:",
            )
        return
    epoch = _epoch_slider(run_id, key, epochs, live)
    views = frame_views(run_id, epoch)
    if views is None:  # deleted meanwhile
        st.info("This run was deleted.", icon=":material/info:")
        return
    _draw(views, key, live, epochs[-1])
    _prepare_neighbours(run_id, epoch, epochs)


def _prepare_neighbours(run_id: str, epoch: int, epochs: list[int]) -> None:
    """Make the views of the epochs on either side of `epoch` (once, kept by `frame_views`),
    after the panel is drawn: the slider's next step, by arrow key or a short drag, then
    only fetches them."""
    at = epochs.index(epoch)
    for neighbour in epochs[max(0, at - 1) : at + 2]:
        frame_views(run_id, neighbour)


def _epoch_slider(run_id: str, key: str, epochs: list[int], live: bool) -> int:
    """The slider over the run's epochs, on the newest at first; while the run trains it
    follows each new epoch until the learner moves it (back to the newest: it follows again).

    The page never sets the slider's value itself (a value set by the script while the
    browser polls can lose the race with the value the browser sends back): a slider that
    follows a training run has a key of its newest epoch, so each new epoch makes a new
    slider on it; otherwise the slider keeps one key for the run.
    """
    newest, moved_key = epochs[-1], f"{key}_replay_moved"
    moved = state.get(moved_key)  # (run id, epoch) where the learner left the slider
    left_at = moved[1] if moved is not None and moved[0] == run_id and moved[1] in epochs else None
    following = live and left_at is None
    slider = f"{key}_replay_epoch_{run_id}" + (f"_{newest}" if following else "")
    return st.select_slider(
        "Epoch",
        options=epochs,
        value=newest if left_at is None else left_at,
        format_func=lambda e: "start" if e == 0 else str(e),
        key=slider,
        on_change=_moved,
        args=(run_id, slider, moved_key, newest),
        help="Drag to see the network as it was at the end of each epoch; 'start' is its "
        "random starting weights.",
    )


def _moved(run_id: str, slider: str, moved_key: str, newest: int) -> None:
    chosen = state.get(slider)
    state.set(moved_key, None if chosen == newest else (run_id, chosen))


@dataclass(frozen=True)
class FrameViews:
    """One frame's views and captions, as the panel draws them."""

    at: str  # "the start", "epoch 3"
    templates_title: str | None  # None: no first layer that reads the pixels
    templates_image: str | None  # the mosaic as a data: URL of a PNG (core.charts.replay)
    templates_words: str
    confusion: str  # HTML (core.charts.replay.confusion_html)
    digits: int
    diagram: go.Figure
    note: str


# A frame never changes once stored: its views are made once, whoever looks (about 70 kB each:
# the templates' PNG as a data: URL, the matrix's HTML and the diagram's figure).
@st.cache_resource(max_entries=64, show_spinner=False)
def frame_views(run_id: str, epoch: int) -> FrameViews | None:
    """Run `run_id`'s frame of `epoch` as the panel's views, or None if it is gone."""
    frame = ReplayStore(get_store()).frame(run_id, epoch)
    if frame is None:
        return None
    at = "the start" if frame.epoch == 0 else f"epoch {frame.epoch}"
    confusion = confusion_html(frame.confusion, f"Confusion at {at}: {frame.accuracy:.1%} right")
    diagram = diagram_figure(frame.diagram, height=300)
    diagram.update_layout(
        title={"text": f"Weights at {at}", "x": 0.5}, margin={"l": 10, "r": 10, "t": 35, "b": 5}
    )
    title, image = None, None
    words = "This network has no first layer that reads the pixels directly."
    if frame.templates is not None:
        filters = frame.kind == "filters"
        what = "first convolution's filters" if filters else "first layer's units"
        title = f"The {what} at {at}"
        png = templates_png(frame.templates, TEMPLATE_COLUMNS)
        image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        words = (
            FILTER_WORDS if filters else UNIT_WORDS
        ) + " Random noise at the start; strokes once it has learned."
    return FrameViews(at, title, image, words, confusion, frame.digits, diagram, frame.diagram.note)


def _draw(views: FrameViews, key: str, live: bool, newest: int) -> None:
    so_far = (
        f"{newest} epochs so far (training: new epochs join the slider)"
        if live
        else f"{newest} epochs"
    )
    st.caption(f"The network at {views.at}, of {so_far}.")
    with st.container(horizontal=True, gap="medium", key=f"{key}_replay_row"):
        with st.container(key=f"{key}_replay_templates"):
            if views.templates_image is not None:
                st.markdown(f"**{views.templates_title}**")
                st.image(views.templates_image, width=TEMPLATES_PX)
            st.caption(views.templates_words)
        with st.container():
            st.html(views.confusion)
            st.caption(
                f"On {views.digits:,} held-out test digits (the first {DIGITS_PER_CLASS} of "
                "each in the test set, never trained on): rows are the true digit, columns "
                "what the network said."
            )
    st.plotly_chart(views.diagram, key=f"{key}_replay_diagram", width="stretch")
    st.caption(views.note)
