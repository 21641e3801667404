"""Lab 02's preprocessing experiment: a correlated, off-centre 2-D point cloud taken through the stages of
preprocessing (centred, standardized, decorrelated by PCA, whitened), with a test split transformed by the
statistics of the training split (or, to see the mistake, by its own).

Points are made from standard normal draws fixed once (:func:`cloud_draws`), so a new correlation or offset costs
a 2x2 matrix product: x = mean + u @ L^T, where L L^T is the covariance (:func:`correlated_cloud`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course import preprocess
from course._validate import check_int, check_scalar

__all__ = ["STAGES", "Stages", "cloud_draws", "cloud_mean", "correlated_cloud", "preprocessing_stages"]

STAGES = ("original", "centred", "standardized", "decorrelated (PCA)", "whitened")
CLOUD_DIRECTION = np.array([1.0, 0.5])  # the cloud's centre moves along this direction as the offset grows
LARGER_STD = 2.0  # the std of the wider feature


def cloud_draws(n: int, seed: int | None = 0) -> np.ndarray:
    """(N, 2) standard normal draws, the raw material of :func:`correlated_cloud`."""
    return np.random.default_rng(seed).standard_normal((check_int(n, "n"), 2))


def cloud_mean(offset: float) -> np.ndarray:
    """(2,) the centre of the cloud: ``offset * (1, 0.5)``."""
    return check_scalar(offset, "offset") * CLOUD_DIRECTION


def correlated_cloud(draws: np.ndarray, correlation: float = 0.8, offset: float = 5.0,
                     spread_ratio: float = 0.5) -> np.ndarray:
    """(N, 2) points with the given correlation between the two features, centred at ``cloud_mean(offset)``.

    Inputs:
    - draws: (N, 2) standard normal draws (:func:`cloud_draws`)
    - correlation: rho in (-1, 1)
    - offset: how far the centre lies from the origin (along (1, 0.5))
    - spread_ratio: std of feature 2 / std of feature 1 (> 0); the wider feature has std 2

    The covariance is [[s1^2, rho s1 s2], [rho s1 s2, s2^2]], and x = mean + draws @ L^T with its Cholesky
    factor L = [[s1, 0], [rho s2, s2 sqrt(1 - rho^2)]].
    """
    rho = check_scalar(correlation, "correlation", low=-1, high=1, low_open=True, high_open=True)
    ratio = check_scalar(spread_ratio, "spread_ratio", low=0, low_open=True)
    s1, s2 = LARGER_STD * min(1.0, 1.0 / ratio), LARGER_STD * min(1.0, ratio)
    factor = np.array([[s1, 0.0], [rho * s2, s2 * np.sqrt(1 - rho * rho)]])
    return cloud_mean(offset) + np.asarray(draws, dtype=np.float64) @ factor.T


@dataclass(frozen=True)
class Stages:
    """Both splits at every stage of preprocessing.

    - train, test: dict stage name (one of STAGES) -> (N, 2) and (N_test, 2) points
    - mean, std: (2,) the training split's statistics; components: (2, 2) its principal directions (columns);
      explained_variance: (2,) the variance along each
    """
    train: dict
    test: dict
    mean: np.ndarray
    std: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray


def _transform(X, eps, center, standardize, pca, whiten, fitted=None):
    """X at every stage; with ``fitted`` (statistics of another split) the transformations reuse them."""
    if fitted is None:
        centred, mean = center(X)
        standardized, _, std = standardize(X)
        projected, components, variance = pca(X)
    else:
        centred, mean = center(X, fitted.mean)
        standardized, _, std = standardize(X, fitted.mean, fitted.std)
        components, variance = fitted.components, fitted.explained_variance
        projected = centred @ components
    stages = dict(zip(STAGES, (X, centred, standardized, projected, whiten(projected, variance, eps))))
    return stages, mean, std, components, variance


def preprocessing_stages(train: np.ndarray, test: np.ndarray, eps: float = 1e-5, own_test_statistics: bool = False,
                         center=preprocess.center, standardize=preprocess.standardize, pca=preprocess.pca,
                         whiten=preprocess.whiten) -> Stages:
    """Take a training split (N, 2) and a test split (N_test, 2) through :data:`STAGES`.

    The training split's statistics (mean, std, principal directions and variances) are computed once and
    applied to both splits; with ``own_test_statistics`` the test split is transformed with statistics computed
    from itself instead: the mistake, which makes each test point's result depend on the other test points.
    ``eps`` is whitening's epsilon. The four functions follow course.preprocess (a student's may be passed).
    """
    eps = check_scalar(eps, "eps", low=0)
    stages, mean, std, components, variance = _transform(train, eps, center, standardize, pca, whiten)
    fitted = Stages(stages, {}, mean, std, components, variance)
    test_stages = _transform(test, eps, center, standardize, pca, whiten,
                             None if own_test_statistics else fitted)[0]
    return Stages(stages, test_stages, mean, std, components, variance)
