"""The Draw page's figures: how fast a drawing is read, and how well MNIST digits survive the canvas.

    python bench/draw.py [--model PATH.keras] [--save PATH.keras] [--digits 10000] [--variants]

1. Latency: a 280x280 RGBA canvas to ten probabilities, one image at a time, median and 90th
   percentile over --calls calls: `canvas_to_mnist` alone, `model.predict` against calling the
   model directly, and the whole path with the faster of the two.
2. Round trip: MNIST test digits enlarged (bilinear) to a random size of 80-260 px, put at a
   random place on the canvas on a random background (transparent, black or white), read back
   with `canvas_to_mnist`, against the same network on the original 28x28 images. Scenarios:
   MNIST's own soft edges; a hard-edged pen at MNIST's stroke widths; pens of 20 and 40 px
   (strokes widened to the pen where the digit's are thinner, never narrowed); and, for
   contrast, the whole canvas shrunk to 28x28 as most digit apps do.
   --variants also compares recipe choices (stroke matching, its range, gamma, blur, filter).

The network is --model, or the default preset (ModelSpec(): 784-512-512-10, dropout 0.2, adam,
batch 128) trained here for --epochs epochs on all 60,000 training digits. MNIST comes from
$MNIST_DATA or ../shared/data/mnist.
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

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core import preprocess  # noqa: E402
from core.data import load_mnist  # noqa: E402
from core.model import ModelSpec, build_model  # noqa: E402
from core.preprocess import canvas_to_mnist  # noqa: E402
from core.synthetic import place_on_canvas  # noqa: E402

CANVAS = 280
SIZES = (80, 260)
BACKGROUNDS = ("transparent", "black", "white")
# MNIST's median stroke width over its box side (core.preprocess.STROKE_RANGE) and box over frame.
MNIST_STROKE = 0.127
BOX_FRACTION = 20 / 28


def train_default(data, epochs: int):
    spec = ModelSpec(epochs=epochs)
    model = build_model(spec)
    print(f"training the default preset {spec.architecture()} for {epochs} epochs on 60,000 ...")
    start = time.perf_counter()
    model.fit(
        inputs(data.x_train),
        np.eye(10, dtype=np.float32)[data.y_train],
        batch_size=spec.batch_size,
        epochs=epochs,
        verbose=0,
    )
    print(f"  trained in {time.perf_counter() - start:.0f} s")
    return model


def inputs(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    probabilities = model.predict(x, batch_size=1000, verbose=0)
    return float((probabilities.argmax(axis=1) == labels).mean())


def timings(function, calls: int) -> tuple[float, float]:
    """Median and 90th percentile in milliseconds, after three warm-up calls."""
    for _ in range(3):
        function()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), 1000 * float(np.percentile(times, 90))


def latency(model, digit: np.ndarray, calls: int) -> None:
    canvas = place_on_canvas(digit, 180, 50, 60, background="black", pen=True, thicken=4)
    image = canvas_to_mnist(canvas)
    x = image.reshape(1, 784)
    rows = {
        "canvas_to_mnist": lambda: canvas_to_mnist(canvas),
        "model.predict(x)": lambda: model.predict(x, verbose=0),
        "model(x, training=False)": lambda: np.asarray(model(x, training=False)),
    }
    figures = {name: timings(function, calls) for name, function in rows.items()}
    direct = figures["model(x, training=False)"][0] <= figures["model.predict(x)"][0]
    faster = "model(x, training=False)" if direct else "model.predict(x)"
    call = rows[faster]
    figures[f"whole path (canvas_to_mnist + {faster})"] = timings(
        lambda: (canvas_to_mnist(canvas), call()), calls
    )
    print(f"\n1. Latency, one 280x280 RGBA canvas, {calls} calls (goal: under 50 ms median)")
    print(f"{'step':58s} {'median ms':>10s} {'p90 ms':>8s}")
    for name, (median, p90) in figures.items():
        print(f"{name:58s} {median:10.2f} {p90:8.2f}")


def thicken_for(size: int, pen: int | None) -> int:
    """Canvas pixels to widen a digit enlarged to `size` so its strokes are `pen` px wide."""
    if pen is None:
        return 0
    natural = MNIST_STROKE * BOX_FRACTION * size
    return max(0, round((pen - natural) / 2))


def make_canvases(digits: np.ndarray, scenario: str, seed: int):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(SIZES[0], SIZES[1] + 1, len(digits))
    for digit, size in zip(digits, sizes, strict=True):
        size = int(size)
        top, left = (int(v) for v in rng.integers(0, CANVAS - size + 1, 2))
        background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
        pen = {"pen 20 px": 20, "pen 40 px": 40}.get(scenario)
        yield place_on_canvas(
            digit,
            size,
            top,
            left,
            background=background,
            pen=scenario != "soft edges",
            thicken=thicken_for(size, pen),
        )


def shrink_whole_canvas(canvas: np.ndarray) -> np.ndarray:
    """What most digit apps do: the whole canvas to 28x28, light on dark."""
    ink = preprocess.ink_map(canvas)
    return np.asarray(Image.fromarray(ink).resize((28, 28), Image.Resampling.BOX))


def read_all(canvases, recipe) -> np.ndarray:
    out = []
    for canvas in canvases:
        image = recipe(canvas)
        out.append(np.zeros((28, 28), np.float32) if image is None else image)
    return np.array(out)


def round_trip(model, data, digits: int, seed: int) -> None:
    images, labels = data.x_test[:digits], data.y_test[:digits]
    base = accuracy(model, inputs(images), labels)
    print(
        f"\n2. Round trip: {digits:,} MNIST test digits enlarged to {SIZES[0]}-{SIZES[1]} px at "
        f"random places on a {CANVAS}x{CANVAS} canvas (goal: ratio >= 0.985)"
    )
    print(f"accuracy on the original 28x28 images: {base:.4f}")
    print(f"{'canvas':36s} {'recipe':24s} {'accuracy':>9s} {'ratio':>7s} {'none':>5s} {'ms':>6s}")
    for scenario in ("soft edges", "pen, MNIST widths", "pen 20 px", "pen 40 px"):
        canvases = list(make_canvases(images, scenario, seed))
        recipes = {"canvas_to_mnist": canvas_to_mnist}
        if scenario in ("soft edges", "pen 40 px"):
            recipes["whole canvas shrunk"] = shrink_whole_canvas
        for name, recipe in recipes.items():
            start = time.perf_counter()
            read = read_all(canvases, recipe)
            each = 1000 * (time.perf_counter() - start) / len(canvases)
            blank = int((read.reshape(len(read), -1).max(axis=1) == 0).sum())
            score = accuracy(model, read, labels)
            print(
                f"{scenario:36s} {name:24s} {score:9.4f} {score / base:7.4f} {blank:5d} {each:6.2f}"
            )


def blurred(image: np.ndarray | None) -> np.ndarray | None:
    if image is None:
        return None
    kernel = np.array([1.0, 4.0, 1.0], dtype=np.float32) / 6
    out = np.apply_along_axis(np.convolve, 0, image, kernel, "same")
    out = np.apply_along_axis(np.convolve, 1, out, kernel, "same")
    return (out / out.max()).astype(np.float32)


def variants(model, data, digits: int, seed: int) -> None:
    images, labels = data.x_test[:digits], data.y_test[:digits]
    base = accuracy(model, inputs(images), labels)
    choices = {
        "as shipped": ({}, lambda c: canvas_to_mnist(c)),
        "no stroke matching": ({}, lambda c: canvas_to_mnist(c, match_strokes=False)),
        "strokes 0.10-0.16": ({"STROKE_RANGE": (0.10, 0.16)}, canvas_to_mnist),
        "strokes 0.12-0.14": ({"STROKE_RANGE": (0.12, 0.14)}, canvas_to_mnist),
        "strokes 0.125-0.13": ({"STROKE_RANGE": (0.125, 0.13)}, canvas_to_mnist),
        "gamma 0.8": ({}, lambda c: _power(canvas_to_mnist(c), 0.8)),
        "gamma 1.25": ({}, lambda c: _power(canvas_to_mnist(c), 1.25)),
        "blur 1-4-1": ({}, lambda c: blurred(canvas_to_mnist(c))),
        "LANCZOS filter": ({"RESAMPLE": Image.Resampling.LANCZOS}, canvas_to_mnist),
        "HAMMING filter": ({"RESAMPLE": Image.Resampling.HAMMING}, canvas_to_mnist),
        "box from ink >= 0.1": ({"INK_LEVEL": 0.1}, canvas_to_mnist),
        "box from ink >= 0.5": ({"INK_LEVEL": 0.5}, canvas_to_mnist),
    }
    scenarios = ("soft edges", "pen, MNIST widths", "pen 20 px", "pen 40 px")
    canvases = {s: list(make_canvases(images, s, seed + 1)) for s in scenarios}
    print(f"\n3. Recipe variants: ratio to the originals' accuracy ({base:.4f}), {digits:,} digits")
    print(f"{'recipe':22s}" + "".join(f"{s:>19s}" for s in scenarios))
    for name, (settings, recipe) in choices.items():
        saved = {key: getattr(preprocess, key) for key in settings}
        try:
            for key, value in settings.items():
                setattr(preprocess, key, value)
            ratios = [
                accuracy(model, read_all(canvases[s], recipe), labels) / base for s in scenarios
            ]
        finally:
            for key, value in saved.items():
                setattr(preprocess, key, value)
        print(f"{name:22s}" + "".join(f"{r:19.4f}" for r in ratios))


def _power(image: np.ndarray | None, gamma: float) -> np.ndarray | None:
    return None if image is None else image**gamma


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved .keras model instead of training one")
    parser.add_argument("--save", help="save the trained model here for the next run")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--digits", type=int, default=10000, help="test digits in part 2")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--variants", action="store_true", help="also run part 3")
    parser.add_argument("--variant-digits", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    print(data.description)
    if args.model:
        import keras

        model = keras.models.load_model(args.model)
        print(f"model: {args.model}")
    else:
        model = train_default(data, args.epochs)
        if args.save:
            model.save(args.save)
    latency(model, data.x_test[0], args.calls)
    round_trip(model, data, args.digits, args.seed)
    if args.variants:
        variants(model, data, args.variant_digits, args.seed)


if __name__ == "__main__":
    main()
