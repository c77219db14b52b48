"""The `wire` model: equilibrium, Landauer–Büttiker, thermal conductance quantum, second law.

Reference values come from transmissions and Green's functions inverted explicitly here,
Fermi functions and Sommerfeld-limit constants, never from the model's own numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from ness_core import evaluate
from ness_core.errors import ParameterError


def fermi(e: float, mu: float, temp: float) -> float:
    return 0.5 * (1 - math.tanh((e - mu) / (2 * temp)))


def transmission_by_inversion(e: float, n: int, t: float, eps: float, gamma: float) -> float:
    """Γ² |G_1N|², G = (E − H + iΓ/2 (P_1 + P_N))^{-1} by dense inversion."""
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    sigma = np.zeros((n, n), dtype=complex)
    sigma[0, 0] = sigma[-1, -1] = -0.5j * gamma
    g = np.linalg.inv(e * np.eye(n) - h - sigma)
    return gamma**2 * abs(g[0, -1]) ** 2


@pytest.mark.parametrize("bath", ["wideband", "local"])
def test_equal_leads_give_zero_currents_and_zero_entropy_production(bath: str) -> None:
    out = evaluate("wire", N=12, temperature=0.7, density=0.4, onsite=0.1, bath=bath)
    assert out["status"] == "ok"
    for key in ("current", "heat_current_left", "heat_current_right", "landauer_current",
                "landauer_heat_current"):
        assert abs(out[key]) < 1e-12, key
    assert abs(out["entropy_production"]) < 1e-12


def test_local_bath_equilibrium_occupation_is_fermi_at_site_energy() -> None:
    out = evaluate("wire", N=9, temperature=0.5, density=0.3, onsite=-0.2, bath="local")
    assert np.allclose(out["occupation_profile"], fermi(-0.2, 0.3, 0.5), atol=1e-13)


def test_wideband_equilibrium_occupation_is_fermi_weighted_spectral_function() -> None:
    """⟨n_j⟩ = ∫ dE/2π f(E) A_jj(E), A = i(G^R − G^A), on the interior sites of N = 4."""
    n, t, eps, gamma, mu, temp = 4, 1.0, 0.25, 0.8, -0.3, 0.4
    out = evaluate("wire", N=n, hopping=t, onsite=eps, coupling=gamma, temperature=temp,
                   density=mu)
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    heff = h - 0.5j * gamma * np.diag([1.0, 0.0, 0.0, 1.0])

    def integrand(e: float, j: int) -> float:
        g = np.linalg.inv(e * np.eye(n) - heff)
        return fermi(e, mu, temp) * (-2 * g[j, j].imag) / (2 * np.pi)

    for j in (1, 2):
        exact = sum(quad(integrand, a, b, args=(j,), epsabs=1e-13, limit=200)[0]
                    for a, b in ((-3000, mu), (mu, 3000)))
        assert out["occupation_profile"][j] == pytest.approx(exact, abs=1e-9)
    half = evaluate("wire", N=7, onsite=0.3, density=0.3, temperature=0.2)
    assert np.allclose(half["occupation_profile"], 0.5, atol=1e-12)  # particle-hole symmetry


@pytest.mark.parametrize("n", [3, 8, 25])
def test_correlation_matrix_currents_equal_landauer_buttiker(n: int) -> None:
    out = evaluate("wire", N=n, hopping=1.0, coupling=0.7, onsite=0.2, temperature=0.6,
                   drive=0.5, density=0.1, bias=0.4)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(out["landauer_current"], rel=1e-7, abs=1e-12)
    assert out["heat_current_left"] == pytest.approx(out["landauer_heat_current"], rel=1e-7)
    joule = -0.4 * out["current"]
    assert out["heat_current_left"] + out["heat_current_right"] == pytest.approx(joule, rel=1e-9)


def test_linear_response_conductance_matches_uniform_chain_transmission() -> None:
    """κ = (1/T) ∫ dE/2π 𝒯(E) (E − μ)² (−∂f/∂E) with 𝒯 from explicit inversion."""
    n, t, eps, gamma, mu, temp, dt = 6, 1.0, 0.0, 0.6, 0.35, 0.3, 1e-4
    out = evaluate("wire", N=n, hopping=t, onsite=eps, coupling=gamma, temperature=temp,
                   drive=dt, density=mu)

    def integrand(e: float) -> float:
        x = (e - mu) / temp
        minus_df = 1 / (4 * temp * math.cosh(x / 2) ** 2)
        return transmission_by_inversion(e, n, t, eps, gamma) * (e - mu) ** 2 * minus_df

    kappa = quad(integrand, mu - 40 * temp, mu + 40 * temp, points=[-2, 2], limit=400,
                 epsabs=1e-13)[0] / (2 * np.pi * temp)
    assert out["heat_current_left"] / dt == pytest.approx(kappa, rel=1e-6)
    assert out["landauer_heat_current"] / dt == pytest.approx(kappa, rel=1e-6)


def test_ballistic_thermal_conductance_is_the_quantum_pi_t_over_6() -> None:
    """Odd N at the band centre transmits perfectly: κ → π²k_B²T/(3h) = πT/6 as T → 0."""
    temp, dt = 0.002, 1e-5
    out = evaluate("wire", N=5, coupling=1.0, temperature=temp, drive=dt, density=0.0)
    assert out["heat_current_left"] / dt == pytest.approx(math.pi * temp / 6, rel=1e-3)


def test_local_bath_carries_no_heat_at_the_band_centre() -> None:
    """The local (single-energy) leads miss the heat current that the exact leads carry."""
    local = evaluate("wire", N=10, drive=1.0, bath="local")
    exact = evaluate("wire", N=10, drive=1.0)
    assert abs(local["heat_current_left"]) < 1e-12
    assert exact["heat_current_left"] > 0.01
    assert exact["entropy_production"] > 0


def test_gap_closes_as_inverse_cube_of_length() -> None:
    ratio = evaluate("wire", N=200)["gap"] / evaluate("wire", N=100)["gap"]
    assert ratio == pytest.approx(1 / 8, rel=0.05)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(3, 6),
    t_left=st.floats(0.0, 3.0), t_right=st.floats(0.0, 3.0),
    mu_left=st.floats(-3.0, 3.0), mu_right=st.floats(-3.0, 3.0),
    coupling=st.floats(0.1, 3.0), onsite=st.floats(-1.0, 1.0),
    bath=st.sampled_from(["wideband", "local"]),
)
def test_second_law_holds_or_is_flagged(n, t_left, t_right, mu_left, mu_right, coupling,
                                        onsite, bath) -> None:
    out = evaluate("wire", N=n, T_left=t_left, T_right=t_right, mu_left=mu_left,
                   mu_right=mu_right, coupling=coupling, onsite=onsite, bath=bath)
    if out["status"].startswith("second law violated"):
        return
    scale = sum(abs(out[k]) / tb for k, tb in (("heat_current_left", t_left),
                                               ("heat_current_right", t_right)) if tb > 0)
    assert out["entropy_production"] >= -1e-9 * max(scale, 1.0)


def test_negative_lead_temperature_is_rejected() -> None:
    with pytest.raises(ParameterError, match="drive"):
        evaluate("wire", temperature=1.0, drive=3.0)
