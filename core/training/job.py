"""Training jobs: one background thread per run, never the script thread.

`TrainingJob` builds the model from a `ModelSpec`, holds out a validation part of the training
set, trains with `LiveMetrics` feeding its `TrainingMonitor`, and evaluates on the test set at
the end, handing a plain `RunResult` to its callbacks (`core.runs.recorder.RunRecorder` stores it).
`JOBS` keeps every job by run id, and `start_recorded_run` is how the app starts one (one run
at a time per session). The page reads `job.snapshot()`; the worker never touches Streamlit.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.mnist.data import MNIST, one_hot, to_model_inputs
from core.nets.model import IMAGE_SHAPE, NUM_CLASSES, ModelSpec
from core.runtime.jobs import BackgroundJob
from core.training.monitor import Snapshot, TrainingMonitor
from core.training.pipelines import batches
from core.training.warm_start import WARM_STARTS, WarmKey, WarmStarts, build_untraced

# Images one compiled call should see: enough to hide Keras's per-step overhead, few enough
# that the batch curve and the Stop button still answer within a fraction of a second.
IMAGES_PER_EXECUTION = 2048
MAX_STEPS_PER_EXECUTION = 32


def steps_per_execution_for(batch_size: int) -> int:
    """How many batches one compiled call runs (see bench/training.py for the measurements)."""
    return int(max(1, min(MAX_STEPS_PER_EXECUTION, IMAGES_PER_EXECUTION // batch_size)))


@dataclass
class PreparedData:
    """A run's inputs and one-hot labels: numpy arrays (`prepare`), or the same as TensorFlow
    tensors (`PreparedTensors`), which `fit` reads without another copy."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray

    def as_images(self) -> PreparedData:
        """The same data with each row seen as a (28, 28, 1) image, as a convolutional model
        takes it: reshaping a contiguous array (or tensor) gives a view, no pixel is copied."""

        def images(x):
            if x is None:
                return None
            if isinstance(x, np.ndarray):
                return x.reshape(len(x), *IMAGE_SHAPE)
            import tensorflow as tf

            return tf.reshape(x, (-1, *IMAGE_SHAPE))

        return PreparedData(
            images(self.x_train),
            self.y_train,
            images(self.x_val),
            self.y_val,
            images(self.x_test),
            self.y_test,
        )


def held_out_count(rows: int, validation_split: float) -> int:
    """How many of `rows` training images `prepare` holds out for validation."""
    return int(round(rows * validation_split))


def steps_per_epoch(spec: ModelSpec, data: MNIST) -> int:
    """How many batches one epoch of `spec` on `data` has (what `prepare` leaves to train)."""
    n = len(data.x_train)
    return math.ceil((n - held_out_count(n, spec.validation_split)) / spec.batch_size)


def warm_key(spec: ModelSpec, data: MNIST) -> WarmKey:
    """What `core.training.warm_start` builds ahead for training `spec` on `data`."""
    return WarmKey.of(spec, steps_per_epoch(spec, data), steps_per_execution_for(spec.batch_size))


def build_ahead(spec: ModelSpec, data: MNIST, warm_starts: WarmStarts = WARM_STARTS) -> WarmKey:
    """Have `spec`'s model built and traced, and `data` made tensors, for the next
    `TrainingJob` of `spec` on `data` to take (core.training.warm_start); returns what it will be."""
    key = warm_key(spec, data)
    warm_starts.request(spec, key, data)
    return key


# TensorFlow uses memory it did not allocate only from an address it could have allocated
# (Eigen's largest alignment); anything else it copies (or, through DLPack, aborts on).
ALIGNMENT = 64


def aligned_empty(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """An uninitialised array whose data starts on an `ALIGNMENT`-byte boundary."""
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + size].view(dtype).reshape(shape)


def as_tensor(array: np.ndarray):
    """`array` as a TensorFlow tensor: sharing its memory when it is aligned and contiguous
    (`aligned_empty`; nothing must change the array afterwards), else a copy."""
    import tensorflow as tf

    if array.size and array.flags.c_contiguous and array.ctypes.data % ALIGNMENT == 0:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.convert_to_tensor(array)


