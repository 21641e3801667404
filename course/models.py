"""Classifiers assembled from the layers: a fully connected net of any depth and a small conv net.

Every model has
- ``params``: dict name -> array (W1, b1, ...), the arrays an update rule changes;
- ``scores(X)`` -> (N, C) class scores, in test mode (dropout off, batch norm with its running statistics);
- ``loss(X, y)`` -> (loss, grads), in training mode: the softmax cross-entropy averaged over the N examples plus
  the L2 penalty 0.5 * reg * sum(W^2) over the weights only (not the biases, nor batch norm's gamma and beta),
  and ``grads`` keyed like ``params``.
Parameters are stored in ``dtype`` (float64 by default; float32 halves memory and time) and inputs are cast to it.
"""
from __future__ import annotations


import numpy as np

from course import activations, layers
from course._validate import as_float_array, check_int, check_scalar
from course.conv import conv_backward, conv_forward, conv_output_size, max_pool_backward, max_pool_forward
from course.init import INITIALIZERS, small_random
from course.losses import l2_penalty, softmax_loss

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid")


def _initializer(name, weight_scale):
    """The weight initializer f(shape, rng): course.init.INITIALIZERS[name], or normal with std weight_scale."""
    if weight_scale is not None:
        scale = check_scalar(weight_scale, "weight_scale", low=0)
        return lambda shape, rng: small_random(shape, scale, rng)
    if name not in INITIALIZERS:
        raise ValueError(f"unknown init {name!r}; expected one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]


def _dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float type such as np.float64 or np.float32; got {dtype}")
    return dtype


class _Classifier:
    """What every model shares: input casting, the softmax loss and the L2 penalty on the weights. A subclass
    sets ``params`` and ``dtype`` and implements ``_forward(X, mode) -> (scores, caches)`` and
    ``_backward(dscores, caches) -> grads``."""

    def _input(self, X):
        return as_float_array(X, "X").astype(self.dtype, copy=False)

    def scores(self, X):
        """Class scores (N, C) for the examples X, in test mode."""
        return self._forward(self._input(X), "test")[0]

    def loss(self, X, y):
        """Training-mode loss and gradients on the batch X, y (labels (N,) in [0, C)): returns (loss, grads)."""
        scores, caches = self._forward(self._input(X), "train")
        loss, dscores = softmax_loss(scores, y)
        grads = self._backward(dscores, caches)
        if self.reg:  # reg = 0 adds nothing: skip the sums of squares
            for name in [n for n in self.params if n.startswith("W")]:
                penalty, dw = l2_penalty(self.params[name], self.reg)
                loss += penalty
                grads[name] += dw
        return loss, grads


class FullyConnectedNet(_Classifier):
    """A fully connected classifier with L - 1 hidden layers:

        {affine - [batch norm] - activation - [dropout]} x (L - 1) - affine - softmax

    Inputs:
    - hidden_dims: list of the L - 1 hidden layer widths (empty for a linear softmax classifier)
    - input_dim: D, the number of input features (inputs (N, d_1, ..., d_k) are flattened, D = d_1 * ... * d_k)
    - num_classes: C
    - activation: one of "relu", "leaky_relu", "elu", "tanh", "sigmoid" (course.activations, default slopes), or
      a (forward, backward) pair of your own with the same contract, e.g. the functions written in a lab
    - init: name of a course.init initializer for the weights ("he", "xavier", "glorot", "small_random",
      "zeros"); biases and beta start at 0, gamma at 1
    - normalization: None or "batchnorm"
    - dropout_keep: probability of KEEPING a hidden unit (1 = no dropout), as in course.layers.dropout_forward
    - reg: L2 strength; the loss adds 0.5 * reg * sum of W^2 over the weights
    - seed: seeds the initialization and the dropout masks
    - dtype: float type of the parameters and computations
    - weight_scale: when given, the weights are drawn normal with this std instead (init is then ignored)
    - bias_init: the starting value of the hidden layers' biases (e.g. 0.01, so that ReLUs start active); the
      output layer's biases start at 0

    Parameters: W1 (D, H1), b1 (H1,), gamma1, beta1 (H1,) with batch norm, ..., W{L} (H_{L-1}, C), b{L} (C,).

    Other state:
    - activation_functions: the (forward, backward) pair the hidden layers use
    - bn_params: list of the L - 1 batch-norm dicts (mode, running_mean, running_var) when normalization is used
    - dropout_param: the dropout settings {"p": dropout_keep, "rng": Generator}; every call draws fresh masks.
      For a gradient check, use the same mask on every call: ``model.dropout_param = {"p": keep, "seed": 0}``
    - last_preactivations, last_activations: lists of L - 1 arrays (N, H_i) from the most recent forward pass,
      the input of each hidden layer's activation function (after batch norm) and its output (before dropout):
      for diagnostics such as the fraction of dead or saturated units
    """

    def __init__(self, hidden_dims, input_dim: int, num_classes: int, activation: str = "relu", init: str = "he",
                 normalization: str | None = None, dropout_keep: float = 1.0, reg: float = 0.0,
                 seed: int | None = None, dtype=np.float64, weight_scale: float | None = None,
                 bias_init: float = 0.0):
        if isinstance(hidden_dims, (str, bytes)) or not hasattr(hidden_dims, "__iter__"):
            raise TypeError(f"hidden_dims must be a list of layer widths such as [100, 100]; got {hidden_dims!r}")
        hidden_dims = [check_int(h, "every entry of hidden_dims") for h in hidden_dims]
        dims = [check_int(input_dim, "input_dim"), *hidden_dims, check_int(num_classes, "num_classes")]
        if isinstance(activation, tuple) and len(activation) == 2 and all(map(callable, activation)):
            self.activation_functions = tuple(activation)
            activation = getattr(activation[0], "__name__", "custom").removesuffix("_forward")
        elif activation in ACTIVATIONS:
            self.activation_functions = (getattr(activations, f"{activation}_forward"),
                                         getattr(activations, f"{activation}_backward"))
        else:
            raise ValueError(f"unknown activation {activation!r}; expected one of {list(ACTIVATIONS)} "
                             "or a (forward, backward) pair of functions")
        bias_init = check_scalar(bias_init, "bias_init")
        if normalization not in (None, "batchnorm"):
            raise ValueError(f"normalization must be None or 'batchnorm'; got {normalization!r}")
        self.dropout_keep = check_scalar(dropout_keep, "dropout_keep", low=0, high=1, low_open=True)
        self.reg = check_scalar(reg, "reg", low=0)
        self.dtype = _dtype(dtype)
        self.activation = activation
        self.normalization = normalization
        self.num_layers = len(dims) - 1
        draw = _initializer(init, weight_scale)
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = draw((fan_in, fan_out), rng)
            self.params[f"b{i}"] = np.full(fan_out, bias_init if i < self.num_layers else 0.0)
            if normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        self.params = {k: v.astype(self.dtype) for k, v in self.params.items()}
        self.bn_params = [{"mode": "train"} for _ in hidden_dims] if normalization else []
        self.dropout_param = {"p": self.dropout_keep, "rng": rng}
        self.last_preactivations, self.last_activations = [], []

    def _forward(self, X, mode):
        caches = []
        self.last_preactivations, self.last_activations = [], []
        h = X
        for i in range(1, self.num_layers):
            a, affine_cache = layers.affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            bn_cache = None
            if self.normalization:
                self.bn_params[i - 1]["mode"] = mode
                a, bn_cache = layers.batchnorm_forward(a, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                                                       self.bn_params[i - 1])
            h, act_cache = self.activation_functions[0](a)
            self.last_preactivations.append(a)
            self.last_activations.append(h)
            drop_cache = None
            if self.dropout_keep < 1:
                h, drop_cache = layers.dropout_forward(h, {**self.dropout_param, "mode": mode})
            caches.append((affine_cache, bn_cache, act_cache, drop_cache))
        L = self.num_layers
        scores, cache = layers.affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        caches.append(cache)
        return scores, caches

    def _backward(self, dscores, caches):
        grads = {}
        L = self.num_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = layers.affine_backward(dscores, caches[-1])
        for i in range(L - 1, 0, -1):
            affine_cache, bn_cache, act_cache, drop_cache = caches[i - 1]
            if drop_cache is not None:
                dh = layers.dropout_backward(dh, drop_cache)
            da = self.activation_functions[1](dh, act_cache)
            if bn_cache is not None:
                da, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(da, bn_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(da, affine_cache)
        return grads


class ConvNet(_Classifier):
    """A small convolutional classifier:

        conv (num_filters filters of filter_size x filter_size, stride 1, "same" zero padding (filter_size-1)/2)
        - relu - 2x2 max pool (stride 2) - affine (hidden_dim) - relu - affine (num_classes) - softmax

    Inputs:
    - input_dim: (C, H, W) of one image; H and W must be even (the pool halves them)
    - num_filters: F; filter_size: odd, so the padding keeps H x W
    - hidden_dim, num_classes: widths of the two affine layers
    - init: name of a course.init initializer (fans of conv weights: C * filter_size^2); weight_scale overrides it
    - reg, seed, dtype: as for :class:`FullyConnectedNet`

    Parameters: W1 (F, C, filter_size, filter_size), b1 (F,), W2 (F * H/2 * W/2, hidden_dim), b2 (hidden_dim,),
    W3 (hidden_dim, num_classes), b3 (num_classes,). Uses the fast conv and pool of course.conv.
    """

    def __init__(self, input_dim=(1, 8, 8), num_filters: int = 8, filter_size: int = 3, hidden_dim: int = 50,
                 num_classes: int = 10, init: str = "he", reg: float = 0.0, seed: int | None = None,
                 dtype=np.float64, weight_scale: float | None = None):
        if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3:
            raise ValueError(f"input_dim must be (C, H, W) of one image; got {input_dim!r}")
        C, H, W = (check_int(v, "input_dim entries") for v in input_dim)
        F = check_int(num_filters, "num_filters")
        K = check_int(filter_size, "filter_size")
        if K % 2 == 0:
            raise ValueError(f"filter_size must be odd so that padding (filter_size - 1)/2 keeps the size; got {K}")
        self.conv_param = {"stride": 1, "pad": (K - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        pooled_h, pooled_w = conv_output_size(H, 2, 2), conv_output_size(W, 2, 2)
        hidden = check_int(hidden_dim, "hidden_dim")
        classes = check_int(num_classes, "num_classes")
        self.reg = check_scalar(reg, "reg", low=0)
        self.dtype = _dtype(dtype)
        draw = _initializer(init, weight_scale)
        rng = np.random.default_rng(seed)
        shapes = {"W1": (F, C, K, K), "W2": (F * pooled_h * pooled_w, hidden), "W3": (hidden, classes)}
        self.params = {}
        for i, (name, shape) in enumerate(shapes.items(), start=1):
            self.params[name] = draw(shape, rng).astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(shape[0] if i == 1 else shape[1], dtype=self.dtype)

    def _forward(self, X, mode):
        p = self.params
        conv, conv_cache = conv_forward(X, p["W1"], p["b1"], self.conv_param)
        relu1, relu1_cache = activations.relu_forward(conv)
        pooled, pool_cache = max_pool_forward(relu1, self.pool_param)
        hidden, affine2_cache = layers.affine_forward(pooled, p["W2"], p["b2"])
        relu2, relu2_cache = activations.relu_forward(hidden)
        scores, affine3_cache = layers.affine_forward(relu2, p["W3"], p["b3"])
        return scores, (conv_cache, relu1_cache, pool_cache, affine2_cache, relu2_cache, affine3_cache)

    def _backward(self, dscores, caches):
        conv_cache, relu1_cache, pool_cache, affine2_cache, relu2_cache, affine3_cache = caches
        grads = {}
        drelu2, grads["W3"], grads["b3"] = layers.affine_backward(dscores, affine3_cache)
        dhidden = activations.relu_backward(drelu2, relu2_cache)
        dpooled, grads["W2"], grads["b2"] = layers.affine_backward(dhidden, affine2_cache)
        drelu1 = max_pool_backward(dpooled, pool_cache)
        dconv = activations.relu_backward(drelu1, relu1_cache)
        _, grads["W1"], grads["b1"] = conv_backward(dconv, conv_cache)
        return grads
