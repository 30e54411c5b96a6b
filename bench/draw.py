"""The Draw page's figures: how well pen-drawn digits are read, and how fast.

    python bench/draw.py [--model DENSE.keras] [--save DENSE.keras] [--per-pen 300] [--variants]
                         [--cnn [--cnn-model CNN.keras]] [--mnist] [--calls 200]

1. Drawn digits (tests.support.drawings.drawn_digits: several hand styles of every digit, written
   with a round pen 6 to 30 px wide at random sizes and places on a 280x280 canvas), read by
   the same network after the app's preparation (core.mnist.preprocess.canvas_to_mnist) and after
   a plain recipe written here independently (crop the ink, fit its longer side into 20 px
   with Lanczos, centre the mass on pixel 14). Accuracy per pen width on two splits: "tune",
   the styles and seed the recipe was adjusted on, and "held out", the other styles of each
   digit from another seed. Goal: at every pen width the app at least as good as the plain
   recipe.
   --variants also shows each of the app's steps switched off or changed, on both splits.
2. --cnn: the first convolutional preset in core.nets.presets against the default dense preset,
   both reading the held-out drawings through the app's preparation.
3. --mnist: the MNIST test digits enlarged and put on the canvas, read back (ratio to the
   originals' accuracy), and against shrinking the whole canvas as most digit apps do.
4. Latency: one canvas to ten probabilities, median and 90th percentile over --calls calls.

Networks are trained here on all 60,000 MNIST training digits (--epochs, the presets' own
settings otherwise) unless given with --model / --cnn-model. MNIST comes from $MNIST_DATA or
../shared/data/mnist.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage  # noqa: E402

from core.mnist import preprocess  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402
from core.mnist.preprocess import canvas_to_mnist  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from tests.support.drawings import STYLES, drawn_digits, place_on_canvas  # noqa: E402

PENS = (6, 12, 18, 24, 30)
# Styles are split per digit: even positions in STYLES to tune on, odd ones held out.
SPLITS = {
    "tune": ({d: names[0::2] for d, names in ((d, list(s)) for d, s in STYLES.items())}, 1),
    "held out": ({d: names[1::2] for d, names in ((d, list(s)) for d, s in STYLES.items())}, 2),
}


def plain_recipe(canvas: np.ndarray) -> np.ndarray:
    """Crop the ink, fit its longer side into 20 px, put its centre of mass on pixel (14, 14)."""
    ink = preprocess.ink_map(canvas)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = 20 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.clip(np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS)), 0, 1)
    small = small / small.max()
    row, col = ndimage.center_of_mass(small)
    top = min(max(math.floor(14.5 - row), 0), 28 - small.shape[0])
    left = min(max(math.floor(14.5 - col), 0), 28 - small.shape[1])
    frame = np.zeros((28, 28), np.float32)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


def train(spec, data, epochs: int | None):
    spec = dataclasses.replace(spec, epochs=epochs or spec.epochs)
    steps = math.ceil(len(data.x_train) / spec.batch_size)
    model = build_model(spec, steps_per_epoch=steps)
    print(f"training {spec.architecture()} for {spec.epochs} epochs on {len(data.x_train):,} ...")
    start = time.perf_counter()
    model.fit(
        inputs(data.x_train, model),
        np.eye(10, dtype=np.float32)[data.y_train],
        batch_size=spec.batch_size,
        epochs=spec.epochs,
        verbose=0,
    )
    print(f"  trained in {time.perf_counter() - start:.0f} s")
    return model


def inputs(images: np.ndarray, model) -> np.ndarray:
    """Images (N, 28, 28), uint8 or float in [0, 1], as the model's input."""
    x = np.asarray(images, dtype=np.float32)
    if images.dtype == np.uint8:
        x = x / np.float32(255.0)
    return x.reshape((len(x), *model.input_shape[1:]))


