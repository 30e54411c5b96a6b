"""Learn: short lessons that walk a newcomer through the articles' networks, each checked on the
learner's own runs.

The lessons are files (lessons/*.md and *.toml, read by core/lessons/files.py); this page only
shows them. *Set it up* puts the Train or XOR page into the lesson's state through the same
functions a share link uses (nothing trains until the learner presses Train); *Check my runs*
reads the learner's latest matching runs (core/lessons/checks.py); progress is kept in the run
store's database (core/runs/progress.py), so it survives a restart.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import streamlit as st

from app_pages import state
from core.lessons import words
from core.lessons.words import Words

PAGE_FILES = {"train": "app_pages/train.py", "xor": "app_pages/xor.py"}
PAGE_ICONS = {"train": ":material/model_training:", "xor": ":material/grid_4x4:"}
STEP_MARKS = {"passed": "✓", "checked": "●", "set up": "◐", "not started": ""}


st.title(":material/school: Learn")
st.caption(
    "Eight short lessons, from XOR to convolutions and error bars. Each one sets the playground "
    "up, tells you what to watch while it trains, then checks your own run to see whether you "
    "got there."
)


def draw_words(said: Words) -> tuple:
    """The lesson's words, with places for what needs the run store: (passed, set up, check)."""
    st.subheader(f"{said.number}. {said.title}")
    passed = st.empty()
    st.markdown(said.text)
    setup = st.container()
    st.info(f"**What to watch.** {said.watch}", icon=":material/visibility:")
    check = st.container()
    st.markdown(f"**Question.** {said.question}")
    with st.expander("Show the answer"):
        st.markdown(said.answer)
    return passed, setup, check


# The chosen lesson's words first, read plainly; the folder is checked below (its loader
# imports much of the app's core), then the words are drawn again if the lesson turned out
# unusable, and the pills, progress and buttons go into their places.
folder = words.LESSONS_FOLDER
notices, head, body = st.container(), st.container(), st.empty()
early = words.read_words(folder, state.get("learn_lesson"))
if early is not None:
    with body.container():
        places = draw_words(early)
st.divider()
foot = st.container()

# Below the words: these import the app's core, and the page's title should not wait for them.
from app_pages.run_store import get_store, store_or_stop  # noqa: E402
from app_pages.train_controls import set_spec  # noqa: E402
from app_pages.training_session import training_now  # noqa: E402
from core.lessons.checks import evaluate  # noqa: E402
from core.lessons.evidence import from_store, from_xor  # noqa: E402
from core.lessons.files import Lesson, load_lessons  # noqa: E402
from core.lessons.setup import PAGES  # noqa: E402
from core.runs.progress import LessonProgress  # noqa: E402
from core.runs.records import RunStoreError  # noqa: E402


@st.cache_resource(max_entries=4, show_spinner=False)
def _read_lessons(folder: str, signature: tuple) -> tuple:
    return load_lessons(Path(folder))


