"""The Keras script for the 2-D playground's set-up (a `PlaneSpec`): data, features, network.

`export_plane_script(spec, epochs)` returns one self-contained script (keras, numpy and the
standard library) that draws the same points from the same seed as `core.plane.data`, splits
them the same way, computes the chosen input features with numpy, and builds the same network
as `core.plane.model.build_plane_model`: the same layers, each with its own initializer seed
drawn from the spec's seed, the same regularisation, loss and optimizer.

One thing is simpler than the app: the script trains with `model.fit(shuffle=True)`, while the
page's fast trainer (core/plane/runner.py) shuffles each epoch from the seed itself. On the four
XOR points (one batch of four) the two train alike; on the other datasets the batches come in
another order, so the curves differ in their details.
"""

from __future__ import annotations

from core.plane.data import (
    BLOB_BASE_SPREAD,
    BLOB_RADIUS,
    CIRCLE_RADIUS,
    GAUSSIAN_BASE_SPREAD,
    GAUSSIAN_CENTRE,
    NOISE_SCALE,
    SPIRAL_RADIUS,
    SPIRAL_TURNS,
)
from core.plane.spec import DATASETS, PlaneSpec

FEATURE_CODE = {
    "x1": "x1",
    "x2": "x2",
    "x1_squared": "x1 * x1",
    "x2_squared": "x2 * x2",
    "x1_times_x2": "x1 * x2",
    "sin_x1": "np.sin(x1)",
    "sin_x2": "np.sin(x2)",
}
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}

# Each dataset's generator, as core/plane/data.py draws it (n points, classes taking turns).
GENERATORS = {
    "cloud": f"""
corner = np.arange(n) % 4
corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
x = corners[corner] + rng.normal(0.0, NOISE * {NOISE_SCALE["cloud"]!r}, size=(n, 2))
classes = np.array([0, 1, 1, 0])[corner]  # x1 XOR x2 of each point's corner
""",
    "circle": f"""
classes = (np.arange(n) + 1) % 2
radius = np.where(
    classes == 1,
    rng.uniform(0.0, {0.5 * CIRCLE_RADIUS!r}, n),  # class 1 inside
    rng.uniform({0.7 * CIRCLE_RADIUS!r}, {CIRCLE_RADIUS!r}, n),  # class 0 in a ring around it
)
angle = rng.uniform(0.0, 2 * math.pi, n)
x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
x = x + rng.normal(0.0, NOISE * {NOISE_SCALE["circle"]!r}, size=(n, 2))
""",
    "gaussians": f"""
classes = (np.arange(n) + 1) % 2
centre = np.where(classes[:, None] == 1, {GAUSSIAN_CENTRE!r}, {-GAUSSIAN_CENTRE!r})
spread = {GAUSSIAN_BASE_SPREAD!r} + NOISE * {NOISE_SCALE["gaussians"]!r}
x = centre + rng.normal(0.0, spread, size=(n, 2))
""",
    "spiral": f"""
classes = (np.arange(n) + 1) % 2
along = np.zeros(n)  # how far along its arm each point lies, 0 to 1
for c in (0, 1):
    rows = np.flatnonzero(classes == c)
    along[rows] = np.arange(len(rows)) / max(1, len(rows))
radius = along * {SPIRAL_RADIUS!r}
angle = {SPIRAL_TURNS!r} * along * 2 * math.pi + np.where(classes == 1, 0.0, math.pi)
x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
x = x + rng.normal(0.0, NOISE * {NOISE_SCALE["spiral"]!r}, size=(n, 2))
""",
    "blobs": f"""
classes = np.arange(n) % CLASSES
angle = math.pi / 2 + 2 * math.pi * classes / CLASSES
centre = {BLOB_RADIUS!r} * np.column_stack([np.cos(angle), np.sin(angle)])
spread = {BLOB_BASE_SPREAD!r} + NOISE * {NOISE_SCALE["blobs"]!r}
x = centre + rng.normal(0.0, spread, size=(n, 2))
""",
}


def plane_script_filename(spec: PlaneSpec) -> str:
    return f"plane_{spec.data}_{spec.architecture().replace('-', '_')}.py"


def _loss(spec: PlaneSpec) -> str:
    if spec.loss == "mean_squared_error":
        return "mean_squared_error"
    return "binary_crossentropy" if spec.n_classes == 2 else "categorical_crossentropy"


def _dense(units: str, activation: str, seed: str, name: str, regularizer: str | None) -> list:
    lines = [
        "        layers.Dense(",
        f"            {units},",
        f'            activation="{activation}",',
        f"            kernel_initializer=keras.initializers.GlorotUniform({seed}),",
    ]
    if regularizer:
        lines.append(f"            kernel_regularizer={regularizer},")
    lines += [f'            name="{name}",', "        ),"]
    return lines


