"""Where a run starts when not from its spec's seed: a stored run's state, or pinned weights.

A `TrainingJob` given a `StartFrom` still builds its model from its own spec (compiled as
always, so its traced steps and learning-rate schedule are the spec's), then `apply` gives it
its starting state before the first batch:

- continue: `load_state()` returns the stored model (its .keras file, loaded in safe mode),
  whose every weight and optimizer variable (step count, moments, learning rate) the new
  model takes (`core.training.tracing.copy_state`); `fit` then starts at `initial_epoch`, and
  the epochs before (`history`, `batches`) are drawn first on the live curves and kept first
  in the new run's history, so its curves carry on where the stored run stopped.
- rewind: `weights` are the layer weights another run started from (`model.weights`, in
  order); the new model takes them and a fresh optimizer, so two runs differ only in the
  settings the learner changed.

`weights_fingerprint` names a set of starting weights (a SHA-256 of their shapes, types and
bytes), so two runs that started from the same weights can be told apart from two that did not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.nets.layers import output_shape
from core.nets.layers import weight_shapes as layer_weight_shapes
from core.nets.model import NUM_CLASSES, ModelSpec
from core.training.monitor import EPOCH_METRICS
from core.training.tracing import copy_state


class StartMismatchError(ValueError):
    """The starting weights do not fit the network; the message says where and what to do."""


@dataclass(frozen=True)
class StartFrom:
    """A run's starting state other than its spec's seed (see the module's docstring)."""

    load_state: Callable[[], Any] | None = None  # continue: the stored model to carry on from
    weights: tuple[np.ndarray, ...] | None = None  # rewind: the layer weights to start from
    initial_epoch: int = 0  # epochs already trained (continue)
    history: dict[str, list[float]] = field(default_factory=dict)  # those epochs' curves
    batches: tuple[tuple[float, float, float], ...] = ()
    source: str = ""  # where the state comes from, in words ("run #3 after 5 epochs")
    run_id: str | None = None  # the stored run it comes from (the run store names it)

    def apply(self, model) -> None:
        """Give `model` (built from the run's spec) this starting state."""
        if self.load_state is not None:
            stored = self.load_state()
            try:
                copy_state(stored, model)
            except ValueError as error:
                raise StartMismatchError(
                    f"The model of {self.source} does not fit this network ({error}). Continue "
                    "keeps the network and its optimizer; train a new run to change them."
                ) from error
        if self.weights is not None:
            pin_weights(model, self.weights, self.source)

    def outcome(self, done: int) -> str:
        """What a continued run's end adds to its outcome, after `done` epochs in all."""
        if not self.initial_epoch:
            return ""
        own = max(0, done - self.initial_epoch)
        return f" Continued from {self.source}: {own} epoch{'' if own == 1 else 's'} here."

    def carried_history(self) -> dict[str, list[float]]:
        """The epochs before this run's first, metric by metric (empty lists if none)."""
        return {
            name: list(self.history.get(name, []))[: self.initial_epoch] for name in EPOCH_METRICS
        }


def weight_shapes(spec: ModelSpec) -> list[tuple[int, ...]]:
    """The shapes of `model.weights` of the model `spec` builds, in order, worked out from the
    layers alone (no Keras): each layer's (`core.nets.layers.weight_shapes`), then the output's."""
    shapes: list[tuple[int, ...]] = []
    shape = spec.input_shape
    for position, layer in enumerate(spec.layers, start=1):
        shapes += layer_weight_shapes(layer, shape)
        shape = output_shape(layer, shape, position)
    return [*shapes, *layer_weight_shapes({"type": "Dense", "units": NUM_CLASSES}, shape)]


def mismatch(shapes: Sequence[tuple[int, ...]], spec: ModelSpec, source: str) -> str | None:
    """Why starting weights of `shapes` cannot start `spec`'s network (None: they fit)."""
    wanted = weight_shapes(spec)
    if [tuple(s) for s in shapes] == wanted:
        return None
    where = next(
        (i for i, (a, b) in enumerate(zip(shapes, wanted, strict=False)) if tuple(a) != b),
        min(len(shapes), len(wanted)),
    )
    if where < min(len(shapes), len(wanted)):
        detail = (
            f"weight {where + 1} is {_dims(shapes[where])} there and would be "
            f"{_dims(wanted[where])} here"
        )
    else:
        detail = f"they are {len(shapes)} weight arrays, this network has {len(wanted)}"
    return (
        f"The starting weights of {source} do not fit this network: {detail}. Rewind keeps the "
        "layers and their sizes; change another setting (learning rate, optimizer, batch size, "
        "dropout rate, seed of the batches…), or unpin the weights to start from the seed's."
    )


def _dims(shape: Sequence[int]) -> str:
    return " × ".join(str(n) for n in shape)


def pin_weights(model, weights: Sequence[np.ndarray], source: str = "the pinned run") -> None:
    """Set `model.weights` to `weights`; `StartMismatchError` if they do not fit."""
    shapes = [tuple(np.shape(w)) for w in weights]
    if shapes != [tuple(v.shape) for v in model.weights]:
        raise StartMismatchError(
            f"The starting weights of {source} do not fit this network ("
            f"{len(shapes)} arrays against {len(model.weights)}). Rewind keeps the layers and "
            "their sizes."
        )
    for variable, value in zip(model.weights, weights, strict=True):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def weights_fingerprint(weights: Sequence[np.ndarray]) -> str:
    """A SHA-256 (hex) of the weights' shapes, types and bytes, in order."""
    digest = hashlib.sha256()
    for array in weights:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
