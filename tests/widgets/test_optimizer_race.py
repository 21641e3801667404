import sys
import warnings

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

import widgets
from course import optim, surfaces
from course.experiments import gd_rate, measured_rate, momentum_rate, quadratic_theory
from readout import flat, readout_text

RULES = ["sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam"]
race_module = sys.modules["widgets.optimizer_race"]


def reference_path(name, surface, start, steps, **settings):
    config = {**optim.DEFAULTS[name], **settings}
    return surfaces.run_optimizer(getattr(optim, name), surface, start, steps, config).path


def paths(e):
    return {key: e.path_of(key).copy() for key in e.keys}


def test_builds_with_the_reference_rules_and_draws_their_paths():
    e = widgets.optimizer_race()
    assert e.keys == [*RULES, "lbfgs"] and set(e.runs) == set(e.keys)
    assert e.note.get_text() == "" and e.message.get_text() == "" and e.output.outputs == ()
    bowl, start = surfaces.quadratic(10), [e.controls["x0"].value, e.controls["y0"].value]
    for name in RULES:
        lr = e.controls["adaptive_learning_rate" if name in race_module.ADAPTIVE else "learning_rate"].value
        shared = {"momentum": e.controls["momentum"].value, "beta1": e.controls["beta1"].value,
                  "beta2": e.controls["beta2"].value, "decay_rate": e.controls["decay_rate"].value}
        settings = {"learning_rate": lr, **{k: v for k, v in shared.items() if k in optim.DEFAULTS[name]}}
        np.testing.assert_array_equal(e.path_of(name), reference_path(name, bowl, start, 200, **settings))
    steps, values = e.curve_of("sgd").T
    np.testing.assert_array_equal(steps, np.arange(201))
    np.testing.assert_allclose(values, bowl.f(*e.path_of("sgd").T))


@pytest.mark.parametrize("control, value, changed", [
    ("learning_rate", 0.01, {"sgd", "sgd_momentum", "nesterov"}),
    ("adaptive_learning_rate", 0.02, {"adagrad", "rmsprop", "adam"}),
    ("momentum", 0.5, {"sgd_momentum", "nesterov"}),
    ("beta1", 0.5, {"adam"}),
    ("beta2", 0.9, {"adam"}),
    ("decay_rate", 0.99, {"rmsprop"}),
    ("noise", 0.2, set(RULES)),
    ("x0", 1.0, set(RULES) | {"lbfgs"}),
    ("condition", 50.0, set(RULES) | {"lbfgs"}),
    ("angle", 45.0, set(RULES) | {"lbfgs"}),
])
def test_each_setting_moves_exactly_the_rules_that_use_it(control, value, changed):
    e = widgets.optimizer_race()
    before = paths(e)
    e.controls[control].value = value
    after = paths(e)
    moved = {key for key in e.keys if before[key].shape != after[key].shape or not np.array_equal(before[key],
                                                                                                  after[key])}
    assert moved == changed


def test_steps_set_the_length_of_every_path_and_the_axis():
    e = widgets.optimizer_race()
    e.controls["steps"].value = 50
    assert all(len(e.path_of(key)) == 51 for key in RULES)
    assert e.ax_loss.get_xlim() == (0, 50)


def test_hiding_a_rule_empties_its_path_and_its_curve():
    e = widgets.optimizer_race()
    e.controls["adam"].value = False
    assert e.path_of("adam").size == 0 and e.curve_of("adam").size == 0 and "adam" not in e.runs
    assert "Adam" not in readout_text(e)
    e.controls["adam"].value = True
    assert len(e.path_of("adam")) == 201


@pytest.mark.parametrize("condition", [10.0, 100.0, 1000.0])
def test_the_momentum_button_lands_on_the_predicted_rate(condition):
    e = widgets.optimizer_race(condition=condition, steps=400)
    theory = quadratic_theory(np.diag([1.0, condition]))
    e.momentum_button.click()
    lr, mu = e.controls["learning_rate"].value, e.controls["momentum"].value
    assert lr == pytest.approx(theory.momentum_learning_rate, rel=2e-3)  # the nearest value on the slider's grid
    assert mu == pytest.approx(theory.momentum, abs=1e-3)  # the grid point around the optimum with the best rate
    predicted = momentum_rate(lr, mu, [1.0, condition])
    measured = measured_rate(e.runs["sgd_momentum"].path, np.zeros(2))
    assert predicted == pytest.approx(theory.momentum_rate, rel=0.02)
    assert measured == pytest.approx(predicted, rel=0.02) and measured == pytest.approx(theory.momentum_rate, rel=0.03)
    text = flat(readout_text(e))
    assert f"best rate {theory.momentum_rate:.3g}; at yours, rate predicted {predicted:.3g}, measured " \
           f"{measured:.3g}" in text


