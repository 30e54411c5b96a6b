"""TensorFlow imported from several threads at once, as a fresh server does (core.runtime.tf_import)."""

import functools
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A fresh process: one thread imports Keras (the server's background import) while others
# start on TensorFlow through the app's thread entries: the gradient registry (every training
# job's and every network built ahead's first step) and `tensorflow()`. Without
# core.runtime.tf_import, the registry's direct import of tensorflow.python deadlocks against the
# Keras import: Python hands one thread a half-made module and both imports fail.
SCRIPT = textwrap.dedent(
    """
    import gc
    import threading
    import weakref

    from core.runtime import gradient_registry
    from core.runtime.tf_import import tensorflow

    assert gc.get_freeze_count() == 0
    results = {}

    def run(name, call):
        try:
            results[name] = call()
        except Exception as error:
            results[name] = repr(error)

    def keras_version():
        import keras
        return keras.__version__

    threads = [
        threading.Thread(target=run, args=("keras", keras_version)),
        threading.Thread(target=run, args=("registry", gradient_registry.available)),
        threading.Thread(target=run, args=("tensorflow", lambda: tensorflow().constant(2).numpy())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(results)
    assert results["registry"] is True, results
    assert results["tensorflow"] == 2, results
    assert isinstance(results["keras"], str) and results["keras"][0].isdigit(), results

    # The private seed state (tests/runtime/test_seeding.py), before anything has seeded (a
    # server's first build), in the same fresh process (one TensorFlow import fewer).
    from core.runtime import seeding
    print("seeding available:", seeding.available())

    # The first `tensorflow()` froze what the import made; a model built afterwards is still
    # freed by a collection (the jobs' end-of-run collection must not leak models).
    frozen = gc.get_freeze_count()
    assert frozen > 100_000, frozen  # TensorFlow's and Keras's objects
    tensorflow()
    assert gc.get_freeze_count() == frozen  # once

    from core.nets.model import ModelSpec, build_model

    model = build_model(ModelSpec(layers=[{"type": "Dense", "units": 8}], epochs=1))
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None, "a model built after the import was not freed"
    print("frozen once, later models freed")
    """
)


def run_fresh(script: str) -> str:
    """Run `script` in a fresh Python process (nothing imported yet); it must succeed. What
    it printed."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout


@functools.cache
def fresh_server_process() -> str:
    """What SCRIPT printed, run once for the tests here."""
    return run_fresh(SCRIPT)


def test_tensorflow_imported_from_three_threads_at_once():
    fresh_server_process()


def test_the_import_is_frozen_and_later_models_are_still_freed():
    """The first `tensorflow()` (in SCRIPT's fresh process, on a thread) freezes what the
    import made, once; a model built afterwards is still freed by a collection."""
    assert "frozen once, later models freed" in fresh_server_process().splitlines()


def test_the_private_seed_state_is_there_in_a_fresh_process():
    """tests/runtime/test_seeding.py checks it in this process; a fresh server seeds before
    anything else has (its first build), with Keras imported as the server imports it."""
    assert "seeding available: True" in fresh_server_process().splitlines()
