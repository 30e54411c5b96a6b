"""Running an experiment's trials on a Ray cluster, as many at once as it has room for.

Optional: `pip install -r requirements-ray.txt`. With an address (`RAY_ADDRESS`, or the field
on the Experiments page) the runner hands each trial to `RayBackend`, which submits it as a
Ray task (`train_on_worker`, one CPU each). The worker trains it with the same `TrainingJob`
and `RunRecorder` as the app, but the recorder writes into a `RemoteStore`: each write
(epochs so far, model file, the end of the run) becomes an event sent to the `EventSink`
actor, which this process drains about twice a second into the local run store. So the runs,
their curves and models appear on Runs as they happen, exactly as local ones do.

The MNIST arrays go to the cluster once (`ray.put`), so workers need no data files; they
need Python with the app's requirements and Ray, and this folder's `core` package, which Ray
ships to them (`py_modules`). A task whose worker dies (a killed process, a lost node) raises
on `ray.get`; the backend marks its run failed and reports it "lost", and the runner tries the
trial once more on another run, then gives up on it, and the experiment goes on.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from core.experiments.backend import Outcome
from core.experiments.baselines import BaselineJob
from core.nets.model import ModelSpec
from core.training.job import TrainingJob

CPUS_PER_RUN = 1
STOP_CHECK_SECONDS = 0.5
ADDRESS_VARIABLE = "RAY_ADDRESS"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401  # Ray is optional
    except ImportError:
        return False
    return True


class BytesModel:
    """A model file's bytes made on a worker, saved by the store like a Keras model."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)


class RemoteStore:
    """Stands in for `RunStore` on a worker: the recorder's writes become events."""

    def __init__(self, sink, run_id: str) -> None:
        self.sink = sink
        self.run_id = run_id
        self.write_errors: list[str] = []

    def _send(self, kind: str, *args, **kwargs) -> bool:
        self.sink.put.remote((self.run_id, kind, args, kwargs))
        return True

    def write_progress(self, run_id, history, batches, **values) -> bool:
        return self._send("write_progress", history, list(batches), **values)

    def save_model(self, run_id, model, epochs: int) -> bool:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            return self._send("save_model", path.read_bytes(), epochs)

    def finish_run(self, run_id, status, message, **values) -> bool:
        return self._send("finish_run", status, message, **values)

    def log_failure(self, what: str, error: BaseException) -> None:
        self.write_errors.append(f"{what}: {error}")


def _sink_class():
    import ray  # Ray is optional

    @ray.remote(num_cpus=0)
    class EventSink:
        """Events from the workers, in order, until the driver drains them; stop requests."""

        def __init__(self) -> None:
            self.events: list = []
            self.stops: set[str] = set()

        def put(self, event) -> None:
            self.events.append(event)

        def drain(self) -> list:
            events, self.events = self.events, []
            return events

        def request_stop(self, run_id: str) -> None:
            self.stops.add(run_id)

        def should_stop(self, run_id: str) -> bool:
            return run_id in self.stops

    return EventSink


def train_on_worker(spec_json: str, run_id: str, data, sink) -> dict:
    """The Ray task: train one run with the app's own job and recorder, writing via events."""
    import ray  # Ray is optional

    from core.runs.recorder import RunRecorder  # Keras: not at start-up

    sink.put.remote((run_id, "started", (os.getpid(),), {}))
    spec = ModelSpec.from_json(spec_json)
    remote = RemoteStore(sink, run_id)
    job = TrainingJob(spec, data, run_id=run_id, callbacks=[RunRecorder(remote, run_id)])
    job.start()
    while not job.join(timeout=STOP_CHECK_SECONDS):
        if ray.get(sink.should_stop.remote(run_id)):
            job.stop()
    ray.get(sink.put.remote((run_id, "ended", (), {})))  # every event is in before we return
    return {"pid": os.getpid(), "error": str(job.error) if job.error else ""}


