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
    newton_path,
    refine_grid,
    spectral_gap,
)
from ness_core.solvers.nernst_planck import NernstPlanckProblem, Species, logarithmic_mean


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


def cylinder_quadratic(cells: int, nodes: np.ndarray | None = None) -> DiffusionProblem:
    """(1/r)(r u u')' + 4r² = 0, u(1) = 1: exact u² = 1 + (1 − r⁴)/2 (uniform grid, or
    the given nodes)."""
    grid = Grid.uniform(1.0, cells, "cylinder") if nodes is None else Grid.from_nodes(
        nodes, "cylinder")
    s = 4 * grid.nodes**2
    return DiffusionProblem(grid, lambda u: (u**2 / 2, u),
                            lambda u, lam: (s, np.zeros_like(u), np.zeros_like(u)),
                            1.0, np.ones(cells + 1))


@pytest.mark.parametrize("geometry, total", [("slab", 2.0), ("cylinder", 4.0)])
def test_control_volumes_sum_to_slab_length_and_disk_area_weight(geometry, total):
    grid = Grid.uniform(2.0, 37, geometry)
    assert grid.volumes.sum() == pytest.approx(total, rel=1e-14)


@pytest.mark.parametrize("geometry, total", [("slab", 1.0), ("cylinder", 1.0)])
def test_mapped_grid_volumes_tile_the_domain_between_face_midpoints(geometry, total):
    nodes = np.sin(0.5 * np.pi * np.linspace(0.0, 1.0, 30))
    grid = Grid.from_nodes(nodes, geometry)
    assert grid.volumes.sum() == pytest.approx(total, rel=1e-14)
    np.testing.assert_allclose(grid.spacing, np.diff(nodes), rtol=1e-15)


