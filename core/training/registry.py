"""Every training job of this process by run id, so a run outlives a page switch."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.training.job import TrainingJob


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
        """Drop finished jobs beyond the newest `keep`, so their models can be freed, and the
        owners (browser sessions) whose job is dropped."""
        with self._lock:
            finished = [rid for rid, job in self._jobs.items() if not job.alive]
            for rid in finished[:-keep] if keep else finished:
                del self._jobs[rid]
            self._owners = {owner: rid for owner, rid in self._owners.items() if rid in self._jobs}


JOBS = JobRegistry()
