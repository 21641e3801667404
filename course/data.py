"""Offline data sets, nothing downloaded: 2-D toy problems generated from a seed (spiral, moons, circles, blobs),
the 8x8 handwritten digits shipped with the package, a loader for MNIST files already on disk, and a
train/validation/test split."""
from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import numpy as np

from course._validate import check_int, check_scalar


def spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int | None = 0):
    """The classic 2-D spiral: ``n_classes`` interleaved arms, not linearly separable.

    Returns (X, y): X of shape (N, 2) with N = n_per_class * n_classes, values within about [-1, 1];
    y of shape (N,) with integer labels in [0, n_classes). ``noise`` is the standard deviation of the angle jitter.
    """
    n_per_class = check_int(n_per_class, "n_per_class")
    n_classes = check_int(n_classes, "n_classes")
    noise = check_scalar(noise, "noise", low=0)
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    k = np.repeat(np.arange(n_classes), n_per_class)
    t = np.linspace(0.0, 4.0, n_per_class)[np.newaxis, :] + (k.reshape(n_classes, -1) * 4.0)
    t = t.ravel() + rng.normal(0.0, noise, size=r.shape)
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X, k.astype(np.int64)


def _noisy(X, noise, rng):
    """X plus isotropic Gaussian noise of standard deviation ``noise``."""
    return X + rng.normal(0.0, noise, size=X.shape)


