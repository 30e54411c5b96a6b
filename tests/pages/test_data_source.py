"""Data that cannot be read is a page error, never a traceback (app_pages/data_source.py)."""

from __future__ import annotations

import pytest

from tests.support.pages import open_page


@pytest.fixture
def unreadable_data(tmp_path, monkeypatch):
    """A data folder where the training images' IDX file is a folder."""
    (tmp_path / "train-images-idx3-ubyte.gz").mkdir()
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))


@pytest.mark.parametrize(
    "page",
    ["app_pages/home.py", "app_pages/train.py", "app_pages/evaluate.py", "app_pages/draw.py"],
)
def test_data_that_cannot_be_read_is_a_page_error(unreadable_data, page):
    at = open_page(page)  # fails on any exception
    assert any("could not be loaded" in error.value for error in at.error), page
