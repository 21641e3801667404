"""Lab 04's experiments: optimization as search, finite differences, minibatch noise, and the learning slowdown
of a sigmoid neuron under the quadratic cost.

- Search. A linear softmax classifier on the 8x8 digits (:func:`linear_digits`) is trained four ways with the
  same budget of loss evaluations: random weights (a guess), the best of many random weights (random search),
  random steps kept when they lower the loss (random local search), and steps against the gradient
  (:func:`search_progression`, :func:`gradient_descent`). Every method runs for many seeds at once: their weights
  are stacked and scored in one matrix product.
- Finite differences. The derivative of a 1-D function estimated by centred and one-sided differences for a range
  of steps h, in float64 or float32 (:func:`difference_errors`): truncation error falls with h, round-off error
  rises, and a kink within h of the point spoils both. :func:`finite_differences` is the naive numerical gradient
  (one-sided if asked, in the dtype it is given), to show what the course's ``eval_numerical_gradient`` avoids.
  :func:`svm_kink_errors` checks every coordinate of many linear SVM problems, to count the kinks a step crosses.
- Minibatches. How far a minibatch gradient is from the full-batch one (:func:`minibatch_gradient_noise`),
  minibatch gradient descent run for several seeds at once (:func:`minibatch_descent`), and at many learning rates
  at once (:func:`learning_rate_sweep`).
- Slowdown. Nielsen's neuron learning to map the input 1 to the output 0 (:func:`train_sigmoid_neuron`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course import data, losses
from course.activations import sigmoid
from course._validate import as_float_array, check_int, check_scalar

__all__ = ["COSTS", "LinearData", "MinibatchRun", "NeuronRun", "SearchProgression", "best_step", "difference_errors",
           "epochs_to_reach", "finite_differences", "gradient_descent", "kinked_exp", "learning_rate_sweep",
           "linear_digits", "matched_rate", "minibatch_descent", "minibatch_gradient_noise", "relative_errors",
           "round_off_guide", "search_progression", "softmax_losses", "svm_kink_errors", "svm_losses",
           "train_sigmoid_neuron", "truncation_guides"]


# --- a linear classifier on the digits ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LinearData:
    """Digits for a linear classifier: pixels / 16, centred on the training mean, with a constant 1 appended (the
    bias trick: W's last row holds the biases). X_train (N, D + 1), y_train (N,), X_test (M, D + 1), y_test (M,)."""
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def linear_digits(n_train: int | None = 300, test: float = 0.3, seed: int = 0) -> LinearData:
    """The shipped 8x8 digits split into training and test parts (``test`` of them, stratified, shuffled with
    ``seed``), the training part cut to its first ``n_train`` examples (None keeps them all)."""
    X, y = data.digits()
    split = data.train_val_test_split(X.reshape(len(X), -1) / 16, y, val=0.0, test=test, seed=seed)
    X_train, y_train = split["X_train"][:n_train], split["y_train"][:n_train]
    mean = X_train.mean(axis=0)

    def features(X):
        return np.hstack([X - mean, np.ones((len(X), 1))])
    return LinearData(features(X_train), y_train, features(split["X_test"]), split["y_test"])


def _scores(X, W):
    """Scores (K, N, C) of K stacked weights W (K, D, C) on X (N, D), in one matrix product."""
    k, d, c = W.shape
    return (X @ W.transpose(1, 0, 2).reshape(d, k * c)).reshape(len(X), k, c).transpose(1, 0, 2)


def _probabilities(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_losses(X, y, W) -> np.ndarray:
    """Softmax loss of each of K stacked weights W (K, D, C) on X (N, D), labels y (N,): returns (K,), each the
    mean over the N examples, as course.losses.softmax_loss computes it for one W."""
    scores = _scores(X, W)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=-1))
    return (log_sum - shifted[:, np.arange(len(y)), y]).mean(axis=-1)


def _accuracies(X, y, W):
    return (_scores(X, W).argmax(axis=-1) == y).mean(axis=-1)


