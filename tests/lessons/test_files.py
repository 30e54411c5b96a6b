"""The lessons folder read and checked (core/lessons/files.py, setup.py): every shipped lesson
loads, its set-up builds the network its settings name, and a malformed file is reported with
its name and line while the others keep loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.export.links import spec_to_params
from core.lessons.files import LESSONS_FOLDER, load_lessons
from core.nets.model import ModelSpec, count_parameters
from core.plane.spec import PlaneSpec

GOOD = LESSONS_FOLDER / "03-hidden-layers.toml"


def test_every_shipped_lesson_loads_in_order():
    lessons, problems = load_lessons()
    assert problems == []
    assert len(lessons) == 8
    assert [lesson.slug[:2] for lesson in lessons] == [f"0{i}" for i in range(1, 9)]
    for lesson in lessons:
        assert lesson.text and lesson.title and lesson.question and lesson.answer
        assert len(lesson.text) < 2000  # a screen of words at most


@pytest.mark.parametrize("lesson", load_lessons()[0], ids=lambda lesson: lesson.slug)
def test_each_setup_builds_its_network_and_matches_its_settings(lesson):
    spec = lesson.setup.spec
    if lesson.setup.page == "xor":
        assert isinstance(spec, PlaneSpec)
        for name, value in lesson.setup.params.items():
            if name != "v":
                assert str(getattr(spec, name)) == value
        from core.plane.model import build_plane_model

        model = build_plane_model(spec)
        assert model.count_params() == 2 * 2 + 2 + 2 + 1  # 2 inputs -> 2 tanh -> 1 sigmoid
        return
    assert isinstance(spec, ModelSpec)
    params = spec_to_params(spec)
    for key, value in lesson.setup.params.items():
        assert params[key] == value, key
    from core.nets.model import build_model

    model = build_model(spec)
    assert model.count_params() == count_parameters(spec)


def copy_lessons(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    shutil.copytree(LESSONS_FOLDER, folder)
    return folder


def test_a_file_that_is_not_toml_is_named_with_its_line_and_the_others_load(tmp_path):
    folder = copy_lessons(tmp_path)
    path = folder / GOOD.name
    lines = path.read_text().splitlines()
    lines[5] = "optimizer = adam"  # no quotes
    path.write_text("\n".join(lines))
    lessons, problems = load_lessons(folder)
    assert len(lessons) == 7
    assert [str(p) for p in problems] == [
        f"{path.name}, line 6: it is not valid TOML (Invalid value)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('figure = "test_accuracy"', 'figure = "score"', "figure 'score' is not one a check"),
        ("at_least = 0.97", 'at_least = "high"', "at_least is 'high'; give a number"),
        ("hidden_layers = 1, conv", "layers = 1, conv", "runs names 'layers', which no run has"),
        ('optimizer = "adam"', 'optimizer = "adamm"', "optimizer"),
        ("lr = 0.001", "lr = -1", "lr"),
        ('page = "train"', 'page = "draw"', 'page is \'draw\'; use "train" or "xor"'),
    ],
)
def test_a_bad_value_is_named_with_the_line_that_holds_it(tmp_path, old, new, said):
    folder = copy_lessons(tmp_path)
    path = folder / GOOD.name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if new in row)
    lessons, problems = load_lessons(folder)
    assert len(lessons) == 7 and len(problems) == 1
    assert str(problems[0]).startswith(f"{path.name}, line {line}: ")
    assert said in str(problems[0])


def test_missing_words_a_missing_question_and_a_lonely_markdown_file_are_reported(tmp_path):
    folder = copy_lessons(tmp_path)
    (folder / "02-no-hidden-layer.md").unlink()
    text = (folder / "04-reading-the-answer.toml").read_text()
    (folder / "04-reading-the-answer.toml").write_text(text.split("[question]")[0])
    (folder / "09-draft.md").write_text("A lesson still being written.")
    lessons, problems = load_lessons(folder)
    assert len(lessons) == 6
    said = [str(p) for p in problems]
    assert said[0] == (
        "02-no-hidden-layer.toml, line 1: its words are missing: put them in "
        "02-no-hidden-layer.md beside it"
    )
    assert said[1].startswith("04-reading-the-answer.toml: a lesson needs a [question]")
    assert said[2].startswith("09-draft.md: it has no 09-draft.toml beside it")


def test_a_bad_value_in_the_second_check_is_found_there_not_in_the_first(tmp_path):
    folder = copy_lessons(tmp_path)
    path = folder / GOOD.name
    lines = path.read_text().splitlines()
    second = [i for i, line in enumerate(lines) if line.startswith("at_least")][1]
    lines[second] = "at_least = true"
    path.write_text("\n".join(lines))
    _, problems = load_lessons(folder)
    assert str(problems[0]).startswith(f"{path.name}, line {second + 1}: check 2's at_least")


def test_a_comparison_must_name_two_checks(tmp_path):
    folder = copy_lessons(tmp_path)
    path = folder / "07-convolutions.toml"
    path.write_text(path.read_text().replace('than = "dense network', 'than = "dense net'))
    _, problems = load_lessons(folder)
    assert "[compare] than = 'dense net of 60,000 weights or fewer' names no check" in str(
        problems[0]
    )


def test_the_plain_read_of_each_lessons_words_is_what_the_loader_checks():
    from core.lessons.words import read_words

    for number, lesson in enumerate(load_lessons()[0], start=1):
        said = read_words(LESSONS_FOLDER, lesson.slug)
        assert (said.number, said.title, said.text) == (number, lesson.title, lesson.text)
        assert (said.watch, said.question, said.answer) == (
            lesson.watch,
            lesson.question,
            lesson.answer,
        )
    assert read_words(LESSONS_FOLDER, "no-such-lesson").slug == "01-xor"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('setting = "hidden_layers"', 'setting = "depth"', "setting is 'depth'; use one of"),
        ('values = "1, 2"', 'values = "one, two"', "values:"),
        ("seeds = 3", "seeds = 30", "seeds is a whole number from 1 to 10"),
    ],
)
def test_a_bad_experiment_plan_is_named_with_its_line(tmp_path, old, new, said):
    folder = copy_lessons(tmp_path)
    path = folder / "08-is-it-real.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if new in row)
    lessons, problems = load_lessons(folder)
    assert len(lessons) == 7 and len(problems) == 1
    assert str(problems[0]).startswith(f"{path.name}, line {line}: [experiment]: ")
    assert said in str(problems[0])
