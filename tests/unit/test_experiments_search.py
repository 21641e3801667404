"""course.experiments.search: networks trained side by side (against FullyConnectedNet and a numerical gradient),
the landscape, grid and random trials, the search comparison and ensembles."""
import numpy as np
import pytest

from course import optim, search
from course.experiments.babysitting import digits_data
from course.experiments.search import (Landscape, LandscapeMeasurement, NetworkBatch, best_so_far, compare_searches,
                                       distinct_values, ensemble_study, grid_trials, majority_vote, measure_landscape,
                                       over_seeds, random_trials)
from course.gradcheck import eval_numerical_gradient, rel_error
from course.models import FullyConnectedNet


@pytest.fixture(scope="module")
def data():
    return digits_data()


RULES = {"sgd": optim.sgd, "momentum": optim.sgd_momentum, "adam": optim.adam}


def by_hand(data, lr, reg, seed, epochs, batch_seed, batch_size=100, rule="sgd"):
    """FullyConnectedNet([32]) trained by course.optim's ``rule`` on the minibatches NetworkBatch uses."""
    model = FullyConnectedNet([32], 64, 10, seed=seed, reg=reg)
    configs = {name: {"learning_rate": lr} for name in model.params}
    order_rng = np.random.default_rng(batch_seed)
    n = len(data["y_train"])
    for _ in range(epochs):
        order = order_rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, grads = model.loss(data["X_train"][batch], data["y_train"][batch])
            for name in model.params:
                model.params[name], configs[name] = RULES[rule](model.params[name], grads[name], configs[name])
    return model


