"""99 % in seconds: the fast presets through the app's path, that path against a bare fit, and
an ablation of the recipe.

    nice -n 10 .venv/bin/python bench/fast.py                    # the 99 % preset, then the path
    nice -n 10 .venv/bin/python bench/fast.py --only preset --preset accurate
    nice -n 10 .venv/bin/python bench/fast.py --only ablation

Every time is a ratio to ONE epoch of the keras.io "Simple MNIST convnet" trained with a bare
`model.fit` in this process (bench/cnn.py's baseline: its second epoch, once tracing is done),
measured right before each seed's runs; medians of the seeds (default 1, 2, 3).

1. preset: the "99 % in seconds" preset (or, with --preset accurate, the wider one aiming
   at 99.4 %) on full MNIST through the app's own path (`start_recorded_run`: a run recorded
   in a fresh store, its model file saved), timed from pressing Train to the test figure:
   - "built ahead": the model built and traced, the data made tensors, before Train is
     pressed, as the Train page does while a person reads it (that wait not counted);
   - "nothing ahead": a first press, nothing built or traced before.
   Goals: 99 % preset, median test accuracy >= 99.0 % within 2 keras.io epochs; accurate
   preset, >= 99.4 % within 11.
2. path: the app's path ("nothing ahead") against a bare `model.fit` of the same network and
   schedule (`build_model`, then `fit` on arrays with 10 % held out, then `evaluate` on the
   test set), alternating, each from the start to the test figure. Ratio of the medians,
   bare / app; goal >= 1.0.
3. ablation: the 99 % preset, then each choice of its recipe undone in turn (one-cycle
   schedule, batch size, learning rate, width, no dropout), built ahead as on the page: the
   median time ratio and test accuracy of each.

Reads /work/shared/data/mnist (or MNIST_DATA). Prints figures; no test asserts on them.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cnn import DATA, one_epoch_of_the_keras_convnet  # noqa: E402
from core.mnist.data import load_mnist, one_hot  # noqa: E402
from core.nets import presets  # noqa: E402
from core.nets.model import ModelSpec, build_model  # noqa: E402
from core.nets.presets import PRESETS, SECONDS_PRESET  # noqa: E402
from core.runs.recorder import RunRecorder  # noqa: E402
from core.runs.start import start_recorded_run  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.job import TrainingJob, build_ahead  # noqa: E402
from core.training.registry import JobRegistry  # noqa: E402
from core.training.warm_start import WARM_STARTS, WarmStarts  # noqa: E402

GOALS = {"seconds": (0.990, 2.0), "accurate": (0.994, 11.0)}
STORE = RunStore(tempfile.mkdtemp(prefix="bench-fast-"))
REGISTRY = JobRegistry()
BUILD_AHEAD_SECONDS = 600


def preset_name(which: str) -> str:
    return SECONDS_PRESET if which == "seconds" else presets.ACCURATE_PRESET


def built_ahead(spec: ModelSpec, data) -> tuple[float, float]:
    """Seconds from pressing Train to the test figure, the model built ahead; test accuracy."""
    key = build_ahead(spec, data)
    deadline = time.monotonic() + BUILD_AHEAD_SECONDS
    while WARM_STARTS.ready_key() != key and time.monotonic() < deadline:
        time.sleep(0.02)  # a build that failed leaves the job to build the model itself
    start = time.perf_counter()
    job = start_recorded_run(STORE, spec, data, owner="bench", registry=REGISTRY)
    job.join()
    return time.perf_counter() - start, job.result.test_accuracy


def nothing_ahead(spec: ModelSpec, data) -> tuple[float, float]:
    """The same for a first press: the job builds and traces its model itself."""
    start = time.perf_counter()
    run_id = STORE.create_run(spec, data.description)
    job = TrainingJob(
        spec, data, run_id=run_id, callbacks=[RunRecorder(STORE, run_id)], warm_starts=WarmStarts()
    ).start()
    job.join()
    return time.perf_counter() - start, job.result.test_accuracy


def bare_fit(spec: ModelSpec, data) -> tuple[float, float]:
    """What a person writes: the model compiled as the app builds it, `fit` on arrays with
    the spec's validation part held out, then `evaluate` on the test set."""
    import keras  # noqa: PLC0415

    start = time.perf_counter()
    keras.utils.set_random_seed(spec.seed)
    shape = (-1, *spec.input_shape)
    x = data.x_train.reshape(shape).astype("float32") / 255
    x_test = data.x_test.reshape(shape).astype("float32") / 255
    train_count = len(x) - round(len(x) * spec.validation_split)
    model = build_model(spec, steps_per_epoch=math.ceil(train_count / spec.batch_size))
    model.fit(
        x,
        one_hot(data.y_train),
        batch_size=spec.batch_size,
        epochs=spec.epochs,
        validation_split=spec.validation_split,
        verbose=0,
    )
    _, accuracy = model.evaluate(x_test, one_hot(data.y_test), batch_size=1024, verbose=0)
    return time.perf_counter() - start, accuracy