def _softmax_gradients(X, y, W):
    """The gradients (K, D, C) of the softmax loss for K stacked weights W (K, D, C)."""
    dscores = _probabilities(_scores(X, W))
    dscores[:, np.arange(len(y)), y] -= 1
    k, d, c = W.shape
    flat = dscores.transpose(1, 0, 2).reshape(len(X), k * c)
    return (X.T @ flat).reshape(d, k, c).transpose(1, 0, 2) / len(X)


@dataclass(frozen=True)
class SearchProgression:
    """Test accuracy (S,) and final training loss (S,) per method over S seeds, each method given the same
    number of loss evaluations (``budget``). ``accuracy`` and ``loss`` map the method's name to the arrays."""
    accuracy: dict
    loss: dict
    budget: int


def search_progression(linear: LinearData, seeds=range(10), budget: int = 500, scale: float = 0.01,
                       step: float = 0.01, learning_rate: float = 1.0) -> SearchProgression:
    """Four ways to choose the weights W (D, C) of a linear softmax classifier, each with ``budget`` loss
    evaluations, for every seed:

    - "random guess": one W ~ scale * N(0, 1);
    - "random search": the W of lowest training loss among ``budget`` such draws;
    - "random local search": from a random W, try W + step * N(0, 1) ``budget`` times, keeping a try that lowers
      the training loss;
    - "gradient descent": from a random W, ``budget`` steps W <- W - learning_rate * dL/dW.

    The seeds run together (their weights stacked), each from its own generator. Returns a SearchProgression.
    """
    budget = check_int(budget, "budget")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    X, y = linear.X_train, linear.y_train
    shape = (X.shape[1], int(max(y.max(), linear.y_test.max())) + 1)
    rngs = [np.random.default_rng(seed) for seed in seeds]

    def draw(scale_):
        return np.stack([rng.normal(size=shape) for rng in rngs]) * scale_

    found = {"random guess": draw(scale)}
    best = []
    for rng in rngs:
        tries = rng.normal(size=(budget, *shape)) * scale
        best.append(tries[np.argmin(softmax_losses(X, y, tries))])
    found["random search"] = np.stack(best)
    W = draw(scale)
    loss = softmax_losses(X, y, W)
    for _ in range(budget):
        trial = W + draw(step)
        trial_loss = softmax_losses(X, y, trial)
        better = trial_loss < loss
        W[better], loss[better] = trial[better], trial_loss[better]
    found["random local search"] = W
    found["gradient descent"] = gradient_descent(linear, draw(scale), budget, learning_rate)
    return SearchProgression({name: _accuracies(linear.X_test, linear.y_test, W) for name, W in found.items()},
                             {name: softmax_losses(X, y, W) for name, W in found.items()}, budget)


def gradient_descent(linear: LinearData, W, steps: int, learning_rate: float = 1.0) -> np.ndarray:
    """``steps`` steps of full-batch gradient descent W <- W - learning_rate * dL/dW on the softmax loss of
    linear's training set, from K stacked weights W (K, D, C) at once. Returns the final weights (K, D, C)."""
    W = np.asarray(W, dtype=np.float64)
    learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
    for _ in range(check_int(steps, "steps", low=0)):
        W = W - learning_rate * _softmax_gradients(linear.X_train, linear.y_train, W)
    return W


# --- finite differences -------------------------------------------------------------------------------------------

