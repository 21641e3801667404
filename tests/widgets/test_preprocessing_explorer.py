import warnings

import numpy as np
import pytest

import widgets
from course import preprocess
from course.experiments import STAGES
from readout import flat, readout_text


def points(e, stage, split="train"):
    return np.asarray((e.train_points if split == "train" else e.test_points)[stage].get_offsets())


def test_each_stage_does_what_it_says_on_the_training_split():
    e = widgets.preprocessing_explorer(correlation=0.8, offset=6.0, spread_ratio=0.5)
    original = points(e, "original")
    assert np.allclose(original.mean(axis=0), [6.0, 3.0], atol=0.3)
    np.testing.assert_allclose(points(e, "centred").mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(points(e, "standardized").std(axis=0), 1, atol=1e-12)
    decorrelated = points(e, "decorrelated (PCA)")
    assert abs(np.corrcoef(decorrelated.T)[0, 1]) < 1e-10 and abs(np.corrcoef(original.T)[0, 1]) > 0.7
    np.testing.assert_allclose(np.cov(points(e, "whitened").T, bias=True), np.eye(2), atol=1e-3)
    assert set(e.train_points) == set(STAGES) == set(e.test_points)
    assert e.note.get_text() == "" and e.message.get_text() == ""


def test_the_principal_axes_follow_the_cloud():
    e = widgets.preprocessing_explorer(correlation=0.9, spread_ratio=1.0)
    x, y = e.axes_lines["centred"][0].get_data()
    assert np.isclose(y[1] / x[1], 1.0, atol=0.15)  # equal spreads, positive correlation: the diagonal
    e.controls["correlation"].value = -0.9
    x, y = e.axes_lines["centred"][0].get_data()
    assert np.isclose(y[1] / x[1], -1.0, atol=0.15)
    x, y = e.axes_lines["original"][0].get_data()
    np.testing.assert_allclose([x.mean(), y.mean()], e.stages.mean)  # drawn through the training mean


def test_the_offset_moves_only_the_original_cloud():
    e = widgets.preprocessing_explorer(offset=0.0)
    centred = points(e, "centred").copy()
    e.controls["offset"].value = 8.0
    assert np.allclose(points(e, "original").mean(axis=0), [8.0, 4.0], atol=0.3)
    np.testing.assert_allclose(points(e, "centred"), centred, atol=1e-12)


def test_the_test_split_is_transformed_with_the_training_statistics():
    e = widgets.preprocessing_explorer(test_points=30)
    test = points(e, "original", "test")
    assert len(test) == 30
    np.testing.assert_allclose(points(e, "centred", "test"), test - e.stages.mean)
    np.testing.assert_allclose(points(e, "standardized", "test"), (test - e.stages.mean) / e.stages.std)
    assert np.abs(points(e, "centred", "test").mean(axis=0)).max() > 1e-3  # new data: not exactly centred
    assert "with the training statistics" in readout_text(e)


def test_the_test_splits_own_statistics_move_its_points():
    e = widgets.preprocessing_explorer(test_points=30)
    with_training = points(e, "standardized", "test").copy()
    e.controls["test_statistics"].value = "test split's own"
    own = points(e, "standardized", "test")
    np.testing.assert_allclose(own.mean(axis=0), 0, atol=1e-12)
    assert not np.allclose(own, with_training)
    assert "depends on the other test points" in e.message.get_text()
    e.controls["test_points"].value = 2
    np.testing.assert_allclose(np.abs(points(e, "standardized", "test")), 1)  # two points: always at ±1
    assert "always stretched to unit spread" in e.message.get_text()


def test_a_large_eps_shrinks_the_whitened_cloud():
    e = widgets.preprocessing_explorer(correlation=0.995, spread_ratio=1.0, eps=1e-5)
    assert points(e, "whitened").std(axis=0)[1] == pytest.approx(1, abs=0.01)
    e.controls["eps"].value = 0.1
    assert points(e, "whitened").std(axis=0)[1] < 0.5
    assert "eps is not small next to the smallest variance" in e.message.get_text()


def test_readout_follows_the_correlation():
    e = widgets.preprocessing_explorer(correlation=0.5)
    before = readout_text(e)
    e.controls["correlation"].value = -0.7
    text = flat(readout_text(e))
    assert text != before and "correlation -0.7" in text and "after PCA 0.00" in text


def test_pca_rotates_even_a_round_cloud_by_an_angle_chance_decides():
    e = widgets.preprocessing_explorer(correlation=0.0, spread_ratio=1.0)
    angle = float(flat(readout_text(e)).split("first direction at ")[1].split("°")[0])
    assert abs(angle) > 10  # the sample's variances differ by chance, so PCA still turns the cloud
    e.controls["correlation"].value = -0.02
    turned = float(flat(readout_text(e)).split("first direction at ")[1].split("°")[0])
    assert abs(turned - angle) > 20  # a nudge swings the directions: with equal variances they are arbitrary


def test_extremes_give_no_warning():
    e = widgets.preprocessing_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, value in (("correlation", 0.995), ("spread_ratio", 0.1), ("eps", 1e-5), ("test_points", 2),
                            ("test_statistics", "test split's own"), ("correlation", -0.995), ("offset", 8.0)):
            e.controls[name].value = value
            e.fig.canvas.draw()
    assert e.output.outputs == () and not e.message.get_text().startswith("error")
    assert all(np.all(np.isfinite(points(e, stage, split))) for stage in STAGES for split in ("train", "test"))


# --- students' functions -------------------------------------------------------------------------------------------

def center(X, mean=None):
    mean = X.mean(axis=0) if mean is None else mean
    return X - mean, mean


def stub(*args, **kwargs):
    raise NotImplementedError


def test_students_functions_are_used_when_they_pass():
    calls = []

    def standardize(X, mean=None, std=None):
        calls.append(X.shape)
        return preprocess.standardize(X, mean, std)

    e = widgets.preprocessing_explorer(center=center, standardize=standardize, pca=preprocess.pca,
                                       whiten=preprocess.whiten)
    assert e.note.get_text() == "" and calls
    np.testing.assert_allclose(points(e, "centred").mean(axis=0), 0, atol=1e-12)


def test_a_stub_or_a_wrong_function_falls_back_and_says_so():
    stub.__name__ = "pca"

    def center_axis_one(X, mean=None):
        mean = X.mean(axis=1, keepdims=True)
        return X - mean, mean

    e = widgets.preprocessing_explorer(center=center_axis_one, pca=stub)
    note = flat(e.note.get_text())
    assert "center: using the reference center -- yours fails its check: likely mistake: the mean over axis=1" in note
    assert "pca: using the reference pca -- yours is not implemented yet" in note
    np.testing.assert_allclose(points(e, "centred").mean(axis=0), 0, atol=1e-12)


def test_a_function_failing_while_it_runs_falls_back():
    def whiten(X_projected, explained_variance, eps=1e-5):
        if len(X_projected) == 7:
            raise RuntimeError("seven points")
        return preprocess.whiten(X_projected, explained_variance, eps)

    e = widgets.preprocessing_explorer(whiten=whiten)
    e.controls["test_points"].value = 7
    assert "whiten: using the reference whiten -- yours failed while running: whiten raised RuntimeError" in \
        flat(e.note.get_text())
    assert len(points(e, "whitened", "test")) == 7 and e.output.outputs == ()