def preset_runs(data, which: str, seeds: list[int], ahead_only: bool = False) -> None:
    name = preset_name(which)
    spec = PRESETS[name].spec
    accuracy_goal, ratio_goal = GOALS[which]
    print(f"\n{name}: {spec.architecture()}", flush=True)
    ways = {"built ahead": built_ahead, "nothing ahead": nothing_ahead}
    if ahead_only:
        ways.pop("nothing ahead")
    rows = {way: [] for way in ways}
    for seed in seeds:
        baseline = one_epoch_of_the_keras_convnet(data)
        for way, train in ways.items():
            seconds, accuracy = train(replace(spec, seed=seed), data)
            rows[way].append((seconds / baseline, accuracy))
            print(
                f"  seed {seed}, {way}: {seconds:.1f} s, test accuracy {100 * accuracy:.2f} %; "
                f"keras.io epoch {baseline:.1f} s; ratio {seconds / baseline:.2f}",
                flush=True,
            )
    for way, found in rows.items():
        ratio = statistics.median(r for r, _ in found)
        accuracy = statistics.median(a for _, a in found)
        print(
            f"  {way}: median ratio {ratio:.2f} (goal <= {ratio_goal:g}), median test accuracy "
            f"{100 * accuracy:.2f} % (lowest {100 * min(a for _, a in found):.2f} %; goal >= "
            f"{100 * accuracy_goal:.1f} %)"
        )


def path_against_fit(data, which: str, repeats: int) -> None:
    spec = PRESETS[preset_name(which)].spec
    print(f"\napp path vs bare model.fit, same network and schedule: {spec.architecture()}")
    app, bare = [], []
    for i in range(repeats):
        for way in ("app", "bare") if i % 2 == 0 else ("bare", "app"):
            seconds, accuracy = (nothing_ahead if way == "app" else bare_fit)(spec, data)
            (app if way == "app" else bare).append(seconds)
            print(f"  {way}: {seconds:.1f} s, test accuracy {100 * accuracy:.2f} %", flush=True)
    print(
        f"  median app {statistics.median(app):.1f} s, bare fit {statistics.median(bare):.1f} s: "
        f"ratio bare/app {statistics.median(bare) / statistics.median(app):.2f} (goal >= 1.0)"
    )


def ablations(spec: ModelSpec) -> dict[str, ModelSpec]:
    """The preset, then each choice of its recipe undone, one at a time."""
    wider = [
        {**layer, **{k: 2 * layer[k] for k in ("filters", "units") if k in layer}}
        for layer in spec.layers
    ]
    return {
        "the preset": spec,
        "constant learning rate": replace(spec, lr_schedule="constant"),
        "batch 128": replace(spec, batch_size=128),
        "learning rate 0.001 (Adam's default)": replace(spec, learning_rate=1e-3),
        "twice the filters and units": replace(spec, layers=wider),
        "dropout 0.5 before the output": replace(
            spec, layers=[*spec.layers, {"type": "Dropout", "rate": 0.5}]
        ),
    }


def ablation(data, seeds: list[int]) -> None:
    variants = ablations(PRESETS[SECONDS_PRESET].spec)
    print(f"\nablation of {SECONDS_PRESET} (built ahead; ratio to one keras.io epoch)")
    found: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for seed in seeds:
        baseline = one_epoch_of_the_keras_convnet(data)
        for label, spec in variants.items():
            seconds, accuracy = built_ahead(replace(spec, seed=seed), data)
            found[label].append((seconds / baseline, accuracy))
            print(
                f"  seed {seed}, {label}: {seconds:.1f} s (ratio {seconds / baseline:.2f}), "
                f"{100 * accuracy:.2f} %",
                flush=True,
            )
        print_table(found, seed)


def print_table(found: dict[str, list[tuple[float, float]]], seed: int) -> None:
    """The ablation's table so far (medians of the seeds run), printed after every seed."""
    print(
        f"\nafter seed {seed}:\n| undone | time (keras.io epochs) | test accuracy |\n|---|---|---|"
    )
    for label, rows in found.items():
        ratio = statistics.median(r for r, _ in rows)
        accuracy = statistics.median(a for _, a in rows)
        print(f"| {label} | {ratio:.2f} | {100 * accuracy:.2f} % |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["preset", "path", "ablation"])
    parser.add_argument("--preset", choices=["seconds", "accurate"], default="seconds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ahead-only", action="store_true", help="preset: built ahead only")
    args = parser.parse_args()
    data = load_mnist(DATA, allow_download=False)
    print(f"data: {data.description}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    if args.only in (None, "preset"):
        preset_runs(data, args.preset, args.seeds, args.ahead_only)
    if args.only in (None, "path"):
        path_against_fit(data, args.preset, args.repeats)
    if args.only == "ablation":
        ablation(data, args.seeds)
    WARM_STARTS.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
