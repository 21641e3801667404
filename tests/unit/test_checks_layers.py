"""course.checks.layers: the wrong implementations that used to pass now fail with the mistake named; the correct
variants still pass. (The reference passing and the first named mistakes are in test_layers.py.)"""
import numpy as np
import pytest

from course import layers as L

from test_checks_harness import assert_named, result


# --- affine: flattening in the wrong order -------------------------------------------------------------------

def affine_forward_reshape_d_n(x, w, b):
    n, d = x.shape[0], w.shape[0]
    return x.reshape(d, n).T @ w + b, (x, w, b)


def affine_forward_transpose_first(x, w, b):
    return x.T.reshape(x.shape[0], -1) @ w + b, (x, w, b)


@pytest.mark.parametrize("forward, how", [(affine_forward_reshape_d_n, "x.reshape(D, N).T"),
                                          (affine_forward_transpose_first, "x.T.reshape(N, -1)")])
def test_affine_forward_flattened_in_the_wrong_order_is_named(forward, how):
    assert_named(result("check_affine_forward", forward), f"flattened x in the wrong order: {how} mixes the examples")


def affine_backward_dw_reshape_d_n(dout, cache):
    x, w, b = cache
    n, d = x.shape[0], w.shape[0]
    return (dout @ w.T).reshape(x.shape), x.reshape(d, n) @ dout, dout.sum(axis=0)


def affine_backward_dx_from_w_dout_t(dout, cache):
    x, w, b = cache
    return (w @ dout.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def test_affine_backward_dw_flattened_in_the_wrong_order_is_named():
    assert_named(result("check_affine_backward", L.affine_forward, affine_backward_dw_reshape_d_n),
                 "flattened x in the wrong order: x.reshape(D, N) has the shape of the transpose")


def test_affine_backward_dx_reshaped_from_d_by_n_is_named():
    assert_named(result("check_affine_backward", L.affine_forward, affine_backward_dx_from_w_dout_t),
                 "dx computed as w @ dout.T, which is (D, N)")


# --- batch norm: a student's forward with one part of the running-average update changed ------------------------

def student_batchnorm(update=None, var_start=1.0, eps=None):
    """A batchnorm_forward that is right except for ``update(bn_param, mu, var, momentum)`` of the running averages,
    the running variance's starting value and a fixed ``eps`` (None: bn_param's)."""
    def batchnorm_forward(x, gamma, beta, bn_param):
        d = x.shape[1]
        e = bn_param.get("eps", 1e-5) if eps is None else eps
        momentum = bn_param.get("momentum", 0.9)
        bn_param.setdefault("running_mean", np.zeros(d))
        bn_param.setdefault("running_var", np.full(d, var_start))
        if bn_param["mode"] == "train":
            mu, var = x.mean(axis=0), x.var(axis=0)
            (update or right_update)(bn_param, mu, var, momentum)
        else:
            mu, var = bn_param["running_mean"], bn_param["running_var"]
        x_hat = (x - mu) / np.sqrt(var + e)
        return gamma * x_hat + beta, (bn_param["mode"], x_hat, gamma, 1 / np.sqrt(var + e))
    return batchnorm_forward


def right_update(bn_param, mu, var, momentum):
    bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu
    bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var


def var_never_updated(bn_param, mu, var, momentum):
    bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu


def var_from_std(bn_param, mu, var, momentum):
    right_update(bn_param, mu, np.sqrt(var), momentum)


def momentum_reversed(bn_param, mu, var, momentum):
    right_update(bn_param, mu, var, 1 - momentum)


def spatial(batchnorm_forward):
    """A spatial_batchnorm_forward built on a (student's) batchnorm_forward, as the lab suggests."""
    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        n, c, h, w = x.shape
        out, cache = batchnorm_forward(x.transpose(0, 2, 3, 1).reshape(-1, c), gamma, beta, bn_param)
        return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache
    return spatial_batchnorm_forward


RUNNING = [
    (student_batchnorm(var_never_updated), "running_var", "running averages not updated in train mode"),
    (student_batchnorm(var_from_std), "running_var", "running_var updated with the standard deviation"),
    (student_batchnorm(momentum_reversed), "running_mean", "momentum on the wrong term"),
    (student_batchnorm(var_start=0.0), "running_var", "running_var started from zeros"),
]


@pytest.mark.parametrize("layout", ["plain", "spatial"])
@pytest.mark.parametrize("forward, key, phrase", RUNNING, ids=["var_never_updated", "var_from_std",
                                                               "momentum_reversed", "var_started_at_zeros"])
def test_running_average_mistakes_are_named_for_plain_and_spatial_batchnorm(layout, forward, key, phrase):
    check = "check_batchnorm_forward" if layout == "plain" else "check_spatial_batchnorm_forward"
    r = result(check, forward if layout == "plain" else spatial(forward))
    assert_named(r, f"bn_param['{key}']", phrase)


def test_the_student_batchnorm_template_is_right_and_its_spatial_version_too():
    assert result("check_batchnorm_forward", student_batchnorm()).passed
    assert result("check_spatial_batchnorm_forward", spatial(student_batchnorm())).passed


def test_running_averages_are_checked_after_several_steps():
    def only_first_update(bn_param, mu, var, momentum):  # updates once, then never again
        if not bn_param.get("updated"):
            right_update(bn_param, mu, var, momentum)
            bn_param["updated"] = True
    assert_named(result("check_batchnorm_forward", student_batchnorm(only_first_update)),
                 "after three training steps")


@pytest.mark.parametrize("layout", ["plain", "spatial"])
def test_batchnorm_forward_ignoring_bn_param_eps_is_named(layout):
    forward = student_batchnorm(eps=1e-5)
    check = "check_batchnorm_forward" if layout == "plain" else "check_spatial_batchnorm_forward"
    assert_named(result(check, forward if layout == "plain" else spatial(forward)),
                 "ignored bn_param['eps'] (used the default 1e-05 instead of the 0.001 passed)")


def batchnorm_backward_train_formula_always(dout, cache):
    mode, x_hat, gamma, inv_std = cache
    return L.batchnorm_backward(dout, ("train", x_hat, gamma, inv_std))


def spatial_backward(batchnorm_backward):
    def spatial_batchnorm_backward(dout, cache):
        inner, shape = cache
        n, c, h, w = shape
        dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), inner)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta
    return spatial_batchnorm_backward