def lessons(folder: Path) -> tuple:
    """(lessons, problems) of the lessons folder, read again whenever one of its files changes."""
    files = sorted(folder.glob("*.*"))
    signature = tuple((path.name, path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return _read_lessons(str(folder), signature)


@st.cache_resource(max_entries=4, show_spinner=False)
def _progress(home: str) -> LessonProgress:
    return LessonProgress(get_store())


def progress() -> LessonProgress:
    return _progress(str(get_store().home))


def set_up(lesson: Lesson) -> None:
    """The lesson's set-up written into its page's state, as a share link would write it."""
    if lesson.setup.page == "train":
        set_spec(copy.deepcopy(lesson.setup.spec))
    else:
        for name, value in lesson.setup.spec.to_dict().items():
            state.set(f"xor_{name}", value)
    if lesson.experiment is not None:  # the Experiments page writes it into its form
        state.set("experiments_plan", lesson.experiment)
    progress().mark_set_up(lesson.slug)
    state.set("learn_notice", (lesson.slug, f"Set up on {PAGES[lesson.setup.page]}."))


def check(lesson: Lesson) -> None:
    """The lesson's check on the learner's runs (and this session's XOR network), kept."""
    try:
        evidence = from_store(get_store())
        job = state.get("xor_job")
        xor = from_xor(job.snapshot()) if job is not None else None
        verdict = evaluate(lesson.check, evidence + ([xor] if xor is not None else []))
        progress().mark_checked(lesson.slug, verdict.passed, verdict.text)
    except RunStoreError as error:  # the page's store_or_stop then says what to do
        state.set("learn_verdict", (lesson.slug, False, f"Your runs cannot be read: {error}"))
        return
    state.set("learn_verdict", (lesson.slug, verdict.passed, verdict.text))


def start_again() -> None:
    progress().start_again()
    state.set("learn_verdict", None)
    state.set("learn_notice", None)


def overview(found: list[Lesson], steps: dict[str, str]) -> None:
    """The progress bar and one button per lesson (its value: the lesson shown)."""
    passed = sum(steps[lesson.slug] == "passed" for lesson in found)
    st.progress(passed / len(found), text=f"**{passed} of {len(found)}** lessons passed")
    labels = {
        lesson.slug: f"{i} {STEP_MARKS[steps[lesson.slug]]}".strip()
        for i, lesson in enumerate(found, 1)
    }
    st.segmented_control(
        "Lesson",
        list(labels),
        format_func=labels.get,
        key="learn_lesson",
        default=found[0].slug,
        required=True,
        label_visibility="collapsed",
        **state.KEEP,
    )
    st.caption("✓ passed · ● checked · ◐ set up")


def setup_row(lesson: Lesson) -> None:
    page = lesson.setup.page
    busy = page == "train" and training_now()
    left, right = st.columns(2, vertical_alignment="center")
    left.button(
        "Set it up",
        key="learn_set_up",
        type="primary",
        icon=":material/build:",
        on_click=set_up,
        args=(lesson,),
        disabled=busy,
        help="A network is training; stop it or let it finish first." if busy else None,
        width="stretch",
    )
    right.page_link(PAGE_FILES[page], label=f"Open {PAGES[page]}", icon=PAGE_ICONS[page])
    notice = state.get("learn_notice")
    if notice and notice[0] == lesson.slug:
        st.success(
            f"{notice[1]} Nothing trains until you press **Train** there.", icon=":material/check:"
        )


def check_row(lesson: Lesson, said: str, checked: float | None) -> None:
    st.button(
        "Check my runs",
        key="learn_check",
        icon=":material/fact_check:",
        on_click=check,
        args=(lesson,),
    )
    verdict = state.get("learn_verdict")
    if verdict and verdict[0] == lesson.slug:
        (st.success if verdict[1] else st.warning)(verdict[2], icon=":material/fact_check:")
    elif said and checked:
        when = datetime.datetime.fromtimestamp(checked).strftime("%d %b %H:%M")
        st.caption(f"Last checked {when}: {said}")


found, problems = lessons(folder)
for problem in problems:
    notices.warning(f"A lesson file could not be used: {problem}", icon=":material/description:")
if not found:
    body.error(f"No lessons could be read from {folder}.", icon=":material/error:")
    st.stop()
slugs = [lesson.slug for lesson in found]
index = slugs.index(state.get("learn_lesson")) if state.get("learn_lesson") in slugs else 0
lesson = found[index]
checked = Words(
    lesson.slug, index + 1, lesson.title, lesson.text, lesson.watch, lesson.question, lesson.answer
)
if checked != early:  # a lesson file that could not be used, or one changed meanwhile
    with body.container():
        places = draw_words(checked)
passed_place, setup_place, check_place = places
store_or_stop()
steps = {slug: "not started" for slug in slugs}
steps |= {slug: kept.step for slug, kept in progress().all().items() if slug in steps}
kept = progress().get(lesson.slug)
with head:
    overview(found, steps)
if kept.passed is not None:
    passed_place.caption(
        ":material/verified: Passed. Check again any time: it reads your latest runs."
    )
with setup_place:
    setup_row(lesson)
with check_place:
    check_row(lesson, kept.said, kept.checked)
with foot, st.popover("Start again", icon=":material/restart_alt:"):
    st.markdown("Forget which lessons were set up, checked and passed? Your runs stay.")
    st.button("Forget my progress", key="learn_start_again", on_click=start_again)
