"""app_pages/selection: reading back what a click on a chart selected."""

from __future__ import annotations

import json

import numpy as np

from app_pages.selection import selected_cell, selected_image
from core.charts.images import digit_grid_figure
from core.charts.metrics import confusion_matrix_figure


def test_selection_helpers_read_what_the_figures_carry():
    cell = {"points": [{"curve_number": 1, "x": "9", "y": "4", "customdata": [4, 9, 12, 1.2]}]}
    assert selected_cell(cell) == (4, 9)
    assert selected_image({"points": [{"customdata": 1234}]}) == 1234
    assert selected_image({"points": [{"customdata": [77]}]}) == 77
    # A numpy customdata row reaches plotly.js as a typed array and comes back as a dict.
    assert selected_cell({"points": [{"customdata": {"0": 2, "1": 7, "2": 5, "3": 0.5}}]}) == (2, 7)

    class Event:  # what st.plotly_chart returns: an object with a .selection
        selection = cell

    assert selected_cell(Event()) == (4, 9)
    assert selected_cell({"points": []}) is None
    assert selected_image(None) is None


def test_a_click_reads_back_what_the_figure_carries():
    """Round trip: the customdata a figure sends (as JSON) is what the helpers read."""
    cm = np.arange(100).reshape(10, 10)
    cells = json.loads(confusion_matrix_figure(cm).to_json())["data"][1]["customdata"]
    assert selected_cell({"points": [{"customdata": cells[37]}]}) == (3, 7)
    gallery = digit_grid_figure(np.zeros((3, 28, 28)), None, customdata=np.array([70, 80, 90]))
    tiles = json.loads(gallery.to_json())["data"][1]["customdata"]
    assert selected_image({"points": [{"customdata": tiles[2]}]}) == 90
