"""course.experiments.preprocessing: the 2-D cloud of lab 02's explorer and its stages of preprocessing."""
import numpy as np
import pytest

from course import preprocess
from course.experiments import STAGES, cloud_draws, cloud_mean, correlated_cloud, preprocessing_stages


def test_the_cloud_has_the_asked_correlation_spreads_and_centre():
    draws = cloud_draws(20_000, seed=0)
    X = correlated_cloud(draws, correlation=-0.6, offset=4.0, spread_ratio=0.25)
    assert X.shape == (20_000, 2)
    np.testing.assert_allclose(X.mean(axis=0), cloud_mean(4.0), atol=0.05)
    np.testing.assert_allclose(X.std(axis=0), [2.0, 0.5], rtol=0.02)
    assert np.corrcoef(X.T)[0, 1] == pytest.approx(-0.6, abs=0.02)
    np.testing.assert_allclose(correlated_cloud(draws, 0.0, 0.0, 4.0).std(axis=0), [0.5, 2.0], rtol=0.02)
    with pytest.raises(ValueError, match="correlation must be < 1"):
        correlated_cloud(draws, correlation=1.0)


def test_stages_use_the_training_statistics_for_the_test_split():
    train = correlated_cloud(cloud_draws(200, 0))
    test = correlated_cloud(cloud_draws(20, 1))
    s = preprocessing_stages(train, test, eps=1e-5)
    assert list(s.train) == list(STAGES) == list(s.test)
    np.testing.assert_allclose(s.mean, train.mean(axis=0))
    np.testing.assert_allclose(s.test["standardized"], (test - s.mean) / s.std)
    projected, components, variance = preprocess.pca(train)
    np.testing.assert_allclose(s.train["decorrelated (PCA)"], projected)
    np.testing.assert_allclose(s.test["whitened"], (test - s.mean) @ components / np.sqrt(variance + 1e-5))
    np.testing.assert_allclose(np.cov(s.train["whitened"].T, bias=True), np.eye(2), atol=1e-4)


def test_own_test_statistics_are_the_mistake_made_visible():
    train = correlated_cloud(cloud_draws(200, 0))
    test = correlated_cloud(cloud_draws(2, 1))
    s = preprocessing_stages(train, test, own_test_statistics=True)
    np.testing.assert_allclose(np.abs(s.test["standardized"]), 1)  # two points always land on ±1
    np.testing.assert_allclose(s.mean, train.mean(axis=0))  # the training statistics are still reported


def test_a_students_functions_are_called():
    calls = []

    def center(X, mean=None):
        calls.append(mean is None)
        return preprocess.center(X, mean)

    preprocessing_stages(correlated_cloud(cloud_draws(50)), correlated_cloud(cloud_draws(5, 1)), center=center)
    assert calls == [True, False]  # fitted on the training split, reused on the test split
