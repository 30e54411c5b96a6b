"""Convolutional networks: the fast preset's accuracy and time, and the app's path against fit.

    .venv/bin/python bench/cnn.py                       # everything
    .venv/bin/python bench/cnn.py --only preset --seeds 1 2 3
    .venv/bin/python bench/cnn.py --only path --repeats 3

1. The fast CNN preset (FAST_CNN in core/nets/presets.py) trained through the app's own path
   (`TrainingJob`: validation split, live callback, steps per execution) on full MNIST, one run
   per seed: its training time (from `start()` to the end of the last epoch) and test accuracy.
   The goal: at least 99.3 % (median of the seeds, none below 99.2 %) within 60 s.
   The same time as a ratio, which survives a busy machine: training time over ONE epoch of
   the keras.io "Simple MNIST convnet" trained with a bare `model.fit` in this process (its
   second epoch, once tracing is done), measured right before each preset run. Goal: <= 11.
2. The app's path against a bare `model.fit` of the same conv model (the keras.io convnet,
   the same epochs, batch and validation split), alternating, same process: the ratio of the
   medians, bare / app, from `start()` or the model's building to the end of the last epoch
   (both include preparing the data and building the model). Goal: >= 1.0.

Reads /work/shared/data/mnist (or MNIST_DATA). Prints figures; no test asserts on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataclasses import replace  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from core.mnist.data import load_mnist, one_hot  # noqa: E402
from core.nets.presets import FAST_CNN, KERAS_CONVNET, PRESETS  # noqa: E402
from core.training.job import TrainingJob  # noqa: E402

DATA = os.environ.get("MNIST_DATA", str(Path(__file__).resolve().parents[2] / "shared/data/mnist"))


class Clock(keras.callbacks.Callback):
    """Notes when training begins and ends, and how long each epoch takes."""

    def on_train_begin(self, logs=None):
        self.begin = time.perf_counter()
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_begin = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self.epoch_begin)

    def on_train_end(self, logs=None):
        self.end = time.perf_counter()


def keras_io_convnet():
    """The model of keras.io's examples/vision/mnist_convnet.py, as written there."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def bare_fit(data, epochs: int) -> Clock:
    """keras.io's recipe: scale, add the channel axis, one-hot, fit with 10 % held out."""
    start = time.perf_counter()
    keras.utils.set_random_seed(1)
    x = np.expand_dims(data.x_train.astype("float32") / 255, -1)
    y = one_hot(data.y_train)
    clock = Clock()
    keras_io_convnet().fit(
        x, y, batch_size=128, epochs=epochs, validation_split=0.1, callbacks=[clock], verbose=0
    )
    clock.start = start
    return clock


def app_fit(spec, data) -> tuple[Clock, TrainingJob]:
    clock = Clock()
    start = time.perf_counter()
    job = TrainingJob(spec, data, callbacks=[clock]).start()
    job.join()
    clock.start = start
    return clock, job


def one_epoch_of_the_keras_convnet(data) -> float:
    """Seconds of the second epoch of a bare fit (the first also traces the step)."""
    return bare_fit(data, epochs=2).epoch_seconds[1]


def preset_runs(data, seeds: list[int]) -> None:
    preset = PRESETS[FAST_CNN]
    print(f"fast preset: {FAST_CNN}: {preset.spec.architecture()}")
    rows = []
    for seed in seeds:
        baseline = one_epoch_of_the_keras_convnet(data)
        clock, job = app_fit(replace(preset.spec, seed=seed), data)
        snapshot = job.monitor.snapshot()
        seconds = clock.end - clock.start
        rows.append((seed, seconds, snapshot.test_accuracy, baseline))
        print(
            f"  seed {seed}: {snapshot.status}, test accuracy {100 * snapshot.test_accuracy:.2f} %, "
            f"training {seconds:.1f} s (fit alone {clock.end - clock.begin:.1f} s); one keras.io "
            f"convnet epoch just before: {baseline:.2f} s; ratio {seconds / baseline:.1f}",
            flush=True,
        )
    accuracies = [row[2] for row in rows]
    seconds = [row[1] for row in rows]
    ratios = [row[1] / row[3] for row in rows]
    print(
        f"  median test accuracy {100 * statistics.median(accuracies):.2f} % "
        f"(lowest {100 * min(accuracies):.2f} %; goal >= 99.30 %, none below 99.20 %)\n"
        f"  median training time {statistics.median(seconds):.1f} s (goal <= 60 s quiet)\n"
        f"  median ratio to one keras.io convnet epoch {statistics.median(ratios):.1f} "
        f"(goal <= 11)"
    )


def path_against_fit(data, repeats: int, epochs: int) -> None:
    spec = replace(PRESETS[KERAS_CONVNET].spec, epochs=epochs)
    print(f"\napp path vs bare model.fit: keras.io convnet, {epochs} epochs, batch 128, 10 % val")
    app, bare = [], []
    for i in range(repeats):
        for which in ("app", "bare") if i % 2 == 0 else ("bare", "app"):
            if which == "app":
                clock, _ = app_fit(spec, data)
                app.append(clock.end - clock.start)
            else:
                clock = bare_fit(data, epochs)
                bare.append(clock.end - clock.start)
            print(f"  {which}: {(app if which == 'app' else bare)[-1]:.1f} s", flush=True)
    print(
        f"  median app {statistics.median(app):.1f} s, bare fit {statistics.median(bare):.1f} s: "
        f"ratio bare/app {statistics.median(bare) / statistics.median(app):.2f} (goal >= 1.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["preset", "path"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--path-epochs", type=int, default=2)
    args = parser.parse_args()
    data = load_mnist(DATA, allow_download=False)
    print(f"data: {data.description}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    if args.only in (None, "preset"):
        preset_runs(data, args.seeds)
    if args.only in (None, "path"):
        path_against_fit(data, args.repeats, args.path_epochs)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
