"""core/runtime/jobs: the base of every job the pages start, and the heaps glibc keeps for them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from core.runtime.jobs import BACKGROUND_NICENESS, BackgroundJob
from tests.conftest import REPO


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


# Threads that allocate at the same moment, in a fresh process; prints how many heaps glibc
# made for them (malloc_info lists one <heap> per arena).
HEAPS = """
import ctypes, sys, threading
from core.runtime.jobs import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas()
barrier = threading.Barrier(12)
def allocate():
    barrier.wait()
    for _ in range(2000):
        buffers = [bytearray(3000) for _ in range(20)]
threads = [threading.Thread(target=allocate) for _ in range(12)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
out = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(open(sys.argv[2]).read().count("<heap nr="))
"""


def heaps(tmp_path, mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", HEAPS, mode, str(tmp_path / f"{mode}.xml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heaps")
def test_the_server_s_threads_share_two_heaps(tmp_path):
    """Each thread that allocated at once got a heap of its own, which kept what was freed
    in it: 1 to 3 MB a run in bench/memory.py's server (issue 29)."""
    assert heaps(tmp_path, "default") > 2  # the check can see glibc make more
    assert heaps(tmp_path, "limited") <= 2
