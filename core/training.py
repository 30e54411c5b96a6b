"""Training jobs: one background thread per run, never the script thread.

`TrainingJob` builds the model from a `ModelSpec`, holds out a validation part of the training
set, trains with `LiveMetrics` feeding its `TrainingMonitor`, and evaluates on the test set at
the end. The page keeps only the job (in session state or `JOBS`) and reads
`job.monitor.snapshot()`; the worker never touches Streamlit.
"""

from __future__ import annotations

import gc
import math
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data import MNIST, one_hot, to_model_inputs
from core.model import IMAGE_SHAPE, ModelSpec
from core.monitor import TrainingMonitor

# Images one compiled call should see: enough to hide Keras's per-step overhead, few enough
# that the batch curve and the Stop button still answer within a fraction of a second.
IMAGES_PER_EXECUTION = 2048
MAX_STEPS_PER_EXECUTION = 32

EpochListener = Callable[["TrainingJob", int, dict], None]
FinishListener = Callable[["TrainingJob"], None]


def steps_per_execution_for(batch_size: int) -> int:
    """How many batches one compiled call runs (see bench/training.py for the measurements)."""
    return int(max(1, min(MAX_STEPS_PER_EXECUTION, IMAGES_PER_EXECUTION // batch_size)))


@dataclass
class PreparedData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray

    def as_images(self) -> PreparedData:
        """The same data with each row seen as a (28, 28, 1) image, as a convolutional model
        takes it: reshaping a contiguous array gives a view, so no pixel is copied."""

        def images(x: np.ndarray | None) -> np.ndarray | None:
            return None if x is None else x.reshape(len(x), *IMAGE_SHAPE)

        return PreparedData(
            images(self.x_train),
            self.y_train,
            images(self.x_val),
            self.y_val,
            images(self.x_test),
            self.y_test,
        )


def prepare(data: MNIST, validation_split: float, seed: int) -> PreparedData:
    """Scale to [0, 1], one-hot the labels, and hold out `validation_split` of the training set.

    The held-out part is a fixed-seed random choice, so validation holds every digit; the
    test set is kept apart for the final evaluation only.
    """
    images, labels = data.x_train, data.y_train
    n_val = int(round(len(images) * validation_split))
    if n_val:
        # Choose on the uint8 images, then scale: a quarter of the memory traffic.
        order = np.random.default_rng(seed).permutation(len(images))
        val, train = order[:n_val], order[n_val:]
        x_val, y_val = to_model_inputs(images[val]), one_hot(labels[val])
        x, y = to_model_inputs(images[train]), one_hot(labels[train])
    else:
        x_val = y_val = None
        x, y = to_model_inputs(images), one_hot(labels)
    return PreparedData(x, y, x_val, y_val, to_model_inputs(data.x_test), one_hot(data.y_test))


class TrainingJob:
    """One training run on its own thread. Start it, stop it, read its monitor."""

    def __init__(
        self,
        spec: ModelSpec,
        data: MNIST,
        *,
        run_id: str | None = None,
        listeners: tuple[EpochListener, ...] = (),
        finish_listeners: tuple[FinishListener, ...] = (),
        steps_per_execution: int | None = None,
        min_batch_interval: float = 0.1,
    ) -> None:
        spec.validate()
        self.spec = spec
        self.data = data
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.listeners = listeners
        self.finish_listeners = finish_listeners
        self.test_probabilities: np.ndarray | None = None
        self.steps_per_execution = steps_per_execution or steps_per_execution_for(spec.batch_size)
        self.monitor = TrainingMonitor(min_batch_interval=min_batch_interval)
        self.stop_event = threading.Event()
        self.model = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"train-{self.run_id}", daemon=True)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask training to end at the next batch; the model and its history are kept."""
        self.stop_event.set()
        self.monitor.request_stop()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        """Whether the thread is still going (training, or saving its result)."""
        return self._thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether training is under way; the page's controls follow this."""
        return self.alive and self.monitor.running

    def _tell_listeners(self, epoch: int, logs: dict) -> None:
        for listener in self.listeners:
            listener(self, epoch, logs)

    def _run(self) -> None:
        from core import gradient_registry

        try:
            gradient_registry.track()
            self._train()
        except Exception as error:  # the page shows it; the thread must not die silently
            self.error = error
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.monitor.finish("failed", f"Training failed: {detail}")
        finally:
            gradient_registry.release()  # else TensorFlow keeps this run's traced graphs
        for listener in self.finish_listeners:
            try:
                listener(self)
            except Exception as error:  # a failing listener must not hide the run's own result
                self.error = self.error or error
        # A Keras model and its traced graphs form reference cycles, which only Python's full
        # collection frees, and with the server's hundreds of thousands of objects that runs
        # only every several runs: the runs JOBS forgot (about 15 MB each) would wait for it.
        # Collecting here, off the script thread and once the result is saved, frees them now.
        gc.collect()

    def _train(self) -> None:
        import keras

        from core.evaluation import predict_probabilities
        from core.live_callback import LiveMetrics
        from core.model import build_model

        spec = self.spec
        self.monitor.set_status("running", "Preparing the data…")
        prepared = prepare(self.data, spec.validation_split, spec.seed)
        if spec.is_convolutional:
            prepared = prepared.as_images()
        self.monitor.set_status("running", "Building the model…")
        steps = math.ceil(len(prepared.x_train) / spec.batch_size)
        model = build_model(
            spec, steps_per_epoch=steps, steps_per_execution=self.steps_per_execution
        )
        self.model = model
        live = LiveMetrics(
            self.monitor,
            self.stop_event,
            epochs=spec.epochs,
            steps_per_epoch=steps,
            batch_size=spec.batch_size,
            on_epoch=self._tell_listeners,
        )
        callbacks: list = [live]
        has_validation = prepared.x_val is not None
        if spec.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss" if has_validation else "loss",
                    patience=spec.patience,
                    restore_best_weights=spec.restore_best_weights,
                )
            )
        if self.stop_event.is_set():
            self.monitor.finish("stopped", "Stopped before the first batch.")
            return
        model.fit(
            prepared.x_train,
            prepared.y_train,
            batch_size=spec.batch_size,
            epochs=spec.epochs,
            validation_data=(prepared.x_val, prepared.y_val) if has_validation else None,
            callbacks=callbacks,
            shuffle=True,
            verbose=0,
        )
        if live.nan_message:
            self.monitor.finish("failed", live.nan_message)
            return
        self.monitor.set_status("running", f"Testing on the {len(prepared.x_test):,} test images…")
        test_loss, test_accuracy = model.evaluate(
            prepared.x_test, prepared.y_test, batch_size=1024, verbose=0, return_dict=False
        )
        self.test_probabilities = predict_probabilities(model, self.data.x_test)
        snapshot = self.monitor.snapshot()
        if live.stopped_by_user:
            status, message = "stopped", f"Stopped by you after {snapshot.epoch} complete epochs."
        elif snapshot.epoch < spec.epochs:
            status, message = (
                "completed",
                f"Early stopping ended training after {snapshot.epoch} epochs.",
            )
        else:
            status, message = "completed", f"Trained {snapshot.epoch} epochs."
        self.monitor.finish(status, message, test_loss=test_loss, test_accuracy=test_accuracy)


class JobRegistry:
    """Process-wide table of training jobs by run id, so a run outlives a page switch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}

    def add(self, job: TrainingJob) -> TrainingJob:
        with self._lock:
            self._jobs[job.run_id] = job
        return job

    def get(self, run_id: str | None) -> TrainingJob | None:
        if run_id is None:
            return None
        with self._lock:
            return self._jobs.get(run_id)

    def running(self) -> list[TrainingJob]:
        with self._lock:
            return [job for job in self._jobs.values() if job.alive]

    def forget_finished(self, keep: int = 4) -> None:
        """Drop finished jobs beyond the newest `keep`, so their models can be freed."""
        with self._lock:
            finished = [rid for rid, job in self._jobs.items() if not job.alive]
            for rid in finished[:-keep] if keep else finished:
                del self._jobs[rid]


JOBS = JobRegistry()
