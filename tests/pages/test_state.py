"""Session state has one owner (app_pages/state.py)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app_pages import state
from tests.conftest import REPO


def test_a_page_opened_on_its_own_has_every_session_default(small_mnist):
    """Pages call init_session themselves, so opening one without app.py (as a test, or a
    deep link before app.py ran) finds every value it reads."""
    at = AppTest.from_file(str(REPO / "app_pages" / "draw.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for key, value in state.SESSION_DEFAULTS.items():
        assert at.session_state[key] == value, key
