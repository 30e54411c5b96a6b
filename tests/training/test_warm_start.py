"""A model built and traced ahead of Train trains exactly as one built when Train is pressed
(core.training.warm_start)."""

import threading
import time

import numpy as np
import pytest

import core.training.warm_start as warm_start
from core.training.job import TrainingJob, warm_key
from core.training.traced_models import TracedModels
from core.training.tracing import WarmKey, build_traced, build_untraced
from core.training.warm_start import WarmStarts
from tests.runtime.test_kernel_cache import malloc_in_use
from tests.support.digits import patch_digits
from tests.support.waiting import eventually
from tests.training.test_tracing import CONV, DENSE, other_run, weights


@pytest.mark.parametrize("spec", [DENSE, CONV], ids=["dense", "conv"])
def test_a_run_on_a_model_built_ahead_equals_a_run_built_at_train(spec):
    data = patch_digits(n_train=300, n_test=60, seed=2)
    key = warm_key(spec, data)
    ahead = WarmStarts(delay=0)
    ahead.request(spec, key)
    eventually(lambda: ahead.ready_key() == key, message="the settings were not built ahead")
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
    eventually(lambda: ahead.ready_key() == key("c"), message="the last settings were not built")
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
    eventually(lambda: ahead._building == key("a"), message="the build did not begin")
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
    eventually(
        lambda: len(calls) == 1 and ahead._building is None, message="the build did not fail"
    )
    assert ahead.take(key("a")) is None
    ahead.request(None, key("a"))
    eventually(lambda: ahead.ready_key() == key("a"), message="the next request built nothing")


def test_a_build_broken_by_the_process_s_exit_is_no_error_but_one_before_it_is(caplog):
    started, finish = threading.Event(), threading.Event()

    def build(spec, key):
        started.set()
        finish.wait(10)
        raise ValueError("Keras's state went with its exit handler")

    for closing in (False, True):
        started.clear()
        finish.clear()
        caplog.clear()
        ahead = WarmStarts(delay=0, build=build)
        ahead.request(None, key("a"))
        assert started.wait(10)
        if closing:
            threading.Timer(0.2, finish.set).start()
            ahead.close()
        else:
            finish.set()
            eventually(lambda a=ahead: a._building is None, message="the build did not fail")
        errors = [r for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == (0 if closing else 1)
        ahead.close()


def test_close_waits_for_the_build_under_way_and_builds_nothing_more():
    builds, ahead = building_a_for_a_moment()
    ahead.close()
    assert builds.built == ["a"]  # the build under way ended before close returned
    ahead.request(None, key("b"))
    time.sleep(0.2)
    assert builds.built == ["a"]


def test_warm_starts_trace_a_network_once_then_build_its_runs_untraced(monkeypatch):
    traced = []

    def counted_build_traced(spec, key):
        traced.append(spec.seed)
        return build_traced(spec, key)

    monkeypatch.setattr(warm_start, "build_traced", counted_build_traced)
    data = patch_digits(n_train=100, n_test=10)
    ahead = WarmStarts(delay=0, pool=TracedModels())
    for seed in (1, 2, 3):
        spec = other_run(DENSE, seed=seed)
        key = warm_key(spec, data)
        ahead.request(spec, key)
        eventually(
            lambda key=key: ahead.ready_key() == key, message="the settings were not built ahead"
        )
        model = ahead.take(key)
        assert model.train_function is None  # the run's own model, untraced
        assert model.optimizer.built  # its state ready to be given to the traced model
        np.testing.assert_array_equal(
            model.weights[0].numpy(), build_untraced(spec, key).weights[0].numpy()
        )
    assert traced == [1]  # the network's traced model, kept in the pool, serves the others
    assert len(ahead.pool) == 1
    (kept,) = ahead.pool._idle.values()
    # Each build primed it for its run (a batch, after the build's seeding emptied
    # TensorFlow's caches): its first call costs no more than the others.
    assert int(kept.optimizer.iterations) == 3


def test_the_run_after_the_first_of_a_network_trains_as_it_would_alone():
    """The queue builds the next run's model while the first run of a network trains; the
    first run's end must not reseed the process between that build and the next run's fit
    (fit's shuffling reads the seed of the last build)."""
    data = patch_digits(n_train=300, n_test=60, seed=2)
    ahead = WarmStarts(delay=0, pool=TracedModels())
    first = TrainingJob(DENSE, data, warm_starts=ahead).start()
    eventually(lambda: first.model is not None, message="the first run built no model")
    spec = other_run(DENSE, seed=11)
    key = warm_key(spec, data)
    ahead.request(spec, key)
    eventually(lambda: ahead.ready_key() == key, message="the settings were not built ahead")
    assert first.join(timeout=120)
    second = TrainingJob(spec, data, warm_starts=ahead).start()
    assert second.join(timeout=120)
    alone = TrainingJob(spec, data, warm_starts=WarmStarts(pool=TracedModels())).start()
    assert alone.join(timeout=120)
    for name in ("loss", "val_loss"):
        np.testing.assert_allclose(
            second.snapshot().history[name], alone.snapshot().history[name], rtol=1e-6
        )


def test_networks_built_ahead_leave_nothing_behind_in_tensorflow_s_kernel_cache():
    """Each network built left its optimizer's variables' kernels in TensorFlow's cache for
    good: 2 to 5 MB a run in bench/memory.py's server (issue 29)."""
    data = patch_digits(n_train=100, n_test=10)
    ahead = WarmStarts(delay=0, pool=TracedModels())

    def build(seed: int) -> None:
        spec = other_run(DENSE, seed=seed)
        key = warm_key(spec, data)
        ahead.request(spec, key)
        eventually(lambda: ahead.ready_key() == key, message="the settings were not built ahead")
        assert ahead.take(key) is not None

    build(1)  # the network's first build also traces it for the pool
    build(2)
    before = malloc_in_use()
    for seed in range(3, 8):
        build(seed)
    # megabytes, for five networks built and dropped: the leak was 10 to 25 MB for five
    assert malloc_in_use() - before < 1.0
