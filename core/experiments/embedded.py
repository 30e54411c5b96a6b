"""Training an experiment's trials in this process, one after another, as the Train page does."""

from __future__ import annotations

import time

from core.experiments.backend import Outcome
from core.experiments.baselines import BaselineJob
from core.experiments.store import Trial
from core.training.job import TrainingJob, build_ahead
from core.training.registry import JOBS
from core.training.warm_start import WARM_STARTS, WarmStarts

POLL_SECONDS = 0.2


class EmbeddedBackend:
    """Trains each trial in this process with `TrainingJob`, one at a time."""

    name = "embedded"

    def __init__(self, store, data, warm_starts=None) -> None:
        self.store = store
        self.data = data
        self._jobs: dict[str, object] = {}
        self._next_spec = None  # the next run's, to build ahead (`prepare`)
        # Its own builder, with no wait for settings to rest (the Train page's waits half a
        # second), sharing the traced models kept for the Train page's runs.
        self.warm_starts = warm_starts or WarmStarts(delay=0, pool=WARM_STARTS.pool)

    def capacity(self) -> int:
        return 1

    def launch(self, trial: Trial, spec, run_id: str) -> str:
        if trial.baseline:
            job = BaselineJob(self.store, self.data, trial.baseline, trial.seed, run_id).start()
        else:
            from core.runs.recorder import RunRecorder  # Keras: not at start-up

            def make_job() -> TrainingJob:
                recorder = RunRecorder(self.store, run_id)
                return TrainingJob(
                    spec,
                    self.data,
                    run_id=run_id,
                    callbacks=[recorder],
                    warm_starts=self.warm_starts,
                )

            # Registered like the Train page's runs, so Evaluate and Draw can follow it.
            JOBS.forget_finished(keep=4)
            job = JOBS.start(make_job, owner=f"experiment:{trial.experiment_id}")
        self._jobs[run_id] = job
        return run_id

    def prepare(self, spec) -> None:
        """Have the next run's model built, and its data made tensors and batches, before it
        starts; its `TrainingJob` takes them (core.training.warm_start, the Train page's own way to
        start at once). A network's steps are traced for its first run only: its later runs
        (other seeds, learning rates) train the traced model kept from it.

        Asked for the moment the run under way has finished training (`_training`), so the
        work is done beside its test pass and saving, which leave a core free, not beside its
        training, which uses them all (asked for as the run started, it took its processor
        time from that run)."""
        self._next_spec = spec

    def _training(self) -> object | None:
        """The run under way while it is still training (not yet testing or saving), if any."""
        for job in self._jobs.values():
            monitor = getattr(job, "monitor", None)  # a baseline has none: nothing to wait for
            if monitor is not None and job.alive and not monitor.training_over:
                return job
        return None

    def _request_next(self) -> None:
        if self._next_spec is None or self._training() is not None:
            return
        spec, self._next_spec = self._next_spec, None
        build_ahead(spec, self.data, self.warm_starts)

    def poll(self, timeout: float) -> dict[str, Outcome]:
        deadline = time.monotonic() + timeout
        while True:
            self._request_next()
            done = {rid: job for rid, job in self._jobs.items() if not job.alive}
            left = deadline - time.monotonic()
            if done or left <= 0 or not self._jobs:
                break
            wait = min(POLL_SECONDS, left)
            training = self._training() if self._next_spec is not None else None
            if training is not None:  # wake the moment its training ends: prepare the next
                training.monitor.wait_training_ended(wait)
            else:  # wake the moment the run ends (no polling delay between queued runs)
                next(iter(self._jobs.values())).join(timeout=wait)
        outcomes = {}
        for run_id, job in done.items():
            del self._jobs[run_id]
            error = getattr(job, "error", None)
            outcomes[run_id] = Outcome("failed" if error else "finished", str(error or ""))
        return outcomes

    def job(self, run_id: str):
        return self._jobs.get(run_id)

    def abandon(self) -> None:
        for job in self._jobs.values():
            job.stop()

    def close(self) -> None:
        self.warm_starts.close()  # nothing more to build; a build under way ends first
