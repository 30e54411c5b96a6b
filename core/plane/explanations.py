"""The playground's plain-words explanations: what each dataset teaches, what the features,
regularisation and dropout do, and how to read the pictures. Markdown, no code."""

from __future__ import annotations

from core.plane.spec import PlaneSpec

READING = """
**Reading the pictures.** Every small square is one unit's output over the same plane as the
big chart: blue where it is positive, orange where negative, pale near zero, each square
scaled to its own largest value (the large view gives the actual numbers). The first column
holds the input features, the last the output. The lines are the weights: blue positive,
orange negative, thicker for larger. Click a square, or pick it under the large view, to see
it large. In the big chart the colour is the network's answer, the black line its decision
boundary; dots are training points, diamonds with a black rim test points it never trains on.
"""

DATASET_WORDS = {
    "points": """
**Why one layer cannot do it.** With no hidden layer the network is
sigmoid(w1·x1 + w2·x2 + b), and its boundary is one straight line. No straight line puts
(0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other. Set *hidden layers* to 0
and train: the accuracy stalls at 50 or 75 %.

**What the hidden units do.** Each hidden unit draws its own line across the plane and
answers how far an input lies past it (relu: 0 on the near side); its square shows that line.
The output unit adds these answers up, so the boundary can bend or become two lines, which is
what XOR needs. Or turn on the feature x1·x2: with it XOR needs no hidden layer at all.
""",
    "cloud": """
**XOR with noise.** Each corner now holds a crowd of points, and noise pushes some of them
into a neighbour's side. The test points (diamonds) are never trained on: while test accuracy
keeps up with training accuracy the network has learned the pattern; when it falls behind,
the network is bending its boundary around the noise of its training points (overfitting).
Try a large network with high noise, then add L2 regularisation or dropout.
""",
    "circle": """
**A disc inside a ring.** No straight line separates them. A hidden layer fences the disc in
with a few lines, one per unit (three is the least that can close it). Or turn on x1² and x2²
and the circle x1² + x2² = r² becomes a straight line in those features: then no hidden layer
is needed.
""",
    "gaussians": """
**Two round clouds.** One straight line separates them, so no hidden layer is needed: set
*hidden layers* to 0 and see. Raise the noise until the clouds overlap: then no boundary gets
every point right, and the best line is the one that keeps the loss lowest.
""",
    "spiral": """
**Two arms winding around each other**, the hardest of the sets. Early layers' units draw
lines; later ones combine their shapes into curves. Try several layers of eight units, tanh,
and the features sin(x1) and sin(x2), whose waves follow the arms; a higher learning rate
(0.01 to 0.03) gets there sooner.
""",
    "blobs": """
**Three or more classes.** The output layer has one unit per class, and softmax turns their
values into probabilities that add up to 1 (one output square per class). The colour at each
point mixes the classes' colours by those probabilities, pale where the network is unsure,
and the black lines are where the likeliest class changes: a boundary between every pair of
neighbours.
""",
}

# With three or more classes: what the loss in use does, and which one is the usual.
CLASSES_LOSS_WORDS = {
    "crossentropy": """
**The loss is cross-entropy**, the usual one for classes: minus the log of the probability
the network gives the right class, so a confident mistake costs the most. Choosing this
dataset chooses it; the setting is under Network, Loss.
""",
    "mean_squared_error": """
**The loss is mean squared error** here, between the probabilities and the right class's
one-hot answer (1 for it, 0 for the others). Cross-entropy is the usual loss for classes:
it punishes a confident mistake far more, and often trains faster. Choose it under Network,
Loss, to compare.
""",
}

FEATURE_WORDS = """
**Features.** The network never sees anything but the columns you turn on, each computed
from the point (x1, x2) before the first layer; the first column of squares shows each over
the plane. A feature that already has the shape of the answer saves the network the work:
x1·x2 is XOR's sign pattern, x1² + x2² the circle.
"""

REGULARISATION = {
    "l2": "**L2** adds rate × (sum of every squared weight) to the loss, pulling all weights "
    "toward zero: a smoother boundary, less overfitting.",
    "l1": "**L1** adds rate × (sum of every weight's size) to the loss, pushing the weights "
    "that do little to exactly zero: watch their lines vanish.",
}
DROPOUT = (
    "**Dropout** switches off that share of each layer's units at random in every training "
    "step (never when predicting), so no unit can rely on one other; the training loss is "
    "noisier and higher than the test loss for it."
)


def explanation(spec: PlaneSpec) -> str:
    """The words that fit this set-up: its dataset, its features, regularisation, dropout."""
    parts = [DATASET_WORDS[spec.data]]
    if spec.n_classes > 2:
        parts.append(CLASSES_LOSS_WORDS[spec.loss])
    if spec.features != ["x1", "x2"]:
        parts.append(FEATURE_WORDS)
    if spec.regularization != "none" and spec.regularization_rate > 0:
        parts.append(REGULARISATION[spec.regularization])
    if spec.dropout > 0:
        parts.append(DROPOUT)
    return "\n".join(part.strip() + "\n" for part in parts)
