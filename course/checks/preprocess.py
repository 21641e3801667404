"""Checks for the data preprocessing and augmentation functions of labs 02 and 06 (course.preprocess).

Lab 02: center, standardize, pca, whiten. Each runs the student's function on fixed data, compares with the
reference and names the likely mistake: the lecture notes' axis=1, the variance instead of the standard
deviation, statistics recomputed from the data passed in (the test split) instead of the training statistics
passed back, a division by the zero std of a constant feature, np.cov's N - 1, components as rows or in
increasing order, whitening without the epsilon.
"""
from __future__ import annotations

import numpy as np

from course import preprocess as ref
from course.checks._harness import Mistake, as_array, call, checker, expect_close, expect_dtype, expect_shape, \
    naming_warnings, unpack

_rng = np.random.default_rng(2)
# training and test data, (N, D) = (7, 4): not square, features of different scales, far from zero mean
_TRAIN = _rng.normal(size=(7, 4)) * [1.0, 3.0, 0.5, 2.0] + [5.0, -2.0, 10.0, 1.0]
_TEST = _rng.normal(size=(5, 4)) * [1.0, 3.0, 0.5, 2.0] + [4.0, -1.0, 11.0, 0.0]  # its own mean differs
_SQUARE = _rng.normal(size=(4, 4)) * [1.0, 3.0, 0.5, 2.0] + [5.0, -2.0, 10.0, 1.0]  # N = D: axis=1 broadcasts
_IMAGES = _rng.normal(size=(6, 2, 3, 3)) + 4.0  # (N, C, H, W)
_CONSTANT = np.column_stack([_TRAIN, np.full(7, 3.0)])  # a fifth feature that never changes (std 0)
# 2-D data with one clearly dominant direction, for PCA: (N, D) = (40, 3)
_CLOUD = _rng.normal(size=(40, 3)) @ np.array([[3.0, 1.0, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 0.2]]) + [2.0, -1.0, 4.0]

_TEST_SPLIT = ("statistics taken from the data passed in: when the training {what} is given, use it; recomputing "
               "it from this data (the validation or test split) makes each example's result depend on the other "
               "examples of that split")


def _test_split(what: str) -> str:
    return "likely mistake: " + _TEST_SPLIT.format(what=what)


def _axis_one(error: str) -> str | None:
    """A broadcasting error from subtracting a mean of shape (N,) from X (N, D): the lecture notes' axis=1."""
    if "broadcast" in error:
        return ("likely mistake: the mean over axis=1, as some lecture notes write (each example averaged over its own "
                "features, shape (N,)); the mean per feature over the N examples is axis=0, shape (D,)")
    return None


def _call_catching_axis_one(f, *args, **kwargs):
    try:
        return call(f, *args, **kwargs)
    except ValueError as exc:
        named = _axis_one(str(exc))
        if named is None:
            raise
        raise Mistake(named) from None


_AXIS_ONE_MEAN = ("the mean over axis=1, as some lecture notes write (each example averaged over its own features); "
                  "the mean per feature over the N examples is axis=0")


