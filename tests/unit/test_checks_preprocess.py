"""course.checks.preprocess: correct implementations pass, stubs are "not implemented yet", and each likely mistake
is named."""
import numpy as np
import pytest

from course import preprocess as ref
from course.checks import preprocess as CP


# --- the implementations a student writes in lab 02 --------------------------------------------------------------

def center(X, mean=None):
    if mean is None:
        mean = X.mean(axis=0)
    return X - mean, mean


def standardize(X, mean=None, std=None):
    if mean is None:
        mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1), mean, std


def pca(X, k=None):
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    k = min(X.shape) if k is None else k
    components = vt[:k].T
    components = components * np.sign(components[np.abs(components).argmax(axis=0), np.arange(k)])
    return Xc @ components, components, s[:k] ** 2 / X.shape[0]


def pca_eigh(X, k=None):
    """Another correct way: the eigen decomposition of the covariance."""
    Xc = X - X.mean(axis=0)
    variance, vectors = np.linalg.eigh(Xc.T @ Xc / X.shape[0])
    order = np.argsort(variance)[::-1][:min(X.shape) if k is None else k]
    components = vectors[:, order]
    components = components * np.sign(components[np.abs(components).argmax(axis=0), np.arange(components.shape[1])])
    return Xc @ components, components, variance[order]


def whiten(X_projected, explained_variance, eps=1e-5):
    return X_projected / np.sqrt(explained_variance + eps)


def stub(*args, **kwargs):
    raise NotImplementedError


CORRECT = [("check_center", center), ("check_center", ref.center), ("check_standardize", standardize),
           ("check_standardize", ref.standardize), ("check_pca", pca), ("check_pca", pca_eigh),
           ("check_pca", ref.pca), ("check_whiten", whiten), ("check_whiten", ref.whiten)]


@pytest.mark.parametrize("check, func", CORRECT, ids=[f"{c}-{f.__module__}.{f.__name__}" for c, f in CORRECT])
def test_a_correct_implementation_passes(check, func):
    result = getattr(CP, check).evaluate(func)
    assert result.passed, result.message


@pytest.mark.parametrize("check", ["check_center", "check_standardize", "check_pca", "check_whiten"])
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert getattr(CP, check).evaluate(stub).status == "not implemented"
    getattr(CP, check)(stub)
    assert "not implemented yet" in capsys.readouterr().out


def test_every_check_is_exported():
    import course.checks as checks
    assert {"check_center", "check_standardize", "check_pca", "check_whiten"} <= set(CP.__all__) & set(dir(checks))


# --- the mistakes ----------------------------------------------------------------------------------------------

def center_axis_one(X, mean=None):
    return X - np.mean(X, axis=1), np.mean(X, axis=1)  # the lecture notes' X -= np.mean(X, axis=1)


def center_axis_one_keepdims(X, mean=None):
    mean = X.mean(axis=1, keepdims=True)
    return X - mean, mean


def center_whole_array(X, mean=None):
    mean = X.mean() if mean is None else mean
    return X - mean, mean


def center_recomputes(X, mean=None):
    return X - X.mean(axis=0), X.mean(axis=0)  # statistics taken from the test split


def center_in_place(X, mean=None):
    mean = X.mean(axis=0) if mean is None else mean
    X -= mean
    return X, mean


def center_per_channel(X, mean=None):
    if X.ndim == 4:
        mean = X.mean(axis=(0, 2, 3))
        return X - mean[:, None, None], mean
    return center(X, mean)


def standardize_variance(X, mean=None, std=None):
    mean = X.mean(axis=0)
    return (X - mean) / X.var(axis=0), mean, X.var(axis=0)


def standardize_ddof(X, mean=None, std=None):
    mean, std = X.mean(axis=0), X.std(axis=0, ddof=1)
    return (X - mean) / std, mean, std


def standardize_recomputes(X, mean=None, std=None):
    mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1), mean, std


def standardize_keeps_test_mean(X, mean=None, std=None):
    std = X.std(axis=0) if std is None else std
    mean = X.mean(axis=0)
    return (X - mean) / np.where(std > 0, std, 1), mean, std


def standardize_zero_std(X, mean=None, std=None):
    if mean is None:
        mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / std, mean, std


def standardize_not_centred(X, mean=None, std=None):
    if mean is None:
        mean, std = X.mean(axis=0), X.std(axis=0)
    return X / np.where(std > 0, std, 1), mean, std


def pca_cov_n_minus_one(X, k=None):
    projected, components, variance = pca(X, k)
    return projected, components, variance * X.shape[0] / (X.shape[0] - 1)  # np.cov's default