@pytest.mark.parametrize("condition", [100.0, 1000.0])
def test_the_gd_button_sets_the_best_rate_just_below_and_gd_reaches_it(condition):
    e = widgets.optimizer_race(condition=condition, angle=30.0, steps=500)
    e.gd_button.click()
    theory = quadratic_theory(surfaces.quadratic(condition, 30.0).hessian(np.zeros(2)))
    lr = e.controls["learning_rate"].value
    assert theory.gd_learning_rate / 1.003 < lr <= theory.gd_learning_rate  # below: above it, GD would diverge
    assert not e.runs["sgd"].diverged and gd_rate(lr, [1.0, condition]) == pytest.approx(theory.gd_rate, rel=1e-4)
    if condition == 100.0:  # at 1000 the two directions' rates, 0.998 and 0.995, are too close to part in 500 steps
        assert measured_rate(e.runs["sgd"].path, np.zeros(2)) == pytest.approx(theory.gd_rate, rel=1e-3)


def test_button_and_click_values_lie_on_the_sliders_grids():
    e = widgets.optimizer_race(condition=race_module.on_log_grid(250))
    e.momentum_button.click()
    for key in ("learning_rate", "momentum"):
        control = e.controls[key]
        position = np.log10(control.value) if key == "learning_rate" else control.value
        steps = (position - control.min) / control.step
        assert abs(steps - round(steps)) < 1e-6, key
    e.fig.canvas.draw()
    x, y = e.ax_path.transData.transform((1.2345, -0.6789))
    e.fig.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", e.fig.canvas, x, y, 1))
    assert e.controls["x0"].value == pytest.approx(1.23) and e.controls["y0"].value == pytest.approx(-0.68)


def test_theory_lines_follow_the_predicted_rate_on_the_quadratic_only():
    e = widgets.optimizer_race()
    k, values = e.theory_lines["gd"].get_data()
    f0 = surfaces.quadratic(10).value([e.controls["x0"].value, e.controls["y0"].value])
    lr = e.controls["learning_rate"].value  # about 0.05: rate 1 - lr * 1
    np.testing.assert_allclose(values, f0 * (1 - lr) ** (2 * np.asarray(k)))
    e.controls["surface"].value = "Rosenbrock"
    assert len(e.theory_lines["gd"].get_xdata()) == 0 and "best learning rate" not in readout_text(e)
    assert e.controls["condition"].disabled and e.gd_button.disabled


def test_a_diverging_rule_is_stopped_and_labelled_while_the_others_go_on():
    e = widgets.optimizer_race()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["learning_rate"].value = 0.25  # beyond 2 / lambda_max = 0.2 for plain SGD
        e.fig.canvas.draw()
    run = e.runs["sgd"]
    assert run.diverged and run.status.startswith("diverged at step ")
    k = run.status.split()[-1]  # Nesterov diverges too: its stable range is smaller
    assert e.message.get_text().startswith(f"diverged at step: SGD {k} · Nesterov ")
    e.controls["nesterov"].value = False
    assert e.message.get_text() == f"SGD {run.status}"
    e.controls["nesterov"].value = True
    assert not e.runs["sgd_momentum"].diverged and len(e.path_of("sgd_momentum")) == 201
    assert np.isfinite(e.path_of("sgd")).all() and f"SGD {run.status}" in readout_text(e)
    e.controls["momentum"].value = 0.99
    e.controls["learning_rate"].value = 0.5
    diverged = [e.labels[key] for key, r in e.runs.items() if r.diverged]
    assert len(diverged) >= 2 and e.message.get_text().startswith("diverged at step: ")
    assert e.message.get_text().count(" · ") == len(diverged) - 1 and all(l in e.message.get_text() for l in diverged)
    e.controls["learning_rate"].value = 0.01
    assert e.message.get_text() == "" and e.output.outputs == ()


@pytest.mark.parametrize("surface", list(race_module.SURFACES))
def test_extreme_settings_on_every_surface_stay_quiet(surface):
    e = widgets.optimizer_race()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["surface"].value = surface
        e.controls["learning_rate"].value = 10.0
        e.controls["adaptive_learning_rate"].value = 10.0
        e.controls["noise"].value = 0.5
        e.fig.canvas.draw()
    assert e.output.outputs == () and "error" not in e.message.get_text() and "warning" not in e.message.get_text()
    assert all(np.isfinite(e.path_of(key)).all() for key in e.keys)


