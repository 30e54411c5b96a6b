"""XOR, the lesson of seed 000: the data, the network, a fast trainer and its background job.

`XorSpec` is the whole set-up as plain values (data, network, seed). `make_data` gives the four
XOR points or a noisy cloud around them, `build_xor_model` the compiled Keras network, and
`EpochRunner` trains it several epochs per compiled call: a `tf.function` loop over epochs and
mini-batches that returns the loss and binary accuracy of every epoch, the same numbers
`model.fit` logs, without fit's per-epoch overhead. `XorJob` keeps one model per session and
trains it on a worker thread; the page only reads `XorJob.snapshot()`.

TensorFlow and Keras are imported inside functions, so importing this module is fast.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from core.model import ACTIVATIONS, OPTIMIZERS, make_optimizer

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
XOR_TARGETS = np.array([0, 1, 1, 0], dtype="float32")

DATASETS = {"points": "The four XOR points", "cloud": "A noisy XOR cloud"}
LOSSES = {
    "mean_squared_error": "Mean squared error",
    "binary_crossentropy": "Binary cross-entropy",
}
MAX_HIDDEN_LAYERS = 4
DEFAULT_EPOCHS = 500  # seed 000 trains 500 epochs
GRID_RESOLUTION = 61  # points per side of the boundary heatmap
POINTS_RANGE = (-0.25, 1.25)  # the plane shown around the four points

# Each compiled call should last about this long: long enough to hide the per-call overhead,
# short enough that Stop answers and the boundary is redrawn several times a second.
SECONDS_PER_CALL = 0.1
MAX_EPOCHS_PER_CALL = 500
FIRST_EPOCHS_PER_CALL = 25  # then grown or shrunk to last SECONDS_PER_CALL
REDRAW_SECONDS = 0.2  # at most one new boundary per this many seconds (the page polls at 0.5)

DIVERGED_MESSAGE = (
    "The loss became {value:.4g} at epoch {epoch}: the weights blew up. Lower the learning "
    "rate (Adam works well at 0.001 to 0.03 here) and press Reset weights."
)


class XorSpecError(ValueError):
    """A spec value is out of range or unknown; the message says which and what is allowed."""


@dataclass
class XorSpec:
    """The XOR set-up as plain values. The defaults are seed 000's network and data."""

    data: str = "points"  # "points" (the four XOR points) or "cloud"
    cloud_points: int = 400
    noise: float = 0.15  # standard deviation of the cloud around each corner
    test_fraction: float = 0.3  # of the cloud, held out to test on
    batch_size: int = 32  # for the cloud; the four points are always one batch
    hidden_layers: int = 1
    units: int = 16
    activation: str = "relu"
    loss: str = "mean_squared_error"
    optimizer: str = "adam"
    learning_rate: float = 0.001
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.data not in DATASETS:
            raise XorSpecError(f"unknown data {self.data!r}; choose one of {', '.join(DATASETS)}.")
        if not 20 <= self.cloud_points <= 5000:
            raise XorSpecError(f"a cloud of {self.cloud_points} points; choose 20 to 5000.")
        if not 0.0 <= self.noise <= 1.0:
            raise XorSpecError(f"noise {self.noise}; choose 0 to 1 (0.15 keeps the corners apart).")
        if not 0.05 <= self.test_fraction <= 0.9:
            raise XorSpecError(
                f"test fraction {self.test_fraction}; hold out 0.05 to 0.9 of the cloud."
            )
        if not 1 <= self.batch_size <= 5000:
            raise XorSpecError(f"batch size {self.batch_size}; choose 1 to 5000.")
        if not 0 <= self.hidden_layers <= MAX_HIDDEN_LAYERS:
            raise XorSpecError(
                f"{self.hidden_layers} hidden layers; choose 0 to {MAX_HIDDEN_LAYERS}."
            )
        if not 1 <= self.units <= 256:
            raise XorSpecError(f"{self.units} units per hidden layer; choose 1 to 256.")
        if self.activation not in ACTIVATIONS:
            raise XorSpecError(
                f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}."
            )
        if self.loss not in LOSSES:
            raise XorSpecError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}.")
        if self.optimizer not in OPTIMIZERS:
            raise XorSpecError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        if not self.learning_rate > 0:
            raise XorSpecError(f"learning rate {self.learning_rate} must be above 0 (try 0.001).")
        if not 0 <= self.seed < 2**31:
            raise XorSpecError(f"seed {self.seed}; choose a whole number from 0 to 2**31 - 1.")

    def architecture(self) -> str:
        """A short name such as "2-16-1"."""
        return "-".join(str(n) for n in [2, *[self.units] * self.hidden_layers, 1])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> XorSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise XorSpecError(f"unknown fields {sorted(unknown)}; known fields: {sorted(known)}.")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> XorSpec:
        return cls.from_dict(json.loads(text))


