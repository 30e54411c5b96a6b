"""Why the network gave its answer: which pixels pushed it towards it, and which away.

The method is integrated gradients (Sundararajan, Taly and Yan, 2017) applied to the
difference between two logits: the answer's and the runner-up's (or any digit the person
picks). Its reference is the average digit of each kind: the mean image of every 0, every
1, ... in MNIST's training set (`digit_means`, shipped as digit_means.npy). For each of the ten,
it follows the straight path from that average digit to the image and adds up how much each
pixel raised the answer's score over the other digit's, times how much the pixel differs from
the average digit; the ten are averaged. So:

- a positive value (blue) favoured the answer over the other digit, a negative one (red) the
  other digit; a pixel without ink scores too, where average digits have some there;
- the values add up to `difference`: how much more the image favours the answer over the
  other digit than the average digits do (`margin` minus `baseline_margin`). Each path's
  integral is a trapezoid rule over `INITIAL_STEPS` steps; the steps of the paths furthest
  off are halved until the sum is within `TOLERANCE` of that difference (or `FLOOR` of a
  score, for a difference near zero), or `MAX_POINTS` points are spent; `gap` says how close
  it came;
- for a network without hidden layers it is exactly weights times input: the difference of the
  two digits' weight columns, times each pixel less the average digits' mean.

Why these references: a black image is not neutral for every network. A batch-normalised
convnet may read it as a digit, sure of it, and then score that digit over another higher than
for a drawing of it: each of the drawing's pixels comes out red. bench/saliency.py compares
the candidates (a black image, the mean digit, a blurred copy, the ten average digits).

Its limits: it explains this one image against those averages, not what the network does in
general; and where the average digits favour the answer more than the image does, its sum is
negative although the answer is right (the page says so).

`Explainer` compiles, once per model, a forward pass (probabilities and every shown layer's
activations) and one pass over any batch of path points giving the margin and its gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from core.inside.records import Activations
from core.nets.model import IMAGE_SIDE

# Floor under probabilities before a log, for a final layer whose logits cannot be read.
TINY = 1e-30
DIGIT_MEANS_FILE = Path(__file__).with_name("digit_means.npy")
INITIAL_STEPS = 4  # trapezoid steps along each path, before any halving
TOLERANCE = 0.01  # the sum's largest gap, as a share of the difference it explains
FLOOR = 0.002  # ... or in logits, for a difference near zero
MAX_POINTS = 2048  # gradients one explanation may take, all paths together
CHUNK = 256  # path points per call of the gradient pass (bounds a convnet's memory)


def digit_means(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean image of each digit 0-9, rounded to uint8 (10, 28, 28): how digit_means.npy
    was made from MNIST's 60,000 training digits."""
    images, labels = np.asarray(images), np.asarray(labels)
    return np.stack(
        [np.round(images[labels == digit].astype(np.float64).mean(axis=0)) for digit in range(10)]
    ).astype(np.uint8)


@cache
def reference_digits() -> np.ndarray:
    """The ten average digits the saliency starts from, (10, 28, 28) float32 in [0, 1]."""
    means = np.load(DIGIT_MEANS_FILE, allow_pickle=False)
    return (means.astype(np.float32) / np.float32(255.0)).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


@dataclass(frozen=True, eq=False)
class Saliency:
    """Per-pixel attributions (28, 28) for `answer` against `other`.

    Positive values push towards `answer`, negative ones towards `other`. `margin` is the
    answer's logit minus the other's for the image, `baseline_margin` the same averaged over
    the references; the attributions add up to (nearly) their difference. `steps` is the
    number of trapezoid steps the longest path took.
    """

    attributions: np.ndarray
    image: np.ndarray
    answer: int
    other: int
    margin: float
    baseline_margin: float
    steps: int = 0

    @property
    def total(self) -> float:
        return float(self.attributions.sum(dtype=np.float64))

    @property
    def difference(self) -> float:
        """How much more the image favours the answer over the other digit than the
        references do (negative: less)."""
        return self.margin - self.baseline_margin

    @property
    def gap(self) -> float:
        """How far the attributions' sum is from `difference`, as a share of it."""
        return abs(self.total - self.difference) / max(abs(self.difference), 1e-12)

    @property
    def adds_up(self) -> bool:
        """Whether the sum came within TOLERANCE of the difference (or FLOOR of a score)."""
        allowed = max(TOLERANCE * abs(self.difference), FLOOR)
        return abs(self.total - self.difference) <= allowed * (1 + 1e-4) + 1e-6

    @property
    def completeness(self) -> float:
        """Sum of the attributions over the difference they explain (1.0 is exact)."""
        return self.total / self.difference if self.difference else 1.0

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


def _compile(inspector: Any):
    """The two compiled passes: (forward, gradients) for this inspector's chain of layers."""
    import tensorflow as tf  # TensorFlow: not at start-up

    chain = inspector.chain
    shown = {info.position for info in inspector.layers}
    input_shape = inspector.input_shape

    def logits_of(points, outputs=None):
        h = tf.reshape(points, (-1, *input_shape))
        for position, layer in enumerate(chain[:-1]):
            h = layer(h, training=False)
            if outputs is not None and position in shown:
                outputs.append(h[0])
        return _logits_and_probabilities(chain[-1], h)

    @tf.function(input_signature=[tf.TensorSpec((1, IMAGE_SIDE, IMAGE_SIDE), tf.float32)])
    def forward(image):
        outputs: list = []
        _, probabilities = logits_of(image, outputs)
        return probabilities[0], outputs

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE), tf.float32),
            tf.TensorSpec((), tf.int32),
            tf.TensorSpec((), tf.int32),
        ]
    )
    def gradients(points, answer, other):
        with tf.GradientTape() as tape:
            tape.watch(points)
            logits, _ = logits_of(points)
            margins = logits[:, answer] - logits[:, other]
        return margins, tape.gradient(margins, points)

    return forward, gradients


