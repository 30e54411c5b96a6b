"""One-click networks from the articles this playground grew out of, so they can be compared.

Each preset is a `ModelSpec` plus where it comes from. `DEFAULT_PRESET` is the best of them on
the test set (see bench/training.py, which trains it and prints its accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.nets.model import ModelSpec, dense_layers


@dataclass(frozen=True)
class Preset:
    """A named spec, where it comes from, and for a recipe, each choice and what it buys."""

    name: str
    source: str
    spec: ModelSpec
    recipe: tuple[tuple[str, str], ...] = ()


def _conv(filters: int, kernel_size: int = 3, **settings) -> dict:
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size, **settings}


POOL = {"type": "MaxPooling2D", "pool_size": 2}
FLATTEN = {"type": "Flatten"}
BATCH_NORM = {"type": "BatchNormalization"}

KERAS_CONVNET = "Simple MNIST convnet (keras.io)"
KERAS_CONVNET_SPEC = ModelSpec(
    layers=[
        _conv(32),
        POOL,
        _conv(64),
        POOL,
        FLATTEN,
        {"type": "Dropout", "rate": 0.5},
    ],
    optimizer="adam",
    learning_rate=1e-3,
    batch_size=128,
    epochs=15,
    validation_split=0.1,
)


FAST_CNN = "Fast CNN: 32C5-BN-P2-64C5-BN-P2-128, 6 epochs (this playground)"
FAST_CNN_SPEC = ModelSpec(
    layers=[
        _conv(32, 5),
        BATCH_NORM,
        POOL,
        _conv(64, 5),
        BATCH_NORM,
        POOL,
        FLATTEN,
        {"type": "Dense", "units": 128, "activation": "relu"},
        {"type": "Dropout", "rate": 0.4},
    ],
    optimizer="adam",
    learning_rate=3e-3,
    lr_schedule="cosine",
    batch_size=128,
    epochs=6,
    validation_split=0.1,
)


SECONDS_PRESET = "99 % in seconds: 16C5-P2-32C5-P2-128, one cycle, 2 epochs (this playground)"
SECONDS_SPEC = ModelSpec(
    layers=[
        _conv(16, 5),
        POOL,
        _conv(32, 5),
        POOL,
        FLATTEN,
        {"type": "Dense", "units": 128, "activation": "relu"},
    ],
    optimizer="adam",
    learning_rate=0.01,
    lr_schedule="one_cycle",
    batch_size=256,
    epochs=2,
    validation_split=0.1,
)
# Each choice of the recipe and what it buys; bench/fast.py --only ablation undoes each in
# turn and measures what it costs (docs/benchmarks.md).
SECONDS_RECIPE = (
    (
        "Two small convolutions (16 and 32 filters of 5x5, each pooled)",
        "A convolution finds a stroke wherever it is, so few filters are enough for digits, "
        "and small layers keep each batch cheap on a processor. Twice the filters and units "
        "took about four times as long for 0.15 points more.",
    ),
    (
        "A one-cycle learning rate peaking at 0.01",
        "The rate climbs from 0.0004 to 0.01 over the first quarter of the batches, then falls "
        "to zero. The climb lets Adam start fast without blowing the weights up; the fall "
        "settles them. A constant 0.01 lost about 0.6 points.",
    ),
    (
        "Adam at 0.01, ten times its default",
        "In two epochs there are few steps to learn in, so each must go far. Adam's default "
        "0.001, with the same schedule, lost about 1.4 points.",
    ),
    (
        "Batches of 256",
        "Half as many steps as keras.io's 128, as the GPU recipe this comes from has it. On a "
        "two-core processor it buys nothing: batch 128 was as fast and 0.1 points better in "
        "the benchmark. Try it.",
    ),
    (
        "No dropout",
        "Dropout fights learning the training digits by heart, which takes many epochs; in "
        "two it only gets in the way (dropout 0.5 before the output cost about 0.1 points).",
    ),
    (
        "Two epochs",
        "Enough passes over the 54,000 training digits for 99 %; the schedule is spread over "
        "exactly these, so it ends at zero.",
    ),
)


ACCURATE_PRESET = "Wider one cycle: 24C5-P2-48C5-P2-256, dropout 0.25, 12 epochs (this playground)"
ACCURATE_SPEC = ModelSpec(
    layers=[
        _conv(24, 5),
        POOL,
        _conv(48, 5),
        POOL,
        FLATTEN,
        {"type": "Dense", "units": 256, "activation": "relu"},
        {"type": "Dropout", "rate": 0.25},
    ],
    optimizer="adam",
    learning_rate=0.003,
    lr_schedule="one_cycle",
    batch_size=256,
    epochs=12,
    augment_shift=0.08,
    validation_split=0.1,
)


def _spec(units, activation="relu", dropout=0.0, **values) -> ModelSpec:
    layers = dense_layers(list(units), [activation] * len(units), [dropout] * len(units))
    return ModelSpec(layers=layers, **values)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "512-512, dropout 0.3, Adam, cosine decay (default)",
            "The seed articles' best multi-layer perceptron (two hidden layers of 512 ReLU "
            "units with dropout, Adam), tuned here: dropout 0.3, and a learning rate that "
            "starts at 0.003 and falls to zero over 10 epochs on a cosine curve. It scores "
            "about 98.5 % on the test set (bench/training.py).",
            _spec(
                [512, 512],
                dropout=0.3,
                optimizer="adam",
                learning_rate=3e-3,
                lr_schedule="cosine",
                batch_size=128,
                epochs=10,
            ),
        ),
        Preset(
            KERAS_CONVNET,
            'François Chollet\'s "Simple MNIST convnet" from keras.io '
            "(examples/vision/mnist_convnet.py): two 3x3 convolutions of 32 and 64 ReLU filters, "
            "each followed by 2x2 max pooling, then flatten, dropout 0.5 and the 10-way softmax; "
            "34,826 parameters; Adam, batch 128, 15 epochs with 10 % held out for validation. "
            "The page reports 99.22 % test accuracy.",
            KERAS_CONVNET_SPEC,
        ),
        Preset(
            FAST_CNN,
            "Designed here for a two-core CPU: 5x5 convolutions of 32 and 64 filters, each with "
            "batch norm and 2x2 max pooling, a dense layer of 128 with dropout 0.4; Adam from "
            "0.003 with cosine decay to zero over 6 epochs, batch 128. Batch norm lets it learn "
            "fast at a high rate; the decay settles it. See bench/cnn.py for its accuracy and "
            "time.",
            FAST_CNN_SPEC,
        ),
        Preset(
            SECONDS_PRESET,
            "Built here after tuomaso/train_mnist_fast (99 % on MNIST in under a second on a "
            "laptop GPU), from the page's own controls: two 5x5 convolutions of 16 and 32 "
            "filters, each with 2x2 max pooling, a dense layer of 128, no dropout; Adam with a "
            "one-cycle learning rate peaking at 0.01, batch 256, 2 epochs. It passes 99 % test "
            "accuracy in about the time of two epochs of the keras.io convnet; see the recipe "
            "below the preset box and bench/fast.py.",
            SECONDS_SPEC,
            SECONDS_RECIPE,
        ),
        Preset(
            ACCURATE_PRESET,
            "The 99 % recipe grown for the last tenths, aiming at 99.4 %: wider convolutions "
            "(24 and 48 filters of 5x5, each with 2x2 max pooling), a dense layer of 256 with "
            "dropout 0.25, and random shifts of up to 8 % of the image while training (over 12 "
            "epochs the network would otherwise start to learn the training digits by heart); "
            "Adam with a one-cycle rate peaking at 0.003, batch 256, 12 epochs. It scores about "
            "99.45 % on the test set (seeds 1 to 4: 99.44 % to 99.51 %; without the shifts "
            "99.36 %), in about 8 keras.io convnet epochs; see bench/fast.py --preset accurate.",
            ACCURATE_SPEC,
        ),
        Preset(
            "No hidden layer (softmax only)",
            "The first network of most MNIST tutorials, as in the seed articles: the 784 pixels "
            "go straight into a 10-way softmax, i.e. multinomial logistic regression.",
            _spec([], optimizer="sgd", learning_rate=0.1, batch_size=128, epochs=10),
        ),
        Preset(
            "512 relu, dropout 0.2",
            "The seed articles' one-hidden-layer network: 512 ReLU units with dropout 0.2, Adam.",
            _spec(
                [512], dropout=0.2, optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=10
            ),
        ),
        Preset(
            "512-512, dropout 0.2, RMSprop (Keras mnist_mlp)",
            "Keras's examples/mnist_mlp.py: two hidden layers of 512 ReLU with dropout 0.2, "
            "RMSprop, batch 128, 20 epochs.",
            _spec(
                [512, 512],
                dropout=0.2,
                optimizer="rmsprop",
                learning_rate=1e-3,
                batch_size=128,
                epochs=20,
            ),
        ),
        Preset(
            "128 relu, plain SGD",
            "The seed articles' plain stochastic gradient descent network: one hidden layer of "
            "128 ReLU, SGD, batch 128, 20 epochs.",
            _spec([128], optimizer="sgd", learning_rate=0.01, batch_size=128, epochs=20),
        ),
        Preset(
            "512-512, dropout 0.2, Adam, early stopping",
            "The seed articles' network with early stopping: two hidden layers of 512 ReLU with "
            "dropout 0.2, Adam, stopped when the validation loss has not improved for 2 epochs, "
            "keeping the best weights.",
            _spec(
                [512, 512],
                dropout=0.2,
                optimizer="adam",
                learning_rate=1e-3,
                batch_size=128,
                epochs=20,
                early_stopping=True,
                patience=2,
            ),
        ),
        Preset(
            "512-512 Adam, 3 epochs",
            "The seed articles' quick run: two hidden layers of 512 ReLU, Adam, 3 epochs.",
            _spec([512, 512], optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=3),
        ),
    )
}

DEFAULT_PRESET = next(iter(PRESETS))
QUICK_PRESET = "512-512 Adam, 3 epochs"
