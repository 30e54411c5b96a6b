"""A traced model kept from an earlier run of the same network trains exactly as a fresh one,
is lent to one job at a time, and is handed back before the job's test pass
(core.training.traced_models)."""

import threading
import time

import numpy as np
import pytest

import core.training.job as training
import core.training.traced_models as traced_models
from core.training.job import TrainingJob, warm_key
from core.training.traced_models import TracedModels
from core.training.tracing import WarmKey, build_traced, build_untraced, trace_key, trace_steps
from core.training.warm_start import WarmStarts
from tests.support.digits import patch_digits
from tests.training.test_tracing import CONV, DENSE, counting_traces, other_run, state


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


@pytest.fixture(scope="module")
def traced_dense():
    """A traced model of DENSE, for the tests below that only put one in a pool: a lease gives
    it the state of the run it serves, so what earlier tests did to it does not show."""
    return build_traced(DENSE, warm_key(DENSE, patch_digits(n_train=100, n_test=10)))


def test_a_kept_traced_model_is_lent_to_one_job_at_a_time(traced_dense):
    key = warm_key(DENSE, patch_digits(n_train=100, n_test=10))
    pool = TracedModels()
    assert pool.add(key, traced_dense) and len(pool) == 1
    assert not pool.add(key, build_untraced(DENSE, key))  # one per kind, whatever the model
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


def test_a_job_waits_for_the_kept_model_being_primed_instead_of_tracing_its_own(
    monkeypatch, traced_dense
):
    key = warm_key(DENSE, patch_digits(n_train=100, n_test=10))
    pool = TracedModels()
    assert pool.add(key, traced_dense)
    priming, primed = threading.Event(), []

    def slow_prime(model, spec) -> None:
        priming.set()
        time.sleep(0.5)
        primed.append(model)

    monkeypatch.setattr(traced_models, "prime_steps", slow_prime)
    thread = threading.Thread(target=pool.prime, args=(DENSE, key))
    thread.start()
    assert priming.wait(10)
    lease = pool.lease(DENSE, key, build_untraced(DENSE, key))  # while it is being primed
    thread.join()
    assert lease.kind == "lent" and primed == [lease.model]


def test_a_job_hands_its_traced_model_back_before_its_test_pass(monkeypatch, traced_dense):
    """So the next run's build ahead can prime it while this run is tested and saved."""
    data = patch_digits(n_train=200, n_test=40, seed=4)
    pool = TracedModels()
    key = warm_key(DENSE, data)
    assert pool.add(key, traced_dense)  # traced for 100 rows: the same steps at a constant rate
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
