"""My digits as the pages use them: the store opened once per server, beside the run store."""

from __future__ import annotations

import streamlit as st

from app_pages.text import plain
from core.mydigits.records import MyDigitsError
from core.mydigits.store import MyDigitsStore
from core.runs.store import default_home


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(home: str) -> MyDigitsStore:
    return MyDigitsStore(home)


def my_digits_or_none() -> MyDigitsStore | None:
    """The My digits store in the run store's folder, or None after showing why it cannot be
    opened (its file is left as it is)."""
    try:
        return _open(str(default_home()))
    except MyDigitsError as error:
        st.error(f"**My digits cannot be opened.** {plain(error)}", icon=":material/error:")
        return None
