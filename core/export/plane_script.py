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

`SCRIPT` below is the script itself; the functions after it fill in the parts that depend on
the spec.
"""

from __future__ import annotations

from core.export.template import fill
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


# The script. `$name` is filled from the spec; a `$part` alone on its line is a part that
# depends on the spec (see `fill`), left out with its line when the spec does not need it.
SCRIPT = '''"""The 2-D playground's $architecture network on "$dataset", exported as a Keras script.

Run it with `python $filename`: it draws the points, trains the network for
EPOCHS epochs, prints its accuracy and saves it as $stem.keras.
"""

$import_math
import keras
import numpy as np
from keras import layers

SEED = $seed
EPOCHS = $epochs
LEARNING_RATE = $learning_rate
$drawing_settings

$points


$targets


def features(points):
    """The input features the network sees: $feature_names."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.column_stack([$feature_code]).astype("float32")


def layer_seed(index):
    """Each layer's own initializer seed, drawn from SEED as the playground draws it."""
    state = np.random.SeedSequence([SEED, index]).generate_state(1)[0]
    return int(state % (2**31 - 1))


model = keras.Sequential(
    [
        keras.Input(shape=($n_features,)),
        $layers
    ],
    name="$model_name",
)
model.summary()
model.compile(
    optimizer=keras.optimizers.$optimizer(learning_rate=LEARNING_RATE),
    loss="$loss",
    metrics=["accuracy"],
)

