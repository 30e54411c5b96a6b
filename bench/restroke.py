"""How like its original each MNIST digit re-stroked for bench/draw.py is (tests.support.restroke).

    python bench/restroke.py [--digits 1000] [--widths 2.0 1.8 1.6 1.5 1.4]

tests.support.restroke.skeleton_strokes traces an MNIST digit's centre lines for the pen to
redraw; where the ink is wider than BLOB_WIDTH times the digit's median stroke (a loop filled
in by a thick pen), `open_blobs` first punches a hole so the pen goes round the blob instead of
through it. For each candidate width, and without opening blobs, this prints how like their
originals the centre lines are, with no network involved: each digit (enlarged 4 times, cut at
half strength, or lower for a faint digit: CUTS) against its centre lines drawn at the digit's
median stroke width, intersection over union; the mean, the 5th and 1st percentiles, and how
many digits had a blob opened.
The digits are every fifth of MNIST's first 5,000 test digits, the part bench/draw.py's
tuning sets re-stroke (--digits of them).

Then, for the cut that makes the mask (`ink_mask`: half the digit's strongest ink, or lower
where a faint stroke comes apart there: restroke.CUTS), how many digits' centre lines, drawn at
their median stroke width, come in more pieces than the original holds at a fifth of its
strongest ink (a stroke drawn as dots and dashes), and how many change their loops.

Reads /work/shared/data/mnist (or MNIST_DATA). Prints figures; no test asserts on them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

import tests.support.restroke as restroke  # noqa: E402
from core.mnist.data import load_mnist  # noqa: E402

TUNING_DIGITS = 5000  # bench/drawn_sets.py's MNIST_HALF: the tuning sets' digits come from these


def likeness(mask: np.ndarray, width: float) -> tuple[float, bool]:
    """IoU of the mask with its centre lines (blobs opened at `width`) drawn at its median
    half-width, and whether a blob was opened."""
    opened = restroke.open_blobs(mask, width)
    drawn = redrawn(mask, opened)
    return float((mask & drawn).sum() / (mask | drawn).sum()), bool((opened != mask).any())


def loops(mask: np.ndarray) -> int:
    """Loops of at least one MNIST pixel in an enlarged mask."""
    return restroke.loops(mask, restroke.RESTROKE_SCALE**2)


def redrawn(mask: np.ndarray, opened: np.ndarray) -> np.ndarray:
    """The centre lines of `opened` (the mask with its blobs opened) drawn at the mask's
    median half-width."""
    half_width = float(np.median(ndimage.distance_transform_edt(mask)[restroke.thin(mask)]))
    return ndimage.distance_transform_edt(~restroke.thin(opened)) <= half_width


def cut_table(digits: np.ndarray) -> None:
    """For half strength alone and for restroke.CUTS: the share of digits redrawn in more
    pieces than the original holds at a fifth of its ink, and with other loops than at half."""
    print(f"\n{'cuts':>18} {'more pieces':>12} {'other loops':>12}")
    rules = [(0.5,), restroke.CUTS]
    apart, changed = np.zeros(len(rules)), np.zeros(len(rules))
    for digit in digits:
        original_pieces = restroke.pieces(restroke.ink_mask(digit, (0.2,)))
        original_loops = loops(restroke.ink_mask(digit, (0.5,)))
        for rule, cuts in enumerate(rules):
            mask = restroke.ink_mask(digit, cuts)
            drawn = redrawn(mask, restroke.open_blobs(mask))
            apart[rule] += restroke.pieces(drawn) > original_pieces
            changed[rule] += loops(drawn) != original_loops
    for rule, cuts in enumerate(rules):
        name = ", ".join(f"{c:g}" for c in cuts)
        print(
            f"{name:>18} {100 * apart[rule] / len(digits):11.1f}% "
            f"{100 * changed[rule] / len(digits):11.1f}%"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=1000)
    parser.add_argument("--widths", type=float, nargs="+", default=[2.0, 1.8, 1.6, 1.5, 1.4])
    args = parser.parse_args()
    data = load_mnist(os.environ.get("MNIST_DATA") or REPO.parent / "shared" / "data" / "mnist")
    chosen = np.arange(0, TUNING_DIGITS, 5)[: args.digits]
    masks = [restroke.ink_mask(data.x_test[i]) for i in chosen]
    print(
        f"{len(masks)} of MNIST's first {TUNING_DIGITS:,} test digits; the generator's width "
        f"{restroke.BLOB_WIDTH:g}"
    )
    print(f"{'blob width':>12} {'mean IoU':>9} {'5th pct':>8} {'1st pct':>8} {'opened':>7}")
    for width in [math.inf, *args.widths]:
        scores, opened = zip(*(likeness(m, width) for m in masks), strict=True)
        name = "none" if width == math.inf else f"{width:g}"
        print(
            f"{name:>12} {np.mean(scores):9.4f} {np.percentile(scores, 5):8.3f} "
            f"{np.percentile(scores, 1):8.3f} {sum(opened):7d}"
        )
    cut_table(data.x_test[chosen])


if __name__ == "__main__":
    main()
