"""course.preprocess: statistics fitted on training data, PCA and whitening, augmentation."""
import numpy as np
import pytest

from course import OutOfRangeError
from course import preprocess as pp


@pytest.fixture
def correlated():
    """(500, 4) data with very different scales and correlated features, far from zero mean."""
    rng = np.random.default_rng(0)
    mixing = np.array([[3.0, 0, 0, 0], [2.0, 0.5, 0, 0], [0, 0, 10.0, 0], [1.0, 1.0, 1.0, 0.1]])
    return rng.normal(size=(500, 4)) @ mixing.T + np.array([5.0, -2.0, 100.0, 0.0])


def test_center_uses_the_training_mean_for_other_data(correlated):
    train, val = correlated[:400], correlated[400:]
    centred, mean = pp.center(train)
    np.testing.assert_allclose(centred.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(mean, train.mean(axis=0))
    val_centred, val_mean = pp.center(val, mean)
    assert val_mean is mean
    np.testing.assert_allclose(val_centred, val - train.mean(axis=0))
    assert np.abs(val_centred.mean(axis=0)).max() > 1e-3  # not the validation set's own mean


def test_standardize_gives_unit_std_and_leaves_constant_features_centred(correlated):
    X = np.column_stack([correlated, np.full(500, 7.0)])
    Xs, mean, std = pp.standardize(X)
    np.testing.assert_allclose(Xs.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), [1, 1, 1, 1, 0], atol=1e-12)
    assert std[-1] == 0 and np.all(np.isfinite(Xs))
    again, _, _ = pp.standardize(X[:10], mean, std)
    np.testing.assert_allclose(again, Xs[:10])
    with pytest.raises(ValueError, match="pass both mean and std"):
        pp.standardize(X, mean=mean)


def test_image_means_per_channel_and_per_pixel():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3, 5, 4)) + np.array([1.0, -2.0, 30.0])[:, None, None]
    per_channel, channel_mean = pp.center_channels(X)
    assert channel_mean.shape == (3,)
    np.testing.assert_allclose(channel_mean, X.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(per_channel.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    per_pixel, mean_image = pp.center(X)
    assert mean_image.shape == (3, 5, 4)
    np.testing.assert_allclose(per_pixel.mean(axis=0), 0, atol=1e-12)
    with pytest.raises(ValueError, match=r"mean must have shape \(3,\)"):
        pp.center_channels(X, mean_image)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        pp.center_channels(X[:, 0, 0])


def test_pca_orders_variance_and_reconstructs(correlated):
    projected, components, variance = pp.pca(correlated)
    assert projected.shape == (500, 4) and components.shape == (4, 4) and variance.shape == (4,)
    assert np.all(np.diff(variance) <= 0)
    np.testing.assert_allclose(components.T @ components, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(projected.var(axis=0), variance)
    cov = np.cov(projected.T, bias=True)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-9)  # decorrelated
    np.testing.assert_allclose(projected @ components.T + correlated.mean(axis=0), correlated)
    top2, comp2, var2 = pp.pca(correlated, k=2)
    np.testing.assert_allclose(top2, projected[:, :2])
    np.testing.assert_allclose(var2, variance[:2])
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\] \(at most min\(N, D\)\); got 5"):
        pp.pca(correlated, k=5)


def test_whitened_covariance_is_identity(correlated):
    projected, _, variance = pp.pca(correlated)
    white = pp.whiten(projected, variance, eps=1e-12)
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(4), atol=1e-8)
    damped = pp.whiten(projected, variance, eps=1.0)
    assert damped.var(axis=0)[-1] < 0.5  # eps keeps the tiny last direction from being blown up


def test_float32_stays_float32(correlated):
    X = correlated.astype(np.float32)
    assert pp.center(X)[0].dtype == np.float32
    assert pp.standardize(X)[0].dtype == np.float32
    projected, _, variance = pp.pca(X)
    assert projected.dtype == np.float32 and pp.whiten(projected, variance).dtype == np.float32


@pytest.mark.parametrize("name, call", [
    ("X", pp.center), ("X", pp.center_channels), ("X", pp.random_flip),
    ("X", lambda X: pp.standardize(X.reshape(4, -1))), ("X", lambda X: pp.pca(X.reshape(4, -1))),
    ("X_projected", lambda X: pp.whiten(X.reshape(4, -1)[:, :2], np.ones(2))),
])
def test_nan_or_inf_in_X_is_named_with_where(name, call):
    X = np.zeros((4, 2, 3, 3))
    X[1, 0, 0, 0] = np.inf
    X[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=rf"{name} holds inf at index \[1, 0.*\] \(1 NaN and 1 inf in total, "
                                         r"out of \d+ values\); expected finite numbers"):
        call(X)


def test_pca_with_nan_says_how_many_and_where():
    X = np.random.default_rng(3).normal(size=(5, 3))
    X[2, 1], X[4, 0] = np.nan, np.nan
    with pytest.raises(ValueError, match=r"X holds NaN at index \[2, 1\] \(2 NaN and 0 inf in total, out of 15 "):
        pp.pca(X)
    with pytest.raises(ValueError, match=r"std holds inf at index \[0\]"):
        pp.standardize(X[:2, :1] * 0 + 1, mean=np.zeros(1), std=np.array([np.inf]))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e154), (np.float64, 1e200), (np.float64, 1e306),
                                          (np.float64, -1e306), (np.float32, 1e36)])
