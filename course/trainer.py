"""Minibatch training of any model with ``params``, ``scores(X)`` and ``loss(X, y)``.

    trainer = Trainer(model, data, update_rule=optim.adam, optim_config={"learning_rate": 1e-3},
                      num_epochs=10, batch_size=100, patience=3)
    trainer.train()
    trainer.loss_history, trainer.train_acc_history, trainer.val_acc_history

``data`` is a dict with X_train, y_train, X_val, y_val (as made by course.data.train_val_test_split; X_test and
y_test are ignored). The model's contract: ``model.params`` maps names to arrays, ``model.loss(X, y)`` returns
``(loss, grads)`` in training mode with ``grads`` keyed like ``params``, and ``model.scores(X)`` returns (N, C)
class scores in test mode. A model with batch normalization keeps its running statistics in ``model.bn_params``
(a list of dicts); the trainer saves and restores them together with the parameters.
"""
from __future__ import annotations

import copy

import numpy as np

from course import optim
from course._validate import OutOfRangeError, check_finite, check_int, check_labels, check_scalar


class Trainer:
    """Train a classifier with minibatch gradient descent.

    Each epoch visits every training example once, in an order reshuffled each epoch (without replacement,
    seeded), in ceil(N_train / batch_size) iterations; the last minibatch may be smaller. A single example left
    over joins the minibatch before it instead (one iteration fewer): batch normalization cannot train on one
    example. Every parameter gets its own copy of ``optim_config``, in which the update rule keeps its state
    (velocity, Adam moments).

    Inputs:
    - model: see the module docstring
    - data: dict with X_train (N, ...), y_train (N,), X_val (N_val, ...), y_val (N_val,); X_train and X_val must
      be finite (NaN or inf raise ValueError saying where, rather than a diverging loss later)
    - update_rule: ``next_w, config = rule(w, dw, config)``, e.g. course.optim.sgd, course.optim.adam
    - optim_config: settings of the update rule, e.g. {"learning_rate": 1e-2, "momentum": 0.9}
    - lr_schedule: None; a callable ``lr = schedule(epoch)`` applied at the start of each epoch (epoch = 0, 1, ...),
      e.g. course.schedules.step_decay(1e-2); or an object with ``.step(metric) -> lr`` (such as
      course.schedules.ReduceLROnPlateau in mode 'max'), stepped with the validation accuracy after each epoch;
      its ``lr`` attribute, when it has one, is the learning rate of the first epoch
    - batch_size, num_epochs: minibatch size and the maximum number of epochs
    - patience: stop early when the validation accuracy has not improved for this many epochs; None never stops
    - num_train_samples: size of the fixed random subset of the training data on which the training accuracy is
      measured each epoch (all of it when larger than N_train)
    - divergence_factor: training stops when the loss is not finite, a computation overflows, or the loss exceeds
      this multiple of the first iteration's loss
    - augment: None or ``X_batch = augment(X_batch, rng)`` applied to every training minibatch
      (e.g. built on course.preprocess.augment)
    - callback: None or ``callback(trainer, event)``, called with event "iteration" after every update, "epoch"
      after every epoch's evaluation and "end" once training has stopped and the best parameters are restored;
      it may call ``trainer.stop()``
    - seed: seeds the shuffling, the training-accuracy subset and the augmentation
    - verbose: print one line per epoch and the reason training stopped

    Progress (for a progress bar): ``epoch`` and ``iteration`` (completed so far), ``iterations_per_epoch`` and
    ``num_iterations`` (the total when no early stop happens).

    After :meth:`train`:
    - loss_history: list, the minibatch loss of every iteration
    - train_acc_history, val_acc_history, lr_history: lists, one entry per completed epoch (lr_history holds the
      learning rate used during that epoch, when the update rule has one)
    - best_val_acc, best_epoch: the best validation accuracy and its epoch (1-based); the model holds the
      parameters of that epoch
    - stop_reason: "completed", "early stopping", "stopped" (by :meth:`stop`) or "diverged"
    - diverged: None, or the message explaining why and where the loss diverged
    """

    def __init__(self, model, data, update_rule=optim.sgd, optim_config=None, lr_schedule=None,
                 batch_size: int = 100, num_epochs: int = 10, patience: int | None = None,
                 num_train_samples: int = 1000, divergence_factor: float = 100.0, augment=None,
                 callback=None, seed: int | None = 0, verbose: bool = True):
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise ValueError(f"data must be a dict with X_train, y_train, X_val, y_val; missing {missing} "
                             f"(it has {sorted(data)})")
        self.X_train, self.X_val = np.asarray(data["X_train"]), np.asarray(data["X_val"])
        if self.X_train.shape[0] == 0 or self.X_val.shape[0] == 0:
            raise ValueError(f"X_train and X_val must hold examples; got shapes {self.X_train.shape} and "
                             f"{self.X_val.shape}")
        check_finite(self.X_train, "X_train")
        check_finite(self.X_val, "X_val")
        self.y_train = check_labels(data["y_train"], self.X_train.shape[0], name="y_train")
        self.y_val = check_labels(data["y_val"], self.X_val.shape[0], name="y_val")
        for name in ("params", "loss", "scores"):
            if not hasattr(model, name):
                raise TypeError(f"model must have params, loss(X, y) and scores(X); {type(model).__name__} "
                                f"lacks {name}")
        for name, fn in (("update_rule", update_rule), ("augment", augment), ("callback", callback)):
            if not callable(fn) and (fn is not None or name == "update_rule"):
                raise TypeError(f"{name} must be callable; got {type(fn).__name__}")
        if lr_schedule is not None and not (callable(lr_schedule) or hasattr(lr_schedule, "step")):
            raise TypeError(f"lr_schedule must be a callable lr = schedule(epoch) or have .step(metric); "
                            f"got {type(lr_schedule).__name__}")
        self.model = model
        self.update_rule = update_rule
        self.lr_schedule = lr_schedule
        self.batch_size = check_int(batch_size, "batch_size")
        self.num_epochs = check_int(num_epochs, "num_epochs")
        self.patience = None if patience is None else check_int(patience, "patience")
        self.divergence_factor = check_scalar(divergence_factor, "divergence_factor", low=1)
        self.augment = augment
        self.callback = callback
        self.verbose = verbose
        self.rng = np.random.default_rng(seed)
        n = self.X_train.shape[0]
        num_train_samples = check_int(num_train_samples, "num_train_samples")
        self.train_sample = np.sort(self.rng.choice(n, size=min(n, num_train_samples), replace=False))
        self._batch_starts = list(range(0, n, self.batch_size))
        if len(self._batch_starts) > 1 and n - self._batch_starts[-1] == 1:
            self._batch_starts.pop()  # a lone last example joins the previous minibatch
        self.iterations_per_epoch = len(self._batch_starts)
        self.num_iterations = self.iterations_per_epoch * self.num_epochs
        self.optim_configs = {p: copy.deepcopy(dict(optim_config or {})) for p in model.params}
        self.epoch = 0
        self.iteration = 0
        self.loss_history, self.train_acc_history, self.val_acc_history, self.lr_history = [], [], [], []
        self.best_val_acc, self.best_epoch = None, None
        self.stop_reason, self.diverged = None, None
        self._best_state = self._model_state()
        self._stop_requested = False
        if getattr(lr_schedule, "lr", None) is not None:
            self._set_learning_rate(lr_schedule.lr)

    # --- public helpers -----------------------------------------------------------------------------------------

    def check_accuracy(self, X, y, batch_size: int = 1000) -> float:
        """Fraction of the examples X (N, ...) whose highest score (model in test mode) is the label y (N,)."""
        X = np.asarray(X)
        y = check_labels(y, X.shape[0])
        batch_size = check_int(batch_size, "batch_size")
        predictions = np.concatenate([np.argmax(self.model.scores(X[i:i + batch_size]), axis=1)
                                      for i in range(0, X.shape[0], batch_size)])
        return float(np.mean(predictions == y))

    def stop(self) -> None:
        """Ask training to stop after the current iteration (e.g. from a callback or a notebook button)."""
        self._stop_requested = True

    @property
    def learning_rate(self):
        """The learning rate currently in the update rule's config (None if the rule has none)."""
        return next(iter(self.optim_configs.values()), {}).get("learning_rate")

    # --- training -----------------------------------------------------------------------------------------------

    def train(self):
        """Run up to ``num_epochs`` epochs (see the class docstring); returns self, with the histories filled in and
        the model holding the parameters of the epoch with the best validation accuracy. Training never ends in
        silent NaNs: a diverging loss stops it before the update, sets ``diverged`` and ``stop_reason`` and restores
        the best (or, before the first epoch ends, the initial) parameters."""
        for _ in self.steps():
            pass
        return self

    def steps(self):
        """:meth:`train`, one iteration at a time: a generator that yields after every update (once its
        "iteration" callback has run), so that a caller can spread training over time, e.g. an explorer working
        in slices on the event loop (``next(steps)`` until StopIteration). When the generator is exhausted,
        training has ended exactly as :meth:`train` ends it."""
        self.stop_reason = None
        while self.stop_reason is None and self.epoch < self.num_epochs:
            self.stop_reason = yield from self._run_epoch()
        if self.stop_reason is None:
            self.stop_reason = "completed"
        self._restore(self._best_state)
        if self.verbose:
            print(self.diverged or f"{self.stop_reason}: best val acc {self.best_val_acc} at epoch {self.best_epoch}")
        self._notify("end")

    def _run_epoch(self):
        """One epoch, a generator yielding after every update: updates, then evaluation; returns a stop reason,
        or None to go on."""
        if self.lr_schedule is not None and not hasattr(self.lr_schedule, "step"):
            self._set_learning_rate(self.lr_schedule(self.epoch))
        order = self.rng.permutation(self.X_train.shape[0])
        for start, end in zip(self._batch_starts, self._batch_starts[1:] + [order.size]):
            problem = self._step(order[start:end])
            if problem:
                return self._diverge(problem)
            self._notify("iteration")
            yield
            if self._stop_requested:
                return "stopped"
        lr = self.learning_rate
        self.epoch += 1
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                train_acc = self.check_accuracy(self.X_train[self.train_sample], self.y_train[self.train_sample])
                val_acc = self.check_accuracy(self.X_val, self.y_val)
        except (FloatingPointError, OutOfRangeError) as exc:
            return self._diverge(f"the scores overflowed ({exc})")
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self.lr_history.append(lr)
        if self.best_val_acc is None or val_acc > self.best_val_acc:
            self.best_val_acc, self.best_epoch = val_acc, self.epoch
            self._best_state = self._model_state()
        if hasattr(self.lr_schedule, "step"):
            self._set_learning_rate(self.lr_schedule.step(val_acc))
        if self.verbose:
            print(f"epoch {self.epoch}/{self.num_epochs}: loss {self.loss_history[-1]:.4f}, train acc "
                  f"{train_acc:.3f}, val acc {val_acc:.3f}" + ("" if lr is None else f", lr {lr:.3g}"))
        self._notify("epoch")
        if self._stop_requested:
            return "stopped"
        if self.patience is not None and self.epoch - self.best_epoch >= self.patience:
            return "early stopping"
        return None

    def _step(self, batch) -> str | None:
        """One minibatch: loss and gradients, then the update rule on every parameter. Returns None, or what went
        wrong when the loss diverged (the update is then not applied)."""
        X, y = self.X_train[batch], self.y_train[batch]
        if self.augment is not None:
            X = self.augment(X, self.rng)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                loss, grads = self.model.loss(X, y)
                loss = float(loss)
                if not np.isfinite(loss):
                    return f"the loss became {loss}"
                if self.loss_history and loss > self.divergence_factor * self.loss_history[0]:
                    return (f"the loss rose to {loss:.3g}, more than {self.divergence_factor:g} times its first "
                            f"value {self.loss_history[0]:.3g}")
                if set(grads) != set(self.model.params):
                    raise ValueError(f"model.loss must return grads keyed like model.params "
                                     f"{sorted(self.model.params)}; got {sorted(grads)}")
                updates = {name: self.update_rule(w, grads[name], self.optim_configs[name])
                           for name, w in self.model.params.items()}
        except (FloatingPointError, OutOfRangeError) as exc:
            return f"a computation overflowed ({exc})"
        for name, (next_w, config) in updates.items():
            self.model.params[name], self.optim_configs[name] = next_w, config
        self.loss_history.append(loss)
        self.iteration += 1
        return None

    def _diverge(self, what: str) -> str:
        lr = self.learning_rate
        hint = "" if lr is None else f"; the learning rate {lr:g} is probably too high"
        self.diverged = (f"training diverged at epoch {self.epoch + 1}, iteration {self.iteration + 1}: "
                         f"{what}{hint}")
        return "diverged"

    def _set_learning_rate(self, lr) -> None:
        lr = check_scalar(lr, "the learning rate from lr_schedule", low=0)
        for config in self.optim_configs.values():
            config["learning_rate"] = lr

    def _model_state(self):
        return copy.deepcopy((self.model.params, getattr(self.model, "bn_params", None)))

    def _restore(self, state) -> None:
        params, bn_params = copy.deepcopy(state)
        self.model.params.update(params)
        if bn_params is not None:
            self.model.bn_params[:] = bn_params

    def _notify(self, event: str) -> None:
        if self.callback is not None:
            self.callback(self, event)
