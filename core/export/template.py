"""Filling a script template: `$name` placeholders, and whole parts that may be left out.

The exporters write each script out as one template, so a reader sees the script's shape, and
fill it with `fill(template, name=text, ...)`:

- `$name` inside a line is replaced by its text (`string.Template`'s rules);
- `$name` alone on a line is a part of the script: each of its lines is indented as the
  placeholder is, and an empty part takes its line away, leaving no blank line behind.
"""

from __future__ import annotations

import re
from string import Template

_PART = re.compile(r"( *)\$(\w+)")


def fill(template: str, **parts: str) -> str:
    """`template` with every placeholder replaced by its part (a `KeyError` names a missing one)."""
    lines: list[str] = []
    for line in template.split("\n"):
        alone = _PART.fullmatch(line)
        if alone:
            indent, part = alone[1], parts[alone[2]]
            lines += [indent + row if row else row for row in part.split("\n")] if part else []
        else:
            lines.append(Template(line).substitute(parts))
    return "\n".join(lines)
