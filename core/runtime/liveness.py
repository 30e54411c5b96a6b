"""Which process owns a running run: a process id plus its start time, so a reused id does not
count as the owner. psutil tells the start time; without it, a live id is taken as the owner.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

STALE_IMPORT_SECONDS = 3600


def process_started(pid: int) -> float | None:
    """The process's start time; None if it is gone; -1.0 if it lives but the time is unknown."""
    try:
        import psutil  # psutil: slow to import; only when an owner is checked
    except ImportError:  # pragma: no cover - psutil ships with the app's environment
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return -1.0
        return -1.0
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return -1.0


_THIS_PROCESS: dict[int, float | None] = {}


def this_process() -> tuple[int, float | None]:
    """This process's id and start time (looked up once per process)."""
    pid = os.getpid()
    if pid not in _THIS_PROCESS:
        _THIS_PROCESS[pid] = process_started(pid)
    return pid, _THIS_PROCESS[pid]


def owner_alive(pid: int | None, started: float | None) -> bool:
    """Whether the process that recorded (`pid`, `started`) still runs."""
    if not pid:
        return False
    now_started = process_started(int(pid))
    if now_started is None:
        return False
    if now_started < 0 or started is None or started < 0:
        return True
    return abs(now_started - started) < 1.0  # a different start time: the id was reused


def remove_leftovers(models_dir: Path, home: Path) -> None:
    """Remove what dead processes left half-done: temporary model files (named after their
    process id) and import folders older than an hour (an import cut short by a kill)."""
    for partial in models_dir.glob("*.partial.*"):
        pid = partial.name.split(".")[1].split("-")[0]
        if pid.isdigit() and not owner_alive(int(pid), None):
            partial.unlink(missing_ok=True)
    for scratch in home.glob("import-*"):
        if time.time() - scratch.stat().st_mtime > STALE_IMPORT_SECONDS:
            shutil.rmtree(scratch, ignore_errors=True)
