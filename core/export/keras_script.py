"""The Keras script for a `ModelSpec`: what the sliders built, as code a learner can carry away.

`export_script(spec)` returns one self-contained Python script that imports only keras, numpy
and the standard library. It reads like keras.io's mnist_convnet example (data, model,
compile, fit, evaluate, save) and does what the playground does for that spec:

- the same data: MNIST from `keras.datasets.mnist`, or a folder of IDX files or an
  `mnist.npz` named on the command line, scaled to [0, 1] exactly as `core.mnist.data` scales it;
- the same validation split: `core.training.prepared.prepare`'s permutation from the spec's seed;
- the same model: the layers `core.nets.model.build_model` makes, with the same names and settings,
  built after `keras.utils.set_random_seed(seed)` so the initial weights are the same;
- the same compile and fit: optimizer, learning-rate schedule, loss, batch size, epochs,
  early stopping, `shuffle=True`.

`SCRIPT` below is the script itself; the functions after it fill in the parts that depend on
the spec. `steps_per_execution` (which the app raises to keep the page responsive) is left out:
it groups batches into one compiled call but changes no number (tests/export/test_keras_script.py
pins the app's history against the script's).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from core.export.augment_script import augmentation_classes, augmentation_layer
from core.export.steer_script import callbacks_line, steering_part
from core.export.template import fill
from core.nets.model import ModelSpec
from core.training.steering import Change

OPTIMIZER_CLASSES = {
    "adam": "Adam",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adamw": "AdamW",
    "nadam": "Nadam",
}
LINE_LENGTH = 88  # ruff's and black's default, so an exported script is already formatted
LAYER_COLUMN = 8  # where SCRIPT's layer list starts, for wrapping a long layer call

# The script. `$name` is filled from the spec; a `$part` alone on its line is a part that
# depends on the spec (see `fill`), left out with its line when the spec does not need it.
SCRIPT = r'''"""MNIST $architecture: a Keras script exported from Keras Playground.

Run it as it is to use Keras's copy of MNIST (downloaded once), or give it a folder
of the four MNIST IDX files or an mnist.npz:

    python $filename ~/data/mnist

It trains the network, prints the test accuracy and saves it as $stem.keras.
"""

import gzip
$import_math
import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

SEED = $seed
VALIDATION_SPLIT = $validation_split  # of the training images, held out
BATCH_SIZE = $batch_size
EPOCHS = $epochs
LEARNING_RATE = $learning_rate


def read_idx(path):
    """One IDX file (gzip-compressed or not) as a uint8 array."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(path):
    """(x_train, y_train), (x_test, y_test): from Keras, an mnist.npz, or a folder of IDX files."""
    if path is None:
        return keras.datasets.mnist.load_data()  # downloaded once to ~/.keras/datasets
    path = Path(path).expanduser()
    if path.is_dir() and (path / "mnist.npz").exists():
        path = path / "mnist.npz"
    if path.suffix == ".npz":
        with np.load(path) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])

    def read(stem):
        for name in (stem + ".gz", stem):
            if (path / name).exists():
                return read_idx(path / name)
        raise FileNotFoundError(f"{path} has no {stem}.gz (nor {stem})")

    return (
        (read("train-images-idx3-ubyte"), read("train-labels-idx1-ubyte")),
        (read("t10k-images-idx3-ubyte"), read("t10k-labels-idx1-ubyte")),
    )


# A folder or .npz file given on the command line; in a notebook, set DATA = None or a path.
DATA = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
(x_train, y_train), (x_test, y_test) = load_mnist(DATA)

$scale_pixels
# One-hot labels: the digit 3 becomes [0, 0, 0, 1, 0, 0, 0, 0, 0, 0].
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

$hold_out_validation
$add_my_digits
$augmentation_classes
# The seed fixes the initial weights, the dropout masks and the order of the batches.
keras.utils.set_random_seed(SEED)
model = keras.Sequential(
    [
        keras.Input(shape=$input_shape, name="pixels"),
        $augmentation
        $layers
        layers.Dense(10, activation="softmax", name="output"),
    ],
    name="$model_name",
)
model.summary()

$optimizer
model.compile(
    optimizer=optimizer,
    loss="$loss",
    metrics=["accuracy"],
)