# --- data -------------------------------------------------------------------------------------


@dataclass
class XorData:
    """Inputs (n, 2) and 0/1 targets (n, 1), float32; the test part is empty for the points."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    low: float  # the square [low, high]^2 of the plane to draw
    high: float
    batch_size: int

    @property
    def has_test(self) -> bool:
        return len(self.x_test) > 0


def xor_cloud(points: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`points` inputs scattered around the four corners (normal, sd `noise`) and their XOR.

    The corners take turns, so each holds a quarter of the cloud; a point's class is the XOR
    of its corner, so at high noise some points cross into a neighbour's side.
    """
    rng = np.random.default_rng(seed)
    corner = np.arange(points) % 4
    x = XOR_INPUTS[corner] + rng.normal(0.0, noise, size=(points, 2))
    return x.astype("float32"), XOR_TARGETS[corner].astype("float32")


def make_data(spec: XorSpec) -> XorData:
    """The four XOR points, or the noisy cloud split into train and test parts by the seed."""
    if spec.data == "points":
        empty = np.zeros((0, 2), dtype="float32")
        return XorData(
            XOR_INPUTS.copy(),
            XOR_TARGETS[:, None].copy(),
            empty,
            np.zeros((0, 1), dtype="float32"),
            *POINTS_RANGE,
            batch_size=len(XOR_INPUTS),
        )
    x, y = xor_cloud(spec.cloud_points, spec.noise, spec.seed)
    order = np.random.default_rng([spec.seed, 1]).permutation(len(x))
    n_test = max(1, int(round(len(x) * spec.test_fraction)))
    test, train = order[:n_test], order[n_test:]
    margin = 0.1
    low = min(POINTS_RANGE[0], float(x.min()) - margin)
    high = max(POINTS_RANGE[1], float(x.max()) + margin)
    return XorData(
        x[train], y[train, None], x[test], y[test, None], low, high, batch_size=spec.batch_size
    )


def epoch_orders(seed: int, first_epoch: int, epochs: int, n: int, shuffle: bool) -> np.ndarray:
    """The order of the training rows in each epoch, (epochs, n) int32.

    Epoch e's order depends only on the seed and e, so training 500 epochs at once or in
    steps of 1 sees the same batches.
    """
    if not shuffle:
        return np.tile(np.arange(n, dtype="int32"), (epochs, 1))
    rows = [
        np.random.default_rng([seed, 2, epoch]).permutation(n)
        for epoch in range(first_epoch, first_epoch + epochs)
    ]
    return np.asarray(rows, dtype="int32").reshape(epochs, n)


# --- model and boundary -----------------------------------------------------------------------


def make_loss(name: str):
    import keras

    table = {
        "mean_squared_error": keras.losses.MeanSquaredError,
        "binary_crossentropy": keras.losses.BinaryCrossentropy,
    }
    if name not in table:
        raise XorSpecError(f"unknown loss {name!r}; choose one of {', '.join(table)}.")
    return table[name](name=name)


def build_xor_model(spec: XorSpec):
    """Seed 000's network generalised: 2 inputs, `hidden_layers` x Dense(units), a sigmoid out.

    The weights come from `spec.seed`, so the same spec always starts from the same network.
    """
    import keras

    spec.validate()
    keras.utils.set_random_seed(spec.seed)
    layers = [keras.Input(shape=(2,), name="inputs")]
    for i in range(1, spec.hidden_layers + 1):
        layers.append(
            keras.layers.Dense(spec.units, activation=spec.activation, name=f"hidden_{i}")
        )
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="output"))
    model = keras.Sequential(layers, name=f"xor_{spec.architecture().replace('-', '_')}")
    model.compile(
        optimizer=make_optimizer(spec.optimizer, spec.learning_rate),
        loss=make_loss(spec.loss),
        metrics=[keras.metrics.BinaryAccuracy(name="binary_accuracy")],
    )
    return model


def grid_axis(low: float, high: float, resolution: int = GRID_RESOLUTION) -> np.ndarray:
    return np.linspace(low, high, resolution, dtype="float32")


def grid_points(axis: np.ndarray) -> np.ndarray:
    """Every (x1, x2) of the grid, row by row: row i holds x2 = axis[i], x1 running along."""
    x1, x2 = np.meshgrid(axis, axis)
    return np.column_stack([x1.ravel(), x2.ravel()]).astype("float32")


