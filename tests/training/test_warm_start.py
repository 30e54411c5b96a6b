"""A model built and traced ahead of Train trains exactly as one built when Train is pressed,
and so does a traced model kept from an earlier run of the same network."""

import threading
import time

import numpy as np
import pytest

from core.nets.model import ModelSpec, build_model
from core.training.job import TrainingJob, warm_key
from core.training.warm_start import (
    TracedModels,
    WarmKey,
    WarmStarts,
    build_traced,
    build_untraced,
    trace_key,
    trace_steps,
)
from tests.support.digits import patch_digits
from tests.support.waiting import eventually

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


# ----- traced models kept for the next run of the same network -------------------------------


def state(model) -> list[np.ndarray]:
    """Every variable a run changes or reads: weights, dropout seeds, optimizer state."""
    return [np.asarray(v) for v in (*model.variables, *model.optimizer.variables)]


def other_run(spec: ModelSpec, **changes) -> ModelSpec:
    return ModelSpec.from_dict(spec.to_dict() | changes)


@pytest.mark.parametrize(
    "spec",
    [DENSE, CONV, other_run(DENSE, optimizer="nadam", learning_rate=0.004)],
    ids=["dense", "conv", "dense-nadam"],
)
def test_a_run_on_a_kept_traced_model_equals_a_run_on_a_fresh_one(spec):
    data = patch_digits(n_train=300, n_test=60, seed=2)
    pool = TracedModels()
    ahead = WarmStarts(pool=pool)  # nothing requested: jobs build their own
    assert ahead.pool is pool  # empty, and still the one given
    first = TrainingJob(spec, data, warm_starts=ahead).start()
    assert first.join(timeout=120) and first.snapshot().status == "completed"
    assert len(ahead.pool) == 1  # the first run of the network gave its traced model
    (kept,) = ahead.pool._idle.values()
    assert first.model is not kept and first.model.train_function is None
    first_state = state(first.model)
    traces = counting_traces(kept)
    # Another seed, rate, batch size, length and early stopping: the same traced steps.
    second_spec = other_run(
        spec,
        seed=9,
        learning_rate=spec.learning_rate * 3,
        batch_size=64,
        epochs=3,
        early_stopping=True,
        patience=5,
    )
    assert trace_key(warm_key(second_spec, data)) == trace_key(warm_key(spec, data))
    # Primed for the next run, as a build ahead does: a batch of zeros changes its state,
    # which the run must not see.
    steps = int(kept.optimizer.iterations)  # the first run's, handed back with the model
    assert ahead.pool.prime(second_spec, warm_key(second_spec, data))
    assert int(kept.optimizer.iterations) == steps + 1 and traces[0] == 0  # the traced step
    second = TrainingJob(second_spec, data, warm_starts=ahead).start()
    assert second.join(timeout=120)
    assert traces[0] == 0  # it trained the kept model, traced by the first run
    assert ahead.pool._idle[trace_key(warm_key(spec, data))] is kept  # and handed it back
    assert second.model is not kept and second.model is not first.model
    fresh = TrainingJob(second_spec, data, warm_starts=WarmStarts(pool=TracedModels())).start()
    assert fresh.join(timeout=120)
    assert second.snapshot().status == fresh.snapshot().status == "completed"
    assert len(second.snapshot().history["loss"]) == 3
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            second.snapshot().history[name], fresh.snapshot().history[name], rtol=1e-6
        )
    assert second.snapshot().test_accuracy == fresh.snapshot().test_accuracy
    np.testing.assert_allclose(second.test_probabilities, fresh.test_probabilities, atol=1e-6)
    for a, b in zip(state(second.model), state(fresh.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert int(second.model.optimizer.iterations) == 3 * 5  # 270 rows in batches of 64
    for a, b in zip(first_state, state(first.model), strict=True):
        np.testing.assert_array_equal(a, b)  # the next run left the first run's model alone


def test_trace_keys_share_what_the_traced_steps_do_not_read():
    def key_of(**changes) -> str:
        spec = other_run(DENSE, **changes)
        return trace_key(WarmKey.of(spec, 100, 32))

    same = key_of()
    for changes in (
        {"seed": 1},
        {"learning_rate": 0.1},
        {"epochs": 7},
        {"batch_size": 64},
        {"early_stopping": True},
        {"validation_split": 0.2},
    ):
        assert key_of(**changes) == same, changes
    assert trace_key(WarmKey.of(DENSE, 200, 32)) == same  # steps an epoch: constant rate only
    for changes in (
        {"layers": [{"type": "Dense", "units": 33}]},
        {"optimizer": "sgd"},
        {"loss": "mean_squared_error"},
        {"lr_schedule": "cosine"},
    ):
        assert key_of(**changes) != same, changes
    assert trace_key(WarmKey.of(DENSE, 100, 16)) != same  # batches a compiled call runs
    # A cosine schedule's rate and length are constants in the traced step.
    cosine = key_of(lr_schedule="cosine")
    assert key_of(lr_schedule="cosine", seed=3) == cosine
    for changes in ({"learning_rate": 0.1}, {"epochs": 7}, {"batch_size": 64}):
        assert key_of(lr_schedule="cosine", **changes) != cosine, changes
    assert trace_key(WarmKey.of(other_run(DENSE, lr_schedule="cosine"), 200, 32)) != cosine


def test_a_kept_traced_model_is_lent_to_one_job_at_a_time():
    key = warm_key(DENSE, patch_digits(n_train=100, n_test=10))
    pool = TracedModels()
    assert pool.add(key, build_traced(DENSE, key)) and len(pool) == 1
    assert not pool.add(key, "another traced model")  # one per kind: not even looked at
    owns = [build_untraced(other_run(DENSE, seed=seed), key) for seed in range(4)]
    leases, barrier = [None] * 4, threading.Barrier(4)

    def lease(i: int) -> None:
        barrier.wait()
        leases[i] = pool.lease(DENSE, key, owns[i])

    threads = [threading.Thread(target=lease, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = sorted(lease.kind for lease in leases)
    assert kinds == ["lent", "own", "own", "own"]  # one got it; none gives another back
    (lent,) = [lease for lease in leases if lease.kind == "lent"]
    np.testing.assert_array_equal(lent.model.weights[0].numpy(), lent.own.weights[0].numpy())
    assert pool.covers(key) and len(pool) == 0
    for lease in leases:
        assert lease.end() is lease.own
    assert len(pool) == 1 and pool.lease(DENSE, key, owns[0]).kind == "lent"


def test_the_pool_keeps_one_model_for_each_of_the_last_networks():
    pool = TracedModels(size=2)
    keys = [
        WarmKey.of(other_run(DENSE, layers=[{"type": "Dense", "units": n}]), 10, 4)
        for n in (4, 5, 6)
    ]
    for key in keys:
        assert pool.add(key, f"traced {key.spec_json}")
    assert len(pool) == 2 and not pool.covers(keys[0]) and pool.covers(keys[2])


def test_the_first_run_of_a_network_donates_only_when_none_is_kept():
    data = patch_digits(n_train=100, n_test=10)
    key = warm_key(DENSE, data)
    pool = TracedModels()
    donor = pool.lease(DENSE, key, build_untraced(DENSE, key))
    assert donor.kind == "donor" and pool.covers(key)
    # Another job of the network meanwhile: it neither waits nor donates.
    other = pool.lease(DENSE, key, build_untraced(DENSE, key))
    assert other.kind == "own"
    trace_steps(donor.model, DENSE)  # as its fit would
    kept = donor.end()
    assert kept is not donor.model and kept.train_function is None
    for a, b in zip(state(kept), state(donor.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert pool._idle[trace_key(key)] is donor.model
    assert other.end() is other.own


def test_warm_starts_trace_a_network_once_then_build_its_runs_untraced(monkeypatch):
    import core.training.warm_start as warm_start

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


def test_a_job_waits_for_the_kept_model_being_primed_instead_of_tracing_its_own(monkeypatch):
    import core.training.warm_start as warm_start

    key = warm_key(DENSE, patch_digits(n_train=100, n_test=10))
    pool = TracedModels()
    assert pool.add(key, build_traced(DENSE, key))
    priming, primed = threading.Event(), []

    def slow_prime(model, spec) -> None:
        priming.set()
        time.sleep(0.5)
        primed.append(model)

    monkeypatch.setattr(warm_start, "prime_steps", slow_prime)
    thread = threading.Thread(target=pool.prime, args=(DENSE, key))
    thread.start()
    assert priming.wait(10)
    lease = pool.lease(DENSE, key, build_untraced(DENSE, key))  # while it is being primed
    thread.join()
    assert lease.kind == "lent" and primed == [lease.model]


def test_a_job_hands_its_traced_model_back_before_its_test_pass(monkeypatch):
    """So the next run's build ahead can prime it while this run is tested and saved."""
    import core.training.job as training

    data = patch_digits(n_train=200, n_test=40, seed=4)
    pool = TracedModels()
    key = warm_key(DENSE, data)
    assert pool.add(key, build_traced(DENSE, key))
    kept_during_test = []
    real_predict = training.predict_eagerly

    def predict(model, x, *args, **kwargs):
        kept_during_test.append((len(pool), model.train_function is None))
        return real_predict(model, x, *args, **kwargs)

    monkeypatch.setattr(training, "predict_eagerly", predict)
    job = TrainingJob(DENSE, data, warm_starts=WarmStarts(delay=0, pool=pool)).start()
    assert job.join(timeout=120) and job.result.status == "completed"
    # Back in the pool during the test pass, which tested the job's own (untraced) model.
    assert kept_during_test == [(1, True)]
