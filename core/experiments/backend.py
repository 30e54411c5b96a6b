"""What the experiment runner asks of a backend that trains its trials, and what it hears back.

Two backends keep this contract: `core.experiments.embedded.EmbeddedBackend` (here, one run at a
time) and `core.experiments.ray_backend.RayBackend` (a Ray cluster, several at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Outcome:
    """How a launched trial ended, as its backend saw it."""

    status: str  # completed, failed, stopped (abandoned), lost (its worker died)
    message: str = ""


class Backend(Protocol):
    """Trains the trials the runner launches and says how each ended."""

    name: str

    def capacity(self) -> int:
        """How many trials it can train at once."""

    def launch(self, trial, spec, run_id: str) -> str:
        """Start training `trial` (with `spec`) as the stored run `run_id`; returns the run id."""

    def poll(self, timeout: float) -> dict[str, Outcome]:
        """Wait up to `timeout` seconds; the runs that ended meanwhile, with their outcomes."""

    def job(self, run_id: str):
        """The job training `run_id` here, if any (pages follow its curves)."""

    def abandon(self) -> None:
        """Stop every run under way."""

    def close(self) -> None:
        """Release what the backend holds; nothing is launched afterwards."""
