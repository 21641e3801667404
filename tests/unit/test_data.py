"""course.data: toy sets, the shipped digits, the MNIST loader and the split."""
import gzip

import numpy as np
import pytest

from course import data

TOY = [(data.moons, {"n": 101}), (data.circles, {"n": 101}), (data.blobs, {"n_per_class": 20, "n_classes": 4}),
       (data.spiral, {"n_per_class": 20, "n_classes": 4})]


@pytest.mark.parametrize("make, kwargs", TOY)
def test_toy_sets_have_shapes_labels_and_are_deterministic(make, kwargs):
    X, y = make(**kwargs)
    n = kwargs.get("n", kwargs.get("n_per_class", 0) * kwargs.get("n_classes", 0))
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    X2, y2 = make(**kwargs, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(X, make(**kwargs, seed=1)[0])


def test_noiseless_circles_and_moons_lie_on_their_curves():
    X, y = data.circles(n=40, noise=0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3))
    X, y = data.moons(n=40, noise=0)
    centre = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_allclose(np.hypot(*(X - centre).T), 1.0)
    assert np.all(X[y == 0, 1] >= 0) and np.all(X[y == 1, 1] <= 0.5)


def test_blob_centres_are_separated():
    X, y = data.blobs(n_per_class=200, n_classes=3, std=0.1)
    centres = np.array([X[y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(np.hypot(*centres.T), 2.0, atol=0.05)


@pytest.mark.parametrize("call, match", [
    (lambda: data.moons(n=0), "n must be an integer >= 1"),
    (lambda: data.circles(factor=1.0), "factor must be < 1"),
    (lambda: data.blobs(std=-1), "std must be >= 0"),
])
def test_toy_sets_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_digits_look_like_digits():
    X, y = data.digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64 and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    counts = np.bincount(y, minlength=10)
    assert counts.size == 10 and counts.min() >= 170 and counts.max() <= 185
    flat = X.reshape(len(X), -1)
    means = np.array([flat[y == k].mean(axis=0) for k in range(10)])
    nearest_mean = np.argmin(((flat[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest_mean == y) > 0.85  # labels belong to the images
    zero = means[0].reshape(8, 8)
    assert zero[3:5, 3:5].mean() < 0.5 * zero[1:7, 1:7].mean()  # a 0 has a hole in the middle


# --- MNIST ------------------------------------------------------------------------------------------------------

def _idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def _tiny_mnist(rng):
    return (rng.integers(0, 256, size=(5, 4, 3)), rng.integers(0, 10, size=5),
            rng.integers(0, 256, size=(2, 4, 3)), rng.integers(0, 10, size=2))


NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.mark.parametrize("compress, dotted", [(False, False), (True, False), (True, True)])
def test_load_mnist_reads_idx_folders(tmp_path, compress, dotted):
    arrays = _tiny_mnist(np.random.default_rng(0))
    for name, array in zip(NAMES, arrays):
        name = name.replace("-idx", ".idx") if dotted else name
        raw = _idx_bytes(array)
        (tmp_path / (name + ".gz" if compress else name)).write_bytes(gzip.compress(raw) if compress else raw)
    X_train, y_train, X_test, y_test = data.load_mnist(tmp_path)
    assert X_train.shape == (5, 1, 4, 3) and X_test.shape == (2, 1, 4, 3) and X_train.dtype == np.float64
    np.testing.assert_array_equal(X_train[:, 0], arrays[0])
    np.testing.assert_array_equal(y_train, arrays[1])
    np.testing.assert_array_equal(X_test[:, 0], arrays[2])
    np.testing.assert_array_equal(y_test, arrays[3])


def test_load_mnist_reads_npz_and_keeps_a_requested_dtype(tmp_path):
    arrays = _tiny_mnist(np.random.default_rng(1))
    np.savez(tmp_path / "mnist.npz", **dict(zip(["x_train", "y_train", "x_test", "y_test"], arrays)))
    X_train, y_train, X_test, y_test = data.load_mnist(tmp_path / "mnist.npz", dtype=np.float32)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(X_test[:, 0], arrays[2])


def test_load_mnist_errors_name_what_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*x_train"):
        data.load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"looked for train-images-idx3-ubyte, train-images-idx3-ubyte\.gz"):
        data.load_mnist(tmp_path)
    np.savez(tmp_path / "partial.npz", x_train=np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"lacks the arrays \['y_train', 'x_test', 'y_test'\]"):
        data.load_mnist(tmp_path / "partial.npz")
    (tmp_path / "bad").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="is not an IDX file"):
        data.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((3, 2), dtype=np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"announces shape \(3, 2\)"):
        data.read_idx(tmp_path / "short")


def test_load_mnist_rejects_mismatched_counts(tmp_path):
    arrays = list(_tiny_mnist(np.random.default_rng(2)))
    arrays[1] = arrays[1][:4]
    np.savez(tmp_path / "m.npz", **dict(zip(["x_train", "y_train", "x_test", "y_test"], arrays)))
    with pytest.raises(ValueError, match="5 train images but 4 train labels"):
        data.load_mnist(tmp_path / "m.npz")


# --- split ------------------------------------------------------------------------------------------------------

def test_split_sizes_cover_everything_once_and_stratify():
    X = np.arange(300).reshape(300, 1)
    y = np.repeat([0, 1, 2], [150, 100, 50])
    split = data.train_val_test_split(X, y, val=0.2, test=0.1, seed=3)
    assert [split[f"y_{p}"].size for p in ("train", "val", "test")] == [210, 60, 30]
    joined = np.concatenate([split["X_train"], split["X_val"], split["X_test"]]).ravel()
    np.testing.assert_array_equal(np.sort(joined), np.arange(300))
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(split[f"y_{part}"], y[split[f"X_{part}"].ravel()])
        np.testing.assert_allclose(np.bincount(split[f"y_{part}"]) / split[f"y_{part}"].size, [0.5, 1 / 3, 1 / 6])
    again = data.train_val_test_split(X, y, val=0.2, test=0.1, seed=3)
    np.testing.assert_array_equal(again["X_val"], split["X_val"])
    assert not np.array_equal(data.train_val_test_split(X, y, val=0.2, test=0.1, seed=4)["X_val"], split["X_val"])


def test_unstratified_split_uses_overall_fractions():
    y = np.repeat([0, 1], [95, 5])
    split = data.train_val_test_split(np.zeros((100, 3)), y, val=0.25, test=0.0, stratify=False)
    assert split["X_train"].shape == (75, 3) and split["X_val"].shape == (25, 3) and split["y_test"].size == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"val": 0.5, "test": 0.5}, "val \\+ test must be < 1"),
    ({"val": -0.1}, "val must be >= 0"),
])
def test_split_rejects_bad_fractions(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.train_val_test_split(np.zeros((10, 2)), np.zeros(10, dtype=int), **kwargs)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same N; got \(10, 2\) and \(9,\)"):
        data.train_val_test_split(np.zeros((10, 2)), np.zeros(9, dtype=int))
