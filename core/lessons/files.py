"""The lessons folder read and checked: each lesson a Markdown file and a TOML file beside it.

`lessons/03-hidden-layers.md` holds the lesson's words; `lessons/03-hidden-layers.toml` its
title, what to watch, its set-up (a page and that page's share-link settings), its check and
its question. Lessons come in file-name order. A file that cannot be used gives a `Problem`
naming the file and line and saying what to fix; the other lessons load all the same.

    title = "One hidden layer, then two"
    watch = "The validation accuracy after each epoch."
    [setup]
    page = "train"                       # or "xor"; the rest: the page's link settings
    layers = "dense-512-relu"
    [[check]]
    name = "network with one hidden layer"
    runs = { hidden_layers = 1, convolutional = false }
    figure = "test_accuracy"
    at_least = 0.97
    hint = "Train the lesson's network for its 5 epochs."
    [question]
    ask = "..."
    answer = "..."
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lessons.checks import Check, Compare, Part
from core.lessons.setup import ExperimentPlan, Setup, SetupError, read_experiment, read_setup
from core.lessons.terms import FIGURES, NOTES, TRAITS
from core.lessons.words import LESSONS_FOLDER

TOP_KEYS = {"title", "watch", "setup", "experiment", "check", "compare", "question"}
PART_KEYS = {"name", "runs", "figure", "at_least", "at_most", "hint", "seeds", "tell"}
COMPARE_KEYS = {"better", "than", "by_at_least", "must_hold", "hint"}
MAX_SEEDS = 10


@dataclass(frozen=True)
class Lesson:
    slug: str  # the file name without its suffix: "03-hidden-layers"
    title: str
    text: str  # Markdown
    watch: str
    setup: Setup
    check: Check
    question: str
    answer: str
    experiment: ExperimentPlan | None = None  # what Set it up writes into the Experiments form


@dataclass(frozen=True)
class Problem:
    """A lesson file that could not be used: where, and what to fix."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path.name}, line {self.line}" if self.line else self.path.name
        return f"{where}: {self.message}"


