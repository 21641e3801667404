"""Schedule explorer: step, exponential and 1/t decay and reduction on a plateau, their learning rate per epoch and
what each does to noisy gradient descent, against a constant rate stuck at its noise floor."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.lines import Line2D

from course import checks
from course import schedules as reference
from course.checks._guard import StudentCodeStopped, guarded
from course.experiments import annealing_runs, noise_floor
from widgets.explorer import Choice, Explorer, StudentCodeError, light_axes, new_figure, prefer_student, themed

FACTORIES = {"step_decay": "step", "exponential_decay": "exponential", "inverse_time_decay": "1/t"}  # name -> label
EPOCHS, STEPS_PER_EPOCH, SEEDS = 20, 10, 16
STUDENT_LIMIT = 5.0  # seconds the runs with a student's schedules may take
PRESETS = {
    "a constant rate stalls at its noise floor": dict(lr0=0.5, drop=0.5, every=4, k_exponential=0.15, k_inverse=0.5,
                                                       factor=0.5, patience=1, noise=1.0),
    "decay too fast: learning stops early": dict(lr0=0.5, drop=0.2, every=1, k_exponential=1.0, k_inverse=3.0,
                                                 factor=0.2, patience=1, noise=1.0),
    "no noise: nothing to anneal": dict(lr0=0.5, drop=0.5, every=4, k_exponential=0.15, k_inverse=0.5, factor=0.5,
                                        patience=1, noise=0.0),
    "a high starting rate": dict(lr0=1.5, drop=0.5, every=4, k_exponential=0.15, k_inverse=0.5, factor=0.5,
                                 patience=1, noise=1.0),
}


def reference_factory(label: str, factory) -> str | None:
    """The schedule a student's factory stands for: its __name__ (step_decay), else a word of the label ("my 1/t",
    "my exponential"); None when neither names one."""
    name = getattr(factory, "__name__", "")
    if name in FACTORIES:
        return name
    words = label.lower()
    for name, keys in (("step_decay", ("step",)), ("exponential_decay", ("exponential", "exp")),
                       ("inverse_time_decay", ("1/t", "inverse"))):
        if any(key in words for key in keys):
            return name
    return None


class ScheduleExplorer(Explorer):
    """The learning rate of each epoch under four schedules and a constant rate (left, log scale), and the loss of
    noisy gradient descent under each, averaged over 16 noise seeds (right; course.experiments.annealing_runs: 20
    epochs of 10 steps on a quadratic with gradient noise, the model of minibatch noise). The dashed line is the
    noise floor a constant rate settles at (course.experiments.noise_floor): proportional to the rate.

    Controls: ``controls["lr0"]`` (the starting rate of all), ``["drop"]`` and ``["every"]`` (step decay),
    ``["k_exponential"]`` (exponential decay lr0 e^(-kt)), ``["k_inverse"]`` (1/t decay lr0 / (1 + kt)),
    ``["factor"]`` and ``["patience"]`` (reduction on a plateau of the epoch's mean loss), ``["noise"]`` (the
    gradient noise's standard deviation). Artists: ``rate_lines`` and ``loss_lines`` (name -> Line2D for "constant",
    "step", "exponential", "1/t", "plateau"), ``floor_line``. ``runs`` holds the last
    course.experiments.AnnealingRuns. ``labels`` maps "step", "exponential" and "1/t" to their labels (yours when
    you give your factories) and ``choices`` each label to the factory in use (yours once it passes its check in
    course.checks).
    """

    def __init__(self, schedules: dict | None = None, lr0: float = 0.5, drop: float = 0.5, every: int = 4,
                 k_exponential: float = 0.15, k_inverse: float = 0.5, factor: float = 0.5, patience: int = 1,
                 noise: float = 1.0, scale: float = 1.0):
        self.labels = {label: label for label in FACTORIES.values()}  # schedule ("step", ...) -> its label
        self.choices = {label: Choice(label, (getattr(reference, name),), "") for name, label in FACTORIES.items()}
        for label, factory in (schedules or {}).items():
            name = reference_factory(label, factory)
            if name is None:
                raise ValueError(f"schedules[{label!r}]: name a factory step_decay, exponential_decay or "
                                 "inverse_time_decay (by the function's name or in the label)")
            result = getattr(checks, f"check_{name}").evaluate(factory)
            del self.choices[self.labels[FACTORIES[name]]]
            self.labels[FACTORIES[name]] = label
            self.choices[label] = prefer_student(label, (factory,), (getattr(reference, name),), name, result)
        slider = dict(continuous_update=True, readout_format=".3g")
        controls = {
            "lr0": W.FloatSlider(value=lr0, min=0.05, max=1.5, step=0.05, description="starting rate lr0", **slider),
            "drop": W.FloatSlider(value=drop, min=0.1, max=0.9, step=0.05, description="step: drop", **slider),
            "every": W.IntSlider(value=every, min=1, max=10, description="step: every (epochs)"),
            "k_exponential": W.FloatSlider(value=k_exponential, min=0.01, max=1.0, step=0.01,
                                           description="exponential: k", **slider),
            "k_inverse": W.FloatSlider(value=k_inverse, min=0.05, max=3.0, step=0.05, description="1/t: k",
                                       **slider),
            "factor": W.FloatSlider(value=factor, min=0.1, max=0.9, step=0.05, description="plateau: factor",
                                    **slider),
            "patience": W.IntSlider(value=patience, min=1, max=5, description="plateau: patience"),
            "noise": W.FloatSlider(value=noise, min=0.0, max=3.0, step=0.1, description="gradient noise", **slider),
        }
        fig, (ax_rate, ax_loss) = new_figure(ncols=2, scale=scale)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.19, top=0.76, wspace=0.25)  # room for 3 notes
        super().__init__(fig, controls, PRESETS)
        self.names = ("constant", *FACTORIES.values(), "plateau")
        colors = dict(zip(self.names, ("grey", "C0", "C1", "C2", "C3")))
        self.rate_lines = {name: ax_rate.plot([], [], drawstyle="steps-post", color=colors[name], lw=1.5)[0]
                           for name in self.names}
        self.loss_lines = {name: ax_loss.plot([], [], color=colors[name], lw=1.3)[0] for name in self.names}
        self.floor_line, = ax_loss.plot([], [], "--", color="grey", lw=1)
        ax_rate.set(yscale="log", xlim=(0, EPOCHS), ylim=(1e-4, 3))
        ax_rate.set_title("learning rate per epoch", fontsize=9)
        ax_rate.set_xlabel("epoch", fontsize=8)
        ax_loss.set(yscale="log", xlim=(0, EPOCHS * STEPS_PER_EPOCH), ylim=(1e-4, 100))
        ax_loss.set_title(f"loss of noisy gradient descent (mean of {SEEDS} runs)", fontsize=9)
        ax_loss.set_xlabel("step", fontsize=8)
        handles = [Line2D([], [], color=colors[n], lw=1.5, label=self._label(n)) for n in self.names]
        handles.append(Line2D([], [], color="grey", ls="--", lw=1, label="noise floor at lr0"))
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.875), ncol=6, fontsize=7,
                   frameon=False)
        light_axes(ax_rate, ax_loss)
        self.animate(*self.rate_lines.values(), *self.loss_lines.values(), self.floor_line)
        self.runs = None
        self.observe(self.update)
        self.safely(self.update)()

    def _label(self, name: str) -> str:
        return self.labels.get(name, name)

    def _schedules(self, c: dict) -> dict:
        """name -> schedule for annealing_runs, built from the factories in use and the controls."""
        lr0 = c["lr0"]
        args = {"step": (lr0, c["drop"], c["every"]), "exponential": (lr0, c["k_exponential"]),
                "1/t": (lr0, c["k_inverse"])}
        built = {name: self._schedule(name, args[name]) for name in FACTORIES.values()}
        return {"constant": lambda epoch: lr0, **built,
                "plateau": reference.ReduceLROnPlateau(lr0, factor=c["factor"], patience=c["patience"], mode="min")}

    def _schedule(self, name: str, args: tuple):
        """The schedule ``name`` made by the factory in use; a student's is made and called as student code, and
        any error names it (the explorer then falls back to the reference)."""
        choice = self.choices[self.labels[name]]
        factory = choice.funcs[0]
        schedule = factory(*args)  # a student's factory is watched: an error raises StudentCodeError
        if not hasattr(factory, "student"):
            return schedule

        def rate(epoch):
            try:
                return float(schedule(epoch))
            except Exception as exc:
                raise StudentCodeError(choice.label, f"the schedule made by {factory.__name__} raised "
                                       f"{type(exc).__name__}: {exc}") from None
        return rate

    def _run(self, c: dict):
        """The runs; with a student's factory in use, guarded as student code once (a time limit for them all)."""
        students = [choice for choice in self.choices.values() if hasattr(choice.funcs[0], "student")]
        if not students:
            return annealing_runs(self._schedules(c), EPOCHS, STEPS_PER_EPOCH, c["noise"], SEEDS)
        try:
            with guarded("your schedules", STUDENT_LIMIT):
                return annealing_runs(self._schedules(c), EPOCHS, STEPS_PER_EPOCH, c["noise"], SEEDS)
        except StudentCodeStopped as exc:
            raise StudentCodeError(students[0].label, str(exc)) from None

    def update(self) -> None:
        c = self.settings
        self.runs = runs = self._run(c)
        epochs = np.arange(EPOCHS + 1)
        steps = np.arange(runs.loss.shape[1])
        for r, name in enumerate(runs.names):
            rates = np.append(runs.learning_rates[r], runs.learning_rates[r, -1])  # the last epoch's step drawn
            self.rate_lines[name].set_data(epochs, rates)
            self.loss_lines[name].set_data(steps, np.clip(runs.loss[r], 1e-300, 1e300))
        floor = noise_floor(c["lr0"], c["noise"])
        self.floor_line.set_data([0, steps[-1]], [floor, floor])
        final = runs.final.mean(axis=1)
        self.show_readout("loss over the last epoch (mean of the runs): " + " &nbsp;&middot;&nbsp; ".join(
            f"{self._label(name)} <b>{value:.3g}</b>" for name, value in zip(runs.names, final))
            + f" &nbsp;&nbsp; noise floor of the constant rate lr0: <b>{floor:.3g}</b>")
        self.show_message(self._verdict(runs))
        self.show_note("\n".join(choice.note for choice in self.choices.values() if choice.note))
        self.redraw()

    @staticmethod
    def _verdict(runs) -> str:
        frozen = [name for name, rates in zip(runs.names, runs.learning_rates) if rates[-1] < 1e-3]
        if frozen:
            return f"{', '.join(frozen)}: the rate is below 0.001 at the end -- that run has all but stopped learning"
        return ""


@themed
def schedule_explorer(schedules: dict | None = None, **options) -> ScheduleExplorer:
    """Build the schedule explorer; it displays itself as the last expression of a cell.

    ``schedules`` maps labels to your schedule factories, ``{"my step decay": step_decay, "my 1/t":
    inverse_time_decay}``, each ``factory(lr0, ...) -> schedule`` with ``lr = schedule(epoch)`` as in
    course.schedules. A factory is used once it passes its check in course.checks; until then the reference runs
    in its place, with a note on the figure. ``options``: lr0, drop, every, k_exponential, k_inverse, factor,
    patience, noise, scale (see :class:`ScheduleExplorer`).
    """
    return ScheduleExplorer(schedules, **options)
