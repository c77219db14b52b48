"""Finite volumes, Newton, gap, continuation and grid refinement against exact results."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from ness_core.solvers.continuum import (
    DiffusionProblem,
    Grid,
    continuation,
    newton,
    refine_grid,
    spectral_gap,
)


def bratu(cells: int) -> DiffusionProblem:
    """u'' + λ e^u = 0 on [0, 1], u'(0) = 0, u(1) = 0 (half of Bratu's problem on [−1, 1])."""
    grid = Grid.uniform(1.0, cells, "slab")
    return DiffusionProblem(grid, lambda u: (u, np.ones_like(u)),
                            lambda u, lam: (lam * np.exp(u), lam * np.exp(u), np.exp(u)),
                            0.0, np.ones(cells + 1))


def bratu_fold() -> float:
    """Exact fold: u = −2 ln(cosh θx / cosh θ), λ = 2θ²/cosh²θ, maximal where θ tanh θ = 1."""
    theta = scipy.optimize.brentq(lambda t: t * math.tanh(t) - 1, 0.5, 2.0, xtol=1e-15)
    return 2 * theta**2 / math.cosh(theta) ** 2


def cylinder_quadratic(cells: int) -> DiffusionProblem:
    """(1/r)(r u u')' + 4r² = 0, u(1) = 1: exact u² = 1 + (1 − r⁴)/2."""
    grid = Grid.uniform(1.0, cells, "cylinder")
    s = 4 * grid.nodes**2
    return DiffusionProblem(grid, lambda u: (u**2 / 2, u),
                            lambda u, lam: (s, np.zeros_like(u), np.zeros_like(u)),
                            1.0, np.ones(cells + 1))


@pytest.mark.parametrize("geometry, total", [("slab", 2.0), ("cylinder", 4.0)])
def test_control_volumes_sum_to_slab_length_and_disk_area_weight(geometry, total):
    grid = Grid.uniform(2.0, 37, geometry)
    assert grid.volumes.sum() == pytest.approx(total, rel=1e-14)


def test_nonlinear_cylinder_profile_converges_at_second_order():
    errors = []
    for cells in (20, 40, 80):
        p = cylinder_quadratic(cells)
        state = newton(p, np.ones(cells), 0.0, lower=0.0)
        assert state.status == "ok"
        exact = np.sqrt(1 + (1 - p.grid.nodes[:-1] ** 4) / 2)
        errors.append(np.abs(state.u - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert orders == pytest.approx([2.0, 2.0], abs=0.1)


def test_refine_grid_reports_observed_order_two():
    def core(cells: int) -> float:
        return float(newton(cylinder_quadratic(cells), np.ones(cells), 0.0).u[0])

    result = refine_grid(core, 16, 1e-6, 4096)
    assert result.status == "ok"
    assert result.order == pytest.approx(2.0, abs=0.1)
    assert abs(result.value - math.sqrt(1.5)) < 3 * result.error + 1e-12


def test_refine_grid_reports_failure_when_tolerance_unreachable():
    def core(cells: int) -> float:
        return float(newton(cylinder_quadratic(cells), np.ones(cells), 0.0).u[0])

    result = refine_grid(core, 8, 1e-12, 64)
    assert result.status.startswith("grid not converged")


def test_gap_of_linear_diffusion_is_d_pi_squared_over_four_l_squared():
    for cells in (40, 200):  # dense and sparse (ARPACK shift-invert) paths
        grid = Grid.uniform(1.0, cells, "slab")
        p = DiffusionProblem(grid, lambda u: (0.3 * u, np.full_like(u, 0.3)),
                             lambda u, lam: (np.zeros_like(u),) * 3, 0.0, np.ones(cells + 1))
        gap = spectral_gap(p, np.zeros(cells), 0.0)
        assert gap == pytest.approx(0.3 * math.pi**2 / 4, rel=5 / cells**2)


def test_continuation_passes_the_bratu_fold_and_says_when_it_stops():
    branch = continuation(bratu(200), np.zeros(200), 0.05, 2.0, max_points=60, u_scale=1.0)
    assert len(branch.folds) == 1
    assert branch.folds[0].parameter == pytest.approx(bratu_fold(), rel=2e-5)
    assert "not reached" in branch.status  # λ = 2 exceeds the fold: clear status, no hang


def test_continuation_backwards_returns_to_the_same_solution():
    p = bratu(100)
    forward = continuation(p, np.zeros(100), 0.1, 0.7)
    backward = continuation(p, forward.states[-1], 0.7, 0.1)
    assert forward.status == backward.status == "ok"
    start = newton(p, np.zeros(100), 0.1)
    np.testing.assert_allclose(backward.states[-1], start.u, rtol=1e-10, atol=1e-12)


def test_newton_reports_non_convergence():
    state = newton(bratu(50), np.zeros(50), 0.5, max_iter=1)
    assert state.status == "Newton not converged after 1 iterations"