def relative_errors(analytic, numeric) -> np.ndarray:
    """Entry by entry |a - n| / max(1e-8, |a| + |n|): the relative error course.gradcheck.rel_error takes the
    maximum of. Both arrays of one shape; returns that shape."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))


def finite_differences(f, x: np.ndarray, h: float = 1e-5, one_sided: bool = False) -> np.ndarray:
    """The naive numerical gradient of a scalar f at x, computed in x's dtype (float32 stays float32, which
    course.gradcheck refuses): (f(x + h e_i) - f(x - h e_i)) / 2h, or with ``one_sided`` the lecture notes'
    (f(x + h e_i) - f(x)) / h. f gets a perturbed copy of x; x is not changed. Returns an array shaped like x."""
    x = as_float_array(x, "x").copy()
    h = x.dtype.type(check_scalar(h, "h (the step)", low=0, low_open=True))
    grad = np.zeros_like(x)
    centre = f(x) if one_sided else None
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        grad[ix] = (plus - centre) / h if one_sided else (plus - f(x)) / (2 * h)
        x[ix] = old
    return grad


def kinked_exp(x, kink):
    """e^x + 2 max(0, x - kink): e^x with a kink (its slope jumps by 2) at x = kink. Any float array x; the
    result keeps its dtype."""
    x = np.asarray(x)
    return np.exp(x) + 2 * np.maximum(x - x.dtype.type(kink), 0)


def difference_errors(steps, dtype=np.float64, kink_distance: float | None = None, x0: float = 1.0) -> dict:
    """Relative errors of finite-difference estimates of f'(x0) for f(x) = e^x, or with ``kink_distance`` d for
    f(x) = e^x + 2 max(0, x - (x0 + d)) (a kink at distance d to the right of x0), against the exact f'(x0) = e^x0.

    The estimates are computed entirely in ``dtype`` (x0, the steps and f rounded to it), as a naive
    implementation would, one per step h in ``steps`` (H,):
    - "centred": (f(x0 + h) - f(x0 - h)) / 2h, truncation error ~ h^2 / 6 relative to f';
    - "one-sided": (f(x0 + h) - f(x0)) / h, truncation error ~ h / 2;
    with round-off errors ~ eps / h and 2 eps / h (each evaluation of f off by about eps |f|, eps the spacing of
    floats near 1 in dtype: :func:`round_off_guide`), and both off by O(1) once h passes a kink. Returns
    {"centred": (H,), "one-sided": (H,)} relative errors |a - n| / max(1e-8, |a| + |n|).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float type; got {dtype}")
    h = np.asarray(steps, dtype=np.float64).astype(dtype)
    x = dtype.type(x0)
    kink = np.inf if kink_distance is None else x0 + check_scalar(kink_distance, "kink_distance", low=0)
    with np.errstate(over="ignore", invalid="ignore"):
        f = lambda v: kinked_exp(v, kink)  # noqa: E731
        centred = (f(x + h) - f(x - h)) / (dtype.type(2) * h)
        one_sided = (f(x + h) - f(x)) / h
    exact = np.exp(x0)
    return {"centred": relative_errors(exact, centred), "one-sided": relative_errors(exact, one_sided)}


def truncation_guides(steps) -> dict:
    """The truncation errors of the estimates of :func:`difference_errors` for f = e^x, as relative errors
    (half the error relative to f'): {"centred": h^2 / 12, "one-sided": h / 4}, each shaped like steps."""
    h = np.asarray(steps, dtype=np.float64)
    return {"centred": h ** 2 / 12, "one-sided": h / 4}


def round_off_guide(steps, dtype=np.float64, one_sided: bool = False) -> np.ndarray:
    """The size of the round-off error of a finite difference in ``dtype`` for f = e^x, taking each evaluation of f
    to be off by about eps |f| (eps the spacing of floats near 1: 2.2e-16 in float64, 1.2e-7 in float32): the
    centred (f(x + h) - f(x - h)) / 2h is off by about 2 eps |f| / 2h = eps / h relative to f' = f, the one-sided
    (f(x + h) - f(x)) / h by 2 eps / h. As relative errors in rel_error's sense (half those): eps / 2h centred,
    eps / h one-sided. With :func:`truncation_guides` the error is smallest near h = (3 eps)^(1/3) for centred
    differences and h = 2 sqrt(eps) for one-sided ones. Shaped like steps."""
    return np.finfo(dtype).eps / ((1 if one_sided else 2) * np.asarray(steps, dtype=np.float64))


def svm_losses(X, y, W) -> np.ndarray:
    """Multiclass SVM loss (margin 1) of each of K stacked weights W (K, D, C) on X (N, D), labels y (N,): returns
    (K,), each the mean over the N examples, as course.losses.svm_loss computes it for one W."""
    scores = _scores(X, W)
    rows = np.arange(len(y))
    margins = np.maximum(0, scores - scores[:, rows, y][..., None] + 1)
    margins[:, rows, y] = 0
    return margins.sum(axis=(1, 2)) / len(y)


