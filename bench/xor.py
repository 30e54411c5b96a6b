"""Seed 000's XOR: plain `model.fit` for 500 epochs against the XOR page's compiled trainer.

    python bench/xor.py [--repeats 3] [--cloud]

Every path trains the seed's network (2-16-1, relu, sigmoid, mean squared error, Adam) for
500 epochs on the four XOR points, in this process, one after the other in each repeat so they
share the machine's load. Figures are medians over the repeats, in seconds.

- plain fit: `build_xor_model` then `model.fit(x, y, epochs=500, batch_size=4)`, as seed 000
  does it; the time includes fit's tracing, as it does for the person running the seed.
- Train press: what the page's Train button costs on a built network: `XorJob.train(500)`
  until the worker ends, with the curves and the boundary recorded on the way.
- from scratch: a new `XorJob`: build the model, trace the compiled loop, then train 500.
- first redraw: from `train(500)` to the first boundary of the trained network in the job's
  snapshot (the page shows it at its next poll, at most 0.5 s later).

--cloud adds the same comparison on the noisy cloud (280 training points, batches of 32).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from core.xor import XorJob, XorSpec, build_xor_model, make_data  # noqa: E402

EPOCHS = 500


def plain_fit(spec: XorSpec) -> tuple[float, list[float]]:
    data = make_data(spec)
    model = build_xor_model(spec)
    started = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=data.batch_size,
        epochs=EPOCHS,
        shuffle=spec.data == "cloud",
        verbose=0,
    ).history
    return time.perf_counter() - started, history["loss"]


def job_runs(spec: XorSpec) -> dict[str, float | list[float]]:
    started = time.perf_counter()
    job = XorJob()
    job.reset(spec)
    job.join()
    built = time.perf_counter()
    job.train(EPOCHS)
    job.join()
    done = time.perf_counter()
    snapshot = job.snapshot()
    assert snapshot.epoch == EPOCHS, snapshot.message
    return {
        "train press": done - built,
        "from scratch": done - started,
        "first redraw": snapshot.first_redraw_seconds,
        "loss": snapshot.history["loss"],
        "right": int(((snapshot.corner_outputs >= 0.5) == [0, 1, 1, 0]).sum()),
    }


def compare(spec: XorSpec, repeats: int, label: str) -> None:
    fits, ours = [], []
    for repeat in range(repeats):
        seconds, fit_loss = plain_fit(spec)
        fits.append(seconds)
        ours.append(job_runs(spec))
        print(
            f"  repeat {repeat + 1}: plain fit {seconds:.2f} s, Train press "
            f"{ours[-1]['train press']:.3f} s, from scratch {ours[-1]['from scratch']:.2f} s",
            flush=True,
        )
    fit = statistics.median(fits)
    rows = [("plain model.fit, 500 epochs", fit)]
    for name, title in (
        ("train press", "Train press: XorJob.train(500), model built"),
        ("from scratch", "from scratch: build + trace + 500 epochs"),
    ):
        rows.append((title, statistics.median(run[name] for run in ours)))
    print(f"\n{label}: seed {spec.seed}, {spec.architecture()}, medians of {repeats}")
    print(f"  {'path':<46} {'seconds':>9} {'faster':>8}")
    for title, seconds in rows:
        print(f"  {title:<46} {seconds:>9.3f} {fit / seconds:>7.1f}x")
    redraw = statistics.median(run["first redraw"] for run in ours)
    print(f"  {'first boundary redraw after Train':<46} {redraw:>9.3f}")
    difference = np.max(np.abs(np.asarray(fit_loss) - np.asarray(ours[-1]["loss"])))
    order = "" if spec.data == "points" else " (fit shuffles its own way)"
    print(f"  largest gap between the two loss curves{order}: {difference:.2g}")
    if spec.data == "points":
        print(f"  rounded predictions right after 500 epochs: {ours[-1]['right']} of 4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cloud", action="store_true", help="also time the noisy cloud")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    compare(XorSpec(), args.repeats, "four XOR points")
    if args.cloud:
        compare(XorSpec(data="cloud"), args.repeats, "noisy cloud, 280 training points")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
