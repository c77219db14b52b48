"""Chemostat cell (DOMAIN.md S1) against exact thermodynamics and independent solutions.

Independent references: the mass-action steady state written out by hand and solved with
scipy.optimize.brentq; the exact Onsager coefficient of three reactions in series; the
product-Poisson stationary law of a detailed-balanced network (Anderson, Craciun & Kurtz
2010), whose means are the chemostat concentrations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import poisson

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models.chemostat import NETWORK
from ness_core.networks import solve_cme

FORMS = ("deterministic", "stochastic")


def hand_steady_state(drive=0.0, temperature=1.0, density=1.0, lactate=1.0, dG0=0.0,
                      k_uptake=1.0, k_glycolysis=1.0, k_export=1.0):
    """(G, L, J) of the ODE written out by hand, k± = k e^{∓Δμ°/2T}, Δμ°_gly = dG0 − drive.

    In the steady state uptake = J and export = 2J fix G = [Gx] − J/k_up and
    L = [Lx] + 2J/k_exp; J solves the (decreasing) glycolysis balance, bracketed by G, L > 0.
    """
    h = math.exp(-(dG0 - drive) / (2 * temperature))

    def balance(j):
        g, l_ = density - j / k_uptake, lactate + 2 * j / k_export
        return k_glycolysis * (h * g - l_ ** 2 / h) - j

    j = brentq(balance, -k_export * lactate / 2, k_uptake * density, xtol=1e-15, rtol=1e-15)
    return density - j / k_uptake, lactate + 2 * j / k_export, j


def delta_g(drive, temperature, density, lactate, dG0):
    return dG0 - drive + temperature * math.log(lactate ** 2 / density)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("density", "lactate", "temperature"),
                         [(1.0, 1.0, 1.0), (2.0, 0.5, 0.7), (0.5, 2.0, 2.0)])
def test_zero_flux_and_entropy_production_at_zero_reaction_free_energy(form, density, lactate,
                                                                       temperature):
    dG0 = -temperature * math.log(lactate ** 2 / density)  # makes ΔG = 0 at drive = 0
    r = evaluate("chemostat", form=form, density=density, lactate=lactate,
                 temperature=temperature, dG0=dG0)
    assert r["delta_g"] == pytest.approx(0.0, abs=1e-14)
    assert abs(r["current"]) < 1e-12
    assert abs(r["entropy_production"]) < 1e-12
    # Detailed balance with the reservoirs: internal concentrations equal the external ones.
    assert r["glucose"] == pytest.approx(density, rel=1e-10)
    assert r["lactate_internal"] == pytest.approx(lactate, rel=1e-10)


@pytest.mark.parametrize("form", FORMS)
def test_flux_opposes_free_energy_and_sigma_is_flux_times_affinity(form):
    drives = [-4.0, -1.0, -0.1, 0.3, 2.0, 6.0] if form == "deterministic" else [-2.0, 0.5, 3.0]
    for drive in drives:
        for temperature in (0.5, 1.0, 2.0):
            for density in (0.3, 1.0, 3.0):
                r = evaluate("chemostat", form=form, drive=drive, temperature=temperature,
                             density=density, lactate=1.0, volume=10.0)
                dg = delta_g(drive, temperature, density, 1.0, 0.0)
                assert r["delta_g"] == pytest.approx(dg, rel=1e-12)
                assert r["current"] * dg <= 0
                assert r["entropy_production"] == pytest.approx(
                    r["current"] * (-dg) / temperature, rel=1e-8, abs=1e-13)


@pytest.mark.parametrize("params", [{}, {"temperature": 0.5, "density": 2.0, "k_export": 3.0},
                                    {"lactate": 0.4, "k_uptake": 0.2, "k_glycolysis": 5.0}])
def test_deterministic_steady_state_matches_hand_written_ode(params):
    for drive in (-1.5, 0.7, 4.0):
        g, l_, j = hand_steady_state(drive=drive, **params)
        r = evaluate("chemostat", drive=drive, **params)
        assert r["glucose"] == pytest.approx(g, rel=1e-10)
        assert r["lactate_internal"] == pytest.approx(l_, rel=1e-10)
        assert r["current"] == pytest.approx(j, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize(("density", "lactate", "k_up", "k_gly", "k_exp"),
                         [(1.0, 1.0, 1.0, 1.0, 1.0), (2.0, 0.5, 0.3, 4.0, 1.5)])
def test_onsager_linear_regime_series_resistances(density, lactate, k_up, k_gly, k_exp):
    """J/(−ΔG/T) → 1/(1/w_up + 1/w_gly + 4/w_exp), w the exchange rates at equilibrium."""
    temperature = 0.8
    dG0 = -temperature * math.log(lactate ** 2 / density)
    exact = 1.0 / (1.0 / (k_up * density) + 1.0 / (k_gly * math.sqrt(density) * lactate)
                   + 4.0 / (k_exp * lactate))
    common = {"density": density, "lactate": lactate, "temperature": temperature, "dG0": dG0,
              "k_uptake": k_up, "k_glycolysis": k_gly, "k_export": k_exp}
    for drive in (1e-4, -1e-4):
        r = evaluate("chemostat", drive=drive, **common)
        assert r["onsager_coefficient"] == pytest.approx(exact, rel=1e-12)
        assert r["current"] / r["affinity"] == pytest.approx(exact, rel=1e-3)


@pytest.mark.parametrize(("density", "lactate", "volume"), [(1.0, 1.0, 10.0), (0.5, 2.0, 8.0)])
def test_equilibrium_cme_is_product_poisson(density, lactate, volume):
    """Detailed balance (ΔG = 0): p(n_G, n_L) = Poisson(Ω[Gx]) × Poisson(Ω[Lx])."""
    dG0 = -math.log(lactate ** 2 / density)
    params = {"drive": 0.0, "temperature": 1.0, "density": density, "lactate": lactate,
              "dG0": dG0, "k_uptake": 1.0, "k_glycolysis": 1.0, "k_export": 1.0}
    kin = NETWORK.kinetics(params)
    start = np.round(volume * np.array([density, lactate])).astype(int)
    cme = solve_cme(kin, volume, start, tol=1e-12)
    exact = (poisson.pmf(cme.states[:, 0], volume * density)
             * poisson.pmf(cme.states[:, 1], volume * lactate))
    assert np.max(np.abs(cme.probabilities - exact)) < 1e-10


def test_cme_mean_approaches_mass_action_as_one_over_volume():
    g, l_, _ = hand_steady_state(drive=2.0)
    errors = []
    for volume in (10.0, 20.0, 40.0):
        r = evaluate("chemostat", form="stochastic", drive=2.0, volume=volume)
        assert r["boundary_probability"] <= 1e-8
        errors.append(math.hypot(r["glucose"] - g, r["lactate_internal"] - l_))
    assert errors[0] < 0.01
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert coarse / fine == pytest.approx(2.0, rel=0.1)


def test_gap_survives_rate_constants_spanning_200_decades():
    """Glycolysis ~e^{250} times faster than transport: G → 0 and the slow mode is export.

    dL/dt = 2 k_up([Gx] − G) − k_exp(L − [Lx]) with G ≈ 0 relaxes at exactly k_exp
    (corrections ~e^{−250}).
    """
    r = evaluate("chemostat", drive=50.0, temperature=0.1, k_export=0.7)
    assert r["gap"] == pytest.approx(0.7, rel=1e-12)
    assert r["current"] == pytest.approx(1.0, rel=1e-12)  # uptake k_up [Gx], nothing returns
    assert r["lactate_internal"] == pytest.approx(1.0 + 2.0 / 0.7, rel=1e-12)


@pytest.mark.parametrize("drive", [-3.0, 0.0, 2.5])
def test_carbon_mode_relaxes_at_the_transport_rate(drive):
    """k_up = k_exp = k: d(2G + L)/dt = −k(2G + L) + const, an exact eigenvalue −k.

    With fast glycolysis (k_gly = 5) the other mode is faster, so the gap is exactly k.
    """
    r = evaluate("chemostat", drive=drive, k_uptake=0.4, k_export=0.4, k_glycolysis=5.0)
    assert r["gap"] == pytest.approx(0.4, rel=1e-12)


def test_bad_form_is_refused():
    with pytest.raises(ParameterError, match="parameter 'form'"):
        evaluate("chemostat", form="gillespie")
