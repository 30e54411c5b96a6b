"""Time the Evaluate page's work for a 784-512-512-10 network on 10,000 test digits.

    python bench/evaluate.py [--repeats 5] [--train-epochs 0]

Prints a table of median seconds: predicting (three ways, to justify predict_on_batch),
computing the Evaluation, building each figure (and serialising it with plotly.io.to_json, as
st.plotly_chart does), the whole page, and the rebuild after a filter change. It also
compares the mosaic gallery with one subplot per digit. Uses the real MNIST test set from
MNIST_DATA or ../shared/data/mnist when present, random digits otherwise. Untrained weights
time the same as trained ones; --train-epochs N trains first.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.io  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from core.charts import images as image_charts  # noqa: E402
from core.charts import metrics as metric_charts  # noqa: E402
from core.inside.evaluation import (  # noqa: E402
    Evaluation,
    evaluate_probabilities,
    first_layer_weight_images,
    predict_probabilities,
)
from core.nets.model import ModelSpec, build_model  # noqa: E402

if TYPE_CHECKING:
    import keras

GOAL_PAGE = 2.0
GOAL_FILTER = 0.3


def read_idx(path: Path) -> np.ndarray:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_digits(train: bool = False):
    folder = Path(os.environ.get("MNIST_DATA", REPO.parent / "shared" / "data" / "mnist"))
    prefix = "train" if train else "t10k"
    images, labels = (
        folder / f"{prefix}-images-idx3-ubyte.gz",
        folder / f"{prefix}-labels-idx1-ubyte.gz",
    )
    if images.exists() and labels.exists():
        return read_idx(images), read_idx(labels), f"MNIST from {folder}"
    rng = np.random.default_rng(0)
    n = 60000 if train else 10000
    return (
        rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n, dtype=np.uint8),
        "random digits (MNIST not found)",
    )


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def facet_gallery(images: np.ndarray, titles: list[str], columns: int = 8) -> go.Figure:
    """The alternative to the mosaic: one subplot (and one heatmap) per digit."""
    rows = math.ceil(len(images) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.01,
        vertical_spacing=0.04,
    )
    for i, image in enumerate(images):
        figure.add_trace(
            go.Heatmap(z=image, colorscale="Greys", zmin=0, zmax=255, showscale=False),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed")
    return figure


Row = tuple[str, float, float | None]  # (step, seconds, seconds with plotly.io.to_json)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-epochs", type=int, default=0)
    return parser.parse_args()


def default_network(train_epochs: int) -> tuple[ModelSpec, keras.Model]:
    """The default preset's network, untrained or trained `train_epochs` on the training set."""
    spec = ModelSpec()
    model = build_model(spec)
    if train_epochs:
        x_train, y_train, _ = load_digits(train=True)
        model.fit(
            x_train.reshape(len(x_train), -1).astype(np.float32) / np.float32(255.0),
            np.eye(10, dtype=np.float32)[y_train],
            batch_size=spec.batch_size,
            epochs=train_epochs,
            verbose=0,
        )
    return spec, model


def time_predictions(
    model: keras.Model, images: np.ndarray, repeats: int, rows: list[Row]
) -> tuple[np.ndarray, float]:
    """Predict the test set the app's way, and the two other ways; the probabilities and the
    app's median seconds."""
    inputs = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    start = time.perf_counter()
    probabilities = predict_probabilities(model, images)
    rows.append(("predict_probabilities, first call (traces)", time.perf_counter() - start, None))
    predict_time = median_seconds(lambda: predict_probabilities(model, images), repeats)
    rows.append(("predict_probabilities (predict_on_batch x 1024)", predict_time, None))
    rows.append(
        (
            "  vs model.predict(batch_size=1024)",
            median_seconds(lambda: model.predict(inputs, batch_size=1024, verbose=0), repeats),
            None,
        )
    )
    rows.append(
        (
            "  vs model(x) called directly on all 10,000",
            median_seconds(lambda: np.asarray(model(inputs, training=False)), repeats),
            None,
        )
    )
    return probabilities, predict_time