def test_batchnorm_backward_using_the_train_formula_in_test_mode_is_named():
    assert_named(result("check_batchnorm_backward", L.batchnorm_forward, batchnorm_backward_train_formula_always),
                 "used the train-mode formula in test mode")
    assert_named(result("check_spatial_batchnorm_backward", L.spatial_batchnorm_forward,
                        spatial_backward(batchnorm_backward_train_formula_always)),
                 "used the train-mode formula in test mode")


# --- batch norm: the mistakes lab 03 names ----------------------------------------------------------------------

def bn_eps_outside_the_root(mode_with_the_mistake):
    """A batchnorm_forward right except for eps added to the standard deviation in ``mode_with_the_mistake``."""
    def batchnorm_forward(x, gamma, beta, bn_param):
        out, cache = L.batchnorm_forward(x, gamma, beta, bn_param)
        if bn_param["mode"] != mode_with_the_mistake:
            return out, cache
        eps = bn_param.get("eps", 1e-5)
        mu, var = (x.mean(axis=0), x.var(axis=0)) if bn_param["mode"] == "train" else \
            (bn_param["running_mean"], bn_param["running_var"])
        return gamma * (x - mu) / (np.sqrt(var) + eps) + beta, cache
    return batchnorm_forward


@pytest.mark.parametrize("layout", ["plain", "spatial"])
@pytest.mark.parametrize("mode, where", [("train", "sqrt(var + eps), not sqrt(var) + eps"),
                                         ("test", "sqrt(running_var + eps), not sqrt(running_var) + eps")])
def test_eps_outside_the_square_root_is_named(layout, mode, where):
    forward = bn_eps_outside_the_root(mode)
    check = "check_batchnorm_forward" if layout == "plain" else "check_spatial_batchnorm_forward"
    assert_named(result(check, forward if layout == "plain" else spatial(forward)), "eps outside the square root",
                 where)


def bn_updating_in_test_mode(x, gamma, beta, bn_param):
    """Right in train mode; in test mode it normalizes with the running averages but then updates them."""
    out, cache = L.batchnorm_forward(x, gamma, beta, bn_param)
    if bn_param["mode"] == "test":
        m = bn_param.get("momentum", 0.9)
        bn_param["running_mean"] = m * bn_param["running_mean"] + (1 - m) * x.mean(axis=0)
        bn_param["running_var"] = m * bn_param["running_var"] + (1 - m) * x.var(axis=0)
    return out, cache


def test_running_averages_updated_in_test_mode_are_named():
    assert_named(result("check_batchnorm_forward", bn_updating_in_test_mode),
                 "test mode changed the running averages")


def bn_backward_graph(forget=None):
    """batchnorm_backward the computational-graph way, one node at a time (as lab 03 asks), with the reference
    forward's cache; ``forget`` leaves out one piece: "mean" (the mean's dependence on x), "1/N of the mean",
    "1/N of the variance"."""
    def batchnorm_backward(dout, cache):
        mode, x_hat, gamma, inv_std = cache
        if mode == "test":
            return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        n = dout.shape[0]
        dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
        dx_hat = dout * gamma
        centred = x_hat / inv_std  # x - mu
        dcentred = dx_hat * inv_std  # through x_hat = centred * inv_std
        dvar = (dx_hat * centred).sum(axis=0) * -0.5 * inv_std ** 3
        dcentred += dvar * 2 * centred / (1 if forget == "1/N of the variance" else n)
        dx = dcentred.copy()
        if forget != "mean":  # mu = mean(x): every x_i gets -sum(dcentred) / N
            dx -= dcentred.sum(axis=0) / (1 if forget == "1/N of the mean" else n)
        return dx, dgamma, dbeta
    return batchnorm_backward


