"""The inside views' goals, measured: Draw stays instant, top images, the diagram, dynamics' cost.

    python bench/inside.py [--calls 100] [--repeats 3] [--train-images 54000] [--sections 1234]

1. Draw: one canvas to the prediction (core.mnist.recognise.recognise) plus every hidden layer's
   activations and the saliency (Inspector.explain), server side, median and 90th percentile
   over --calls drawings. Goal: median at most 30 ms, for the default dense preset and the
   keras.io convnet (the CNN anchor in STYLE.md), both as the pages get them (standard_form,
   the conv one nested behind a Reshape). Weights are untrained: timing depends on them only
   through the saliency's steps (bench/saliency.py times trained networks).
2. Top-exciting images: each hidden layer's ranking over the 10,000 test digits, the first
   time (compiling its pass) and again. Goal: at most 2 s per layer.
3. Diagram: the spec's diagram and its figure, serialised as Streamlit sends it, for the
   default preset and the largest network the builder allows (5 Dense layers of 4,096 units,
   the rest convolutional blocks). Goal: at most 100 ms.
4. Dynamics: the default preset trained for an epoch on --train-images digits with and
   without core.inside.dynamics.LayerNorms, alternating, --repeats times each; the ratio of the
   median epoch times (CPU and wall), and one measurement's CPU cost against an epoch's.
   Goal: at most 1.05 (off costs nothing: no callback is added).

Each figure is given as wall-clock time and as this process's CPU time (all its threads):
on a machine shared with other work the wall time grows with the load while the CPU time
does not, and on an idle machine the wall time is at most the CPU time (TensorFlow may use
several cores at once). MNIST comes from $MNIST_DATA or ../shared/data/mnist (random digits
stand in where absent).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from core.charts.diagram import diagram_figure  # noqa: E402
from core.inside.activations import Inspector  # noqa: E402
from core.inside.diagram import spec_diagram  # noqa: E402
from core.inside.dynamics import POINTS_PER_EPOCH, LayerNorms, NormLog, weighted_layers  # noqa: E402
from core.inside.unit_search import rank_units  # noqa: E402
from core.mnist.data import MNIST, load_mnist  # noqa: E402
from core.mnist.recognise import recognise  # noqa: E402
from core.nets.model import MAX_HIDDEN_LAYERS, MAX_LAYERS, ModelSpec, build_model  # noqa: E402
from core.nets.model_files import standard_form  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from core.training.job import steps_per_execution_for  # noqa: E402
from tests.support.drawings import place_on_canvas  # noqa: E402

CONVNET = [  # keras-io examples/vision/mnist_convnet.py
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dropout", "rate": 0.5},
]


def largest_spec() -> ModelSpec:
    """As many layers as the builder takes: conv blocks, then 5 Dense layers of 4,096 units."""
    dense = [{"type": "Dense", "units": 4096, "activation": "relu"}] * MAX_HIDDEN_LAYERS
    conv_block = [
        {
            "type": "Conv2D",
            "filters": 64,
            "kernel_size": 3,
            "padding": "same",
            "activation": "relu",
        },
        {"type": "BatchNormalization"},
    ]
    room = MAX_LAYERS - len(dense) - 1
    conv = (conv_block * room)[:room]
    return ModelSpec(layers=[*conv, {"type": "Flatten"}, *dense])


def load_data():
    folder = os.environ.get("MNIST_DATA") or str(REPO.parent / "shared" / "data" / "mnist")
    try:
        return load_mnist(folder, allow_download=False)
    except Exception as error:  # noqa: BLE001 - a bench falls back to stand-in digits
        print(f"(MNIST not found: {error}; random digits stand in)")

        rng = np.random.default_rng(0)
        return MNIST(
            rng.integers(0, 256, (60000, 28, 28)).astype(np.uint8),
            rng.integers(0, 10, 60000).astype(np.uint8),
            rng.integers(0, 256, (10000, 28, 28)).astype(np.uint8),
            rng.integers(0, 10, 10000).astype(np.uint8),
            source="random stand-in",
        )


def stored_form(spec: ModelSpec):
    model, _ = standard_form(build_model(spec, steps_per_epoch=100))
    return model


def median_ms(times: list[float]) -> tuple[float, float]:
    return 1000 * float(np.median(times)), 1000 * float(np.percentile(times, 90))


def bench_draw(models: dict, data, calls: int) -> None:
    rng = np.random.default_rng(0)
    canvases = [
        place_on_canvas(data.x_test[i], int(rng.integers(120, 260)), 10, 10, background="black")
        for i in rng.integers(0, len(data.x_test), 20)
    ]
    print("\n1. Draw: canvas -> prediction + activations + saliency (server side)")
    for name, model in models.items():
        inspector = Inspector(model)
        recognition = recognise(model, canvases[0])
        inspector.explain(recognition.image)  # compile once, as the page's first drawing does
        total, prediction, inside, cpu = [], [], [], []
        for call in range(calls):
            canvas = canvases[call % len(canvases)]
            start, start_cpu = time.perf_counter(), time.process_time()
            recognition = recognise(model, canvas)
            middle = time.perf_counter()
            inspector.explain(recognition.image)
            end = time.perf_counter()
            cpu.append(time.process_time() - start_cpu)
            total.append(end - start)
            prediction.append(middle - start)
            inside.append(end - middle)
        (med, p90), (pred, _), (ins, _) = median_ms(total), median_ms(prediction), median_ms(inside)
        cpu_med, _ = median_ms(cpu)
        verdict = "ok" if min(med, cpu_med) <= 30 else "OVER the 30 ms goal"
        print(
            f"   {name}: median {med:.1f} ms wall (90th pct {p90:.1f}; prediction {pred:.1f}, "
            f"activations + saliency {ins:.1f}), {cpu_med:.1f} ms CPU -> {verdict}"
        )


def bench_top_images(models: dict, data) -> None:
    print(f"\n2. Top-exciting images over {len(data.x_test):,} test digits, per layer")
    for name, model in models.items():
        inspector = Inspector(model)
        for info in inspector.layers:
            start = time.perf_counter()
            rank_units(inspector, data.x_test, info)
            first = time.perf_counter() - start
            start, start_cpu = time.perf_counter(), time.process_time()
            rank_units(inspector, data.x_test, info)
            again, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            verdict = "ok" if min(first, cpu) <= 2 else "OVER the 2 s goal"
            print(
                f"   {name} / {info.label}: {first:.2f} s first, {again:.2f} s again "
                f"({cpu:.2f} s CPU) -> {verdict}"
            )


def bench_diagram() -> None:
    print("\n3. Diagram from the spec, figure built and serialised")
    for name, spec in (
        ("default preset", PRESETS[DEFAULT_PRESET].spec),
        ("largest", largest_spec()),
    ):
        times, cpu = [], []
        for _ in range(20):
            start, start_cpu = time.perf_counter(), time.process_time()
            diagram_figure(spec_diagram(spec)).to_json()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        (med, p90), (cpu_med, _) = median_ms(times), median_ms(cpu)
        verdict = "ok" if min(med, cpu_med) <= 100 else "OVER the 100 ms goal"
        print(
            f"   {name} ({len(spec.layers)} layers): median {med:.1f} ms wall (90th pct "
            f"{p90:.1f}), {cpu_med:.1f} ms CPU -> {verdict}"
        )


class EpochTimer(keras.callbacks.Callback):
    """Keeps its last epoch's wall-clock and CPU seconds."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.start_cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.start_cpu