@checker
def check_center(center):
    """center(X, mean=None) -> (X_centered, mean): the mean per feature over the examples, reused when given."""
    centred, mean = unpack(_call_catching_axis_one(center, _SQUARE), 2, "center(X)")
    expect_close(centred, _SQUARE - _SQUARE.mean(axis=0), "X_centered", mistakes=[
        (_AXIS_ONE_MEAN, _SQUARE - _SQUARE.mean(axis=1)),
        (_AXIS_ONE_MEAN, _SQUARE - _SQUARE.mean(axis=1, keepdims=True)),
        ("one mean for the whole array (np.mean(X) without an axis); each feature has its own mean, axis=0",
         _SQUARE - _SQUARE.mean())])

    centred, mean = unpack(_call_catching_axis_one(center, _TRAIN), 2, "center(X)")
    expect_shape(mean, (4,), "the returned mean", mistakes=[
        (_AXIS_ONE_MEAN, (7,)), ("one mean for the whole array; each feature has its own mean, axis=0", ())])
    expect_close(mean, _TRAIN.mean(axis=0), "the returned mean")
    expect_close(centred, _TRAIN - _TRAIN.mean(axis=0), "X_centered")

    train_mean = _TRAIN.mean(axis=0)
    centred, mean = unpack(call(center, _TEST, train_mean), 2, "center(X_test, mean)")
    expect_close(centred, _TEST - train_mean, "center(X_test, mean)[0]",
                 mistakes=[(_TEST_SPLIT.format(what="mean"), _TEST - _TEST.mean(axis=0))])
    expect_close(mean, train_mean, "the mean returned by center(X_test, mean)",
                 mistakes=[(_TEST_SPLIT.format(what="mean"), _TEST.mean(axis=0))])

    centred, mean = unpack(call(center, _IMAGES), 2, "center(images)")
    expect_shape(mean, (2, 3, 3), "the mean of images (N, C, H, W)", mistakes=[
        ("a per-channel mean (C,): center subtracts the mean image X.mean(axis=0), of shape (C, H, W) "
         "(per-channel centring is another function, center_channels)", (2,)),
        ("flattened the images: keep X.mean(axis=0), of shape (C, H, W)", (18,))])
    expect_close(centred, _IMAGES - _IMAGES.mean(axis=0), "center(images)[0]")

    centred, _ = unpack(call(center, _TRAIN.astype(np.float32)), 2, "center(float32 X)")
    expect_dtype(centred, np.float32, "center(float32 X)[0]")
    return "mean per feature (axis 0), the training mean reused for other data, images, float32 kept"


def _zero_std(error: str) -> str:
    return ("likely mistake: divided by a zero standard deviation: a feature that is constant in the training data "
            "(like the always-blank border pixels of the digits) has std 0. Leave such a feature centred: divide "
            "by np.where(std > 0, std, 1)")


@checker
def check_standardize(standardize):
    """standardize(X, mean=None, std=None) -> (X_standardized, mean, std), per feature, reused when given."""
    X = _TRAIN
    mean, std = X.mean(axis=0), X.std(axis=0)
    out = unpack(_call_catching_axis_one(standardize, X), 3, "standardize(X)")
    Z = as_array(out[0], "X_standardized")
    expect_shape(out[2], (4,), "the returned std", mistakes=[(_AXIS_ONE_MEAN, (7,))])
    expect_close(Z, (X - mean) / std, "X_standardized", mistakes=[
        ("divided by the variance: standardizing divides by the standard deviation, the square root of the "
         "variance", (X - mean) / X.var(axis=0)),
        ("divided by np.std(X, axis=0, ddof=1) (N - 1): the course uses the population std (ddof=0, NumPy's "
         "default), the same N as the mean", (X - mean) / X.std(axis=0, ddof=1)),
        ("did not subtract the mean: (X - mean) / std", X / std),
        (_AXIS_ONE_MEAN, (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True))])
    expect_close(out[1], mean, "the returned mean")
    expect_close(out[2], std, "the returned std", mistakes=[
        ("returned the variance: return the standard deviation", X.var(axis=0))])

    out = unpack(call(standardize, _TEST, mean, std), 3, "standardize(X_test, mean, std)")
    expect_close(out[0], (_TEST - mean) / std, "standardize(X_test, mean, std)[0]", mistakes=[
        (_TEST_SPLIT.format(what="mean and std"), (_TEST - _TEST.mean(axis=0)) / _TEST.std(axis=0)),
        (_TEST_SPLIT.format(what="std"), (_TEST - mean) / _TEST.std(axis=0)),
        (_TEST_SPLIT.format(what="mean"), (_TEST - _TEST.mean(axis=0)) / std)])

    with naming_warnings(_zero_std):
        out = unpack(call(standardize, _CONSTANT), 3, "standardize(X with a constant feature)")
    Z, returned_std = as_array(out[0], "X_standardized"), as_array(out[2], "the returned std")
    if Z.shape == _CONSTANT.shape and not np.all(np.isfinite(Z[:, -1])):
        raise Mistake(_zero_std(""))
    expect_close(Z, ref.standardize(_CONSTANT)[0], "X_standardized for a constant feature (std 0)")
    if returned_std.shape != (5,) or not (np.allclose(returned_std[:4], std) and
                                          (abs(returned_std[4]) < 1e-6 or returned_std[4] == 1)):
        raise Mistake(f"with a constant fifth feature the returned std is {returned_std}; expected the std of each "
                      "feature (0, or 1 if you replaced it, for the constant one)")

    Z = unpack(call(standardize, X.astype(np.float32)), 3, "standardize(float32 X)")[0]
    expect_dtype(Z, np.float32, "standardize(float32 X)[0]")
    return ("(X - mean) / std per feature, training statistics reused, a constant feature left centred, "
            "float32 kept")


