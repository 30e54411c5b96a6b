"""Training jobs: one background thread per run, never the script thread.

`TrainingJob` builds the model from a `ModelSpec`, holds out a validation part of the training
set, trains with `LiveMetrics` feeding its `TrainingMonitor`, and evaluates on the test set at
the end, handing a plain `RunResult` to its callbacks (`core.runs.recorder.RunRecorder` stores it).
`core.training.registry.JOBS` keeps every job by run id, and `core.runs.start` is how the app
starts a recorded one. The page reads `job.snapshot()`; the worker never touches Streamlit.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.inside.evaluation import confusion_matrix, cross_entropy
from core.mnist.data import MNIST
from core.nets.model import NUM_CLASSES, ModelSpec
from core.runtime.jobs import BackgroundJob
from core.training.monitor import Snapshot, TrainingMonitor
from core.training.prepared import PREPARED, held_out_count
from core.training.starting import StartFrom
from core.training.steering import Steering
from core.training.tracing import WarmKey, build_untraced
from core.training.warm_start import WARM_STARTS, WarmStarts

logger = logging.getLogger(__name__)

# Images one compiled call should see: enough to hide Keras's per-step overhead, few enough
# that the batch curve and the Stop button still answer within a fraction of a second.
IMAGES_PER_EXECUTION = 2048
MAX_STEPS_PER_EXECUTION = 32


def steps_per_execution_for(batch_size: int) -> int:
    """How many batches one compiled call runs (see bench/training.py for the measurements)."""
    return int(max(1, min(MAX_STEPS_PER_EXECUTION, IMAGES_PER_EXECUTION // batch_size)))


def steps_per_epoch(spec: ModelSpec, data: MNIST) -> int:
    """How many batches one epoch of `spec` on `data` has (what `prepare` leaves to train)."""
    n = len(data.x_train) - data.train_only  # the own digits are never held out
    return math.ceil(
        (len(data.x_train) - held_out_count(n, spec.validation_split)) / spec.batch_size
    )


def warm_key(spec: ModelSpec, data: MNIST) -> WarmKey:
    """What `core.training.warm_start` builds ahead for training `spec` on `data`."""
    return WarmKey.of(spec, steps_per_epoch(spec, data), steps_per_execution_for(spec.batch_size))


def build_ahead(spec: ModelSpec, data: MNIST, warm_starts: WarmStarts = WARM_STARTS) -> WarmKey:
    """Have `spec`'s model built and traced, and `data` made tensors, for the next
    `TrainingJob` of `spec` on `data` to take (core.training.warm_start); returns what it will be."""
    key = warm_key(spec, data)
    warm_starts.request(spec, key, data)
    return key


@dataclass(frozen=True)
class RunResult:
    """How a training run ended: what the job hands every callback's `on_run_end`.

    `test_loss` is the categorical cross-entropy of the model's test-set probabilities
    (`core.inside.evaluation.cross_entropy`), whatever loss the run trained with: the same figure the
    Evaluate page stores for an imported model, so stored test losses mean one thing.
    `model_epochs` is the epoch whose weights the model holds when early stopping restored its
    best weights (None: the last complete epoch).
    """

    status: str  # completed, stopped or failed
    message: str
    test_loss: float | None = None
    test_accuracy: float | None = None
    confusion: list[list[int]] | None = None  # rows: true digit, columns: predicted digit
    model_epochs: int | None = None


class _UntilStopped(list):
    """`fit(validation_freq=...)`: validate after every epoch until a batch end has seen Stop
    (`stopped()`). An epoch that Stop cuts short is dropped from the history, so validating
    it only delays the end; an epoch whose batches all ran before Stop is whole, and is
    validated like any other.

    Keras's private `Trainer._should_eval` reads a list-valued validation_freq with
    `epoch in validation_freq`: tests/training/test_job_stop.py's
    test_keras_still_reads_validation_freq_with_in fails if an upgrade changes that, and a
    job logs a warning if it is gone (`check_keras_reads_validation_freq`)."""

    def __init__(self, stopped: Callable[[], bool]) -> None:
        super().__init__()
        self.stopped = stopped

    def __contains__(self, epoch) -> bool:
        return not self.stopped()


def check_keras_reads_validation_freq(model) -> bool:
    """Whether `model` has the `_should_eval` through which `fit` asks `_UntilStopped`; if
    not, a warning is logged (once a process): Stop then may not skip the cut epoch's
    validation pass, or `fit` may refuse the list."""
    if callable(getattr(model, "_should_eval", None)):
        return True
    _warn_validation_freq_unread()
    return False


@functools.cache
def _warn_validation_freq_unread() -> None:
    logger.warning(
        "This Keras has no Model._should_eval, which fit used to read a list-valued "
        "validation_freq with `epoch in validation_freq`; core/training/job.py's "
        "_UntilStopped relies on it to skip validating an epoch that Stop cut short. "
        "Training goes on; if Stop waits for a validation pass or fit refuses "
        "validation_freq, install the Keras of requirements.txt."
    )


def epoch_of_best_weights(early, done: int) -> int | None:
    """The epoch whose weights early stopping restored into the model, of the `done` epochs
    trained (`RunResult.model_epochs`); None if it restored none or did not run."""
    if early is not None and early.restore_best_weights and early.best_weights is not None:
        return min(done, early.best_epoch + 1)
    return None


def training_outcome(
    done: int, planned: int, stopped_by_user: bool, model_epochs: int | None
) -> tuple[str, str]:
    """How training ended after `done` of `planned` epochs: its status and what the page says."""
    if stopped_by_user:
        status, message = "stopped", f"Stopped by you after {epochs(done, 'complete ')}."
    elif done < planned:
        status, message = "completed", f"Early stopping ended training after {epochs(done)}."
    else:
        status, message = "completed", f"Trained {epochs(done)}."
    if model_epochs is not None and model_epochs < done:
        message += f" The model keeps the weights of epoch {model_epochs}, its best."
    return status, message


def predict_eagerly(model, x: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """The model's outputs for `x`, called directly in chunks: no predict function to trace,
    so the test pass right after Stop starts at once (see bench/latency.py)."""
    chunks = [
        np.asarray(model(x[start : start + batch_size], training=False))
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.empty((0, NUM_CLASSES), np.float32)


def epochs(count: int, kind: str = "") -> str:
    """ "1 epoch", "3 epochs" (with `kind`: "1 complete epoch")."""
    return f"{count} {kind}epoch{'' if count == 1 else 's'}"


class TrainingJob(BackgroundJob):
    """One training run on its own thread. Start it, stop it, read `snapshot()`.

    `callbacks` are extra Keras callbacks for `fit`; those with an `on_run_end(result)`
    method are handed the job's `RunResult` once the test evaluation is done. To record a run
    in the store: `TrainingJob(spec, data, run_id=run_id, callbacks=[RunRecorder(store,
    run_id)])` with `run_id = store.create_run(spec, data.description)`, or `start_recorded_run`.
    """

    thread_name = "train"

    def __init__(
        self,
        spec: ModelSpec,
        data: MNIST,
        *,
        run_id: str | None = None,
        callbacks: Sequence = (),
        steps_per_execution: int | None = None,
        min_batch_interval: float = 0.1,
        warm_starts: WarmStarts = WARM_STARTS,
        starting: StartFrom | None = None,
    ) -> None:
        super().__init__()
        self.warm_starts = warm_starts
        self.starting = starting  # a stored run's state or pinned weights (core.training.starting)
        spec.validate()
        self.spec = spec
        self.data = data
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.thread_name = f"train-{self.run_id}"
        self.callbacks = list(callbacks)
        self.steps_per_execution = steps_per_execution or steps_per_execution_for(spec.batch_size)
        self.monitor = TrainingMonitor(min_batch_interval=min_batch_interval)
        # The page's pause, resume and new rates (core.training.steering); the weight decay in
        # force is the built optimizer's own (Keras's AdamW decays) until the learner asks.
        self.steer = Steering(spec.learning_rate, schedule=spec.lr_schedule)
        self.model = None
        self._lease = None  # the traced model trained, from `warm_starts.pool`
        self.test_probabilities: np.ndarray | None = None
        self.result: RunResult | None = None

    def stop(self, wait: float = 0.0) -> bool:
        """Ask training to end at the next batch; the model and its history are kept.

        Waits up to `wait` seconds for training to have ended (`Snapshot.outcome`: the
        batches under way done, the test pass not yet), so a page can show the end at once;
        returns whether it has.
        """
        super().stop()
        self.monitor.request_stop()
        self.steer.wake()  # a paused run ends too
        return self.monitor.wait_training_ended(wait)

    @property
    def running(self) -> bool:
        """Whether training is under way; the page's controls follow this."""
        return self.alive and self.monitor.running

    def snapshot(self) -> Snapshot:
        return self.monitor.snapshot()

    def fail(self, message: str) -> None:
        self.monitor.finish("failed", message)
        self.result = RunResult("failed", message)

    def _end_lease(self):
        """Hand the traced model back (core.training.traced_models) and keep the trained state in
        the job's own model, which the callbacks then see; the model the job keeps."""
        import keras  # Keras: not at start-up

        if self._lease is not None:
            self.model, self._lease = self._lease.end(), None
            for callback in self.callbacks:  # not the traced model, now another run's
                if isinstance(callback, keras.callbacks.Callback):
                    callback.set_model(self.model)
        return self.model

    def finished(self) -> None:
        result = self.result or RunResult("failed", "Training ended without a result.")
        for callback in self.callbacks:
            on_run_end = getattr(callback, "on_run_end", None)
            if on_run_end is not None:
                on_run_end(result)
        self._end_lease()
        if self.model is not None:
            # The registry keeps the last few jobs (pages show their model); their traced
            # training and validation steps, megabytes each for a convnet, are never used
            # again. Keras traces them anew if a function is needed.
            self.model.train_function = None
            self.model.test_function = None
            self.model.predict_function = None

    def _end(self, result: RunResult) -> None:
        self.monitor.finish(
            result.status,
            result.message,
            test_loss=result.test_loss,
            test_accuracy=result.test_accuracy,
        )
        self.result = result

    def work(self, stop: threading.Event) -> None:
        spec = self.spec
        self.monitor.set_status("running", "Preparing the data…")
        split = PREPARED.split(self.data, spec.validation_split, spec.seed)
        if spec.is_convolutional:
            split = split.as_images()
        self.monitor.set_status("running", "Building the model…")
        steps = math.ceil(split.train_count / spec.batch_size)
        model = self._model_to_train(WarmKey.of(spec, steps, self.steps_per_execution))
        live, early, callbacks = self._callbacks_for(stop, steps, split.val_rows is not None)
        if stop.is_set():
            self._end(RunResult("stopped", "Stopped before the first batch."))
            return
        self._fit(model, live, callbacks)
        # Handed back before the test pass: the next run's build ahead (an experiment's next
        # run is asked for as this one's training ends) primes the traced model meanwhile.
        model = self._end_lease()
        if live.nan_message:
            self._end(RunResult("failed", live.nan_message))
            return
        done = self.monitor.snapshot().epoch
        model_epochs = epoch_of_best_weights(early, done)
        status, message = training_outcome(done, spec.epochs, live.stopped_by_user, model_epochs)
        message += self.starting.outcome(done) if self.starting else ""  # a continued run
        # Said now, before the test pass: a person who pressed Stop sees at once that
        # training has ended and which epochs it kept.
        self.monitor.end_training(
            status, message, f"Testing on the {len(split.x_test):,} test images…"
        )
        self._end(self._test_pass(model, split.x_test, status, message, model_epochs))

    def _model_to_train(self, key: WarmKey):
        """The model this run trains (`self.model`): its own, built ahead or now, or a kept
        traced model of the same steps given its starting state."""
        # The Train page has usually built this model while the person read it.
        model = self.warm_starts.take(key)
        built_ahead = model is not None
        if model is None:
            model = build_untraced(self.spec, key)
        if self.starting is not None:
            self.starting.apply(model)
        # A traced model of the same steps kept from an earlier run trains, given this run's
        # starting state; `finished` hands the trained state back to `model`
        # (core.training.traced_models). A model built ahead stays the job's own: the Train
        # page shows what it built.
        self._lease = self.warm_starts.pool.lease(self.spec, key, model, donate=not built_ahead)
        self.model = self._lease.model
        return self.model

    def _callbacks_for(self, stop: threading.Event, steps: int, has_validation: bool):
        """`fit`'s callbacks: the page's `LiveMetrics`, the job's own, early stopping if the
        spec asks for it, and the end-of-epoch stop last; returns (live, early or None, all)."""
        import keras  # Keras: not at start-up

        from core.training.live_callback import (  # Keras: not at start-up
            CarryOn,
            LiveMetrics,
            StopAtEpochEnd,
        )
        from core.training.steer_callback import SteerCallback  # Keras: not at start-up

        spec = self.spec
        live = LiveMetrics(
            self.monitor,
            stop,
            epochs=spec.epochs,
            steps_per_epoch=steps,
            batch_size=spec.batch_size,
        )
        steer = SteerCallback(self.steer, self.monitor, stop.is_set, steps_per_epoch=steps)
        callbacks: list = [steer, live, *self.callbacks]  # steer first: a pause ends with Stop
        if self.starting is not None:  # the epochs before, first on the live curves
            callbacks.insert(2, CarryOn(self.monitor, self.starting))
        early = None
        if spec.early_stopping:
            early = keras.callbacks.EarlyStopping(
                monitor="val_loss" if has_validation else "loss",
                patience=spec.patience,
                restore_best_weights=spec.restore_best_weights,
            )
            callbacks.append(early)
        callbacks.append(StopAtEpochEnd(live))  # last: the others see the epoch as whole
        return live, early, callbacks

    def _fit(self, model, live, callbacks: list) -> None:
        """Train on the prepared batches, validating each epoch until Stop is pressed."""
        check_keras_reads_validation_freq(model)
        # Keras's own batches for these tensors, in the same order, without tf.data's
        # autotuning (core/training/pipelines.py: it held up the end of training).
        train, validation = PREPARED.batches(self.data, self.spec)
        model.fit(
            train,
            epochs=self.spec.epochs,
            validation_data=validation,
            validation_freq=_UntilStopped(lambda: live.stopped_by_user),
            initial_epoch=self.starting.initial_epoch if self.starting else 0,
            callbacks=callbacks,
            shuffle=False,  # the batches are shuffled already; `fit` would only warn
            verbose=0,
        )

    def _test_pass(self, model, x_test, status: str, message: str, model_epochs) -> RunResult:
        """The run's result: one pass over the test set gives accuracy, loss and matrix (no
        model.evaluate); the probabilities stay in `test_probabilities`."""
        probabilities = predict_eagerly(model, x_test).astype(np.float32)
        self.test_probabilities = probabilities
        y_test = self.data.y_test
        predicted = probabilities.argmax(axis=1)
        return RunResult(
            status,
            message,
            test_loss=cross_entropy(probabilities, y_test),
            test_accuracy=float(np.mean(predicted == y_test)) if len(y_test) else None,
            confusion=confusion_matrix(y_test, predicted).tolist(),
            model_epochs=model_epochs,
        )