def test_nonlinear_cylinder_profile_converges_at_second_order_on_a_mapped_grid():
    """Nodes r = sin(πs/2) crowded at the wall, s uniform: still second order in 1/cells."""
    errors = []
    for cells in (20, 40, 80):
        nodes = np.sin(0.5 * np.pi * np.arange(cells + 1) / cells)
        nodes[-1] = 1.0
        p = cylinder_quadratic(cells, nodes)
        state = newton(p, np.ones(cells), 0.0, lower=0.0)
        assert state.status == "ok"
        exact = np.sqrt(1 + (1 - p.grid.nodes[:-1] ** 4) / 2)
        errors.append(np.abs(state.u - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert orders == pytest.approx([2.0, 2.0], abs=0.15)


def test_refine_grid_stops_only_when_every_monitored_quantity_converged():
    """A second quantity converging at first order (error 1/n) keeps refining after the
    first (error 1/n²) has met rtol; a floor lets an exact zero count as converged."""
    def both(cells: int) -> tuple[float, float, float]:
        return 1.0 + 1.0 / cells**2, 2.0 + 1.0 / cells, 1e-20 * (-1) ** cells
    first = refine_grid(lambda n: both(n)[0], 8, 1e-4, 4096)
    result = refine_grid(both, 8, 1e-4, 1 << 20, floor=(0.0, 0.0, 1.0))
    assert first.status == "ok" and result.status == "ok"
    assert result.cells > first.cells
    assert result.orders[1] == pytest.approx(1.0, abs=0.01)
    assert result.errors[1] <= 1e-4 * 2.0 and result.relative_error <= 1e-4
    assert result.value == result.values[0] == pytest.approx(1.0, abs=1e-6)


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


# --- electroneutral Nernst–Planck systems ------------------------------------------------


def salt_layer(cells: int, z: int = 2, a: int = 1, ratio: float = 0.0,
               d: tuple[float, float, float] = (1.0, 0.7, 1.5)) -> NernstPlanckProblem:
    """Cation (z) + anion (−a) [+ inert cation (charge 1) in charge ratio ``ratio``] on [0, 1],
    bulk c = 1 at x = 1; the first species enters at x = 0 with the flux λ."""
    species = [Species(z, d[0], 1.0)]
    if ratio > 0:
        species.append(Species(1, d[2], ratio * z))
    species.append(Species(-a, d[1], z * (1 + ratio) / a))
    m = len(species)

    def flux(w: np.ndarray, lam: float):
        f = np.zeros(m)
        f[0] = lam
        return f, np.zeros((m, m + 1)), np.eye(m)[0]

    return NernstPlanckProblem(Grid.uniform(1.0, cells), tuple(species), flux)


def test_logarithmic_mean_and_its_derivatives():
    a = np.array([1.0, 1.0, 1.0, 2.0, 1e-9, 3e10])
    b = np.array([1.0, 1.0 + 1e-6, 1.003, 7.0, 1.0, 1e-6])
    lam, d_a, d_b = logarithmic_mean(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = np.where(a == b, a, (b - a) / (np.log(b) - np.log(a)))
    np.testing.assert_allclose(lam, direct, rtol=1e-12)
    for k in range(len(a)):  # central differences of the direct formula
        ha, hb = 1e-6 * a[k], 1e-6 * b[k]
        lm = lambda x, y: (y - x) / (math.log(y) - math.log(x)) if x != y else x  # noqa: E731
        fd_a = (lm(a[k] + ha, b[k]) - lm(a[k] - ha, b[k])) / (2 * ha)
        fd_b = (lm(a[k], b[k] + hb) - lm(a[k], b[k] - hb)) / (2 * hb)
        assert d_a[k] == pytest.approx(fd_a, rel=1e-6)
        assert d_b[k] == pytest.approx(fd_b, rel=1e-6)


@pytest.mark.parametrize("ratio", [0.0, 0.7])
def test_nernst_planck_jacobian_matches_finite_differences(ratio):
    p = salt_layer(12, ratio=ratio)
    rng = np.random.default_rng(3)
    u = p.uniform() * (1 + 0.2 * rng.random(p.unknowns)) + 0.05 * rng.standard_normal(
        p.unknowns) * (p.lower_bounds() < 0)
    res, jac, d_lam = p.linearise(u, 0.3)
    fd = np.column_stack([(p.residual(u + e, 0.3) - p.residual(u - e, 0.3)) / 2e-7
                          for e in 1e-7 * np.eye(p.unknowns)])
    np.testing.assert_allclose(jac.toarray(), fd, atol=1e-6 * np.abs(fd).max())
    np.testing.assert_allclose(d_lam, (p.residual(u, 0.3 + 1e-7) - p.residual(u, 0.3 - 1e-7))
                               / 2e-7, atol=1e-7)
    np.testing.assert_allclose(res, p.residual(u, 0.3), rtol=0, atol=0)


@pytest.mark.parametrize("flux", [-0.55, 0.4, 3.0])
def test_binary_salt_profile_is_exact_on_any_grid(flux):
    """Zero anion flux: c ∝ e^{aψ}; cation flux −D(1 + z/a)c' = λ: c = 1 + λ(1 − x)/(D(1 + z/a)),
    ψ = ln c / a. The log-mean flux reproduces this on a 5-cell grid."""
    p = salt_layer(5)
    state = newton(p, p.uniform(), flux, lower=p.lower_bounds())
    assert state.status == "ok"
    w, x = p.state(state.u), p.grid.nodes
    c = 1 + flux * (1 - x) / (1 + 2 / 1)
    np.testing.assert_allclose(w[:, 0], c, rtol=1e-13)
    np.testing.assert_allclose(w[:, -1], np.log(c), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.face_fluxes(state.u)[:, 1], 0.0, atol=1e-13)  # anion at rest
    diffusion, migration = p.dissipation(state.u)
    # ∫ N (−∂ ln c/∂x) dx = −λ ln c(0) and ∫ z N (−∂ψ/∂x) dx = −λ z ψ(0) = −(z/a) λ ln c(0)
    assert diffusion == pytest.approx(flux * math.log(c[0]), rel=1e-12)
    assert migration == pytest.approx(2 * flux * math.log(c[0]), rel=1e-12)


def test_supporting_salt_profile_converges_at_second_order():
    """With an inert cation the steady state is implicit: c(ψ) = (1 + r)e^{ψ} − r e^{−ψ}
    (z = 2, a = 1, charge-1 inert cation) and λ(1 − x) = ∫₀^ψ (c' + 2c) dψ."""
    r, lam = 0.7, -0.8

    def transport(psi: float) -> float:  # ∫₀^ψ (c' + 2c) dψ in closed form
        return (1 + r) * 3 * math.expm1(psi) + r * math.expm1(-psi)

    psi_limit = 0.5 * math.log(r / (1 + r))  # c(ψ) = 0: the limiting current's end
    psi_0 = scipy.optimize.brentq(lambda p: transport(p) - lam, psi_limit, 0, xtol=1e-15)
    errors = []
    for cells in (20, 40, 80, 160):
        p = salt_layer(cells, ratio=r)
        state = newton(p, p.uniform(), lam, lower=p.lower_bounds())
        errors.append(abs(p.state(state.u)[0, -1] - psi_0))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    np.testing.assert_allclose(orders, 2.0, atol=0.05)


@pytest.mark.parametrize("cells", [20, 100])  # dense and sparse (singular mass) paths
def test_gap_of_electroneutral_salt_is_ambipolar_diffusion(cells):
    """At rest with a fixed (zero) boundary flux the salt relaxes with
    D_salt = D₊D₋(z + a)/(zD₊ + aD₋) (Newman Ch. 19): gap = D_salt π²/4 on [0, 1]."""
    p = salt_layer(cells, z=2, a=1)
    state = newton(p, p.uniform(), 0.0, lower=p.lower_bounds())
    d_salt = 1.0 * 0.7 * 3 / (2 * 1.0 + 1 * 0.7)
    assert spectral_gap(p, state.u, 0.0) == pytest.approx(d_salt * math.pi**2 / 4,
                                                          rel=2 / cells**2)


def test_bulk_concentrations_must_be_electroneutral():
    with pytest.raises(ValueError, match="electroneutral"):
        NernstPlanckProblem(Grid.uniform(1.0, 4), (Species(1, 1.0, 1.0), Species(-1, 1.0, 2.0)),
                            lambda w, lam: (np.zeros(2), np.zeros((2, 3)), np.zeros(2)))


def test_newton_path_agrees_with_newton_and_reports_a_target_past_the_fold():
    p = bratu(50)
    start = newton(p, np.zeros(50), 0.05)
    reference = newton(p, np.zeros(50), 0.8)
    walked = newton_path(p, start.u, 0.05, 0.8)
    assert reference.status == walked.status == "ok"
    np.testing.assert_allclose(walked.u, reference.u, rtol=1e-10)
    stuck = newton_path(p, start.u, 0.05, 2.0, max_steps=12)  # no solution beyond λ ≈ 0.878
    assert stuck.status.startswith("no convergence on the path")
    assert 0.8 < stuck.parameter < bratu_fold()  # where it got stuck: below the fold


def test_grid_sample_returns_nodes_or_an_exact_cubic_spline():
    x3 = lambda x: 2 - x + 3 * x**3  # noqa: E731 — a cubic: reproduced by the spline
    for cells in (50, 48):
        grid = Grid.uniform(2.0, cells)
        sampled = grid.sample(x3(grid.nodes), 11)
        np.testing.assert_allclose(sampled, x3(np.linspace(0, 2, 11)), rtol=1e-13)
