"""The playground's words say what the set-up does: with several classes, the loss in use."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.plane.explanations import explanation
from core.plane.spec import DATASETS, PLANE_LOSSES, PlaneSpec


@pytest.mark.parametrize("loss", list(PLANE_LOSSES))
@pytest.mark.parametrize("data", list(DATASETS))
def test_the_words_name_the_loss_in_use_and_never_another(data, loss):
    spec = replace(PlaneSpec(), data=data, loss=loss)
    words = " ".join(explanation(spec).split())
    if spec.n_classes == 2:
        assert "The loss is" not in words
        return
    assert f"**The loss is {PLANE_LOSSES[loss].lower()}**" in words
    if loss == "mean_squared_error":
        assert "Cross-entropy is the usual loss for classes" in words
