"""Keeping a drawn digit on Draw, then relabelling and deleting it on My digits, through
AppTest (the canvas replaced by one holding a drawn 7, as in test_draw.py)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

from core.mydigits.store import MyDigitsStore
from core.runs.store import RunStore, default_home
from tests.support.drawings import draw_digit
from tests.support.pages import open_page
from tests.support.runs import model_bytes, tiny_model

DRAW = "app_pages/draw.py"
MY_DIGITS = "app_pages/my_digits.py"


@pytest.fixture
def drawing_page(small_mnist, tmp_path, monkeypatch):
    """Draw with a stored network and a canvas that holds a drawn 7 while its key is the one
    given first (a kept digit gives the canvas a new key: a blank one)."""
    RunStore().import_model(model_bytes(tiny_model(), tmp_path, "m.keras"), "m.keras", "m")
    canvas, _ = draw_digit(
        7, "plain", pen=18, height=200, rng=np.random.default_rng(0), background="black"
    )
    at = open_page(DRAW)
    monkeypatch.setattr(
        sys.modules["streamlit_drawable_canvas"],
        "st_canvas",
        lambda key, **_: SimpleNamespace(image_data=canvas if key == "draw_canvas_0" else None),
    )
    at.run()
    assert not at.exception, at.exception
    return at, canvas


def test_keep_stores_the_digit_the_network_saw_with_the_chosen_label(drawing_page):
    at, canvas = drawing_page
    predicted = int(at.metric[0].value)
    label = at.selectbox(key=f"draw_keep_label_0_{predicted}")
    assert label.value == predicted  # the prediction, unless the learner says otherwise
    label.set_value(3).run()
    at.button(key="draw_keep").click().run()
    assert not at.exception, at.exception
    [digit] = MyDigitsStore(default_home()).digits()
    assert digit.label == 3
    assert digit.image.shape == (28, 28) and digit.image.any()
    assert np.array_equal(MyDigitsStore(default_home()).canvas(digit.id), canvas)
    assert any("Kept as a 3: 1 in My digits" in s.value for s in at.success)
    assert not at.metric  # the canvas is blank again, ready for the next digit
    assert any("Draw a digit on the black square" in i.value for i in at.info)


def test_the_gallery_relabels_and_deletes_a_kept_digit(small_mnist):
    store = MyDigitsStore(default_home())
    image = np.zeros((28, 28), np.float32)
    image[8:20, 12:16] = 1.0
    first = store.keep(image, 1, created=1.0)
    second = store.keep(image * 0.5, 4, created=2.0)
    at = open_page(MY_DIGITS)
    deletes = [b.key for b in at.button if b.key.startswith("mydigits_delete_")]
    assert deletes == [f"mydigits_delete_{second}", f"mydigits_delete_{first}"]  # newest first
    at.selectbox(key=f"mydigits_label_{first}").set_value(7).run()
    assert not at.exception, at.exception
    assert {d.id: d.label for d in store.digits()} == {first: 7, second: 4}
    assert any("Relabelled as a 7" in s.value for s in at.success)
    at.button(key=f"mydigits_delete_{second}").click().run()
    assert not at.exception, at.exception
    assert [d.id for d in store.digits()] == [first]
    assert at.selectbox(key=f"mydigits_label_{first}").value == 7


def test_an_empty_set_points_at_draw(small_mnist):
    at = open_page(MY_DIGITS)
    assert any("No digits kept yet" in i.value for i in at.info)
