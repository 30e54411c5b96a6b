"""Names and other typed words shown as typed (app_pages/text.py)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from app_pages.text import plain

TRICKY = "**bold** [link](http://example.com) :material/home: $x^2$ # not a heading"


def rendered(markdown: str) -> str:
    """HTML of `markdown` by a CommonMark renderer (Streamlit's is CommonMark too)."""
    return MarkdownIt("commonmark").render(markdown)


def test_plain_text_renders_as_typed():
    html = rendered(plain(TRICKY))
    assert "<strong>" not in html and "<a " not in html and "<h1>" not in html
    assert "**bold** [link](http://example.com)" in html.replace("\u200b", "")
    assert rendered(plain("a_b_c *d*")) == "<p>a_b_c *d*</p>\n"


@pytest.mark.parametrize("text", ["http://example.com", "see www.example.com", "me@example.com"])
def test_plain_text_gives_no_bare_address_to_autolink(text):
    """GitHub-flavoured markdown links bare addresses even when their punctuation is escaped."""
    html = rendered(plain(text))
    assert not re.search(r"https?://\w|www\.\w|\w@\w", html), html
    assert html.replace("\u200b", "") == f"<p>{text}</p>\n"
