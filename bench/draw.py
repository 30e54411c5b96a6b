"""The Draw page's figures: how well pen-drawn digits are read, and how fast.

    python bench/draw.py [--model DENSE.keras] [--save DENSE.keras] [--seed N] [--per-pen 300]
                         [--tune] [--variants] [--cnn [--cnn-model CNN.keras]] [--mnist]
                         [--calls 200]

1. Drawn digits, four kinds, each written with a round pen 6 to 30 px wide on a 280x280 canvas:
   "pen strokes" (tests.support.drawings.drawn_digits: fixed hand styles of every digit, random
   slant, size and place), "writers" (tests.support.writers.writer_digits: 20 people per seed,
   each with a slant, proportions and a variant of every digit of their own, such as a hooked or
   straight-entry 6; half the digits small and near an edge), "MNIST re-stroked"
   (tests.support.restroke.restroked_digits: MNIST test digits' centre lines redrawn with the
   pen, a loop filled with ink as a small loop; bench/restroke.py) and "pen paths"
   (tests.support.pen_paths.path_digits, another generator: 20 hands per seed steering a pen
   through points, its own ways of writing each digit; a third small and near an edge). Each is
   read by the same network after the app's preparation (core.mnist.strokes.strokes_to_mnist:
   the strokes redrawn from their paths, which the generators' strokes stand in for, as the
   canvas sends them), after the image recipe it falls back on (core.mnist.preprocess.
   canvas_to_mnist, for an image without paths) and after a plain recipe written here
   independently (crop the ink, fit its longer side into 20 px with Lanczos, centre the mass on
   pixel 14). Accuracy per pen width on the held-out sets (other seeds, styles, writers and
   MNIST digits than the ones the recipe was tuned on; --tune adds those). For MNIST re-stroked,
   the MNIST originals' own accuracy is the ceiling. Goal: at least 98 % at every pen width, and
   never below the plain recipe.
   --variants also shows steps changed or switched off, and candidates (among them test-time
   averaging: the probabilities for two preparations averaged, AVERAGED).
2. --cnn: the first convolutional preset in core.nets.presets against the default dense preset,
   both reading the held-out drawings through the app's preparation.
3. --mnist: the MNIST test digits enlarged and put on the canvas, read back (ratio to the
   originals' accuracy), and against shrinking the whole canvas as most digit apps do.
4. Latency: what the page does with one drawing (the strokes redrawn from its paths, the image
   recipe, the network, the whole answer), median and 90th percentile over --calls calls.

Networks are trained here on all 60,000 MNIST training digits with the presets' own settings
(--epochs and --seed change them) unless given with --model / --cnn-model. MNIST comes from
$MNIST_DATA or ../shared/data/mnist.
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

from bench.drawn_sets import PENS, DrawnSet, drawn_sets  # noqa: E402
from core.mnist import preprocess, strokes  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402
from core.mnist.preprocess import canvas_to_mnist  # noqa: E402
from core.mnist.recognise import probabilities_for, recognise  # noqa: E402
from core.nets.model import build_model  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from tests.support.canvas_paths import fabric  # noqa: E402
from tests.support.drawings import place_on_canvas  # noqa: E402


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


def train(spec, data, epochs: int | None, seed: int | None = None):
    spec = dataclasses.replace(
        spec, epochs=epochs or spec.epochs, seed=spec.seed if seed is None else seed
    )
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


def probabilities(model, images: np.ndarray) -> np.ndarray:
    return model.predict(inputs(images, model), batch_size=1000, verbose=0)


def predictions(model, images: np.ndarray) -> np.ndarray:
    return probabilities(model, images).argmax(axis=1)


def read_all(canvases, recipe, drawn: DrawnSet | None = None) -> np.ndarray:
    """Each canvas through `recipe`: recipe(canvas), or recipe(canvas, strokes, pen) with
    `drawn` (the set the canvases are from); a blank answer as a black image."""
    out = []
    for index, canvas in enumerate(canvases):
        image = (
            recipe(canvas)
            if drawn is None
            else recipe(canvas, drawn.strokes[index], float(drawn.pens[index]))
        )
        out.append(np.zeros((28, 28), np.float32) if image is None else image)
    return np.array(out)


def per_pen_row(name: str, correct: np.ndarray, pens: np.ndarray) -> str:
    cells = "".join(f"{100 * correct[pens == pen].mean():8.1f}" for pen in PENS)
    return f"{name:30s}{cells}{100 * correct.mean():8.1f}"


def header(title: str) -> str:
    return f"{title:30s}" + "".join(f"{f'pen {p}':>8s}" for p in PENS) + f"{'all':>8s}"


# MNIST's lean: over its 60,000 training digits, columns moved per row downwards (mu11 / mu02)
# have a median of -0.12 (leaning a little right), 5 to 95 % from -0.58 to 0.35.
MNIST_SLANT = -0.12


def sheared(canvas: np.ndarray, pull: float, target: float = MNIST_SLANT) -> np.ndarray | None:
    """A candidate (not the app's): the app's recipe, the digit's lean first moved `pull` of
    the way to `target` by a shear (at the app's 80 px working size, before stroke matching)."""
    ink = preprocess.remove_specks(preprocess.ink_map(canvas))
    found = preprocess.digit_box(ink)
    if found is None:
        return None
    top, bottom, left, right = found
    work = preprocess._resize_box(ink[top:bottom, left:right], preprocess.WORK_SIZE)
    lean, row_centre = strokes.lean(work)
    shift, (height, width) = pull * (target - lean), work.shape
    extra = math.ceil(2 * abs(shift) * height) + 2
    work = ndimage.affine_transform(  # output (r, c) reads (r, c - extra/2 - shift (r - centre))
        work,
        np.array([[1.0, 0.0], [-shift, 1.0]]),
        offset=(0.0, -extra / 2 + shift * row_centre),
        output_shape=(height, width + extra),
        order=1,
    )
    cols = np.flatnonzero(work.max(axis=0) >= preprocess.INK_LEVEL * float(work.max()))
    return preprocess.box_and_centre(preprocess._match_strokes(work[:, cols[0] : cols[-1] + 1]))


# MNIST's stroke width over box side by the digit's aspect (width over height): medians over
# its first 20,000 training digits (preprocess.stroke_width of the ink at half the peak, the
# digit cropped and scaled to WORK_SIZE, over WORK_SIZE); square digits have the thickest
# strokes for their box, tall narrow ones the thinnest.
ASPECTS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.3)
ASPECT_RATIOS = (0.113, 0.125, 0.124, 0.138, 0.149, 0.130)


def by_aspect(canvas, paths, pen):
    """A candidate (not the app's): the app's recipe with the strokes redrawn as wide as
    MNIST's digits of the same aspect have them (ASPECT_RATIOS) instead of STROKE_RATIO."""
    ink = preprocess.remove_specks(preprocess.ink_map(canvas))
    if preprocess.digit_box(ink) is None:
        return None
    kept = strokes._matching_strokes(paths, pen, ink)
    if kept is None:
        return preprocess.ink_to_mnist(ink)
    leaned = strokes.lessen_lean(kept)
    height, width = preprocess.crop_to_ink(strokes.redraw(leaned)).shape
    ratio = float(np.interp(width / height, ASPECTS, ASPECT_RATIOS))
    redrawn = with_settings({"STROKE_RATIO": ratio}, strokes.redraw)(leaned)
    return preprocess.box_and_centre(preprocess.crop_to_ink(redrawn))


def from_image(recipe):
    """A recipe of the canvas's image alone, as a recipe of (canvas, strokes, pen)."""
    return lambda canvas, paths, pen: recipe(canvas)


def the_app(canvas, paths, pen):
    """What the Draw page does: the strokes redrawn from the canvas's paths."""
    return strokes.strokes_to_mnist(canvas, paths, pen)


VARIANTS = {  # name: (settings of core.mnist.preprocess and .strokes, recipe)
    "app (strokes_to_mnist)": ({}, the_app),
    "  lean kept as drawn": ({"LEAN_KEPT": 1.0}, the_app),
    "  lean made upright": ({"LEAN_KEPT": 0.0}, the_app),
    "  strokes 0.12 of the box": ({"STROKE_RATIO": 0.12}, the_app),
    "  strokes 0.11 of the box": ({"STROKE_RATIO": 0.11}, the_app),
    "  strokes by aspect (MNIST's)": ({}, by_aspect),
    "image recipe (canvas_to_mnist)": ({}, from_image(canvas_to_mnist)),
    "  no stroke matching": ({}, from_image(lambda c: canvas_to_mnist(c, match_strokes=False))),
    "  lean made upright (shear)": ({}, from_image(lambda c: sheared(c, 1.0, 0.0))),
    "plain recipe": ({}, from_image(plain_recipe)),
}
MAIN = ("app (strokes_to_mnist)", "image recipe (canvas_to_mnist)", "plain recipe")
# Test-time averaging (candidates, --variants): the network's probabilities for the app's
# preparation and another one of VARIANTS, averaged.
AVERAGED = {
    "  averaged, lean as drawn": "  lean kept as drawn",
    "  averaged, strokes 0.11": "  strokes 0.11 of the box",
    "  averaged, image recipe": "image recipe (canvas_to_mnist)",
}


def with_settings(settings: dict, recipe):
    """`recipe` with settings of core.mnist.strokes or .preprocess changed while it runs."""

    def run(*args):
        modules = {k: strokes if hasattr(strokes, k) else preprocess for k in settings}
        saved = {key: getattr(modules[key], key) for key in settings}
        try:
            for key, value in settings.items():
                setattr(modules[key], key, value)
            return recipe(*args)
        finally:
            for key, value in saved.items():
                setattr(modules[key], key, value)

    return run


def drawn_accuracy(model, sets: dict[str, DrawnSet], variants: bool) -> None:
    names = list(VARIANTS) + list(AVERAGED) if variants else list(MAIN)
    print("\n1. Drawn digits: accuracy (%) per pen width, same network")
    for name, drawn in sets.items():
        print(header(f"[{name}]"))
        read: dict[str, np.ndarray] = {}  # each preparation's probabilities
        for recipe_name in names:
            start = time.perf_counter()
            if recipe_name in AVERAGED:
                pair = (MAIN[0], AVERAGED[recipe_name])
                chance = (read[pair[0]] + read[pair[1]]) / 2
                timing = ""
            else:
                settings, recipe = VARIANTS[recipe_name]
                images = read_all(drawn.canvases, with_settings(settings, recipe), drawn)
                chance = read[recipe_name] = probabilities(model, images)
                each = 1000 * (time.perf_counter() - start) / len(drawn.canvases)
                timing = f"   {each:4.1f} ms each"
            correct = chance.argmax(axis=1) == drawn.digits
            print(per_pen_row(recipe_name, correct, drawn.pens) + timing)
        if drawn.originals is not None:
            correct = predictions(model, drawn.originals) == drawn.digits
            print(per_pen_row("(the MNIST originals)", correct, drawn.pens))


def compare_cnn(dense, cnn, sets) -> None:
    print("\n2. Convolutional against dense preset, the app's preparation")
    for split, drawn in sets.items():
        read = read_all(drawn.canvases, the_app, drawn)
        print(header(f"[{split}]"))
        for name, model in (("dense (default preset)", dense), ("convolutional preset", cnn)):
            print(per_pen_row(name, predictions(model, read) == drawn.digits, drawn.pens))


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


def latency(model, drawn: DrawnSet, calls: int) -> None:
    """What the Draw page does with one drawing, timed: the strokes redrawn from the canvas's
    paths (its json_data, as tests.support.canvas_paths writes it), the image recipe it falls
    back on, the network's call, and the whole of core.mnist.recognise."""
    canvas, pen = drawn.canvases[0], float(drawn.pens[0])
    json_data = fabric(*drawn.strokes[0], pen=pen)
    image = strokes.paths_to_mnist(canvas, json_data)
    rows = {
        "paths_to_mnist (strokes)": lambda: strokes.paths_to_mnist(canvas, json_data),
        "canvas_to_mnist (image)": lambda: canvas_to_mnist(canvas),
        "probabilities_for": lambda: probabilities_for(model, image),
        "recognise (the whole answer)": lambda: recognise(model, canvas, json_data),
    }
    print(f"\n4. Latency, one 280x280 RGBA canvas, {calls} calls (goal: under 50 ms median)")
    print(f"{'step':30s} {'median ms':>10s} {'p90 ms':>8s}")
    for name, function in rows.items():
        median, p90 = timings(function, calls)
        print(f"{name:30s} {median:10.2f} {p90:8.2f}")


def load_or_train(path, spec, data, epochs, save=None, seed=None):
    if path and Path(path).exists():
        print(f"model: {path}")
        return keras.models.load_model(path)
    model = train(spec, data, epochs, seed)
    if save or path:
        model.save(save or path)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="the dense network (.keras); trained and saved if absent")
    parser.add_argument("--save", help="save the trained dense network here")
    parser.add_argument("--epochs", type=int, help="epochs when training (dense; the preset's)")
    parser.add_argument("--seed", type=int, help="the dense network's seed (the preset's)")
    parser.add_argument("--per-pen", type=int, default=300, help="drawings per pen width")
    parser.add_argument("--variants", action="store_true", help="each step switched off")
    parser.add_argument("--tune", action="store_true", help="the tuning sets too")
    parser.add_argument("--cnn", action="store_true", help="part 2: the convolutional preset")
    parser.add_argument("--cnn-model", help="the convolutional network; trained if absent")
    parser.add_argument("--cnn-epochs", type=int, default=5)
    parser.add_argument("--mnist", action="store_true", help="part 3: MNIST digits on a canvas")
    parser.add_argument("--digits", type=int, default=10000, help="test digits in part 3")
    parser.add_argument("--calls", type=int, default=200, help="calls in part 4 (0: skip)")
    args = parser.parse_args()

    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    print(data.description)
    spec = PRESETS[DEFAULT_PRESET].spec
    dense = load_or_train(args.model, spec, data, args.epochs, args.save, args.seed)
    print("drawing the digits ...")
    sets = drawn_sets(args.per_pen, data, ("tune", "held out") if args.tune else ("held out",))
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
        latency(dense, next(iter(sets.values())), args.calls)


if __name__ == "__main__":
    main()
