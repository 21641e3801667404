"""course.experiments.cnn: one layer's geometry (valid or not, never an exception), a network's table up to its
first layer that does not fit, the classic architectures' numbers, and the ConvNet trained on the digits."""
import numpy as np
import pytest

from course import conv as K
from course.experiments import cnn


# --- one layer ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("W, F, S, P, size", [(7, 3, 1, 0, 5), (7, 3, 2, 1, 4), (227, 11, 4, 0, 55), (5, 5, 1, 0, 1),
                                              (32, 5, 1, 2, 32), (8, 1, 1, 3, 14)])
def test_a_valid_layer(W, F, S, P, size):
    g = cnn.layer_geometry(W, F, S, P)
    assert g.valid and g.size == size == K.conv_output_size(W, F, S, P) == g.fits
    assert g.padded == W + 2 * P and g.uncovered == g.lost == 0 and g.problem == "" and not g.loses_input
    assert g.offsets[-1] + F == W + 2 * P  # the last position ends at the padded border
    assert g.formula == f"(W − F + 2P)/S + 1 = ({W} − {F} + 2·{P})/{S} + 1 = {size}"


@pytest.mark.parametrize("W, F, S, P, fits, uncovered, lost", [
    (7, 3, 3, 0, 2, 1, 1), (32, 5, 2, 0, 14, 1, 1), (224, 11, 4, 0, 54, 1, 1), (224, 11, 4, 1, 54, 3, 2),
    (10, 3, 4, 0, 2, 3, 3),
])
def test_a_stride_that_does_not_fit_is_described_not_raised(W, F, S, P, fits, uncovered, lost):
    g = cnn.layer_geometry(W, F, S, P)
    assert not g.valid and g.size is None
    assert g.fits == fits and g.uncovered == uncovered and g.lost == lost and g.loses_input
    assert (g.fits - 1) * S + F + uncovered == W + 2 * P
    assert f"{(W - F + 2 * P) / S + 1:.3g}" in g.formula
    columns = "column of the padded input is" if uncovered == 1 else f"{uncovered} columns of the padded input are"
    assert g.problem.startswith(f"the stride S = {S} does not divide W − F + 2P = {W - F + 2 * P}: the last "
                                f"{columns} never covered, ")
    assert f"a library that floors the formula makes {fits} outputs and drops " in g.problem


def test_the_lost_columns_are_input_columns_only():
    assert [cnn.layer_geometry(7, 3, 3, 0).problem.split(": ")[-1],
            cnn.layer_geometry(224, 11, 4, 1).problem.split(", ", 1)[1],
            cnn.layer_geometry(10, 3, 4, 0).problem.split(", ", 1)[1]] == [
        "a library that floors the formula makes 2 outputs and drops it",
        "2 of them input: a library that floors the formula makes 54 outputs and drops the last 2 input columns",
        "all of them input: a library that floors the formula makes 2 outputs and drops the last 3 input columns"]


@pytest.mark.parametrize("W, F, S, P, fits", [
    (32, 5, 2, 1, 15), (32, 5, 2, 2, 16), (32, 5, 2, 3, 17),  # any padding of lab 08's question 1
    (56, 3, 2, 1, 28),  # ResNet's 3x3, stride-2 downsampling
    (224, 11, 4, 2, 55), (224, 11, 4, 3, 55),  # torchvision's AlexNet (P = 2)
])
def test_a_stride_that_leaves_only_padding_uncovered_loses_no_input(W, F, S, P, fits):
    g = cnn.layer_geometry(W, F, S, P)
    assert not g.valid and g.fits == fits and 0 < g.uncovered <= P and g.lost == 0 and not g.loses_input
    assert (g.fits - 1) * S + F >= P + W  # the last position reaches the last input column
    assert g.problem.endswith(f"but {'it is' if g.uncovered == 1 else 'they are'} zero padding: no input is lost, "
                              f"and a library that floors the formula "
                              f"makes {fits} outputs (padding {P} before, {P - g.uncovered} after)")


def test_a_filter_wider_than_the_padded_input_fits_nowhere():
    g = cnn.layer_geometry(3, 5, 1, 0)
    assert not g.valid and g.fits == 0 and g.uncovered == 3 and g.lost == 3 and g.offsets.size == 0
    assert g.problem == "the filter (F = 5) is wider than the padded input (W + 2P = 3)"
    assert g.formula.endswith("= -1")


