"""What every chart of the app shares: the digit names, the colours and an empty figure.

Kept apart so that the metric charts (core/charts/metrics.py), the image mosaics
(core/charts/images.py) and the run comparisons (core/charts/runs.py) look alike.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from core.nets.model import NUM_CLASSES

DIGITS = [str(d) for d in range(NUM_CLASSES)]

BLUES = [
    "rgb(247,251,255)",
    "rgb(222,235,247)",
    "rgb(198,219,239)",
    "rgb(158,202,225)",
    "rgb(107,174,214)",
    "rgb(66,146,198)",
    "rgb(33,113,181)",
    "rgb(8,81,156)",
    "rgb(8,48,107)",
]
# Colour grows with the square root of the value, so a cell with 1 % of the diagonal's count
# is still visibly tinted: the mistakes stand out next to the large diagonal.
SQRT_BLUES = [[(i / (len(BLUES) - 1)) ** 2, colour] for i, colour in enumerate(BLUES)]
DIVERGING = "RdBu"
INK = "Greys"  # 0 = white paper, 255 = black ink

BAR_COLOUR = "#4C78A8"
OTHER_COLOUR = "#B8C4D6"
TRUE_COLOUR = "#2CA02C"
WRONG_COLOUR = "#D62728"
LINE_COLOUR = "#555555"
SELECTED_COLOUR = "#FF7F0E"


def empty_figure(message: str, height: int = 200, title: str | None = None) -> go.Figure:
    """A figure holding only `message`, centred, where a chart has nothing to draw."""
    figure = go.Figure()
    figure.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font_size=14
    )
    figure.update_layout(
        title={"text": title} if title else None,
        height=height,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
    )
    return figure


def figure_text(text: str) -> str:
    """Words a person typed (a run's name), safe in a figure's titles, legends and hover texts:
    plotly draws a subset of HTML there (<b>, <a href=...>), so "<" and "&" become entities."""
    return html.escape(str(text), quote=False)
