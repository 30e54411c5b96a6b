"""core/plane_spec: the playground's one flat spec of plain values."""

from __future__ import annotations

import json

import pytest

from core.plane.spec import FEATURES, MAX_PLANE_LAYERS, PlaneSpec, PlaneSpecError


def test_defaults_are_seed_000s_network_on_the_four_points():
    spec = PlaneSpec()
    assert (spec.data, spec.hidden_layers, spec.units, spec.activations) == (
        "points",
        1,
        [16],
        ["relu"],
    )
    assert (spec.loss, spec.optimizer, spec.learning_rate, spec.seed) == (
        "mean_squared_error",
        "adam",
        1e-3,
        0,
    )
    assert spec.features == ["x1", "x2"] and spec.architecture() == "2-16-1"


def test_every_value_is_plain_and_round_trips():
    spec = PlaneSpec(data="blobs", classes=4, hidden_layers=3, units_2=5, sin_x1=True)
    values = spec.to_dict()
    assert all(type(v) in (str, int, float, bool) for v in values.values())
    assert PlaneSpec.from_json(json.dumps(values)) == spec
    assert spec.architecture() == "3-16-5-8-4"
    assert spec.n_classes == spec.outputs == 4


def test_text_values_as_a_url_gives_them_are_read():
    text = {
        name: str(value).lower() for name, value in PlaneSpec(x1_squared=True).to_dict().items()
    }
    assert PlaneSpec.from_dict(text) == PlaneSpec(x1_squared=True)
    with pytest.raises(PlaneSpecError, match="hidden_layers is '1.5'; it takes int"):
        PlaneSpec.from_dict({"hidden_layers": "1.5"})
    with pytest.raises(PlaneSpecError, match="x1 is 'maybe'; it takes bool"):
        PlaneSpec.from_dict({"x1": "maybe"})


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"data": "moons"}, "choose one of points, cloud, circle, gaussians, spiral, blobs"),
        ({"hidden_layers": MAX_PLANE_LAYERS + 1}, "choose 0 to 6 hidden layers"),
        ({"units_3": 0}, "units_3 is 0; choose 1 to 32"),
        ({"activation_2": "softplus"}, "unknown activation_2 'softplus'"),
        ({"loss": "hinge"}, "choose one of mean_squared_error, crossentropy"),
        ({"regularization": "l3"}, "choose one of none, l1, l2"),
        ({"learning_rate": 0.0}, "try 0.001"),
        ({"x1": False, "x2": False}, "turn on at least one"),
        ({"classes": 2}, "classes is 2; choose 3 to 6"),
    ],
)
def test_bad_values_say_what_to_choose(changes, words):
    with pytest.raises(PlaneSpecError, match=words):
        PlaneSpec(**changes)


def test_all_problems_are_named_at_once_and_unknown_fields_refused():
    spec = PlaneSpec()
    spec.dropout, spec.batch_size = 2.0, 0
    assert len(spec.problems()) == 2
    with pytest.raises(PlaneSpecError, match="colour"):
        PlaneSpec.from_dict({"colour": "blue"})


def test_features_follow_their_switches_in_table_order():
    spec = PlaneSpec(x1=False, sin_x2=True, x1_times_x2=True)
    assert spec.features == ["x2", "x1_times_x2", "sin_x2"]
    assert len(PlaneSpec(**dict.fromkeys(FEATURES, True)).features) == 7