def pca_ascending(X, k=None):
    Xc = X - X.mean(axis=0)
    variance, vectors = np.linalg.eigh(Xc.T @ Xc / X.shape[0])
    k = min(X.shape) if k is None else k
    return Xc @ vectors[:, :k], vectors[:, :k], variance[:k]


def pca_rows(X, k=None):
    projected, components, variance = pca(X, k)
    return projected, components.T, variance


def pca_not_centred(X, k=None):
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    k = min(X.shape) if k is None else k
    return X @ vt[:k].T, vt[:k].T, s[:k] ** 2 / X.shape[0]


def pca_singular_values(X, k=None):
    projected, components, variance = pca(X, k)
    return projected, components, np.sqrt(variance * X.shape[0])


def pca_unsigned(X, k=None):
    projected, components, variance = pca(X, k)
    return -projected, -components, variance  # consistent, but against the sign convention


def pca_projects_uncentred(X, k=None):
    _, components, variance = pca(X, k)
    return X @ components, components, variance


def whiten_no_eps(X_projected, explained_variance, eps=1e-5):
    return X_projected / np.sqrt(explained_variance)


def whiten_variance(X_projected, explained_variance, eps=1e-5):
    return X_projected / (explained_variance + eps)


def whiten_eps_outside(X_projected, explained_variance, eps=1e-5):
    return X_projected / (np.sqrt(explained_variance) + eps)


def whiten_recomputes(X_projected, explained_variance, eps=1e-5):
    return X_projected / np.sqrt(X_projected.var(axis=0) + eps)


def whiten_fixed_eps(X_projected, explained_variance, eps=1e-5):
    return X_projected / np.sqrt(explained_variance + 1e-5)


MISTAKES = [
    ("check_center", center_axis_one, "the mean over axis=1, as some lecture notes write"),
    ("check_center", center_axis_one_keepdims, "the mean over axis=1"),
    ("check_center", center_whole_array, "one mean for the whole array"),
    ("check_center", center_recomputes, "statistics taken from the data passed in"),
    ("check_center", center_in_place, "modified its argument #1 in place"),
    ("check_center", center_per_channel, "a per-channel mean (C,)"),
    ("check_standardize", standardize_variance, "divided by the variance"),
    ("check_standardize", standardize_ddof, "ddof=1"),
    ("check_standardize", standardize_recomputes, "statistics taken from the data passed in: when the training "
                                                  "mean and std is given"),
    ("check_standardize", standardize_keeps_test_mean, "when the training mean is given"),
    ("check_standardize", standardize_zero_std, "divided by a zero standard deviation"),
    ("check_standardize", standardize_not_centred, "did not subtract the mean"),
    ("check_pca", pca_cov_n_minus_one, "divided by N - 1 (np.cov's default)"),
    ("check_pca", pca_ascending, "in increasing order"),
    ("check_pca", pca_rows, "returned the components as rows"),
    ("check_pca", pca_not_centred, "did not centre X"),
    ("check_pca", pca_singular_values, "returned the singular values S"),
    ("check_pca", pca_unsigned, "signs differ from the convention"),
    ("check_pca", pca_projects_uncentred, "projected X without centring it"),
    ("check_whiten", whiten_no_eps, "ignored eps"),
    ("check_whiten", whiten_variance, "divided by the variance, not the standard deviation"),
    ("check_whiten", whiten_eps_outside, "added eps after the square root"),
    ("check_whiten", whiten_recomputes, "statistics taken from the data passed in"),
    ("check_whiten", whiten_fixed_eps, "used a fixed eps of 1e-5"),
]


@pytest.mark.parametrize("check, func, phrase", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
def test_each_mistake_is_named(check, func, phrase):
    result = getattr(CP, check).evaluate(func)
    assert result.status == "failed", result.message
    assert phrase in result.detail, result.message


def test_whitening_without_epsilon_is_named_where_a_variance_is_zero():
    def whiten_without_eps(X_projected, explained_variance, eps=1e-5):
        # eps used only when positive variances would otherwise hide it: the division by sqrt(0) remains
        return X_projected / np.sqrt(np.where(explained_variance > 0, explained_variance + eps, explained_variance))

    result = CP.check_whiten.evaluate(whiten_without_eps)
    assert result.status == "failed" and "whitening without the epsilon" in result.detail, result.message


def test_checks_leave_their_data_unchanged():
    before = [a.copy() for a in (CP._TRAIN, CP._TEST, CP._CLOUD, CP._IMAGES)]
    for check, func in CORRECT + [(c, f) for c, f, _ in MISTAKES]:
        getattr(CP, check).evaluate(func)
    for a, b in zip(before, (CP._TRAIN, CP._TEST, CP._CLOUD, CP._IMAGES)):
        np.testing.assert_array_equal(a, b)
