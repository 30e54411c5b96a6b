"""The values of a share link: written URL-safe, read back exactly, held to a page's limits.

Whatever a link holds may come back in a message, so every value it echoes is cut to a short,
marked excerpt (`excerpt`), and every number a message names is written as a person writes it
(`plain_number`: 2,147,483,647, 0.8, 0.00001), never as 2.14748e+09.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# The longest text a setting's value may be: a word (an optimizer, an activation) is far
# shorter than MAX_WORD_CHARACTERS; a number written in full takes up to MAX_NUMBER_CHARACTERS
# (the smallest float, 5e-324, takes 326 as "0.000...5").
MAX_WORD_CHARACTERS = 40
MAX_NUMBER_CHARACTERS = 400
EXCERPT_CHARACTERS = 24

# A field's limits beyond the spec's own: a (low, high) tuple, inclusive, or a list of the
# allowed values. Layer settings are named "Type.setting", e.g. "Dense.units".
Limits = Mapping[str, tuple[float, float] | list]


class LinkError(ValueError):
    """One value of a link cannot be read; the message says which and why."""


def excerpt(text: Any, limit: int = EXCERPT_CHARACTERS) -> str:
    """`text` quoted for a message: whole when short, else its start, "…" and its length."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def format_value(value: Any) -> str:
    """A plain value as URL-safe text that `parse_value` reads back exactly."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:  # 1e-05 would hold a "-", the separator of a layer's settings
            text = format(Decimal(text), "f")
        return text
    return str(value)


def plain_number(value: float) -> str:
    """A number as a person writes it: 2,147,483,647, 0.8, 0.00001; 1e+300 where that is
    far shorter than its digits."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        text = f"{value:,}"
    elif math.isfinite(value) and value == int(value):
        text = f"{int(value):,}"
    else:
        text = format_value(float(value))
    if len(text) <= EXCERPT_CHARACTERS:
        return text
    return format(Decimal(value), ".3g")  # Decimal: an int may be beyond any float


def parse_value(text: str, like: Any, name: str) -> Any:
    """`text` read as the type of `like` (bool, int, float or str)."""
    text = text.strip()
    longest = MAX_WORD_CHARACTERS if isinstance(like, str) else MAX_NUMBER_CHARACTERS
    if len(text) > longest:
        raise LinkError(f"{name} {excerpt(text)} is longer than any value it can take")
    if isinstance(like, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise LinkError(f"{name} {excerpt(text)} is not 1 or 0")
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            raise LinkError(f"{name} {excerpt(text)} is not a whole number") from None
    if isinstance(like, float):
        try:
            value = float(text)
        except ValueError:
            raise LinkError(f"{name} {excerpt(text)} is not a number") from None
        if not math.isfinite(value):
            raise LinkError(f"{name} {excerpt(text)} is not a finite number")
        return value
    return text


def shown(value: Any) -> str:
    """A read value as a message names it: a number written plainly, text as an excerpt."""
    if isinstance(value, int | float):
        return plain_number(value)
    return excerpt(value)


def is_range(allowed: Any) -> bool:
    return isinstance(allowed, tuple) and len(allowed) == 2 and not isinstance(allowed[0], str)


def check_limits(name: str, value: Any, limits: Limits | None, label: str | None = None) -> None:
    """LinkError if `limits` holds `name` and `value` is outside it."""
    if not limits or name not in limits:
        return
    allowed = limits[name]
    label = label or name
    if is_range(allowed):
        low, high = allowed
        if not low <= value <= high:
            raise LinkError(
                f"{label} {shown(value)} is out of range "
                f"({plain_number(low)} to {plain_number(high)})"
            )
    elif value not in allowed:
        choices = ", ".join(shown(choice) for choice in allowed)
        raise LinkError(f"{label} {shown(value)} is not one of the page's choices ({choices})")
