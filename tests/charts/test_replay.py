"""The replay's views: the templates mosaic as a PNG (each weight's colour, each tile's place,
counted against the templates themselves) and the confusion matrix as an HTML grid."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale, unlabel_rgb

from core.charts.images import GAP, TILE
from core.charts.replay import confusion_html, templates_png
from core.charts.style import DIVERGING, SQRT_BLUES


def pixels(png: bytes) -> np.ndarray:
    """The PNG's (h, w, 3) RGB pixels."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def colour(share: float) -> np.ndarray:
    """The diverging scale's colour at `share` (0: most negative, 1: most positive)."""
    (rgb,) = sample_colorscale(get_colorscale(DIVERGING), [share])
    return np.array(unlabel_rgb(rgb), dtype=float)


def tile(image: np.ndarray, index: int, columns: int) -> np.ndarray:
    row, column = divmod(index, columns)
    top, left = row * (GAP + TILE) + GAP, column * (TILE + GAP)
    return image[top : top + TILE, left : left + TILE]


def test_each_weight_is_coloured_by_its_share_of_its_tiles_largest():
    rng = np.random.default_rng(3)
    templates = rng.normal(0, 0.05, (7, 28, 28)).astype(np.float16)
    image = pixels(templates_png(templates, columns=3))
    assert image.shape == (3 * (GAP + TILE), 3 * TILE + 2 * GAP, 3)  # 3 rows of 3
    for index in (0, 4, 6):
        weights = templates[index].astype(np.float64)
        shares = (weights / np.abs(weights).max() + 1) / 2
        got = tile(image, index, 3).astype(float)
        for y, x in [
            (0, 0),
            (13, 17),
            (27, 5),
            *zip(
                *np.unravel_index([weights.argmax(), weights.argmin()], weights.shape), strict=True
            ),
        ]:
            # 255 levels: a weight's colour is within one level of its own.
            np.testing.assert_allclose(got[y, x], colour(shares[y, x]), atol=6)
        largest = np.unravel_index(np.abs(weights).argmax(), weights.shape)
        end = colour(1.0 if weights[largest] > 0 else 0.0)  # darkest blue, or darkest red
        assert np.array_equal(got[largest], end)
    blank = colour(0.5)  # a weight of 0, and the gaps and the empty slots
    assert (image[:GAP] == blank).all() and (image[:, TILE : TILE + GAP] == blank).all()
    assert (tile(image, 8, 3) == blank).all()  # 7 templates: the last slot is empty


def test_small_filters_are_blown_up_to_the_tile_in_blocks():
    filters = np.zeros((2, 3, 3), dtype=np.float32)
    filters[0, 0, 0], filters[0, 2, 2] = 1.0, -0.5  # top-left most positive, bottom-right negative
    filters[1, 1, 1] = -2.0
    image = pixels(templates_png(filters, columns=2))
    first = tile(image, 0, 2)
    # 3 x 3 blown up by 9 to 27 x 27, centred in 28: the top-left block starts at row/column 0.
    assert (first[0:9, 0:9] == colour(1.0)).all()
    np.testing.assert_allclose(
        first[18:27, 18:27], np.broadcast_to(colour(0.25), (9, 9, 3)), atol=6
    )
    assert (tile(image, 1, 2)[9:18, 9:18] == colour(0.0)).all()  # its own scale: darkest red


class Cells(HTMLParser):
    """The cells of `confusion_html`'s grid, row by row: (text, background, title)."""

    def __init__(self, page: str):
        super().__init__()
        self.cells: list[list[str]] = []
        self.titles: list[str] = []
        self._open = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "cell":
            style = dict(p.split(":", 1) for p in attrs["style"].split(";"))
            self.cells.append(["", style["background"], attrs["title"]])
            self._open = True
        elif tag == "div" and attrs.get("class") == "replay-title":
            self.titles.append("")

    def handle_endtag(self, tag):
        self._open = False

    def handle_data(self, data):
        if self._open:
            self.cells[-1][0] += data
        elif self.titles and self.titles[-1] == "":
            self.titles[-1] = data

    def counts(self) -> np.ndarray:
        """The counts written in the cells, 10 x 10 (a blank cell is 0)."""
        return np.array([int(text or 0) for text, _, _ in self.cells]).reshape(10, 10)


def test_the_confusion_grid_writes_each_count_in_its_cell_on_its_colour():
    cm = np.zeros((10, 10), dtype=int)
    np.fill_diagonal(cm, 30)
    cm[3, 5], cm[7, 1], cm[9, 9] = 2, 1, 45  # 45: the largest count
    page = confusion_html(cm, "Confusion at epoch 4: 95.0% right <b>")
    grid = Cells(page)
    assert grid.titles == ["Confusion at epoch 4: 95.0% right <b>"]  # escaped, shown as text
    assert len(grid.cells) == 100
    np.testing.assert_array_equal(grid.counts(), cm)
    by_place = {(i // 10, i % 10): cell for i, cell in enumerate(grid.cells)}
    assert by_place[(3, 5)][0] == "2" and by_place[(3, 4)][0] == ""  # 0: blank
    assert by_place[(3, 5)][2] == "true 3, said 5: 2"

    # The scale runs from 0 (its lightest blue) to the largest count (its darkest).
    def rgb(place):
        return unlabel_rgb(by_place[place][1])

    assert rgb((9, 9)) == unlabel_rgb(SQRT_BLUES[-1][1])
    assert rgb((0, 1)) == unlabel_rgb(SQRT_BLUES[0][1])
    (middle,) = sample_colorscale(SQRT_BLUES, [30 / 45])
    assert rgb((0, 0)) == unlabel_rgb(middle)


def test_a_confusion_matrix_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="10 x 10; got \\(3, 3\\)"):
        confusion_html(np.zeros((3, 3)), "Confusion")