def test_the_computational_graph_backward_passes():
    assert result("check_batchnorm_backward", L.batchnorm_forward, bn_backward_graph()).passed
    assert result("check_spatial_batchnorm_backward", L.spatial_batchnorm_forward,
                  spatial_backward(bn_backward_graph())).passed


@pytest.mark.parametrize("forget, phrase", [
    ("mean", "dropped the gradient through the mean"),
    ("1/N of the mean", "the mean's term misses its 1/N"),
    ("1/N of the variance", "the variance's term misses its 1/N"),
])
def test_backward_mistakes_of_the_computational_graph_are_named(forget, phrase):
    assert_named(result("check_batchnorm_backward", L.batchnorm_forward, bn_backward_graph(forget)), phrase)
    assert_named(result("check_spatial_batchnorm_backward", L.spatial_batchnorm_forward,
                        spatial_backward(bn_backward_graph(forget))), phrase)


def test_unwritten_batchnorm_functions_are_not_implemented_yet():
    def stub(*args):
        raise NotImplementedError

    for check, funcs in (("check_batchnorm_forward", [stub]), ("check_batchnorm_backward", [L.batchnorm_forward, stub]),
                         ("check_batchnorm_backward", [stub, stub]), ("check_spatial_batchnorm_forward", [stub]),
                         ("check_spatial_batchnorm_backward", [L.spatial_batchnorm_forward, stub])):
        r = result(check, *funcs)
        assert r.status == "not implemented" and "not implemented yet" in r.detail, r.message


# --- dropout -------------------------------------------------------------------------------------------------

def dropout_with_mask(draw):
    """An inverted dropout_forward that is right except for how the keep mask is drawn: draw(x, p, param)."""
    def dropout_forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x.copy(), ("test", None)
        mask = (draw(x, p, dropout_param) / p).astype(x.dtype)
        return x * mask, ("train", mask)
    return dropout_forward


def rng_of(param):
    return param["rng"] if param.get("rng") is not None else np.random.default_rng(param.get("seed"))


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()


right_dropout = dropout_with_mask(lambda x, p, param: rng_of(param).random(x.shape) < p)


def test_the_dropout_template_and_the_reference_pass():
    assert result("check_dropout_forward", right_dropout).passed
    assert result("check_dropout_backward", right_dropout, dropout_backward).passed
    assert result("check_dropout_forward", L.dropout_forward).passed


def test_dropout_with_a_fixed_seed_is_named():
    fixed = dropout_with_mask(lambda x, p, param: rng_of({**param, "seed": 0}).random(x.shape) < p)
    assert_named(result("check_dropout_forward", fixed), "dropout_param['seed'] ignored: seeds 123 and 124")


def test_dropout_ignoring_the_rng_is_named():
    ignores = dropout_with_mask(lambda x, p, param: np.random.default_rng(param.get("seed")).random(x.shape) < p)
    assert_named(result("check_dropout_forward", ignores), "dropout_param['rng'] ignored")


def test_dropout_with_the_same_mask_on_every_rng_call_is_named():
    repeats = dropout_with_mask(lambda x, p, param: np.random.default_rng(param.get("seed", 0)).random(x.shape) < p)
    assert_named(result("check_dropout_forward", repeats), "two successive calls with the same dropout_param['rng']")


def test_dropout_with_one_mask_per_feature_shared_by_the_batch_is_named():
    shared = dropout_with_mask(lambda x, p, param: rng_of(param).random(x.shape[1:]) < p)
    assert_named(result("check_dropout_forward", shared), "one mask shared by every example of the batch")


def test_dropout_with_one_decision_per_example_is_named():
    per_row = dropout_with_mask(lambda x, p, param: rng_of(param).random((x.shape[0], 1)) < p)
    assert_named(result("check_dropout_forward", per_row), "one keep/drop decision per example")


def test_dropout_backward_drawing_a_new_mask_is_named():
    def forward(x, dropout_param):
        out, _ = right_dropout(x, dropout_param)
        return out, dropout_param

    def backward_redrawing(dout, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return dout.copy()
        return dout * (np.random.default_rng(dropout_param.get("seed")).random(dout.shape) < p) / p

    assert_named(result("check_dropout_backward", forward, backward_redrawing),
                 "dropout_backward used another mask than the forward")
