"""A lesson's check: which runs it reads, the figure each must reach, and what it then says.

A `Check` has one or more `Part`s. A part picks the learner's latest matching run (by the
traits of core/lessons/evidence.py) and asks that one figure reach a bound; with `seeds` > 1 it
takes the latest runs of that many different seeds and asks it of their mean. An optional
`Compare` asks one part's figure to beat another's. `evaluate` answers in sentences: what the
learner's own figures are, whether they reach the point, and the part's hint where not.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.lessons.terms import FIGURES

if TYPE_CHECKING:
    from core.lessons.evidence import Evidence


@dataclass(frozen=True)
class Part:
    """One run (or `seeds` runs) the lesson asks for, and the figure it must reach."""

    name: str  # "network with one hidden layer": read as "your latest network with ..."
    runs: dict[str, Any]  # trait -> value; "trait_at_least" / "trait_at_most" for bounds
    figure: str
    at_least: float | None = None
    at_most: float | None = None
    hint: str = ""
    seeds: int = 1
    tell: tuple[str, ...] = ()  # notes said when it is met (evidence.NOTES)


@dataclass(frozen=True)
class Compare:
    """`better`'s figure must beat `than`'s by at least `by_at_least` (when `must_hold`)."""

    better: str
    than: str
    figure: str
    by_at_least: float = 0.0
    must_hold: bool = True
    hint: str = ""


@dataclass(frozen=True)
class Check:
    parts: tuple[Part, ...]
    compare: Compare | None = None


@dataclass
class Verdict:
    """What a check found: passed or not, and one sentence per part (and comparison)."""

    passed: bool
    sentences: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def matches(evidence: Evidence, runs: dict[str, Any]) -> bool:
    """Whether `evidence` has every trait `runs` asks for."""
    for key, wanted in runs.items():
        if key.endswith("_at_least"):
            if evidence.traits[key.removesuffix("_at_least")] < wanted:
                return False
        elif key.endswith("_at_most"):
            if evidence.traits[key.removesuffix("_at_most")] > wanted:
                return False
        elif evidence.traits[key] != wanted:
            return False
    return True


def shown(figure: str, value: float) -> str:
    """A figure as the learner reads it: 97.2 % or 0.031."""
    return f"{value:.1%}" if FIGURES[figure][1] else f"{value:.3g}"


def difference_shown(figure: str, value: float) -> str:
    """A difference of two figures (or a spread): 0.4 points for percentages, else 0.031."""
    return f"{value * 100:.1f} points" if FIGURES[figure][1] else f"{value:.3g}"


def chosen(part: Part, evidence: list[Evidence]) -> list[Evidence]:
    """The latest matching run with a value of the figure; with `seeds` > 1, the latest such
    run of each seed, newest first, up to `seeds` of them."""
    found: list[Evidence] = []
    seeds: set = set()
    for item in sorted(evidence, key=lambda e: e.number, reverse=True):
        if not matches(item, part.runs) or item.figures.get(part.figure) is None:
            continue
        if item.traits["seed"] in seeds:
            continue
        seeds.add(item.traits["seed"])
        found.append(item)
        if len(found) == part.seeds:
            break
    return found


def _bound(part: Part, value: float) -> tuple[bool, str]:
    """Whether `value` is within the part's bounds, and the bound in words."""
    words = []
    met = True
    if part.at_least is not None:
        met = value >= part.at_least
        words.append(f"at least {shown(part.figure, part.at_least)}")
    if part.at_most is not None:
        met = met and value <= part.at_most
        words.append(f"at most {shown(part.figure, part.at_most)}")
    return met, " and ".join(words)


def judge(part: Part, evidence: list[Evidence]) -> tuple[bool, str, list[float]]:
    """(met, the sentence, the figures it used) for one part."""
    found = chosen(part, evidence)
    what = FIGURES[part.figure][0]
    what = f"{'an' if what[0] in 'aeiou' else 'a'} {what}"
    if not found:
        return False, f"No finished {part.name} yet. {part.hint}".strip(), []
    values = [float(item.figures[part.figure]) for item in found]
    if len(found) < part.seeds:
        labels = ", ".join(item.label for item in found)
        return (
            False,
            f"Only {len(found)} of the {part.seeds} seeds this lesson asks for have a finished "
            f"{part.name} ({labels}). {part.hint}".strip(),
            values,
        )
    value = statistics.fmean(values)
    if part.seeds > 1:
        spread = statistics.stdev(values)
        labels = ", ".join(item.label.split(",")[0] for item in found)
        subject = (
            f"Your latest {part.name} over {part.seeds} seeds ({labels}) has {what} of "
            f"{shown(part.figure, value)} ± {difference_shown(part.figure, spread)} on average"
        )
    else:
        subject = (
            f"Your latest {part.name} ({found[0].label}) has {what} of {shown(part.figure, value)}"
        )
    met, bound = _bound(part, value)
    if not bound:
        return True, f"{subject}.", values
    if met:
        told = [found[0].notes[n] for n in part.tell if found[0].notes.get(n)]
        extra = f"; {'; '.join(told)}" if told else ""
        return True, f"{subject}, {bound} as this lesson asks{extra}.", values
    return False, f"{subject}, and this lesson asks for {bound}. {part.hint}".strip(), values


def _compare(compare: Compare, figures: dict[str, list[float]]) -> tuple[bool, str]:
    better, than = figures.get(compare.better), figures.get(compare.than)
    if not better or not than:
        return not compare.must_hold, ""
    difference = statistics.fmean(better) - statistics.fmean(than)
    what = FIGURES[compare.figure][0]
    size = difference_shown(compare.figure, abs(difference))
    direction = "higher" if difference >= 0 else "lower"
    sentence = (
        f"The {what} of your {compare.better} is {size} {direction} than that of your "
        f"{compare.than}"
    )
    if len(better) > 1 and len(than) > 1:
        error = (
            statistics.variance(better) / len(better) + statistics.variance(than) / len(than)
        ) ** 0.5  # the standard error of the difference of two means
        real = abs(difference) > 2 * error
        sentence += (
            f"; that is more than twice its standard error ({difference_shown(compare.figure, error)}), "
            "so the seeds agree it is real"
            if real
            else f"; that is within twice its standard error ({difference_shown(compare.figure, error)}), "
            "so the seeds cannot tell the two apart"
        )
    held = difference >= compare.by_at_least
    if compare.must_hold and not held:
        return False, f"{sentence}. {compare.hint}".strip()
    return True, f"{sentence}."


def evaluate(check: Check, evidence: list[Evidence]) -> Verdict:
    """The check run on the learner's runs: passed when every part and comparison holds."""
    verdict = Verdict(passed=True)
    figures: dict[str, list[float]] = {}
    for part in check.parts:
        met, sentence, values = judge(part, evidence)
        verdict.passed = verdict.passed and met
        verdict.sentences.append(sentence)
        if met:
            figures[part.name] = values
    if check.compare is not None:
        held, sentence = _compare(check.compare, figures)
        verdict.passed = verdict.passed and held
        if sentence:
            verdict.sentences.append(sentence)
    return verdict
