"""The 2-D playground's two goals: training speed against plain `model.fit`, and the redraw.

    python bench/xor.py [--repeats 3] [--fit-epochs 10] [--epochs 200] [--skip-page]

1. Training, per dataset (the four XOR points with seed 000's 2-16-1 network; every other
   dataset with a Playground-sized 2-8-8-out network, batches of 10 as Playground trains):
   seconds per epoch of plain `model.fit` (already traced: one epoch first, then
   `--fit-epochs` timed) against the page's `EpochRunner` (built, traced and warmed up as
   the page does after a settings change, then `--epochs` timed, in calls of 100 epochs as
   the job makes them), the two taking turns so a change in the machine's load falls on
   both. Goal: at least 20 times faster on every dataset. "ready" is what a settings change
   costs before training can start: the network built and the runner traced and warmed up.
   The CPU columns count the CPU seconds of all the process's threads instead: on a machine
   other work keeps busy they change less than the wall-clock ones.
2. Redraw while training, with a 6 x 8 network on the spiral: the worker's prediction of
   every unit over the plane (`predict_boundary`), then what the page does on every poll:
   build the network picture, the output, the unit shown large and the curves (500 epochs),
   and serialise them as Streamlit does (`to_dict` and `plotly.io.to_json`). Goal: at most
   100 ms for the figures and their serialisation. Then the whole page script through
   Streamlit's AppTest (widgets included), as a cross-check.

Figures are medians over the repeats, in one process, one path after the other.
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

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.charts.plane import network_figure, unit_figure  # noqa: E402
from core.charts.xor import boundary_figure, plane_curves_figure  # noqa: E402
from core.plane.data import make_data  # noqa: E402
from core.plane.model import build_plane_model, grid_axis, predict_boundary  # noqa: E402
from core.plane.runner import EpochRunner  # noqa: E402
from core.plane.spec import DATASETS, PlaneSpec  # noqa: E402

SMALL = {"hidden_layers": 2, "units_1": 8, "units_2": 8, "batch_size": 10, "samples": 500}
DEEP = {f"units_{i}": 8 for i in range(1, 7)}


def bench_spec(data: str) -> PlaneSpec:
    if data == "points":
        return PlaneSpec()
    loss = "crossentropy" if data == "blobs" else "mean_squared_error"
    return PlaneSpec(data=data, loss=loss, learning_rate=0.01, **SMALL)


class Clock:
    """Wall-clock and CPU seconds (all of this process's threads) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def per(self, count: int) -> tuple[float, float]:
        return (time.perf_counter() - self.wall) / count, (time.process_time() - self.cpu) / count


def fit_seconds_per_epoch(spec: PlaneSpec, epochs: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds per epoch of plain `model.fit`."""
    data = make_data(spec)
    model = build_plane_model(spec)
    kwargs = {"batch_size": data.batch_size, "shuffle": True, "verbose": 0}
    model.fit(data.x_train, data.y_train, epochs=1, **kwargs)  # trace first
    clock = Clock()
    model.fit(data.x_train, data.y_train, epochs=epochs, **kwargs)
    return clock.per(epochs)


def runner_seconds(spec: PlaneSpec, epochs: int) -> tuple[float, tuple[float, float]]:
    """Seconds to get a runner ready (build, trace, warm up); wall and CPU seconds per epoch."""
    data = make_data(spec)
    clock = Clock()
    runner = EpochRunner(build_plane_model(spec), data, spec.seed, shuffle=spec.data != "points")
    runner.warm_up()
    ready = clock.per(1)[0]
    clock = Clock()
    for first in range(0, epochs, 100):
        runner.run(first, min(100, epochs - first))
    return ready, clock.per(epochs)


def training(repeats: int, fit_epochs: int, epochs: int) -> None:
    print(f"\n1. seconds per epoch, medians of {repeats} (fit and runner taking turns)")
    print(
        f"  {'dataset':<28} {'net':<12} {'points':>6} {'fit':>9} {'runner':>9} {'faster':>8} "
        f"{'ready':>7}   {'CPU: fit':>9} {'runner':>9} {'faster':>8}"
    )
    for data in DATASETS:
        spec = bench_spec(data)
        fits, ours, ready = [], [], []
        for _ in range(repeats):
            fits.append(fit_seconds_per_epoch(spec, fit_epochs))
            seconds_ready, seconds_per_epoch = runner_seconds(spec, epochs)
            ready.append(seconds_ready)
            ours.append(seconds_per_epoch)
        fit, runner = (statistics.median(s[0] for s in runs) for runs in (fits, ours))
        fit_cpu, runner_cpu = (statistics.median(s[1] for s in runs) for runs in (fits, ours))
        n = len(make_data(spec).x_train)
        print(
            f"  {DATASETS[data]:<28} {spec.architecture():<12} {n:>6} {fit * 1000:>7.2f}ms "
            f"{runner * 1000:>7.3f}ms {fit / runner:>7.1f}x {statistics.median(ready):>6.2f}s   "
            f"{fit_cpu * 1000:>7.2f}ms {runner_cpu * 1000:>7.3f}ms {fit_cpu / runner_cpu:>7.1f}x",
            flush=True,
        )


def redraw(repeats: int) -> None:
    spec = PlaneSpec(data="spiral", hidden_layers=6, **DEEP, x1_squared=True, sin_x1=True)
    data = make_data(spec)
    model = build_plane_model(spec)
    EpochRunner(model, data, spec.seed, shuffle=True).run(0, 50)
    axis = grid_axis(data.low, data.high)
    history = {k: list(np.linspace(1, 0, 500)) for k in ("loss", "accuracy", "test_loss")}
    history["test_accuracy"] = list(np.linspace(0, 1, 500))
    predict_boundary(model, axis, 50)  # builds the probe model once
    times: dict[str, list[float]] = {"predict": [], "figures": [], "serialise": []}
    for _ in range(max(5, repeats * 3)):
        started = time.perf_counter()
        view = predict_boundary(model, axis, 50)
        predicted = time.perf_counter()
        figures = [
            network_figure(view, spec.features, selected=(3, 2)),
            boundary_figure(view, data),
            unit_figure(view, 3, 2, spec.features),
            plane_curves_figure(history),
        ]
        built = time.perf_counter()
        sizes = [len(plotly.io.to_json(figure.to_dict(), validate=False)) for figure in figures]
        done = time.perf_counter()
        times["predict"].append(predicted - started)
        times["figures"].append(built - predicted)
        times["serialise"].append(done - built)
    median = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"\n2. redraw, {spec.architecture()} on the spiral, medians of {len(times['predict'])}")
    print(f"  worker: every unit over the plane (predict_boundary)  {median['predict']:7.1f} ms")
    print(f"  page: four figures built                              {median['figures']:7.1f} ms")
    print(
        f"  page: serialised as Streamlit does ({sum(sizes) // 1000} kB)          "
        f"{median['serialise']:7.1f} ms"
    )
    total = median["figures"] + median["serialise"]
    print(f"  page total (goal 100 ms)                              {total:7.1f} ms")


def page_run(repeats: int) -> None:
    """The whole page script through AppTest, idle, with the 6 x 8 spiral trained 50 epochs."""
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app_pages" / "xor.py"))
    at.session_state["xor_data"] = "spiral"
    at.session_state["xor_hidden_layers"] = 6
    for name, value in DEEP.items():
        at.session_state[f"xor_{name}"] = value
    at.run(timeout=120)
    while at.session_state["xor_job"].running:
        time.sleep(0.2)
    at.session_state["xor_job"].train(50)
    at.session_state["xor_job"].join()
    times = []
    for _ in range(max(5, repeats * 3)):
        started = time.perf_counter()
        at.run(timeout=60)
        times.append(time.perf_counter() - started)
    assert not at.exception, at.exception
    print(
        f"  whole page script in AppTest (widgets, figures)       "
        f"{statistics.median(times) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_training:
        training(args.repeats, args.fit_epochs, args.epochs)
    redraw(args.repeats)
    if not args.skip_page:
        page_run(args.repeats)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
