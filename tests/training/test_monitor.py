import math
import threading

from core.training.monitor import MAX_BATCH_POINTS, TrainingMonitor


class FakeClock:
    """Seconds that pass only when the test says so: timings that cannot flake."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batches_are_throttled_but_progress_is_always_counted():
    clock = FakeClock()
    monitor = TrainingMonitor(min_batch_interval=10.0, clock=clock)
    monitor.begin(epochs=2, steps_per_epoch=100, batch_size=32)
    monitor.begin_epoch(0)
    assert monitor.record_batch(1, 2.0, 0.1) is True
    clock.now += 9.9
    assert monitor.record_batch(2, 1.9, 0.2) is False  # within 10 s of the last kept point
    snapshot = monitor.snapshot()
    assert snapshot.step == 2
    assert [point[1:] for point in snapshot.batches] == [(2.0, 0.1)]
    assert snapshot.batches[0][0] == 0.01  # epoch 0 plus 1/100 of it
    clock.now += 0.2
    assert monitor.record_batch(3, 1.8, 0.3) is True  # 10.1 s after it


def test_epochs_fill_the_history_and_progress():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.begin(epochs=4, steps_per_epoch=10, batch_size=8)
    for epoch in range(2):
        monitor.begin_epoch(epoch)
        monitor.record_batch(5, 1.0, 0.5)
        monitor.record_epoch(epoch, {"loss": 1.0 - epoch / 10, "accuracy": 0.5, "val_loss": 0.9})
    snapshot = monitor.snapshot()
    assert snapshot.history["loss"] == [1.0, 0.9]
    assert snapshot.history["val_loss"] == [0.9, 0.9]
    assert all(math.isnan(v) for v in snapshot.history["val_accuracy"])
    assert snapshot.epoch == 2
    assert snapshot.fraction_done == 0.5
    assert snapshot.running


def test_eta_from_speed():
    clock = FakeClock()
    monitor = TrainingMonitor(min_batch_interval=0.0, clock=clock)
    monitor.begin(epochs=1, steps_per_epoch=100, batch_size=10)
    monitor.begin_epoch(0)
    clock.now += 2.0
    monitor.record_batch(50, 1.0, 0.5)
    snapshot = monitor.snapshot()
    # 500 images in 2 s; the 50 steps of 10 images left take as long again.
    assert snapshot.images_per_second == 250.0
    assert snapshot.eta_seconds == 2.0 and snapshot.elapsed_seconds == 2.0
    monitor.finish("completed", "done", test_loss=0.3, test_accuracy=0.9)
    finished = monitor.snapshot()
    assert finished.eta_seconds is None and not finished.running
    assert finished.test_accuracy == 0.9


def test_snapshot_is_a_copy():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.begin(epochs=1, steps_per_epoch=1, batch_size=1)
    snapshot = monitor.snapshot()
    snapshot.history["loss"].append(123.0)
    assert monitor.snapshot().history["loss"] == []


def test_batch_points_stay_bounded():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.begin(epochs=1, steps_per_epoch=10**6, batch_size=1)
    for step in range(1, 3 * MAX_BATCH_POINTS):
        monitor.record_batch(step, 1.0, 0.5)
    assert len(monitor.snapshot().batches) <= MAX_BATCH_POINTS


def test_concurrent_writer_and_readers_see_consistent_epochs():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.begin(epochs=500, steps_per_epoch=5, batch_size=1)

    def write():
        for epoch in range(500):
            monitor.begin_epoch(epoch)
            for step in range(1, 6):
                monitor.record_batch(step, 1.0, 0.5)
            monitor.record_epoch(
                epoch, {"loss": 1, "accuracy": 1, "val_loss": 1, "val_accuracy": 1}
            )

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        snapshot = monitor.snapshot()
        lengths = {len(values) for values in snapshot.history.values()}
        assert len(lengths) == 1  # never half an epoch written
        assert snapshot.epoch == lengths.pop()
    writer.join()
    assert monitor.snapshot().epoch == 500


def test_phase_messages_until_the_first_batch_and_stop_requests():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.set_status("running", "Preparing the data…")
    assert monitor.snapshot().message == "Preparing the data…"
    monitor.request_stop()
    monitor.begin(epochs=1, steps_per_epoch=10, batch_size=4)
    snapshot = monitor.snapshot()
    assert snapshot.message.startswith("Compiling")
    assert snapshot.stopping  # a Stop pressed while preparing is not forgotten
    monitor.begin_epoch(0)
    monitor.record_batch(1, 2.0, 0.1)
    assert monitor.snapshot().message == ""


def test_waiting_for_training_to_end_returns_at_its_outcome_not_before():
    monitor = TrainingMonitor()
    monitor.begin(epochs=1, steps_per_epoch=10, batch_size=32)
    assert monitor.wait_training_ended(timeout=0.01) is False
    assert not monitor.training_over
    said = ("stopped", "Stopped by you after 0 complete epochs.", "Testing…")
    threading.Timer(0.05, monitor.end_training, args=said).start()
    assert monitor.wait_training_ended(timeout=30) is True
    snapshot = monitor.snapshot()
    assert snapshot.running and snapshot.outcome == said[1] and snapshot.message == "Testing…"
    assert monitor.training_over
    monitor.finish("stopped", said[1])
    assert monitor.snapshot().outcome == said[1]  # the run has ended as its outcome said


def test_a_run_that_fails_before_its_outcome_has_ended_training_too():
    monitor = TrainingMonitor()
    monitor.begin(epochs=1, steps_per_epoch=10, batch_size=32)
    threading.Timer(0.05, monitor.finish, args=("failed", "Training failed: boom")).start()
    assert monitor.wait_training_ended(timeout=30) is True
    assert monitor.training_over and monitor.snapshot().outcome == ""


def test_wait_for_returns_the_first_point_as_it_comes_and_gives_up_after_the_timeout():
    monitor = TrainingMonitor(min_batch_interval=0.0)
    monitor.begin(epochs=1, steps_per_epoch=10, batch_size=32)
    monitor.begin_epoch(0)
    has_point = lambda state: bool(state.batches)  # noqa: E731
    assert monitor.wait_for(has_point, timeout=0.01).batches == []  # none comes: the timeout
    worker_waits = threading.Event()

    def first_batch():
        worker_waits.wait(30)
        monitor.record_batch(1, 2.3, 0.1)

    writer = threading.Thread(target=first_batch)
    writer.start()
    worker_waits.set()
    # With thirty seconds to wait, it returns with the point, taken after it was recorded.
    snapshot = monitor.wait_for(has_point, timeout=30)
    assert snapshot.batches == [(0.1, 2.3, 0.1)]
    writer.join()
    monitor.finish("completed")
    assert monitor.wait_for(lambda state: not state.running, timeout=30).status == "completed"
