"""The browser tests' Streamlit server: its small data set, the server on a free port, its store.

`Server` runs `streamlit run app.py` in its own process group on a data folder and a run store
of its own; it is started, warmed up, killed and restarted here. Every wait here waits for a
condition (the server answering, the home page showing), never for a fixed time; the timeout
is generous because the machine is small and shared and TensorFlow's first import takes
seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import expect

from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
TRAIN_DIGITS = 2000
TEST_DIGITS = 500

START_SECONDS = 120  # a server starting (the machine may be busy)


# ----- data --------------------------------------------------------------------------------


def small_data_is_mnist() -> bool:
    """Whether the browser tests' small data set is real MNIST digits (`write_small_mnist`).
    Made-up patch digits, where MNIST is absent, teach a network no handwriting: what it reads
    in a drawn digit is then any digit."""
    return (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists()


def write_small_mnist(folder: Path) -> str:
    """2,000 training and 500 test digits as gzip IDX files in `folder`; returns their origin.

    They come from the real MNIST where it is present, else from made-up patch digits.
    """
    from core.mnist.data import load_mnist, subset
    from tests.support.digits import patch_digits, write_idx_folder

    folder.mkdir(parents=True, exist_ok=True)
    if small_data_is_mnist():
        data, origin = subset(load_mnist(SHARED_MNIST), TRAIN_DIGITS, TEST_DIGITS), "mnist"
    else:
        data, origin = patch_digits(n_train=TRAIN_DIGITS, n_test=TEST_DIGITS), "synthetic"
    write_idx_folder(folder, data)
    return origin


# ----- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """`streamlit run app.py` in its own process group, with its data and run store."""

    data: Path
    home: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start the server and wait until it answers."""
        self.launch()
        self.wait_healthy()
        return self

    def launch(self) -> None:
        """Start the server's process, not waiting for it to answer (`wait_healthy`)."""
        env = {
            **os.environ,
            "MNIST_DATA": str(self.data),
            "KERAS_PLAYGROUND_HOME": str(self.home),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one at the end
            )

    def wait_healthy(self, timeout: float = START_SECONDS) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {self.process.returncode}; its log:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer,
            ):
                return answer.status == 200
            return False

        eventually(
            healthy, timeout, interval=0.2, message=f"streamlit did not answer on {self.url}"
        )

    def warm_up(self, browser) -> None:
        """Load the home page once: the first session starts the app's Keras import.

        `browser` is a Browser or a BrowserContext: the page is opened with its `new_page` and
        closed after (a Browser's page has a context of its own, closed with it; a context
        keeps the app's scripts in its cache for the pages opened in it later).
        (While the pages lived in a folder named pages/, this was also what made a fresh
        server route deep links such as /train through app.py; see the deep-link test.)
        """
        page = browser.new_page()
        try:
            page.goto(self.url + "/")
            expect(page.get_by_text("Where to start")).to_be_visible(timeout=START_SECONDS * 1000)
        finally:
            page.close()

    def kill(self, sig: int = signal.SIGKILL, grace: float = 20) -> None:
        """Send `sig` to the whole process group and wait for the server to end (SIGKILL after
        `grace` seconds)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGKILL to the whole process group: after SIGTERM a server took seconds to exit,
        and nothing is read from it once stopped (its run store is SQLite's, safe from a
        kill; a restart test reads the store the stopped server left, as after a crash)."""
        self.kill(signal.SIGKILL)

    def restart(self, data: Path | None = None) -> Server:
        """Kill the server (SIGKILL, mid-whatever) and start it again on the same port and
        run store; on `data` if given. Its first session after the restart is a test's."""
        self.kill()
        if data is not None:
            self.data = data
        return self.start()

    def rss_bytes(self) -> int:
        """Resident memory of the server and every process it started."""
        import psutil

        root = psutil.Process(self.process.pid)
        total = 0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total


# ----- the server's run store --------------------------------------------------------------


def store(server: Server):
    """The server's run store, read from the test (SQLite allows both at once)."""
    from core.runs.store import RunStore

    return RunStore(server.home)


def run_ids(server: Server) -> list[str]:
    return [run.id for run in store(server).list_runs()]


def saved_files(home: Path) -> dict[str, int]:
    """Every file of the run store with its size (the database's WAL files aside)."""
    return {
        str(path.relative_to(home)): path.stat().st_size
        for path in sorted(home.rglob("*"))
        if path.is_file() and "runs.sqlite3" not in path.name
    }