def test_standardize_and_center_huge_values(correlated, dtype, scale):
    X = (correlated[:50] * scale / 1e2).astype(dtype)  # |X| up to about 1e2 * scale / 1e2
    Z, mean, std = pp.standardize(X)
    ref, _, _ = pp.standardize(correlated[:50].astype(dtype))
    np.testing.assert_allclose(Z, np.sign(scale) * ref, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-6)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    centred, _ = pp.center(X)
    np.testing.assert_allclose(centred / std, Z, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-6)


@pytest.mark.filterwarnings("error")
def test_standardize_across_the_whole_float_range():
    # X - mean is -2e308 in the middle row (beyond float64), yet the standardized value, -sqrt(2), is not
    X = np.array([[1.5e308], [-1.5e308], [1.5e308]])
    Z, mean, std = pp.standardize(X)
    np.testing.assert_allclose(Z.ravel(), [np.sqrt(0.5), -np.sqrt(2), np.sqrt(0.5)])
    np.testing.assert_allclose(std, 1.5e308 / 1.5 * np.sqrt(2))  # deviations 1e308, -2e308, 1e308
    with pytest.raises(OutOfRangeError, match=r"X - mean exceeds the float64 range.*cannot be centred"):
        pp.center(X)  # -2e308 itself is the answer here: it has no float value
    with pytest.raises(OutOfRangeError, match="the standardized X exceeds the float64 range"):
        pp.standardize(np.array([[1e308]]), mean=np.array([-1e308]), std=np.array([1.0]))
    Z32, _, _ = pp.standardize(np.array([[3e38], [-3e38], [3e38]], np.float32))
    np.testing.assert_allclose(Z32.ravel(), [np.sqrt(0.5), -np.sqrt(2), np.sqrt(0.5)], rtol=1e-6)


@pytest.mark.filterwarnings("error")
def test_pca_of_huge_values(correlated):
    _, components, variance = pp.pca(correlated)
    projected_big, components_big, variance_big = pp.pca(correlated * 1e100)
    np.testing.assert_allclose(components_big, components, atol=1e-10)
    np.testing.assert_allclose(variance_big, variance * 1e200, rtol=1e-9)
    assert np.all(np.isfinite(projected_big))
    with pytest.raises(OutOfRangeError, match=r"pca: the explained variance exceeds the float64 range.*rescale X"):
        pp.pca(np.array([[1e200, 0.0], [-1e200, 1.0], [3.0, 2.0]]))


# --- augmentation -----------------------------------------------------------------------------------------------

@pytest.fixture
def images():
    X = np.zeros((6, 2, 7, 9))
    X[:, :, 2:5, 3:6] = np.random.default_rng(2).uniform(1, 2, size=(6, 2, 3, 3))  # a patch away from the border
    return X


AUGMENTATIONS = [
    lambda X, rng: pp.random_flip(X, rng),
    lambda X, rng: pp.random_shift(X, 2, rng),
    lambda X, rng: pp.random_rotation(X, 20, rng),
    lambda X, rng: pp.gaussian_noise(X, 0.1, rng),
    lambda X, rng: pp.augment(X, rng, shift=1, flip=True, rotate=10, noise=0.05),
]


@pytest.mark.parametrize("transform", AUGMENTATIONS)
def test_augmentation_keeps_shapes_and_is_deterministic_for_a_seed(transform, images):
    before = images.copy()
    out = transform(images, np.random.default_rng(5))
    assert out.shape == images.shape and out.dtype == images.dtype
    np.testing.assert_array_equal(images, before)
    np.testing.assert_array_equal(out, transform(images, np.random.default_rng(5)))
    assert not np.array_equal(out, images)
    assert transform(images.astype(np.float32), 5).dtype == np.float32


def test_flipping_twice_is_the_identity(images):
    once = pp.flip_horizontal(images)
    np.testing.assert_array_equal(once[..., 0], images[..., -1])
    np.testing.assert_array_equal(pp.flip_horizontal(once), images)
    flips = pp.random_flip(images, 0, p=1.0)
    np.testing.assert_array_equal(flips, once)
    np.testing.assert_array_equal(pp.random_flip(images, 0, p=0.0), images)


def test_shift_moves_content_and_fills_with_zeros(images):
    shifted = pp.random_shift(images, 2, np.random.default_rng(3))
    np.testing.assert_allclose(shifted.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)))  # the patch stays inside
    for out, original in zip(shifted, images):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(out, np.roll(original, (dy, dx), axis=(1, 2)))]
        assert len(found) == 1
    edge = np.ones((1, 1, 4, 4))
    moved = pp.random_shift(edge, 1, np.random.default_rng(0))
    assert moved.sum() in (16, 12, 9)  # zeros come in where content left
    np.testing.assert_array_equal(pp.random_shift(images, 0, 0), images)


def test_rotation_and_noise_of_zero_size_are_the_identity(images):
    np.testing.assert_allclose(pp.random_rotation(images, 0, 0), images, atol=1e-12)
    np.testing.assert_array_equal(pp.gaussian_noise(images, 0.0, 0), images)
    noisy = pp.gaussian_noise(np.zeros((200, 1, 10, 10)), 0.5, 0)
    assert abs(noisy.std() - 0.5) < 0.01


def test_augmentation_rejects_bad_input(images):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        pp.random_flip(images[:, 0], 0)
    with pytest.raises(ValueError, match="max_shift must be an integer >= 0"):
        pp.random_shift(images, 1.5, 0)
    with pytest.raises(ValueError, match="std must be >= 0"):
        pp.gaussian_noise(images, -1, 0)
