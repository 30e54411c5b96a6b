"""Starting a recorded run: a row in the run store, then its training job with a recorder."""

from __future__ import annotations

from core.mnist.data import MNIST
from core.nets.model import ModelSpec
from core.runs.lineage import record_lineage
from core.runs.recorder import RunRecorder
from core.runs.replay_store import replay_recorder
from core.training.job import TrainingJob
from core.training.registry import JOBS, JobRegistry
from core.training.starting import StartFrom


def start_recorded_run(
    store,
    spec: ModelSpec,
    data: MNIST,
    *,
    owner: str | None = None,
    name: str | None = None,
    registry: JobRegistry = JOBS,
    callbacks: tuple | list = (),
    starting: StartFrom | None = None,
) -> TrainingJob:
    """Record a new run in `store` and train it on a background job registered in `registry`.

    The run's row is created only once the registry has agreed to start it, so a refused
    second click leaves nothing behind. Raises `TrainingBusyError` while `owner` trains.
    `callbacks` are further Keras callbacks for this run (the Train page's weight and
    gradient norms, core.inside.dynamics.LayerNorms); the recorder always comes first, then
    the replay's (core.runs.replay_store). `starting`: a stored run's state to continue, or
    weights to rewind to (core.runs.lineage), recorded as the new run's lineage.
    """

    def make_job() -> TrainingJob:
        run_id = store.create_run(spec, data.description, name=name)
        if starting is not None:
            record_lineage(store, run_id, starting)
        recorder = RunRecorder(store, run_id, starting)
        recorders = [recorder, replay_recorder(store, run_id, data)]
        job = TrainingJob(
            spec, data, run_id=run_id, callbacks=[*recorders, *callbacks], starting=starting
        )
        recorder.steering = job.steer  # what the learner changes is stored with the run
        return job

    registry.forget_finished(keep=4)
    return registry.start(make_job, owner=owner)
