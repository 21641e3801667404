import warnings

import numpy as np
import pytest

import widgets
from course import search
from course.experiments import search as experiments
from readout import flat, readout_text

SMALL = dict(landscape=dict(n_lr=6, n_reg=4, epochs=1), searches=200)


def offsets(scatter) -> np.ndarray:
    return np.asarray(scatter.get_offsets())


def test_builds_on_the_measured_landscape_and_says_what_it_is():
    e = widgets.search_explorer()
    land = e.landscape
    assert land is experiments.measure_landscape() and land.accuracy.shape == (9, 61)
    np.testing.assert_array_equal(np.asarray(e.mesh.get_array()).reshape(land.accuracy.shape), land.accuracy)
    assert len(offsets(e.diverged_marks)) == land.diverged.sum() > 0
    assert e.progress.value == e.progress.max and e.output.outputs == ()
    text = readout_text(e)
    assert "The landscape: validation accuracy of 549 networks" in text and "No event trains anything" in text
    assert "Measured: its points" in text and "the nearest one next to a network that diverged" in text


def test_the_budget_sets_the_trials_of_each_strategy():
    e = widgets.search_explorer(**SMALL)
    for budget, k in ((9, 3), (16, 4), (20, 4)):
        e.controls["budget"].value = budget
        grid, random = offsets(e.grid_points), offsets(e.random_points)
        assert len(grid) == k * k and len(random) == budget
        assert len(np.unique(grid[:, 0])) == k and len(np.unique(random[:, 0])) == budget
        assert len(offsets(e.grid_ticks)) == k * k and len(offsets(e.random_ticks)) == budget
        assert e.budget_line.get_xdata()[0] == budget
        text = readout_text(e)
        assert f"grid: {k} x {k} = {k * k} trials, {k} learning rates tried" in text
        assert f"random (draw 0): {budget} trials, {budget} learning rates tried" in text


def test_the_best_trial_is_marked_with_its_accuracy():
    e = widgets.search_explorer(**SMALL)
    grid = offsets(e.grid_points)
    found = e.landscape.accuracy_at(grid[:, 0], grid[:, 1])
    np.testing.assert_allclose(offsets(e.best_marks)[0], grid[np.argmax(found)])
    np.testing.assert_allclose(offsets(e.found_marks)[0], [16, found.max()])
    assert f"best {found.max():.1%}" in readout_text(e)


def test_the_strategy_shows_one_kind_of_trial_or_both():
    e = widgets.search_explorer(**SMALL)
    e.controls["strategy"].value = "grid"
    assert len(offsets(e.random_points)) == 0 and len(offsets(e.grid_points)) == 16 and "random" not in readout_text(e)
    e.controls["strategy"].value = "random"
    assert len(offsets(e.grid_points)) == 0 and len(offsets(e.best_marks)) == 1


def test_another_draw_moves_the_random_trials_only():
    e = widgets.search_explorer(**SMALL)
    grid, random = offsets(e.grid_points).copy(), offsets(e.random_points).copy()
    e.controls["draw"].value = 3
    np.testing.assert_array_equal(offsets(e.grid_points), grid)
    assert not np.array_equal(offsets(e.random_points), random)


def test_the_presets_show_a_lucky_grid_and_a_worse_one_with_more_trials():
    e = widgets.search_explorer()
    found = {}
    for name, budget in (("9 trials: a lucky grid", 9), ("25 trials: more trials, a worse grid", 25)):
        e.apply_preset(name)
        grid = offsets(e.grid_points)
        found[budget] = e.landscape.accuracy_at(grid[:, 0], grid[:, 1]).max()
        mean = e.prepared["log-uniform"][2][budget - 1]
        assert (found[budget] > mean) == (budget == 9), name
    assert found[25] < found[9] - 0.01


def test_the_budget_panel_shows_grid_against_the_random_searches():
    e = widgets.search_explorer(**SMALL)
    _, comparison, mean, low, high = e.prepared["log-uniform"]
    np.testing.assert_allclose(e.grid_line.get_ydata(), comparison.grid)
    np.testing.assert_allclose(e.random_mean.get_ydata(), mean)
    assert comparison.random.shape == (200, 64)


def test_uniform_sampling_crowds_the_top_decade_and_says_so():
    e = widgets.search_explorer(**SMALL)
    e.apply_preset("uniform sampling wastes the trials")
    lrs = offsets(e.random_points)[:, 0]
    assert np.mean(lrs > e.lr_range[1] / 10) > 0.6
    assert "fall in the top decade: sample on a log scale" in e.message.get_text()
    e.controls["sampler"].value = "log-uniform"
    assert e.message.get_text() == ""


def test_no_event_trains(monkeypatch):
    e = widgets.search_explorer(**SMALL)
    monkeypatch.setattr(experiments.NetworkBatch, "advance", lambda *a, **k: pytest.fail("an event trained"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for budget in (1, 2, 37, 64):
            e.controls["budget"].value = budget
        for name in ("strategy", "draw", "sampler"):
            control = e.controls[name]
            control.value = control.options[-1] if hasattr(control, "options") else control.max
    assert e.output.outputs == ()


def stub_log_uniform(low, high, size=None, rng=None):
    raise NotImplementedError


def linear_log_uniform(low, high, size=None, rng=None):
    return rng.uniform(low, high, size=size)


def test_a_stub_sampler_falls_back_to_the_reference_and_says_so():
    e = widgets.search_explorer(log_uniform=stub_log_uniform, **SMALL)
    assert e.controls["sampler"].value == "your log_uniform"
    assert flat(e.note.get_text()) == "your log_uniform: using the reference log_uniform -- yours is not implemented yet"
    assert len(offsets(e.random_points)) == 16


def test_a_wrong_sampler_falls_back_with_its_check_message():
    e = widgets.search_explorer(log_uniform=linear_log_uniform, **SMALL)
    assert "yours fails its check: uniform on the linear scale" in flat(e.note.get_text())


def test_a_correct_sampler_draws_the_random_trials():
    calls = []

    def log_uniform(low, high, size=None, rng=None):
        calls.append(size)
        return search.log_uniform(low, high, size=size, rng=rng)

    e = widgets.search_explorer(log_uniform=log_uniform, **SMALL)
    assert e.note.get_text() == "" and 64 in calls and (200, 64) in calls
    lr_range = e.lr_range
    expected = search.log_uniform(*lr_range, size=64, rng=np.random.default_rng(0))
    np.testing.assert_allclose(offsets(e.random_points)[:, 0], expected[:16])


def test_a_sampler_failing_while_running_is_replaced_and_named():
    def log_uniform(low, high, size=None, rng=None):
        if size == (200, 64):  # passes its check, fails on the explorer's large draw
            raise ValueError("too many")
        return search.log_uniform(low, high, size=size, rng=rng)

    e = widgets.search_explorer(log_uniform=log_uniform, **SMALL)
    assert "yours failed while running: log_uniform raised ValueError: too many" in flat(e.note.get_text())
    assert len(offsets(e.random_points)) == 16 and e.output.outputs == ()
