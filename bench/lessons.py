"""Each lesson, done as a learner would on the full MNIST: how long its training takes, against
one keras.io-convnet epoch timed in the same process, and whether its check then passes.

    MNIST_DATA=../shared/data/mnist python bench/lessons.py [--lessons 02 03]

For every lesson, its set-up's spec (lessons/*.toml) is trained, then the changes its words ask
for (`RUNS` below: the second network of a comparison, say), each run through the app's own
path (`TrainingJob` with the run recorder, into a temporary run store), one after another.
The lesson's time is the sum of its runs' training, from `start()` to the job's end (test pass
included). Lesson 1 trains the XOR page's job (`XorJob`) its 500 epochs; lesson 8 trains one
and two hidden layers over three seeds, tagged as an experiment's runs. Then the lesson's own
check reads the store, as the Learn page does. One keras.io convnet epoch (its second epoch of
a bare `model.fit`, bench/cnn.py) is timed right before each lesson, as the machine's load
moves; the goal is at most 11 of those per lesson (55 for lesson 8). Prints each lesson's seconds, ratio, verdict and the check's sentences.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cnn import one_epoch_of_the_keras_convnet  # noqa: E402
from core.lessons.checks import evaluate  # noqa: E402
from core.lessons.evidence import from_store, from_xor  # noqa: E402
from core.lessons.files import load_lessons  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402
from core.nets.model import dense_layers  # noqa: E402
from core.plane.xor import DEFAULT_EPOCHS, XorJob  # noqa: E402
from core.runs.recorder import RunRecorder  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.job import TrainingJob  # noqa: E402

GOALS = {"08": 55}  # epochs of the keras.io convnet; 11 for the others


def dense(*units: int, dropout: float = 0.0) -> list[dict]:
    return dense_layers(list(units), ["relu"] * len(units), [dropout] * len(units))


# The runs each lesson's words ask for, as changes to its set-up's spec ({} is the set-up).
RUNS = {
    "02": [{}],
    "03": [{}, {"layers": dense(512, 512)}],
    "04": [{}],
    "05": [{}, {"layers": dense(512, 512, dropout=0.3), "early_stopping": True}],
    "06": [{}, {"learning_rate": 1.0}, {"learning_rate": 0.001}],
    "07": [{}, {"layers": dense(64)}],
    "08": [
        {"layers": dense(*[128] * layers), "seed": seed}
        for layers in (1, 2)
        for seed in (42, 43, 44)
    ],
}


def train_run(store: RunStore, spec, data, experiment: str | None) -> float:
    """Seconds from start to end of one recorded run."""
    run_id = store.create_run(spec, data.description, experiment_id=experiment)
    start = time.perf_counter()
    job = TrainingJob(spec, data, run_id=run_id, callbacks=[RunRecorder(store, run_id)])
    job.start()
    job.join()
    return time.perf_counter() - start


def xor_lesson(lesson) -> tuple[float, list]:
    job = XorJob()
    job.reset(lesson.setup.spec)
    while job.running:
        time.sleep(0.01)
    start = time.perf_counter()
    job.train(DEFAULT_EPOCHS)
    while job.running:
        time.sleep(0.01)
    return time.perf_counter() - start, [from_xor(job.snapshot())]


def mnist_lesson(lesson, data) -> tuple[float, list]:
    store = RunStore(tempfile.mkdtemp(prefix="lesson-"))
    number = lesson.slug[:2]
    experiment = "bench" if number == "08" else None
    seconds = sum(
        train_run(store, replace(lesson.setup.spec, **changes), data, experiment)
        for changes in RUNS[number]
    )
    return seconds, from_store(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", help="lesson numbers, e.g. 02 05 (default: all)")
    args = parser.parse_args()
    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    print("| lesson | runs | seconds | convnet epoch, s | convnet epochs | goal | check |")
    print("|---|---:|---:|---:|---:|---:|---|")
    sentences = []
    for lesson in load_lessons()[0]:
        number = lesson.slug[:2]
        if args.lessons and number not in args.lessons:
            continue
        epoch = one_epoch_of_the_keras_convnet(data)  # right before: the load moves
        if lesson.setup.page == "xor":
            seconds, evidence = xor_lesson(lesson)
        else:
            seconds, evidence = mnist_lesson(lesson, data)
        verdict = evaluate(lesson.check, [e for e in evidence if e is not None])
        runs = len(RUNS.get(number, [None]))
        goal = GOALS.get(number, 11)
        said = "passed" if verdict.passed else "NOT passed"
        print(
            f"| {number} | {runs} | {seconds:.1f} | {epoch:.1f} | {seconds / epoch:.1f} "
            f"| {goal} | {said} |"
        )
        sentences.append(f"{number}: {verdict.text}")
    print("\n".join(sentences))


if __name__ == "__main__":
    main()
