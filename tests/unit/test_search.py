"""Hyperparameter search and ensembles (course.search)."""
import numpy as np
import pytest

from course import search

SPACE = {"lr": ("log", 1e-5, 1e-1), "keep": ("uniform", 0.3, 1.0), "act": ("choice", ["relu", "tanh"])}


def _score(lr, keep, act):
    """Best near lr = 1e-3 and keep = 0.8; tanh slightly worse."""
    return -abs(np.log10(lr) + 3) - abs(keep - 0.8) - (0.1 if act == "tanh" else 0.0)


def test_log_uniform_range_and_decades_equally_likely():
    x = search.log_uniform(1e-6, 1e-1, size=50_000, rng=0)
    assert x.shape == (50_000,) and x.min() >= 1e-6 and x.max() <= 1e-1
    per_decade = np.histogram(np.log10(x), bins=5, range=(-6, -1))[0] / x.size
    np.testing.assert_allclose(per_decade, 0.2, atol=0.01)
    one = search.log_uniform(1e-3, 1e-2, rng=np.random.default_rng(1))
    assert isinstance(one, float) and 1e-3 <= one <= 1e-2


def test_log_uniform_reproducible_with_a_seed():
    first, second = (search.log_uniform(1e-4, 1, size=5, rng=3) for _ in range(2))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("low, high, message", [(0.0, 1.0, "low must be > 0"), (1e-2, 1e-3, "needs low < high"),
                                                (-1.0, 1.0, "low must be > 0")])
def test_log_uniform_bad_range(low, high, message):
    with pytest.raises(ValueError, match=message):
        search.log_uniform(low, high)


def test_random_search_sorted_reproducible_and_in_range():
    results = search.random_search(_score, SPACE, 30, rng=42)
    assert len(results) == 30
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert results[0]["score"] == pytest.approx(_score(**results[0]["params"]))
    for r in results:
        p = r["params"]
        assert set(p) == {"lr", "keep", "act"}
        assert 1e-5 <= p["lr"] <= 1e-1 and 0.3 <= p["keep"] <= 1.0 and p["act"] in ("relu", "tanh")
    again = search.random_search(_score, SPACE, 30, rng=42)
    assert [r["params"] for r in again] == [r["params"] for r in results]
    other = search.random_search(_score, SPACE, 30, rng=43)
    assert [r["params"] for r in other] != [r["params"] for r in results]


def test_grid_search_tries_every_combination_best_first():
    calls = []

    def train(lr, reg):
        calls.append((lr, reg))
        return {"score": -abs(lr - 1e-2) - reg, "model": f"net-{lr}-{reg}"}
    results = search.grid_search(train, {"lr": [1e-3, 1e-2, 1e-1], "reg": [0.0, 0.5]})
    assert len(calls) == 6 and len(set(calls)) == 6
    assert results[0]["params"] == {"lr": 1e-2, "reg": 0.0} and results[0]["model"] == "net-0.01-0.0"
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_diverged_runs_rank_last():
    results = search.grid_search(lambda lr: float("nan") if lr > 1 else -lr, {"lr": [10.0, 0.1, 0.5]})
    assert [r["params"]["lr"] for r in results] == [0.1, 0.5, 10.0]
    assert np.isnan(results[-1]["score"])


@pytest.mark.parametrize("space, message", [
    ({}, "space must be a non-empty dict"),
    ({"lr": ("log", 0.0, 1e-1)}, r"space\['lr'\] low must be > 0"),
    ({"lr": ("log", 1e-1, 1e-3)}, r"space\['lr'\] needs low < high"),
    ({"lr": ("logarithmic", 1e-5, 1e-1)}, r"space\['lr'\] must be \('log', low, high\)"),
    ({"act": ("choice", [])}, r"space\['act'\] must be"),
    ({"lr": 0.01}, r"space\['lr'\] must be"),
])
def test_random_search_bad_space(space, message):
    with pytest.raises(ValueError, match=message):
        search.random_search(_score, space, 3, rng=0)


def test_search_bad_arguments():
    with pytest.raises(ValueError, match="n_trials must be an integer >= 1; got 0"):
        search.random_search(_score, SPACE, 0)
    with pytest.raises(ValueError, match=r"grid\['reg'\] must be a non-empty list of values"):
        search.grid_search(_score, {"lr": [1e-3], "reg": []})
    with pytest.raises(TypeError, match="train_fn must return a number .* or a dict with a 'score' number"):
        search.grid_search(lambda lr: {"accuracy": 0.9}, {"lr": [1e-3]})
    with pytest.raises(TypeError, match="train_fn must be callable"):
        search.grid_search("train", {"lr": [1e-3]})


class _Linear:
    def __init__(self, w):
        self.w = w

    def scores(self, X):
        return X @ self.w


def test_ensemble_averages_softmax_probabilities():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4))
    models = [_Linear(rng.normal(size=(4, 3))) for _ in range(2)]
    score_fn = lambda X: 1000.0 * X[:, :3]   # huge scores: the softmax must stay finite
    pred, probs = search.ensemble_predict(models + [score_fn], X)

    def softmax(s):
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    expected = (softmax(X @ models[0].w) + softmax(X @ models[1].w) + softmax(1000.0 * X[:, :3])) / 3
    assert probs.shape == (6, 3) and np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs, expected, rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(pred, expected.argmax(axis=1))


@pytest.mark.filterwarnings("error")
def test_ensemble_of_scores_spanning_the_float_range():
    pred, probs = search.ensemble_predict([lambda X: X, lambda X: -X], np.array([[1e308, -1e308, 0.0]]))
    np.testing.assert_allclose(probs, [[0.5, 0.5, 0.0]])
    assert pred[0] in (0, 1)


def test_ensemble_bad_input():
    X = np.ones((2, 4))
    with pytest.raises(ValueError, match="models must be a non-empty list"):
        search.ensemble_predict([], X)
    with pytest.raises(TypeError, match=r"models\[1\] must have a scores\(X\) method or be callable"):
        search.ensemble_predict([_Linear(np.ones((4, 3))), 3], X)
    with pytest.raises(ValueError, match=r"one shape \(N, C\); models\[0\] gave \(2, 3\), models\[1\] gave \(2, 2\)"):
        search.ensemble_predict([_Linear(np.ones((4, 3))), _Linear(np.ones((4, 2)))], X)
    with pytest.raises(ValueError, match=r"scores of models\[0\] must have shape \(N, C\)"):
        search.ensemble_predict([lambda X: np.ones(2)], X)
