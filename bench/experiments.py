"""Experiments' three goals, measured: queue overhead, Ray per-run overhead, random forest.

    python bench/experiments.py [--runs 4] [--rounds 4] [--vary seed|learning_rate|units]
                                [--skip-queue] [--skip-ray] [--skip-forest]

1. The same runs (same settings, seeds and data) trained three ways, in one process: one by
   one as the Train page starts them (`start_recorded_run`, which also creates and records
   each run in the store, the next started as soon as the previous job has ended); the same,
   but with each run's model built and traced beforehand as the Train page does while a
   person reads it (core.training.warm_start; that wait not counted, so Train at its best); and
   through the experiment queue (timed from creating the experiment to its runner's end).
   In rounds whose order rotates: each round's seconds, how much of them was spent between
   runs (before the first run's row, between one run's last write and the next one's row,
   after the last write) and the CPU seconds of all the process's threads (less swayed by
   other programs than the wall clock), the medians, and the queue's median ratio to each
   (goal: the queue adds at most 5 %). The queue's first round also opens Optuna for the
   first time. The runs differ in their seed (`--vary seed`, the default), or each has
   another learning rate or width of its hidden layer (`--vary learning_rate`, `--vary
   units`, one seed): every side trains a traced model kept from an earlier run of the same
   network when there is one (core.training.traced_models.TracedModels), which runs of other seeds or
   rates are, and runs of other widths are not.
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

from core.experiments import ray_backend  # noqa: E402
from core.experiments.baselines import RF_TREES, train_baseline  # noqa: E402
from core.experiments.runner import create_experiment, start  # noqa: E402
from core.experiments.store import ExperimentStore  # noqa: E402
from core.experiments.sweeps import Axis, ExperimentDefinition, grid_configurations, spec_for  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402
from core.runs.start import start_recorded_run  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.job import build_ahead  # noqa: E402
from core.training.registry import JobRegistry  # noqa: E402
from core.training.warm_start import WARM_STARTS  # noqa: E402

BASE = {
    "layers": [{"type": "Dense", "units": 128, "activation": "relu"}],
    "optimizer": "adam",
    "learning_rate": 0.001,
    "epochs": 2,
    "batch_size": 128,
    "seed": 1,
}


def one_by_one(store, data, definition, registry=None, built_ahead=False):
    """Seconds (wall, and CPU of all this process's threads) to train the definition's runs
    as Train starts them, and their run ids.

    With `built_ahead`, each run's model is first built and traced, and its data made tensors,
    as the Train page does while a person reads it (core.training.warm_start), and that wait is not
    counted: Train at its best.
    """

    registry = registry or JobRegistry()
    configurations = grid_configurations(definition.axes) if definition.axes else [{}]
    specs = [
        spec_for(definition.base_spec, params, seed)
        for params in configurations[: definition.configurations_planned()]
        for seed in definition.seed_values()
    ]
    run_ids, seconds, cpu = [], 0.0, 0.0
    for spec in specs:
        if built_ahead:
            key = build_ahead(spec, data)
            while WARM_STARTS.ready_key() != key:
                time.sleep(0.02)
        started, cpu_started = time.perf_counter(), time.process_time()
        job = start_recorded_run(store, spec, data, owner="bench", registry=registry)
        job.join()
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        run_ids.append(job.run_id)
    return seconds, cpu, run_ids


def queued(store, xstore, data, definition, address=None):
    """Seconds to create the experiment and train it through the queue, seconds per run (wall
    from taking it off the queue to its result stored, and the part that was not Keras
    training), the run ids in order, and the CPU seconds of all this process's threads."""
    started, cpu_started = time.perf_counter(), time.process_time()
    experiment_id = create_experiment(xstore, definition, "ray" if address else "embedded")
    runner = start(store, xstore, experiment_id, data, address)
    runner.join()
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if runner.error:
        raise runner.error
    trials = xstore.trials(experiment_id)
    per_run = [
        (t.finished - t.started, t.finished - t.started - store.get(t.run_id).training_seconds)
        for t in trials
    ]
    return total, per_run, [t.run_id for t in trials], cpu


def between_runs(store, run_ids, seconds: float) -> float:
    """Of `seconds` spent on these runs, those outside their rows' lives (created to last
    write): starting, bookkeeping and waiting between runs."""
    runs = [store.get(run_id) for run_id in run_ids]
    return seconds - sum(run.updated - run.created for run in runs)


SIDES = {
    "one by one": lambda store, xstore, data, definition, registry: one_by_one(
        store, data, definition, registry
    ),
    "one by one, built ahead": lambda store, xstore, data, definition, registry: one_by_one(
        store, data, definition, registry, built_ahead=True
    ),
    "queued": lambda store, xstore, data, definition, registry: queued(
        store, xstore, data, definition
    ),
}


def runs_varying(setting: str, runs: int) -> ExperimentDefinition:
    """`runs` runs of BASE differing in `setting`: their seed, or (with one seed) their learning
    rate or width."""
    if setting == "seed":
        return ExperimentDefinition(BASE, [], seeds=runs, budget=runs)
    values = {
        "learning_rate": [round(BASE["learning_rate"] * 1.5**i, 6) for i in range(runs)],
        "units": [BASE["layers"][0]["units"] + 16 * i for i in range(runs)],
    }[setting]
    return ExperimentDefinition(BASE, [Axis(setting, values)], seeds=1, budget=runs)


def compare(store, xstore, data, definition, rounds: int):
    """Rounds of the three ways, each round in another order; prints each round and the
    medians, returns the per-run figures of the queue's last round (for the Ray comparison)."""
    registry = JobRegistry()
    one_by_one(store, data, ExperimentDefinition(BASE, [], seeds=1, budget=1), registry)  # warm
    names = list(SIDES)
    seconds = {name: [] for name in names}
    between = {name: [] for name in names}
    cpu = {name: [] for name in names}
    per_run = []
    for round_ in range(rounds):
        order = names[round_ % 3 :] + names[: round_ % 3]
        for name in order:
            result = SIDES[name](store, xstore, data, definition, registry)
            if name == "queued":
                took, per_run, run_ids, cpu_took = result
            else:
                took, cpu_took, run_ids = result
            seconds[name].append(took)
            cpu[name].append(cpu_took)
            between[name].append(between_runs(store, run_ids, took))
        print(
            f"   round {round_ + 1} ({', then '.join(order)}): "
            + "; ".join(
                f"{name} {seconds[name][-1]:.2f} s ({between[name][-1]:.2f} s between runs, "
                f"CPU {cpu[name][-1]:.1f} s)"
                for name in names
            )
            + f"; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    median = statistics.median
    varied = ", ".join(axis.describe() for axis in definition.axes) or "seeds"
    print(
        f"1. {definition.runs_planned()} runs of {BASE['epochs']} epochs, 784-128-10, differing "
        f"in {varied}; {rounds} rounds, medians: "
        + "; ".join(
            f"{name} {median(seconds[name]):.2f} s ({median(between[name]):.2f} s between runs, "
            f"CPU {median(cpu[name]):.1f} s)"
            for name in names
        ),
        flush=True,
    )
    for name in names[:2]:
        ratios = [q / d for q, d in zip(seconds["queued"], seconds[name], strict=True)]
        cpu_ratios = [q / d for q, d in zip(cpu["queued"], cpu[name], strict=True)]
        print(
            f"   queued against {name}: median ratio {median(ratios):.3f} "
            f"({100 * (median(ratios) - 1):+.1f} %; goal <= +5 %), rounds "
            + ", ".join(f"{r:.3f}" for r in ratios)
            + f"; CPU seconds' median ratio {median(cpu_ratios):.3f}",
            flush=True,
        )
    return per_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--vary", choices=["seed", "learning_rate", "units"], default="seed")
    parser.add_argument("--skip-queue", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-forest", action="store_true")
    args = parser.parse_args()
    folder = os.environ.get("MNIST_DATA", str(REPO.parent / "shared" / "data" / "mnist"))
    data = load_mnist(folder)
    print(data.description)
    home = Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    store, xstore = RunStore(home), ExperimentStore(home)
    definition = runs_varying(args.vary, args.runs)

    per_run: list[tuple[float, float]] = []
    if not args.skip_queue:
        per_run = compare(store, xstore, data, definition, args.rounds)

    if not args.skip_ray:
        ray_backend.connect(num_cpus=1, include_dashboard=False)
        if not per_run:
            _, per_run, *_ = queued(store, xstore, data, definition)
        _, ray_runs, *_ = queued(store, xstore, data, definition, address="local")
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
        result = train_baseline(data, "random_forest", seed=42)
        print(
            f"3. Random forest ({RF_TREES} trees), full MNIST: trained and evaluated in "
            f"{result.seconds:.1f} s (goal <= 60 s), test accuracy {100 * result.test_accuracy:.2f} % "
            f"(goal >= 96.5 %), validation {100 * result.val_accuracy:.2f} %"
        )


if __name__ == "__main__":
    main()
