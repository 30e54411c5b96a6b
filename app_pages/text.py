"""Text as the pages show it: words a person typed shown as typed, durations in words."""

from __future__ import annotations

import re

MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$&])")
# GitHub-flavoured markdown (Streamlit's) turns bare addresses into links even when escaped;
# an invisible zero-width space after "://", "www" and "@" stops it, the text reads the same.
AUTOLINKS = re.compile(r"(://|(?<![^\W_])www(?=\.)|@)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"


def plain(text: str) -> str:
    """`text` (a name or other words a person typed) escaped so that Streamlit's markdown
    shows it as typed: no bold, links, headings, emoji codes or formulas."""
    unlinked = AUTOLINKS.sub(lambda match: match.group(0) + ZERO_WIDTH_SPACE, str(text))
    return MARKDOWN_SPECIALS.sub(r"\\\1", unlinked)


def format_seconds(seconds: float | None) -> str:
    """Seconds as "42 s" or "3 min 07 s"; "…" while not known yet."""
    if seconds is None:
        return "…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"
