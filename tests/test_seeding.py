"""The seed fixes the starting weights, also when several sessions build at the same time."""

from __future__ import annotations

import threading

import numpy as np

from core.model import ModelSpec, build_model

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
