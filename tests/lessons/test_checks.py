"""Each lesson's check on stored runs (core/lessons/checks.py, evidence.py): it passes on runs
that reach the lesson's point and fails, with its hint, on runs that do not. The runs are
written into a real store with made-up curves and results, as tests/support/runs.py does."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.lessons.checks import evaluate
from core.lessons.evidence import from_store, from_xor
from core.lessons.files import load_lessons
from core.nets.model import dense_layers
from core.plane.xor import XorSnapshot
from core.runs.store import RunStore
from tests.support.specs import small_spec

LESSONS = {lesson.slug[:2]: lesson for lesson in load_lessons()[0]}


def stored(
    store: RunStore,
    spec,
    test: float,
    *,
    train: tuple[float, ...] = (0.9, 0.95),
    val: tuple[float, ...] = (0.9, 0.94),
    val_loss: tuple[float, ...] = (0.3, 0.2),
    status: str = "completed",
    experiment: str | None = None,
    confusion=None,
) -> str:
    """A finished run of `spec` whose curves and test accuracy are the ones given."""
    run_id = store.create_run(spec, "fake data", experiment_id=experiment)
    history = {"accuracy": list(train), "val_accuracy": list(val), "val_loss": list(val_loss)}
    history["loss"] = [0.1] * len(train)
    store.write_progress(
        run_id, history, [], epochs_done=len(train), training_seconds=1.0, val_accuracy=val[-1]
    )
    store.finish_run(run_id, status, "Done.", test_accuracy=test, confusion=confusion)
    return run_id


def spec_of(lesson: str, **changes):
    return replace(LESSONS[lesson].setup.spec, **changes)


def dense(*units: int, dropout: float = 0.0, **changes):
    layers = dense_layers(list(units), ["relu"] * len(units), [dropout] * len(units))
    return spec_of("03", layers=layers, **changes)


def check(lesson: str, store: RunStore):
    return evaluate(LESSONS[lesson].check, from_store(store))


def test_lesson_1_reads_the_xor_network_of_the_session():
    spec = LESSONS["01"].setup.spec
    history = {"loss": [0.2, 0.01], "accuracy": [0.5, 1.0], "test_loss": [], "test_accuracy": []}
    solved = XorSnapshot(status="idle", spec=spec, epoch=500, history=history)
    verdict = evaluate(LESSONS["01"].check, [from_xor(solved)])
    assert verdict.passed
    assert verdict.text == (
        "Your latest XOR network with a small hidden layer (2-2-1, 500 epochs) has an "
        "accuracy on its training points of 100.0%, at least 100.0% as this lesson asks."
    )
    stuck = replace(solved, history={**history, "accuracy": [0.5, 0.75]})
    verdict = evaluate(LESSONS["01"].check, [from_xor(stuck)])
    assert not verdict.passed
    assert "75.0%" in verdict.text and "press New seed" in verdict.text
    untrained = XorSnapshot(status="idle", spec=spec, epoch=0)
    assert from_xor(untrained) is None
    circle = replace(solved, spec=replace(spec, data="circle"))  # not XOR's four points
    assert not evaluate(LESSONS["01"].check, [from_xor(circle)]).passed
    no_hidden = replace(solved, spec=replace(spec, hidden_layers=0))
    verdict = evaluate(LESSONS["01"].check, [from_xor(no_hidden)])
    assert verdict.text.startswith("No finished XOR network with a small hidden layer yet.")


def test_lesson_2_needs_90_percent_without_a_hidden_layer():
    store = RunStore()
    stored(store, spec_of("02"), 0.85)
    stored(store, dense(512), 0.98)  # a hidden layer: not this lesson's run
    verdict = check("02", store)
    assert not verdict.passed
    assert "test accuracy of 85.0%, and this lesson asks for at least 90.0%" in verdict.text
    assert "Train the lesson's set-up" in verdict.text
    stored(store, spec_of("02"), 0.921)
    verdict = check("02", store)
    assert verdict.passed and "92.1%" in verdict.text


def test_lesson_3_needs_one_and_two_hidden_layers_past_97_percent():
    store = RunStore()
    stored(store, dense(512), 0.975)
    verdict = check("03", store)
    assert not verdict.passed
    assert "No finished network with two hidden layers yet. On the Train page" in verdict.text
    stored(store, dense(512, 512), 0.96)
    assert not check("03", store).passed
    stored(store, dense(512, 512), 0.981)
    verdict = check("03", store)
    assert verdict.passed
    assert verdict.sentences[-1] == (
        "The test accuracy of your network with two hidden layers is 0.6 points higher than "
        "that of your network with one hidden layer."
    )


def test_the_latest_matching_run_counts_not_the_best():
    store = RunStore()
    stored(store, dense(512), 0.98)
    stored(store, dense(512, 512), 0.98)
    stored(store, dense(256), 0.95)  # the newest one-hidden-layer run
    verdict = check("03", store)
    assert not verdict.passed and "95.0%" in verdict.text


def test_runs_still_training_and_baselines_are_not_read():
    store = RunStore()
    store.create_run(dense(512), "x")  # still "running"
    store.create_other_run(
        name="forest", architecture="RF", settings={"model": "rf"}, data_source="x"
    )
    assert from_store(store) == []


def test_lesson_4_tells_the_digits_mixed_up_most():
    store = RunStore()
    confusion = [[100 if t == p else 0 for p in range(10)] for t in range(10)]
    confusion[8][3] = 12
    confusion[7][1] = 5
    stored(store, spec_of("04"), 0.95, confusion=confusion)
    assert not check("04", store).passed
    stored(store, spec_of("04"), 0.975, confusion=confusion)
    verdict = check("04", store)
    assert verdict.passed
    assert "it took an 8 for a 3 most often (12 times)" in verdict.text


def test_lesson_5_needs_the_gap_and_then_its_cure():
    store = RunStore()
    apart = (0.95, 0.99, 0.997)
    stored(store, spec_of("05"), 0.98, train=apart, val=(0.97, 0.98, 0.982))
    cured = spec_of("05", early_stopping=True, layers=dense(512, 512, dropout=0.3).layers)
    stored(store, cured, 0.98, train=(0.93, 0.97, 0.99), val=(0.96, 0.97, 0.975))
    verdict = check("05", store)
    assert not verdict.passed
    assert "gap between training and validation accuracy at its last epoch of 1.5%" in verdict.text
    assert "asks for at most 1.0%. Set dropout to 0.3" in verdict.text
    stored(store, cured, 0.981, train=(0.93, 0.97, 0.984), val=(0.96, 0.97, 0.981))
    assert check("05", store).passed


def test_lesson_5_does_not_count_a_short_run_without_dropout():
    store = RunStore()
    stored(store, spec_of("05", epochs=5), 0.98, train=(0.95, 0.999), val=(0.97, 0.98))
    verdict = check("05", store)
    assert verdict.sentences[0].startswith("No finished network without dropout")


def test_lesson_6_needs_three_learning_rates():
    store = RunStore()
    stored(store, spec_of("06"), 0.91, val=(0.87, 0.9, 0.91), train=(0.8, 0.88, 0.9))
    stored(store, spec_of("06", learning_rate=1.0), 0.93)  # still learned
    stored(store, spec_of("06", learning_rate=0.001), 0.975)
    verdict = check("06", store)
    assert not verdict.passed
    assert "test accuracy of 93.0%, and this lesson asks for at most 60.0%" in verdict.text
    stored(store, spec_of("06", learning_rate=3.0), 0.098, status="completed")
    verdict = check("06", store)
    assert verdict.passed, verdict.text


def test_lesson_7_needs_the_convnet_to_beat_a_dense_network_of_its_size():
    store = RunStore()
    stored(store, spec_of("07"), 0.975)
    stored(store, dense(64), 0.972)
    verdict = check("07", store)
    assert not verdict.passed
    assert (
        "asks for at least 98.0%. Train the lesson's set-up (the keras.io convnet)" in verdict.text
    )
    stored(store, dense(512), 0.983)  # 407,050 weights: too big to compare with
    stored(store, spec_of("07"), 0.988)
    verdict = check("07", store)
    assert verdict.passed
    assert "fewer is 1.6 points higher than that of your dense network" in verdict.text


def test_lesson_8_needs_three_seeds_of_each_from_an_experiment():
    store = RunStore()
    for seed, (one, two) in zip(
        (42, 43, 44), ((0.970, 0.975), (0.972, 0.977), (0.971, 0.976)), strict=True
    ):
        stored(store, dense(128, seed=seed), one, experiment="e1")
        if seed != 44:
            stored(store, dense(128, 128, seed=seed), two, experiment="e1")
    stored(store, dense(128, 128, seed=44), 0.976)  # not from an experiment
    verdict = check("08", store)
    assert not verdict.passed
    assert "Only 2 of the 3 seeds this lesson asks for" in verdict.text
    stored(store, dense(128, 128, seed=44), 0.976, experiment="e1")
    verdict = check("08", store)
    assert verdict.passed
    assert (
        "over 3 seeds (run #5, run #3, run #1) has a test accuracy of 97.1% ± 0.1 points on average"
        in verdict.text
    )
    assert "so the seeds agree it is real" in verdict.text


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_with_no_runs_every_lesson_says_what_to_do(lesson):
    verdict = evaluate(LESSONS[lesson].check, [])
    assert not verdict.passed
    assert all(sentence.startswith("No finished") for sentence in verdict.sentences)
    assert small_spec()  # the shared spec helper still builds