def measurement_costs(norms, model, count: int = 10) -> list[float]:
    """CPU seconds of `count` measurements by the LayerNorms callback `norms` alone, on `model`:
    robust to a busy machine."""
    norms._layers = weighted_layers(model)
    costs = []
    for _ in range(count):
        start = time.process_time()
        norms.measure()
        costs.append(time.process_time() - start)
    return costs


def timed_epoch(
    spec: ModelSpec, data, x: np.ndarray, y: np.ndarray, with_norms: bool
) -> tuple[float, float, list[float]]:
    """Train two epochs (the first pays for compiling the training step) with or without
    LayerNorms; the second epoch's wall-clock and CPU seconds, and with LayerNorms the CPU
    cost of single measurements."""

    model = build_model(
        spec,
        steps_per_epoch=-(-len(x) // spec.batch_size),
        steps_per_execution=steps_per_execution_for(spec.batch_size),
    )
    timer = EpochTimer()
    callbacks = [timer]
    if with_norms:
        callbacks.append(LayerNorms(NormLog(), data.x_train, data.y_train))
    model.fit(x, y, batch_size=spec.batch_size, epochs=2, verbose=0, callbacks=callbacks)
    costs = measurement_costs(callbacks[1], model) if with_norms else []
    return timer.seconds, timer.cpu, costs


def print_dynamics(
    off: list[float],
    on: list[float],
    epoch_cpu: dict[bool, list[float]],
    probe_costs: list[float],
    images: int,
) -> None:
    """The measurements' share of an epoch, and the epoch's CPU and wall-clock ratios."""
    ratio = float(np.median(on) / np.median(off))
    cpu_off, cpu_on = (float(np.median(epoch_cpu[k])) for k in (False, True))
    cpu_ratio = cpu_on / cpu_off
    probe, cpu = float(np.median(probe_costs)), cpu_off
    share = POINTS_PER_EPOCH * probe / cpu
    print(
        f"   one measurement {1000 * probe:.1f} ms CPU, an epoch {cpu:.2f} s CPU -> "
        f"{'ok' if share <= 0.05 else 'OVER the 5 % goal'}: "
        f"{POINTS_PER_EPOCH} measurements cost {100 * share:.2f} % of an epoch of "
        f"{images:,} digits ({100 * share * images / 54000:.2f} % of a full 54,000-digit one)"
    )
    verdict = "ok" if cpu_ratio <= 1.05 else "OVER the 5 % goal"
    print(
        f"   epoch CPU time off {cpu_off:.2f} s, on {cpu_on:.2f} s (medians of {len(off)}): "
        f"ratio {cpu_ratio:.3f} -> {verdict}"
    )
    print(
        f"   epoch wall time off {np.median(off):.2f} s, on {np.median(on):.2f} s (off "
        f"{', '.join(f'{s:.2f}' for s in off)}; on {', '.join(f'{s:.2f}' for s in on)}): "
        f"ratio {ratio:.3f} (only meaningful on an idle machine)"
    )


def bench_dynamics(data, repeats: int, train_images: int) -> None:
    spec = PRESETS[DEFAULT_PRESET].spec
    x = data.x_train[:train_images].reshape(-1, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[data.y_train[:train_images]]
    print(f"\n4. Dynamics: one epoch of the default preset on {train_images:,} digits")
    off, on = [], []
    epoch_cpu: dict[bool, list[float]] = {False: [], True: []}
    probe_costs: list[float] = []
    for _ in range(repeats):
        for with_norms, seconds in ((False, off), (True, on)):
            wall, cpu, costs = timed_epoch(spec, data, x, y, with_norms)
            seconds.append(wall)
            epoch_cpu[with_norms].append(cpu)
            probe_costs.extend(costs)
    print_dynamics(off, on, epoch_cpu, probe_costs, len(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=54000)
    parser.add_argument("--skip-dynamics", action="store_true")
    parser.add_argument("--sections", default="1234", help="which parts to run, e.g. 13")
    args = parser.parse_args()
    data = load_data()
    print(f"data: {data.description}")
    models = {
        "default dense preset": stored_form(PRESETS[DEFAULT_PRESET].spec),
        "keras.io convnet": stored_form(ModelSpec(layers=CONVNET)),
    }
    if "1" in args.sections:
        bench_draw(models, data, args.calls)
    if "2" in args.sections:
        bench_top_images(models, data)
    if "3" in args.sections:
        bench_diagram()
    if "4" in args.sections and not args.skip_dynamics:
        bench_dynamics(data, args.repeats, args.train_images)


if __name__ == "__main__":
    main()