def export_plane_script(spec: PlaneSpec, epochs: int = 500) -> str:
    """A runnable script that draws `spec`'s data and trains its network for `epochs`."""
    spec.validate()
    points = spec.data == "points"
    filename = plane_script_filename(spec)
    regularizer = None
    if spec.regularization != "none" and spec.regularization_rate > 0:
        kind = spec.regularization.upper()
        regularizer = f"keras.regularizers.{kind}({spec.regularization_rate!r})"
    lines = [
        f'"""The 2-D playground\'s {spec.architecture()} network on '
        f'"{DATASETS[spec.data]}", exported as a Keras script.',
        "",
        f"Run it with `python {filename}`: it draws the points, trains the network for",
        f"EPOCHS epochs, prints its accuracy and saves it as {filename[:-3]}.keras.",
        '"""',
        "",
    ]
    if spec.data in ("circle", "spiral", "blobs"):
        lines += ["import math", ""]
    lines += [
        "import keras",
        "import numpy as np",
        "from keras import layers",
        "",
        f"SEED = {spec.seed}",
        f"EPOCHS = {epochs}",
        f"LEARNING_RATE = {spec.learning_rate!r}",
    ]
    if not points:
        lines += [
            f"SAMPLES = {spec.samples}",
            f"NOISE = {spec.noise!r}",
            f"TEST_FRACTION = {spec.test_fraction!r}",
            f"BATCH_SIZE = {spec.batch_size}",
            f"SAMPLE = {spec.sample}  # the playground's 'new sample' count: another draw",
        ]
        if spec.data == "blobs":
            lines.append(f"CLASSES = {spec.classes}")
    lines.append("")
    if points:
        lines += [
            "# The four XOR points and their classes: 1 where exactly one input is 1.",
            'x_train = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")',
            "classes_train = np.array([0, 1, 1, 0])",
            "BATCH_SIZE = 4  # all four points in one batch",
        ]
    else:
        lines += [
            f"# The points: {DATASETS[spec.data]}, drawn from SEED and SAMPLE.",
            "rng = np.random.default_rng([SEED, SAMPLE])",
            "n = SAMPLES",
            *GENERATORS[spec.data].strip().splitlines(),
            'x = x.astype("float32")',
            "",
            "# Hold out TEST_FRACTION of the points to test on, chosen at random from the seed.",
            "order = np.random.default_rng([SEED, SAMPLE, 1]).permutation(len(x))",
            "n_test = max(1, round(len(x) * TEST_FRACTION))",
            "x_test, classes_test = x[order[:n_test]], classes[order[:n_test]]",
            "x_train, classes_train = x[order[n_test:]], classes[order[n_test:]]",
        ]
    lines.append("")
    if spec.n_classes == 2:
        lines += [
            "",
            "def targets(classes):",
            '    """0 or 1 per point, for the one sigmoid output."""',
            '    return classes.astype("float32")[:, None]',
        ]
    else:
        lines += [
            "",
            "def targets(classes):",
            '    """One-hot rows, one column per class, for the softmax output."""',
            f'    return np.eye({spec.n_classes}, dtype="float32")[classes]',
        ]
    feature_list = ", ".join(FEATURE_CODE[name] for name in spec.features)
    lines += [
        "",
        "",
        "def features(points):",
        f'    """The input features the network sees: {", ".join(spec.features)}."""',
        "    x1, x2 = points[:, 0], points[:, 1]",
        f'    return np.column_stack([{feature_list}]).astype("float32")',
        "",
        "",
        "def layer_seed(index):",
        '    """Each layer\'s own initializer seed, drawn from SEED as the playground draws it."""',
        "    state = np.random.SeedSequence([SEED, index]).generate_state(1)[0]",
        "    return int(state % (2**31 - 1))",
        "",
        "",
        "model = keras.Sequential(",
        "    [",
        f"        keras.Input(shape=({len(spec.features)},)),",
    ]
    for i, (units, activation) in enumerate(zip(spec.units, spec.activations, strict=True), 1):
        lines += _dense(str(units), activation, f"layer_seed({i})", f"hidden_{i}", regularizer)
        if spec.dropout > 0:
            lines.append(
                f'        layers.Dropout({spec.dropout!r}, seed=layer_seed({100 + i}), name="dropout_{i}"),'
            )
    output = "sigmoid" if spec.outputs == 1 else "softmax"
    lines += _dense(str(spec.outputs), output, "layer_seed(0)", "output", regularizer)
    lines += [
        "    ],",
        f'    name="plane_{spec.architecture().replace("-", "_")}",',
        ")",
        "model.summary()",
        "model.compile(",
        f"    optimizer=keras.optimizers.{OPTIMIZER_CLASSES[spec.optimizer]}(learning_rate=LEARNING_RATE),",
        f'    loss="{_loss(spec)}",',
        '    metrics=["accuracy"],',
        ")",
        "",
        "history = model.fit(",
        "    features(x_train),",
        "    targets(classes_train),",
        "    batch_size=BATCH_SIZE,",
        "    epochs=EPOCHS,",
    ]
    if not points:
        lines.append("    validation_data=(features(x_test), targets(classes_test)),")
    lines += [
        "    verbose=0,",
        ")",
        "print(f\"Training accuracy after {EPOCHS} epochs: {history.history['accuracy'][-1]:.0%}\")",
    ]
    if points:
        lines += [
            "for point, output in zip(x_train, model.predict(features(x_train), verbose=0)):",
            '    print(f"{point} -> {output[0]:.3f}")',
        ]
    else:
        lines.append("print(f\"Test accuracy: {history.history['val_accuracy'][-1]:.0%}\")")
    lines += [f'model.save("{filename[:-3]}.keras")', ""]
    return "\n".join(lines)
