"""Kerr resonator (DOMAIN.md S8) against the Drummond–Walls complex-P solution and dense algebra."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models import kerr


def hyp0f2(a: complex, b: complex, z: float) -> complex:
    """₀F₂(; a, b; z) = Σ_k z^k / ((a)_k (b)_k k!), summed until the terms vanish."""
    total, term, k = 0j, 1 + 0j, 0
    while abs(term) > 1e-18 * abs(total) or k < 3:
        total += term
        term *= z / ((a + k) * (b + k) * (k + 1))
        k += 1
    return total


def drummond_walls_photons(drive, detuning, kerr, kappa):
    """⟨a†a⟩ at T = 0 for H = −Δa†a + (U/2)a†a†aa + F(a + a†), jump √κ a.

    Drummond & Walls (1980): ⟨a†ʲaʲ⟩ = x^j Γ(c)Γ(c*)/(Γ(c+j)Γ(c*+j))
    ₀F₂(c+j, c*+j; 2x)/₀F₂(c, c*; 2x) with x = (2F/U)², c = (−2Δ + iκ)/U.
    """
    c = (-2 * detuning + 1j * kappa) / kerr
    x = (2 * drive / kerr) ** 2
    ratio = hyp0f2(c + 1, c.conjugate() + 1, 2 * x) / hyp0f2(c, c.conjugate(), 2 * x)
    return (x * ratio / (c * c.conjugate())).real


@pytest.mark.parametrize("drive, detuning, u0, kappa, scale", [
    (1.5, 3.0, 1.0, 1.0, 1.0), (0.7, -1.0, 2.0, 1.0, 1.0), (2.0, 1.0, 0.5, 0.8, 1.0),
    (1.2, 3.0, 1.0, 1.0, 3.0)])
def test_photon_number_matches_drummond_walls(drive, detuning, u0, kappa, scale):
    out = evaluate("kerr", drive=drive, detuning=detuning, U0=u0, kappa=kappa, N=scale)
    exact = drummond_walls_photons(drive * math.sqrt(scale), detuning, u0 / scale, kappa)
    assert out["status"] == "ok"
    assert out["photon_number"] == pytest.approx(exact, rel=1e-8)
    assert out["current"] == pytest.approx(kappa * exact, rel=1e-8)  # T = 0: net = gross
    assert out["emitted_photon_flux"] == pytest.approx(kappa * exact, rel=1e-8)
    assert out["residual"] < 1e-10
    assert out["scale"] == scale


def dense_kerr_liouvillian(cutoff, drive, detuning, u, kappa):
    """Column-stacking Liouvillian from numpy Kronecker products (independent build)."""
    a = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    h = -detuning * a.T @ a + 0.5 * u * (a.T @ a.T @ a @ a) + drive * (a + a.T)
    eye = np.eye(cutoff)
    c = math.sqrt(kappa) * a
    k = c.T @ c
    return (-1j * (np.kron(eye, h) - np.kron(h.T, eye)) + np.kron(c.conj(), c)
            - 0.5 * (np.kron(eye, k) + np.kron(k.T, eye)))


@pytest.mark.parametrize("drive", [0.5, 1.5])
def test_gap_matches_dense_eigenvalues(drive):
    out = evaluate("kerr", drive=drive, detuning=1.0, fock_cutoff=14)
    lam = np.linalg.eigvals(dense_kerr_liouvillian(14, drive, 1.0, 1.0, 1.0))
    lam = lam[np.argsort(-lam.real)][1:]
    assert out["gap"] == pytest.approx(-lam[0].real, rel=1e-8)
    assert out["gap_imag"] == pytest.approx(abs(lam[0].imag), abs=1e-8)


@pytest.mark.parametrize("detuning, u0, kappa, modes", [(1.0, 1.0, 1.0, 8), (0.5, 0.3, 2.0, 8),
                                                       (6.0, 1.0, 1.0, 30)])
def test_undriven_gap_is_the_coherence_decay(detuning, u0, kappa, modes):
    """F = 0, T = 0: the only jump a lowers m + n of |m⟩⟨n|, so L is triangular with
    eigenvalues −κ(m + n)/2 − i(E_m − E_n); the slowest is |1⟩⟨0|: κ/2, frequency |Δ|. At
    Δ = 6 about 20 eigenvalues lie closer to 0, so the default 8 modes miss it (see
    lindblad_spectrum.spectral_gap) and 30 are asked for."""
    out = evaluate("kerr", drive=0.0, detuning=detuning, U0=u0, kappa=kappa, gap_modes=modes)
    assert out["gap"] == pytest.approx(kappa / 2, rel=1e-10)
    assert out["gap_imag"] == pytest.approx(detuning, rel=1e-10)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_undriven_cavity_is_thermal_without_entropy_production(temperature):
    out = evaluate("kerr", drive=0.0, temperature=temperature, omega0=1.0)
    assert out["photon_number"] == pytest.approx(1 / math.expm1(1 / temperature), rel=1e-10)
    assert out["entropy_production"] == 0.0


@pytest.mark.parametrize("drive, temperature", [(0.0, 1.0), (0.0, 0.4), (1.5, 1.0), (0.8, 2.0)])
def test_current_is_the_net_photon_current_and_sets_the_spohn_entropy(drive, temperature):
    """J = κ(⟨a†a⟩ − n), n = 1/(e^{ω0/T} − 1): zero in the undriven thermal state, where the
    gross output κ⟨a†a⟩ = κn still flows; σ = ω0 J/T (Spohn, one bath)."""
    n_th = 1 / math.expm1(1.0 / temperature)
    out = evaluate("kerr", drive=drive, temperature=temperature, kappa=0.7)
    assert out["current"] == pytest.approx(0.7 * (out["photon_number"] - n_th), rel=1e-12,
                                           abs=1e-12)
    assert out["emitted_photon_flux"] == pytest.approx(0.7 * out["photon_number"], rel=1e-14)
    assert out["entropy_production"] == pytest.approx(out["current"] / temperature, rel=1e-9,
                                                      abs=1e-12)
    if drive == 0.0:
        assert abs(out["current"]) < 1e-12
        assert out["emitted_photon_flux"] == pytest.approx(0.7 * n_th, rel=1e-10)
    else:
        assert out["current"] > 0


def test_counted_photons_have_the_net_current_as_mean():
    """fluctuations=true counts +1 per a jump and −1 per a† jump, whose mean is the net
    current: fano_factor·|current| is the variance."""
    out = evaluate("kerr", drive=1.0, temperature=0.8, fluctuations=True)
    assert out["status"] == "ok"
    assert out["fano_factor"] * abs(out["current"]) == pytest.approx(out["current_variance"],
                                                                    rel=1e-6)
    assert out["tur_ratio"] == pytest.approx(
        out["current_variance"] * out["entropy_production"] / out["current"] ** 2, rel=1e-6)


def test_entropy_production_is_nonnegative_over_a_sweep():
    for drive in (0.0, 0.8, 2.0):
        for temperature in (0.0, 0.3, 2.0):
            out = evaluate("kerr", drive=drive, temperature=temperature)
            assert out["status"] == "ok"
            assert out["entropy_production"] >= 0.0
            if drive > 0 and temperature == 0.0:
                assert out["entropy_production"] == math.inf


def test_too_small_cutoff_is_reported_in_status():
    out = evaluate("kerr", drive=3.0, fock_cutoff=5)
    assert "fock_cutoff 5 too small" in out["status"]
    assert out["fock_cutoff"] == 5


@pytest.mark.parametrize("bad, match", [({"kappa": 0.0}, "kappa"),
                                        ({"fock_cutoff": 1}, "fock_cutoff"),
                                        ({"N": 0.0}, "'N'")])
def test_bad_parameters_raise_parameter_error(bad, match):
    with pytest.raises(ParameterError, match=match):
        evaluate("kerr", **bad)


def large_scale_photon_density(drive, scale, detuning, u0, kappa):
    """⟨a†a⟩/N of the Drummond–Walls solution at scale N, its ₀F₂ series summed in log
    space (the terms reach e^(N·O(1)), beyond floating point for N ≳ 100). With U = U0/N,
    F = F0√N, c and c* + k are conjugate, so every term is positive."""
    c = scale * (-2 * detuning + 1j * kappa) / u0
    z = 8 * drive**2 * scale**3 / u0**2  # 2x, x = (2F/U)²
    k = np.arange(int(40 * scale) + 200)
    pochhammer = np.concatenate([[0.0], np.cumsum(np.log(np.abs(c + k[:-1]) ** 2))])
    log_terms = k * math.log(z) - pochhammer - np.array([math.lgamma(n + 1) for n in k])
    top = log_terms.max()
    # ₀F₂(c+1, c*+1; z) / ₀F₂(c, c*; z) = Σ_k t_k |c|²/|c+k|² / Σ_k t_k
    ratio = (np.sum(np.exp(log_terms - top) * np.abs(c) ** 2 / np.abs(c + k) ** 2)
             / np.sum(np.exp(log_terms - top)))
    return z / 2 * ratio / abs(c) ** 2 / scale


def test_transition_drive_is_where_the_exact_photon_density_jumps_as_n_grows():
    # the steepest point of ⟨a†a⟩/N of the exact solution at N = 200 and 400, extrapolated
    # in 1/N (its offset falls as 1/N), against the equal-weight condition of the model
    def steepest(scale):
        def slope(f0, h=1e-6):
            return -(large_scale_photon_density(f0 + h, scale, 3.0, 1.0, 1.0)
                     - large_scale_photon_density(f0 - h, scale, 3.0, 1.0, 1.0)) / (2 * h)
        grid = np.linspace(1.3, 1.7, 81)
        i = int(np.argmin([slope(f) for f in grid]))
        return scipy.optimize.minimize_scalar(slope, bracket=(grid[i - 1], grid[i], grid[i + 1]),
                                              tol=1e-10).x
    extrapolated = 2 * steepest(400) - steepest(200)
    assert kerr.transition_drive(3.0, 1.0, 1.0) == pytest.approx(extrapolated, abs=2e-6)
    low, high = kerr.bistable_window(3.0, 1.0, 1.0)
    assert low < extrapolated < high


@pytest.mark.parametrize("detuning, u0, kappa", [(3.0, 1.0, 1.0), (2.0, 0.5, 1.5)])
def test_bistable_window_is_where_the_mean_field_cubic_has_three_roots(detuning, u0, kappa):
    def roots(f0):  # positive real roots of n((U0 n − Δ)² + κ²/4) = F0²
        r = np.roots([u0**2, -2 * u0 * detuning, detuning**2 + kappa**2 / 4, -f0**2])
        return int(np.sum((np.abs(r.imag) < 1e-7) & (r.real > 0)))
    low, high = kerr.bistable_window(detuning, u0, kappa)
    assert [roots(low * (1 - 1e-4)), roots(low * (1 + 1e-4))] == [1, 3]
    assert [roots(high * (1 - 1e-4)), roots(high * (1 + 1e-4))] == [3, 1]


def test_no_window_and_no_transition_below_the_bistability_threshold():
    # three branches need Δ U0 > 0 and Δ² > 3κ²/4
    assert kerr.bistable_window(0.8, 1.0, 1.0) is None
    assert kerr.transition_drive(0.8, 1.0, 1.0) is None
    assert kerr.bistable_window(-3.0, 1.0, 1.0) is None


def test_target_limit_is_the_transition_drive_for_the_gap_and_the_photon_density_jump():
    # both the gap minimum and the steepest point of ⟨a†a⟩/N tend to the transition drive
    # (checked against the exact solution above); at T > 0 or for another target: none
    from ness_core.models import get_model

    model = get_model("kerr")
    params = model.resolve({"detuning": 3.0, "U0": 1.0, "kappa": 1.0, "N": 2.0})
    for target, observable in (("minimum", "gap"), ("steepest", "photon_number_per_scale")):
        limit = model.target_limit({"axis": "drive", "target": target,
                                    "observable": observable}, params)
        assert limit.location == kerr.transition_drive(3.0, 1.0, 1.0)
        assert limit.window == kerr.bistable_window(3.0, 1.0, 1.0)
    gap = {"axis": "drive", "target": "minimum", "observable": "gap"}
    assert model.target_limit(gap, {**params, "temperature": 0.5}) is None
    assert model.target_limit({**gap, "target": "maximum"}, params) is None
    assert model.target_limit({**gap, "axis": "detuning"}, params) is None