def connect(address: str | None = None, **init_options) -> None:
    """Join the cluster at `address` (None: $RAY_ADDRESS, else a new local one), shipping the
    `core` package to its workers; does nothing if this process is connected already."""
    import ray  # Ray is optional

    if ray.is_initialized():
        return
    core_package = str(Path(__file__).resolve().parent)
    ray.init(
        address=address or os.environ.get(ADDRESS_VARIABLE) or None,
        runtime_env={"py_modules": [core_package]},
        logging_level="WARNING",
        log_to_driver=False,
        **init_options,
    )


class RayBackend:
    """Submits trials as Ray tasks; drains their events into the local store."""

    name = "ray"

    def __init__(self, store, data, address: str | None = None, cpus_per_run: int = CPUS_PER_RUN):
        import ray  # Ray is optional

        self.store = store
        self.data = data
        self.address = address
        self.cpus_per_run = cpus_per_run
        connect(address)
        self._ray = ray
        self.sink = _sink_class().remote()
        self._data_ref = ray.put(data)
        self._task = ray.remote(train_on_worker).options(
            num_cpus=cpus_per_run, max_retries=0, retry_exceptions=False
        )
        self._refs: dict[str, object] = {}  # run id -> task ref
        self.pids: dict[str, int] = {}  # run id -> the worker process training it
        self.epochs: dict[str, int] = {}  # run id -> epochs stored so far
        self._baselines: dict[str, object] = {}

    def capacity(self) -> int:
        cpus = self._ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus // self.cpus_per_run))

    def launch(self, trial, spec, run_id: str) -> str:
        if trial.baseline:  # scikit-learn baselines are quick: they run here
            job = BaselineJob(self.store, self.data, trial.baseline, trial.seed, run_id)
            self._baselines[run_id] = job.start()
            return run_id
        self.epochs[run_id] = 0
        self._refs[run_id] = self._task.remote(spec.to_json(), run_id, self._data_ref, self.sink)
        return run_id

    def poll(self, timeout: float) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        deadline = time.monotonic() + timeout
        while True:
            self.drain()
            for run_id, job in list(self._baselines.items()):
                if not job.alive:
                    del self._baselines[run_id]
                    outcomes[run_id] = Outcome("failed" if job.error else "finished")
            refs = list(self._refs.values())
            if refs:
                wait_for = max(0.0, min(0.5, deadline - time.monotonic()))
                ready, _ = self._ray.wait(refs, num_returns=1, timeout=wait_for)  # the first to end
                for run_id, ref in list(self._refs.items()):
                    if ref in ready:
                        del self._refs[run_id]
                        outcomes[run_id] = self._outcome(run_id, ref)
            elif not outcomes:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
            if outcomes or time.monotonic() >= deadline:
                return outcomes

    def _outcome(self, run_id: str, ref) -> Outcome:
        try:
            result = self._ray.get(ref)
        except (self._ray.exceptions.RayError, OSError) as error:
            self.drain()
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            message = (
                f"The Ray worker training it died after {self.epochs.get(run_id, 0)} epochs "
                f"({type(error).__name__}{': ' + first[:200] if first else ''})."
            )
            self.store.finish_run(run_id, "failed", message)
            return Outcome("lost", message)
        self.drain()
        return Outcome("failed" if result.get("error") else "finished", result.get("error", ""))

    def drain(self) -> None:
        """Write every event the workers have sent into the local store, in order."""
        for run_id, kind, args, kwargs in self._ray.get(self.sink.drain.remote()):
            if kind == "started":
                self.pids[run_id] = args[0]
            elif kind == "write_progress":
                self.store.write_progress(run_id, *args, **kwargs)
                self.epochs[run_id] = kwargs.get("epochs_done", 0)
            elif kind == "save_model":
                self.store.save_model(run_id, BytesModel(args[0]), args[1])
            elif kind == "finish_run":
                self.store.finish_run(run_id, *args, **kwargs)

    def job(self, run_id: str):
        return self._baselines.get(run_id)

    def abandon(self) -> None:
        for run_id in self._refs:
            self.sink.request_stop.remote(run_id)

    def close(self) -> None:
        self.drain()