def svm_kink_errors(seeds, steps, n: int = 200, features: int = 10, classes: int = 5) -> np.ndarray:
    """Gradient checks across kinks: for each seed a random linear SVM problem (X (n, features) ~ N(0, 1), labels
    uniform in [0, classes), W = 0.1 N(0, 1) of shape (features, classes), drawn in that order), and every
    coordinate of W checked with centred differences of step h for each h in ``steps`` (H,) against the analytic
    gradient X.T @ dscores. The SVM loss is piecewise linear, so a coordinate is off only if moving it by h makes
    a margin it enters change sign. Returns the relative errors, (H, P, features * classes) for P seeds."""
    steps = [check_scalar(h, "h (the step)", low=0, low_open=True) for h in np.atleast_1d(steps)]
    errors = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(n, features)), rng.integers(0, classes, size=n)
        W = 0.1 * rng.normal(size=(features, classes))
        analytic = (X.T @ losses.svm_loss(X @ W, y)[1]).ravel()
        nudges = np.eye(W.size).reshape(W.size, *W.shape)  # one coordinate of W per row
        errors.append([relative_errors(analytic, (svm_losses(X, y, W + h * nudges) - svm_losses(X, y, W - h * nudges))
                                       / (2 * h)) for h in steps])
    return np.array(errors).transpose(1, 0, 2)


def best_step(steps, errors) -> tuple[float, float]:
    """(h, error) where ``errors`` (H,), measured at ``steps`` (H,), is smallest."""
    i = int(np.argmin(errors))
    return float(np.asarray(steps)[i]), float(np.asarray(errors)[i])


# --- minibatches --------------------------------------------------------------------------------------------------

def minibatch_gradient_noise(linear: LinearData, W, batch_sizes, draws: int = 200, seed: int = 0) -> np.ndarray:
    """How far a minibatch gradient is from the full-batch gradient of the softmax loss at weights W (D, C):
    for each batch size B, the root mean square over ``draws`` batches (B training examples drawn without
    replacement) of ||g_B - g||, divided by ||g||. Sampling theory predicts it: sqrt((N - B) / (B (N - 1))) times
    its value at B = 1, for N training examples (0 at B = N). Returns (len(batch_sizes),)."""
    X, y = linear.X_train, linear.y_train
    W = np.asarray(W, dtype=np.float64)[None]
    full = _softmax_gradients(X, y, W)[0]
    rng = np.random.default_rng(seed)
    noise = []
    for b in batch_sizes:
        b = check_int(b, "batch size", high=len(y))
        batches = [rng.choice(len(y), size=b, replace=False) for _ in range(check_int(draws, "draws"))]
        deviations = [np.linalg.norm(_softmax_gradients(X[i], y[i], W)[0] - full) for i in batches]
        noise.append(np.sqrt(np.mean(np.square(deviations))) / np.linalg.norm(full))
    return np.array(noise)


@dataclass(frozen=True)
class MinibatchRun:
    """Minibatch gradient descent for S seeds, T steps, the whole training set's loss recorded R + 1 times.

    - batch_loss: (S, T) the loss on each step's minibatch (what a training log shows: noisy for small batches)
    - train_loss: (S, R + 1) the loss on the whole training set before the first step and after every
      ``every`` steps
    - examples: (R + 1,) the number of training examples used when each train_loss was taken (batch_size per step)
    """
    batch_size: int
    batch_loss: np.ndarray
    train_loss: np.ndarray
    examples: np.ndarray


