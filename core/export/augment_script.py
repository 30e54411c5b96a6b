"""The augmentation part of an exported Keras script: the classes of
core/nets/augment_layers.py written out for the reader, and the layer's line in the model.

The script defines `StrokeThickness` and `Augmentation` itself, with the very code of
core/nets/augment_layers.py (read from that file, so the two cannot drift apart) and
registered under the same names, so it needs nothing of the playground, and the .keras file it
saves loads in the app in safe mode. tests/export/test_keras_script.py trains both and
compares the histories.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from core.nets.augment import augments
from core.nets.model import ModelSpec

HEADER = """\
# Augmentation: random changes of the training images, made afresh every batch, so the
# network learns digits drawn thicker or thinner, turned, bigger or smaller and off-centre.
# The layer acts only while training (fit); evaluate and predict see the images as they are.
"""
SOURCE = Path(__file__).resolve().parents[1] / "nets" / "augment_layers.py"
FIRST = "PACKAGE = "  # the code from here on is the layers' own


@cache
def classes_code() -> str:
    """The code of core/nets/augment_layers.py after its imports, as the script holds it,
    after a comment; ends in a blank line, which sets it apart from the model below it."""
    text = SOURCE.read_text(encoding="utf-8")
    return f"{HEADER}{text[text.index(FIRST) :].rstrip()}\n\n"


def augmentation_classes(spec: ModelSpec) -> str:
    """The two classes, for a spec with augmentation ("" without)."""
    return classes_code() if augments(spec) else ""


def augmentation_layer(spec: ModelSpec) -> str:
    """The model's first layer after its input, for a spec with augmentation ("" without)."""
    if not augments(spec):
        return ""
    return (
        f"Augmentation(shift={float(spec.augment_shift)!r}, "
        f"rotation={float(spec.augment_rotation)!r}, zoom={float(spec.augment_zoom)!r}, "
        f'thickness={int(spec.augment_thickness)}, name="augmentation"),'
    )
