"""Why the network gave its answer: which pixels pushed it towards it, and which away.

The method is integrated gradients (Sundararajan, Taly and Yan, 2017) from a black image,
applied to the difference between two logits: the answer's and the runner-up's (or any
digit the person picks). For each pixel it adds up, along the straight path from a black
image to the drawing, how much that pixel's ink raised the answer's score over the other
digit's, times the ink. So:

- a positive value (blue) is ink that made the answer more likely than the other digit,
  a negative value (red) ink that favoured the other digit;
- the values add up to how much the drawing raises the answer's logit over the other's,
  compared with a black image (`Saliency.completeness` says how close the sum of the 32-step
  approximation comes);
- for a network without hidden layers it is exactly weights times input: the difference of
  the two digits' weight columns, times each pixel.

Its limits: a pixel without ink always scores 0, so it cannot say "a stroke missing here
would have made it a 9"; and it explains this one image, not what the network does in
general.

`Explainer` compiles, once per model, one TensorFlow function that runs the whole path of
images through the network with a gradient tape; the image itself is the path's last point,
so the same pass also gives the probabilities and every shown layer's activations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.inside.records import Activations
from core.nets.model import IMAGE_SIDE

# Floor under probabilities before a log, for a final layer whose logits cannot be read.
TINY = 1e-30


@dataclass(frozen=True, eq=False)
class Saliency:
    """Per-pixel attributions (28, 28) for `answer` against `other`.

    Positive values push towards `answer`, negative ones towards `other`. `margin` is the
    answer's logit minus the other's for the image, `baseline_margin` the same for a black
    image: the attributions add up to (nearly) their difference.
    """

    attributions: np.ndarray
    image: np.ndarray
    answer: int
    other: int
    margin: float
    baseline_margin: float

    @property
    def total(self) -> float:
        return float(self.attributions.sum(dtype=np.float64))

    @property
    def completeness(self) -> float:
        """Sum of the attributions over the margin they explain (1.0 is exact)."""
        explained = self.margin - self.baseline_margin
        return self.total / explained if explained else 1.0

    def share_towards_answer(self) -> float:
        """The positive attributions' share of all attribution, from 0 to 1."""
        positive = float(self.attributions[self.attributions > 0].sum())
        negative = float(-self.attributions[self.attributions < 0].sum())
        return positive / (positive + negative) if positive + negative else 0.5


@dataclass(frozen=True, eq=False)
class Explanation:
    activations: Activations
    saliency: Saliency


def _logits_and_probabilities(layer: Any, h: Any):
    """The last layer's logits and probabilities for its input `h`.

    A Dense layer with a softmax, or a Softmax layer after the logits, gives its logits
    directly; any other last layer's log-probabilities stand in for them (the difference of
    two log-probabilities equals the difference of their logits under a softmax).
    """
    import tensorflow as tf  # TensorFlow: not at start-up

    kind = layer.__class__.__name__
    activation = layer.get_config().get("activation") if kind in ("Dense", "Activation") else None
    if kind == "Dense" and activation == "softmax":
        logits = tf.matmul(h, layer.kernel)
        if layer.bias is not None:
            logits = logits + layer.bias
        return logits, tf.nn.softmax(logits)
    if kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        return h, layer(h, training=False)
    probabilities = layer(h, training=False)
    return tf.math.log(tf.maximum(probabilities, TINY)), probabilities


class Explainer:
    """One compiled pass giving probabilities, activations and saliency for one image."""

    def __init__(self, inspector: Any) -> None:
        import tensorflow as tf  # TensorFlow: not at start-up

        self.inspector = inspector
        chain = inspector.chain
        shown = {info.position for info in inspector.layers}
        steps = inspector.saliency_steps
        input_shape = inspector.input_shape
        alpha_shape = (steps + 1,) + (1,) * len(input_shape)

        @tf.function(
            input_signature=[
                tf.TensorSpec((1, *input_shape), tf.float32),
                tf.TensorSpec((), tf.int32),
            ]
        )
        def explain(x, other):
            alphas = tf.reshape(tf.linspace(0.0, 1.0, steps + 1), alpha_shape)
            path = alphas * x  # black image first, the image itself last
            with tf.GradientTape() as tape:
                tape.watch(path)
                h = path
                outputs = []
                for position, layer in enumerate(chain[:-1]):
                    h = layer(h, training=False)
                    if position in shown:
                        outputs.append(h[-1])
                logits, probabilities = _logits_and_probabilities(chain[-1], h)
                answer = tf.argmax(probabilities[-1], output_type=tf.int32)
                others = probabilities[-1] - 2.0 * tf.one_hot(answer, tf.shape(logits)[1])
                runner_up = tf.argmax(others, output_type=tf.int32)
                other = tf.where((other >= 0) & (other != answer), other, runner_up)
                margins = tf.gather(logits, answer, axis=1) - tf.gather(logits, other, axis=1)
            gradients = tape.gradient(margins, path)
            # Trapezoid rule along the path; for a linear network every gradient is the same.
            average = tf.reduce_mean((gradients[:-1] + gradients[1:]) / 2.0, axis=0)
            return probabilities[-1], outputs, average * x[0], answer, other, margins

        self._explain = explain

    def __call__(self, image28: np.ndarray, other: int | None = None) -> Explanation:
        image = np.asarray(image28, dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)
        x = self.inspector.model_input(image[None])
        choice = -1 if other is None else int(other)
        probabilities, outputs, attributions, answer, other_, margins = self._explain(x, choice)
        margins = margins.numpy()
        activations = Activations(
            probabilities=probabilities.numpy(),
            layers=self.inspector.layers,
            outputs=[output.numpy() for output in outputs],
        )
        saliency = Saliency(
            attributions=attributions.numpy().reshape(IMAGE_SIDE, IMAGE_SIDE),
            image=image,
            answer=int(answer),
            other=int(other_),
            margin=float(margins[-1]),
            baseline_margin=float(margins[0]),
        )
        return Explanation(activations, saliency)
