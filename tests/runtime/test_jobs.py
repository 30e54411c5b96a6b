"""core/runtime/jobs: the base of every job the pages start, run on a background thread."""

import os
import sys
import threading

import pytest

from core.runtime.jobs import BACKGROUND_NICENESS, BackgroundJob


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_background_work_runs_below_the_page_s_priority():
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    seen = []

    class Probe(BackgroundJob):
        def work(self, stop):
            seen.append(niceness())

    before = niceness()
    job = Probe().start()
    assert job.join(timeout=30)
    assert seen == [max(before, BACKGROUND_NICENESS)]
    assert niceness() == before  # the calling thread (the page's) keeps its own