@dataclass
class Boundary:
    """The network's output over the plane: z[i, j] is the output at (axis[j], axis[i])."""

    axis: np.ndarray
    z: np.ndarray
    epoch: int


def predict_boundary(model, axis: np.ndarray, epoch: int = 0) -> Boundary:
    """The output at every grid point, in one batched call."""
    points = grid_points(axis)
    z = np.asarray(model(points, training=False), dtype="float32").reshape(len(axis), len(axis))
    return Boundary(axis=axis, z=z, epoch=epoch)


def predict_corners(model) -> np.ndarray:
    """The raw outputs on the four XOR inputs, shape (4,)."""
    return np.asarray(model(XOR_INPUTS, training=False), dtype="float32").reshape(-1)


def prediction_rows(outputs: np.ndarray | None) -> list[dict[str, Any]]:
    """Seed 000's printout as a table: each input, its target, the raw output, rounded."""
    rows = []
    for i, (x1, x2) in enumerate(XOR_INPUTS.astype(int)):
        target = int(XOR_TARGETS[i])
        raw = None if outputs is None else float(outputs[i])
        rounded = None if raw is None else int(raw >= 0.5)
        rows.append(
            {
                "input": f"({x1}, {x2})",
                "target": target,
                "raw output": raw,
                "rounded": rounded,
                "right?": None if rounded is None else ("✓" if rounded == target else "✗"),
            }
        )
    return rows


# --- the fast trainer -------------------------------------------------------------------------


class EpochRunner:
    """Trains `model` on `data` for any number of epochs in one compiled call.

    The loop runs Keras's own forward pass, loss and optimizer step for every mini-batch (the
    four points are one batch), and per epoch returns what `model.fit` would log: the loss
    weighted by batch size, the binary accuracy over the epoch, and on the test part (if any)
    the loss and accuracy at the epoch's end.
    """

    def __init__(self, model, data: XorData, seed: int, shuffle: bool) -> None:
        import tensorflow as tf

        self.model = model
        self.data = data
        self.seed = seed
        self.shuffle = shuffle
        self.n = len(data.x_train)
        model.optimizer.build(model.trainable_variables)
        self._function = tf.function(
            self._make_loop(), input_signature=[tf.TensorSpec([None, None], tf.int32)]
        )

    def _make_loop(self):
        import tensorflow as tf

        model, data = self.model, self.data
        optimizer, loss_function = model.optimizer, model.loss
        variables = model.trainable_variables
        x, y = tf.constant(data.x_train), tf.constant(data.y_train)
        x_test, y_test = tf.constant(data.x_test), tf.constant(data.y_test)
        n, batch_size, has_test = self.n, min(data.batch_size, self.n), data.has_test
        steps = math.ceil(n / batch_size)

        def correct(targets, outputs):
            return tf.reduce_sum(tf.cast(tf.equal(outputs > 0.5, targets > 0.5), tf.float32))

        def loop(order):
            epochs = tf.shape(order)[0]
            names = ("loss", "binary_accuracy", "test_loss", "test_binary_accuracy")
            arrays = {k: tf.TensorArray(tf.float32, size=epochs) for k in names}
            for epoch in tf.range(epochs):
                loss_sum = tf.constant(0.0)
                right = tf.constant(0.0)
                for step in tf.range(steps):
                    rows = order[epoch, step * batch_size : tf.minimum((step + 1) * batch_size, n)]
                    xb, yb = tf.gather(x, rows), tf.gather(y, rows)
                    with tf.GradientTape() as tape:
                        outputs = model(xb, training=True)
                        loss = loss_function(yb, outputs)
                    gradients = tape.gradient(loss, variables)
                    optimizer.apply(gradients, variables)
                    loss_sum += loss * tf.cast(tf.shape(rows)[0], tf.float32)
                    right += correct(yb, outputs)
                arrays["loss"] = arrays["loss"].write(epoch, loss_sum / n)
                arrays["binary_accuracy"] = arrays["binary_accuracy"].write(epoch, right / n)
                if has_test:
                    outputs = model(x_test, training=False)
                    test_loss = loss_function(y_test, outputs)
                    test_right = correct(y_test, outputs) / len(data.x_test)
                else:
                    test_loss = test_right = tf.constant(math.nan)
                arrays["test_loss"] = arrays["test_loss"].write(epoch, test_loss)
                arrays["test_binary_accuracy"] = arrays["test_binary_accuracy"].write(
                    epoch, test_right
                )
            return {k: v.stack() for k, v in arrays.items()}

        return loop

    def warm_up(self) -> None:
        """Trace the compiled loop now (zero epochs), so the first Train press is fast."""
        self._function(np.zeros((0, self.n), dtype="int32"))

    def run(self, first_epoch: int, epochs: int) -> dict[str, np.ndarray]:
        """Train epochs first_epoch+1 .. first_epoch+epochs; per-epoch logs as numpy arrays."""
        order = epoch_orders(self.seed, first_epoch, epochs, self.n, self.shuffle)
        return {k: v.numpy() for k, v in self._function(order).items()}