def test_rmsprops_first_step_is_lr_over_the_root_of_one_minus_its_decay():
    e = widgets.optimizer_race()  # RMSProp has no bias correction: its first step is lr / sqrt(1 - decay)
    lr = e.controls["adaptive_learning_rate"].value
    for decay in (0.9, 0.99):
        e.controls["decay_rate"].value = decay
        np.testing.assert_allclose(np.abs(np.diff(e.path_of("rmsprop")[:2], axis=0)), lr / np.sqrt(1 - decay),
                                   rtol=1e-6)
        np.testing.assert_allclose(np.abs(np.diff(e.path_of("adam")[:2], axis=0)), lr, rtol=1e-6)  # corrected


def test_on_the_saddle_leaving_the_window_is_an_escape_not_a_divergence():
    e = widgets.optimizer_race()
    e.apply_preset("escaping a saddle")
    message, shown = e.message.get_text(), readout_text(e)
    assert message.startswith("escaped (left the window) at step: SGD ") and "diverged" not in message + shown
    for key, run in e.runs.items():
        outside = np.flatnonzero(np.abs(run.path).max(axis=1) > 2)
        k = int(outside[0]) if outside.size else int(run.status.split()[-1]) if run.diverged else None
        if k is not None:
            assert f"{e.labels[key]} {k}" in message and f"{e.labels[key]} escaped at step {k}" in shown
    assert not e.controls["rmsprop"].value  # its uncorrected first step would be a head start, not an escape
    e.controls["sgd"].value, e.controls["sgd_momentum"].value, e.controls["nesterov"].value = False, False, False
    e.controls["lbfgs"].value, e.controls["adam"].value = False, False
    assert e.message.get_text() == "" and "AdaGrad <b>" in e.readout.value  # 100 steps: still in the window


def test_a_new_surface_brings_its_window_start_and_contours():
    e = widgets.optimizer_race()
    e.controls["surface"].value = "Rosenbrock"
    rosenbrock = surfaces.rosenbrock()
    assert (e.controls["x0"].value, e.controls["y0"].value) == tuple(rosenbrock.start)
    assert (e.controls["x0"].min, e.controls["x0"].max) == rosenbrock.bounds[0]
    assert e.ax_path.get_xlim() == rosenbrock.bounds[0] and e.ax_path.get_title() == "Rosenbrock"
    assert len(e.contours.get_segments()) >= race_module.LEVELS
    assert e.runs["lbfgs"].status.startswith("converged") and "f − f* at the end" in readout_text(e)
    e.controls["surface"].value = "saddle"
    assert e.ax_loss.get_ylabel().startswith("f(x0) - f(x)") and e.minima_marks.get_xdata().size == 0


def test_several_minima_say_where_each_rule_ended():
    e = widgets.optimizer_race(surface="several minima", learning_rate=0.01, adaptive_learning_rate=0.1)
    assert " at (3, 2)" in readout_text(e) or " at (-2.8, 3.1)" in readout_text(e)


def test_a_click_on_the_contour_plot_moves_the_start():
    e = widgets.optimizer_race()
    e.fig.canvas.draw()
    x, y = e.ax_path.transData.transform((1.0, -2.0))
    e.fig.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", e.fig.canvas, x, y, 1))
    assert e.controls["x0"].value == pytest.approx(1.0, abs=0.05)
    assert e.controls["y0"].value == pytest.approx(-2.0, abs=0.05)
    np.testing.assert_allclose(e.path_of("sgd")[0], [e.controls["x0"].value, e.controls["y0"].value])
    np.testing.assert_allclose(e.start_mark.get_xydata()[0], e.path_of("sgd")[0])


# --- students' rules --------------------------------------------------------------------------------------------

def sgd_momentum(w, dw, config=None):
    return optim.sgd_momentum(w, dw, config)


def adam(w, dw, config=None):
    raise NotImplementedError


def nesterov(w, dw, config=None):  # the velocity sign mistake
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    v = config.get("velocity", 0 * w)
    v_next = config["velocity"] = mu * v + config["learning_rate"] * dw
    return w - mu * v + (1 + mu) * v_next, config


def sgd(w, dw, config=None):  # right on the check's inputs, broken on a 2-D point
    if w.shape == (2,):
        raise ValueError("not for points")
    return optim.sgd(w, dw, config)


def lion(w, dw, config=None):  # a rule of the student's own: the sign of the gradient
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * np.sign(dw), config


