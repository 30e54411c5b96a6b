"""canvas_to_mnist on whole sets of digits: real MNIST digits put on a canvas, read by a small
trained network nearly as well as the originals, and the pen-drawn digits of
tests.support.drawings, fitted and centred as MNIST's and read at least as well as with the
plain recipe."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.mnist.preprocess import canvas_to_mnist
from core.nets.model import build_model
from tests.conftest import full_mnist_dir
from tests.support.digit_measures import box_of, correlation
from tests.support.drawings import CANVAS, drawn_digits, place_on_canvas
from tests.support.specs import small_spec


def read_idx(path):
    """A tiny IDX reader, independent of core.mnist.data: magic, dimensions, then bytes."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(shape))


@pytest.fixture(scope="module")
def small_network():
    """A 784-128-10 network trained for 2 epochs on 20,000 MNIST digits, and the test digits.

    Module-scoped: trained once for the tests that read digits with it.
    """
    folder = full_mnist_dir()
    if folder is None:
        pytest.skip("full MNIST files not found (set MNIST_DATA to a folder with them)")

    x_train = read_idx(folder / "train-images-idx3-ubyte.gz")[:20000]
    y_train = read_idx(folder / "train-labels-idx1-ubyte.gz")[:20000]
    spec = small_spec(units=128, epochs=2, seed=1, batch_size=128)
    model = build_model(spec)
    model.fit(
        x_train.reshape(-1, 784).astype(np.float32) / 255,
        np.eye(10, dtype=np.float32)[y_train],
        batch_size=spec.batch_size,
        epochs=spec.epochs,
        verbose=0,
    )
    x_test = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:400]
    y_test = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:400]
    return model, x_test, y_test


def read_with(model, images) -> np.ndarray:
    images = np.array([np.zeros((28, 28), np.float32) if i is None else i for i in images])
    return model.predict(images.reshape(-1, 784), verbose=0).argmax(axis=1)


@pytest.mark.full_mnist
def test_mnist_digits_put_on_a_canvas_are_read_nearly_as_well(small_network):
    model, x_test, y_test = small_network
    rng = np.random.default_rng(7)
    redrawn = []
    for digit in x_test:
        size = int(rng.integers(80, 261))
        top, left = (int(v) for v in rng.integers(0, CANVAS - size + 1, 2))
        background = str(rng.choice(["transparent", "black", "white"]))
        canvas = place_on_canvas(digit, size, top, left, background=background)
        redrawn.append(canvas_to_mnist(canvas))
    redrawn = np.array(redrawn)
    originals = x_test.astype(np.float32) / 255

    def accuracy(images):
        return float((read_with(model, images) == y_test).mean())

    assert accuracy(redrawn) >= 0.95 * accuracy(originals)
    similarity = [correlation(a, b) for a, b in zip(redrawn, originals, strict=True)]
    assert np.median(similarity) > 0.9


def plain_recipe(canvas: np.ndarray) -> np.ndarray:
    """The reference: crop every inked pixel, fit the longer side into 20 px (Lanczos), and
    put the centre of mass on pixel (14, 14). Written without core.mnist.preprocess."""
    ink = canvas[..., 3].astype(np.float32) / 255  # drawn_digits: white ink, alpha = coverage
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.clip(np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS)), 0, 1)
    row, col = ndimage.center_of_mass(small)
    top = min(max(math.floor(14.5 - row), 0), 28 - small.shape[0])
    left = min(max(math.floor(14.5 - col), 0), 28 - small.shape[1])
    frame = np.zeros((28, 28), np.float32)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small / small.max()
    return frame


PENS = (6, 18, 30)


@pytest.mark.full_mnist
def test_drawn_digits_are_read_at_least_as_well_as_with_the_plain_recipe(small_network):
    # Every style and pen width, drawn from a seed used nowhere else.
    model = small_network[0]
    drawings = list(drawn_digits(60 * len(PENS), seed=2024, pens=PENS))
    digits = np.array([d.digit for d in drawings])
    pens = np.array([d.pen for d in drawings])
    app = read_with(model, [canvas_to_mnist(d.canvas) for d in drawings]) == digits
    plain = read_with(model, [plain_recipe(d.canvas) for d in drawings]) == digits
    assert app.mean() >= 0.9
    assert app.sum() >= plain.sum()
    for pen in PENS:  # one drawing of slack per pen width for a small, briefly trained network
        assert app[pens == pen].sum() >= plain[pens == pen].sum() - 1, pen


def test_drawn_digits_are_fitted_into_20_pixels_and_centred_by_mass():
    for drawing in drawn_digits(30, seed=11):
        digit = canvas_to_mnist(drawing.canvas)
        assert digit is not None and digit.shape == (28, 28)
        top, bottom, left, right = box_of(digit)
        assert max(bottom - top, right - left) in (19, 20, 21), drawing
        row, col = ndimage.center_of_mass(digit)
        assert abs(row - 14) <= 0.5 + 1e-6 and abs(col - 14) <= 0.5 + 1e-6, drawing


def test_the_same_drawing_in_any_colours_is_read_the_same():
    for background in ("black", "white"):
        for transparent, other in zip(
            drawn_digits(10, seed=5), drawn_digits(10, seed=5, background=background), strict=True
        ):
            reference = canvas_to_mnist(transparent.canvas)
            assert np.abs(canvas_to_mnist(other.canvas) - reference).max() < 0.02
