"""Training speed of the app's path against a bare `model.fit`, and the default preset's accuracy.

    MNIST_DATA=../shared/data/mnist python bench/training.py [--repeats 3] [--skip-preset]

Both paths train the same spec on the same data and batch size in this process, alternating,
for two epochs each; the figure is the second epoch (the first one pays for tracing). The
app's path is a `TrainingJob`: background thread, `LiveMetrics` callback, several steps per
compiled call. The baseline is `model.fit` with Keras's defaults (one step per call). Speeds
are images per second, medians over the repeats; ratio > 1 means the app is faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from core.mnist.data import load_mnist  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from core.training.job import TrainingJob, steps_per_execution_for  # noqa: E402
from core.training.prepared import prepare  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


class EpochClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def bare_fit(spec, prepared) -> float:
    """Images per second of the second epoch of a plain `model.fit` with Keras defaults."""
    model = build_model(spec, steps_per_epoch=-(-len(prepared.x_train) // spec.batch_size))
    clock = EpochClock()
    model.fit(
        prepared.x_train,
        prepared.y_train,
        batch_size=spec.batch_size,
        epochs=2,
        validation_data=(prepared.x_val, prepared.y_val),
        callbacks=[clock],
        verbose=0,
    )
    return len(prepared.x_train) / (clock.ends[1] - clock.ends[0])


def app_path(spec, data, n_train) -> float:
    """Images per second of the second epoch of the app's own training job."""
    ends: list[float] = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: ends.append(time.perf_counter())
    )
    job = TrainingJob(spec, data, callbacks=[clock])
    job.start().join()
    snapshot = job.snapshot()
    assert snapshot.status == "completed", snapshot.message
    return n_train / (ends[1] - ends[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--skip-preset", action="store_true", help="skip training the default preset"
    )
    args = parser.parse_args()

    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    print(f"data: {data.description}")
    base = PRESETS[DEFAULT_PRESET].spec
    print(f"model: {base.architecture()} ({DEFAULT_PRESET}); repeats: {args.repeats}\n")

    print("| batch | steps/call | bare fit (img/s) | app path (img/s) | ratio app/bare |")
    print("|---:|---:|---:|---:|---:|")
    for batch_size in (32, 128):
        spec = type(base).from_dict(base.to_dict() | {"batch_size": batch_size, "epochs": 2})
        prepared = prepare(data, spec.validation_split, spec.seed)
        bare, app, ratios = [], [], []
        for _ in range(args.repeats):
            bare.append(bare_fit(spec, prepared))
            app.append(app_path(spec, data, len(prepared.x_train)))
            ratios.append(app[-1] / bare[-1])
        print(
            f"| {batch_size} | {steps_per_execution_for(batch_size)} | {statistics.median(bare):,.0f} "
            f"| {statistics.median(app):,.0f} | {statistics.median(ratios):.2f} |",
            flush=True,
        )

    if args.skip_preset:
        return
    start = time.perf_counter()
    job = TrainingJob(base, data).start()
    job.join()
    snapshot = job.monitor.snapshot()
    seconds = time.perf_counter() - start
    print(
        f"\ndefault preset: {snapshot.epoch} epochs, {seconds / max(snapshot.epoch, 1):.1f} s per epoch "
        f"(wall, with validation), test accuracy {snapshot.test_accuracy:.2%}, "
        f"best validation accuracy {max(snapshot.history['val_accuracy']):.2%}"
    )


if __name__ == "__main__":
    main()
