"""Saliency's reference and steps, measured: which starting image keeps the attributions
meaningful, and how close their sum comes to the difference it explains, at what cost.

    python bench/saliency.py [--epochs 2] [--cache DIR] [--test 600] [--drawn 300]

Trains five networks on MNIST ($MNIST_DATA or ../shared/data/mnist) for --epochs each (or
loads them from --cache, where they are kept): the default preset (784-512-512-10 ReLU), one
hidden layer of 128 sigmoid units, 256 ReLU units trained with mean squared error, the
keras.io convnet and the playground's Fast CNN (batch norm). On --test test digits and --drawn
drawn ones (tests/support/drawings.py through the Draw page's recipe):

1. References. For each candidate starting image (a black image, the mean digit, a blurred
   copy of the image, the ten average digits of core/inside/digit_means.npy), the share of
   images that favour their answer over their runner-up more than the reference does (the
   attributions' sum then has the answer's sign), and how much of the image's own lead over
   the runner-up the reference leaves unexplained (median of |reference margin| / image
   margin).
2. Completeness and cost on 40 test and 40 drawn digits: the old way (a black image, a
   32-step trapezoid) against the shipped one (core.inside.saliency: ten average digits,
   steps halved until the sum is within 1 %): the largest gap between the sum and the
   difference (among differences above 0.2), the share within 2 %, the steps, and the CPU
   time of one explanation (median, this process's threads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from core.inside.activations import Inspector  # noqa: E402
from core.inside.saliency import (  # noqa: E402
    _compile,
    _logits_and_probabilities,
    reference_digits,
)
from core.mnist.data import load_mnist  # noqa: E402
from core.mnist.recognise import recognise  # noqa: E402
from core.nets.model import ModelSpec, build_model  # noqa: E402
from core.nets.model_files import standard_form  # noqa: E402
from core.nets.presets import DEFAULT_PRESET, FAST_CNN_SPEC, PRESETS  # noqa: E402
from tests.support.drawings import drawn_digits  # noqa: E402

CONVNET = [  # keras-io examples/vision/mnist_convnet.py
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dropout", "rate": 0.5},
]
NETWORKS = {
    "default preset": PRESETS[DEFAULT_PRESET].spec,
    "128 sigmoid": ModelSpec(layers=[{"type": "Dense", "units": 128, "activation": "sigmoid"}]),
    "256 relu, MSE": ModelSpec(
        layers=[{"type": "Dense", "units": 256, "activation": "relu"}], loss="mean_squared_error"
    ),
    "keras.io convnet": ModelSpec(layers=CONVNET),
    "Fast CNN (batch norm)": FAST_CNN_SPEC,
}


def networks(data, epochs: int, cache: Path) -> dict:
    """Each network trained for `epochs` on all of `data`'s training digits, or from `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    x = data.x_train.reshape(-1, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[data.y_train]
    for name, spec in NETWORKS.items():
        slug = "".join(c if c.isalnum() else "-" for c in name.lower())
        path = cache / f"{slug}-{epochs}.keras"
        if not path.exists():
            spec = replace(spec, epochs=epochs)
            model = build_model(spec, steps_per_epoch=-(-len(x) // spec.batch_size))
            shaped = x.reshape(-1, 28, 28, 1) if spec.is_convolutional else x
            model.fit(shaped, y, batch_size=spec.batch_size, epochs=epochs, verbose=0)
            model.save(path)
        found[name], _ = standard_form(keras.models.load_model(path, compile=False))
    return found


def images_for(model, data, test: int, drawn: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chosen = [data.x_test[i] / np.float32(255) for i in rng.choice(len(data.x_test), test, False)]
    for drawing in drawn_digits(drawn, seed=seed):
        recognition = recognise(model, drawing.canvas)
        if recognition is not None:
            chosen.append(recognition.image)
    return np.stack(chosen).astype(np.float32)


REFERENCES = {
    "black image": lambda x: np.zeros((1, 28, 28), np.float32),
    "mean digit": lambda x: reference_digits().mean(axis=0, keepdims=True),
    "blurred copy (sigma 4 px)": lambda x: gaussian_filter(x, 4)[None],
    "ten average digits": lambda x: reference_digits(),
}


def logits_of(inspector: Inspector):
    """The chain's logits for a batch of (28, 28) images, as the saliency reads them."""

    @tf.function(input_signature=[tf.TensorSpec((None, 28, 28), tf.float32)])
    def logits(points):
        h = tf.reshape(points, (-1, *inspector.input_shape))
        for layer in inspector.chain[:-1]:
            h = layer(h, training=False)
        return _logits_and_probabilities(inspector.chain[-1], h)[0]

    return lambda points: logits(tf.constant(points, tf.float32)).numpy()


def bench_references(name: str, inspector: Inspector, images: np.ndarray) -> None:
    logits = logits_of(inspector)
    scores = logits(images)
    order = np.argsort(-scores, axis=1)
    print(f"   {name} ({len(images)} digits)")
    for label, make in REFERENCES.items():
        agree, unexplained = [], []
        for i, image in enumerate(images):
            reference = logits(make(image)).mean(axis=0)
            answer, other = order[i, 0], order[i, 1]
            margin = scores[i, answer] - scores[i, other]
            baseline = reference[answer] - reference[other]
            agree.append(margin > baseline)
            unexplained.append(abs(baseline) / max(margin, 1e-6))
        print(
            f"      {label:26s} sum has the answer's sign: {100 * np.mean(agree):5.1f} %; "
            f"lead left unexplained: median {np.median(unexplained):.2f}"
        )


def old_way(gradients, image: np.ndarray, answer: int, other: int) -> tuple[float, float]:
    """(sum, difference) of 32-step trapezoid integrated gradients from a black image."""
    alphas = np.linspace(0.0, 1.0, 33, dtype=np.float32)
    margins, grads = gradients(tf.constant(alphas[:, None, None] * image[None]), answer, other)
    grads = grads.numpy()
    total = float((((grads[:-1] + grads[1:]) / 2).mean(axis=0) * image).sum())
    return total, float(margins[-1] - margins[0])


def bench_completeness(name: str, inspector: Inspector, images: np.ndarray) -> None:
    _, gradients = _compile(inspector)
    inspector.explain(images[0])  # compile once
    rows = {"old: black image, 32 steps": [], "now: ten average digits, halved to 1 %": []}
    steps, cpu_old, cpu_new = [], [], []
    for image in images:
        start = time.process_time()
        probabilities = inspector.activations(image).probabilities
        answer, other = (int(d) for d in np.argsort(-probabilities)[:2])
        rows["old: black image, 32 steps"].append(old_way(gradients, image, answer, other))
        cpu_old.append(time.process_time() - start)
        start = time.process_time()
        saliency = inspector.explain(image).saliency
        cpu_new.append(time.process_time() - start)
        rows["now: ten average digits, halved to 1 %"].append((saliency.total, saliency.difference))
        steps.append(saliency.steps)
    print(f"   {name} ({len(images)} digits)")
    for (label, pairs), cpu in zip(rows.items(), (cpu_old, cpu_new), strict=True):
        gaps = [abs(t - d) / abs(d) for t, d in pairs if abs(d) > 0.2]
        within = np.mean([abs(t - d) <= max(0.02 * abs(d), 0.002) for t, d in pairs])
        print(
            f"      {label:40s} largest gap {100 * max(gaps):6.2f} %, within 2 %: "
            f"{100 * within:5.1f} %, CPU {1000 * np.median(cpu):5.1f} ms median"
        )
    print(f"      steps per path (now): median {np.median(steps):.0f}, largest {max(steps)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bench-saliency"))
    parser.add_argument("--test", type=int, default=600)
    parser.add_argument("--drawn", type=int, default=300)
    args = parser.parse_args()
    folder = os.environ.get("MNIST_DATA") or str(REPO.parent / "shared" / "data" / "mnist")
    data = load_mnist(folder, allow_download=False)
    models = networks(data, args.epochs, args.cache)
    print(f"data: {data.description}; networks trained for {args.epochs} epochs")
    print("\n1. References: does the sum keep the answer's sign (image against runner-up)?")
    for name, model in models.items():
        inspector = Inspector(model)
        bench_references(name, inspector, images_for(model, data, args.test, args.drawn, 5))
    print("\n2. Completeness and cost, 40 test and 40 drawn digits")
    for name, model in models.items():
        inspector = Inspector(model)
        bench_completeness(name, inspector, images_for(model, data, 40, 40, 7))


if __name__ == "__main__":
    main()