def test_each_network_trains_as_a_fully_connected_net_would(data):
    lrs, regs, seeds = [0.1, 1.0, 0.5], [0.0, 1e-3, 0.1], [0, 1, 0]
    nets = NetworkBatch(data, lrs, regs, seeds=seeds, epochs=2, batch_seed=3).advance()
    assert nets.done and nets.iteration == 2 * 11 and nets.alive.all()
    for k in range(3):
        expected = by_hand(data, lrs[k], regs[k], seeds[k], epochs=2, batch_seed=3)
        got = nets.model(k)
        for name in expected.params:
            np.testing.assert_allclose(got.params[name], expected.params[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got.scores(data["X_val"]), nets.scores(data["X_val"])[k], rtol=1e-9, atol=1e-12)
    accuracy = [np.mean(nets.model(k).scores(data["X_val"]).argmax(axis=1) == data["y_val"]) for k in range(3)]
    np.testing.assert_allclose(nets.accuracy(), accuracy)


@pytest.mark.parametrize("rule", ["momentum", "adam"])
def test_momentum_and_adam_networks_train_as_course_optim_would(data, rule):
    lrs, regs, seeds = [0.05, 0.01], [0.0, 1e-3], [0, 1]
    nets = NetworkBatch(data, lrs, regs, seeds=seeds, epochs=2, batch_seed=3, update_rule=rule).advance()
    for k in range(2):
        expected = by_hand(data, lrs[k], regs[k], seeds[k], epochs=2, batch_seed=3, rule=rule)
        for name, param in nets.model(k).params.items():
            np.testing.assert_allclose(param, expected.params[name], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="update_rule must be one of"):
        NetworkBatch(data, 0.1, update_rule="nesterov")


def test_every_iteration_records_the_losses_and_the_update_to_weight_ratios(data):
    nets = NetworkBatch(data, [0.1, 1.0], [0.0, 1e-2], seeds=[0, 1], epochs=1, update_rule="momentum")
    before = nets.W1.copy(), nets.W2.copy()
    order = np.random.default_rng(0).permutation(len(data["y_train"]))[:100]
    expected_loss, _ = nets.loss_and_gradients(nets.X[order], nets.y[order])
    nets.advance(1)
    assert nets.losses.shape == (1, 2) and nets.ratios.shape == (1, 2, 2)
    np.testing.assert_allclose(nets.losses[0], expected_loss)
    for layer, (old, new) in enumerate(zip(before, (nets.W1, nets.W2))):
        for k in range(2):
            np.testing.assert_allclose(nets.ratios[0, k, layer], np.linalg.norm(new[k] - old[k]) / np.linalg.norm(old[k]))
    nets.advance()
    assert nets.losses.shape == (11, 2) and nets.ratios.shape == (11, 2, 2)
    assert nets.ratios[0, 1, 0] > 5 * nets.ratios[0, 0, 0]  # ten times the learning rate: larger steps


def test_over_seeds_draws_the_weights_and_the_minibatch_order_from_each_seed(data):
    runs = over_seeds(data, [0.1, 0.5], 1e-3, seeds=(2, 5), epochs=1)
    assert len(runs) == 2 and all(run.done for run in runs)
    for run, seed in zip(runs, (2, 5)):
        alone = NetworkBatch(data, [0.1, 0.5], 1e-3, seeds=seed, batch_seed=seed, epochs=1).advance()
        np.testing.assert_array_equal(run.W1, alone.W1)


@pytest.mark.parametrize("name, index", [("W1", 0), ("b1", 1), ("W2", 2), ("b2", 3)])
def test_gradients_match_a_numerical_gradient_of_the_loss(data, name, index):
    nets = NetworkBatch(data, [0.1, 0.3], [0.05, 0.2], seeds=[0, 1])
    nets.advance(3)  # away from the symmetric start
    X, y = data["X_train"][:20], data["y_train"][:20]
    _, grads = nets.loss_and_gradients(X, y)
    param = nets.params[index]
    for k in range(2):
        def loss_of(values):
            saved = param[k].copy()
            param[k] = values
            try:
                return nets.loss_and_gradients(X, y)[0][k]
            finally:
                param[k] = saved
        numeric = eval_numerical_gradient(loss_of, param[k].copy())
        assert rel_error(grads[index][k], numeric) < 1e-5, name  # ReLU's kink: a smooth loss would reach 1e-7


@pytest.mark.parametrize("rule, huge", [("sgd", 100.0), ("momentum", 30.0), ("adam", 10.0)])
def test_a_diverging_network_is_stopped_and_the_others_are_untouched(data, rule, huge):
    together = NetworkBatch(data, [0.05, huge], [1e-3, 0.0], seeds=[0, 1], epochs=1, update_rule=rule).advance()
    alone = NetworkBatch(data, 0.05, 1e-3, seeds=0, epochs=1, update_rule=rule).advance()
    stop = together.diverged_at[1]
    assert together.diverged_at[0] == -1 and 0 <= stop < 10 and together.done
    assert all(np.all(p[1] == 0) for p in together.params)
    np.testing.assert_allclose(together.W1[0], alone.W1[0], rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(together.scores(data["X_val"])))
    assert np.all(np.isfinite(together.ratios[:, 0])) and np.all(np.isnan(together.ratios[stop:, 1]))


def test_a_batch_whose_networks_all_diverged_is_done(data):
    nets = NetworkBatch(data, [100.0, 300.0], epochs=5).advance()
    assert nets.done and not nets.alive.any() and nets.iteration < 10 and len(nets.losses) == nets.iteration


def test_float32_networks_stay_float32(data):
    nets = NetworkBatch(data, 0.3, 1e-3, epochs=1, dtype=np.float32).advance()
    assert all(p.dtype == np.float32 for p in nets.params) and nets.accuracy()[0] > 0.8


def test_bad_settings_are_refused(data):
    with pytest.raises(ValueError, match="every learning rate must be > 0"):
        NetworkBatch(data, [0.1, 0.0])
    with pytest.raises(ValueError, match="every regularization strength must be >= 0"):
        NetworkBatch(data, 0.1, -1.0)


def small_landscape():
    lrs, regs = np.array([1e-2, 1e-1, 1.0]), np.array([1e-4, 1e-2])
    accuracy = np.array([[0.2, 0.6, 0.9], [0.3, 0.5, 0.7]])
    return Landscape(lrs, regs, accuracy, np.zeros_like(accuracy, dtype=bool), "a test landscape")


def test_landscape_reads_measured_points_and_interpolates_in_log_space():
    land = small_landscape()
    np.testing.assert_allclose(land.accuracy_at([1e-2, 1.0, 1e-1], [1e-4, 1e-2, 1e-2]), [0.2, 0.7, 0.5])
    np.testing.assert_allclose(land.accuracy_at(np.sqrt(1e-2 * 1e-1), 1e-4), 0.4)  # halfway on a log axis
    np.testing.assert_allclose(land.accuracy_at(1e-1, 1e-3), 0.55)
    np.testing.assert_allclose(land.accuracy_at([1e-5, 10.0], [1e-9, 1.0]), [0.2, 0.7])  # clipped to the ranges
    assert land.best() == (0.9, 1.0, 1e-4)


def test_next_to_a_diverged_network_a_trial_reads_the_nearest_measured_one():
    lrs, regs = np.array([1e-2, 1e-1, 1.0]), np.array([1e-4, 1e-2])
    accuracy = np.array([[0.2, 0.9, 0.1], [0.3, 0.8, 0.1]])
    diverged = np.array([[False, False, True], [False, False, True]])
    land = Landscape(lrs, regs, accuracy, diverged, "a cliff at lr 1")
    near_good, near_cliff = 10 ** -0.8, 10 ** -0.2  # a fifth and four fifths of the way from 0.1 to 1
    np.testing.assert_allclose(land.accuracy_at([near_good, near_cliff], [1e-4, 1e-4]), [0.9, 0.1])
    np.testing.assert_allclose(land.accuracy_at(near_good, 10 ** -2.4), 0.8)  # the nearest in both directions
    np.testing.assert_allclose(land.accuracy_at(10 ** -1.5, 1e-4), 0.55)  # no diverged neighbour: interpolated


def test_a_landscape_is_measured_once_per_setting(data):
    settings = dict(n_lr=3, n_reg=2, epochs=1, lr_range=(1e-3, 1.0), reg_range=(1e-4, 1e-2))
    first = LandscapeMeasurement(**settings)
    assert not first.done and first.progress == (0, 11)
    first.advance(4)
    assert first.progress == (4, 11)
    land = first.result()
    assert land.accuracy.shape == (2, 3) and land.diverged.shape == (2, 3)
    np.testing.assert_allclose(land.learning_rates, [1e-3, np.sqrt(1e-3), 1.0])
    assert land.accuracy[0, 2] > land.accuracy[0, 0]  # lr 1 learns in one epoch, 1e-3 does not
    assert measure_landscape(**settings) is land and LandscapeMeasurement(**settings).done
    with pytest.raises(TypeError, match="unknown landscape settings"):
        LandscapeMeasurement(learning_rate=1.0)


def test_grid_trials_use_the_largest_square_and_centred_values():
    trials = grid_trials(10, (1e-4, 1.0), (1e-3, 1e-1))
    assert trials.shape == (9, 2)
    np.testing.assert_allclose(np.unique(trials[:, 0]), 10.0 ** np.array([-4 + 4 / 6, -2, -4 / 6]))
    assert distinct_values(trials[:, 0]) == 3 and distinct_values(trials[:, 1]) == 3
    np.testing.assert_allclose(grid_trials(1, (1e-4, 1.0), (1e-3, 1e-1)), [[1e-2, 1e-2]])


def test_random_trials_use_the_sampler_and_the_ranges():
    calls = []

    def sampler(low, high, size=None, rng=None):
        calls.append((low, high, size))
        return search.log_uniform(low, high, size=size, rng=rng)

    trials = random_trials(7, (1e-4, 1.0), (1e-3, 1e-1), rng=0, sampler=sampler)
    assert trials.shape == (7, 2) and calls == [(1e-4, 1.0, 7), (1e-3, 1e-1, 7)]
    assert trials[:, 0].min() >= 1e-4 and trials[:, 1].max() <= 1e-1 and distinct_values(trials[:, 0]) == 7
    np.testing.assert_array_equal(trials, random_trials(7, (1e-4, 1.0), (1e-3, 1e-1), rng=0))


def test_best_so_far_and_distinct_values():
    np.testing.assert_array_equal(best_so_far([0.2, np.nan, 0.5, 0.1]), [0.2, 0.2, 0.5, 0.5])
    assert distinct_values([1.0, 1.0 + 1e-12, 2.0]) == 2 and distinct_values([]) == 0


def test_compare_searches_counts_the_learning_rates_each_strategy_tries():
    land = small_landscape()
    c = compare_searches(land, max_budget=16, searches=200, seed=1)
    np.testing.assert_array_equal(c.grid_distinct, np.floor(np.sqrt(np.arange(1, 17))))
    np.testing.assert_allclose(c.random_distinct, np.arange(1, 17))
    assert c.random.shape == (200, 16) and np.all(np.diff(c.random, axis=1) >= 0)
    assert np.all(c.random <= 0.9 + 1e-12) and c.random[:, -1].mean() > c.random[:, 0].mean()
    mean, low, high = c.random_summary()
    assert np.all(low <= mean) and np.all(mean <= high)


def test_ensembles_average_their_members_and_vote(data):
    study = ensemble_study(search.ensemble_predict, data, ensembles=2, members=3, learning_rate=0.3, epochs=2)
    assert study.members.shape == (2, 3) and study.ensemble.shape == study.vote.shape == (2,)
    np.testing.assert_allclose(study.gain, study.ensemble - study.members.mean(axis=1))
    assert np.all(study.members > 0.8) and np.all(study.ensemble > 0.8) and np.all(study.vote > 0.8)
    assert np.all((0 <= study.ties) & (study.ties < 0.1)) and np.all((0 <= study.disagree) & (study.disagree < 0.1))
    # the average and the vote differ at most where they disagree
    assert np.all(np.abs(study.ensemble - study.vote) <= study.disagree + 1e-12)


def test_a_majority_vote_counts_the_classes_and_flags_ties():
    predictions = np.array([[0, 1, 3, 2, 1], [0, 2, 3, 0, 1], [0, 2, 1, 1, 1], [1, 1, 2, 3, 1]])  # 4 models, 5 examples
    winner, tied = majority_vote(predictions, num_classes=4)
    np.testing.assert_array_equal(winner, [0, 1, 3, 0, 1])  # a tie goes to the lowest of the tied classes
    np.testing.assert_array_equal(tied, [False, True, False, True, False])
