"""Hyperparameter search (random and grid) and model ensembles.

Two rules of thumb from practice:

- Search multiplicative hyperparameters (learning rate, regularization strength) on a log scale: 1e-5 and 1e-4
  differ as much as 1e-2 and 1e-1, so sample the exponent uniformly (``("log", 1e-5, 1e-1)``). Parameters
  that act additively (dropout keep probability) are searched on their own scale (``("uniform", 0.3, 1.0)``).
- Prefer random search to grid search (Bergstra & Bengio, 2012, "Random search for hyper-parameter
  optimization"): when only a few hyperparameters really matter, a grid of n values per axis tries only n
  distinct values of each important one, while n**d random trials try n**d distinct values of every one.
  Search coarse to fine: a wide range for a few epochs, then a narrower one around the best results.

A ``train_fn(**params)`` returns a score, higher is better (a validation accuracy), or a dict holding 'score'
and anything else worth keeping (the model, its history). Searches return a list of result dicts, best first:
``{"params": {...}, "score": s, ...}``. A NaN score (a run that diverged) ranks last.
"""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from course._validate import as_float_array, check_ndim, check_int, check_scalar
from course.losses import softmax

_SPEC_KINDS = ("log", "uniform", "choice")


def log_uniform(low: float, high: float, size=None, rng: np.random.Generator | int | None = None):
    """Samples whose logarithm is uniform: exp(U(log low, log high)), so every decade is equally likely.

    Inputs: 0 < low < high; size as for NumPy (None for one float); rng a Generator, a seed or None.
    Returns a float (size None) or an array of the given size, all within [low, high].
    """
    low = check_scalar(low, "low", low=0, low_open=True)
    high = check_scalar(high, "high", low=0, low_open=True)
    if not low < high:
        raise ValueError(f"log_uniform needs low < high; got low = {low}, high = {high}")
    sample = np.exp(np.random.default_rng(rng).uniform(np.log(low), np.log(high), size=size))
    sample = np.clip(sample, low, high)  # exp(log(x)) can land one rounding step outside the range
    return float(sample) if size is None else sample


def _check_space(space: dict) -> None:
    """Raise a clear error for a search space that is not {name: (kind, ...)} with a known kind."""
    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict mapping names to specs; got {space!r}")
    for name, spec in space.items():
        kind = spec[0] if isinstance(spec, (tuple, list)) and spec else None
        if kind == "choice" and len(spec) == 2 and isinstance(spec[1], (list, tuple, range)) and len(spec[1]) > 0:
            continue
        if kind in ("log", "uniform") and len(spec) == 3:
            low = check_scalar(spec[1], f"space['{name}'] low", low=0 if kind == "log" else None,
                               low_open=kind == "log")
            if not low < check_scalar(spec[2], f"space['{name}'] high"):
                raise ValueError(f"space['{name}'] needs low < high; got {spec!r}")
            continue
        raise ValueError(f"space['{name}'] must be ('log', low, high), ('uniform', low, high) or "
                         f"('choice', [values...]); got {spec!r}")


def _sample(spec: tuple, rng: np.random.Generator):
    kind = spec[0]
    if kind == "log":
        return log_uniform(spec[1], spec[2], rng=rng)
    if kind == "uniform":
        return float(rng.uniform(spec[1], spec[2]))
    return spec[1][rng.integers(len(spec[1]))]


def _run_trials(train_fn, param_sets) -> list[dict]:
    """Call train_fn(**params) for each params dict; return the results sorted best first (NaN last)."""
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable as train_fn(**params); got {type(train_fn).__name__}")
    results = []
    for params in param_sets:
        outcome = train_fn(**params)
        outcome = dict(outcome) if isinstance(outcome, dict) else {"score": outcome}
        score = outcome.get("score")
        if isinstance(score, bool) or not isinstance(score, numbers.Real):
            raise TypeError(f"train_fn must return a number (higher is better) or a dict with a 'score' number; "
                            f"got score {score!r} for params {params}")
        results.append({**outcome, "params": params, "score": float(score)})
    return sorted(results, key=lambda r: (np.isnan(r["score"]), -r["score"]))


def random_search(train_fn, space: dict, n_trials: int, rng: np.random.Generator | int | None = None) -> list[dict]:
    """Train ``n_trials`` times with hyperparameters drawn at random from ``space``.

    Inputs:
    - train_fn: train_fn(**params) -> score, or a dict with 'score' (higher is better)
    - space: name -> ("log", low, high) | ("uniform", low, high) | ("choice", [values...])
    - n_trials: number of trials (integer >= 1)
    - rng: a Generator or a seed; the same seed draws the same trials

    Returns the list of results, best first: dicts with "params", "score" and whatever else train_fn returned.
    """
    _check_space(space)
    check_int(n_trials, "n_trials")
    rng = np.random.default_rng(rng)
    trials = [{name: _sample(spec, rng) for name, spec in space.items()} for _ in range(n_trials)]
    return _run_trials(train_fn, trials)


def grid_search(train_fn, grid: dict) -> list[dict]:
    """Train once for every combination of the values in ``grid`` (name -> list of values).

    The number of trials is the product of the list lengths: it grows exponentially with the number of
    hyperparameters, which is one reason to prefer :func:`random_search`.
    Returns the list of results, best first, as :func:`random_search` does.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict mapping names to lists of values; got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"grid['{name}'] must be a non-empty list of values; got {values!r}")
    names = list(grid)
    return _run_trials(train_fn, [dict(zip(names, combo)) for combo in itertools.product(*grid.values())])


def ensemble_predict(models, X):
    """Average the class probabilities of several models (an ensemble). The average is usually more accurate
    than a typical member, by a margin that shrinks as the members get better and agree more (lab 07 measures
    about 2 points for small networks at 93% and about 1 point at 96%); it costs one model's compute per member.

    Inputs:
    - models: a non-empty list of models with a ``scores(X)`` method, or of callables X -> scores; each
      returns class scores (logits) of shape (N, C)
    - X: the inputs, passed unchanged to each model

    Returns (y_pred, probs): y_pred (N,) the predicted classes, probs (N, C) the mean over the models of
    softmax(scores).
    """
    if isinstance(models, (str, bytes)) or not hasattr(models, "__len__") or len(models) == 0:
        raise ValueError(f"models must be a non-empty list of models or score functions; got {models!r}")
    probs = None
    for i, model in enumerate(models):
        score_fn = getattr(model, "scores", model)
        if not callable(score_fn):
            raise TypeError(f"models[{i}] must have a scores(X) method or be callable; got {type(model).__name__}")
        scores = as_float_array(score_fn(X), f"scores of models[{i}]")
        check_ndim(scores, 2, f"scores of models[{i}]", "(N, C)")
        if probs is not None and scores.shape != probs.shape:
            raise ValueError(f"every model must return scores of one shape (N, C); models[0] gave {probs.shape}, "
                             f"models[{i}] gave {scores.shape}")
        p = softmax(scores)
        probs = p if probs is None else probs + p
    probs = probs / len(models)
    return probs.argmax(axis=1), probs
