"""The Learn page through Streamlit's AppTest: set up, check on stored runs, progress kept in
the store, start again, and a malformed lesson file named while the others still show."""

from __future__ import annotations

import shutil

from core.lessons import words
from core.lessons.files import load_lessons
from core.runs.progress import LessonProgress
from core.runs.store import RunStore
from tests.lessons.test_checks import stored
from tests.support.pages import open_page

LESSONS = {lesson.slug[:2]: lesson for lesson in load_lessons()[0]}


def choose(at, number: str):
    at.button_group(key="learn_lesson").set_value(LESSONS[number].slug).run()
    assert not at.exception, at.exception
    return at


def test_the_page_shows_the_first_lesson_and_a_pill_for_each():
    at = open_page("app_pages/learn.py")
    assert at.title[0].value.endswith("Learn")
    assert at.button_group(key="learn_lesson").options == [str(i) for i in range(1, 9)]
    assert at.subheader[0].value == f"1. {LESSONS['01'].title}"
    assert "0 of 8" in at.get("progress")[0].proto.text
    assert not at.warning


def test_set_it_up_puts_the_train_page_in_the_lessons_state_and_nothing_trains():
    at = choose(open_page("app_pages/learn.py"), "03")
    at.button(key="learn_set_up").click().run()
    assert at.session_state["train_spec"] == LESSONS["03"].setup.spec
    assert at.session_state["train_w_layers"] == 1
    assert at.session_state["train_w_units_0"] == 512
    assert at.session_state["train_run_id"] is None  # nothing trains
    assert "Set up on the Train page" in at.success[0].value
    assert LessonProgress(RunStore()).get(LESSONS["03"].slug).step == "set up"
    assert "◐" in at.button_group(key="learn_lesson").proto.options[2].content


def test_set_it_up_writes_the_xor_pages_settings():
    at = open_page("app_pages/learn.py")
    at.button(key="learn_set_up").click().run()
    spec = LESSONS["01"].setup.spec
    assert at.session_state["xor_hidden_layers"] == spec.hidden_layers == 1
    assert at.session_state["xor_units_1"] == 2
    assert at.session_state["xor_activation_1"] == "tanh"
    assert at.session_state["xor_seed"] == 1


def test_check_reads_the_stored_runs_and_progress_is_kept_until_start_again():
    store = RunStore()
    at = choose(open_page("app_pages/learn.py"), "02")
    at.button(key="learn_check").click().run()
    assert at.warning[0].value.startswith("No finished network with no hidden layer yet.")
    stored(store, LESSONS["02"].setup.spec, 0.923)
    at.button(key="learn_check").click().run()
    assert "test accuracy of 92.3%, at least 90.0% as this lesson asks" in at.success[0].value
    assert "1 of 8" in at.get("progress")[0].proto.text
    again = choose(open_page("app_pages/learn.py"), "02")  # a new session: read from the store
    assert "1 of 8" in again.get("progress")[0].proto.text
    assert any("92.3%" in caption.value for caption in again.caption)
    again.button(key="learn_start_again").click().run()
    assert "0 of 8" in again.get("progress")[0].proto.text
    assert LessonProgress(store).all() == {}
    assert len(store.list_runs()) == 1


def test_a_malformed_lesson_file_is_named_and_the_others_show(tmp_path, monkeypatch):
    folder = tmp_path / "lessons"
    shutil.copytree(words.LESSONS_FOLDER, folder)
    path = folder / "05-overfitting.toml"
    path.write_text(path.read_text().replace("at_most = 0.01", "at_most = 'low'"))
    monkeypatch.setattr(words, "LESSONS_FOLDER", folder)
    at = open_page("app_pages/learn.py")
    assert len(at.warning) == 1
    assert "05-overfitting.toml, line 24: check 2's at_most is 'low'" in at.warning[0].value
    assert len(at.button_group(key="learn_lesson").options) == 7


def test_a_lesson_whose_words_read_but_whose_check_does_not_is_not_shown(tmp_path, monkeypatch):
    """The page draws the chosen lesson's words before it checks the folder; a lesson that
    then turns out unusable gives way to the first usable one."""
    folder = tmp_path / "lessons"
    shutil.copytree(words.LESSONS_FOLDER, folder)
    path = folder / "01-xor.toml"
    path.write_text(path.read_text().replace('figure = "accuracy"', 'figure = "score"'))
    monkeypatch.setattr(words, "LESSONS_FOLDER", folder)
    at = open_page("app_pages/learn.py")
    assert "01-xor.toml, line 15: check 1's figure 'score'" in at.warning[0].value
    assert [h.value for h in at.subheader] == [f"1. {LESSONS['02'].title}"]
    assert at.button_group(key="learn_lesson").options == [str(i) for i in range(1, 8)]


def test_set_it_up_fills_the_experiments_form_for_the_seeds_lesson():
    """Lesson 8 compares one and two hidden layers over three seeds: Set it up gives Train the
    network and the Experiments form its varied setting, values and seeds; nothing starts."""
    at = choose(open_page("app_pages/learn.py"), "08")
    at.button(key="learn_set_up").click().run()
    plan = LESSONS["08"].experiment
    assert (plan.setting, plan.values, plan.seeds) == ("hidden_layers", "1, 2", 3)
    assert at.session_state["experiments_plan"] == plan
    page = at.switch_page("app_pages/experiments.py").run()
    assert not page.exception, page.exception
    assert page.selectbox(key="experiments_setting_0").value == "hidden_layers"
    assert page.text_input(key="experiments_values_0_hidden_layers").value == "1, 2"
    assert page.number_input(key="experiments_seeds").value == 3
    assert page.selectbox(key="experiments_base").index == 0  # Train's current network
    assert page.expander[0].proto.expanded
    assert "experiments_plan" not in page.session_state  # written once
