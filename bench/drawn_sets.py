"""bench/draw.py's drawn digits: four kinds, each in sets to tune on and a set held out.

`drawn_sets(per_pen, data, splits)` draws each set of SETS in `splits` ("tune", "held out")
with the pen widths PENS: its canvases, digits, pens, the strokes' paths the canvas would send
beside each image (recorded as the generators of tests.support render them) and, for MNIST
re-stroked, the MNIST images drawn. bench/draw.py and bench/augment_reading.py read them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np

import tests.support.drawings as drawings_module
import tests.support.pen_paths as pen_paths_module
import tests.support.restroke as restroke_module
import tests.support.writers as writers_module
from tests.support.drawings import STYLES, drawn_digits
from tests.support.pen_paths import path_digits
from tests.support.restroke import restroked_digits
from tests.support.writers import writer_digits

PENS = (6, 12, 18, 24, 30)
# Each kind of drawing has sets to tune the recipe on and a set held out from any tuning, with
# other seeds, other styles (pen strokes: odd positions in STYLES; even ones are tuned on),
# other writers (writers: each seed brings its own 20) or other MNIST test digits: the tuning
# sets re-stroke digits from the first MNIST_HALF test digits only (wrapping round), the held-out
# set from the rest, so no MNIST digit is in both whatever --per-pen.
MNIST_HALF = 5000
EVEN, ODD = ({d: list(s)[part::2] for d, s in STYLES.items()} for part in (0, 1))
SETS = {  # name: (split, kind, seed, pen-stroke styles or first MNIST test digit)
    "pen strokes, tune": ("tune", "strokes", (1, 3), EVEN),
    "writers, tune": ("tune", "writers", (11, 14, 15), None),
    "MNIST re-stroked, tune": ("tune", "mnist", (21, 23, 25), 0),
    "pen paths, tune": ("tune", "paths", (31, 33), None),
    "pen strokes, held out": ("held out", "strokes", (2,), ODD),
    "writers, held out": ("held out", "writers", (12,), None),
    "MNIST re-stroked, held out": ("held out", "mnist", (22,), 5000),
    "pen paths, held out": ("held out", "paths", (32,), None),
}


@dataclasses.dataclass
class DrawnSet:
    canvases: list
    digits: np.ndarray
    pens: np.ndarray
    strokes: list  # each drawing's strokes, (N, 2) arrays of canvas pixels: the canvas's paths
    originals: np.ndarray | None = None  # MNIST re-stroked: the MNIST images drawn


@contextlib.contextmanager
def recording_strokes():
    """Within it, every drawing the generators render leaves its strokes in the list yielded,
    in order: the paths the canvas would send beside its image (its json_data)."""
    recorded, render = [], drawings_module.render
    generators = (drawings_module, pen_paths_module, restroke_module, writers_module)

    def recording_render(placed, pen, *args, **kwargs):
        recorded.append([np.asarray(s, dtype=float) for s in placed])
        return render(placed, pen, *args, **kwargs)

    for module in generators:
        module.render = recording_render
    try:
        yield recorded
    finally:
        for module in generators:
            module.render = render


def drawings_of(
    kind: str, seed: int, extra, count: int, data, every_pen: bool = False
) -> tuple[list, np.ndarray | None]:
    """`count` drawings of one kind from one seed, and for MNIST re-stroked the images drawn.

    `extra` is the pen-stroke styles, or the first MNIST test digit to re-stroke. With
    `every_pen`, MNIST re-stroked draws `count` / len(PENS) digits, each once with every pen.
    """
    if kind == "strokes":
        return list(drawn_digits(count, seed, pens=PENS, styles=extra)), None
    if kind == "writers":
        return list(writer_digits(count, seed, pens=PENS)), None
    if kind == "paths":
        return list(path_digits(count, seed, pens=PENS)), None
    chosen = extra + np.arange(count // len(PENS) if every_pen else count)
    if extra < MNIST_HALF:  # a tuning set: the first half only
        chosen %= MNIST_HALF
    elif chosen[-1] >= len(data.x_test):
        raise ValueError(f"{count // len(PENS)} per pen: past the end of MNIST's test set")
    images, labels = data.x_test[chosen], data.y_test[chosen]
    if every_pen:  # the same digits, placed alike, at each pen: cells differ by the pen alone
        drawings = [d for pen in PENS for d in restroked_digits(images, labels, seed, pens=(pen,))]
    else:
        drawings = list(restroked_digits(images, labels, seed, pens=PENS))
    return drawings, images[[int(d.style.split()[1]) for d in drawings]]


def drawn_sets(
    per_pen: int, data, splits=("held out",), every_pen: bool = False, names=None
) -> dict[str, DrawnSet]:
    """Each set of SETS in `splits` (and in `names`, if given): its canvases, digits, pen
    widths (and MNIST originals).

    `per_pen` drawings per pen width and set. MNIST re-stroked draws `per_pen` * len(PENS)
    digits, each once; with `every_pen`, `per_pen` digits, each once with every pen width."""
    sets, count = {}, per_pen * len(PENS)
    for name, (split, kind, seeds, extra) in SETS.items():
        if split not in splits or (names is not None and name not in names):
            continue
        start, drawings, originals, paths = time.perf_counter(), [], [], []
        for index, seed in enumerate(seeds):
            first = extra
            if kind == "mnist":  # the next digits; a tuning set's wrap round the first half
                first = extra + index * (per_pen if every_pen else count)
                first = first % MNIST_HALF if split == "tune" else first
            with recording_strokes() as recorded:
                made, images = drawings_of(kind, seed, first, count, data, every_pen)
            if len(recorded) != len(made):
                raise RuntimeError(f"{name}: {len(recorded)} strokes for {len(made)} drawings")
            drawings, paths = drawings + made, paths + recorded
            originals += [] if images is None else list(images)
        sets[name] = DrawnSet(
            [d.canvas for d in drawings],
            np.array([d.digit for d in drawings]),
            np.array([d.pen for d in drawings]),
            paths,
            np.array(originals) if originals else None,
        )
        print(f"  {name}: {len(drawings):,} drawings in {time.perf_counter() - start:.0f} s")
    return sets
