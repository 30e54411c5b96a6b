"""canvas_to_mnist on drawings made here with Pillow: any place, size, pen and colours give the
same MNIST digit, thin and fat strokes are matched, and blank canvases and specks are set aside.

The steps on their own are in test_preprocess_steps.py; real MNIST digits and pen-drawn digit
sets in test_preprocess_digits.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from core.mnist.preprocess import canvas_to_mnist, ink_box, ink_map
from tests.support.digit_measures import box_of, centre_of_mass, correlation
from tests.support.drawings import place_strokes, render
from tests.support.writers import Writer, writer_strokes

CANVAS = 280
COLOURS = {  # background, pen (RGBA)
    "transparent": ((0, 0, 0, 0), (255, 255, 255, 255)),
    "black": ((0, 0, 0, 255), (255, 255, 255, 255)),
    "white": ((255, 255, 255, 255), (0, 0, 0, 255)),
    "blue on yellow": ((250, 240, 120, 255), (20, 40, 200, 255)),
    "black on transparent": ((255, 255, 255, 0), (0, 0, 0, 255)),
}


def draw(shape: str, top: int, left: int, size: int, pen: int, colours: str = "transparent"):
    """A (280, 280, 4) uint8 canvas with a digit drawn in the size x size box at (top, left)."""
    background, ink = COLOURS[colours]
    image = Image.new("RGBA", (CANVAS, CANVAS), background)
    pen_draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * size, top + y * size

    if shape == "seven":
        pen_draw.line([at(0.15, 0.05), at(0.85, 0.05), at(0.4, 0.95)], ink, pen, joint="curve")
    elif shape == "one":
        pen_draw.line([at(0.35, 0.2), at(0.55, 0.05), at(0.55, 0.95)], ink, pen, joint="curve")
    elif shape == "zero":
        pen_draw.ellipse([at(0.2, 0.05), at(0.8, 0.95)], outline=ink, width=pen)
    else:
        raise ValueError(shape)
    return np.asarray(image).copy()


DRAWINGS = {  # shape, top, left, size, pen
    "small in a corner": ("seven", 5, 215, 60, 10),
    "large": ("seven", 10, 10, 260, 24),
    "thin pen": ("zero", 40, 60, 200, 3),
    "thick pen": ("zero", 60, 80, 120, 30),
    "off centre": ("one", 150, 20, 120, 14),
    "touching the edge": ("seven", 0, 140, 140, 16),
}


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_a_drawing_becomes_an_mnist_digit(name):
    canvas = draw(*DRAWINGS[name])
    digit = canvas_to_mnist(canvas)

    assert digit is not None
    assert digit.shape == (28, 28)
    assert digit.dtype == np.float32
    assert digit.min() >= 0.0
    assert digit.max() == pytest.approx(1.0)
    top, bottom, left, right = box_of(digit)
    height, width = bottom - top, right - left
    assert max(height, width) in (19, 20, 21)
    # Nothing cut off at the frame's edges: the box keeps the drawing's proportions.
    drawn_top, drawn_bottom, drawn_left, drawn_right = box_of(canvas[..., 3] / 255, 0.25)
    aspect = (drawn_right - drawn_left) / (drawn_bottom - drawn_top)
    assert width / height == pytest.approx(aspect, abs=0.1)
    row, col = centre_of_mass(digit)
    assert abs(row - 14.0) <= 0.5 + 1e-6
    assert abs(col - 14.0) <= 0.5 + 1e-6


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two digits seen slightly blurred (3x3), allowing a one-pixel shift.

    MNIST centres by whole pixels, so a centre of mass near a half pixel may land either side;
    and 2-pixel strokes resampled at another phase differ pixel by pixel but not in shape.
    """

    def blurred(image):
        padded = np.pad(image, 1)
        return sum(
            padded[1 + dy : 29 + dy, 1 + dx : 29 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
        )

    a, b = blurred(a), blurred(b)
    return max(
        correlation(np.roll(a, (dy, dx), axis=(0, 1)), b) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


PLACES = [(10, 10, 100), (170, 170, 100), (10, 15, 250), (90, 10, 180), (40, 150, 120)]


@pytest.mark.parametrize("shape", ["seven", "one", "zero"])
def test_the_same_digit_anywhere_and_at_any_size_gives_the_same_image(shape):
    reference = canvas_to_mnist(draw(shape, 60, 60, 160, 16))
    for top, left, size in PLACES:
        # The same drawing scaled, pen and all: the same image up to resampling.
        scaled = canvas_to_mnist(draw(shape, top, left, size, round(16 * size / 160)))
        assert similarity(scaled, reference) > 0.9, (top, left, size)
        # The pen keeps its width in canvas pixels whatever the size, as on the Draw page.
        same_pen = canvas_to_mnist(draw(shape, top, left, size, 16))
        assert similarity(same_pen, reference) > 0.9, (top, left, size)


@pytest.mark.parametrize(("shape", "blob_size"), [("seven", 70), ("one", 70), ("zero", 110)])
def test_stroke_matching_widens_thin_pens_and_narrows_only_blobs(shape, blob_size):
    reference = canvas_to_mnist(draw(shape, 40, 40, 200, 26))  # strokes as thick as MNIST's
    thin, blob = draw(shape, 40, 40, 200, 4), draw(shape, 80, 80, blob_size, 30)
    for drawing in (thin, blob):
        matched = similarity(canvas_to_mnist(drawing), reference)
        unmatched = similarity(canvas_to_mnist(drawing, match_strokes=False), reference)
        assert matched > 0.8
        assert matched > unmatched + 0.02
    if shape == "zero":  # the fat pen's ring gets its hole back once narrowed
        assert (
            canvas_to_mnist(blob)[14, 14] < 0.1 < canvas_to_mnist(blob, match_strokes=False)[14, 14]
        )


def six(hand: str, pen: int, height: int) -> np.ndarray:
    """A 6 in one writer's `hand` ("hooked" or "straight entry"), its loop half its height."""
    writer = Writer(slant=0.1, width=1.0, loop=0.5, variants={6: hand})
    strokes = writer_strokes(6, writer, np.random.default_rng(0))
    placed, _ = place_strokes(strokes, pen=pen, height=height, rng=None, where=(0.5, 0.5))
    return render(placed, pen)


def loop_hole(digit: np.ndarray) -> np.ndarray:
    """The pixels enclosed by strokes of at least half strength: the inside of closed loops."""
    strokes = digit >= 0.5
    return ndimage.binary_fill_holes(strokes) & ~strokes


@pytest.mark.parametrize("hand", ["hooked", "straight entry"])
@pytest.mark.parametrize(("pen", "height"), [(6, 200), (30, 90)])
def test_a_sixs_loop_comes_out_closed_and_open_inside_low_down_as_in_mnist(hand, pen, height):
    # MNIST's 6s have a closed loop in their lower half (its inside: 11 pixels for the median
    # 6). A thin pen on a big 6 fades under half strength once shrunk, so its loop is no
    # longer closed; a fat pen on a small one fills it. Stroke matching keeps it as drawn.
    drawing = six(hand, pen, height)
    hole = loop_hole(canvas_to_mnist(drawing))
    unmatched = loop_hole(canvas_to_mnist(drawing, match_strokes=False))
    assert hole.sum() >= 15
    assert hole.sum() >= unmatched.sum() + 5
    assert ndimage.center_of_mass(hole)[0] > 14  # the loop is in the lower half


@pytest.mark.parametrize("shape", ["seven", "one", "zero"])
def test_strokes_as_thick_as_mnists_are_kept_as_drawn(shape):
    # A 22 px pen on a 140 px digit: about 0.14 of its box, MNIST's median.
    drawing = draw(shape, 60, 60, 140, 22)
    np.testing.assert_array_equal(
        canvas_to_mnist(drawing), canvas_to_mnist(drawing, match_strokes=False)
    )


@pytest.mark.parametrize("colours", ["black", "white", "blue on yellow", "black on transparent"])
def test_colours_and_polarity_do_not_matter(colours):
    reference = canvas_to_mnist(draw("zero", 50, 70, 150, 16, "transparent"))
    digit = canvas_to_mnist(draw("zero", 50, 70, 150, 16, colours))
    assert np.abs(digit - reference).max() < 0.02


def test_grey_and_rgb_and_float_images_give_the_same_as_rgba():
    rgba = draw("seven", 30, 40, 170, 15, "white")
    reference = canvas_to_mnist(rgba)
    rgb = rgba[..., :3]
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    for image in (rgb, grey, rgba.astype(np.float64) / 255):
        assert np.abs(canvas_to_mnist(image) - reference).max() < 0.02


def test_transparency_is_ink_whatever_the_hidden_colour():
    # Canvas libraries may leave any colour under alpha 0; only alpha says where the pen went.
    canvas = draw("one", 40, 40, 180, 14)
    canvas[canvas[..., 3] == 0, :3] = (255, 0, 255)
    reference = canvas_to_mnist(draw("one", 40, 40, 180, 14))
    assert np.abs(canvas_to_mnist(canvas) - reference).max() < 0.02


@pytest.mark.parametrize(
    "name",
    ["empty transparent", "opaque white", "opaque black", "dot", "big dot", "speck", "noise"],
)
def test_blank_or_nearly_blank_canvases_give_none(name):
    canvas = draw("seven", 0, 0, 10, 1)  # replaced below
    if name == "empty transparent":
        canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    elif name == "opaque white":
        canvas = np.full((CANVAS, CANVAS, 4), 255, dtype=np.uint8)
    elif name == "opaque black":
        canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
        canvas[..., 3] = 255
    elif name in ("dot", "big dot"):
        image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
        radius = 10 if name == "dot" else 22  # the big dot is wider than the 28-pixel minimum
        ImageDraw.Draw(image).ellipse(
            [140 - radius, 140 - radius, 140 + radius, 140 + radius], (255, 255, 255, 255)
        )
        canvas = np.asarray(image)
    elif name == "speck":
        canvas = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
        canvas[100:103, 200:203] = 255
    elif name == "noise":  # faint sensor-like noise on grey: under the contrast floor
        rng = np.random.default_rng(1)
        grey = rng.integers(120, 140, (CANVAS, CANVAS), dtype=np.uint8)
        canvas = np.stack([grey, grey, grey, np.full_like(grey, 255)], axis=-1)
    assert canvas_to_mnist(canvas) is None


def test_a_short_stroke_is_still_a_digit():
    assert canvas_to_mnist(draw("one", 100, 100, 50, 8)) is not None


def test_specks_away_from_the_digit_are_ignored():
    clean = draw("seven", 60, 60, 150, 16)
    specked = clean.copy()
    specked[5:9, 5:9] = 255  # a speck top left
    specked[270:272, 100:104] = 255  # and one at the bottom
    np.testing.assert_array_equal(canvas_to_mnist(specked), canvas_to_mnist(clean))
    assert ink_box(ink_map(specked)) == ink_box(ink_map(clean))


def test_a_speck_inside_the_digits_box_is_removed_too():
    clean = draw("zero", 50, 60, 180, 14)
    specked = clean.copy()
    specked[138:142, 148:152] = 255  # a speck in the middle of the 0's hole
    specked[215:218, 70:73] = 255  # and one inside the box, by the lower-left curve
    assert ink_box(ink_map(specked)) == ink_box(ink_map(clean))
    np.testing.assert_array_equal(canvas_to_mnist(specked), canvas_to_mnist(clean))
    # A mark holding more of the ink is a stroke, not a speck: it stays.
    stroked = clean.copy()
    stroked[120:160, 140:150] = 255
    assert canvas_to_mnist(stroked)[12:16, 12:16].max() > 0.5
