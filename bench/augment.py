"""Augmentation's cost: training time of the convnet presets with and without it.

    nice -n 10 .venv/bin/python bench/augment.py
    nice -n 10 .venv/bin/python bench/augment.py --pairs 31 --steps 128

Each convnet preset's model is built twice, as the app builds it (`build_model`, the app's
steps per execution), once with every augmentation on (shift 0.1, rotation 10 degrees, zoom
0.1, stroke thickness 1 pixel) and once without, and trained on the app's own batches of the
first `--train` MNIST images (`PREPARED.batches`). After one fit of each (tracing), `--pairs`
pairs of fits of `--steps` batches each are timed, one right after the other, which goes
first alternating: the load of a shared machine changes from minute to minute, and short
alternating fits meet the same load. Figures: the medians and their ratio, with over
without, and the median of the pairs' own ratios. Goal (issue 31): at most 1.15.

Reads /work/shared/data/mnist (or MNIST_DATA). Prints figures; no test asserts on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.mnist.data import load_mnist, subset  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import FAST_CNN, KERAS_CONVNET, PRESETS  # noqa: E402
from core.training.job import steps_per_execution_for  # noqa: E402
from core.training.prepared import PREPARED  # noqa: E402

DATA = os.environ.get("MNIST_DATA", str(Path(__file__).resolve().parents[2] / "shared/data/mnist"))
AUGMENTATION = {
    "augment_shift": 0.1,
    "augment_rotation": 10.0,
    "augment_zoom": 0.1,
    "augment_thickness": 1,
}


def fit_seconds(model, batches, steps: int) -> float:
    """One `fit` of `steps` batches (the app's batches and steps per execution)."""
    begin = time.perf_counter()
    model.fit(batches, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return time.perf_counter() - begin


def compare(plain, augmented, data, pairs: int, steps: int) -> tuple[list[float], list[float]]:
    """Seconds of `pairs` fits of `steps` batches each, with and without augmentation, one
    right after the other (which goes first alternates), after a fit of each to trace."""
    batches, _ = PREPARED.batches(data, plain)
    batches = batches.repeat()
    per_call = steps_per_execution_for(plain.batch_size)
    models = [
        build_model(spec, steps_per_epoch=steps, steps_per_execution=per_call)
        for spec in (plain, augmented)
    ]
    for model in models:
        fit_seconds(model, batches, steps)
    times: tuple[list[float], list[float]] = ([], [])
    for pair in range(pairs):
        for which in (0, 1) if pair % 2 == 0 else (1, 0):
            times[which].append(fit_seconds(models[which], batches, steps))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=15000)
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--steps", type=int, default=64, help="batches a timed fit trains")
    args = parser.parse_args()
    mnist = load_mnist(DATA, allow_download=False)
    data = subset(mnist, args.train, 1000, seed=0) if args.train < len(mnist.x_train) else mnist
    print(f"{args.pairs} pairs of fits of {args.steps} batches, medians", flush=True)
    print("| preset | without | with augmentation | ratio (goal <= 1.15) | median pair ratio |")
    print("|---|---|---|---|---|")
    for name in (KERAS_CONVNET, FAST_CNN):
        plain = replace(PRESETS[name].spec, early_stopping=False)
        augmented = replace(plain, **AUGMENTATION)
        without, with_ = compare(plain, augmented, data, args.pairs, args.steps)
        a, b = statistics.median(without), statistics.median(with_)
        ratios = statistics.median(w / o for w, o in zip(with_, without, strict=True))
        print(
            f"| {plain.architecture()} | {a:.2f} s | {b:.2f} s | {b / a:.2f} | {ratios:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