def _with_signs(components):
    """Each column flipped so that its entry of largest magnitude is positive (the course's convention)."""
    c = np.asarray(components, dtype=np.float64)
    return c * np.sign(c[np.argmax(np.abs(c), axis=0), np.arange(c.shape[1])])


@checker
def check_pca(pca):
    """pca(X, k=None) -> (X_projected, components, explained_variance), as course.preprocess.pca."""
    X = _CLOUD
    n = X.shape[0]
    projected, components, variance = ref.pca(X)
    out = unpack(call(pca, X), 3, "pca(X)")
    got_components = expect_shape(out[1], (3, 3), "components")
    got_variance = expect_shape(out[2], (3,), "explained_variance")
    centred = X - X.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    expect_close(got_variance, variance, "explained_variance", rtol=1e-6, mistakes=[
        ("divided by N - 1 (np.cov's default): the course divides by N, so that explained_variance is the variance "
         "(np.var) of each projected column", variance * n / (n - 1)),
        ("in increasing order (np.linalg.eigh sorts so): put the largest variance first", variance[::-1]),
        ("returned the squared singular values S**2: the variances are S**2 / N", s ** 2),
        ("returned the singular values S: the variances are S**2 / N", s),
        ("returned standard deviations: the variances are S**2 / N", s / np.sqrt(n)),
        ("did not centre X: subtract X.mean(axis=0) before the SVD (or the covariance)",
         np.linalg.svd(X, compute_uv=False) ** 2 / n)])
    if np.allclose(got_components, components[:, ::-1], atol=1e-6) or \
            np.allclose(_with_signs(got_components), components[:, ::-1], atol=1e-6):
        raise Mistake("likely mistake: components in increasing order of variance (np.linalg.eigh sorts so): "
                      "reverse them, largest variance first")
    if np.allclose(_with_signs(np.asarray(got_components, dtype=np.float64).T), components, atol=1e-6):
        raise Mistake("likely mistake: returned the components as rows (Vt of the SVD); return them as columns, "
                      "shape (D, k): vt[:k].T")
    if not np.allclose(got_components, components, atol=1e-6):
        if np.allclose(_with_signs(got_components), components, atol=1e-6):
            raise Mistake("the components' signs differ from the convention: flip each column so that its entry "
                          "of largest magnitude is positive (the docstring's rule, which makes the result "
                          "deterministic), and the projected columns with them")
        expect_close(got_components, components, "components")
    got_projected = expect_shape(out[0], projected.shape, "X_projected")
    if not np.allclose(got_projected, projected, atol=1e-6) and \
            np.allclose(np.abs(got_projected), np.abs(projected), atol=1e-6):
        raise Mistake("the projected columns' signs do not match the components: compute X_projected = Xc @ "
                      "components after fixing the components' signs")
    expect_close(got_projected, projected, "X_projected", mistakes=[
        ("projected X without centring it: X_projected = (X - X.mean(axis=0)) @ components", X @ components),
        ("projected onto the rows of components: X_projected = Xc @ components (columns)", centred @ components.T)])

    out = unpack(call(pca, X, 2), 3, "pca(X, k=2)")
    expect_shape(out[1], (3, 2), "components for k=2", mistakes=[
        ("returned the components as rows (Vt of the SVD); return them as columns, shape (D, k): vt[:k].T", (2, 3))])
    expect_close(out[0], projected[:, :2], "X_projected for k=2")
    expect_close(out[2], variance[:2], "explained_variance for k=2")
    return "centred, components as columns by decreasing variance (signs fixed), variances S^2/N, k kept"


