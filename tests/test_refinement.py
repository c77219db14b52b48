"""Adaptive refinement (ness_core.refinement): targets located against closed forms and an
independent dense-Liouvillian Brent search of the Kerr gap minimum."""

import math

import numpy as np
import pytest
import scipy.optimize

from ness_core import refinement
from ness_core.api import evaluate

COARSE = np.linspace(0.0, 4.0, 9)


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_minimum_of_a_skewed_quartic_to_tolerance(tol):
    # f = 1 + 3 (x - x0)^2 + (x - x0)^4 / 2 + (x - x0)^3 / 2: minimum exactly at x0, value 1
    x0 = 1.2345678

    def f(x):
        d = x - x0
        return 1.0 + 3.0 * d * d + 0.5 * d**3 + 0.5 * d**4

    status, xs, rounds = refinement.refine_function(f, COARSE, "minimum", tol, 60)
    assert status.converged and not status.at_edge
    assert 0.0 <= status.value - 1.0 <= tol
    # f - 1 >= 3 d^2 - |d|^3/2 >= 2.5 d^2 for |d| <= 1: the location follows from the value
    assert abs(status.location - x0) <= 1.0001 * math.sqrt((status.value - 1.0) / 2.5)
    assert status.points == len(xs) <= 30
    assert rounds <= 5


def test_minimum_narrow_against_the_coarse_spacing_in_few_rounds():
    # cosh((x - x0)/w), w = 0.1 on a grid of spacing 0.5: minimum 1 at x0. The bracket's
    # far neighbour is e^5 higher, so its parabola's vertex falls short; the parabola of
    # the nearest samples must reach the minimum in a few rounds (the bracket alone: 8)
    x0, w = 1.2345678, 0.1
    status, xs, rounds = refinement.refine_function(lambda x: math.cosh((x - x0) / w),
                                                    COARSE, "minimum", 1e-8, 200)
    assert status.converged
    assert 0.0 <= status.value - 1.0 <= 1e-8
    # cosh(d) - 1 >= d^2/2, with value - 1 known to the float resolution of the value
    above = max(status.value - 1.0, np.finfo(float).eps)
    assert abs(status.location - x0) <= 1.0001 * w * math.sqrt(2 * above)
    assert rounds <= 4 and len(xs) <= 32


def test_maximum_is_the_minimum_of_minus_y():
    status, _, _ = refinement.refine_function(lambda x: 2.0 - math.cosh(x - 0.7), COARSE - 2,
                                              "maximum", 1e-9, 60)
    assert status.converged
    assert 0.0 <= 1.0 - status.value <= 1e-9  # max of 2 - cosh is 1 at x = 0.7
    # 2 - cosh(d) = 1 - d^2/2 - ...: |d| <= sqrt(2 (1 - value)), with 1 - value known to
    # the float resolution of the value
    gap = max(1.0 - status.value, np.finfo(float).eps)
    assert abs(status.location - 0.7) <= 1.0001 * math.sqrt(2 * gap)


def test_steepest_of_a_tanh_step():
    # tanh((x - 0.3)/w): largest slope 1/w at x = 0.3
    w = 0.05
    status, xs, _ = refinement.refine_function(lambda x: math.tanh((x - 0.3) / w),
                                               np.linspace(-1, 1, 9), "steepest", 1e-6, 200)
    assert status.converged and len(xs) <= 60
    assert abs(status.value - 1 / w) / (1 / w) <= 2e-6
    assert abs(status.location - 0.3) <= status.location_uncertainty


def test_steepest_of_a_jump_brackets_it_to_the_tolerance():
    status, xs, _ = refinement.refine_function(lambda x: float(x > 0.123), np.linspace(-1, 1, 9),
                                               "steepest", 1e-6, 200)
    assert status.converged
    assert abs(status.location - 0.123) <= status.location_uncertainty <= 1e-6 * 2 / 2


def test_budget_is_never_exceeded_and_reported_unconverged():
    status, xs, _ = refinement.refine_function(lambda x: math.cosh(x - 1.1), COARSE,
                                               "minimum", 1e-14, 12)
    assert len(xs) == 12 and status.points == 12 and not status.converged


def test_minimum_on_the_edge_and_bad_input():
    status, proposals = refinement.propose(COARSE, COARSE + 1.0, "minimum", 1e-6, 10)
    assert status.at_edge and status.converged and status.location == 0.0 and not proposals
    status, proposals = refinement.propose([0.0, 1.0, 2.0], [1.0, math.nan, 2.0], "minimum",
                                           1e-6, 10)
    assert not status.converged and not proposals  # two usable samples bracket nothing
    with pytest.raises(ValueError, match="unknown target"):
        refinement.propose(COARSE, COARSE, "boundary", 1e-6, 10)


KERR = {"N": 2, "detuning": 3.0, "U0": 1.0, "kappa": 1.0, "temperature": 0.0}


def dense_kerr_gap(drive, cutoff=26):
    """Liouvillian gap of the Kerr resonator (kerr.py's conventions, T = 0) by dense
    diagonalisation of the column-stacked superoperator, written out here."""
    n_scale, u = KERR["N"], KERR["U0"] / KERR["N"]
    a = np.diag(np.sqrt(np.arange(1.0, cutoff)), 1)
    ad = a.T
    h = (-KERR["detuning"] * ad @ a + 0.5 * u * ad @ ad @ a @ a
         + drive * math.sqrt(n_scale) * (a + ad))
    jump = math.sqrt(KERR["kappa"]) * a
    eye = np.eye(cutoff)
    jj = jump.T @ jump
    liouvillian = (-1j * (np.kron(eye, h) - np.kron(h.T, eye)) + np.kron(jump, jump)
                   - 0.5 * (np.kron(eye, jj) + np.kron(jj.T, eye)))
    rates = np.sort(-np.linalg.eigvals(liouvillian).real)
    return rates[1]  # rates[0] ~ 0 is the steady state


def test_kerr_gap_minimum_against_dense_brent():
    tol = 1e-6
    status, xs, _ = refinement.refine_function(
        lambda drive: evaluate("kerr", drive=drive, **KERR)["gap"],
        np.linspace(0.5, 2.5, 9), "minimum", tol, 40)
    ref = scipy.optimize.minimize_scalar(dense_kerr_gap, bracket=(1.25, 1.5, 1.75),
                                         method="brent", tol=1e-9)
    g_min, x_min = ref.fun, ref.x
    assert status.converged and len(xs) <= 30
    assert abs(status.value - g_min) <= tol * g_min
    # curvature of the dense gap at its minimum bounds the location through the value
    d = 1e-3
    curvature = (dense_kerr_gap(x_min + d) - 2 * g_min + dense_kerr_gap(x_min - d)) / d**2
    assert abs(status.location - x_min) <= 1.5 * math.sqrt(2 * tol * g_min / curvature)


def test_exponential_fit_recovers_an_exact_exponential():
    from ness_core.refine_rounds import exponential_fit

    n = np.arange(1.0, 7.0)
    rate, error, prefactor = exponential_fit(n, 0.4 * np.exp(-1.7 * n))
    assert rate == pytest.approx(1.7, rel=1e-12)
    assert prefactor == pytest.approx(0.4, rel=1e-12)
    assert error < 1e-10
    assert exponential_fit(n[:2], np.exp(-n[:2])) is None