def _minibatch_steps(linear: LinearData, batch_size: int, steps: int, rates, seeds, scale: float):
    """Minibatch gradient descent on the softmax loss for every (rate, seed) pair at once, K = R * S weights
    stacked rate-major (row r * S + s). Seed s draws its starting W ~ scale * N(0, 1) and its batches (a fresh
    shuffle of the training set every epoch, consecutive batches of ``batch_size``, the last incomplete batch of an
    epoch dropped), shared by every rate. Yields (0, None, the starts) and then (t, batch_loss (K,), W (K, D, C))
    after each step t = 1..steps, batch_loss being the loss on step t's minibatch before the step."""
    X, y = linear.X_train, linear.y_train
    n = len(y)
    batch_size = check_int(batch_size, "batch_size", high=n)
    steps = check_int(steps, "steps")
    rngs = [np.random.default_rng(seed) for seed in seeds]
    if not rngs:
        raise ValueError("seeds must hold at least one seed")
    rates = np.asarray([check_scalar(r, "learning_rate", low=0, low_open=True) for r in np.atleast_1d(rates)])
    shape = (X.shape[1], int(max(y.max(), linear.y_test.max())) + 1)
    W = np.tile(np.stack([rng.normal(size=shape) for rng in rngs]) * scale, (len(rates), 1, 1))
    step_sizes = np.repeat(rates, len(rngs))[:, None, None] / batch_size
    per_epoch = n // batch_size
    orders = []
    yield 0, None, W
    for t in range(steps):
        if t % per_epoch == 0:
            orders = [rng.permutation(n) for rng in rngs]
        start = (t % per_epoch) * batch_size
        rows = np.tile(np.stack([order[start:start + batch_size] for order in orders]), (len(rates), 1))
        Xb, yb = X[rows], y[rows]  # (K, B, D), (K, B)
        scores = Xb @ W
        shifted = scores - scores.max(axis=-1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(shifted - log_sum, yb[..., None], axis=-1)[..., 0]  # log p of the labels
        dscores = np.exp(shifted - log_sum)
        np.put_along_axis(dscores, yb[..., None], np.exp(picked)[..., None] - 1, axis=-1)  # p - onehot(y)
        W = W - step_sizes * (Xb.transpose(0, 2, 1) @ dscores)
        yield t + 1, -picked.mean(axis=1), W


def minibatch_descent(linear: LinearData, batch_size: int, steps: int, learning_rate: float = 0.5,
                      seeds=range(10), scale: float = 0.01, every: int = 1) -> MinibatchRun:
    """``steps`` steps of minibatch gradient descent on the softmax loss of a linear classifier, for every seed at
    once: each seed draws its starting W ~ scale * N(0, 1) and its batches (a fresh shuffle of the training set
    every epoch, consecutive batches of ``batch_size``; the last, incomplete batch of an epoch is dropped). The
    whole training set's loss is measured every ``every`` steps. Returns a MinibatchRun."""
    X, y = linear.X_train, linear.y_train
    every = check_int(every, "every")
    batch_loss, train_loss, examples = [], [], []
    for t, loss, W in _minibatch_steps(linear, batch_size, steps, [learning_rate], seeds, scale):
        if t > 0:
            batch_loss.append(loss)
        if t % every == 0:
            train_loss.append(softmax_losses(X, y, W))
            examples.append(t * batch_size)
    return MinibatchRun(batch_size, np.array(batch_loss).T, np.array(train_loss).T, np.array(examples))


def learning_rate_sweep(linear: LinearData, batch_size: int, steps: int, rates, seeds=range(10),
                        scale: float = 0.01) -> np.ndarray:
    """The training loss after ``steps`` steps of :func:`minibatch_descent` at each learning rate in ``rates``
    (R,), for each seed (S,), all run at once: every rate sees the same starts and the same batches (a seed's).
    Returns (R, S)."""
    seeds = list(seeds)
    rates = np.atleast_1d(np.asarray(rates, dtype=np.float64))
    for _, _, W in _minibatch_steps(linear, batch_size, steps, rates, seeds, scale):
        pass
    return softmax_losses(linear.X_train, linear.y_train, W).reshape(len(rates), len(seeds))


# --- the learning slowdown ----------------------------------------------------------------------------------------

COSTS = ("quadratic", "cross-entropy")


@dataclass(frozen=True)
class NeuronRun:
    """One sigmoid neuron a = sigmoid(w x + b) trained by gradient descent; arrays of shape (E + 1,), one entry
    per epoch (0 = the start): weight, bias, output a, cost C, and gradient dC/dz (z = w x + b) there."""
    cost_name: str
    learning_rate: float
    weight: np.ndarray
    bias: np.ndarray
    output: np.ndarray
    cost: np.ndarray
    gradient: np.ndarray


def train_sigmoid_neuron(weight: float, bias: float, learning_rate: float, cost: str = "quadratic",
                         epochs: int = 300, x: float = 1.0, y: float = 0.0, loss=None) -> NeuronRun:
    """Nielsen's toy problem (Neural Networks and Deep Learning, chapter 3): one sigmoid neuron, one training
    input x with target y, ``epochs`` steps of gradient descent on w and b from (weight, bias).

    With z = w x + b and a = sigmoid(z), the output error dC/dz is
    - "quadratic", C = (a - y)^2 / 2:                     dC/dz = (a - y) sigmoid'(z), sigmoid'(z) = a (1 - a);
    - "cross-entropy", C = -[y ln a + (1 - y) ln(1 - a)]:  dC/dz = a - y;
    and the step is w -= learning_rate * dC/dz * x, b -= learning_rate * dC/dz.

    ``loss``, when given, computes the cost: quadratic_loss(pred, y) -> (C, dC/da) for "quadratic",
    binary_cross_entropy(logits, y) -> (C, dC/dz) for "cross-entropy" (a student's, say), called on arrays of
    shape (1,) once per epoch; by default the same formulas as course.losses are used. Returns a NeuronRun.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {list(COSTS)}; got {cost!r}")
    learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
    epochs = check_int(epochs, "epochs")
    w, b = check_scalar(weight, "weight"), check_scalar(bias, "bias")
    x, y = check_scalar(x, "x"), check_scalar(y, "y", low=0, high=1)
    output_error = _output_error(cost, loss)
    record = []
    for _ in range(epochs + 1):
        a, c, gradient = output_error(w * x + b, y)
        record.append((w, b, a, c, gradient))
        w, b = w - learning_rate * gradient * x, b - learning_rate * gradient
    w_, b_, a_, c_, g_ = (np.array(column) for column in zip(*record))
    return NeuronRun(cost, learning_rate, w_, b_, a_, c_, g_)


def _output_error(cost: str, loss):
    """A function (z, y) -> (a, C, dC/dz) of floats for one example: through ``loss`` (course.losses's contract,
    on arrays of shape (1,)) when it is given, else from the same formulas written for one number, which makes
    300 epochs take a millisecond instead of the course.losses functions' input checks' twenty."""
    if loss is None:
        def sigmoid_of(z):  # stable for any z: e^-|z| never overflows
            e = math.exp(-abs(z))
            return 1 / (1 + e) if z >= 0 else e / (1 + e)
        if cost == "quadratic":
            def output_error(z, y):
                a = sigmoid_of(z)
                return a, 0.5 * (a - y) ** 2, (a - y) * a * (1 - a)
        else:
            def output_error(z, y):  # C = max(z, 0) - y z + log(1 + e^-|z|), stable for any z
                a = sigmoid_of(z)
                return a, max(z, 0.0) - y * z + math.log1p(math.exp(-abs(z))), a - y
        return output_error

    def output_error(z, y):
        logit, target = np.array([z]), np.array([y])
        a = sigmoid(logit)
        if cost == "quadratic":
            c, d_output = loss(a, target)
            return float(a[0]), float(c), float(np.asarray(d_output).reshape(-1)[0] * a[0] * (1 - a[0]))
        c, d_logit = loss(logit, target)
        return float(a[0]), float(c), float(np.asarray(d_logit).reshape(-1)[0])
    return output_error


def matched_rate(quadratic_rate: float, weight: float, bias: float, x: float = 1.0) -> float:
    """The cross-entropy learning rate whose first step from (weight, bias) equals the quadratic cost's at
    ``quadratic_rate``: the two output errors differ by the factor sigmoid'(z), so it is quadratic_rate *
    sigmoid'(z) with z = weight * x + bias (0.15 * sigmoid'(1.5) = 0.0224 for Nielsen's (0.6, 0.9))."""
    a = float(sigmoid(check_scalar(weight, "weight") * check_scalar(x, "x") + check_scalar(bias, "bias")))
    return check_scalar(quadratic_rate, "quadratic_rate", low=0, low_open=True) * a * (1 - a)


def epochs_to_reach(output, level: float) -> int | None:
    """The first epoch at which ``output`` (E + 1,) is at or below ``level``; None if it never is."""
    below = np.flatnonzero(np.asarray(output) <= level)
    return int(below[0]) if below.size else None
