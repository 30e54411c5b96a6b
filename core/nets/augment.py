"""Augmentation: random shifts, rotations, zoom and stroke thickness of the training images,
done by one layer at the start of the model that acts only while it trains.

The layer (`core.nets.augment_layers.Augmentation`) is Keras's own `RandomTranslation`,
`RandomRotation` and `RandomZoom` and our `StrokeThickness`; being a layer of the model, it
is in the .keras file and in the exported script, and test-time inputs (`model(x)`,
`predict`, `evaluate`) pass it untouched.

The settings are four `ModelSpec` fields, 0 for off: `augment_shift` (the largest shift, a
fraction of the image's side), `augment_rotation` (degrees, either way), `augment_zoom` (the
largest zoom in or out, a fraction) and `augment_thickness` (pixels added or taken away on
each side of a stroke). This module imports no Keras until a layer is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.nets.layers import SpecError
from core.runtime.seeding import seeded

IMAGE_SHAPE = (28, 28, 1)
# field -> (largest value, what it is, a value to try)
LIMITS: dict[str, tuple[float, str, str]] = {
    "augment_shift": (0.3, "shift (a fraction of the image's side)", "0.1"),
    "augment_rotation": (45.0, "rotation (degrees)", "10"),
    "augment_zoom": (0.5, "zoom (a fraction)", "0.1"),
    "augment_thickness": (2, "stroke thickness change (pixels)", "1"),
}
FIELDS = tuple(LIMITS)
NAME = "augmentation"  # the layer's name in the model and the exported script
CLASSES = frozenset({"Augmentation", "StrokeThickness"})


def check(spec: Any) -> None:
    """SpecError unless each augmentation setting of `spec` is from 0 to its limit; a whole
    number given for a fractional setting becomes a float (10 degrees: 10.0)."""
    for name, (top, what, example) in LIMITS.items():
        value = getattr(spec, name)
        whole = isinstance(top, int)
        kind = int if whole else int | float
        if isinstance(value, bool) or not isinstance(value, kind) or not 0 <= value <= top:
            raise SpecError(
                f"augmentation {what} {value!r}; choose {'a whole number ' if whole else ''}"
                f"from 0 (none) to {top:g}, {example} say."
            )
        if not whole:
            setattr(spec, name, float(value))


def augments(spec: Any) -> bool:
    """Whether `spec` asks for any augmentation."""
    return any(getattr(spec, name) for name in FIELDS)


def augmentation_layer(spec: Any):
    """The `Augmentation` layer `spec` asks for (core/nets/augment_layers.py), or None."""
    if not augments(spec):
        return None
    from core.nets.augment_layers import Augmentation  # Keras: not at start-up

    return Augmentation(
        shift=spec.augment_shift,
        rotation=spec.augment_rotation,
        zoom=spec.augment_zoom,
        thickness=spec.augment_thickness,
        name=NAME,
    )


def augmented(spec: Any, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """`images` (N, 28, 28) in [0, 1] as `spec`'s augmentation hands them to the network while
    it trains (the preview on Train): (N, 28, 28) float32, the draw fixed by `seed`."""
    x = np.asarray(images, np.float32).reshape(-1, *IMAGE_SHAPE)
    if augments(spec):
        with seeded(seed):
            x = np.asarray(augmentation_layer(spec)(x, training=True), np.float32)
    return x.reshape(-1, 28, 28)
