"""Lab 08's experiments: the geometry of one conv layer, the table of a small conv net, and a small ConvNet
trained on the shipped 8x8 digits, with snapshots of its filters.

One layer. A filter of width F slides with stride S over an input of width W padded by P zeros on each side
(width n = W + 2P). Its left edge sits at offsets 0, S, 2S, ... while the filter fits: that is
floor((W - F + 2P)/S) + 1 positions when F <= n. The course calls the layer valid when (W - F + 2P)/S + 1 is a
whole number (course.conv.conv_output_size, deliberately strict, as the CS231n notes are); otherwise the last
(W - F + 2P) mod S columns of the padded input (fewer than S) are never covered and the next position would
overhang the padded border. Those columns are at the far edge: when there are no more of them than P they are
zero padding, every input pixel is still covered, and a library that floors the formula (PyTorch) simply pads
unevenly; only the ones beyond the P padding columns are input that such a library silently drops (``lost``).

A network. Blocks of conv (with its ReLU applied in place) and an optional max pool, tabulated with
course.conv.describe_stack (output shape, parameters, receptive field, activation memory); a block that does not
fit stops the table there and is named with its arithmetic. A receptive field is counted on the padded input (it
can be larger than the image), and a unit's field sits where the unit does: :func:`field_rows` gives the input
rows one unit sees, negative or beyond the image where they are zero padding.

Digits. course.models.ConvNet (conv F x F, same padding - ReLU - 2x2 max pool - affine - ReLU - affine), trained
with Adam on the digits scaled to [0, 1]; the parameters are kept after every epoch, so the filters and feature
maps can be shown as they learn.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np

from course import data, optim
from course._validate import check_int, check_scalar
from course.conv import conv_forward, conv_output_size, describe_stack, max_pool_forward
from course.models import ConvNet
from course.trainer import Trainer

__all__ = ["ALEXNET_CONV1", "DIGITS_ITERATIONS", "POOLS", "STAGES", "VGG16", "DigitsConvNet", "LayerGeometry",
           "NetworkTable", "feature_maps", "field_rows", "layer_geometry", "network_layers", "network_table",
           "train_digits_convnet"]


# --- one layer ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerGeometry:
    """Where a filter fits along one axis of one conv layer (see the module docstring).

    - W, F, S, P: input width, filter width, stride, zero padding
    - padded: W + 2P
    - exact: (W - F + 2P)/S + 1 as a real number
    - size: the output width, or None when the layer is not valid
    - fits: filter positions that fit inside the padded input (0 when F > W + 2P)
    - uncovered: columns at the far edge of the padded input that no position reaches (0 when valid)
    - lost: input columns among them, min(W, max(0, uncovered - P)): what a library that floors the formula
      drops (0 when the uncovered columns are only zero padding)
    - formula: "(W − F + 2P)/S + 1 = (7 − 3 + 2·1)/2 + 1 = 4", with the numbers
    - problem: '' when valid, else why not, in words
    """
    W: int
    F: int
    S: int
    P: int
    padded: int
    exact: float
    size: int | None
    fits: int
    uncovered: int
    lost: int
    formula: str
    problem: str

    @property
    def valid(self) -> bool:
        return self.size is not None

    @property
    def loses_input(self) -> bool:
        """True when some input pixels are covered by no position (not only zero padding)."""
        return self.lost > 0

    @property
    def leftover(self) -> str:
        """'' when valid, else in a few words what no position covers (the short form of ``problem``)."""
        if self.valid:
            return ""
        if not self.fits:
            return "the filter is wider than the padded input"
        if self.lost:
            return f"the last {'input column is' if self.lost == 1 else f'{self.lost} input columns are'} never covered"
        return "only zero padding is uncovered: no input lost"

    @property
    def offsets(self) -> np.ndarray:
        """(fits,) left edges of the positions that fit, in padded coordinates: 0, S, 2S, ..."""
        return np.arange(self.fits) * self.S


def layer_geometry(W: int, F: int, S: int = 1, P: int = 0, output_size=conv_output_size) -> LayerGeometry:
    """The geometry of a filter of width F, stride S, over an input of width W padded by P (any whole numbers
    W, F, S >= 1, P >= 0). Never raises for a layer that does not fit: ``size`` is None and ``problem`` says why.

    Whether the layer fits is decided by the arithmetic; ``output_size(W, F, S, P)`` gives the size of a layer
    that fits (a student's conv_output_size may stand in for the reference).
    """
    W, F = check_int(W, "W"), check_int(F, "F")
    S, P = check_int(S, "S"), check_int(P, "P", low=0)
    padded, span = W + 2 * P, W - F + 2 * P
    exact = span / S + 1
    size = output_size(W, F, S, P) if span >= 0 and span % S == 0 else None
    fits = span // S + 1 if span >= 0 else 0
    uncovered = padded - ((fits - 1) * S + F) if fits else padded
    formula = f"(W − F + 2P)/S + 1 = ({W} − {F} + 2·{P})/{S} + 1 = {exact:.3g}"
    lost = min(W, max(0, uncovered - P))
    if size is not None:
        problem = ""
    elif span < 0:
        problem = f"the filter (F = {F}) is wider than the padded input (W + 2P = {padded})"
    else:
        one = uncovered == 1
        problem = (f"the stride S = {S} does not divide W − F + 2P = {span}: the last "
                   f"{'column' if one else f'{uncovered} columns'} of the padded input "
                   f"{'is' if one else 'are'} never covered")
        if lost:
            share = "and it is" if one else f"{lost if lost < uncovered else 'all'} of them"
            problem += (f", {share} input: a library that floors the formula makes {fits} outputs and drops "
                        f"{'it' if one else f'the last {lost} input columns' if lost > 1 else 'the last input column'}")
        else:
            problem += (f", but {'it is' if one else 'they are'} zero padding: no input is lost, and a library that "
                        f"floors the formula makes {fits} outputs (padding {P} before, {P - uncovered} after)")
    return LayerGeometry(W, F, S, P, padded, exact, size, fits, uncovered, lost, formula, problem)


# --- a small network ----------------------------------------------------------------------------------------------

POOLS = {"none": None, "2x2 stride 2": (2, 2), "3x3 stride 2": (3, 2)}  # pool option -> (F, S)

# AlexNet's first layer (Krizhevsky et al. 2012) on a 227 x 227 x 3 input: the paper's "224" makes
# (224 - 11)/4 + 1 = 54.25 (torchvision's AlexNet pads 224 by 2 and floors to 55)
ALEXNET_CONV1 = ("conv", {"K": 96, "F": 11, "S": 4, "P": 0})


def _vgg16():
    layers = []
    for depth, repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [("conv", {"K": depth, "F": 3, "S": 1, "P": 1})] * repeats + [("pool", {"F": 2, "S": 2})]
    return layers + [("fc", {"M": 4096}), ("fc", {"M": 4096}), ("fc", {"M": 1000})]


# VGG-16 (Simonyan & Zisserman 2014, configuration D) on a 224 x 224 x 3 input; ReLUs are applied in place
VGG16 = _vgg16()


def network_layers(blocks) -> tuple[list, list]:
    """(names, layers) for describe_stack from ``blocks``: dicts with keys F, S, P, K (a conv layer, its ReLU
    applied in place) and pool (a key of POOLS). Names are "conv1", "pool1", "conv2", ..."""
    names, layers = [], []
    for i, block in enumerate(blocks, start=1):
        names.append(f"conv{i}")
        layers.append(("conv", {key: block[key] for key in ("K", "F", "S", "P")}))
        pool = POOLS[block.get("pool", "none")]
        if pool is not None:
            names.append(f"pool{i}")
            layers.append(("pool", {"F": pool[0], "S": pool[1]}))
    return names, layers


def field_rows(layers, unit: int) -> tuple[int, int]:
    """(first, last): the input rows (and, on a square grid, columns) seen by unit ``unit`` (its row index) of
    the last of ``layers`` ((kind, params) pairs as for describe_stack: conv, pool, relu). Rows below 0 or beyond
    the input are zero padding: a receptive field is counted on the padded input, and sits where its unit does.

    A conv or pool (window F, stride S, padding P) after layers of total stride J moves the first row by -P*J
    and widens the field by (F - 1)*J; unit i of the last layer starts i*J' further, J' its total stride."""
    first, jump, size = 0, 1, 1
    for kind, params in layers:
        if kind == "relu":
            continue
        if kind not in ("conv", "pool"):
            raise ValueError(f"field_rows takes conv, pool and relu layers; got {kind!r}")
        F = params["F"]
        S = params.get("S", 1 if kind == "conv" else F)
        first -= (params.get("P", 0) if kind == "conv" else 0) * jump
        size += (F - 1) * jump
        jump *= S
    first += check_int(unit, "unit", low=0) * jump
    return first, first + size - 1


@dataclass(frozen=True)
class NetworkTable:
    """A network tabulated up to its first layer that does not fit.

    - names: "input", then one name per layer tabulated ("conv1", "pool1", ...)
    - rows: the rows of course.conv.describe_stack for those layers (output_shape, params, receptive_field,
      floats, bytes)
    - failed: the name of the first layer that does not fit, or ''
    - problem: that layer's settings, its formula with the numbers and why it does not fit ('' when all fit)
    - brief: the same in one short line: the layer, its formula's numbers and what is left uncovered
    - pending: the layers after it, not tabulated, each as "name (settings)"
    - centre_rows: per row, (first, last) input rows seen by the centre unit of that row's output, the one at
      row (and column) (H - 1)//2 (:func:`field_rows`; the input's centre pixel for the input row)
    """
    names: list
    rows: list
    failed: str
    problem: str
    brief: str
    pending: list
    centre_rows: list

    @property
    def total_params(self) -> int:
        return sum(r["params"] for r in self.rows)

    @property
    def total_floats(self) -> int:
        return sum(r["floats"] for r in self.rows)


def network_table(input_shape, blocks) -> NetworkTable:
    """Tabulate the network of ``blocks`` (see :func:`network_layers`) on an input (C, H, W). Never raises for a
    layer that does not fit: the table stops before it and ``problem`` shows its arithmetic."""
    names, layers = network_layers(blocks)
    described = [f"{name} ({', '.join(f'{key} = {value}' for key, value in params.items())})"
                 for name, (_, params) in zip(names, layers)]
    def centre_rows(rows):
        return [field_rows(layers[:k], (r["output_shape"][1] - 1) // 2) for k, r in enumerate(rows)]

    rows = describe_stack(input_shape, [])
    for k, (name, layer) in enumerate(zip(names, layers)):
        try:
            rows = describe_stack(input_shape, layers[:k + 1])
        except ValueError:
            params = layer[1]
            _, H, W = rows[-1]["output_shape"]
            sizes = [layer_geometry(n, params["F"], params.get("S", 1), params.get("P", 0)) for n in (H, W)]
            bad = next(g for g in sizes if not g.valid)
            numbers = bad.formula.split(" = ", 1)[1]
            return NetworkTable(["input", *names[:k]], rows, name,
                                f"{described[k]} does not fit: {bad.formula}; {bad.problem}",
                                f"{name} does not fit: {numbers}; {bad.leftover}", described[k + 1:],
                                centre_rows(rows))
    return NetworkTable(["input", *names], rows, "", "", "", [], centre_rows(rows))


# --- a ConvNet trained on the digits -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DigitsConvNet:
    """A course.models.ConvNet trained on the digits, with its parameters at chosen iterations.

    - iterations: the iterations at which the parameters were kept (0: before training)
    - snapshots: one dict of parameters (copies) per entry of ``iterations``
    - val_accuracy: (len(iterations),) validation accuracy of each snapshot
    - X_val: (N_val, 1, 8, 8) validation images in [0, 1]; y_val: (N_val,) their labels
    - model: the ConvNet (holding the last snapshot's parameters between calls)
    """
    iterations: tuple
    snapshots: tuple
    val_accuracy: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    model: ConvNet

    def snapshot(self, iteration: int) -> dict:
        """The parameters kept at ``iteration`` (one of ``iterations``)."""
        return self.snapshots[self.iterations.index(iteration)]

    def probabilities(self, iteration: int, X: np.ndarray) -> np.ndarray:
        """(N, 10) class probabilities (softmax of the scores) of X (N, 1, 8, 8) at ``iteration``."""
        kept = self.model.params
        try:
            self.model.params = self.snapshot(iteration)
            scores = self.model.scores(X)
        finally:
            self.model.params = kept
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


DIGITS_ITERATIONS = (0, 3, 10, 30, 60)


@functools.lru_cache(maxsize=4)
def train_digits_convnet(iterations: tuple = DIGITS_ITERATIONS, num_filters: int = 8, filter_size: int = 5,
                         hidden_dim: int = 50, learning_rate: float = 1e-2, batch_size: int = 50,
                         seed: int = 0) -> DigitsConvNet:
    """Train a ConvNet on the digits (90% train, 10% validation, stratified) with Adam for max(iterations)
    minibatch iterations, keeping the parameters at each of ``iterations``: about 0.2 s for the defaults on an
    idle machine. Deterministic for a seed (up to the last bits of BLAS); cached, so treat the result as
    read-only."""
    iterations = tuple(sorted({check_int(i, "iterations entries", low=0) for i in iterations}))
    learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
    X, y = data.digits()
    split = data.train_val_test_split(X / 16.0, y, val=0.1, test=0.0, seed=seed)
    model = ConvNet(input_dim=(1, 8, 8), num_filters=num_filters, filter_size=filter_size, hidden_dim=hidden_dim,
                    seed=seed)
    snapshots = [copy.deepcopy(model.params)] if iterations[0] == 0 else []

    def keep(trainer, event):
        if event == "iteration" and trainer.iteration in iterations:
            snapshots.append(copy.deepcopy(trainer.model.params))
            if trainer.iteration == iterations[-1]:
                trainer.stop()

    if iterations[-1] > 0:
        per_epoch = -(-len(split["y_train"]) // batch_size)
        Trainer(model, split, update_rule=optim.adam, optim_config={"learning_rate": learning_rate},
                batch_size=batch_size, num_epochs=-(-iterations[-1] // per_epoch), num_train_samples=1,
                callback=keep, seed=seed, verbose=False).train()
    accuracy = []
    for params in snapshots:
        model.params = params
        accuracy.append(np.mean(np.argmax(model.scores(split["X_val"]), axis=1) == split["y_val"]))
    return DigitsConvNet(iterations, tuple(snapshots), np.array(accuracy), split["X_val"], split["y_val"], model)


STAGES = ("conv", "relu", "pool")


def feature_maps(params: dict, x: np.ndarray, stage: str = "relu", conv=conv_forward,
                 pool=max_pool_forward, conv_param=None, pool_param=None) -> np.ndarray:
    """The first layer's feature maps of one image x (C, H, W): (F, H', W') after the convolution ("conv"), after
    its ReLU ("relu") or after the 2x2 max pool ("pool"). ``conv(x, w, b, conv_param)`` and
    ``pool(x, pool_param)`` are forward functions of course.conv's kind (a student's naive ones may stand in)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}; got {stage!r}")
    w = params["W1"]
    conv_param = conv_param or {"stride": 1, "pad": (w.shape[2] - 1) // 2}
    out, _ = conv(x[None], w, params["b1"], conv_param)
    if stage != "conv":
        out = np.maximum(out, 0)
    if stage == "pool":
        out, _ = pool(out, pool_param or {"pool_height": 2, "pool_width": 2, "stride": 2})
    return out[0]
