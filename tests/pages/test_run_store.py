"""A run store that cannot be used is a page error on every page that uses it, and is kept
(app_pages/run_store.py)."""

from __future__ import annotations

import pytest

from tests.support.pages import open_page

PAGES = [
    "app_pages/train.py",
    "app_pages/evaluate.py",
    "app_pages/draw.py",
    "app_pages/runs.py",
    "app_pages/experiments.py",
]
NOTES = b"these are my notes, not a database\n" * 100


@pytest.fixture
def broken_store(_playground_home, small_mnist):
    """A run store whose database file is not a database."""
    path = _playground_home / "runs.sqlite3"
    path.write_bytes(NOTES)
    return path


def store_errors(at) -> list[str]:
    assert not at.exception, at.exception
    return [error.value for error in at.error if "run store cannot be opened" in error.value]


@pytest.mark.parametrize("page", PAGES)
def test_a_store_that_is_not_a_database_is_a_page_error_and_is_kept(broken_store, page):
    at = open_page(page)
    assert store_errors(at), [error.value for error in at.error]
    assert "Move it aside" in store_errors(at)[0]
    assert broken_store.read_bytes() == NOTES


def test_a_folder_in_place_of_the_store_is_a_page_error_on_train(_playground_home, small_mnist):
    folder = _playground_home / "runs.sqlite3"
    folder.mkdir()
    (folder / "mine.txt").write_bytes(NOTES)
    assert store_errors(open_page("app_pages/train.py"))
    assert (folder / "mine.txt").read_bytes() == NOTES


@pytest.mark.parametrize("page", ["app_pages/train.py", "app_pages/runs.py"])
def test_a_store_damaged_while_the_app_runs_is_a_page_error_and_is_kept(
    _playground_home, small_mnist, page
):
    at = open_page(page)
    assert not store_errors(at)
    for name in ("runs.sqlite3-wal", "runs.sqlite3-shm"):
        (_playground_home / name).unlink(missing_ok=True)
    (_playground_home / "runs.sqlite3").write_bytes(NOTES)
    at.run()
    assert store_errors(at)
    assert (_playground_home / "runs.sqlite3").read_bytes() == NOTES
