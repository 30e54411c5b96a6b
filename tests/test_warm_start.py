"""A model built and traced ahead of Train trains exactly as one built when Train is pressed."""

import threading
import time

import numpy as np
import pytest

from core.model import ModelSpec, build_model
from core.training import TrainingJob, warm_key
from core.warm_start import WarmKey, WarmStarts, build_traced, trace_steps
from tests.synthetic import patch_digits
from tests.test_training import wait_for

DENSE = ModelSpec(
    layers=[{"type": "Dense", "units": 32}, {"type": "Dropout", "rate": 0.2}],
    epochs=2,
    batch_size=32,
    seed=5,
)
CONV = ModelSpec(
    layers=[
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.25},
    ],
    epochs=2,
    batch_size=32,
    seed=5,
)


def counting_traces(model) -> list[int]:
    """Count how often Keras traces `model`'s training step (Python runs it only then)."""
    count = [0]
    step = model.train_step

    def counted(data):
        count[0] += 1
        return step(data)

    model.train_step = counted
    return count


def weights(model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights]


def test_tracing_ahead_changes_no_weight_and_fit_does_not_trace_again():
    data = patch_digits(n_train=200, n_test=20, seed=1)
    x = (data.x_train.reshape(200, 784) / 255).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[data.y_train]
    model = build_model(DENSE, steps_per_execution=4)
    traces = counting_traces(model)
    before = weights(model)
    trace_steps(model, DENSE)
    traced = traces[0]
    assert traced >= 1  # the training step really was traced
    assert int(model.optimizer.iterations) == 0
    for a, b in zip(before, weights(model), strict=True):
        np.testing.assert_array_equal(a, b)
    model.fit(x, y, batch_size=32, epochs=1, validation_data=(x[:50], y[:50]), verbose=0)
    assert traces[0] == traced  # fit used the step traced ahead
    assert int(model.optimizer.iterations) == 7  # and trained: 200 rows / 32 per batch


@pytest.mark.parametrize("spec", [DENSE, CONV], ids=["dense", "conv"])
def test_a_run_on_a_model_built_ahead_equals_a_run_built_at_train(spec):
    data = patch_digits(n_train=300, n_test=60, seed=2)
    key = warm_key(spec, data)
    ahead = WarmStarts(delay=0)
    ahead.request(spec, key)
    assert wait_for(lambda: ahead.ready_key() == key)
    warm_model = ahead._ready[1]
    warm = TrainingJob(spec, data, warm_starts=ahead).start()
    assert warm.join(timeout=120)
    assert warm.model is warm_model  # the job trained the model built ahead
    cold = TrainingJob(spec, data, warm_starts=WarmStarts()).start()
    assert cold.join(timeout=120)
    assert warm.snapshot().status == cold.snapshot().status == "completed"
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            warm.snapshot().history[name], cold.snapshot().history[name], rtol=1e-6
        )
    for a, b in zip(weights(warm.model), weights(cold.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert ahead.take(key) is None  # handed out once


def key(name: str) -> WarmKey:
    return WarmKey(name, 10, 1)


class FakeBuilds:
    """A build function that records what it built and can be held mid-build."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, spec, key):
        self.release.wait(10)
        self.built.append(key.spec_json)
        return f"model of {key.spec_json}"


def test_settings_changed_quickly_build_only_the_last():
    builds = FakeBuilds()
    ahead = WarmStarts(delay=0.3, build=builds)
    for name in ("a", "b", "c"):
        ahead.request(None, key(name))
        time.sleep(0.05)
    assert wait_for(lambda: ahead.ready_key() == key("c"))
    assert builds.built == ["c"]
    assert ahead.take(key("a")) is None  # not the settings built
    assert ahead.take(key("c")) == "model of c"
    assert ahead.take(key("c")) is None  # once only


def building_a_for_a_moment() -> tuple[FakeBuilds, WarmStarts]:
    """A WarmStarts in the middle of building settings "a", which ends 0.2 s from now."""
    builds = FakeBuilds()
    builds.release.clear()
    ahead = WarmStarts(delay=0, build=builds)
    ahead.request(None, key("a"))
    assert wait_for(lambda: ahead._building == key("a"))
    threading.Timer(0.2, builds.release.set).start()
    return builds, ahead


def test_take_waits_for_a_build_of_its_settings_under_way():
    builds, ahead = building_a_for_a_moment()
    assert ahead.take(key("a"), timeout=10) == "model of a"


def test_train_pressed_before_the_settings_rested_drops_the_request():
    builds = FakeBuilds()
    ahead = WarmStarts(delay=0.5, build=builds)
    ahead.request(None, key("a"))
    assert ahead.take(key("a")) is None  # not built yet: the job builds its own
    time.sleep(0.8)
    assert builds.built == []  # and nothing is built behind the job's back


def test_a_failing_build_leaves_nothing_and_the_next_request_builds():
    calls = []

    def build(spec, key):
        calls.append(key)
        if len(calls) == 1:
            raise ValueError("no")
        return "model"

    ahead = WarmStarts(delay=0, build=build)
    ahead.request(None, key("a"))
    assert wait_for(lambda: len(calls) == 1 and ahead._building is None)
    assert ahead.take(key("a")) is None
    ahead.request(None, key("a"))
    assert wait_for(lambda: ahead.ready_key() == key("a"))


def test_build_traced_gives_a_compiled_model_of_the_spec():
    model = build_traced(DENSE, WarmKey.of(DENSE, 10, 4))
    assert model.count_params() == 784 * 32 + 32 + 32 * 10 + 10
    assert model.train_function is not None and model.test_function is not None


def test_close_waits_for_the_build_under_way_and_builds_nothing_more():
    builds, ahead = building_a_for_a_moment()
    ahead.close()
    assert builds.built == ["a"]  # the build under way ended before close returned
    ahead.request(None, key("b"))
    time.sleep(0.2)
    assert builds.built == ["a"]
