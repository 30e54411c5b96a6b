"""The augmentation part of an exported Keras script: the classes of
core/nets/augment_layers.py written out for the reader, and the layer's line in the model.

The script defines `StrokeThickness` and `Augmentation` itself (registered under the same
names), so it needs nothing of the playground, and the .keras file it saves loads in the app
in safe mode. tests/export/test_keras_script.py trains both and compares the histories.
"""

from __future__ import annotations

from core.nets.augment import augments
from core.nets.model import ModelSpec

# Ends in a blank line, which sets it apart from the model below it.
CLASSES = '''\
# Augmentation: random changes of the training images, made afresh every batch, so the
# network learns digits drawn thicker or thinner, turned, bigger or smaller and off-centre.
# The layer acts only while training (fit); evaluate and predict see the images as they are.
FILL = {"fill_mode": "constant", "fill_value": 0.0}  # MNIST's background is black


@keras.saving.register_keras_serializable(package="keras_playground")
class StrokeThickness(layers.Layer):
    """Strokes grow or shrink by a random amount from -pixels to pixels: the largest
    (dilation) or smallest (erosion) value of each 3x3 patch, a part pixel blended in."""

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
        amount = keras.random.uniform(
            shape, -self.pixels, self.pixels, seed=self.seed_generator
        )
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


@keras.saving.register_keras_serializable(package="keras_playground")
class Augmentation(layers.Layer):
    """Stroke thickness (pixels), rotation (degrees either way), zoom (a fraction) and
    shift (a fraction of the side), each only if not 0; only while training."""

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
            self.steps.append(layers.RandomRotation(self.rotation / 360, **FILL))
        if self.zoom:
            self.steps.append(layers.RandomZoom(self.zoom, **FILL))
        if self.shift:
            self.steps.append(layers.RandomTranslation(self.shift, self.shift, **FILL))

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

'''


def augmentation_classes(spec: ModelSpec) -> str:
    """The two classes, for a spec with augmentation ("" without)."""
    return CLASSES if augments(spec) else ""


def augmentation_layer(spec: ModelSpec) -> str:
    """The model's first layer after its input, for a spec with augmentation ("" without)."""
    if not augments(spec):
        return ""
    return (
        f"Augmentation(shift={float(spec.augment_shift)!r}, "
        f"rotation={float(spec.augment_rotation)!r}, zoom={float(spec.augment_zoom)!r}, "
        f'thickness={int(spec.augment_thickness)}, name="augmentation"),'
    )