def figure_builders(
    evaluation: Evaluation, images: np.ndarray, model: keras.Model
) -> dict[str, Callable[[], go.Figure]]:
    """Every figure of the Evaluate page by name, and the one-subplot-per-digit gallery the
    mosaic replaced (named "  vs ...": not counted in the page)."""
    mistakes = evaluation.misclassified()
    first = int(mistakes[0]) if len(mistakes) else 0
    gallery = mistakes[:48]
    return {
        "confusion matrix (counts)": lambda: metric_charts.confusion_matrix_figure(
            evaluation.confusion_matrix
        ),
        "confusion matrix (%)": lambda: metric_charts.confusion_matrix_figure(
            evaluation.confusion_matrix, normalised=True
        ),
        "per-class accuracy": lambda: metric_charts.per_class_accuracy_figure(evaluation.metrics),
        "probabilities of one digit": lambda: metric_charts.probabilities_figure(
            evaluation.probabilities[first], evaluation.labels[first]
        ),
        "one digit enlarged": lambda: image_charts.digit_figure(
            images[first], evaluation.describe(first)
        ),
        f"{len(gallery)} mistakes, mosaic": lambda: image_charts.misclassified_grid_figure(
            evaluation, images, gallery
        ),
        "36 first-layer weights (read + mosaic)": lambda: image_charts.weights_grid_figure(
            first_layer_weight_images(model, limit=36)
        ),
        f"  vs {len(gallery)} mistakes, one subplot each": lambda: facet_gallery(
            images[gallery], evaluation.titles(gallery)
        ),
    }


def time_figures(
    builders: dict[str, Callable[[], go.Figure]], repeats: int, rows: list[Row]
) -> float:
    """Each figure built, and built and serialised; the page's figures' seconds with to_json."""
    figures_time = 0.0
    for name, build in builders.items():
        build_time = median_seconds(build, repeats)
        with_json = median_seconds(lambda b=build: plotly.io.to_json(b(), validate=False), repeats)
        size = len(plotly.io.to_json(build(), validate=False))
        rows.append((f"figure: {name} ({size / 1000:.0f} kB)", build_time, with_json))
        if not name.startswith("  vs"):
            figures_time += with_json
    return figures_time


def time_filter_change(evaluation: Evaluation, images: np.ndarray, repeats: int) -> float:
    """What the page rebuilds when the gallery is filtered to true 4s: the gallery, and the
    probabilities and enlarged image of the digit chosen in it."""

    def filter_change() -> None:
        found = evaluation.misclassified(true_digit=4)[:48]
        chosen = int(found[1]) if len(found) > 1 else 0
        for figure in (
            image_charts.misclassified_grid_figure(evaluation, images, found),
            metric_charts.probabilities_figure(
                evaluation.probabilities[chosen], evaluation.labels[chosen]
            ),
            image_charts.digit_figure(images[chosen], evaluation.describe(chosen)),
        ):
            plotly.io.to_json(figure, validate=False)

    return median_seconds(filter_change, repeats)


def print_table(rows: list[Row]) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  {'+to_json':>8}")
    for name, seconds, with_json in rows:
        extra = f"{with_json:8.3f}" if with_json is not None else ""
        print(f"{name:<{width}}  {seconds:8.3f}  {extra}")


def print_goals(page: float, filter_time: float, evaluation: Evaluation) -> None:
    print(
        f"\nWhole page {page:.2f} s (goal < {GOAL_PAGE} s: {'met' if page < GOAL_PAGE else 'MISSED'}); "
        f"filter change {filter_time:.3f} s (goal < {GOAL_FILTER} s: "
        f"{'met' if filter_time < GOAL_FILTER else 'MISSED'}). "
        f"Whole page counts figures with to_json, as st.plotly_chart serialises them.\n"
        f"Accuracy {100 * evaluation.accuracy:.2f} %, {evaluation.errors} mistakes."
    )


def main() -> None:
    args = parse_arguments()
    repeats = args.repeats
    images, labels, source = load_digits()
    spec, model = default_network(args.train_epochs)
    trained = f"trained {args.train_epochs} epochs" if args.train_epochs else "untrained"
    print(
        f"{spec.architecture()} network ({trained}), "
        f"{len(images):,} {source}, median of {repeats}\n"
    )

    rows: list[Row] = []
    probabilities, predict_time = time_predictions(model, images, repeats, rows)
    evaluation = evaluate_probabilities(probabilities, labels)
    evaluate_time = median_seconds(lambda: evaluate_probabilities(probabilities, labels), repeats)
    rows.append(("evaluate_probabilities", evaluate_time, None))
    figures_time = time_figures(figure_builders(evaluation, images, model), repeats, rows)
    page = predict_time + evaluate_time + figures_time
    rows.append(("WHOLE PAGE: predict + evaluate + figures", page, None))
    filter_time = time_filter_change(evaluation, images, repeats)
    rows.append(("FILTER CHANGE: filter + gallery + probs + digit", filter_time, None))

    print_table(rows)
    print_goals(page, filter_time, evaluation)


if __name__ == "__main__":
    main()
