"""Augmentation's effect on reading drawn digits: a convnet preset trained with and without it.

    nice -n 10 .venv/bin/python bench/augment_reading.py
    nice -n 10 .venv/bin/python bench/augment_reading.py --preset keras --seeds 1 2 --per-pen 300

The chosen convnet preset (default: Fast CNN) is trained on all 60,000 MNIST training digits
with its own settings, once without augmentation and once with it (shift 0.1, rotation 10
degrees, zoom 0.1, stroke thickness 1 pixel: bench/augment.py's settings), for each seed.
Each network then reads:
- MNIST's 10,000 test digits (the augmentation must cost at most 0.2 points here), and
- the held-out drawn digits of bench/draw.py (pen strokes, writers, pen paths: sets no
  recipe or setting was tuned on; and MNIST test digits re-stroked with the pen, whose
  ceiling is the originals' accuracy), every drawing prepared as the Draw page prepares it
  (from its strokes' paths: core.mnist.strokes, bench/draw.py's `the_app`), accuracy per pen
  width from 6 to 30 px.
Goal (issue 31): with augmentation, at least 99 % at every pen width, and at most 0.2 points of
MNIST test accuracy lost against the same preset without it. Figures per seed, then medians.

Reads /work/shared/data/mnist (or MNIST_DATA). Prints figures; no test asserts on them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.augment import AUGMENTATION  # noqa: E402
from bench.draw import (  # noqa: E402
    PENS,
    drawn_sets,
    header,
    per_pen_row,
    predictions,
    read_all,
    the_app,
    train,
)
from core.mnist.data import load_mnist  # noqa: E402
from core.nets.presets import FAST_CNN, KERAS_CONVNET, PRESETS  # noqa: E402

DATA = os.environ.get("MNIST_DATA", str(Path(__file__).resolve().parents[2] / "shared/data/mnist"))
CHOICES = {"fast": FAST_CNN, "keras": KERAS_CONVNET}


def readings(model, data, sets) -> dict[str, np.ndarray]:
    """Whether each drawing of each set was read right, and MNIST's test digits."""
    found = {
        name: predictions(model, read_all(drawn.canvases, the_app, drawn)) == drawn.digits
        for name, drawn in sets.items()
    }
    found["MNIST test"] = predictions(model, data.x_test) == data.y_test
    return found


def one_seed(spec, data, sets, seed: int) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for label, values in (("without", {}), ("with augmentation", AUGMENTATION)):
        model = train(dataclasses.replace(spec, **values), data, None, seed)
        out[label] = readings(model, data, sets)
        print(header(f"[seed {seed}, {label}]"))
        for name, drawn in sets.items():
            print(per_pen_row(name, out[label][name], drawn.pens))
        print(f"  MNIST test accuracy {100 * out[label]['MNIST test'].mean():.2f} %", flush=True)
    return out


def summary(runs: list[dict], sets) -> None:
    print("\nMedians over seeds: accuracy (%) per pen width, with augmentation; lowest cell")
    for name, drawn in sets.items():
        cells = [
            statistics.median(
                100 * r["with augmentation"][name][drawn.pens == pen].mean() for r in runs
            )
            for pen in PENS
        ]
        print(f"  {name:30s}" + "".join(f"{c:8.1f}" for c in cells) + f"   lowest {min(cells):.1f}")
    for label in ("without", "with augmentation"):
        accuracy = statistics.median(100 * r[label]["MNIST test"].mean() for r in runs)
        print(f"  MNIST test accuracy, {label}: median {accuracy:.2f} %")
    lost = statistics.median(
        100 * (r["without"]["MNIST test"].mean() - r["with augmentation"]["MNIST test"].mean())
        for r in runs
    )
    print(f"  points lost to augmentation: median {lost:.2f} (goal <= 0.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(CHOICES), default="fast")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--per-pen", type=int, default=200, help="drawings per pen width")
    args = parser.parse_args()
    data = load_mnist(DATA, allow_download=False)
    spec = PRESETS[CHOICES[args.preset]].spec
    print(f"{CHOICES[args.preset]}; drawing the held-out digits ...", flush=True)
    sets = drawn_sets(args.per_pen, data)
    summary([one_seed(spec, data, sets, seed) for seed in args.seeds], sets)


if __name__ == "__main__":
    main()
