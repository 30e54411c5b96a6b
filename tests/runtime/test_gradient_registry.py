import gc
import threading

import pytest

from core.plane.spec import PlaneSpec
from core.plane.xor import XorJob
from core.runtime import gradient_registry
from core.training.job import TrainingJob
from tests.support.digits import patch_digits
from tests.support.specs import small_spec
from tests.support.waiting import eventually

tf = pytest.importorskip("tensorflow")


def custom_gradient_names() -> set[str]:
    from tensorflow.python.framework import ops  # only once importorskip found TensorFlow

    return {name for name in ops._gradient_registry._registry if name.startswith("CustomGradient")}


def traced_graphs() -> int:
    """Traced graphs (tf.Graph objects holding operations) still in memory, whoever made them.

    Empty graphs are not counted: a thread's default graph, the outer graph of whatever that
    thread traces, holds no operation (a run's batches, kept for the next run of the same
    data, keep the one of the thread that made them).
    """
    gc.collect()
    return sum(
        1 for thing in gc.get_objects() if isinstance(thing, tf.Graph) and thing.get_operations()
    )


def double_gradient_function():
    """A tf.function that registers one custom gradient each time it is traced."""

    @tf.custom_gradient
    def double(x):
        return 2.0 * x, lambda upstream: 2.0 * upstream

    @tf.function
    def slope(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = double(x)
        return tape.gradient(y, x)

    return slope


def train_once() -> None:
    spec = small_spec(units=16, epochs=1)
    job = TrainingJob(spec, patch_digits(n_train=200, n_test=50)).start()
    assert job.join(timeout=120)
    assert job.monitor.snapshot().status == "completed", job.monitor.snapshot().message


def no_build_ahead() -> None:
    """Drop a build ahead of Train an earlier test of this process asked for, and wait for one
    under way to end: its tracing registers custom gradients and graphs of its own meanwhile."""
    from core.training.warm_start import WARM_STARTS

    WARM_STARTS.take(object(), timeout=0)  # a key never built: it only drops what was asked
    eventually(lambda: WARM_STARTS._building is None, timeout=120, message="a build went on")


def left_by_ended_threads(before: set[str]) -> set[str]:
    """The custom gradients registered since `before` whose thread has ended (a finished
    run's), or whose thread nobody recorded; not those of threads still at work."""
    alive = {thread.ident for thread in threading.enumerate()}
    owners = dict(gradient_registry._owners)
    return {name for name in custom_gradient_names() - before if owners.get(name) not in alive}


def test_finished_runs_leave_no_traced_training_step_behind():
    no_build_ahead()
    before = custom_gradient_names()
    train_once()
    first = traced_graphs()
    for _ in range(2):  # each run left its graphs behind: two more runs show a leak
        train_once()
    # Before the fix every run left its traced graphs pinned by the registry.
    assert traced_graphs() <= first
    assert not left_by_ended_threads(before)


def test_the_private_registry_is_still_there():
    """The release reaches into TensorFlow's private gradient registry: after an upgrade that
    moves it, this fails (and the app logs a warning), rather than runs leaking unseen."""
    assert gradient_registry.available(), "TensorFlow's ops._gradient_registry has moved"
    assert gradient_registry.track()


def test_a_missing_registry_is_warned_about_and_left_alone(monkeypatch, caplog):
    monkeypatch.setattr(gradient_registry, "_installed", False)
    monkeypatch.setattr(gradient_registry, "_warned", False)
    monkeypatch.setattr(gradient_registry, "_registry", lambda: None)
    with caplog.at_level("WARNING", logger="core.runtime.gradient_registry"):
        assert not gradient_registry.track()
        assert not gradient_registry.track()
    assert gradient_registry.release() == 0
    warnings = [r for r in caplog.records if "gradient registry" in r.getMessage()]
    assert len(warnings) == 1  # once, not on every run


def test_release_spares_a_live_thread_and_frees_it_once_it_ends():
    assert gradient_registry.track()
    traced, finish = threading.Event(), threading.Event()
    names: dict[str, set[str]] = {}

    def worker() -> None:
        before = custom_gradient_names()
        assert float(double_gradient_function()(tf.constant(3.0))) == 2.0
        names["added"] = custom_gradient_names() - before
        traced.set()
        finish.wait(30)

    thread = threading.Thread(target=worker)
    thread.start()
    assert traced.wait(30)
    added = names["added"]
    assert len(added) == 1
    gradient_registry.release()  # this thread registered nothing; the worker is alive
    assert added <= custom_gradient_names()
    finish.set()
    thread.join(30)
    assert gradient_registry.release() >= 1
    assert not added & custom_gradient_names()


def test_a_thread_can_trace_again_after_releasing_its_own():
    assert gradient_registry.track()
    for _ in range(2):  # a new function each time, so each call traces and registers anew
        before = custom_gradient_names()
        assert float(double_gradient_function()(tf.constant(1.5))) == 2.0
        added = custom_gradient_names() - before
        assert len(added) == 1
        assert gradient_registry.release() >= 1
        assert not added & custom_gradient_names()


def test_xor_worker_releases_what_its_loop_registered():
    before = custom_gradient_names()
    job = XorJob()
    job.reset(PlaneSpec())
    assert job.join(60)
    assert job.train(50)
    assert job.join(60)
    assert job.snapshot().epoch == 50
    assert not custom_gradient_names() - before
