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


@pytest.mark.parametrize("n, gamma", [(3, 1.0), (5, 1.0), (4, 0.7), (6, 2.0)])
@pytest.mark.parametrize("bath", ["wideband", "local"])
def test_gap_equals_the_xx_chain_gap_of_xxz(n: int, gamma: float, bath: str) -> None:
    """Jordan–Wigner: σˣσˣ + σʸσʸ = 2(σ⁺σ⁻ + σ⁻σ⁺) is hopping t = 2 (sign irrelevant), and
    the boundary jumps √(Γ(1±μ)/2) σ^± damp the end sites at Γ/2 like a lead of coupling Γ:
    the same damping matrix, so the Liouvillian gap of xxz at Δ_z = 0 (full Lindblad solver,
    every magnetisation block) is the wire's gap of physical (parity-even) observables."""
    xx = evaluate("xxz", L=n, anisotropy=0.0, coupling=gamma, drive=0.3)
    wire = evaluate("wire", N=n, hopping=2.0, coupling=gamma, bath=bath, drive=0.5, bias=0.2)
    assert xx["status"] == "ok"
    assert wire["gap"] == pytest.approx(xx["gap"], rel=1e-8)


def test_gap_is_twice_the_single_particle_decay_rate() -> None:
    """Third quantisation: Liouvillian eigenvalues are sums −i Σ (n_k z_k − m_k z̄_k), n_k, m_k
    ∈ {0, 1}; the slowest even one is 2 min_k |Im z_k| (the mode δ⟨c†c⟩), z_k the eigenvalues of
    H_eff = H − (iΓ/2)(P_1 + P_N), here by dense diagonalisation."""
    n, t, eps, gamma = 12, 1.3, 0.2, 0.8
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    h_eff = h.astype(complex)
    h_eff[0, 0] -= 0.5j * gamma
    h_eff[-1, -1] -= 0.5j * gamma
    slowest = np.abs(np.linalg.eigvals(h_eff).imag).min()
    out = evaluate("wire", N=n, hopping=t, onsite=eps, coupling=gamma)
    assert out["single_particle_gap"] == pytest.approx(slowest, rel=1e-10)
    assert out["gap"] == pytest.approx(2 * slowest, rel=1e-10)


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


# The two-temperature chimera: occupations of right- and left-moving waves.
# Wave packets ψ_m^±(j) = √(2/(N+1)) sin(πj/(N+1)) e^{±ik_m j}, k_m = πm/(N+1) (model doc).
# Their momentum distribution is symmetric with second moment σ² = 2(1 − cos(π/(N+1))) and
# fourth moment 4π²/(N+1)³ + O(N⁻⁴) (Σ_j |Δ²w_j|²: the envelope's kinks at the walls), so
# a smooth occupation p(k) is seen as p + (σ²/2) p'' + R₄ with |R₄| <= (π²/6)(N+1)⁻³ max|p''''|.


def fermi_array(e: np.ndarray, mu: float, temp: float) -> np.ndarray:
    return 0.5 * (1 - np.tanh((e - mu) / (2 * temp)))


def contact_reflection(k: np.ndarray, hopping: float, coupling: float) -> np.ndarray:
    """Reflection probability of a chain wave e^{ikj} at an end site with self-energy −iΓ/2.

    ψ_j = e^{ikj} + r e^{−ikj} solves (E − ε)ψ_N = −tψ_{N−1} − (iΓ/2)ψ_N, E = ε − 2t cos k,
    iff e^{ikN}(t e^{ik} − iΓ/2) + r e^{−ikN}(t e^{−ik} − iΓ/2) = 0, so
    R = |t e^{ik} − iΓ/2|² / |t e^{−ik} − iΓ/2|².
    """
    return (np.abs(hopping * np.exp(1j * k) - 0.5j * coupling) ** 2
            / np.abs(hopping * np.exp(-1j * k) - 0.5j * coupling) ** 2)


