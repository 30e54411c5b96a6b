"""A lesson's words read plainly, before the lessons folder is checked: the Learn page shows them
first, while the loader (core/lessons/files.py, which imports the share-link reader and with it
NumPy) is still to be imported. Only the standard library here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

LESSONS_FOLDER = Path(__file__).resolve().parents[2] / "lessons"
WORD_KEYS = ("title", "watch")
QUESTION_KEYS = ("ask", "answer")


@dataclass(frozen=True)
class Words:
    """What a lesson says, unchecked: the page replaces it if the lesson turns out unusable."""

    slug: str
    number: int  # its place among the folder's lesson files, from 1
    title: str
    text: str
    watch: str
    question: str
    answer: str


def read_words(folder: Path, slug: str | None) -> Words | None:
    """The words of lesson `slug` (the first lesson file if there is no such lesson), or None
    if they cannot be read plainly; nothing here is checked beyond being words."""
    paths = sorted(folder.glob("*.toml"))
    stems = [path.stem for path in paths]
    if not paths:
        return None
    number = stems.index(slug) if slug in stems else 0
    path = paths[number]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        text = path.with_suffix(".md").read_text(encoding="utf-8").strip()
        question = data["question"]
        values = [data[key] for key in WORD_KEYS] + [question[key] for key in QUESTION_KEYS]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    if not text or not all(isinstance(value, str) for value in values):
        return None
    title, watch, ask, answer = (value.strip() for value in values)
    return Words(path.stem, number + 1, title, text, watch, ask, answer)
