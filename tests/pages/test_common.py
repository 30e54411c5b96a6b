"""What every page shares (app_pages/common.py): errors shown as page errors, never tracebacks;
names shown as typed; the private Streamlit hooks the app relies on still there."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from app_pages import common
from tests.conftest import REPO
from tests.support.pages import open_page

TRICKY = "**bold** [link](http://example.com) :material/home: $x^2$ # not a heading"


def rendered(markdown: str) -> str:
    """HTML of `markdown` by a CommonMark renderer (Streamlit's is CommonMark too)."""
    return MarkdownIt("commonmark").render(markdown)


def test_plain_text_renders_as_typed():
    html = rendered(common.plain(TRICKY))
    assert "<strong>" not in html and "<a " not in html and "<h1>" not in html
    assert "**bold** [link](http://example.com)" in html.replace("\u200b", "")
    assert rendered(common.plain("a_b_c *d*")) == "<p>a_b_c *d*</p>\n"


@pytest.mark.parametrize("text", ["http://example.com", "see www.example.com", "me@example.com"])
def test_plain_text_gives_no_bare_address_to_autolink(text):
    """GitHub-flavoured markdown links bare addresses even when their punctuation is escaped."""
    html = rendered(common.plain(text))
    assert not re.search(r"https?://\w|www\.\w|\w@\w", html), html
    assert html.replace("\u200b", "") == f"<p>{text}</p>\n"


def test_streamlits_keras_cleanup_hook_is_still_there_to_switch_off():
    """If an upgrade renames it, Streamlit clears Keras's session after every page run (the
    live curves rerun twice a second), stalling training; keep_keras_state must notice."""
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner._clean_problem_modules
    try:
        assert common.keep_keras_state() is True
        assert script_runner._clean_problem_modules is not original
    finally:
        script_runner._clean_problem_modules = original


def test_a_missing_hook_is_said_in_the_log(monkeypatch, caplog):
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    assert common.keep_keras_state() is False
    assert "_clean_problem_modules" in caplog.text


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


def test_a_page_opened_on_its_own_has_every_session_default(small_mnist):
    """Pages call init_session themselves, so opening one without app.py (as a test, or a
    deep link before app.py ran) finds every value it reads."""
    at = AppTest.from_file(str(REPO / "app_pages" / "draw.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for key, value in common.SESSION_DEFAULTS.items():
        assert at.session_state[key] == value, key


def test_the_server_listens_on_this_computer_only_and_takes_the_apps_upload_size():
    import tomllib

    from core.nets.model_files import MAX_IMPORT_MEGABYTES

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["server"]["maxUploadSize"] == MAX_IMPORT_MEGABYTES
