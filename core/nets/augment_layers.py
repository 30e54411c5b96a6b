"""The augmentation layer of a model (`Augmentation`) and the stroke-thickness layer it uses
(`StrokeThickness`, since Keras has none): both act only while training.

`Augmentation` holds Keras's own `RandomRotation`, `RandomZoom` and `RandomTranslation` and a
`StrokeThickness`, made from four plain numbers, and applies them only when called with
training=True (`fit`); called any other way (`model(x)`, `predict`, `evaluate`) it hands its
input on unchanged. (Keras's random layers alone would augment a `model(x)` call: their own
default is training=True.) A dense network's rows are seen as 28x28 images for it. Keras's
three layers each draw their random move (`get_random_transformation`); the moves are then
made together, one matrix per image, so each image is resampled once, where the layers one
after another would resample and blur it three times and cost three times the work.

Both are registered with Keras (`keras.saving.register_keras_serializable`), so a .keras file
holding them loads in safe mode once this module is imported (core/nets/model_files.py and
the run store import it before loading a model). It imports Keras: import it lazily. The
exported script defines the same two classes (core/export/augment_script.py).
"""

from __future__ import annotations

import keras

PACKAGE = "keras_playground"
FILL = {"fill_mode": "constant", "fill_value": 0.0}  # MNIST's background is black


@keras.saving.register_keras_serializable(package=PACKAGE)
class StrokeThickness(keras.layers.Layer):
    """Each image's strokes grow or shrink by a random amount from -`pixels` to `pixels`
    (uniform): grey-scale dilation (the largest value of each 3x3 patch) or erosion (the
    smallest), a pixel at a time, the last part-pixel blended in (out = in + fraction x (next
    - in)), as anti-aliased strokes are. Only while training; takes (batch, 28, 28, 1) images."""

    def __init__(self, pixels=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pixels = int(pixels)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training or not self.pixels:
            return images
        ops = keras.ops
        shape = (ops.shape(images)[0],)
        low, high = -self.pixels, self.pixels
        amount = keras.random.uniform(shape, low, high, seed=self.seed_generator)
        # The batch laid along the channels, (1, 28, 28, batch): a CPU pools that layout
        # several times faster than one channel of many images.
        out = grown = shrunk = ops.transpose(images, (3, 1, 2, 0))
        for step in range(self.pixels):  # a pixel at a time, the last one in part
            more = ops.max_pool(grown, pool_size=3, strides=1, padding="same")
            less = -ops.max_pool(-shrunk, pool_size=3, strides=1, padding="same")
            out = out + ops.clip(amount - step, 0, 1) * (more - grown)
            out = out + ops.clip(-amount - step, 0, 1) * (less - shrunk)
            grown, shrunk = more, less
        return ops.transpose(out, (3, 1, 2, 0))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pixels": self.pixels, "seed": self.seed}


def move_matrices(move, transformation):
    """The (batch, 3, 3) matrices of one of Keras's random moves, from the random values its
    `get_random_transformation` drew: each takes a pixel of the output to the point of the
    input it is read from, as `keras.ops.image.affine_transform` does."""
    ops = keras.ops
    if isinstance(move, keras.layers.RandomRotation):
        flat = transformation["rotation_matrix"]  # about the centre, 8 numbers
        flat = ops.pad(flat, [[0, 0], [0, 1]], constant_values=1.0)
        return ops.reshape(flat, (-1, 3, 3))
    if isinstance(move, keras.layers.RandomZoom):
        x, y = transformation["width_zoom"][:, 0], transformation["height_zoom"][:, 0]
        centre = 13.5  # of 28x28
        x_offset, y_offset = centre * (1.0 - x), centre * (1.0 - y)
    else:  # RandomTranslation, by (x, y) pixels
        shifts = transformation["translations"]
        x = y = ops.ones_like(shifts[:, 0])
        x_offset, y_offset = -shifts[:, 0], -shifts[:, 1]
    zero, one = ops.zeros_like(x), ops.ones_like(x)
    rows = [x, zero, x_offset, zero, y, y_offset, zero, zero, one]
    return ops.reshape(ops.stack(rows, axis=1), (-1, 3, 3))


def moves_transform(moves, drawn):
    """Keras's random `moves` and what each one's `get_random_transformation` drew (`drawn`,
    in the same order) as one transform per image (8 numbers, as `affine_transform` takes
    them), so the image is resampled once, not once a move: the same moves the layers make one
    after the other, with one blur instead of three."""
    matrices = None
    for move, transformation in zip(moves, drawn, strict=True):
        step = move_matrices(move, transformation)
        matrices = step if matrices is None else keras.ops.matmul(matrices, step)
    return keras.ops.reshape(matrices, (-1, 9))[:, :8]


@keras.saving.register_keras_serializable(package=PACKAGE)
class Augmentation(keras.layers.Layer):
    """Random changes of the training images, in this order: stroke thickness (`thickness`
    pixels either way), rotation (up to `rotation` degrees either way), zoom (up to `zoom`,
    a fraction, in or out) and shift (up to `shift`, a fraction of the side, each way).
    0 leaves that change out. Only while training; takes 28x28 images or rows of 784."""

    def __init__(self, shift=0.0, rotation=0.0, zoom=0.0, thickness=0, **kwargs):
        super().__init__(**kwargs)
        self.shift = float(shift)
        self.rotation = float(rotation)
        self.zoom = float(zoom)
        self.thickness = int(thickness)
        self.strokes = StrokeThickness(self.thickness) if self.thickness else None
        self.moves = []  # Keras's own layers, which draw each image's random move
        if self.rotation:
            self.moves.append(keras.layers.RandomRotation(self.rotation / 360, **FILL))
        if self.zoom:
            self.moves.append(keras.layers.RandomZoom(self.zoom, **FILL))
        if self.shift:
            shift = keras.layers.RandomTranslation(self.shift, self.shift, **FILL)
            self.moves.append(shift)

    def build(self, input_shape):
        for step in [self.strokes, *self.moves]:
            if step is not None:
                step.build((None, 28, 28, 1))

    def call(self, inputs, training=False):
        if not training:
            return inputs
        images = keras.ops.reshape(inputs, (-1, 28, 28, 1))
        if self.strokes is not None:
            images = self.strokes(images, training=True)
        if self.moves:
            moves = self.random_moves(images)
            images = keras.ops.image.affine_transform(images, moves, **FILL)
        return keras.ops.reshape(images, keras.ops.shape(inputs))

    def random_moves(self, images):
        """Each image's turn, zoom and shift, drawn by Keras's own layers, as one transform
        (`moves_transform`)."""
        drawn = [move.get_random_transformation(images) for move in self.moves]
        return moves_transform(self.moves, drawn)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "shift": self.shift,
            "rotation": self.rotation,
            "zoom": self.zoom,
            "thickness": self.thickness,
        }