def mover_occupations(k, t, eps, gamma, t_left, t_right, mu_left, mu_right):
    """Scattering theory: right movers (f_L + R f_R)/(1 + R), left movers (f_R + R f_L)/(1 + R).

    Inside the chain the state injected by the left lead is a right-moving wave of weight
    |A|² plus its reflection off the right contact, weight R|A|²; the right lead's state is
    the mirror image with the same |A|² (symmetric contacts share the Fabry–Pérot
    denominator). Right movers thus hold f_L and f_R in the ratio 1 : R at every energy.
    """
    energy = eps - 2 * t * np.cos(k)
    refl = contact_reflection(k, t, gamma)
    f_left = fermi_array(energy, mu_left, t_left)
    f_right = fermi_array(energy, mu_right, t_right)
    return (f_left + refl * f_right) / (1 + refl), (f_right + refl * f_left) / (1 + refl)


def smoothing_check(occupation, exact, k, n, bulk):
    """On the modes ``bulk``: max |n − p − (σ²/2) p''|, the bound on that remainder, and the
    bound (σ²/2) max|p''| + remainder on the whole smoothing bias |n − p|."""
    h = 2e-3
    d2 = (exact(k + h) - 2 * exact(k) + exact(k - h)) / h**2
    d4 = (exact(k + 2 * h) - 4 * exact(k + h) + 6 * exact(k) - 4 * exact(k - h)
          + exact(k - 2 * h)) / h**4
    sigma2 = 2 * (1 - math.cos(math.pi / (n + 1)))
    deviation = np.max(np.abs(occupation - exact(k) - sigma2 / 2 * d2)[bulk])
    remainder = math.pi**2 / 6 / (n + 1) ** 3 * np.max(np.abs(d4[bulk]))
    return deviation, remainder, sigma2 / 2 * np.max(np.abs(d2[bulk])) + remainder


def test_mover_occupations_equal_brute_force_projection_of_the_negf_state() -> None:
    """ψ^{±†} ρ1 ψ^± with ρ1 = Σ_b Γ ∫ dE/2π f_b G^R e_b e_b^T G^A by dense inversion."""
    from scipy.integrate import quad_vec

    n, t, eps, gamma, t_left, t_right, mu_left, mu_right = 5, 1.0, 0.1, 0.8, 0.6, 0.2, 0.2, -0.1
    out = evaluate("wire", N=n, hopping=t, onsite=eps, coupling=gamma, T_left=t_left,
                   T_right=t_right, mu_left=mu_left, mu_right=mu_right)
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    heff = h - 0.5j * gamma * np.diag([1.0, 0.0, 0.0, 0.0, 1.0])
    j = np.arange(1, n + 1)
    k = np.pi * j / (n + 1)
    envelope = math.sqrt(2 / (n + 1)) * np.sin(np.pi * j / (n + 1))
    packets = np.hstack([envelope[:, None] * np.exp(1j * np.outer(j, k)),
                         envelope[:, None] * np.exp(-1j * np.outer(j, k))])

    def integrand(e: float) -> np.ndarray:
        g = np.linalg.inv(e * np.eye(n) - heff)
        return sum(gamma * fermi(e, mu, temp) * np.abs(packets.conj().T @ g[:, site]) ** 2
                   for site, mu, temp in ((0, mu_left, t_left), (n - 1, mu_right, t_right))
                   ) / (2 * np.pi)

    edges = [-np.inf, eps - 2.1 * t, mu_right, mu_left, eps + 2.1 * t, np.inf]
    exact = sum(quad_vec(integrand, a, b, epsabs=1e-13, epsrel=1e-12)[0]
                for a, b in zip(edges[:-1], edges[1:], strict=True))
    np.testing.assert_allclose(out["occupation_right_movers"], exact[:n], rtol=0, atol=1e-11)
    np.testing.assert_allclose(out["occupation_left_movers"], exact[n:], rtol=0, atol=1e-11)
    np.testing.assert_allclose(out["mode_energy"], eps - 2 * t * np.cos(k), rtol=0, atol=1e-15)
    np.testing.assert_allclose(out["fermi_left"], fermi_array(out["mode_energy"], mu_left,
                                                               t_left), rtol=0, atol=1e-15)


