"""course.trainer.Trainer.steps: training one iteration at a time ends exactly as train() does."""
import numpy as np

from course import data, optim
from course.models import FullyConnectedNet
from course.trainer import Trainer


def make(seed=0, **options):
    X, y = data.blobs(n_per_class=40, n_classes=3, std=0.8)
    split = data.train_val_test_split(X, y, val=0.25, test=0.0, seed=0)
    model = FullyConnectedNet([8], 2, 3, seed=seed)
    return Trainer(model, split, optim.sgd_momentum, {"learning_rate": 0.1}, batch_size=16, verbose=False,
                   **options)


def test_steps_yields_once_per_iteration_and_ends_like_train():
    whole = make(num_epochs=3).train()
    stepped, events = make(num_epochs=3, callback=lambda t, event: events.append(event)), []
    count = sum(1 for _ in stepped.steps())
    assert count == stepped.iteration == whole.iteration == 3 * stepped.iterations_per_epoch
    assert events.count("iteration") == count and events.count("epoch") == 3 and events[-1] == "end"
    np.testing.assert_array_equal(stepped.loss_history, whole.loss_history)
    assert stepped.val_acc_history == whole.val_acc_history and stepped.stop_reason == "completed"
    for name in whole.model.params:
        np.testing.assert_array_equal(stepped.model.params[name], whole.model.params[name])


def test_steps_can_pause_between_iterations():
    trainer = make(num_epochs=2)
    steps = trainer.steps()
    next(steps)
    next(steps)
    assert trainer.iteration == 2 and trainer.stop_reason is None
    for _ in steps:
        pass
    assert trainer.stop_reason == "completed" and len(trainer.val_acc_history) == 2


def test_a_diverging_run_stops_the_generator_with_the_message():
    trainer = make(num_epochs=5)
    trainer.optim_configs = {name: {"learning_rate": 1e4} for name in trainer.model.params}
    list(trainer.steps())
    assert trainer.stop_reason == "diverged" and "diverged" in trainer.diverged
