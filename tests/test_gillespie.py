"""Gillespie simulation of the chemical master equation against exact stationary laws.

References are independent of the simulation: the product-Poisson law of monomolecular
networks (Jahnke & Huisinga 2007) with means from the hand-solved linear rate equations and
its entropy production summed state by state; the exact variance of a time average of a
birth–death process; and the truncated CME solved as a linear system. Tolerances are five
standard errors of the estimate (batch means over 50 batches, fixed seed): a correct
estimator misses by more than that with probability below 1e-5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from ness_core import evaluate
from ness_core.networks import parse_network, solve_cme, stochastic_steady_state
from ness_core.solvers.gillespie import simulate

SE = 5.0  # tolerance in standard errors

# X <-> A <-> B <-> Y with chemostats X, Y: monomolecular, driven when 2·1·0.7·x ≠ 1·0.5·0.3·y.
PATHWAY = {
    "species": {"A": {}, "B": {}},
    "chemostats": {"X": {"concentration": "x"}, "Y": {"concentration": "y"}},
    "reactions": {
        "inflow": {"equation": "X <-> A", "rate": 2.0, "backward": 1.0},
        "convert": {"equation": "A <-> B", "rate": 1.0, "backward": 0.5},
        "outflow": {"equation": "B <-> Y", "rate": 0.7, "backward": 0.3},
    },
}


def pathway_exact(x: float, y: float) -> tuple[np.ndarray, float]:
    """Fixed point of dA/dt = 2x − A − A + 0.5B, dB/dt = A − 0.5B − 0.7B + 0.3y, and J."""
    mean = np.linalg.solve(np.array([[-2.0, 0.5], [1.0, -1.2]]), -np.array([2.0 * x, 0.3 * y]))
    return mean, 2.0 * x - mean[0]


def pathway_sigma_brute_force(x: float, y: float, volume: float) -> float:
    """Σ over copy-number pairs of (F⁺ − F⁻) ln(F⁺/F⁻) under the product-Poisson law, / Ω."""
    mean, _ = pathway_exact(x, y)
    n = np.arange(0, 120)
    a, b = np.meshgrid(n, n, indexing="ij")
    p = poisson.pmf(a, volume * mean[0]) * poisson.pmf(b, volume * mean[1])
    sigma = 0.0
    # (forward propensity at n, backward propensity at the target, target index shift)
    moves = [
        (np.full(a.shape, 2.0 * x * volume), 1.0 * (a + 1), (1, 0)),      # X -> A
        (1.0 * a, 0.5 * (b + 1), (-1, 1)),                               # A -> B
        (0.7 * b, np.full(a.shape, 0.3 * y * volume), (0, -1)),          # B -> Y
    ]
    for forward, backward, (da, db) in moves:
        src = (slice(max(0, -da), 120 - max(0, da)), slice(max(0, -db), 120 - max(0, db)))
        dst = (slice(max(0, da), 120 - max(0, -da)), slice(max(0, db), 120 - max(0, -db)))
        f = p[src] * forward[src]
        r = p[dst] * backward[src]
        ok = (f > 0) & (r > 0)
        sigma += float(np.sum((f[ok] - r[ok]) * np.log(f[ok] / r[ok])))
    return sigma / volume


def run(spec, params, volume, events=1_000_000, seed=3, start=None):
    kin = parse_network(spec).kinetics(params)
    start = np.full(len(kin.species), 10) if start is None else start
    return kin, simulate(kin.reactants, kin.products, kin.k_plus, kin.k_minus, volume,
                         np.asarray(start), events, seed=seed)


@pytest.mark.parametrize(("x", "y", "volume"), [(1.0, 1.0, 10.0), (2.0, 0.3, 5.0)])
def test_monomolecular_means_currents_and_sigma_match_product_poisson(x, y, volume):
    mean, current = pathway_exact(x, y)
    _, res = run(PATHWAY, {"x": x, "y": y}, volume)
    assert res.status == "ok"
    assert np.all(np.abs(res.mean - mean) <= SE * res.mean_error)
    net = res.forward_flux - res.backward_flux
    assert np.all(np.abs(net - current) <= SE * res.net_flux_error)
    # exact one-way fluxes of the inflow: 2x and ⟨n_A⟩/Ω
    assert res.forward_flux[0] == pytest.approx(2.0 * x, rel=0.02)
    sigma = pathway_sigma_brute_force(x, y, volume)
    assert sigma > 0.1
    assert abs(res.entropy_production - sigma) <= SE * res.entropy_production_error
    assert res.entropy_production_error < 0.05 * sigma  # the tolerance is not vacuous


def test_error_bar_of_a_mean_matches_the_exact_birth_death_variance():
    """0 <-> A at rates k_in Ω, k_out n: Var(time average over T) = 2λ/(k_out T), λ = Ω k_in/k_out
    (autocorrelation e^{−k_out t} of a Poisson birth–death process)."""
    k_in, k_out, volume = 2.0, 0.5, 10.0
    spec = {"species": {"A": {}},
            "reactions": {"r": {"equation": "0 <-> A", "rate": k_in, "backward": k_out}}}
    _, res = run(spec, {}, volume, start=np.array([40]))
    lam = volume * k_in / k_out
    exact_se = math.sqrt(2 * lam / (k_out * res.time)) / volume
    assert res.mean_error[0] / exact_se == pytest.approx(1.0, abs=0.3)
    assert abs(res.mean[0] - lam / volume) <= SE * exact_se


# A + B <-> C with A and B fed from chemostats and C removed: bimolecular, not product form.
BINDING = {
    "species": {"A": {}, "B": {}, "C": {}},
    "chemostats": {"Ax": {"concentration": 1.0}, "Bx": {"concentration": 0.6},
                   "Cx": {"concentration": 0.2}},
    "reactions": {
        "feed_a": {"equation": "Ax <-> A", "rate": 1.0, "backward": 1.0},
        "feed_b": {"equation": "Bx <-> B", "rate": 2.0, "backward": 2.0},
        "bind": {"equation": "A + B <-> C", "rate": 1.5, "backward": 0.4},
        "remove": {"equation": "C <-> Cx", "rate": 0.8, "backward": 0.8},
    },
}


def test_bimolecular_network_matches_the_cme():
    volume = 3.0
    kin, res = run(BINDING, {}, volume, events=2_000_000, start=np.array([3, 2, 2]))
    cme = solve_cme(kin, volume, np.array([3, 2, 2]), tol=1e-10, gap=False)
    assert cme.boundary_probability <= 1e-10
    assert np.all(np.abs(res.mean - cme.mean) <= SE * res.mean_error)
    net, exact = res.forward_flux - res.backward_flux, cme.forward_flux - cme.backward_flux
    assert np.all(np.abs(net - exact) <= SE * res.net_flux_error)
    assert abs(res.entropy_production - cme.entropy_production) <= (
        SE * res.entropy_production_error)
    assert cme.entropy_production > 0


def test_detailed_balance_gives_exactly_zero_entropy_production():
    """Chemostats at mutually consistent concentrations: θ = ln(k⁺/k⁻) lies in the range of S."""
    spec = {**BINDING, "chemostats": {"Ax": {"concentration": 1.0},
                                      "Bx": {"concentration": 0.6},
                                      "Cx": {"concentration": 1.5 * 0.6 / 0.4}}}
    _, res = run(spec, {}, 3.0, events=200_000)
    assert abs(res.entropy_production) < 1e-12


def test_irreversible_reaction_gives_infinite_entropy_production():
    spec = {"species": {"A": {}},
            "reactions": {"make": {"equation": "0 -> A", "rate": 1.0},
                          "decay": {"equation": "A -> 0", "rate": 1.0}}}
    _, res = run(spec, {}, 10.0, events=10_000)
    assert res.entropy_production == math.inf


def test_absorbing_state_is_reported():
    spec = {"species": {"A": {}}, "reactions": {"decay": {"equation": "A -> 0", "rate": 1.0}}}
    _, res = run(spec, {}, 10.0, events=10_000, start=np.array([5]))
    assert res.status == "absorbing state reached"
    assert res.mean[0] == 0.0 and res.final_state[0] == 0


def test_seed_makes_runs_reproducible():
    _, a = run(PATHWAY, {"x": 1.0, "y": 1.0}, 10.0, events=20_000, seed=7)
    _, b = run(PATHWAY, {"x": 1.0, "y": 1.0}, 10.0, events=20_000, seed=7)
    _, c = run(PATHWAY, {"x": 1.0, "y": 1.0}, 10.0, events=20_000, seed=8)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert a.time == b.time and a.time != c.time


def test_auto_method_simulates_only_when_the_cme_does_not_fit():
    kin = parse_network(PATHWAY).kinetics({"x": 1.0, "y": 1.0})
    mean, current = pathway_exact(1.0, 1.0)
    start = np.round(10.0 * mean).astype(int)
    small = stochastic_steady_state(kin, 10.0, start, start, "auto", max_states=200)
    assert small.method == "gillespie" and math.isnan(small.gap)
    assert np.all(np.abs(small.mean - mean) <= SE * small.mean_error)
    large = stochastic_steady_state(kin, 10.0, start, start, "auto")
    assert large.method == "cme" and large.boundary_probability <= 1e-8
    assert large.forward_flux[0] - large.backward_flux[0] == pytest.approx(current, rel=1e-8)


def test_chemostat_model_simulation_agrees_with_its_cme():
    common = {"form": "stochastic", "drive": 2.0, "volume": 10.0}
    cme = evaluate("chemostat", method="cme", **common)
    sim = evaluate("chemostat", method="gillespie", events=2_000_000, **common)
    assert abs(sim["current"] - cme["current"]) <= SE * sim["current_error"]
    assert abs(sim["entropy_production"] - cme["entropy_production"]) <= (
        SE * sim["entropy_production_error"])
    assert math.isnan(sim["gap"]) and not math.isnan(cme["gap"])