def test_a_correct_student_rule_races_in_its_place():
    e = widgets.optimizer_race(rules={"my momentum": sgd_momentum})
    assert e.labels["sgd_momentum"] == "my momentum" and e.controls["sgd_momentum"].description == "my momentum"
    assert e._rule("sgd_momentum") is sgd_momentum and e.note.get_text() == ""
    bowl, start = surfaces.quadratic(10), [e.controls["x0"].value, e.controls["y0"].value]
    np.testing.assert_allclose(e.path_of("sgd_momentum"), reference_path(
        "sgd_momentum", bowl, start, 200, learning_rate=e.controls["learning_rate"].value), rtol=1e-12)


def test_missing_and_wrong_rules_fall_back_with_a_note():
    e = widgets.optimizer_race(rules={"my adam": adam, "my nesterov": nesterov})
    note = flat(e.note.get_text())
    assert "my adam: the reference runs in place of yours -- yours is not implemented yet" in note
    assert "my nesterov: the reference runs in place of yours -- yours fails its check: likely mistake: velocity " \
           "sign" in note
    assert e._rule("adam").__name__ == "adam" and not hasattr(e.choices["my adam"].funcs[0], "student")
    assert len(e.path_of("adam")) == 201


def test_a_rule_failing_in_the_race_falls_back_and_is_named():
    e = widgets.optimizer_race(rules={"my sgd": sgd})
    assert e.output.outputs == ()
    note = flat(e.note.get_text())
    assert "my sgd: the reference runs in place of yours -- yours failed while running: sgd raised ValueError: " \
           "not for points" in note
    assert len(e.path_of("sgd")) == 201


def adagrad(w, dw, config=None):  # right on the check's arrays; on a point, the sign of dw as |dw| / dw: 0/0 at 0
    if w.shape != (2,):
        return optim.adagrad(w, dw, config)
    config = config if config is not None else {}
    for key, value in optim.DEFAULTS["adagrad"].items():
        config.setdefault(key, value)
    cache = config["cache"] = config.get("cache", 0.0) + dw * dw
    return w - config["learning_rate"] * (np.abs(dw) / dw) * np.abs(dw) / (np.sqrt(cache) + 1e-8), config


def test_a_rule_returning_nan_for_finite_input_falls_back_and_is_named():
    e = widgets.optimizer_race(rules={"my adagrad": adagrad}, surface="saddle")
    assert e.note.get_text() == "" and len(e.path_of("adagrad")) == 201  # off the ridge: no zero component
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["y0"].value = 0.0  # on the ridge: the y-gradient is exactly 0
    assert "my adagrad: the reference runs in place of yours -- yours failed while running: adagrad returned NaN " \
           "or inf for finite input (step 1)" in flat(e.note.get_text())
    assert e.runs["adagrad"].status == "ran 200 steps" and "diverged" not in e.message.get_text()
    assert e.output.outputs == ()


def test_a_rule_of_the_students_own_returning_nan_is_left_out_with_a_note():
    def normalized(w, dw, config=None):  # dw / |dw|: 0/0 where dw is 0
        config = config if config is not None else {}
        return w - config.get("learning_rate", 0.01) * dw / np.abs(dw), config
    e = widgets.optimizer_race(rules={"my rule": normalized}, surface="saddle")
    e.controls["y0"].value = 0.0
    assert "my rule: not shown -- yours failed while running: normalized returned NaN or inf for finite input " \
           "(step 1)" in flat(e.note.get_text())
    assert e.path_of("my rule").size == 0 and e.output.outputs == ()


def test_a_rule_of_the_students_own_races_with_the_learning_rate():
    e = widgets.optimizer_race(rules={"my lion": lion})
    assert "my lion" in e.keys and e.controls["my lion"].description == "my lion"
    path = e.path_of("my lion")
    steps = np.abs(np.diff(path[:5], axis=0))
    np.testing.assert_allclose(steps, e.controls["learning_rate"].value)


def test_a_rule_of_the_students_own_that_fails_is_left_out_with_a_note():
    def mine(w, dw, config=None):
        raise ZeroDivisionError("oops")
    e = widgets.optimizer_race(rules={"my rule": mine})
    assert "my rule: not shown -- yours failed while running: mine raised ZeroDivisionError: oops" \
           in flat(e.note.get_text())
    assert e.path_of("my rule").size == 0 and "my rule" not in e.runs and len(e.path_of("adam")) == 201
    assert e.output.outputs == ()


def test_rules_must_be_functions():
    with pytest.raises(TypeError, match="must be an update rule"):
        widgets.optimizer_race(rules={"my adam": "adam"})
    with pytest.raises(ValueError, match="surface must be one of"):
        widgets.optimizer_race(surface="moon")
