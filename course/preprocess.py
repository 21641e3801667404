"""Data preprocessing and augmentation.

Statistics are fitted on the training data only and then applied unchanged to validation and test data: every
function that computes a statistic returns it, and accepts it back::

    X_train, mean = center(X_train)
    X_val, _ = center(X_val, mean)          # the training mean, never the validation set's own

The mean is taken per feature over the N examples, ``X.mean(axis=0)`` for X of shape (N, D). Some lecture notes
write ``X -= np.mean(X, axis=1)`` (and ``np.std(X, axis=1)``): that averages each example over its own features,
which is a different operation (and does not even broadcast for N != D); axis=0 is meant.

For images (N, C, H, W), ``center`` subtracts the mean image (C, H, W) (as in AlexNet) and ``center_channels`` the
per-channel mean (C,) (as in VGG).

Augmentation functions take image batches (N, C, H, W) and a random generator ``rng`` (a numpy Generator, a
seed, or None for a fresh unseeded one), draw one random transformation per image, and return a new batch of the
same shape and dtype.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from course._numeric import moments, pow2_scale, scale_of, stable_mean
from course._validate import as_float_array, check_finite, check_in_range, check_ndim, check_int, check_scalar


def _examples(X, name="X"):
    X = as_float_array(X, name)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, D) or (N, C, H, W) with N >= 1; got {X.shape}")
    check_finite(X, name)
    return X


def _statistic(stat, X, shape, name):
    """A statistic passed back in (from the training data), checked against the shape it must have for X."""
    stat = as_float_array(stat, name)
    if stat.shape != shape:
        raise ValueError(f"{name} must have shape {shape} to match X of shape {X.shape}; got {stat.shape}")
    check_finite(stat, name)
    return stat


def _centred(X, mean):
    """X - mean, raising OutOfRangeError (not warning) where the difference is beyond the float range."""
    with np.errstate(over="ignore"):
        Xc = X - mean
    check_in_range(Xc, "X - mean", X, mean, advice="values this far apart cannot be centred")
    return Xc


def center(X, mean=None):
    """Mean subtraction per feature: X - mean, with mean = X.mean(axis=0) over the N examples.

    Inputs:
    - X: (N, D), or (N, C, H, W) for images (the mean is then the mean image of shape (C, H, W))
    - mean: X.shape[1:], the training mean to reuse; None computes it from X

    Returns (X_centered, mean).
    """
    X = _examples(X)
    mean = stable_mean(X) if mean is None else _statistic(mean, X, X.shape[1:], "mean")
    return _centred(X, mean), mean


def standardize(X, mean=None, std=None):
    """Zero mean and unit standard deviation per feature: (X - mean) / std over the N examples (axis 0).

    Inputs:
    - X: (N, D) or (N, C, H, W)
    - mean, std: X.shape[1:], the training statistics to reuse; None computes both from X (pass both or neither)

    Returns (X_standardized, mean, std). A feature that is constant in the training data (std = 0, like the
    always-blank border pixels of digits) is only centred, not divided. Values of any magnitude work (up to
    1.8e308): the statistics and X - mean are computed at a power-of-two scale per feature, which is exact;
    only a standardized value beyond the float range (new data far outside the training range) raises
    course.OutOfRangeError.
    """
    X = _examples(X)
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std (the training statistics) or neither")
    if mean is None:
        mean, _, std = moments(X)
    else:
        mean = _statistic(mean, X, X.shape[1:], "mean")
        std = _statistic(std, X, X.shape[1:], "std")
        if np.any(std < 0):
            raise ValueError(f"std must be >= 0 (a standard deviation); got values down to {std.min():.4g}")
    scale = pow2_scale(np.maximum(np.abs(X).max(axis=0), np.abs(mean)), X.dtype)
    with np.errstate(over="ignore"):  # (X - mean) / std, with the difference taken divided by scale
        Z = (X / scale - mean / scale) / np.where(std > 0, std, 1).astype(X.dtype, copy=False) * scale
    check_in_range(Z, "the standardized X", X, mean, std, advice="X lies far outside the training data")
    return Z, mean, std


def center_channels(X, mean=None):
    """Per-channel mean subtraction for images: one mean per channel over all examples and pixels.

    Inputs:
    - X: (N, C, H, W)
    - mean: (C,), the training channel means to reuse; None computes them from X

    Returns (X_centered, mean) with mean of shape (C,) (e.g. three numbers for RGB images), compared with the
    (C, H, W) mean image that :func:`center` subtracts.
    """
    X = _examples(X)
    check_ndim(X, 4, "X", "(N, C, H, W)")
    mean = stable_mean(X, axis=(0, 2, 3)) if mean is None else _statistic(mean, X, X.shape[1:2], "mean")
    return _centred(X, mean[:, np.newaxis, np.newaxis]), mean


def pca(X, k: int | None = None):
    """Principal component analysis of X (N, D).

    X is centred with its own mean first. With the SVD of the centred data, Xc = U S V^T, the principal directions
    are the columns of V (the eigenvectors of the covariance Xc^T Xc / N) and their variances S^2 / N.

    Inputs:
    - X: (N, D) (images can be flattened with X.reshape(N, -1))
    - k: number of components to keep, 1 <= k <= min(N, D); None keeps min(N, D)

    Returns (X_projected, components, explained_variance):
    - X_projected: (N, k) = Xc @ components, the data in the rotated, decorrelated basis
    - components: (D, k), orthonormal columns ordered by decreasing variance; each column's entry of largest
      magnitude is positive, so the result is deterministic
    - explained_variance: (k,), decreasing, the variance of each column of X_projected

    X must be finite (NaN or inf raise ValueError saying where). Values of any magnitude work: X is divided by a
    power of two (exactly) before centring, so nothing overflows unless a variance itself exceeds the float range
    (a spread beyond about 1e154), which raises course.OutOfRangeError.

    New data is projected with the training statistics: (X_new - X_train.mean(axis=0)) @ components.
    """
    X = _examples(X)
    check_ndim(X, 2, "X", "(N, D)")
    n, d = X.shape
    k = min(n, d) if k is None else k
    check_int(k, "k", high=min(n, d), note="at most min(N, D)")
    scale = scale_of(X)  # X / scale is exact and lies in (-2, 2): centring and the SVD cannot overflow
    Xc = X / scale
    Xc -= Xc.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    components = vt[:k].T
    signs = np.sign(components[np.argmax(np.abs(components), axis=0), np.arange(k)])
    components = components * signs
    with np.errstate(over="ignore"):
        projected = Xc @ components * scale
        variance = (s[:k] ** 2 / n * scale * scale).astype(X.dtype, copy=False)
    for what, value in (("the explained variance", variance), ("the projected X", projected)):
        check_in_range(value, f"pca: {what}", X, advice="values spread this far have a variance beyond the float "
                       "range; rescale X")
    return projected, components, variance


def whiten(X_projected, explained_variance, eps: float = 1e-5):
    """Whitening: divide PCA-projected data by the standard deviation of each component,
    X_white = X_projected / sqrt(explained_variance + eps), so its covariance is about the identity.

    Inputs:
    - X_projected: (N, k), from :func:`pca` (or new data projected with the training components)
    - explained_variance: (k,), from :func:`pca` on the training data
    - eps: added to the variances so directions of (near) zero variance are not blown up into noise

    Returns X_white of shape (N, k).
    """
    X_projected = _examples(X_projected, "X_projected")
    check_ndim(X_projected, 2, "X_projected", "(N, k)")
    explained_variance = _statistic(explained_variance, X_projected, X_projected.shape[1:], "explained_variance")
    eps = check_scalar(eps, "eps", low=0)
    if np.any(explained_variance + eps <= 0):
        raise ValueError("explained_variance + eps must be positive; use eps > 0 when a variance is zero")
    return X_projected / np.sqrt(explained_variance + eps).astype(X_projected.dtype, copy=False)


# --- augmentation -----------------------------------------------------------------------------------------------

def _images(X):
    X = _examples(X)
    check_ndim(X, 4, "X", "(N, C, H, W)")
    return X


def flip_horizontal(X):
    """Mirror every image left-right: X[..., ::-1] for X of shape (N, C, H, W). Flipping twice is the identity."""
    return _images(X)[..., ::-1].copy()


def random_flip(X, rng=None, p: float = 0.5):
    """Mirror each image left-right with probability p. X: (N, C, H, W); returns a new (N, C, H, W) batch."""
    X = _images(X)
    p = check_scalar(p, "p", low=0, high=1)
    flip = np.random.default_rng(rng).random(X.shape[0]) < p
    return np.where(flip[:, None, None, None], X[..., ::-1], X)


def random_shift(X, max_shift: int = 2, rng=None):
    """Translate each image by whole pixels, dy and dx drawn uniformly from {-max_shift, ..., max_shift}; pixels
    shifted in from outside are 0. X: (N, C, H, W); returns a new (N, C, H, W) batch, out[n, c, i, j] =
    X[n, c, i - dy_n, j - dx_n] (0 where that falls outside)."""
    X = _images(X)
    check_int(max_shift, "max_shift", low=0, note="pixels")
    rng = np.random.default_rng(rng)
    n, c, h, w = X.shape
    m = int(max_shift)
    dy, dx = rng.integers(-m, m + 1, size=(2, n))
    padded = np.pad(X, ((0, 0), (0, 0), (m, m), (m, m)))
    rows = np.arange(h) + (m - dy)[:, np.newaxis]  # (N, H): padded row read by each output row
    cols = np.arange(w) + (m - dx)[:, np.newaxis]  # (N, W)
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def random_rotation(X, max_degrees: float = 10.0, rng=None):
    """Rotate each image about its centre by an angle drawn uniformly from [-max_degrees, max_degrees] (bilinear
    interpolation, 0 outside the original image, same size). X: (N, C, H, W); returns a new (N, C, H, W) batch."""
    X = _images(X)
    max_degrees = check_scalar(max_degrees, "max_degrees", low=0, high=180)
    angles = np.random.default_rng(rng).uniform(-max_degrees, max_degrees, size=X.shape[0])
    out = np.empty_like(X)
    for i, angle in enumerate(angles):
        out[i] = ndimage.rotate(X[i], angle, axes=(2, 1), reshape=False, order=1, mode="constant", cval=0.0)
    return out


def gaussian_noise(X, std: float = 0.1, rng=None):
    """Add independent Gaussian noise of standard deviation ``std`` to every entry. X: any shape (N, ...);
    returns a new array of the same shape and dtype."""
    X = _examples(X)
    std = check_scalar(std, "std", low=0)
    return X + np.random.default_rng(rng).normal(0.0, std, size=X.shape).astype(X.dtype, copy=False)


def augment(X, rng=None, shift: int = 0, flip: bool = False, rotate: float = 0.0, noise: float = 0.0):
    """Random shift, horizontal flip (p = 0.5), rotation and Gaussian noise in that order, each skipped when 0 or
    False. X: (N, C, H, W); returns a new batch of the same shape. Usable as a training-time transform, e.g.
    ``Trainer(..., augment=lambda X, rng: augment(X, rng, shift=1, rotate=10))``."""
    X = _images(X)
    rng = np.random.default_rng(rng)
    if shift:
        X = random_shift(X, shift, rng)
    if flip:
        X = random_flip(X, rng)
    if rotate:
        X = random_rotation(X, rotate, rng)
    if noise:
        X = gaussian_noise(X, noise, rng)
    return X
