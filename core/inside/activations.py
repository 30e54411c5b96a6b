"""What every hidden layer of a network does with one image: its activations.

An `Inspector` is made once per model. It lays the model out as the chain of layers an image
goes through, looking inside models nested in the model (a stored or imported run is wrapped
by `core.nets.model_files.standard_form`, the original model inside), and checks that the chain
gives the model's own output, so a model with branches is refused rather than misread. It
then answers, for one image, the probabilities and the output of each shown hidden layer
(`activations`), and, with the saliency, `explain`. For many images it gives each unit's
response (`unit_responses`, used by `core.inside.unit_search`).

Keras and TensorFlow are imported only when an Inspector is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.inside.records import Activations, LayerInfo
from core.inside.saliency import Explainer
from core.mnist.data import to_model_inputs
from core.nets.model import IMAGE_SIDE, INPUT_SIZE

# Layers whose output is not worth a view of its own: reshaping, dropout (the identity when
# predicting) and the input. The last layer of the chain (the output) is never shown here:
# the pages already draw the ten probabilities.
# The playground's augmentation, too, is the identity when predicting (core/nets/augment_layers.py).
PASS_THROUGH = frozenset(
    {"InputLayer", "Reshape", "Flatten", "Dropout", "SpatialDropout2D", "Augmentation"}
)


class ModelChainError(ValueError):
    """The model is not a plain chain of layers; the message says what the views cannot show."""


def layer_chain(model: Any) -> list[Any]:
    """The model's layers in the order an image meets them, nested models opened up."""
    import keras  # Keras: not at start-up

    chain: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            chain.extend(layer_chain(layer))
        elif layer.__class__.__name__ != "InputLayer":
            chain.append(layer)
    return chain


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The shape of one image as the model takes it: (784,) or (28, 28, 1) (or (28, 28))."""
    shape = tuple(int(n) for n in model.inputs[0].shape[1:])
    if int(np.prod(shape)) != INPUT_SIZE:
        raise ModelChainError(
            f"the model takes inputs of shape {shape}; the inside views need a 28 x 28 digit "
            "as 784 values."
        )
    return shape


def _activation_name(layer: Any) -> str | None:
    try:
        activation = layer.get_config().get("activation")
    except (NotImplementedError, AttributeError):  # a layer without a config
        return None
    return activation if isinstance(activation, str) and activation != "linear" else None


class Inspector:
    """The inside of one model: layers, activations, saliency and unit responses.

    Build one per model and keep it (the pages cache it with the model): it compiles its
    passes once, on first use.
    """

    def __init__(self, model: Any, saliency_references: np.ndarray | None = None) -> None:
        import keras  # Keras: not at start-up

        self.model = model
        self.input_shape = model_input_shape(model)
        self.chain = layer_chain(model)
        if not self.chain:
            raise ModelChainError("the model has no layers to show.")
        # Where the saliency's paths start (None: the ten average digits, core.inside.saliency).
        self.saliency_references = saliency_references
        self._check_chain(keras)
        self.layers = self._shown_layers(keras)
        self._explain = None
        self._responses: dict[int, Any] = {}

    def _check_chain(self, keras) -> None:
        """Refuse a model the chain does not reproduce (branches, skips, several inputs)."""
        if len(self.model.inputs) != 1 or len(self.model.outputs) != 1:
            raise ModelChainError(
                "the model has several inputs or outputs; the inside views follow one chain of layers."
            )
        refusal = ModelChainError(
            f"model {self.model.name!r} is not a plain chain of layers (it branches or skips "
            "layers), so its layers cannot be shown one after the other."
        )
        probe = np.random.default_rng(0).random((2, *self.input_shape), dtype=np.float32)
        x = keras.ops.convert_to_tensor(probe)
        try:
            for layer in self.chain:
                x = layer(x, training=False)
        except (ValueError, TypeError) as error:  # e.g. a merge layer given one tensor
            raise refusal from error
        ours = keras.ops.convert_to_numpy(x)
        theirs = keras.ops.convert_to_numpy(self.model(probe, training=False))
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, atol=1e-5, rtol=1e-4):
            raise refusal

    def _shown_layers(self, keras) -> list[LayerInfo]:
        shown = []
        shape: tuple[int, ...] = self.input_shape
        for position, layer in enumerate(self.chain):
            shape = tuple(int(n) for n in layer.compute_output_shape((None, *shape))[1:])
            kind = layer.__class__.__name__
            if position == len(self.chain) - 1 or kind in PASS_THROUGH:
                continue
            if len(shape) not in (1, 3):
                continue  # e.g. a (28, 28) reshape of the pixels: nothing learned there
            shown.append(LayerInfo(position, layer.name, kind, shape, _activation_name(layer)))
        return shown

    # --- one image -------------------------------------------------------------------------

    def model_input(self, images: np.ndarray) -> np.ndarray:
        """Images (n, 28, 28) or (n, 784), uint8 or floats in [0, 1], as the model's input."""
        return to_model_inputs(images, self.input_shape)

    def _explainer(self) -> Explainer:
        if self._explain is None:
            self._explain = Explainer(self, self.saliency_references)
        return self._explain

    def activations(self, image28: np.ndarray) -> Activations:
        """The probabilities and each shown layer's output for one (28, 28) image in [0, 1]
        (one forward pass: no saliency)."""
        return self._explainer().activations(image28)

    def explain(self, image28: np.ndarray, other: int | None = None):
        """Activations and saliency for one image (`core.inside.saliency`).

        The saliency compares the network's answer with `other` (default: its runner-up).
        """
        return self._explainer()(image28, other)

    # --- many images -------------------------------------------------------------------------

    def unit_responses(
        self, images: np.ndarray, layer: LayerInfo, batch_size: int = 256
    ) -> np.ndarray:
        """Each unit's response to each image, (n, units) float32.

        A dense unit's response is its output; a feature map's is its largest value (where in
        the image it fires most). Runs the chain only up to `layer`, in batches.
        """
        import tensorflow as tf  # TensorFlow: not at start-up

        function = self._responses.get(layer.position)
        if function is None:
            chain = self.chain[: layer.position + 1]

            @tf.function(
                input_signature=[tf.TensorSpec((None, *self.input_shape), tf.float32)],
                reduce_retracing=True,
            )
            def function(x):
                for step in chain:
                    x = step(x, training=False)
                return tf.reduce_max(x, axis=(1, 2)) if len(layer.shape) == 3 else x

            self._responses[layer.position] = function
        images = np.asarray(images)
        out = np.empty((len(images), layer.units), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            batch = self.model_input(images[start : start + batch_size])
            out[start : start + len(batch)] = function(batch).numpy()
        return out

    # --- weights -------------------------------------------------------------------------

    def first_layer_position(self) -> int | None:
        """Position of the first layer with weights if only reshaping comes before it."""
        for position, layer in enumerate(self.chain):
            if getattr(layer, "kernel", None) is not None:
                return position
            if layer.__class__.__name__ not in PASS_THROUGH:
                return None
        return None

    def unit_template(self, layer: LayerInfo, unit: int) -> np.ndarray | None:
        """What a first-layer unit looks for: its weights on the pixels.

        A first Dense layer's unit gives a (28, 28) image; a first Conv2D layer's filter its
        (k, k) kernel. Units of deeper layers have no image of their own: None.
        """
        if layer.position != self.first_layer_position():
            return None
        import keras  # Keras: not at start-up

        kernel = keras.ops.convert_to_numpy(self.chain[layer.position].kernel)
        if layer.kind == "Dense" and kernel.shape[0] == INPUT_SIZE:
            return kernel[:, unit].reshape(IMAGE_SIDE, IMAGE_SIDE).astype(np.float32)
        if layer.kind == "Conv2D" and kernel.ndim == 4 and kernel.shape[2] == 1:
            return kernel[:, :, 0, unit].astype(np.float32)
        return None
