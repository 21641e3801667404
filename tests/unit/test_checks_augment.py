"""check_random_shift (course.checks.preprocess): lab 06's augmentation. Wrapping around with np.roll, an exclusive
upper end, one shift for the whole batch, the global random state, channels shifted apart, rows only and a lost
float32 are each named; the lab's solution and the reference pass; a stub is "not implemented yet"."""
import numpy as np
import pytest

from course import preprocess

from test_checks_harness import assert_named, result


def cropped(X, dy, dx):
    """Every image of X moved by its own (dy[n], dx[n]), zeros shifted in."""
    n, _, h, w = X.shape
    m = int(max(np.abs(dy).max(), np.abs(dx).max()))
    padded = np.pad(X, ((0, 0), (0, 0), (m, m), (m, m)))
    out = np.empty_like(X)
    for i in range(n):
        out[i] = padded[i, :, m - dy[i]:m - dy[i] + h, m - dx[i]:m - dx[i] + w]
    return out


def drawing(draw):
    """A random_shift right except for how the shifts are drawn: draw(rng, m, n) -> (dy, dx)."""
    def random_shift(X, max_shift=1, rng=None):
        dy, dx = draw(np.random.default_rng(rng), max_shift, X.shape[0])
        return cropped(X, dy, dx)
    return random_shift


lab_solution = drawing(lambda rng, m, n: rng.integers(-m, m + 1, size=(2, n)))


def rolled(X, max_shift=1, rng=None):
    rng = np.random.default_rng(rng)
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        out[i] = np.roll(X[i], tuple(rng.integers(-max_shift, max_shift + 1, size=2)), axis=(1, 2))
    return out


def channels_apart(X, max_shift=1, rng=None):
    rng = np.random.default_rng(rng)
    return np.concatenate([lab_solution(X[:, c:c + 1], max_shift, rng) for c in range(X.shape[1])], axis=1)


def stub(X, max_shift=1, rng=None):
    raise NotImplementedError


def test_the_lab_solution_and_the_reference_pass():
    assert result("check_random_shift", lab_solution).passed
    assert result("check_random_shift", preprocess.random_shift).passed
    assert result("check_random_shift", stub).status == "not implemented"


@pytest.mark.parametrize("wrong, phrase", [
    (rolled, "wrapped around (np.roll)"),
    (drawing(lambda rng, m, n: rng.integers(-m, m, size=(2, n))), "rng.integers(-max_shift, max_shift) excludes"),
    (drawing(lambda rng, m, n: rng.integers(0, m + 1, size=(2, n))), "only one way"),
    (drawing(lambda rng, m, n: np.repeat(rng.integers(-m, m + 1, size=(2, 1)), n, axis=1)),
     "one shift for the whole batch"),
    (drawing(lambda rng, m, n: np.random.default_rng().integers(-m, m + 1, size=(2, n))),
     "draw the shifts from the rng passed in"),
    (drawing(lambda rng, m, n: np.random.default_rng(0).integers(-m, m + 1, size=(2, n))), "rng ignored"),
    (drawing(lambda rng, m, n: (rng.integers(-m, m + 1, size=n), np.zeros(n, dtype=int))),
     "never shifted along the columns"),
    (drawing(lambda rng, m, n: rng.integers(-m - 1, m + 2, size=(2, n))), "with max_shift = 2"),
    (channels_apart, "channels of an image were shifted by different amounts"),
    (lambda X, max_shift=1, rng=None: lab_solution(X, max_shift, rng).astype(np.float64), "keep the input's dtype"),
], ids=["roll", "exclusive-end", "one-way", "one-for-the-batch", "global-rng", "fixed-seed", "rows-only",
        "too-far", "channels-apart", "float32-lost"])
def test_each_mistake_is_named(wrong, phrase):
    assert_named(result("check_random_shift", wrong), phrase)


def test_the_check_never_changes_the_images_it_is_given():
    def shifts_in_place(X, max_shift=1, rng=None):
        X[:] = lab_solution(X, max_shift, rng)
        return X

    assert_named(result("check_random_shift", shifts_in_place), "modified its argument #1 in place")