$early_stopping
$steering
history = model.fit(
    x_train,
    y_train,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    $validation_data
    $callbacks
    shuffle=True,  # a new order of the training images every epoch
)

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_accuracy:.2%}, test loss: {test_loss:.4f}")
model.save("$stem.keras")
'''

FLATTENED_PIXELS = """\
# Scale the pixels to [0, 1] and flatten each 28x28 image into 784 numbers.
x_train = x_train.reshape(-1, 784).astype("float32") * (1 / 255)
x_test = x_test.reshape(-1, 784).astype("float32") * (1 / 255)"""

IMAGE_PIXELS = """\
# Scale the pixels to [0, 1]; each image stays a 28x28 grid with one channel.
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") * (1 / 255)
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") * (1 / 255)"""

# Ends in a blank line, which sets it apart from the model below it.
HOLD_OUT_VALIDATION = """\
# Hold out part of the training images to validate on, chosen at random from SEED;
# the test images are kept for the very end.
order = np.random.default_rng(SEED).permutation(len(x_train))
n_val = round(len(x_train) * VALIDATION_SPLIT)
x_val, y_val = x_train[order[:n_val]], y_train[order[:n_val]]
x_train, y_train = x_train[order[n_val:]], y_train[order[n_val:]]
print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images")
"""

# Ends in a blank line, as HOLD_OUT_VALIDATION does.
ADD_MY_DIGITS = """\
# My digits: your own drawings (the My digits page's download, mydigits.npz), added to
# the training images only, never to validation, each of them MY_DIGITS_REPEATS times.
# As in the playground, they become grey levels 0-255 and are then scaled as MNIST's are.
MY_DIGITS_REPEATS = $repeats
with np.load("mydigits.npz") as f:
    my_x, my_y = f["x_test"], f["y_test"]
my_x = np.round(my_x * 255).astype("uint8").reshape(-1, *x_train.shape[1:])
my_x = my_x.astype("float32") * (1 / 255)
my_y = keras.utils.to_categorical(my_y, 10)
x_train = np.concatenate([x_train, *[my_x] * MY_DIGITS_REPEATS])
y_train = np.concatenate([y_train, *[my_y] * MY_DIGITS_REPEATS])
print(f"{len(x_train)} training images, {len(my_x)} of My digits among them")
"""

CONSTANT_LEARNING_RATE = "optimizer = keras.optimizers.$optimizer(learning_rate=LEARNING_RATE)"

COSINE_DECAY = """\
# Cosine decay: the learning rate starts at LEARNING_RATE and falls smoothly to zero
# by the last batch of the last epoch.
steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
learning_rate = keras.optimizers.schedules.CosineDecay(
    LEARNING_RATE, decay_steps=steps_per_epoch * EPOCHS
)
optimizer = keras.optimizers.$optimizer(learning_rate=learning_rate)"""

ONE_CYCLE = """\
# One cycle: the learning rate climbs in a straight line from LEARNING_RATE / 25 to
# LEARNING_RATE over the first quarter of the batches, then falls along a cosine to zero
# by the last batch of the last epoch.
steps = math.ceil(len(x_train) / BATCH_SIZE) * EPOCHS
warmup_steps = steps // 4
learning_rate = keras.optimizers.schedules.CosineDecay(
    LEARNING_RATE / 25,
    decay_steps=steps - warmup_steps,
    warmup_target=LEARNING_RATE,
    warmup_steps=warmup_steps,
)
optimizer = keras.optimizers.$optimizer(learning_rate=learning_rate)"""

EARLY_STOPPING = """\
# Stop once $monitor has not improved for $patience epochs$and_keep_the_best
early_stopping = keras.callbacks.EarlyStopping(
    monitor="$monitor", patience=$patience, restore_best_weights=$restore_best_weights
)"""


SCHEDULES = {"cosine": COSINE_DECAY, "one_cycle": ONE_CYCLE}


def export_script(spec: ModelSpec, changes: Sequence[Change] = ()) -> str:
    """A runnable, self-contained Keras script that builds and trains `spec` as the app does;
    with a run's `changes`, it sets the same learning rates and decays at the same batches."""
    spec.validate()
    steering = steering_part(changes, scheduled=spec.lr_schedule != "constant")
    has_validation = spec.validation_split > 0
    filename = script_filename(spec)
    return fill(
        SCRIPT,
        architecture=spec.architecture(),
        filename=filename,
        stem=filename.removesuffix(".py"),
        import_math="" if spec.lr_schedule == "constant" else "import math",
        seed=str(spec.seed),
        validation_split=_number(spec.validation_split),
        batch_size=str(spec.batch_size),
        epochs=str(spec.epochs),
        learning_rate=_number(spec.learning_rate),
        scale_pixels=IMAGE_PIXELS if spec.is_convolutional else FLATTENED_PIXELS,
        hold_out_validation=HOLD_OUT_VALIDATION if has_validation else "",
        add_my_digits=fill(ADD_MY_DIGITS, repeats=str(spec.my_digits_repeats))
        if spec.my_digits_repeats
        else "",
        input_shape="(28, 28, 1)" if spec.is_convolutional else "(784,)",
        augmentation_classes=augmentation_classes(spec),
        augmentation=_wrapped(augmentation_layer(spec)),
        layers=_layer_list(spec),
        model_name=model_name(spec),
        optimizer=_optimizer(spec),
        loss=spec.loss,
        early_stopping=_early_stopping(spec) if spec.early_stopping else "",
        steering=steering,
        validation_data="validation_data=(x_val, y_val)," if has_validation else "",
        callbacks=callbacks_line(spec.early_stopping, bool(steering)),
    )


def _layer_list(spec: ModelSpec) -> str:
    """The hidden layers, one `layers.X(...)` call each, between the input and the output."""
    names = layer_names(spec)
    return "\n".join(
        layer_code(layer, name) for layer, name in zip(spec.layers, names, strict=True)
    )


def _wrapped(line: str) -> str:
    """A layer's line, wrapped as ruff format wraps it in the model's list ("" stays "")."""
    if not line or LAYER_COLUMN + len(line) <= LINE_LENGTH:
        return line
    function, _, rest = line.partition("(")
    return _call(function, rest.removesuffix("),").split(", "), column=LAYER_COLUMN) + ","


def _optimizer(spec: ModelSpec) -> str:
    """The optimizer, with its learning rate constant, decaying along a cosine, or in one cycle."""
    template = SCHEDULES.get(spec.lr_schedule, CONSTANT_LEARNING_RATE)
    return fill(template, optimizer=OPTIMIZER_CLASSES[spec.optimizer])


def _early_stopping(spec: ModelSpec) -> str:
    """The EarlyStopping callback; it watches the validation loss when there is a validation set."""
    return fill(
        EARLY_STOPPING,
        monitor="val_loss" if spec.validation_split > 0 else "loss",
        patience=str(spec.patience),
        and_keep_the_best=", and keep the best weights." if spec.restore_best_weights else ".",
        restore_best_weights=str(spec.restore_best_weights),
    )


def layer_names(spec: ModelSpec) -> list[str]:
    """The names `build_model` gives the hidden layers: dense_1, dropout_1, conv2d_1, ...

    Each type is counted on its own, as Keras counts when it names layers itself.
    """
    counts: dict[str, int] = {}
    names = []
    for layer in spec.layers:
        kind = layer["type"]
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{_snake(kind)}_{counts[kind]}")
    return names


def _snake(name: str) -> str:
    """Keras's own snake case of a class name: MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _number(value: float) -> str:
    """A float as Python reads it back exactly: its shortest repr (0.003, 1e-05)."""
    return repr(float(value))


def layer_code(layer: dict, name: str) -> str:
    """One `keras.layers.X(...)` call, with only the settings that differ from Keras's defaults."""
    kind = layer["type"]
    args: list[str] = []
    if kind == "Dense":
        args = [str(layer["units"]), f'activation="{layer["activation"]}"']
    elif kind == "Dropout":
        args = [_number(layer["rate"])]
    elif kind == "Conv2D":
        args = [str(layer["filters"]), f"kernel_size={layer['kernel_size']}"]
        if layer.get("strides", 1) != 1:
            args.append(f"strides={layer['strides']}")
        if layer.get("padding", "valid") != "valid":
            args.append(f'padding="{layer["padding"]}"')
        args.append(f'activation="{layer["activation"]}"')
    elif kind == "MaxPooling2D":
        args = [f"pool_size={layer['pool_size']}"]
        if layer.get("strides", layer["pool_size"]) != layer["pool_size"]:
            args.append(f"strides={layer['strides']}")
    args.append(f'name="{name}"')
    return _call(f"layers.{kind}", args, column=LAYER_COLUMN) + ","


def _call(function: str, args: list[str], column: int) -> str:
    """`function(args)` wrapped as ruff format (88 columns) wraps it when it starts at `column`.

    The lines are written from column 0; `fill` indents them to where the template puts them.
    """
    line = f"{function}({', '.join(args)})"
    if column + len(line) + 1 <= LINE_LENGTH:  # + 1: the comma after it in a list
        return line
    inner = f"    {', '.join(args)}"
    if column + len(inner) <= LINE_LENGTH:
        return f"{function}(\n{inner}\n)"
    return "\n".join([f"{function}(", *[f"    {arg}," for arg in args], ")"])


def _architecture_name(spec: ModelSpec) -> str:
    return "".join(c if c.isalnum() else "_" for c in spec.architecture())


def model_name(spec: ModelSpec) -> str:
    """The name `build_model` gives the model: mlp_784_512_10, cnn_28x28_32C3_P2_F_10."""
    family = "cnn" if spec.is_convolutional else "mlp"
    return f"{family}_{_architecture_name(spec)}"


def script_filename(spec: ModelSpec) -> str:
    return f"mnist_{_architecture_name(spec)}.py"


def script_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two scripts' code (three lines of context), empty when the same.

    The docstrings are left out: they name the architecture and the file, which the layer
    lines and `model.save` show anyway, and would open every diff with the same noise.
    """
    lines = difflib.unified_diff(
        _code(before),
        _code(after),
        fromfile=before_name,
        tofile=after_name,
        n=3,
    )
    return "".join(lines)


def _code(script: str) -> list[str]:
    lines = script.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("import ")), 0)
    return lines[first:]