def _no_epsilon(error: str) -> str:
    return ("likely mistake: whitening without the epsilon: a direction of (near) zero variance is divided by "
            "sqrt(0); divide by np.sqrt(explained_variance + eps)")


@checker
def check_whiten(whiten):
    """whiten(X_projected, explained_variance, eps=1e-5) -> X_projected / sqrt(explained_variance + eps)."""
    rng = np.random.default_rng(3)
    P = rng.normal(size=(30, 3)) * [2.0, 1.0, 0.5]
    variance = P.var(axis=0)
    eps = 0.5
    white = expect_shape(call(whiten, P, variance, eps), P.shape, "whiten(X_projected, explained_variance, eps)")
    expect_close(white, P / np.sqrt(variance + eps), "the whitened data", mistakes=[
        ("divided by the variance, not the standard deviation: X_projected / np.sqrt(explained_variance + eps)",
         P / (variance + eps)),
        ("added eps after the square root: divide by np.sqrt(explained_variance + eps)", P / (np.sqrt(variance) + eps)),
        ("ignored eps: divide by np.sqrt(explained_variance + eps)", P / np.sqrt(variance)),
        ("used a fixed eps of 1e-5: use the eps argument", P / np.sqrt(variance + 1e-5))])

    new = rng.normal(size=(10, 3)) * [3.0, 0.5, 1.0]  # new data: its own variances differ from the training ones
    expect_close(call(whiten, new, variance, eps), new / np.sqrt(variance + eps), "whiten(new data, training "
                 "variances)", mistakes=[(_TEST_SPLIT.format(what="variance (explained_variance)"),
                                          new / np.sqrt(new.var(axis=0) + eps))])

    flat = np.column_stack([P[:, :2], np.zeros(30)])  # a direction the training data does not vary in
    with naming_warnings(_no_epsilon):
        white = as_array(call(whiten, flat, np.array([variance[0], variance[1], 0.0])), "whiten(..., variance 0)")
    if white.shape == flat.shape and not np.all(np.isfinite(white)):
        raise Mistake(_no_epsilon(""))
    expect_close(white, flat / np.sqrt(np.array([variance[0], variance[1], 0.0]) + 1e-5),
                 "whiten with the default eps = 1e-5")

    white = call(whiten, P.astype(np.float32), variance.astype(np.float32), eps)
    expect_dtype(white, np.float32, "whiten(float32 data)")
    return "X_projected / sqrt(explained_variance + eps) with the training variances; eps guards a zero variance"



# --- augmentation (lab 06) ---------------------------------------------------------------------------------------

# positive everywhere and two channels: every shift of an image gives a different array, zeros show what came in
_SHIFT_X = 0.5 + np.random.default_rng(606).random((400, 2, 6, 7))
_SHIFT = 2


