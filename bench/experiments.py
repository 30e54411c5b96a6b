"""Experiments' three goals, measured: queue overhead, Ray per-run overhead, random forest.

    python bench/experiments.py [--runs 4] [--skip-ray] [--skip-forest]

1. The same runs trained one by one as the Train page starts them (`start_recorded_run`, one
   after another) and through the experiment queue: total seconds and their ratio (goal: the
   queue adds at most 5 %).
2. Ray on this machine (a local cluster of one CPU, so runs go one at a time): seconds per run
   against the same run trained here, once the worker has imported TensorFlow (goal: at most
   2 s more per run); the first run, which pays the worker's imports, is printed apart.
3. The random forest baseline on the full MNIST: seconds to train and evaluate, and its test
   accuracy (goals: at most 60 s, at least 96.5 %).

It reads MNIST from MNIST_DATA or ../shared/data/mnist and keeps its runs in a temporary store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from core.data import load_mnist  # noqa: E402
from core.experiment_store import ExperimentStore  # noqa: E402
from core.experiments import create_experiment, start  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.sweeps import ExperimentDefinition, spec_for  # noqa: E402
from core.training import JobRegistry, start_recorded_run  # noqa: E402

BASE = {
    "layers": [{"type": "Dense", "units": 128, "activation": "relu"}],
    "optimizer": "adam",
    "learning_rate": 0.001,
    "epochs": 2,
    "batch_size": 128,
    "seed": 1,
}


def one_by_one(store, data, definition) -> float:
    registry = JobRegistry()
    specs = [spec_for(definition.base_spec, {}, seed) for seed in definition.seed_values()]
    started = time.perf_counter()
    for spec in specs:
        job = start_recorded_run(store, spec, data, owner="bench", registry=registry)
        job.join()
    return time.perf_counter() - started


def queued(store, xstore, data, definition, address=None) -> tuple[float, list[float]]:
    experiment_id = create_experiment(xstore, definition, "ray" if address else "embedded")
    started = time.perf_counter()
    runner = start(store, xstore, experiment_id, data, address)
    runner.join()
    total = time.perf_counter() - started
    if runner.error:
        raise runner.error
    trials = xstore.trials(experiment_id)
    # Per run: wall seconds from taking it off the queue to its result stored, and the part of
    # them that was not Keras training (wall minus the run's own training seconds).
    return total, [
        (t.finished - t.started, t.finished - t.started - store.get(t.run_id).training_seconds)
        for t in trials
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--skip-queue", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-forest", action="store_true")
    args = parser.parse_args()
    folder = os.environ.get("MNIST_DATA", str(REPO.parent / "shared" / "data" / "mnist"))
    data = load_mnist(folder)
    print(data.description)
    home = Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    store, xstore = RunStore(home), ExperimentStore(home)
    definition = ExperimentDefinition(BASE, [], seeds=args.runs, budget=args.runs)

    per_run: list[tuple[float, float]] = []
    if not args.skip_queue:
        one_by_one(store, data, ExperimentDefinition(BASE, [], seeds=1, budget=1))  # warm up
        direct = one_by_one(store, data, definition)
        through_queue, per_run = queued(store, xstore, data, definition)
        print(
            f"1. {args.runs} runs of {BASE['epochs']} epochs, 784-128-10: one by one "
            f"{direct:.1f} s, queued {through_queue:.1f} s, ratio {through_queue / direct:.3f} "
            f"({100 * (through_queue / direct - 1):+.1f} %; goal <= +5 %)",
            flush=True,
        )

    if not args.skip_ray:
        from core import ray_backend

        ray_backend.connect(num_cpus=1, include_dashboard=False)
        if not per_run:
            _, per_run = queued(store, xstore, data, definition)
        _, ray_runs = queued(store, xstore, data, definition, address="local")
        here = statistics.median(extra for _, extra in per_run[1:] or per_run)
        there = statistics.median(extra for _, extra in ray_runs[1:] or ray_runs)
        print(
            f"2. Ray, one local CPU: first run {ray_runs[0][0]:.1f} s (the worker imports "
            f"TensorFlow), then median {statistics.median(w for w, _ in ray_runs[1:]):.1f} s a "
            f"run against {statistics.median(w for w, _ in per_run[1:]):.1f} s here. Seconds "
            f"of each run outside Keras training (build, test, save; for Ray also task start, "
            f"data, events back): {there:.2f} s on Ray against {here:.2f} s here, "
            f"so Ray adds {there - here:+.2f} s a run (goal <= 2 s)"
        )

    if not args.skip_forest:
        from core.baselines import RF_TREES, train_baseline

        result = train_baseline(data, "random_forest", seed=42)
        print(
            f"3. Random forest ({RF_TREES} trees), full MNIST: trained and evaluated in "
            f"{result.seconds:.1f} s (goal <= 60 s), test accuracy {100 * result.test_accuracy:.2f} % "
            f"(goal >= 96.5 %), validation {100 * result.val_accuracy:.2f} %"
        )


if __name__ == "__main__":
    main()