# --- the job the page keeps -------------------------------------------------------------------

HISTORY_METRICS = ("loss", "binary_accuracy", "test_loss", "test_binary_accuracy")


@dataclass
class XorSnapshot:
    """A consistent copy of the job's state, safe to read on the script thread."""

    status: str = "empty"  # empty, building, training, idle, failed
    message: str = ""
    spec: XorSpec | None = None
    data: XorData | None = None
    epoch: int = 0  # epochs trained since the last reset
    first_epoch: int = 0  # where the current (or last) training began
    target_epoch: int = 0  # where the current training ends
    history: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in HISTORY_METRICS}
    )
    boundary: Boundary | None = None
    corner_outputs: np.ndarray | None = None
    seconds: float = 0.0  # training time of the current (or last) job
    first_redraw_seconds: float | None = None  # from Train to the first boundary after it
    version: int = 0

    @property
    def running(self) -> bool:
        return self.status in ("building", "training")

    @property
    def fraction_done(self) -> float:
        span = self.target_epoch - self.first_epoch
        return 1.0 if span <= 0 else min(1.0, (self.epoch - self.first_epoch) / span)

    def last(self, metric: str) -> float | None:
        values = self.history[metric]
        return values[-1] if values and not math.isnan(values[-1]) else None


class XorJob:
    """One XOR network per session, trained on a worker thread, never the script thread.

    `reset(spec)` builds the network from the spec's seed; `train(epochs)` continues training
    the same network; `stop()` ends training after the current compiled call. Neither blocks:
    a reset while a job runs stops that job, and the new worker waits for it to end. Each job
    carries a generation number, and writes from a job that a reset has replaced are dropped.
    The workers write only under the lock; `snapshot()` returns a copy.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = XorSnapshot()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.spec: XorSpec | None = None
        self.model = None  # read it only while no job runs
        self.runner: EpochRunner | None = None
        self._axis = grid_axis(*POINTS_RANGE)
        self.error: BaseException | None = None

    # reading

    def snapshot(self) -> XorSnapshot:
        with self._lock:
            return copy.deepcopy(self._state)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    # commands from the page

    def reset(self, spec: XorSpec | None = None) -> None:
        """Rebuild the network from `spec` (or the current spec) and its seed, on a worker."""
        spec = spec or self.spec or XorSpec()
        spec.validate()
        data = make_data(spec)
        self.spec = spec
        self._stop.set()  # a running job ends after its current compiled call
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._state = XorSnapshot(
                status="building",
                message=f"Building the {spec.architecture()} network from seed {spec.seed}…",
                spec=spec,
                data=data,
                version=self._state.version + 1,
            )
        self._start(self._build, generation, spec, data)

    def train(self, epochs: int, epochs_per_second: float | None = None) -> bool:
        """Train `epochs` more epochs; False (and nothing started) while a job runs.

        `epochs_per_second` slows training down to that pace so the boundary can be watched;
        None trains as fast as the machine goes.
        """
        if self.running:
            return False
        if self.spec is None:
            raise RuntimeError("The job has no network yet; call reset(spec) before train().")
        epochs = int(epochs)
        if not 1 <= epochs <= 100_000:
            raise ValueError(f"{epochs} epochs asked for; train 1 to 100000 at a time.")
        with self._lock:
            state = self._state
            if state.status == "failed" and self.runner is None:
                return False  # the build failed; only a reset can help
            generation, first = self._generation, state.epoch
            state.status = "training"
            state.message = f"Training epochs {first + 1} to {first + epochs}…"
            state.first_epoch, state.target_epoch = first, first + epochs
            state.first_redraw_seconds = None
            state.version += 1
        self._start(self._train, generation, epochs, epochs_per_second)
        return True

    def stop(self) -> None:
        self._stop.set()

    # the workers

    def _start(self, target, generation: int, *args) -> None:
        previous, stop = self._thread, threading.Event()
        self._stop = stop

        def work() -> None:
            from core import gradient_registry

            if previous is not None:
                previous.join()  # one worker at a time owns the model
            try:
                gradient_registry.track()
                target(generation, stop, *args)
            except Exception as error:  # the page shows it; the thread must not die silently
                self.error = error
                detail = "".join(traceback.format_exception_only(type(error), error)).strip()
                self._update(generation, status="failed", message=f"Training failed: {detail}")
            finally:
                gradient_registry.release()  # else TensorFlow keeps every traced loop

        self._thread = threading.Thread(target=work, name="xor-train", daemon=True)
        self._thread.start()

    def _update(self, generation: int, **changes) -> bool:
        """Apply `changes` to the state, unless a reset has replaced this job."""
        with self._lock:
            if generation != self._generation:
                return False
            for name, value in changes.items():
                setattr(self._state, name, value)
            self._state.version += 1
            return True

    def _build(self, generation: int, stop: threading.Event, spec: XorSpec, data: XorData) -> None:
        self.runner = None
        model = build_xor_model(spec)
        runner = EpochRunner(model, data, spec.seed, shuffle=spec.data == "cloud")
        runner.warm_up()
        self.model, self.runner = model, runner
        self._axis = grid_axis(data.low, data.high)
        self._update(
            generation,
            status="idle",
            message=f"Untrained {spec.architecture()} network from seed {spec.seed}.",
            boundary=predict_boundary(model, self._axis, 0),
            corner_outputs=predict_corners(model),
        )

    def _train(
        self,
        generation: int,
        stop: threading.Event,
        epochs: int,
        epochs_per_second: float | None,
    ) -> None:
        started = time.perf_counter()
        with self._lock:
            first = self._state.epoch
        done, last_redraw, fastest = 0, 0.0, math.inf  # fastest: seconds per epoch seen
        chunk = (
            max(1, round(epochs_per_second * REDRAW_SECONDS))
            if epochs_per_second
            else FIRST_EPOCHS_PER_CALL
        )
        while done < epochs and not stop.is_set():
            size = min(chunk, epochs - done)
            call_started = time.perf_counter()
            logs = self.runner.run(first + done, size)
            took = time.perf_counter() - call_started
            finite = np.isfinite(logs["loss"])
            if not finite.all():
                bad = int(np.argmin(finite))
                self._record(generation, logs, bad, started)
                self._redraw(generation, started)
                message = DIVERGED_MESSAGE.format(
                    value=float(logs["loss"][bad]), epoch=first + done + bad + 1
                )
                self._update(generation, status="failed", message=message)
                return
            done += size
            if not self._record(generation, logs, size, started):
                return  # a reset replaced this job
            if time.perf_counter() - last_redraw >= REDRAW_SECONDS or done >= epochs:
                self._redraw(generation, started)
                last_redraw = time.perf_counter()
            if epochs_per_second:
                stop.wait(max(0.0, started + done / epochs_per_second - time.perf_counter()))
            else:
                # Size the next call from the fastest epochs seen, not the last call: a call
                # that waited for the GIL (Streamlit collects garbage after every script
                # run) must not shrink the calls, or every later call waits as long.
                fastest = min(fastest, max(took, 1e-5) / size)
                chunk = int(np.clip(SECONDS_PER_CALL / fastest, 1, MAX_EPOCHS_PER_CALL))
        self._redraw(generation, started)
        total = first + done
        if done >= epochs:
            message = f"Trained {done} epochs ({total} since the last reset)."
        else:
            message = f"Stopped by you after {done} epochs ({total} since the last reset)."
        self._update(generation, status="idle", message=message, target_epoch=total)

    def _record(self, generation: int, logs: dict, count: int, started: float) -> bool:
        """Append the first `count` epochs of a compiled call's logs to the history."""
        with self._lock:
            if generation != self._generation:
                return False
            state = self._state
            for name in HISTORY_METRICS:
                state.history[name].extend(float(v) for v in logs[name][:count])
            state.epoch += count
            state.seconds = time.perf_counter() - started
            state.version += 1
            return True

    def _redraw(self, generation: int, started: float) -> None:
        """Predict the boundary and the four corners now (the worker owns the model)."""
        with self._lock:
            epoch = self._state.epoch
        boundary = predict_boundary(self.model, self._axis, epoch)
        corners = predict_corners(self.model)
        with self._lock:
            if generation != self._generation:
                return
            state = self._state
            state.boundary, state.corner_outputs = boundary, corners
            if state.first_redraw_seconds is None and epoch > 0:
                state.first_redraw_seconds = time.perf_counter() - started
            state.version += 1