def _shift_matches(out, X, shift, wrap: bool = False) -> np.ndarray:
    """(N, 2) the (dy, dx) with |dy|, |dx| <= shift that turns each image X[n] (all its channels at once) into
    out[n], out[n, c, i, j] = X[n, c, i - dy, j - dx] with zeros shifted in (or, with ``wrap``, np.roll's wrapped
    pixels); (9999, 9999) where none does."""
    found = np.full((X.shape[0], 2), 9999)
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            if wrap:
                moved = np.roll(X, (dy, dx), axis=(2, 3))
            else:
                moved = np.zeros_like(X)
                h, w = X.shape[2:]
                moved[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                    X[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            hit = np.all(np.isclose(out, moved), axis=(1, 2, 3)) & (found[:, 0] == 9999)
            found[hit] = dy, dx
    return found


def _expect_shifted_copies(out, X, shift) -> np.ndarray:
    """The (dy, dx) of every image of out, a copy of X shifted by whole pixels with zeros shifted in; a Mistake
    naming how it is not."""
    reach = shift + 2  # also find shifts a little beyond max_shift, to name them
    found = _shift_matches(out, X, reach)
    missing = np.flatnonzero(found[:, 0] == 9999)
    if missing.size:
        if np.all(_shift_matches(out, X, reach, wrap=True)[:, 0] != 9999):
            raise Mistake("the image wrapped around (np.roll): pixels pushed off one edge reappear at the other. A "
                          "shift moves in zeros: pad with zeros and crop, or copy into np.zeros_like(X)")
        per_channel = [_shift_matches(out[:, c:c + 1], X[:, c:c + 1], reach) for c in range(X.shape[1])]
        if all(np.all(f[:, 0] != 9999) for f in per_channel):
            raise Mistake("the channels of an image were shifted by different amounts: draw one (dy, dx) per image "
                          "and move all its channels together")
        n = missing[0]
        raise Mistake(f"image {n} of the output is not a copy of X[{n}] shifted by whole pixels with zeros shifted "
                      f"in (tried every shift up to {reach} pixels each way)")
    return found


@checker
def check_random_shift(random_shift):
    """random_shift(X, max_shift, rng) -> a new (N, C, H, W) batch: each image moved by its own whole-pixel (dy, dx),
    each drawn from {-max_shift, ..., max_shift}, zeros shifted in, all channels together, reproducible with rng."""
    out = expect_shape(call(random_shift, _SHIFT_X, _SHIFT, rng=np.random.default_rng(0)), _SHIFT_X.shape,
                       "random_shift output")
    expect_dtype(out, _SHIFT_X.dtype, "random_shift output")
    shifts = _expect_shifted_copies(out, _SHIFT_X, _SHIFT)
    if np.abs(shifts).max() > _SHIFT:
        raise Mistake(f"shifted by up to {np.abs(shifts).max()} pixels with max_shift = {_SHIFT}: draw dy and dx from "
                      f"-max_shift to +max_shift")
    if np.all(shifts == shifts[0]):
        raise Mistake("one shift for the whole batch: every image moved by the same (dy, dx); draw one per image, "
                      "e.g. rng.integers(-max_shift, max_shift + 1, size=(2, N))")
    for axis, name in ((0, "rows (dy)"), (1, "columns (dx)")):
        values = set(shifts[:, axis].tolist())
        if values == {0}:
            raise Mistake(f"never shifted along the {name}: shift both ways, up-down and left-right")
        if values == set(range(-_SHIFT, _SHIFT)):
            raise Mistake(f"never shifted by +max_shift: rng.integers(-max_shift, max_shift) excludes its upper end; "
                          "use rng.integers(-max_shift, max_shift + 1)")
        if min(values) >= 0:
            raise Mistake(f"shifts along the {name} only one way ({sorted(values)}): draw from -max_shift to "
                          "+max_shift")
        if values != set(range(-_SHIFT, _SHIFT + 1)):
            raise Mistake(f"shifts along the {name} drawn from {sorted(values)} over {len(shifts)} images; expected "
                          f"every value from -{_SHIFT} to {_SHIFT}")
    again = call(random_shift, _SHIFT_X, _SHIFT, rng=np.random.default_rng(0))
    if not np.array_equal(again, out):
        raise Mistake("two calls with generators seeded alike shifted differently: draw the shifts from the rng "
                      "passed in (rng = np.random.default_rng(rng)), not from np.random")
    if np.array_equal(call(random_shift, _SHIFT_X, _SHIFT, rng=np.random.default_rng(1)), out):
        raise Mistake("rng ignored: generators seeded 0 and 1 gave the same shifts; draw them from the rng passed in")
    if not np.array_equal(call(random_shift, _SHIFT_X, _SHIFT, rng=5), call(random_shift, _SHIFT_X, _SHIFT, rng=5)):
        raise Mistake("rng = 5 (a seed) gave different shifts on two calls: accept a seed or a Generator with "
                      "rng = np.random.default_rng(rng)")
    expect_close(call(random_shift, _SHIFT_X, 0, rng=0), _SHIFT_X, "random_shift with max_shift = 0 (the identity)")
    expect_dtype(call(random_shift, _SHIFT_X.astype(np.float32), 1, rng=0), np.float32, "random_shift output")
    return (f"every image shifted by its own (dy, dx) in [-{_SHIFT}, {_SHIFT}], zeros shifted in, channels together, "
            "reproducible with rng, float32 kept")

# Checks go above this line; each is a function check_<name> decorated with @checker.

__all__ = sorted(name for name in dir() if name.startswith("check_"))
