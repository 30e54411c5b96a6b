"""Time the run store and the Runs page on a store of 200 realistic runs.

    python bench/runs.py [--runs 200] [--epochs 20] [--compare 5] [--repeats 7] [--no-model]

Fills a temporary store through the same RunRecorder a training job uses (20 epochs of history
each, a 2,000-point batch curve thinned to 500, a confusion matrix, no model files), then prints
median seconds for: one epoch write; listing the runs; listing them and building the table;
comparing 5 runs (loading them, the overlaid curves, the spec table with its differences shaded,
the confusion matrices, each figure serialised as st.plotly_chart does); and the whole Runs
page through Streamlit's AppTest, with and without 5 runs compared. Unless --no-model, it also
times the per-epoch save of a 784-512-512-10 model, the cost a training run pays every epoch.
Goals (issue 5): list 200 runs < 0.3 s, compare 5 runs < 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.charts.runs import (  # noqa: E402
    confusion_figures,
    highlight_differences,
    overlay_figure,
    runs_table,
    spec_table,
)
from core.inside.evaluation import confusion_matrix  # noqa: E402
from core.nets.model import ModelSpec, build_model, dense_layers  # noqa: E402
from core.runs.recorder import RunRecorder  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.job import RunResult  # noqa: E402

GOAL_LIST = 0.3
GOAL_COMPARE = 1.0
STEPS_PER_EPOCH = 422  # 54,000 training images in batches of 128
BATCH_POINTS_PER_EPOCH = 100


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fake_recorder(store: RunStore, index: int, epochs: int, rng: np.random.Generator):
    """A RunRecorder for a plausible made-up run, with its run created and training begun."""
    units = [int(u) for u in rng.choice([32, 64, 128, 256, 512], size=rng.integers(1, 4))]
    spec = ModelSpec(
        layers=dense_layers(
            units,
            [str(rng.choice(["relu", "tanh", "gelu"])) for _ in units],
            [float(rng.choice([0.0, 0.2, 0.5])) for _ in units],
        ),
        optimizer=str(rng.choice(["adam", "sgd", "rmsprop"])),
        learning_rate=float(rng.choice([1e-3, 1e-2, 1e-1])),
        batch_size=128,
        epochs=epochs,
        seed=index,
    )
    run_id = store.create_run(spec, "MNIST, 60,000 training and 10,000 test images")
    recorder = RunRecorder(store, run_id)
    recorder.set_params({"epochs": epochs, "steps": STEPS_PER_EPOCH, "verbose": 0})
    recorder.on_train_begin()
    return recorder


def play_epoch(recorder: RunRecorder, epoch: int, rng: np.random.Generator) -> dict:
    """Feed one epoch's batch hooks; returns the epoch's logs (on_epoch_end is left to the
    caller, which times it)."""
    recorder.on_epoch_begin(epoch)
    for step in np.linspace(1, STEPS_PER_EPOCH, BATCH_POINTS_PER_EPOCH).astype(int):
        loss = 0.5 / (epoch + 1) + rng.random() * 0.1
        recorder.on_train_batch_end(int(step) - 1, {"loss": loss, "accuracy": 0.9})
    decay = 1.0 / (epoch + 1)
    return {
        "loss": 0.3 * decay + 0.02,
        "accuracy": 0.99 - 0.1 * decay,
        "val_loss": 0.35 * decay + 0.05,
        "val_accuracy": 0.98 - 0.1 * decay,
    }


def finish(recorder: RunRecorder, rng: np.random.Generator) -> None:
    y_test = rng.integers(0, 10, 10_000)
    probabilities = rng.random((len(y_test), 10))
    probabilities[np.arange(len(y_test)), y_test] += 3.0
    confusion = confusion_matrix(y_test, probabilities.argmax(1)).tolist()
    recorder.on_run_end(RunResult("completed", "Trained.", 0.08, 0.97, confusion))


def fill(store: RunStore, runs: int, epochs: int) -> list[float]:
    """Write every run through its RunRecorder; returns the seconds of each epoch write."""
    rng = np.random.default_rng(0)
    writes = []
    for index in range(runs):
        recorder = fake_recorder(store, index, epochs, rng)
        for epoch in range(epochs):
            logs = play_epoch(recorder, epoch, rng)
            start = time.perf_counter()
            recorder.on_epoch_end(epoch, logs)
            writes.append(time.perf_counter() - start)
        finish(recorder, rng)
    return writes


def compare(store: RunStore, ids: list[str]) -> None:
    runs = [store.get(run_id) for run_id in ids]
    figures = [overlay_figure(runs, "val_accuracy"), *confusion_figures(runs)]
    for figure in figures:
        plotly.io.to_json(figure, validate=False)
    highlight_differences(spec_table(runs)).to_html()


def page_seconds(home: Path, repeats: int, compared: list[str] | None) -> float:
    os.environ["KERAS_PLAYGROUND_HOME"] = str(home)
    shared = REPO.parent / "shared" / "data" / "mnist"
    if shared.is_dir():  # the page loads the data set: never download it here
        os.environ.setdefault("MNIST_DATA", str(shared))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/runs.py")  # through app.py: the page links to the others
    at.run()
    if compared:
        at.multiselect(key="runs_compare").set_value(compared)
        at.run()
    assert not at.exception, at.exception
    return median_seconds(at.run, repeats)


def model_save_seconds(store: RunStore, repeats: int) -> float:
    spec = ModelSpec()
    model = build_model(spec)
    model.optimizer.build(model.trainable_variables)  # saved with its state, as after training
    rng = np.random.default_rng(1)
    recorder = fake_recorder(store, 10_000, 1, rng)
    recorder.set_model(model)
    logs = play_epoch(recorder, 0, rng)
    return median_seconds(lambda: recorder.on_epoch_end(0, logs), repeats)


Row = tuple[str, float, float | None]  # (what, median seconds, goal in seconds or None)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--compare", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-model", action="store_true", help="skip timing a model save")
    return parser.parse_args()


def filled_store(home: Path, args: argparse.Namespace) -> tuple[RunStore, list[float]]:
    """A store in `home` holding --runs runs, and the seconds of each epoch write."""
    store = RunStore(home)
    start = time.perf_counter()
    writes = fill(store, args.runs, args.epochs)
    filled = time.perf_counter() - start
    size = sum(p.stat().st_size for p in home.glob("runs.sqlite3*")) / 1024 / 1024
    print(
        f"Filled {args.runs} runs x {args.epochs} epochs in {filled:.1f} s "
        f"(database {size:.1f} MB)\n"
    )
    return store, writes


def time_store_and_page(
    store: RunStore, home: Path, writes: list[float], args: argparse.Namespace
) -> list[Row]:
    """Every figure of the table but the model save."""
    ids = [run.id for run in store.list_runs()][: args.compare]
    return [
        ("one epoch write (history + batches, no model)", statistics.median(writes), None),
        (
            f"list_runs ({args.runs} runs)",
            median_seconds(store.list_runs, args.repeats),
            None,
        ),
        (
            f"list_runs + table dataframe ({args.runs} runs)",
            median_seconds(lambda: runs_table(store.list_runs()), args.repeats),
            GOAL_LIST,
        ),
        (
            f"compare {args.compare} runs (load, overlay, specs, matrices)",
            median_seconds(lambda: compare(store, ids), args.repeats),
            GOAL_COMPARE,
        ),
        (
            f"Runs page, AppTest rerun ({args.runs} runs, none compared)",
            page_seconds(home, 3, None),
            None,
        ),
        (
            f"Runs page, AppTest rerun ({args.compare} runs compared)",
            page_seconds(home, 3, ids),
            None,
        ),
    ]


def print_table(rows: list[Row]) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"{'what':<{width}}  {'median s':>9}  goal")
    for name, seconds, goal in rows:
        verdict = "" if goal is None else f"< {goal:g} s {'met' if seconds < goal else 'MISSED'}"
        print(f"{name:<{width}}  {seconds:>9.4f}  {verdict}")


def main() -> None:
    args = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="runs-bench-") as folder:
        home = Path(folder)
        store, writes = filled_store(home, args)
        rows = time_store_and_page(store, home, writes, args)
        if not args.no_model:
            rows.append(
                (
                    "one epoch write with a 784-512-512-10 model save",
                    model_save_seconds(store, 5),
                    None,
                )
            )
    print_table(rows)


if __name__ == "__main__":
    main()