class LessonFileError(ValueError):
    """One thing wrong in a lesson file; `key` names where it is, to find its line."""

    def __init__(self, message: str, key: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.line = line
        self.table: tuple[str, int] | None = None  # ("check", 2): in the second [[check]]


def _opens(name: str) -> re.Pattern:
    return re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?")


def line_of(text: str, key: str | None, table: tuple[str, int] | None = None) -> int | None:
    """The first line that sets `key` (`key = ...`) or opens the table `[key]`/`[[key]]`; with
    `table` ("check", 2), the first such line from the second [[check]] on."""
    if key is None:
        return None
    lines = text.splitlines()
    start = 0
    if table is not None:
        opened = [i for i, line in enumerate(lines) if _opens(table[0]).match(line)]
        if len(opened) >= table[1]:
            start = opened[table[1] - 1]
    name = re.escape(key)
    pattern = re.compile(rf"^\s*(\[\[?\s*{name}\s*\]\]?|{name}\s*=)")
    for number, line in enumerate(lines[start:], start=start + 1):
        if pattern.match(line):
            return number
    return None


def _text(data: dict, key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LessonFileError(f'{where}{key} must be some words in quotes, as {key} = "..."', key)
    return value.strip()


def _number(data: dict, key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LessonFileError(f"{where}{key} is {value!r}; give a number such as 0.97", key)
    return float(value)


def _runs(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise LessonFileError(
            f"{where}runs must be a table, as runs = {{ hidden_layers = 1 }}", "runs"
        )
    for key, value in data.items():
        trait = key.removesuffix("_at_least").removesuffix("_at_most")
        if trait not in TRAITS:
            raise LessonFileError(
                f"{where}runs names {key!r}, which no run has; use one of {', '.join(TRAITS)} "
                "(numbers also with _at_least or _at_most)",
                "runs",
            )
        kind = TRAITS[trait][0]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise LessonFileError(
                f"{where}runs gives {key} = {value!r}; it takes a {kind.__name__} ({TRAITS[trait][1]})",
                "runs",
            )
        data[key] = value
    return data


def _part(data: Any, number: int) -> Part:
    where = f"check {number}'s "
    if not isinstance(data, dict):
        raise LessonFileError(f"check {number} must be a [[check]] table", "check")
    unknown = set(data) - PART_KEYS
    if unknown:
        raise LessonFileError(
            f"{where}keys {sorted(unknown)} are unknown; a check has {sorted(PART_KEYS)}",
            sorted(unknown)[0],
        )
    figure = data.get("figure")
    if figure not in FIGURES:
        raise LessonFileError(
            f"{where}figure {figure!r} is not one a check can read; use one of {', '.join(FIGURES)}",
            "figure",
        )
    seeds = data.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise LessonFileError(f"{where}seeds is {seeds!r}; give 1 to {MAX_SEEDS}", "seeds")
    tell = data.get("tell", [])
    if not isinstance(tell, list) or not set(tell) <= set(NOTES):
        raise LessonFileError(f"{where}tell must list some of {list(NOTES)}", "tell")
    return Part(
        name=_text(data, "name", where),
        runs=_runs(data.get("runs", {}), where),
        figure=figure,
        at_least=_number(data, "at_least", where),
        at_most=_number(data, "at_most", where),
        hint=_text(data, "hint", where),
        seeds=seeds,
        tell=tuple(tell),
    )


def _part_in(data: Any, number: int) -> Part:
    try:
        return _part(data, number)
    except LessonFileError as error:
        error.table = ("check", number)
        raise


def _compare(data: Any, parts: tuple[Part, ...]) -> Compare | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - COMPARE_KEYS:
        raise LessonFileError(f"[compare] takes only {sorted(COMPARE_KEYS)}", "compare")
    by_name = {part.name: part for part in parts}
    better, than = _text(data, "better", "[compare] "), _text(data, "than", "[compare] ")
    for name, key in ((better, "better"), (than, "than")):
        if name not in by_name:
            raise LessonFileError(
                f"[compare] {key} = {name!r} names no check; use a check's name: {sorted(by_name)}",
                key,
            )
    if by_name[better].figure != by_name[than].figure:
        raise LessonFileError("[compare] needs two checks of the same figure", "compare")
    must_hold = data.get("must_hold", True)
    if not isinstance(must_hold, bool):
        raise LessonFileError("[compare] must_hold is true or false", "must_hold")
    return Compare(
        better,
        than,
        by_name[better].figure,
        _number(data, "by_at_least", "[compare] ") or 0.0,
        must_hold,
        data.get("hint", "") if isinstance(data.get("hint", ""), str) else "",
    )


def _lesson(slug: str, data: dict, words: str) -> Lesson:
    unknown = set(data) - TOP_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise LessonFileError(f"{first!r} is not a lesson key; use {sorted(TOP_KEYS)}", first)
    setup = data.get("setup")
    if not isinstance(setup, dict):
        raise LessonFileError(
            'a lesson needs a [setup] table with page = "train" or "xor"', "setup"
        )
    try:
        read = read_setup(setup)
    except SetupError as error:
        problem = LessonFileError(f"[setup]: {error}", error.key or "setup")
        problem.table = ("setup", 1)
        raise problem from None
    checks = data.get("check")
    if not isinstance(checks, list) or not checks:
        raise LessonFileError("a lesson needs at least one [[check]] table", "check")
    parts = tuple(_part_in(part, i) for i, part in enumerate(checks, start=1))
    if len({part.name for part in parts}) < len(parts):
        raise LessonFileError("two checks have the same name; give each its own", "name")
    question = data.get("question")
    if not isinstance(question, dict):
        raise LessonFileError(
            'a lesson needs a [question] with ask = "..." and answer = "..."', "question"
        )
    return Lesson(
        slug=slug,
        title=_text(data, "title"),
        text=words,
        watch=_text(data, "watch"),
        setup=read,
        check=Check(parts, _compare(data.get("compare"), parts)),
        question=_text(question, "ask", "[question] "),
        answer=_text(question, "answer", "[question] "),
        experiment=_experiment(data.get("experiment")),
    )


def _experiment(table) -> ExperimentPlan | None:
    if table is None:
        return None
    try:
        return read_experiment(table)
    except SetupError as error:
        problem = LessonFileError(f"[experiment]: {error}", error.key or "experiment")
        problem.table = ("experiment", 1)
        raise problem from None


def load_lesson(path: Path) -> Lesson:
    """The lesson of `path` (its .toml; the .md beside it); raises a `LessonFileError`."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise LessonFileError(
            f"it is not valid TOML ({message})", line=int(found.group(1)) if found else None
        ) from None
    words_path = path.with_suffix(".md")
    if not words_path.is_file():
        raise LessonFileError(
            f"its words are missing: put them in {words_path.name} beside it", line=1
        )
    words = words_path.read_text(encoding="utf-8").strip()
    if not words:
        raise LessonFileError(f"{words_path.name} is empty; write the lesson's words in it", line=1)
    try:
        return _lesson(path.stem, data, words)
    except LessonFileError as error:
        error.line = error.line or line_of(text, error.key, error.table)
        raise


def load_lessons(folder: Path = LESSONS_FOLDER) -> tuple[list[Lesson], list[Problem]]:
    """Every lesson of `folder` that can be used, in file-name order, and the problems of the
    rest (a file that cannot be read at all counts as one)."""
    lessons: list[Lesson] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            lessons.append(load_lesson(path))
        except LessonFileError as error:
            problems.append(Problem(path, error.line, str(error)))
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(path, None, f"it cannot be read ({error})"))
    for path in sorted(folder.glob("*.md")):
        if path.name != "README.md" and not path.with_suffix(".toml").exists():
            problems.append(
                Problem(path, None, f"it has no {path.stem}.toml beside it, so no set-up or check")
            )
    return lessons, problems