def predictions(model, images: np.ndarray) -> np.ndarray:
    return model.predict(inputs(images, model), batch_size=1000, verbose=0).argmax(axis=1)


def read_all(canvases, recipe) -> np.ndarray:
    out = []
    for canvas in canvases:
        image = recipe(canvas)
        out.append(np.zeros((28, 28), np.float32) if image is None else image)
    return np.array(out)


def drawn_sets(per_pen: int) -> dict[str, tuple[list, np.ndarray, np.ndarray]]:
    """Each split's canvases, digits and pen widths."""
    sets = {}
    for split, (styles, seed) in SPLITS.items():
        start = time.perf_counter()
        drawings = list(drawn_digits(per_pen * len(PENS), seed, pens=PENS, styles=styles))
        sets[split] = (
            [d.canvas for d in drawings],
            np.array([d.digit for d in drawings]),
            np.array([d.pen for d in drawings]),
        )
        print(f"  {split}: {len(drawings):,} drawings in {time.perf_counter() - start:.0f} s")
    return sets


def per_pen_row(name: str, correct: np.ndarray, pens: np.ndarray) -> str:
    cells = "".join(f"{100 * correct[pens == pen].mean():8.1f}" for pen in PENS)
    return f"{name:30s}{cells}{100 * correct.mean():8.1f}"


def header(title: str) -> str:
    return f"{title:30s}" + "".join(f"{f'pen {p}':>8s}" for p in PENS) + f"{'all':>8s}"


VARIANTS = {  # name: (settings of core.mnist.preprocess, recipe)
    "app (canvas_to_mnist)": ({}, canvas_to_mnist),
    "  no stroke matching": ({}, lambda c: canvas_to_mnist(c, match_strokes=False)),
    "  widen thin strokes only": ({"STROKE_RANGE": (0.11, math.inf)}, canvas_to_mnist),
    "  narrow from 0.15 (before)": ({"STROKE_RANGE": (0.11, 0.15)}, canvas_to_mnist),
    "  no speck removal": ({"SPECK_FRACTION": 0.0}, canvas_to_mnist),
    "  Lanczos instead of box": ({"RESAMPLE": Image.Resampling.LANCZOS}, canvas_to_mnist),
    "plain recipe": ({}, plain_recipe),
}


def with_settings(settings: dict, recipe):
    def run(canvas):
        saved = {key: getattr(preprocess, key) for key in settings}
        try:
            for key, value in settings.items():
                setattr(preprocess, key, value)
            return recipe(canvas)
        finally:
            for key, value in saved.items():
                setattr(preprocess, key, value)

    return run


def drawn_accuracy(model, sets, variants: bool) -> None:
    names = list(VARIANTS) if variants else ["app (canvas_to_mnist)", "plain recipe"]
    print("\n1. Drawn digits: accuracy (%) per pen width, same network")
    for split, (canvases, digits, pens) in sets.items():
        print(header(f"[{split}]"))
        for name in names:
            settings, recipe = VARIANTS[name]
            start = time.perf_counter()
            read = read_all(canvases, with_settings(settings, recipe))
            each = 1000 * (time.perf_counter() - start) / len(canvases)
            correct = predictions(model, read) == digits
            print(per_pen_row(name, correct, pens) + f"   {each:4.1f} ms each")


def compare_cnn(dense, cnn, sets) -> None:
    print("\n2. Convolutional against dense preset, the app's preparation")
    for split, (canvases, digits, pens) in sets.items():
        read = read_all(canvases, canvas_to_mnist)
        print(header(f"[{split}]"))
        for name, model in (("dense (default preset)", dense), ("convolutional preset", cnn)):
            print(per_pen_row(name, predictions(model, read) == digits, pens))


def shrink_whole_canvas(canvas: np.ndarray) -> np.ndarray:
    """What most digit apps do: the whole canvas to 28x28, light on dark."""
    ink = preprocess.ink_map(canvas)
    return np.asarray(Image.fromarray(ink).resize((28, 28), Image.Resampling.BOX))