def test_equal_leads_both_movers_carry_one_fermi_function() -> None:
    """Equilibrium: ρ1 is real (time reversal), so n^+ = n^− exactly, and both are f(E_m)
    up to the packets' momentum smoothing; checked on the bulk modes |E − ε| <= 1.5t."""
    n, t, eps, mu, temp = 240, 1.0, 0.1, 0.3, 0.5
    out = evaluate("wire", N=n, hopping=t, onsite=eps, temperature=temp, density=mu)
    right, left = out["occupation_right_movers"], out["occupation_left_movers"]
    np.testing.assert_allclose(right, left, rtol=0, atol=1e-13)
    k = np.pi * np.arange(1, n + 1) / (n + 1)
    bulk = np.abs(out["mode_energy"] - eps) <= 1.5 * t
    deviation, bound, _ = smoothing_check(
        right, lambda q: fermi_array(eps - 2 * t * np.cos(q), mu, temp), k, n, bulk)
    assert deviation <= bound  # bound 4.6e-6 at N = 240 (deviation 1.6e-6)
    np.testing.assert_allclose(out["fermi_left"], out["fermi_right"], rtol=0, atol=0)


@pytest.mark.parametrize("coupling", [2.0, 1.0], ids=["matched-contacts", "reflecting"])
def test_right_movers_carry_left_lead_and_left_movers_right_lead(coupling: float) -> None:
    """T_L = 1, T_R = 1/4, μ_L − μ_R = 0.2: n^± against (f_L + R f_R)/(1 + R) and its mirror,
    R the contact reflection. Γ = 2t matches the chain at the band centre (R = 0 there, R <
    0.016 for |E − ε| <= t/2): right movers follow f_L, left movers f_R. Γ = t reflects 1/9."""
    n, t, eps = 240, 1.0, 0.1
    leads = {"T_left": 1.0, "T_right": 0.25, "mu_left": 0.2, "mu_right": 0.0}
    out = evaluate("wire", N=n, hopping=t, onsite=eps, coupling=coupling, **leads)
    assert out["status"] == "ok"
    k = np.pi * np.arange(1, n + 1) / (n + 1)
    energy = out["mode_energy"]
    bulk = np.abs(energy - eps) <= 1.5 * t
    centre = np.abs(energy - eps) <= 0.5 * t
    smoothing = [0.0, 0.0]
    for index, name in enumerate(("occupation_right_movers", "occupation_left_movers")):
        def exact(q, index=index):
            return mover_occupations(q, t, eps, coupling, leads["T_left"], leads["T_right"],
                                     leads["mu_left"], leads["mu_right"])[index]
        deviation, bound, _ = smoothing_check(out[name], exact, k, n, bulk)
        assert deviation <= bound, name  # bound 2e-6–5e-6 (right), 6e-5 (left, T_R = 1/4);
        # the deviations are 0.2–0.35 of it at N = 150, 240, 300: the remainder is O(N⁻³)
        _, _, smoothing[index] = smoothing_check(out[name], exact, k, n, centre)
    f_left = fermi_array(energy, leads["mu_left"], leads["T_left"])
    f_right = fermi_array(energy, leads["mu_right"], leads["T_right"])
    mismatch = np.max(np.abs(f_left - f_right)[centre])
    right_off = np.max(np.abs(out["occupation_right_movers"] - f_left)[centre])
    left_off = np.max(np.abs(out["occupation_left_movers"] - f_right)[centre])
    if coupling == 2.0:  # |n − f| <= R/(1 + R)·|f_L − f_R| + smoothing (2e-5, 6e-4 here)
        reflect = np.max(contact_reflection(k[centre], t, coupling))
        assert reflect < 0.016
        assert right_off <= reflect * mismatch + smoothing[0]
        assert left_off <= reflect * mismatch + smoothing[1]
    else:  # R = 1/9 at the centre: the movers are visibly mixed, 10 % of the mismatch
        assert right_off > 0.05 * mismatch and left_off > 0.05 * mismatch
