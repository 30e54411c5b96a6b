"""core/plane_data: each dataset against its definition, the split, the seed."""

from __future__ import annotations

import numpy as np
import pytest

from core.plane.data import (
    BLOB_RADIUS,
    CIRCLE_RADIUS,
    GAUSSIAN_CENTRE,
    SPIRAL_RADIUS,
    XOR_INPUTS,
    XOR_TARGETS,
    draw_points,
    epoch_orders,
    make_data,
)
from core.plane.spec import PlaneSpec


def test_four_points_are_one_batch_without_a_test_part():
    data = make_data(PlaneSpec())
    np.testing.assert_array_equal(data.x_train, XOR_INPUTS)
    np.testing.assert_array_equal(data.y_train[:, 0], [0, 1, 1, 0])
    assert data.batch_size == 4 and not data.has_test
    assert (data.low, data.high) == (-0.25, 1.25)


@pytest.mark.parametrize(
    ("data", "classes"),
    [("cloud", 2), ("circle", 2), ("gaussians", 2), ("spiral", 2), ("blobs", 3), ("blobs", 5)],
)
def test_classes_are_balanced(data, classes):
    x, labels = draw_points(PlaneSpec(data=data, samples=301, classes=max(3, classes)))
    counts = np.bincount(labels, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    assert x.shape == (301, 2) and x.dtype == np.float32


def test_cloud_labels_are_the_xor_of_the_nearest_corner():
    x, labels = draw_points(PlaneSpec(data="cloud", noise=0.1, seed=3))
    nearest = np.argmin(((x[:, None, :] - XOR_INPUTS[None]) ** 2).sum(-1), axis=1)
    # with sd 0.1 a point crosses halfway (0.5) to a neighbour only about once in 3.5 million
    np.testing.assert_array_equal(labels, XOR_TARGETS[nearest])


def test_circle_without_noise_keeps_the_disc_and_the_ring():
    x, labels = draw_points(PlaneSpec(data="circle", noise=0.0, samples=1000))
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[labels == 1].max() <= 0.5 * CIRCLE_RADIUS + 1e-5
    inner_ring = radius[labels == 0]
    assert (
        inner_ring.min() >= 0.7 * CIRCLE_RADIUS - 1e-5 and inner_ring.max() <= CIRCLE_RADIUS + 1e-5
    )
    noisy, _ = draw_points(PlaneSpec(data="circle", noise=0.3, samples=1000))
    assert np.hypot(noisy[:, 0], noisy[:, 1]).max() > CIRCLE_RADIUS  # noise moves points out


def test_gaussians_and_blobs_lie_around_their_centres():
    x, labels = draw_points(PlaneSpec(data="gaussians", noise=0.0, samples=2000))
    np.testing.assert_allclose(x[labels == 1].mean(0), [GAUSSIAN_CENTRE] * 2, atol=0.1)
    np.testing.assert_allclose(x[labels == 0].mean(0), [-GAUSSIAN_CENTRE] * 2, atol=0.1)
    x, labels = draw_points(PlaneSpec(data="blobs", classes=4, noise=0.0, samples=2000))
    centres = np.stack([x[labels == c].mean(0) for c in range(4)])
    np.testing.assert_allclose(np.hypot(*centres.T), BLOB_RADIUS, atol=0.1)
    np.testing.assert_allclose(centres[0], [0, BLOB_RADIUS], atol=0.1)  # the first at the top


def test_spiral_arms_grow_out_to_their_radius_half_a_turn_apart():
    x, labels = draw_points(PlaneSpec(data="spiral", noise=0.0, samples=400))
    radius = np.hypot(x[:, 0], x[:, 1])
    for c in (0, 1):
        arm = radius[labels == c]
        assert np.all(np.diff(arm) > 0) and arm.max() < SPIRAL_RADIUS
    np.testing.assert_allclose(x[labels == 0], -x[labels == 1], atol=1e-5)  # point symmetry


def test_the_seed_and_sample_fix_the_data():
    spec = PlaneSpec(data="spiral", seed=5)
    first, again = make_data(spec), make_data(spec)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    other_sample = make_data(PlaneSpec(data="spiral", seed=5, sample=1))
    other_seed = make_data(PlaneSpec(data="spiral", seed=6))
    assert not np.array_equal(first.x_train, other_sample.x_train)
    assert not np.array_equal(first.x_train, other_seed.x_train)


def test_split_is_disjoint_and_follows_the_test_fraction():
    data = make_data(PlaneSpec(data="blobs", samples=200, test_fraction=0.25, classes=3))
    assert len(data.x_train) == 150 and len(data.x_test) == 50
    both = np.concatenate([data.x_train, data.x_test])
    assert len(np.unique(both, axis=0)) == 200
    assert data.y_train.shape == (150, 3)  # one-hot for three classes
    np.testing.assert_array_equal(data.y_train.sum(1), 1.0)
    assert data.low <= both.min() and both.max() <= data.high
    two = make_data(PlaneSpec(data="circle"))
    assert two.y_train.shape[1] == 1 and set(np.unique(two.y_train)) == {0.0, 1.0}


def test_epoch_orders_do_not_depend_on_how_training_is_split():
    whole = epoch_orders(seed=1, first_epoch=0, epochs=5, n=30, shuffle=True)
    parts = np.concatenate([epoch_orders(1, 0, 2, 30, True), epoch_orders(1, 2, 3, 30, True)])
    np.testing.assert_array_equal(whole, parts)
    assert all(sorted(row) == list(range(30)) for row in whole)
    np.testing.assert_array_equal(epoch_orders(1, 0, 2, 4, False), [[0, 1, 2, 3]] * 2)
