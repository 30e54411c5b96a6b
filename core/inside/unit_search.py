"""Which test images excite a unit most: what the unit responds to, shown by example.

`rank_units` runs the test images through the network once, up to one layer, and keeps for
every unit of that layer the `k` images with the largest response (a dense unit's output, a
feature map's largest value). The result is small ((units, k) indices and values), so a page
can cache it per model and layer and answer any unit at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOP_K = 12


@dataclass(frozen=True, eq=False)
class TopImages:
    """For each unit of one layer, the indices of its `k` most exciting images, best first."""

    layer_name: str
    indices: np.ndarray  # (units, k) int64 indices into the images ranked
    values: np.ndarray  # (units, k) float32 responses, descending along each row
    mean: np.ndarray  # (units,) float32 mean response over all images
    silent: np.ndarray  # (units,) bool: the unit never responds (0 for every image)

    @property
    def units(self) -> int:
        return len(self.indices)

    def for_unit(self, unit: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= unit < self.units:
            raise ValueError(
                f"unit {unit} does not exist in {self.layer_name}; choose 0 to {self.units - 1}."
            )
        return self.indices[unit], self.values[unit]


def top_images(responses: np.ndarray, k: int = TOP_K, layer_name: str = "layer") -> TopImages:
    """The `k` largest responses per unit from responses (n_images, units), best first.

    Equal responses keep the lower image index first, so the ranking is reproducible.
    """
    responses = np.asarray(responses, dtype=np.float32)
    if responses.ndim != 2 or len(responses) == 0:
        raise ValueError(
            f"responses have shape {responses.shape}; pass (images, units) with one image or more."
        )
    k = min(int(k), len(responses))
    by_unit = responses.T  # (units, n)
    # argpartition finds the top k in linear time; only those k are then sorted.
    candidates = np.argpartition(-by_unit, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(by_unit, candidates, axis=1)
    order = np.lexsort((candidates, -values), axis=1)
    indices = np.take_along_axis(candidates, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    indices = _resolve_ties(by_unit, indices, values)
    return TopImages(
        layer_name=layer_name,
        indices=indices.astype(np.int64),
        values=np.take_along_axis(by_unit, indices, axis=1),
        mean=by_unit.mean(axis=1),
        silent=~np.any(by_unit != 0, axis=1),
    )


def _resolve_ties(by_unit: np.ndarray, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where the k-th value ties with images left out, pick the lowest indices among the tied.

    (argpartition keeps an arbitrary subset of equal values; a dead ReLU unit answers 0 for
    every image, and its "top" images should then be the first ones, not a random choice.)
    """
    k = indices.shape[1]
    threshold = values[:, -1]
    tied_everywhere = (by_unit == threshold[:, None]).sum(axis=1)
    tied_kept = (values == threshold[:, None]).sum(axis=1)
    for unit in np.flatnonzero(tied_everywhere > tied_kept):
        row = by_unit[unit]
        above = np.flatnonzero(row > threshold[unit])
        above = above[np.lexsort((above, -row[above]))]
        tied = np.flatnonzero(row == threshold[unit])[: k - len(above)]
        indices[unit] = np.concatenate([above, tied])
    return indices


def rank_units(inspector: Any, images: np.ndarray, layer: Any, k: int = TOP_K) -> TopImages:
    """Each unit of `layer` (a `LayerInfo` of `inspector`) and its `k` most exciting images."""
    responses = inspector.unit_responses(images, layer)
    return top_images(responses, k, layer_name=layer.name)
