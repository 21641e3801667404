import warnings

import numpy as np
import pytest

import widgets
from course import gradcheck
from readout import flat, readout_text
from widgets.gradcheck import KINK, STEPS, STUDENT_STEPS


def errors(e, name):
    return e.curves[name].get_ydata()


def best_h(e, name):
    return STEPS[np.argmin(errors(e, name))]


def test_builds_smooth_at_the_courses_step_with_no_note_or_message():
    e = widgets.gradcheck_explorer()
    assert set(e.controls) == {"function", "kink_distance", "step", "guides"}
    assert e.controls["kink_distance"].disabled and not e.kink_line.get_visible()
    assert e.note.get_text() == "" and e.message.get_text() == ""
    text = readout_text(e)  # the centred error at 1e-5 is partly round-off, which depends on the CPU's exp
    assert text.startswith("at h = 1e-05: centred, float64 ") and ", one-sided, float64 2.5e-06, " in text
    assert float(text.split("centred, float64 ")[1].split(",")[0]) < 1e-10


def test_truncation_falls_and_round_off_rises_so_the_best_step_depends_on_the_formula_and_the_dtype():
    e = widgets.gradcheck_explorer()
    assert 1e-6 <= best_h(e, "centred, float64") <= 1e-4  # (3 eps)^(1/3) = 8.7e-6
    assert 1e-9 <= best_h(e, "one-sided, float64") <= 1e-7  # 2 sqrt(eps) = 3.0e-8
    assert 1e-4 <= best_h(e, "centred, float32") <= 1e-1
    assert 1e-5 <= best_h(e, "one-sided, float32") <= 1e-2
    assert errors(e, "centred, float64").min() < 1e-10 < errors(e, "one-sided, float64").min() < 1e-7
    assert errors(e, "centred, float32").min() > 1e-7  # no step brings float32 to the "right" threshold
    big = STEPS >= 1e-2  # truncation: slopes 2 and 1 on the log-log plot
    slope = np.polyfit(np.log10(STEPS[big]), np.log10(errors(e, "centred, float64")[big]), 1)[0]
    assert slope == pytest.approx(2, abs=0.15)
    slope = np.polyfit(np.log10(STEPS[big]), np.log10(errors(e, "one-sided, float64")[big]), 1)[0]
    assert slope == pytest.approx(1, abs=0.15)


def test_a_kink_within_h_spoils_the_estimate_and_not_before():
    e = widgets.gradcheck_explorer()
    smooth = errors(e, "centred, float64").copy()
    with e.holding():
        e.controls["function"].value = KINK
        e.controls["kink_distance"].value = 1e-4
    kinked = errors(e, "centred, float64")
    assert not e.controls["kink_distance"].disabled and e.kink_line.get_visible()
    np.testing.assert_array_equal(kinked[STEPS < 1e-4 / 1.5], smooth[STEPS < 1e-4 / 1.5])
    assert kinked[STEPS > 2e-4].min() > 0.05


def test_the_step_slider_moves_the_marker_and_the_readout():
    e = widgets.gradcheck_explorer()
    e.controls["step"].value = 1e-2
    assert e.step_line.get_xdata()[0] == pytest.approx(1e-2)
    assert readout_text(e).startswith("at h = 1e-02: centred, float64 8.3e-06, one-sided, float64 2.5e-03")


def test_the_theory_lines_can_be_hidden():
    e = widgets.gradcheck_explorer()
    assert len(e.guides) == 6  # truncation for each formula, round-off for each formula and dtype
    assert all(line.get_visible() for line in e.guides)
    e.controls["guides"].value = False
    assert not any(line.get_visible() for line in e.guides)


def test_messages_for_a_straddled_kink_and_a_step_float32_cannot_hold():
    e = widgets.gradcheck_explorer()
    e.apply_preset("a kink 1e-4 away, h = 1e-3")
    assert e.message.get_text() == "h > d: the differences straddle the kink"
    e.apply_preset("a kink 1e-4 away, h = 1e-5")
    assert e.message.get_text() == ""
    e.controls["step"].value = 1e-9
    assert e.message.get_text() == "float32: 1 + h rounds to 1, the difference is 0"


def test_extreme_settings_warn_nothing():
    e = widgets.gradcheck_explorer(function=KINK)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for d in (1e-10, 1e-1):
            e.controls["kink_distance"].value = d
            for h in (1e-14, 1.0):
                e.controls["step"].value = h
        e.fig.canvas.draw()
    assert e.output.outputs == ()


def test_a_students_grad_check_sparse_draws_dots_on_the_centred_float64_curve():
    e = widgets.gradcheck_explorer(grad_check_sparse=gradcheck.grad_check_sparse)
    assert e.note.get_text() == ""
    steps, dots = e.student_dots.get_data()
    np.testing.assert_array_equal(steps, STUDENT_STEPS)
    curve = errors(e, "centred, float64")[np.isin(STEPS, STUDENT_STEPS)]
    truncation = STUDENT_STEPS >= 1e-4  # where round-off (and how the step is divided) does not matter
    np.testing.assert_allclose(dots[truncation], curve[truncation], rtol=1e-3)
    e.controls["function"].value = KINK
    assert e.student_dots.get_ydata()[-1] > 0.05  # h = 1 straddles the kink: the student's check sees it too


def test_without_a_student_function_no_dots_and_no_legend_entry():
    e = widgets.gradcheck_explorer()
    assert len(e.student_dots.get_xdata()) == 0
    assert "your grad_check_sparse" not in [t.get_text() for t in e.fig.axes[0].get_legend().get_texts()]


def stub(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    raise NotImplementedError


def one_sided(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    indices = rng.integers(0, x.shape, size=(num_checks, x.ndim))
    numeric = []
    for ix in map(tuple, indices):
        old, fx = x[ix], f(x)
        x[ix] = old + h
        numeric.append((f(x) - fx) / h)
        x[ix] = old
    numeric = np.array(numeric)
    analytic = analytic_grad[tuple(indices.T)]
    return indices, numeric, np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))


@pytest.mark.parametrize("function, note", [
    (stub, "your grad_check_sparse: not shown -- yours is not implemented yet"),
    (one_sided, "your grad_check_sparse: not shown -- yours fails its check: likely mistake: one-sided differences"),
])
def test_a_missing_or_wrong_student_function_is_not_shown_and_the_note_says_why(function, note):
    e = widgets.gradcheck_explorer(grad_check_sparse=function)
    assert flat(e.note.get_text()).startswith(note)
    assert len(e.student_dots.get_xdata()) == 0 and e.output.outputs == ()


def test_a_student_function_failing_while_running_is_dropped_with_a_note():
    def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
        if x.size == 1 and h > 0.5:
            raise ValueError("a step this large is not supported")
        return gradcheck.grad_check_sparse(f, x, analytic_grad, num_checks, h, rng)

    e = widgets.gradcheck_explorer(grad_check_sparse=grad_check_sparse)
    assert flat(e.note.get_text()).startswith("your grad_check_sparse: not shown -- yours failed while running: "
                                              "grad_check_sparse raised ValueError: a step this large")
    assert len(e.student_dots.get_xdata()) == 0 and e.output.outputs == ()
    assert np.all(np.isfinite(errors(e, "centred, float64")))
