"""Time My digits: keeping a drawn digit, and evaluating a run on 500 kept digits.

    python bench/mydigits.py [--repeats 21] [--kept 500]

Keeping (the Keep button's work: the 28x28 image and the 280x280 canvas written to
mydigits.sqlite3 and the count read back for the note) is timed beside reading the same drawing
(`recognise`, what Draw does before it) with the default dense preset. Evaluating on My digits
(the kept digits read from the store, predicted and scored, as Evaluate does) is timed for the
default dense preset and the keras.io convnet, beside the same work on as many MNIST test digits
already in memory. Medians of --repeats, alternating; untrained weights time as trained ones.
Uses a fresh store in a temporary folder; drawings from tests/support/drawings.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from core.inside.evaluation import evaluate_probabilities, predict_probabilities  # noqa: E402
from core.mnist.preprocess import canvas_to_mnist  # noqa: E402
from core.mnist.recognise import get_ready, recognise  # noqa: E402
from core.mydigits.store import MyDigitsStore  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from tests.support.drawings import STYLES, draw_digit  # noqa: E402

GOAL_KEEP = 0.3
GOAL_EVALUATE = 1.0
CONVNET = "Simple MNIST convnet (keras.io)"


def drawings(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        draw_digit(
            i % 10, next(iter(STYLES[i % 10])), pen=18, height=200, rng=rng, background="black"
        )[0]
        for i in range(count)
    ]


def median_pair(first, second, repeats: int) -> tuple[float, float]:
    """Medians of `first()` and `second()`, timed alternately."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for work, kept in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            work()
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def keeping(model, canvases, store, repeats: int) -> tuple[float, float]:
    canvases = iter(canvases * (repeats + 1))
    recognition = recognise(model, canvases.__next__())

    def keep():
        canvas = next(canvases)
        store.keep(recognition.image, recognition.digit, canvas=canvas)
        store.count()

    return median_pair(keep, lambda: recognise(model, next(canvases)), repeats)


def evaluating(model, store, mnist_images, mnist_labels, repeats: int) -> tuple[float, float]:
    def mine():
        digits = store.digit_set()
        evaluate_probabilities(predict_probabilities(model, digits.images), digits.labels)

    def theirs():
        evaluate_probabilities(predict_probabilities(model, mnist_images), mnist_labels)

    mine()  # the first call traces the predict function
    return median_pair(mine, theirs, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--kept", type=int, default=500)
    args = parser.parse_args()
    canvases = drawings(40)
    images = np.stack([canvas_to_mnist(c) for c in canvases])
    rng = np.random.default_rng(1)
    kept = images[rng.integers(0, len(images), args.kept)]
    labels = rng.integers(0, 10, args.kept)
    mnist_images = (kept * 255).round().astype(np.uint8)  # as many digits, as MNIST holds them
    print("| what | median | baseline (median) | goal |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as home:
        store = MyDigitsStore(Path(home) / "keep")
        dense = build_model(PRESETS[DEFAULT_PRESET].spec, steps_per_epoch=100)
        get_ready(dense)
        keep, read = keeping(dense, canvases, store, args.repeats)
        print(
            f"| keep a digit (image, 280x280 canvas, the count for the note) | {keep:.4f} s | "
            f"reading it (recognise, dense): {read:.4f} s | {GOAL_KEEP} s |"
        )
        store = MyDigitsStore(Path(home) / "evaluate")
        for i, (image, label) in enumerate(zip(kept, labels, strict=True)):
            store.keep(image, int(label), canvas=canvases[i % len(canvases)])
        for name in (DEFAULT_PRESET, CONVNET):
            model = build_model(PRESETS[name].spec, steps_per_epoch=100)
            mine, theirs = evaluating(model, store, mnist_images, labels, args.repeats)
            print(
                f"| evaluate on {args.kept} kept digits, {PRESETS[name].spec.architecture()} | "
                f"{mine:.3f} s | {args.kept} MNIST digits in memory: {theirs:.3f} s "
                f"(+{mine - theirs:.3f} s) | {GOAL_EVALUATE} s |"
            )


if __name__ == "__main__":
    main()
