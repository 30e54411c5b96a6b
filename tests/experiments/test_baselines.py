"""Baselines: the same split as the networks, scores equal to scikit-learn run directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import core.experiments.baselines
from core.experiments.baselines import (
    BaselineJob,
    create_baseline_run,
    logistic_as_keras,
    train_baseline,
)
from core.inside.evaluation import confusion_matrix, cross_entropy, predict_probabilities
from core.runs.sklearn_file import SklearnModel, load_baseline
from core.runs.store import RunStore, file_sha256
from core.training.prepared import prepare
from tests.support.digits import patch_digits


@pytest.fixture(scope="module")
def digits():
    return patch_digits(n_train=500, n_test=200, seed=5)


def test_random_forest_matches_scikit_learn_on_the_networks_split(digits):
    result = train_baseline(digits, "random_forest", seed=3)
    split = prepare(digits, 0.1, 3)  # the split a network with seed 3 trains on
    direct = RandomForestClassifier(
        n_estimators=result.model.estimator.n_estimators, n_jobs=-1, random_state=3
    ).fit(split.x_train, split.y_train.argmax(axis=1))
    expected = direct.predict_proba(split.x_test)
    assert np.allclose(result.test_probabilities, expected, atol=1e-6)
    assert result.test_accuracy == pytest.approx((expected.argmax(1) == digits.y_test).mean())
    val = (direct.predict(split.x_val) == split.y_val.argmax(1)).mean()
    assert result.val_accuracy == pytest.approx(val)
    assert result.test_accuracy > 0.9  # the patches are easy


def test_logistic_regression_is_stored_as_the_same_keras_network(digits):
    result = train_baseline(digits, "logistic_regression", seed=0)
    split = prepare(digits, 0.1, 0)
    direct = LogisticRegression(C=1.0, max_iter=100, random_state=0).fit(
        split.x_train, split.y_train.argmax(1)
    )
    expected = direct.predict_proba(split.x_test)
    keras_probabilities = predict_probabilities(result.model, digits.x_test)
    assert np.allclose(keras_probabilities, expected, atol=1e-4)
    assert result.test_accuracy == pytest.approx((expected.argmax(1) == digits.y_test).mean())
    assert [w.shape for w in result.model.get_weights()] == [(784, 10), (10,)]


def test_keras_conversion_fills_classes_never_seen():
    rng = np.random.default_rng(0)
    x = rng.random((60, 784)).astype(np.float32)
    y = np.repeat([0, 3, 7], 20)
    estimator = LogisticRegression(max_iter=50).fit(x, y)
    model = logistic_as_keras(estimator)
    out = np.asarray(model.predict_on_batch(x))
    assert out.shape == (60, 10)
    assert np.allclose(out[:, [0, 3, 7]].sum(1), 1, atol=1e-3)  # unseen digits get ~0
    wrapped = SklearnModel(estimator).predict_on_batch(x)
    assert np.allclose(wrapped[:, [0, 3, 7]], estimator.predict_proba(x), atol=1e-6)


def test_a_stored_forest_is_loaded_only_if_unchanged(digits, tmp_path):
    result = train_baseline(digits, "random_forest", seed=1)
    path = tmp_path / "run.joblib"
    result.model.save(path)
    digest = file_sha256(path)
    loaded = load_baseline(path, digest)
    x = digits.x_test.reshape(len(digits.x_test), -1).astype(np.float32) / 255
    assert np.allclose(loaded.predict_on_batch(x), result.model.predict_on_batch(x))
    assert np.allclose(predict_probabilities(loaded, digits.x_test), result.test_probabilities)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ValueError, match="checksum"):
        load_baseline(path, digest)


@pytest.mark.parametrize("kind", ["random_forest", "logistic_regression"])
def test_a_baseline_is_a_run_pages_can_use(digits, tmp_path, kind):
    store = RunStore(tmp_path)
    run_id = create_baseline_run(store, kind, 4, digits, f"{kind} seed 4", experiment_id="e1")
    job = BaselineJob(store, digits, kind, 4, run_id).start()
    assert job.join(120) and job.error is None
    run = store.get(run_id)
    assert run.status == "completed" and run.experiment_id == "e1"
    assert run.test_accuracy == pytest.approx(job.result.test_accuracy)
    # One definition of test loss for every kind of run (a network's: core.training.job).
    assert run.test_loss == cross_entropy(job.result.test_probabilities, digits.y_test)
    assert run.val_accuracy == pytest.approx(job.result.val_accuracy)
    expected = confusion_matrix(digits.y_test, job.result.test_probabilities.argmax(1))
    assert np.array_equal(run.confusion, expected)
    assert run.spec_dict["model"] == kind and run.spec_dict["seed"] == 4
    assert run.spec is None  # not a network: Compare shows its architecture, not default layers
    model = store.load_model(run_id, compile=False)  # what Evaluate and Draw use
    assert np.allclose(
        predict_probabilities(model, digits.x_test), job.result.test_probabilities, atol=1e-4
    )
    suffix = ".joblib" if kind == "random_forest" else ".keras"
    assert store.model_path(run_id).suffix == suffix


def test_a_baseline_that_fails_is_stored_as_failed_with_its_reason(digits, tmp_path, monkeypatch):
    """The job base captures the failure: the run says why, the job keeps the error."""

    def broken(*args, **kwargs):
        raise MemoryError("no room for 60 trees")

    monkeypatch.setattr(core.experiments.baselines, "train_baseline", broken)
    store = RunStore(tmp_path)
    run_id = create_baseline_run(store, "random_forest", 1, digits, "forest seed 1")
    job = BaselineJob(store, digits, "random_forest", 1, run_id).start()
    assert job.join(60) and isinstance(job.error, MemoryError)
    run = store.get(run_id)
    assert run.status == "failed" and "no room for 60 trees" in run.message
    assert not run.has_model