def test_the_size_function_is_asked_only_about_layers_that_fit():
    asked = []

    def conv_output_size(W, F, S, P):
        asked.append((W, F, S, P))
        return K.conv_output_size(W, F, S, P)

    assert cnn.layer_geometry(7, 3, 2, 1, conv_output_size).size == 4
    assert cnn.layer_geometry(7, 3, 3, 0, conv_output_size).size is None
    assert asked == [(7, 3, 2, 1)]


def test_layer_geometry_refuses_non_integers():
    with pytest.raises(ValueError, match="S must be an integer >= 1"):
        cnn.layer_geometry(7, 3, 0)
    with pytest.raises(ValueError, match="P must be an integer >= 0"):
        cnn.layer_geometry(7, 3, 1, 1.5)


# --- a network ----------------------------------------------------------------------------------------------------

BLOCKS = [dict(F=5, S=1, P=2, K=16, pool="2x2 stride 2"), dict(F=5, S=1, P=2, K=20, pool="none"),
          dict(F=2, S=1, P=0, K=20, pool="3x3 stride 2")]  # 32 -> 32 -> 16 -> 16 -> 15 -> 7


def test_network_layers_names_each_conv_and_pool():
    names, layers = cnn.network_layers(BLOCKS)
    assert names == ["conv1", "pool1", "conv2", "conv3", "pool3"]
    assert layers[1] == ("pool", {"F": 2, "S": 2}) and layers[4] == ("pool", {"F": 3, "S": 2})
    assert layers[0] == ("conv", {"K": 16, "F": 5, "S": 1, "P": 2})


def test_a_network_that_fits_is_tabulated_as_describe_stack_does():
    table = cnn.network_table((3, 32, 32), BLOCKS)
    assert table.names == ["input", "conv1", "pool1", "conv2", "conv3", "pool3"]
    assert table.rows == K.describe_stack((3, 32, 32), cnn.network_layers(BLOCKS)[1])
    assert table.rows[-1]["output_shape"] == (20, 7, 7)
    assert table.failed == table.problem == "" and table.pending == []
    assert table.total_params == (5 * 5 * 3 + 1) * 16 + (5 * 5 * 16 + 1) * 20 + (2 * 2 * 20 + 1) * 20
    assert table.total_floats == sum(r["floats"] for r in table.rows)


def test_a_network_stops_at_its_first_layer_that_does_not_fit_and_says_why():
    blocks = [dict(BLOCKS[0]), dict(BLOCKS[1], S=2, P=1), dict(BLOCKS[2])]
    table = cnn.network_table((3, 32, 32), blocks)
    assert table.names == ["input", "conv1", "pool1"] and len(table.rows) == 3
    assert table.failed == "conv2"
    assert table.problem == ("conv2 (K = 20, F = 5, S = 2, P = 1) does not fit: (W − F + 2P)/S + 1 = "
                             "(16 − 5 + 2·1)/2 + 1 = 7.5; the stride S = 2 does not divide W − F + 2P = 13: the "
                             "last column of the padded input is never covered, but it is zero padding: no input is "
                             "lost, and a library that floors the formula makes 7 outputs (padding 1 before, 0 after)")
    assert table.brief == ("conv2 does not fit: (16 − 5 + 2·1)/2 + 1 = 7.5; only zero padding is uncovered: no "
                           "input lost")
    assert table.pending == ["conv3 (K = 20, F = 2, S = 1, P = 0)", "pool3 (F = 3, S = 2)"]


