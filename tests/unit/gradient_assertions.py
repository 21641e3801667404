"""The gradient assertion shared by the unit tests."""
import numpy as np

from course.gradcheck import rel_error


def assert_gradient(analytic, numeric, tol=1e-7):
    """rel_error(analytic, numeric) < tol, as DESIGN.md asks. One exception: an entry that nearly cancels (a sum of
    terms of opposite signs) carries the centred differences' roundoff, about 1e-16 * |f| / h, which can exceed tol
    relative to that tiny entry; such entries must agree within tol / 10 of the gradient's largest entry, or
    within 1e-9 (the roundoff for |f| ~ 10), orders of magnitude below what a wrong formula produces."""
    assert np.shape(analytic) == np.shape(numeric)
    if rel_error(analytic, numeric) < tol:
        return
    scale = float(np.max(np.abs(numeric)))
    np.testing.assert_allclose(analytic, numeric, rtol=tol, atol=max(tol / 10 * scale, 1e-9))