def _compared_digit(probabilities: np.ndarray, other: int | None) -> tuple[int, int]:
    """(answer, the digit it is compared with): `other`, or the runner-up when `other` is
    None, not a digit or the answer itself."""
    order = np.argsort(-probabilities, kind="stable")
    answer = int(order[0])
    if other is None or not 0 <= int(other) < len(probabilities) or int(other) == answer:
        return answer, int(order[1])
    return answer, int(other)


class _Paths:
    """The trapezoid rule along each reference's straight path to the image, refined by
    halving the steps of the paths whose sum is furthest off."""

    def __init__(self, gradients, image: np.ndarray, references: np.ndarray, answer, other):
        self.gradients, self.image, self.references = gradients, image, references
        self.answer, self.other = answer, other
        self.spent = 0
        count = len(references)
        alphas = np.linspace(0.0, 1.0, INITIAL_STEPS + 1, dtype=np.float32)
        margins, grads = self.evaluate(
            np.repeat(np.arange(count), len(alphas)), np.tile(alphas, count)
        )
        margins = margins.reshape(count, len(alphas))
        grads = grads.reshape(count, len(alphas), IMAGE_SIDE, IMAGE_SIDE)
        self.steps = np.full(count, INITIAL_STEPS)
        self.average = (
            grads[:, 0] / 2 + grads[:, 1:-1].sum(axis=1) + grads[:, -1] / 2
        ) / INITIAL_STEPS
        self.margin = float(margins[0, -1])  # the image itself ends every path
        self.baselines = margins[:, 0].astype(np.float64)

    def evaluate(self, owners: np.ndarray, alphas: np.ndarray):
        """Margins and gradients at `alphas` along the paths of the references `owners`."""
        import tensorflow as tf  # TensorFlow: not at start-up

        starts = self.references[owners]
        points = starts + alphas[:, None, None] * (self.image[None] - starts)
        margins, grads = [], []
        for begin in range(0, len(points), CHUNK):
            m, g = self.gradients(
                tf.constant(points[begin : begin + CHUNK]), self.answer, self.other
            )
            margins.append(m.numpy())
            grads.append(g.numpy())
        self.spent += len(points)
        return np.concatenate(margins), np.concatenate(grads)

    def attributions(self) -> np.ndarray:
        """Each path's attributions (references, 28, 28)."""
        return self.average * (self.image[None] - self.references)

    def refine(self) -> None:
        """Halve the steps of the paths furthest off until the sum is close enough or the
        points are spent."""
        while True:
            sums = self.attributions().reshape(len(self.references), -1).sum(axis=1)
            gaps = sums - (self.margin - self.baselines)
            limit = max(TOLERANCE * abs(self.margin - self.baselines.mean()), FLOOR)
            excess = abs(gaps.mean()) - limit
            chosen = self._furthest_off(gaps, excess * len(gaps)) if excess > 0 else []
            if not chosen:
                return
            owners = np.concatenate([np.full(self.steps[k], k) for k in chosen])
            alphas = np.concatenate(
                [(np.arange(self.steps[k]) + 0.5) / self.steps[k] for k in chosen]
            ).astype(np.float32)
            _, grads = self.evaluate(owners, alphas)
            start = 0
            for k in chosen:
                midpoints = grads[start : start + self.steps[k]].mean(axis=0)
                self.average[k] = (self.average[k] + midpoints) / 2  # T(2n) = (T(n) + M(n)) / 2
                start += self.steps[k]
                self.steps[k] *= 2

    def _furthest_off(self, gaps: np.ndarray, excess: float) -> list[int]:
        """The paths whose gaps push the sum off its difference most, as many as cover
        `excess` (the sum's excess over the limit, times the number of paths) and the points
        left allow."""
        direction = np.sign(gaps.sum())
        chosen, cost = [], 0
        for k in np.argsort(-direction * gaps):
            if direction * gaps[k] <= 0 or excess <= 0:
                break
            if self.spent + cost + self.steps[k] <= MAX_POINTS:
                chosen.append(int(k))
                cost += int(self.steps[k])
                excess -= abs(gaps[k])
        return chosen


class Explainer:
    """Probabilities, activations and saliency for one image, with passes compiled once."""

    def __init__(self, inspector: Any, references: np.ndarray | None = None) -> None:
        self.inspector = inspector
        references = reference_digits() if references is None else references
        self.references = np.asarray(references, np.float32).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
        self._forward, self._gradients = _compile(inspector)

    def activations(self, image28: np.ndarray) -> Activations:
        image = np.asarray(image28, dtype=np.float32).reshape(1, IMAGE_SIDE, IMAGE_SIDE)
        probabilities, outputs = self._forward(image)
        return Activations(
            probabilities=probabilities.numpy(),
            layers=self.inspector.layers,
            outputs=[output.numpy() for output in outputs],
        )

    def saliency(self, image28: np.ndarray, probabilities: np.ndarray, other=None) -> Saliency:
        image = np.asarray(image28, dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)
        answer, other = _compared_digit(np.asarray(probabilities), other)
        paths = _Paths(self._gradients, image, self.references, answer, other)
        paths.refine()
        return Saliency(
            attributions=paths.attributions().mean(axis=0, dtype=np.float64).astype(np.float32),
            image=image,
            answer=answer,
            other=other,
            margin=paths.margin,
            baseline_margin=float(paths.baselines.mean()),
            steps=int(paths.steps.max()),
        )

    def __call__(self, image28: np.ndarray, other: int | None = None) -> Explanation:
        activations = self.activations(image28)
        return Explanation(activations, self.saliency(image28, activations.probabilities, other))