history = model.fit(
    features(x_train),
    targets(classes_train),
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    $validation_data
    verbose=0,
)
print(f"Training accuracy after {EPOCHS} epochs: {history.history['accuracy'][-1]:.0%}")
$report
model.save("$stem.keras")
'''

DRAWING_SETTINGS = """\
SAMPLES = $samples
NOISE = $noise
TEST_FRACTION = $test_fraction
BATCH_SIZE = $batch_size
SAMPLE = $sample  # the playground's 'new sample' count: another draw
$classes"""

XOR_POINTS = """\
# The four XOR points and their classes: 1 where exactly one input is 1.
x_train = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
classes_train = np.array([0, 1, 1, 0])
BATCH_SIZE = 4  # all four points in one batch"""

DRAWN_POINTS = """\
# The points: $dataset, drawn from SEED and SAMPLE.
rng = np.random.default_rng([SEED, SAMPLE])
n = SAMPLES
$generator
x = x.astype("float32")

# Hold out TEST_FRACTION of the points to test on, chosen at random from the seed.
order = np.random.default_rng([SEED, SAMPLE, 1]).permutation(len(x))
n_test = max(1, round(len(x) * TEST_FRACTION))
x_test, classes_test = x[order[:n_test]], classes[order[:n_test]]
x_train, classes_train = x[order[n_test:]], classes[order[n_test:]]"""

SIGMOID_TARGETS = '''\
def targets(classes):
    """0 or 1 per point, for the one sigmoid output."""
    return classes.astype("float32")[:, None]'''

ONE_HOT_TARGETS = '''\
def targets(classes):
    """One-hot rows, one column per class, for the softmax output."""
    return np.eye($n_classes, dtype="float32")[classes]'''

DENSE = """\
layers.Dense(
    $units,
    activation="$activation",
    kernel_initializer=keras.initializers.GlorotUniform(layer_seed($seed_index)),
    $regularizer
    name="$name",
),"""

DROPOUT = 'layers.Dropout($rate, seed=layer_seed($seed_index), name="dropout_$number"),'

XOR_REPORT = """\
for point, output in zip(x_train, model.predict(features(x_train), verbose=0)):
    print(f"{point} -> {output[0]:.3f}")"""

TEST_REPORT = """print(f"Test accuracy: {history.history['val_accuracy'][-1]:.0%}")"""


def export_plane_script(spec: PlaneSpec, epochs: int = 500) -> str:
    """A runnable script that draws `spec`'s data and trains its network for `epochs`."""
    spec.validate()
    points = spec.data == "points"
    filename = plane_script_filename(spec)
    return fill(
        SCRIPT,
        architecture=spec.architecture(),
        dataset=DATASETS[spec.data],
        filename=filename,
        stem=filename.removesuffix(".py"),
        import_math="import math\n" if spec.data in ("circle", "spiral", "blobs") else "",
        seed=str(spec.seed),
        epochs=str(epochs),
        learning_rate=repr(spec.learning_rate),
        drawing_settings="" if points else _drawing_settings(spec),
        points=XOR_POINTS if points else _drawn_points(spec),
        targets=_targets(spec),
        feature_names=", ".join(spec.features),
        feature_code=", ".join(FEATURE_CODE[name] for name in spec.features),
        n_features=str(len(spec.features)),
        layers=_layer_list(spec),
        model_name=f"plane_{_architecture_name(spec)}",
        optimizer=OPTIMIZER_CLASSES[spec.optimizer],
        loss=_loss(spec),
        validation_data=""
        if points
        else "validation_data=(features(x_test), targets(classes_test)),",
        report=XOR_REPORT if points else TEST_REPORT,
    )


def _architecture_name(spec: PlaneSpec) -> str:
    return spec.architecture().replace("-", "_")


def plane_script_filename(spec: PlaneSpec) -> str:
    return f"plane_{spec.data}_{_architecture_name(spec)}.py"


def _drawing_settings(spec: PlaneSpec) -> str:
    """A drawn dataset's settings: how many points, their noise, the share held out to test, ..."""
    return fill(
        DRAWING_SETTINGS,
        samples=str(spec.samples),
        noise=repr(spec.noise),
        test_fraction=repr(spec.test_fraction),
        batch_size=str(spec.batch_size),
        sample=str(spec.sample),
        classes=f"CLASSES = {spec.classes}" if spec.data == "blobs" else "",
    )


def _drawn_points(spec: PlaneSpec) -> str:
    """The points drawn as core/plane/data.py draws them, then split into training and test."""
    generator = GENERATORS[spec.data].strip()
    return fill(DRAWN_POINTS, dataset=DATASETS[spec.data], generator=generator)


def _targets(spec: PlaneSpec) -> str:
    """`targets(classes)`: one sigmoid output for two classes, one-hot rows for more."""
    if spec.n_classes == 2:
        return SIGMOID_TARGETS
    return fill(ONE_HOT_TARGETS, n_classes=str(spec.n_classes))


def _loss(spec: PlaneSpec) -> str:
    if spec.loss == "mean_squared_error":
        return "mean_squared_error"
    return "binary_crossentropy" if spec.n_classes == 2 else "categorical_crossentropy"


def _layer_list(spec: PlaneSpec) -> str:
    """The hidden layers, each followed by its dropout if there is one, then the output layer."""
    regularizer = ""
    if spec.regularization != "none" and spec.regularization_rate > 0:
        kind = spec.regularization.upper()
        regularizer = f"kernel_regularizer=keras.regularizers.{kind}({spec.regularization_rate!r}),"
    layers = []
    for i, (units, activation) in enumerate(zip(spec.units, spec.activations, strict=True), 1):
        layers.append(_dense(units, activation, i, f"hidden_{i}", regularizer))
        if spec.dropout > 0:
            layers.append(_dropout(spec.dropout, i))
    output = "sigmoid" if spec.outputs == 1 else "softmax"
    layers.append(_dense(spec.outputs, output, 0, "output", regularizer))
    return "\n".join(layers)


def _dense(units: int, activation: str, seed_index: int, name: str, regularizer: str) -> str:
    """A Dense layer whose initializer takes `layer_seed(seed_index)`, as the playground's does."""
    return fill(
        DENSE,
        units=str(units),
        activation=activation,
        seed_index=str(seed_index),
        regularizer=regularizer,
        name=name,
    )


def _dropout(rate: float, layer: int) -> str:
    """The dropout after hidden layer `layer`, seeded as the playground seeds it."""
    return fill(DROPOUT, rate=repr(rate), seed_index=str(100 + layer), number=str(layer))