def split_rows(rows: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of `rows` training images train and which are held out for validation: a
    fixed-seed random choice, so validation holds every digit (`prepare`'s split)."""
    n_val = held_out_count(rows, validation_split)
    if not n_val:
        return np.arange(rows), np.arange(0)
    order = np.random.default_rng(seed).permutation(rows)
    return order[n_val:], order[:n_val]


def prepare(data: MNIST, validation_split: float, seed: int) -> PreparedData:
    """Scale to [0, 1] rows, one-hot the labels, and hold out `validation_split` of the
    training set (`as_images` then gives a convolutional network its view of the rows).

    The held-out part is `split_rows`'s; the test set is kept apart for the final evaluation
    only. (A run reads the same rows from `PreparedTensors`, which copies no split out.)
    """
    images, labels = data.x_train, data.y_train
    train, val = split_rows(len(images), validation_split, seed)
    if len(val):
        # Choose on the uint8 images, then scale: a quarter of the memory traffic.
        x_val, y_val = to_model_inputs(images[val]), one_hot(labels[val])
        x, y = to_model_inputs(images[train]), one_hot(labels[train])
    else:
        x_val = y_val = None
        x, y = to_model_inputs(images), one_hot(labels)
    x_test = to_model_inputs(data.x_test)
    return PreparedData(x, y, x_val, y_val, x_test, one_hot(data.y_test))


@dataclass(frozen=True)
class Split:
    """A data set as the tensors a run reads: every training image scaled to [0, 1] and
    every label one-hot (`x_all`, `y_all`), which of them train and which validate (row
    numbers, `val_rows` None without a held-out part), and the test set. `batches` gathers a
    run's batches from `x_all` by row: the split is never copied out."""

    x_all: object
    y_all: object
    train_rows: object
    val_rows: object | None
    x_test: object
    y_test: object

    @property
    def train_count(self) -> int:
        return int(self.train_rows.shape[0])

    def as_images(self) -> Split:
        """The same split with each row seen as a (28, 28, 1) image (views, no copy)."""
        import tensorflow as tf

        return replace(
            self,
            x_all=tf.reshape(self.x_all, (-1, *IMAGE_SHAPE)),
            x_test=tf.reshape(self.x_test, (-1, *IMAGE_SHAPE)),
        )


class PreparedTensors:
    """The last data set prepared for training, kept as TensorFlow tensors for the next run.

    Turning MNIST's 60,000 images into [0, 1] rows and then into the tensors `fit` reads took
    about 0.3 s of every Train press (of the 1 s a person should wait at most for the first
    curve point, bench/latency.py); a person trains again and again on the same data. One data
    set is kept (about 220 MB for the whole MNIST: a script that scales MNIST to float32 holds
    as much), scaled straight into memory the tensors share (`aligned_empty`, `as_tensor`);
    another data set replaces it. Tensors are never changed, so jobs on several threads
    share them.

    Each seed holds out its own validation part: a split is only its row numbers
    (`split_rows`), and the batches gather their rows from the whole set, so an experiment's
    runs of several seeds scale nothing anew (each new seed's split used to be scaled and
    copied: 0.07 s of CPU on the full MNIST). The batches of the latest split are kept too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: MNIST | None = None
        self._whole: tuple | None = None  # (x_all, y_all, x_test, y_test) of self._data
        self._key: tuple | None = None  # (validation_split, seed) of self._split
        self._split: Split | None = None
        self._batches: dict[tuple, tuple] = {}  # (batch size, images?) -> (train, validation)

    def split(self, data: MNIST, validation_split: float, seed: int) -> Split:
        """`data` as tensors, split for `seed` (made once, kept for the next run)."""
        import tensorflow as tf

        key = (float(validation_split), int(seed))
        with self._lock:  # one thread prepares; the others wait and share
            if self._data is not data:
                self._data = self._whole = self._key = self._split = None  # free the old set
                self._batches = {}
                self._whole = tuple(
                    as_tensor(x)
                    for x in (
                        to_model_inputs(data.x_train, empty=aligned_empty),
                        one_hot(data.y_train),
                        to_model_inputs(data.x_test, empty=aligned_empty),
                        one_hot(data.y_test),
                    )
                )
                self._data = data
            if self._key != key:
                train, val = split_rows(len(data.x_train), validation_split, seed)
                x_all, y_all, x_test, y_test = self._whole
                val_rows = tf.constant(val, tf.int64) if len(val) else None
                self._split = Split(
                    x_all, y_all, tf.constant(train, tf.int64), val_rows, x_test, y_test
                )
                self._key, self._batches = key, {}
            return self._split

    def batches(self, data: MNIST, spec: ModelSpec) -> tuple:
        """The training and validation batches `fit` reads for `spec` on `data` (validation
        None without a held-out part): `core.training.pipelines.batches` of `split`'s rows, made
        once for each batch size and input shape and kept with them (making them traces
        small functions: 0.1-0.2 s that pressing Train no longer waits for).

        They are made under `spec.seed` (`core.runtime.seeding.seeded`): the seed fixes the order
        of the batches as it does in `fit`, even while another thread builds another seed's
        network.
        """
        from core.runtime.seeding import seeded

        kept = self.split(data, spec.validation_split, spec.seed)
        split = kept.as_images() if spec.is_convolutional else kept
        key = (spec.batch_size, spec.is_convolutional)
        with self._lock:  # `_batches` belongs to `_split`: another split empties it
            if self._split is kept and key in self._batches:
                return self._batches[key]
        with seeded(spec.seed):
            train = batches(
                split.x_all, split.y_all, spec.batch_size, shuffle=True, rows=split.train_rows
            )
            validation = None
            if split.val_rows is not None:
                validation = batches(
                    split.x_all, split.y_all, spec.batch_size, shuffle=False, rows=split.val_rows
                )
        with self._lock:
            if self._split is kept:
                self._batches[key] = (train, validation)
        return train, validation


PREPARED = PreparedTensors()


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
    validated like any other (Keras reads a list-valued validation_freq with
    `epoch in validation_freq`)."""

    def __init__(self, stopped: Callable[[], bool]) -> None:
        super().__init__()
        self.stopped = stopped

    def __contains__(self, epoch) -> bool:
        return not self.stopped()


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
    ) -> None:
        super().__init__()
        self.warm_starts = warm_starts
        spec.validate()
        self.spec = spec
        self.data = data
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.thread_name = f"train-{self.run_id}"
        self.callbacks = list(callbacks)
        self.steps_per_execution = steps_per_execution or steps_per_execution_for(spec.batch_size)
        self.monitor = TrainingMonitor(min_batch_interval=min_batch_interval)
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
        """Hand the traced model back (core.training.warm_start) and keep the trained state in the
        job's own model, which the callbacks then see; the model the job keeps."""
        import keras

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
            # training and validation steps, about 15 MB each for the keras.io convnet, are
            # never used again. Keras traces them anew if a function is needed.
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
        import keras

        from core.inside.evaluation import confusion_matrix, cross_entropy
        from core.training.live_callback import LiveMetrics, StopAtEpochEnd

        spec = self.spec
        self.monitor.set_status("running", "Preparing the data…")
        split = PREPARED.split(self.data, spec.validation_split, spec.seed)
        if spec.is_convolutional:
            split = split.as_images()
        self.monitor.set_status("running", "Building the model…")
        steps = math.ceil(split.train_count / spec.batch_size)
        # The Train page has usually built this model while the person read it.
        key = WarmKey.of(spec, steps, self.steps_per_execution)
        model = self.warm_starts.take(key)
        built_ahead = model is not None
        if model is None:
            model = build_untraced(spec, key)
        # A traced model of the same steps kept from an earlier run trains, given this run's
        # starting state; `finished` hands the trained state back to `model` (core.training.warm_start).
        # A model built ahead stays the job's own: the Train page shows what it built.
        self._lease = self.warm_starts.pool.lease(spec, key, model, donate=not built_ahead)
        model = self.model = self._lease.model
        live = LiveMetrics(
            self.monitor,
            stop,
            epochs=spec.epochs,
            steps_per_epoch=steps,
            batch_size=spec.batch_size,
        )
        callbacks: list = [live, *self.callbacks]
        has_validation = split.val_rows is not None
        early = None
        if spec.early_stopping:
            early = keras.callbacks.EarlyStopping(
                monitor="val_loss" if has_validation else "loss",
                patience=spec.patience,
                restore_best_weights=spec.restore_best_weights,
            )
            callbacks.append(early)
        callbacks.append(StopAtEpochEnd(live))  # last: the others see the epoch as whole
        if stop.is_set():
            self._end(RunResult("stopped", "Stopped before the first batch."))
            return
        # Keras's own batches for these tensors, in the same order, without tf.data's
        # autotuning (core/training/pipelines.py: it held up the end of training by seconds).
        train, validation = PREPARED.batches(self.data, spec)
        model.fit(
            train,
            epochs=spec.epochs,
            validation_data=validation,
            validation_freq=_UntilStopped(lambda: live.stopped_by_user),
            callbacks=callbacks,
            shuffle=False,  # the batches are shuffled already; `fit` would only warn
            verbose=0,
        )
        # Handed back before the test pass: the next run's build ahead (an experiment's next
        # run is asked for as this one's training ends) primes the traced model meanwhile.
        model = self._end_lease()
        if live.nan_message:
            self._end(RunResult("failed", live.nan_message))
            return
        done = self.monitor.snapshot().epoch
        model_epochs = None
        if early is not None and early.restore_best_weights and early.best_weights is not None:
            model_epochs = min(done, early.best_epoch + 1)
        if live.stopped_by_user:
            status, message = "stopped", f"Stopped by you after {epochs(done, 'complete ')}."
        elif done < spec.epochs:
            status, message = "completed", f"Early stopping ended training after {epochs(done)}."
        else:
            status, message = "completed", f"Trained {epochs(done)}."
        if model_epochs is not None and model_epochs < done:
            message += f" The model keeps the weights of epoch {model_epochs}, its best."
        # Said now, before the test pass: a person who pressed Stop sees at once that
        # training has ended and which epochs it kept.
        self.monitor.end_training(
            status, message, f"Testing on the {len(split.x_test):,} test images…"
        )
        # One pass over the test set gives accuracy, loss and matrix (no model.evaluate).
        probabilities = predict_eagerly(model, split.x_test).astype(np.float32)
        self.test_probabilities = probabilities
        y_test = self.data.y_test
        predicted = probabilities.argmax(axis=1)
        self._end(
            RunResult(
                status,
                message,
                test_loss=cross_entropy(probabilities, y_test),
                test_accuracy=float(np.mean(predicted == y_test)) if len(y_test) else None,
                confusion=confusion_matrix(y_test, predicted).tolist(),
                model_epochs=model_epochs,
            )
        )


class TrainingBusyError(RuntimeError):
    """A session asked for a second run while its first is still training."""


class JobRegistry:
    """Process-wide table of training jobs by run id, so a run outlives a page switch.

    `start` is the one way a page starts a job: it refuses a second job for the same owner
    (a browser session) while that owner's job is still training, checked and registered
    under one lock, so two quick clicks cannot start two runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}
        self._owners: dict[str, str] = {}  # owner -> run id of its newest job

    def start(self, make_job: Callable[[], TrainingJob], owner: str | None = None) -> TrainingJob:
        """Make, register and start a job; raises `TrainingBusyError` while `owner` trains."""
        with self._lock:
            if owner is not None:
                busy = self._jobs.get(self._owners.get(owner, ""))
                if busy is not None and busy.running:
                    raise TrainingBusyError(
                        f"Run {busy.run_id} is still training; stop it before starting another."
                    )
            job = make_job()
            self._jobs[job.run_id] = job
            if owner is not None:
                self._owners[owner] = job.run_id
            job.start()
            return job

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


def start_recorded_run(
    store,
    spec: ModelSpec,
    data: MNIST,
    *,
    owner: str | None = None,
    name: str | None = None,
    registry: JobRegistry = JOBS,
    callbacks: tuple | list = (),
) -> TrainingJob:
    """Record a new run in `store` and train it on a background job registered in `registry`.

    The run's row is created only once the registry has agreed to start it, so a refused
    second click leaves nothing behind. Raises `TrainingBusyError` while `owner` trains.
    `callbacks` are further Keras callbacks for this run (the Train page's weight and
    gradient norms, core.inside.dynamics.LayerNorms); the recorder always comes first.
    """
    from core.runs.recorder import RunRecorder

    def make_job() -> TrainingJob:
        run_id = store.create_run(spec, data.description, name=name)
        return TrainingJob(
            spec, data, run_id=run_id, callbacks=[RunRecorder(store, run_id), *callbacks]
        )

    registry.forget_finished(keep=4)
    return registry.start(make_job, owner=owner)
