"""Open ASEP (DOMAIN.md S6) against exact results derived independently of the code under test.

Reference values: hand-solved master equations (L = 1, 2), Bernoulli product measures (the
equilibrium point and the TASEP line alpha + beta = 1), the L → inf phase diagram and its
1/L corrections (DEHP 1993), symmetries, and cross-checks between methods that share no code
(exact: general Markov solver; formula: DEHP partition function; mc: simulation).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from ness_core import ParameterError, evaluate
from ness_core.cli import main
from ness_core.models import asep
from ness_core.models.asep import (
    Rates,
    exact_generator,
    reflection_sectors,
    reflection_symmetric,
    sector_gap,
)
from ness_core.solvers import markov, markov_spectrum

TASEP_POINTS = [(0.3, 0.7), (0.2, 0.9), (0.8, 0.3), (1.0, 1.0), (0.4, 0.4), (0.6, 2.0)]


def tasep(method: str, L: int, alpha: float, beta: float, **extra) -> dict:
    return evaluate("asep", L=L, alpha=alpha, beta=beta, method=method, **extra)


# ---------------------------------------------------------------------- hand-solved cases
@pytest.mark.parametrize("method", ["exact", "formula"])
def test_single_site_matches_two_state_solution(method):
    # L = 1: empty <-> full at rates alpha + delta (in) and beta + gamma (out)
    a, b, g, d = (0.7, 0.4, 0.0, 0.0) if method == "formula" else (0.7, 0.4, 0.2, 0.3)
    r = evaluate("asep", L=1, alpha=a, beta=b, gamma=g, delta=d, method=method)
    assert r["current"] == pytest.approx((a * b - g * d) / (a + b + g + d), abs=1e-14)
    assert r["density_profile"] == pytest.approx([(a + d) / (a + b + g + d)], abs=1e-14)
    assert r["density"] == pytest.approx((a + d) / (a + b + g + d), abs=1e-14)


@pytest.mark.parametrize("method", ["exact", "formula"])
def test_two_site_tasep_matches_hand_solution(method):
    # balance: alpha P00 = beta P01, beta P11 = alpha P01, P10 = alpha P00 + beta P11
    a, b = 0.3, 0.8
    p00, p01, p11 = b / a, 1.0, a / b
    p10 = a * p00 + b * p11
    z = p00 + p01 + p10 + p11
    r = tasep(method, 2, a, b)
    assert r["current"] == pytest.approx(b * (p01 + p11) / z, abs=1e-14)
    assert r["density_profile"] == pytest.approx([(p10 + p11) / z, (p01 + p11) / z], abs=1e-14)


@pytest.mark.parametrize("method", ["exact", "formula"])
def test_tasep_on_line_alpha_plus_beta_one_is_bernoulli(method):
    # for alpha + beta = 1 the stationary measure is Bernoulli(alpha) on every site
    r = tasep(method, 9, 0.35, 0.65)
    assert r["current"] == pytest.approx(0.35 * 0.65, abs=1e-12)
    assert r["density_profile"] == pytest.approx(np.full(9, 0.35), abs=1e-12)
    assert r["density"] == pytest.approx(0.35, abs=1e-12)


def test_cli_point_json_example(capsys):
    assert main(["point", "asep", "L=10", "alpha=0.3", "beta=0.7", "method=exact", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["current"] == pytest.approx(0.21, abs=1e-12)
    assert out["entropy_production"] == "inf"  # TASEP: no reverse moves
    assert len(out["density_profile"]) == 10
    assert out["phase"] == "LD"


# ---------------------------------------------------------------------- methods against each other
@pytest.mark.parametrize("L", [3, 7, 12])
@pytest.mark.parametrize(("alpha", "beta"), TASEP_POINTS)
def test_tasep_current_and_profile_dehp_formula_match_exact_master_equation(L, alpha, beta):
    exact, formula = tasep("exact", L, alpha, beta), tasep("formula", L, alpha, beta)
    assert formula["current"] == pytest.approx(exact["current"], abs=1e-10)
    assert formula["density_profile"] == pytest.approx(exact["density_profile"], abs=1e-10)


@pytest.mark.parametrize(
    ("alpha", "beta", "limit"),
    [
        (0.3, 0.8, 0.3 * 0.7),  # LD: alpha (1 - alpha), exponentially small corrections
        (0.2, 0.35, 0.2 * 0.8),  # LD with beta < 1/2
        (0.9, 0.25, 0.25 * 0.75),  # HD: beta (1 - beta)
        (0.6, 0.3, 0.3 * 0.7),  # HD with alpha > 1/2
    ],
)
def test_tasep_formula_approaches_ld_hd_currents_at_large_L(alpha, beta, limit):
    r = tasep("formula", 10_000, alpha, beta)
    assert r["current"] == pytest.approx(limit, abs=1e-9)  # log-space round-off ~1e-12


def test_tasep_formula_maximal_current_with_known_finite_size_correction():
    # MC phase: J_L = 1/4 + 3/(8L) + O(1/L²) (DEHP 1993)
    for L in (1_000, 10_000):
        j = tasep("formula", L, 1.0, 1.0)["current"]
        assert j - 0.25 == pytest.approx(3 / (8 * L), rel=1e-2)


@pytest.mark.parametrize(
    ("L", "params"),
    [
        (60, {"alpha": 1.0, "beta": 1.0}),  # MC
        (60, {"alpha": 0.25, "beta": 0.6}),  # LD
    ],
)
def test_tasep_monte_carlo_current_within_four_sigma_of_dehp(L, params):
    formula = evaluate("asep", L=L, method="formula", **params)
    mc = evaluate("asep", L=L, method="mc", sweeps=200_000, seed=3, **params)
    assert 0 < mc["current_stderr"] < 0.01
    assert abs(mc["current"] - formula["current"]) < 4 * mc["current_stderr"]
    assert mc["density_profile"] == pytest.approx(formula["density_profile"], abs=0.05)


def test_partially_asymmetric_monte_carlo_within_four_sigma_of_exact():
    # q > 0 and all four boundary rates: exercises every kind of move of the simulation
    params = {"L": 8, "rho_left": 0.8, "rho_right": 0.3, "drive": 1.0}
    exact = evaluate("asep", method="exact", **params)
    mc = evaluate("asep", method="mc", sweeps=200_000, seed=5, **params)
    assert abs(mc["current"] - exact["current"]) < 4 * mc["current_stderr"]
    assert mc["density_profile"] == pytest.approx(exact["density_profile"], abs=0.02)


# ---------------------------------------------------------------------- symmetries, thermodynamics
def test_particle_hole_reflection_symmetry_of_exact_solution():
    base = {"L": 7, "q": 0.4, "method": "exact"}
    r = evaluate("asep", alpha=0.7, beta=0.2, gamma=0.1, delta=0.35, **base)
    s = evaluate("asep", alpha=0.2, beta=0.7, gamma=0.35, delta=0.1, **base)
    assert s["current"] == pytest.approx(r["current"], abs=1e-12)
    assert s["density_profile"] == pytest.approx(1.0 - r["density_profile"][::-1], abs=1e-12)
    assert s["density"] == pytest.approx(1.0 - r["density"], abs=1e-12)


SYMMETRIC_RATES = [Rates(0.0, 1.0, 1.0, 0.0, 0.0), Rates(0.3, 0.7, 0.7, 0.2, 0.2),
                   Rates(1.0, 0.4, 0.4, 0.9, 0.9)]


def dense_spectrum(L: int, rates: Rates) -> np.ndarray:
    return scipy.linalg.eigvals(exact_generator(L, rates).matrix.toarray())


@pytest.mark.parametrize("L", [5, 6])  # odd L: no fixed points of C; even L: 2^(L/2)
@pytest.mark.parametrize("rates", SYMMETRIC_RATES)
def test_reflection_blocks_together_have_the_spectrum_of_the_full_generator(L, rates):
    sectors = reflection_sectors(L, rates)
    blocks = np.concatenate([scipy.linalg.eigvals(sectors.symmetric.matrix.toarray()),
                             scipy.linalg.eigvals(sectors.antisymmetric.toarray())])
    full = dense_spectrum(L, rates)
    assert blocks.size == full.size == 2**L
    distance = np.abs(full[:, None] - blocks[None, :])
    rows, cols = scipy.optimize.linear_sum_assignment(distance)
    assert np.max(distance[rows, cols]) < 1e-9
    # the stationary 0 lies in the even block
    assert np.min(np.abs(scipy.linalg.eigvals(sectors.antisymmetric.toarray()))) > 1e-6


@pytest.mark.parametrize("L", [8, 9, 10])
@pytest.mark.parametrize("rates", SYMMETRIC_RATES)
@pytest.mark.parametrize("bounded", [True, False], ids=["even-bounded", "even-solved"])
def test_reflection_sector_gap_equals_dense_gap_of_the_full_generator(L, rates, bounded):
    full = dense_spectrum(L, rates)
    full = np.delete(full, np.argmin(np.abs(full)))
    expected = -np.max(full.real)
    with pytest.MonkeyPatch.context() as mp:
        # force the filtered Arnoldi on the odd block and the bound (or a full solve) of
        # the even one, which above 2^11 states they get by themselves
        for module in (markov, markov_spectrum):  # spectral_gap, rightmost_eigenvalues
            mp.setattr(module, "DENSE_MAX_STATES", 16)
        mp.setattr(asep, "DIRECT_MAX_STATES", 1)
        if not bounded:
            mp.setattr(asep, "exceeds_real_part", lambda *args, **kwargs: (True, 0))
        gap = sector_gap(reflection_sectors(L, rates))
    assert gap.gap == pytest.approx(expected, rel=1e-10)
    assert gap.method == "arnoldi" and gap.products > 0


@pytest.mark.parametrize("rates", SYMMETRIC_RATES)
def test_lumped_even_block_gives_the_stationary_state_of_the_full_generator(rates):
    L = 8
    sectors = reflection_sectors(L, rates)
    lumped = sectors.symmetric.stationary()
    p = sectors.probabilities(lumped.probabilities)
    full = exact_generator(L, rates)
    expected = full.stationary(method="direct").probabilities
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert p == pytest.approx(expected, abs=1e-14)
    assert sectors.residual(lumped.probabilities) == pytest.approx(
        np.max(np.abs(full.matrix @ p)), rel=1e-6, abs=1e-17)


def test_reflection_split_is_used_only_for_symmetric_rates():
    assert all(reflection_symmetric(r) for r in SYMMETRIC_RATES)
    for rates in (Rates(0.0, 1.0, 0.999, 0.0, 0.0), Rates(0.3, 0.7, 0.7, 0.2, 0.21)):
        assert not reflection_symmetric(rates)
        with pytest.raises(ValueError, match="does not commute"):
            reflection_sectors(4, rates)
    # through the model, symmetric (split) and not (full W): the full generator's values
    for params in ({"alpha": 0.7, "beta": 0.7, "gamma": 0.2, "delta": 0.2, "q": 0.3},
                   {"alpha": 0.7, "beta": 0.6, "gamma": 0.2, "delta": 0.2, "q": 0.3}):
        rates = Rates(params["q"], params["alpha"], params["beta"], params["gamma"],
                      params["delta"])
        r = evaluate("asep", L=9, **params)
        full = dense_spectrum(9, rates)
        full = np.delete(full, np.argmin(np.abs(full)))
        assert r["gap"] == pytest.approx(-np.max(full.real), rel=1e-10)
        p = exact_generator(9, rates).stationary(method="direct").probabilities
        assert r["current"] == pytest.approx(float(np.mean(asep.bond_currents(p, 9, rates))),
                                             abs=1e-13)


@pytest.mark.parametrize("drive", [0.7, math.inf])
def test_entropy_production_equals_schnakenberg_sum_of_solver(drive):
    params = {"L": 6, "rho_left": 0.8, "rho_right": 0.3, "drive": drive}
    r = evaluate("asep", method="exact", **params)
    q = math.exp(-drive)
    rates = Rates(q=q, alpha=0.8, beta=0.7, gamma=0.2 * q, delta=0.3 * q)
    generator = exact_generator(6, rates)
    schnakenberg = generator.entropy_production(generator.stationary().probabilities)
    if math.isinf(drive):
        assert r["entropy_production"] == schnakenberg == math.inf
    else:
        assert r["entropy_production"] == pytest.approx(schnakenberg, rel=1e-9)
        # affinity from the reservoirs: chemical potential difference + field on L + 1 bonds
        assert r["affinity"] == pytest.approx(math.log(0.8 * 0.7 / (0.2 * 0.3)) + 7 * drive)


def test_equilibrium_has_no_current_no_dissipation_and_flat_profile():
    r = evaluate("asep", L=8, rho_left=0.4, rho_right=0.4, drive=0.0, method="exact")
    assert abs(r["current"]) < 1e-13
    assert r["entropy_production"] == pytest.approx(0.0, abs=1e-13)
    assert r["density_profile"] == pytest.approx(np.full(8, 0.4), abs=1e-12)  # Bernoulli


@settings(max_examples=25, deadline=None)
@given(
    L=st.integers(1, 6),
    rates=st.tuples(*[st.floats(0.01, 3.0)] * 4),
    q=st.floats(0.0, 1.0),
)
def test_entropy_production_is_non_negative(L, rates, q):
    a, b, g, d = rates
    r = evaluate("asep", L=L, alpha=a, beta=b, gamma=g, delta=d, q=q, method="exact")
    assert r["entropy_production"] >= -1e-12
    assert r["residual"] < 1e-10


# ---------------------------------------------------------------------- gap and phases
@pytest.mark.slow
def test_gap_closes_with_kpz_exponent_in_maximal_current_phase():
    # de Gier-Essler 2005: gap ~ L^(-3/2) at alpha = beta = 1; small L only bounds it loosely
    sizes = np.arange(6, 13)
    gaps = np.array([tasep("exact", int(L), 1.0, 1.0)["gap"] for L in sizes])
    assert np.all(np.diff(gaps) < 0)
    slope = np.polyfit(np.log(sizes), np.log(gaps), 1)[0]
    assert -1.8 < slope < -1.2


@pytest.mark.parametrize("method", ["formula", "mc"])
def test_gap_only_from_exact_method(method):
    r = tasep(method, 20, 0.5, 0.5, sweeps=2000)
    assert math.isnan(r["gap"])


@pytest.mark.parametrize(
    ("params", "phase"),
    [
        ({"alpha": 0.2, "beta": 0.8}, "LD"),
        ({"alpha": 0.8, "beta": 0.2}, "HD"),
        ({"alpha": 0.7, "beta": 0.9}, "MC"),
        ({"alpha": 0.5, "beta": 0.5}, "MC"),  # MC includes its boundaries
        ({"alpha": 0.3, "beta": 0.3}, "LD"),  # coexistence line: labelled LD
        ({"rho_left": 0.3, "rho_right": 0.2, "drive": 1.0}, "LD"),
        ({"rho_left": 0.9, "rho_right": 0.8, "drive": 1.0}, "HD"),
        ({"rho_left": 0.6, "rho_right": 0.1, "drive": 2.0}, "MC"),
        # explicit rates of reservoirs rho_a = 0.3, rho_b = 0.6 at q = 0.5: LD
        ({"q": 0.5, "alpha": 0.3, "gamma": 0.35, "beta": 0.4, "delta": 0.3}, "LD"),
        ({"q": 0.5, "alpha": 0.45, "gamma": 0.275, "beta": 0.1, "delta": 0.45}, "HD"),
    ],
)
def test_phase_labels_follow_infinite_L_diagram(params, phase):
    assert evaluate("asep", L=4, **params)["phase"] == phase


# ---------------------------------------------------------------------- parameter errors
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"L": 25, "method": "exact"}, "'L'"),
        ({"method": "formula", "drive": 1.0}, "drive=inf"),
        ({"method": "formula", "gamma": 0.1}, "'gamma'"),
        ({"rho_left": 1.5}, "'rho_left'"),
        ({"rho_left": 0.0, "rho_right": 1.0}, "'alpha'"),  # TASEP with both ends closed
        ({"q": 1.5}, "'q'"),
        ({"method": "lanczos"}, "'method'"),
        ({"sweep": 10}, "'sweep'"),
    ],
)
def test_bad_parameters_raise_parameter_error_naming_them(params, named):
    with pytest.raises(ParameterError, match=named):
        evaluate("asep", **params)


def test_target_limit_of_the_density_jump_is_the_ld_hd_line():
    # L → ∞: the density jumps on rho_left + rho_right = 1 (rho_left < 1/2 < rho_right);
    # the steepest point of the exact TASEP density at L = 200 already lies within 1e-2
    from ness_core.models import get_model

    model = get_model("asep")
    refine = {"axis": "rho_left", "target": "steepest", "observable": "density"}
    limit = model.target_limit(refine, model.resolve({"rho_right": 0.7, "method": "formula",
                                                      "L": 200}))
    assert limit.location == pytest.approx(0.3, abs=1e-15) and limit.window is None
    grid = np.linspace(0.26, 0.34, 41)
    density = [evaluate("asep", rho_left=a, rho_right=0.7, method="formula", L=200)["density"]
               for a in grid]
    steepest = grid[int(np.argmax(np.diff(density)))] + 0.001
    assert abs(steepest - limit.location) < 1e-2
    mirrored = model.target_limit({**refine, "axis": "rho_right"},
                                  model.resolve({"rho_left": 0.2}))
    assert mirrored.location == pytest.approx(0.8, abs=1e-15)
    # no LD/HD line crossed, or no transition, or rates given explicitly: nothing known
    for params in ({"rho_right": 0.4}, {"rho_right": 0.7, "drive": 0.0},
                   {"rho_right": 0.7, "alpha": 0.3}):
        assert model.target_limit(refine, model.resolve(params)) is None
    assert model.target_limit({**refine, "observable": "current"},
                              model.resolve({"rho_right": 0.7})) is None