def _class_sizes(n, n_classes=2):
    """Split n examples into n_classes groups as evenly as possible (the first groups get the remainder)."""
    return [n // n_classes + (k < n % n_classes) for k in range(n_classes)]


def _labels(sizes):
    return np.repeat(np.arange(len(sizes)), sizes).astype(np.int64)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0):
    """Two interleaving half circles: class 0 the upper arc (cos t, sin t), class 1 the lower arc
    (1 - cos t, 0.5 - sin t), t in [0, pi], plus Gaussian noise of standard deviation ``noise``.

    Returns (X, y): X of shape (N, 2) with N = n, y of shape (N,) with labels 0 and 1 (ceil(n/2) zeros first).
    """
    n = check_int(n, "n")
    noise = check_scalar(noise, "noise", low=0)
    rng = np.random.default_rng(seed)
    n0, n1 = _class_sizes(n)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    return _noisy(X, noise, rng), _labels([n0, n1])


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1), plus Gaussian
    noise of standard deviation ``noise``. Separable by a nonlinear boundary only.

    Returns (X, y): X of shape (N, 2) with N = n, y of shape (N,) with labels 0 (outer, ceil(n/2) first) and 1.
    """
    n = check_int(n, "n")
    noise = check_scalar(noise, "noise", low=0)
    factor = check_scalar(factor, "factor", low=0, high=1, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    n0, n1 = _class_sizes(n)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    return _noisy(X, noise, rng), _labels([n0, n1])


def blobs(n_per_class: int = 100, n_classes: int = 3, std: float = 0.5, seed: int | None = 0):
    """Gaussian blobs: class k is centred at 2 (cos 2 pi k / K, sin 2 pi k / K) (K = n_classes, evenly spaced on a
    circle of radius 2) with isotropic standard deviation ``std``. Linearly separable when std is small.

    Returns (X, y): X of shape (N, 2) with N = n_per_class * n_classes, y of shape (N,) with labels in
    [0, n_classes), grouped by class.
    """
    n_per_class = check_int(n_per_class, "n_per_class")
    n_classes = check_int(n_classes, "n_classes")
    std = check_scalar(std, "std", low=0)
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    X = np.repeat(centres, n_per_class, axis=0)
    return _noisy(X, std, rng), _labels([n_per_class] * n_classes)


def digits():
    """The UCI optical handwritten digits, shipped with the package (course/datasets/digits.csv.gz; see the
    README there for origin and licence): 1797 grey-level images of the digits 0-9, about 180 of each.

    Returns (X, y): X of shape (N, C, H, W) = (1797, 1, 8, 8), float64, raw pixel values in [0, 16] (each pixel
    counts the inked pixels in a 4x4 block of a 32x32 bitmap; divide by 16 for [0, 1], or preprocess with
    course.preprocess); y of shape (1797,) with integer labels in [0, 10).
    """
    with resources.as_file(resources.files("course") / "datasets" / "digits.csv.gz") as csv:
        table = np.loadtxt(csv, delimiter=",", dtype=np.float64)
    return table[:, :64].reshape(-1, 1, 8, 8), table[:, 64].astype(np.int64)


# --- MNIST from files the user already has ---------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MNIST_FILES = {"X_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
                "X_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
_NPZ_KEYS = {"X_train": "x_train", "y_train": "y_train", "X_test": "x_test", "y_test": "y_test"}


def read_idx(path) -> np.ndarray:
    """Read one IDX file (the MNIST format), gzip-compressed or not.

    Format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), the number of dimensions d, then d big-endian uint32 sizes, then the data in C order.
    Returns an array of that shape (native byte order).
    """
    path = Path(path)
    with path.open("rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: expected the magic bytes 00 00 <type> <ndim> with type in "
                         f"{sorted(hex(t) for t in _IDX_DTYPES)}; got {data[:4].hex(' ') or 'an empty file'}")
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(data[4:header], dtype=">u4"))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: the header announces shape {shape} of {dtype.name} ({expected} bytes in all) "
                         f"but the file holds {len(data)} bytes")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, stem: str) -> Path:
    """The IDX file for ``stem`` in ``folder``, accepting the dotted variant (train-images.idx3-ubyte) and .gz."""
    dotted = stem.replace("-idx", ".idx")
    candidates = [folder / (name + ext) for name in (stem, dotted) for ext in ("", ".gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST file missing in {folder}: looked for " + ", ".join(c.name for c in candidates))


def _images(X, source):
    """MNIST images as (N, 1, H, W): a channel axis is added to (N, H, W)."""
    if X.ndim == 3:
        return X[:, np.newaxis]
    if X.ndim == 4:
        return X
    raise ValueError(f"{source}: images must have shape (N, H, W) or (N, C, H, W); got {X.shape}")


def load_mnist(path, dtype=np.float64):
    """Load MNIST (or Fashion-MNIST) from files already on disk; nothing is downloaded.

    ``path`` is either
    - a folder holding the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,
      t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may end in .gz; "train-images.idx3-ubyte" also works), or
    - an .npz file with arrays x_train, y_train, x_test, y_test (the layout of keras.datasets.mnist).

    Returns (X_train, y_train, X_test, y_test): images of shape (N, 1, H, W) in ``dtype`` with the raw pixel values
    (0-255 for MNIST; scale or standardize them with course.preprocess), labels of shape (N,) int64.
    Raises FileNotFoundError naming what was looked for when files are missing.
    """
    path = Path(path)
    if path.is_dir():
        arrays = {key: read_idx(_find_idx(path, stem)) for key, stem in _MNIST_FILES.items()}
    elif path.is_file():
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _NPZ_KEYS.values() if k not in npz.files]
            if missing:
                raise ValueError(f"{path} lacks the arrays {missing}; expected x_train, y_train, x_test, y_test; "
                               f"it holds {sorted(npz.files)}")
            arrays = {key: npz[name] for key, name in _NPZ_KEYS.items()}
    else:
        raise FileNotFoundError(f"no MNIST data at {path}: expected a folder with the IDX files "
                                f"{', '.join(_MNIST_FILES.values())} (optionally .gz) or an .npz file with "
                                f"x_train, y_train, x_test, y_test")
    out = []
    for split in ("train", "test"):
        X, y = _images(arrays[f"X_{split}"], f"{path} ({split})"), arrays[f"y_{split}"].reshape(-1)
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"{path}: {X.shape[0]} {split} images but {y.shape[0]} {split} labels")
        out += [X.astype(dtype), y.astype(np.int64)]
    return tuple(out)


# --- splits ------------------------------------------------------------------------------------------------------

def train_val_test_split(X, y, val: float = 0.1, test: float = 0.1, seed: int | None = 0, stratify: bool = True):
    """Shuffle and split a data set into training, validation and test parts.

    Inputs:
    - X: (N, ...) examples; y: (N,) labels
    - val, test: fractions of the examples for validation and test, each in [0, 1) with val + test < 1
    - seed: seed of the shuffle
    - stratify: when True, each class is split on its own, so every part keeps the class proportions
      (round(fraction * N_k) examples of class k, with N_k the examples of that class); when False, the whole
      set is split (round(fraction * N) examples).

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test (the layout course.trainer.Trainer expects);
    each part is in random order.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X must have shape (N, ...) and y shape (N,) with the same N; got {X.shape} and {y.shape}")
    val = check_scalar(val, "val", low=0, high=1, high_open=True)
    test = check_scalar(test, "test", low=0, high=1, high_open=True)
    if val + test >= 1:
        raise ValueError(f"val + test must be < 1 to leave training data; got {val} + {test} = {val + test}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(y.shape[0])
    groups = [order[y[order] == label] for label in np.unique(y)] if stratify else [order]
    parts = {"train": [], "val": [], "test": []}
    for group in groups:
        n_test, n_val = round(test * group.size), round(val * group.size)
        parts["test"].append(group[:n_test])
        parts["val"].append(group[n_test:n_test + n_val])
        parts["train"].append(group[n_test + n_val:])
    if not sum(p.size for p in parts["train"]):
        raise ValueError(f"no training examples left with val={val}, test={test} and N={y.shape[0]}")
    split = {}
    for name, pieces in parts.items():
        index = rng.permutation(np.concatenate(pieces))
        split[f"X_{name}"], split[f"y_{name}"] = X[index], y[index]
    return split
