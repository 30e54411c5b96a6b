"""The augmentation layer of a model (`Augmentation`) and the stroke-thickness layer it uses
(`StrokeThickness`, since Keras has none): both act only while training.

`Augmentation` holds Keras's own `RandomTranslation`, `RandomRotation` and `RandomZoom` and a
`StrokeThickness`, made from four plain numbers, and applies them only when called with
training=True (`fit`); called any other way (`model(x)`, `predict`, `evaluate`) it hands its
input on unchanged. (Keras's random layers alone would augment a `model(x)` call: their own
default is training=True.) A dense network's rows are seen as 28x28 images for it.

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
        shape = (ops.shape(images)[0], 1, 1, 1)
        amount = keras.random.uniform(shape, -self.pixels, self.pixels, seed=self.seed_generator)
        out = grown = shrunk = images
        for step in range(self.pixels):  # a pixel at a time, the last one in part
            more = ops.max_pool(grown, pool_size=3, strides=1, padding="same")
            less = -ops.max_pool(-shrunk, pool_size=3, strides=1, padding="same")
            out = out + ops.clip(amount - step, 0, 1) * (more - grown)
            out = out + ops.clip(-amount - step, 0, 1) * (less - shrunk)
            grown, shrunk = more, less
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pixels": self.pixels, "seed": self.seed}


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
        self.steps = []
        if self.thickness:
            self.steps.append(StrokeThickness(self.thickness))
        if self.rotation:
            self.steps.append(keras.layers.RandomRotation(self.rotation / 360, **FILL))
        if self.zoom:
            self.steps.append(keras.layers.RandomZoom(self.zoom, **FILL))
        if self.shift:
            self.steps.append(keras.layers.RandomTranslation(self.shift, self.shift, **FILL))

    def build(self, input_shape):
        for step in self.steps:
            step.build((None, 28, 28, 1))

    def call(self, inputs, training=False):
        if not training:
            return inputs
        images = keras.ops.reshape(inputs, (-1, 28, 28, 1))
        for step in self.steps:
            images = step(images, training=True)
        return keras.ops.reshape(images, keras.ops.shape(inputs))

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
