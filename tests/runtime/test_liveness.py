"""Process liveness: a run's owner is a process id plus its start time."""

from __future__ import annotations

import subprocess
import sys

from core.runtime.liveness import owner_alive, process_started, this_process


def test_this_process_owns_its_runs():
    pid, started = this_process()
    assert owner_alive(pid, started)
    assert this_process() == (pid, started)  # looked up once


def test_a_process_that_ended_owns_nothing():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_started(child.pid) is None
    assert not owner_alive(child.pid, None)


def test_a_reused_process_id_is_not_the_owner():
    pid, started = this_process()
    assert not owner_alive(pid, started - 3600.0)  # same id, a process started an hour before
    assert not owner_alive(None, started) and not owner_alive(0, started)
