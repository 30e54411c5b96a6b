"""A run store that cannot be opened is a page error, and is kept (app_pages/run_store.py)."""

from __future__ import annotations

import pytest

from tests.support.pages import open_page


@pytest.fixture
def broken_store(_playground_home, small_mnist):
    """A run store whose database file is not a database."""
    path = _playground_home / "runs.sqlite3"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    return path


@pytest.mark.parametrize(
    "page", ["app_pages/evaluate.py", "app_pages/draw.py", "app_pages/runs.py"]
)
def test_a_store_that_is_not_a_database_is_a_page_error_and_is_kept(broken_store, page):
    before = broken_store.read_bytes()
    at = open_page(page)
    assert any("run store cannot be opened" in error.value for error in at.error), [
        error.value for error in at.error
    ]
    assert broken_store.read_bytes() == before
