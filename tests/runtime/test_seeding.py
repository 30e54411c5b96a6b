"""The seed fixes the starting weights, also when several sessions build at the same time."""

from __future__ import annotations

import random
import threading

import keras
import numpy as np
import tensorflow as tf
from keras.src.utils import rng_utils
from tensorflow.python.eager import context

from core.nets.model import ModelSpec, build_model
from core.runtime import seeding
from core.runtime.seeding import seed_process, seeded
from core.training.pipelines import batches

SPEC = {"layers": [{"type": "Dense", "units": 64}, {"type": "Dropout", "rate": 0.2}]}


def weights(seed: int) -> list[np.ndarray]:
    return build_model(ModelSpec(**SPEC, seed=seed)).get_weights()


def test_builds_on_several_threads_at_once_get_their_seeds_weights():
    seeds = [1, 2, 1, 3, 2, 1]
    alone = {seed: weights(seed) for seed in set(seeds)}
    assert not np.allclose(alone[1][0], alone[2][0])  # different seeds, different networks
    results: dict[int, list] = {}
    barrier = threading.Barrier(len(seeds))

    def build(index: int, seed: int) -> None:
        barrier.wait()
        results[index] = [weights(seed) for _ in range(3)]

    threads = [threading.Thread(target=build, args=pair) for pair in enumerate(seeds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == len(seeds)
    for index, seed in enumerate(seeds):
        for built in results[index]:
            for got, expected in zip(built, alone[seed], strict=True):
                np.testing.assert_array_equal(got, expected)


def draws() -> dict[str, list]:
    """What each of the process's seeded generators gives next, as the app's runs use them."""
    dropout = keras.layers.Dropout(0.5)  # draws its seed from the global state, as in a build
    shuffled = batches(tf.range(40.0)[:, None], tf.range(40.0)[:, None], 40, shuffle=True)
    return {
        "random": [random.random() for _ in range(3)],
        "numpy": np.random.rand(3).tolist(),  # noqa: NPY002 (the global one Keras seeds)
        "keras.random": [keras.random.uniform((3,)).numpy().tolist() for _ in range(2)],
        # What Keras and TensorFlow keep as "the seed" (private, as the state seeding writes).
        "seeds": [rng_utils.get_random_seed(), context.global_seed()],
        "weights": [w.tolist() for w in weights_now()],
        "dropout": dropout(np.ones((1, 16), np.float32), training=True).numpy().tolist(),
        "shuffle": [np.asarray(x).ravel().tolist() for x, _ in shuffled],
        # An op made eagerly without a seed of its own takes one from TensorFlow's generator.
        "tf.data": [int(i) for i in tf.data.Dataset.range(20).shuffle(20)],
    }


def weights_now() -> list[np.ndarray]:
    """A network's starting weights, built under whatever seed the process has now."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    return model.get_weights()


def test_seed_process_seeds_everything_keras_set_random_seed_does():
    for seed in (7, 123):
        keras.utils.set_random_seed(99)
        draws()  # the generators moved on, as between two runs
        keras.utils.set_random_seed(seed)
        expected = draws()
        keras.utils.set_random_seed(5)
        draws()
        seed_process(seed)
        assert draws() == expected
    seed_process(7)
    other = draws()
    seed_process(123)
    assert draws() != other  # the comparison above can tell two seeds apart


def count_cache_clears(monkeypatch) -> list[int]:
    clears = []
    real = context.pywrap_tfe.TFE_ContextClearCaches

    def counting(handle):
        clears.append(1)
        return real(handle)

    monkeypatch.setattr(context.pywrap_tfe, "TFE_ContextClearCaches", counting)
    return clears


def test_seeding_keeps_tensorflow_s_caches(monkeypatch):
    """Keras's own seeding empties TensorFlow's kernel cache, and every traced step is made
    ready anew at its next call; ours does not."""
    clears = count_cache_clears(monkeypatch)
    keras.utils.set_random_seed(3)
    assert len(clears) == 1  # the counter sees Keras's seeding clear the cache
    with seeded(3):
        build_model(ModelSpec(**SPEC, seed=3))
    assert len(clears) == 1


def test_the_private_seed_state_is_still_there():
    """Seeding writes where `keras.utils.set_random_seed` does, in private places: after an
    upgrade that moves them this fails (and the app logs a warning and seeds Keras's way)."""
    assert seeding.available(), "Keras's or TensorFlow's private seed state has moved"
    # Also in a fresh process, before anything has seeded (a server's first build):
    # tests/runtime/test_tf_import.py checks it in the fresh process it starts.


def test_moved_seed_state_is_warned_about_once_and_seeds_keras_s_way(monkeypatch, caplog):
    def moved():
        raise ImportError("moved")

    monkeypatch.setattr(seeding, "_seeders", moved)
    monkeypatch.setattr(seeding, "_warned", False)
    clears = count_cache_clears(monkeypatch)
    keras.utils.set_random_seed(11)
    expected = random.random()
    with caplog.at_level("WARNING", logger="core.runtime.seeding"):
        seeding.seed_process(11)
        assert random.random() == expected
        seeding.seed_process(12)
    assert len(clears) == 3  # Keras's way, caches emptied
    assert len([r for r in caplog.records if "seed state" in r.getMessage()]) == 1