def test_a_network_gives_the_rows_its_centre_units_see():
    table = cnn.network_table((3, 32, 32), [dict(F=5, S=1, P=2, K=16, pool="2x2 stride 2")] * 3)
    assert table.names == ["input", "conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
    # conv3: a 32-row receptive field, yet its centre unit (row 3 of 8) sees rows -2 to 29: two of padding, and
    # not the image's last two rows
    assert table.centre_rows == [(15, 15), (13, 17), (12, 17), (8, 21), (6, 21), (-2, 29), (-6, 29)]
    for (first, last), row in zip(table.centre_rows, table.rows):
        assert last - first + 1 == row["receptive_field"][0]


def test_field_rows_follows_one_unit_through_strides_and_padding():
    conv, pool = ("conv", dict(K=1, F=5, P=2)), ("pool", dict(F=2))
    assert cnn.field_rows([], 7) == (7, 7)
    assert cnn.field_rows([conv], 0) == (-2, 2)
    assert cnn.field_rows([conv, pool, conv, pool, conv], 4) == (2, 33)  # the other middle unit of conv3
    assert cnn.field_rows([("conv", dict(K=1, F=3, S=2, P=1)), ("relu", {})], 1) == (1, 3)
    with pytest.raises(ValueError, match="conv, pool and relu"):
        cnn.field_rows([("fc", dict(M=3))], 0)


def test_a_pool_that_does_not_fit_is_named():
    table = cnn.network_table((1, 7, 7), [dict(F=1, S=1, P=0, K=2, pool="2x2 stride 2")])
    assert table.failed == "pool1" and table.problem.startswith("pool1 (F = 2, S = 2) does not fit: ")
    assert "(7 − 2 + 2·0)/2 + 1 = 3.5" in table.problem
    assert table.brief == ("pool1 does not fit: (7 − 2 + 2·0)/2 + 1 = 3.5; the last input column is never "
                           "covered")


# --- the classic architectures ------------------------------------------------------------------------------------

def test_alexnet_first_layer():
    rows = K.describe_stack((3, 227, 227), [cnn.ALEXNET_CONV1])
    assert rows[1]["output_shape"] == (96, 55, 55) and rows[1]["params"] == 34_944
    assert rows[1]["floats"] == 290_400 and rows[1]["receptive_field"] == (11, 11)
    with pytest.raises(ValueError, match="54.25"):
        K.describe_stack((3, 224, 224), [cnn.ALEXNET_CONV1])


def test_vgg16_parameters_and_activation_memory():
    rows = K.describe_stack((3, 224, 224), cnn.VGG16)
    assert sum(r["params"] for r in rows) == 138_357_544  # the published count of VGG-16
    assert sum(r["floats"] for r in rows) == 15_237_608
    assert [r["output_shape"] for r in rows][-5:] == [(512, 14, 14), (512, 7, 7), (4096,), (4096,), (1000,)]
    assert rows[-3]["params"] == (7 * 7 * 512 + 1) * 4096


# --- the ConvNet on the digits ------------------------------------------------------------------------------------

def test_the_digits_convnet_learns_and_keeps_a_snapshot_per_iteration():
    net = cnn.train_digits_convnet()
    assert net.iterations == cnn.DIGITS_ITERATIONS and len(net.snapshots) == len(net.iterations)
    assert net.X_val.shape == (179, 1, 8, 8) and 0 <= net.X_val.min() and net.X_val.max() <= 1
    assert net.val_accuracy[0] < 0.3 and net.val_accuracy[-1] > 0.85
    first, last = net.snapshot(0)["W1"], net.snapshot(net.iterations[-1])["W1"]
    assert first.shape == last.shape == (8, 1, 5, 5) and not np.allclose(first, last)
    probs = net.probabilities(net.iterations[-1], net.X_val[:5])
    assert probs.shape == (5, 10) and np.allclose(probs.sum(axis=1), 1)
    assert cnn.train_digits_convnet() is net  # cached


def test_the_digits_convnet_is_reproducible_for_a_seed():
    a = cnn.train_digits_convnet(iterations=(0, 5), seed=3)
    b = cnn.train_digits_convnet.__wrapped__(iterations=(0, 5), seed=3)
    np.testing.assert_allclose(a.snapshot(5)["W1"], b.snapshot(5)["W1"])
    assert a.iterations == (0, 5) and len(a.snapshots) == 2


@pytest.mark.parametrize("stage, shape", [("conv", (8, 8, 8)), ("relu", (8, 8, 8)), ("pool", (8, 4, 4))])
def test_feature_maps(stage, shape):
    net = cnn.train_digits_convnet()
    params, x = net.snapshot(net.iterations[-1]), net.X_val[0]
    maps = cnn.feature_maps(params, x, stage)
    assert maps.shape == shape
    conv_out = K.conv_forward(x[None], params["W1"], params["b1"], {"stride": 1, "pad": 2})[0][0]
    expected = {"conv": conv_out, "relu": np.maximum(conv_out, 0),
                "pool": np.maximum(conv_out, 0).reshape(8, 4, 2, 4, 2).max(axis=(2, 4))}[stage]
    np.testing.assert_allclose(maps, expected)


def test_feature_maps_run_the_given_functions():
    net = cnn.train_digits_convnet()
    calls = []

    def conv(x, w, b, conv_param):
        calls.append("conv")
        return K.conv_forward_naive(x, w, b, conv_param)

    def pool(x, pool_param):
        calls.append("pool")
        return K.max_pool_forward_naive(x, pool_param)

    cnn.feature_maps(net.snapshot(0), net.X_val[0], "pool", conv, pool)
    assert calls == ["conv", "pool"]
    with pytest.raises(ValueError, match="stage must be one of"):
        cnn.feature_maps(net.snapshot(0), net.X_val[0], "softmax")