def mnist_round_trip(model, data, digits: int, seed: int) -> None:
    images, labels = data.x_test[:digits], data.y_test[:digits]
    base = (predictions(model, images) == labels).mean()
    rng = np.random.default_rng(seed)
    canvases = []
    for digit in images:
        size = int(rng.integers(80, 261))
        top, left = (int(v) for v in rng.integers(0, 280 - size + 1, 2))
        background = ("transparent", "black", "white")[int(rng.integers(3))]
        canvases.append(place_on_canvas(digit, size, top, left, background=background))
    print(f"\n3. {digits:,} MNIST test digits enlarged to 80-260 px at random places")
    print(f"accuracy on the original 28x28 images: {100 * base:.2f} %")
    for name, recipe in (
        ("canvas_to_mnist", canvas_to_mnist),
        ("whole canvas", shrink_whole_canvas),
    ):
        score = (predictions(model, read_all(canvases, recipe)) == labels).mean()
        print(f"{name:30s} {100 * score:6.2f} %   ratio {score / base:.4f}")


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


def latency(model, canvas: np.ndarray, calls: int) -> None:
    x = inputs(canvas_to_mnist(canvas)[None], model)
    rows = {
        "canvas_to_mnist": lambda: canvas_to_mnist(canvas),
        "model(x, training=False)": lambda: np.asarray(model(x, training=False)),
        "whole path": lambda: np.asarray(model(inputs(canvas_to_mnist(canvas)[None], model))),
    }
    print(f"\n4. Latency, one 280x280 RGBA canvas, {calls} calls (goal: under 50 ms median)")
    print(f"{'step':30s} {'median ms':>10s} {'p90 ms':>8s}")
    for name, function in rows.items():
        median, p90 = timings(function, calls)
        print(f"{name:30s} {median:10.2f} {p90:8.2f}")


def load_or_train(path, spec, data, epochs, save=None):
    if path and Path(path).exists():
        print(f"model: {path}")
        return keras.models.load_model(path)
    model = train(spec, data, epochs)
    if save or path:
        model.save(save or path)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="the dense network (.keras); trained and saved if absent")
    parser.add_argument("--save", help="save the trained dense network here")
    parser.add_argument("--epochs", type=int, default=5, help="epochs when training (dense)")
    parser.add_argument("--per-pen", type=int, default=300, help="drawings per pen width")
    parser.add_argument("--variants", action="store_true", help="each step switched off")
    parser.add_argument("--cnn", action="store_true", help="part 2: the convolutional preset")
    parser.add_argument("--cnn-model", help="the convolutional network; trained if absent")
    parser.add_argument("--cnn-epochs", type=int, default=5)
    parser.add_argument("--mnist", action="store_true", help="part 3: MNIST digits on a canvas")
    parser.add_argument("--digits", type=int, default=10000, help="test digits in part 3")
    parser.add_argument("--calls", type=int, default=200, help="calls in part 4 (0: skip)")
    args = parser.parse_args()

    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    print(data.description)
    dense = load_or_train(args.model, PRESETS[DEFAULT_PRESET].spec, data, args.epochs, args.save)
    print("drawing the digits ...")
    sets = drawn_sets(args.per_pen)
    drawn_accuracy(dense, sets, args.variants)
    if args.cnn:
        convolutional = [p for p in PRESETS.values() if p.spec.is_convolutional]
        if not convolutional:
            print("\n2. no convolutional preset in core.nets.presets yet")
        else:
            print(f"\nconvolutional preset: {convolutional[0].name}")
            cnn = load_or_train(args.cnn_model, convolutional[0].spec, data, args.cnn_epochs)
            compare_cnn(dense, cnn, sets)
    if args.mnist:
        mnist_round_trip(dense, data, args.digits, seed=0)
    if args.calls:
        latency(dense, sets["held out"][0][0], args.calls)


if __name__ == "__main__":
    main()
