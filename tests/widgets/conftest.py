import matplotlib
import numpy as np
import pytest

from course import activations

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    """Explorers' figures are registered with pyplot (ipympl needs its figure manager): close them after use."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def stub_forward(x):
    raise NotImplementedError


def stub_backward(dout, cache):
    raise NotImplementedError


def relu_forward(x):
    return activations.relu_forward(x)


def relu_backward(dout, cache):
    return activations.relu_backward(dout, cache)


def wrong_relu_backward(dout, cache):
    return dout.copy()  # lets the gradient through where x < 0


@pytest.fixture
def student_relu():
    """A correct student pair, named as the lab names it."""
    return relu_forward, relu_backward


@pytest.fixture
def stub_relu():
    stub_forward.__name__, stub_backward.__name__ = "relu_forward", "relu_backward"
    return stub_forward, stub_backward


@pytest.fixture
def wrong_relu():
    wrong_relu_backward.__name__ = "relu_backward"
    return relu_forward, wrong_relu_backward


def softsign_forward(x):
    if np.abs(x).max() > 1e3:
        raise ValueError("softsign_forward was not written for inputs beyond ±1000")
    out = x / (1 + np.abs(x))
    return out, x


def softsign_backward(dout, cache):
    return dout / (1 + np.abs(cache)) ** 2


@pytest.fixture
def softsign():
    """A pair matching no reference activation: it must pass a numerical gradient check."""
    return softsign_forward, softsign_backward

