"""What a click on a chart selected, read from `st.plotly_chart(..., on_select="rerun")`'s event.

The clickable figures (core/metric_charts.confusion_matrix_figure, core/image_charts galleries)
carry an invisible marker per cell or tile whose `customdata` says what it is; these read it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


def _values(customdata: Any) -> list[Any]:
    """A point's customdata as a list: a value, a list, or the {"0": ..} of a typed array."""
    if isinstance(customdata, dict):
        return [customdata[key] for key in sorted(customdata, key=int)]
    if isinstance(customdata, list | tuple):
        return list(customdata)
    return [customdata]


def _first_point(selection: Any) -> dict[str, Any] | None:
    if selection is None:
        return None
    points = selection.get("points") if hasattr(selection, "get") else None
    if points is None and hasattr(selection, "selection"):  # the whole event was passed
        return _first_point(selection.selection)
    for point in points or []:
        if point.get("customdata") is not None:
            return point
    return None


def selected_cell(selection: Any) -> tuple[int, int] | None:
    """(true, predicted) of the clicked confusion-matrix cell, from st.plotly_chart's
    selection (or the whole event); None if nothing is selected."""
    point = _first_point(selection)
    if point is None:
        return None
    data = _values(point["customdata"])
    return int(data[0]), int(data[1])


def selected_image(selection: Any) -> int | None:
    """The customdata (for galleries, the test-set index) of the clicked tile, or None."""
    point = _first_point(selection)
    if point is None:
        return None
    return int(_values(point["customdata"])[0])


def clickable_chart(figure: Any, key: str, read: Callable[[Any], Any]) -> Any:
    """Draw `figure` so that a click reruns the page; returns what the click selected, as
    `read` (`selected_cell` or `selected_image`) finds it, or None."""
    event = st.plotly_chart(
        figure, on_select="rerun", selection_mode="points", key=key, width="stretch"
    )
    return read(event.selection) if event else None
