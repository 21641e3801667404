"""Loss functions. Each returns (loss, dscores): the loss averaged over the N examples, and its gradient with
respect to the scores (logits)."""
from __future__ import annotations

import numpy as np

from course._validate import as_float_array, check_labels, check_ndim


def softmax_loss(scores, y):
    """Softmax cross-entropy: L = mean_i [ -log( e^{s_{i, y_i}} / sum_j e^{s_ij} ) ].

    Inputs:
    - scores: (N, C) class scores (logits)
    - y: (N,) integer labels in [0, C)

    Returns (loss, dscores) with dscores of shape (N, C): (softmax(scores) - onehot(y)) / N.
    Stable for scores of any magnitude: the row maximum is subtracted before exponentiating (which leaves the
    softmax unchanged) and the log-probabilities are computed as shifted - log(sum(exp(shifted))).
    """
    scores = as_float_array(scores, "scores")
    check_ndim(scores, 2, "scores", "(N, C)")
    n, c = scores.shape
    y = check_labels(y, n, c)
    if n == 0:
        raise ValueError("scores must hold at least one example; got N = 0")
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    dscores /= n
    return float(loss), dscores
