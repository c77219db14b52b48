"""Full counting statistics of quantum jumps: Lindblad cumulants against independent values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ness_core import evaluate
from ness_core.models.kerr import kerr_liouvillian, kerr_operators
from ness_core.models.xxz import xxz_operators
from ness_core.solvers.lindblad import Liouvillian, charge_sectors
from ness_core.solvers.lindblad_observables import current_cumulants, scgf
from ness_core.solvers.lindblad_steady_state import steady_state


def dense_tilted_liouvillian(h, jumps, weights, s):
    """Column-stacking L_s from Kronecker products: vec(A ρ B) = (Bᵀ ⊗ A) vec ρ."""
    h = np.asarray(h.todense() if hasattr(h, "todense") else h, dtype=complex)
    n = h.shape[0]
    eye = np.eye(n)
    lmat = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for j, nu in zip(jumps, weights, strict=True):
        j = np.asarray(j.todense() if hasattr(j, "todense") else j, dtype=complex)
        k = j.conj().T @ j
        lmat += np.exp(s * nu) * np.kron(j.conj(), j) - 0.5 * (np.kron(eye, k) + np.kron(k.T, eye))
    return lmat


def brute_force_cumulants(h, jumps, weights, step=2e-3):
    """Mean and scaled variance by five-point differences of the largest real eigenvalue."""
    t = [np.linalg.eigvals(dense_tilted_liouvillian(h, jumps, weights, k * step)).real.max()
         for k in (-2, -1, 0, 1, 2)]
    mean = (t[0] - 8 * t[1] + 8 * t[3] - t[4]) / (12 * step)
    variance = (-t[0] + 16 * t[1] - 30 * t[2] + 16 * t[3] - t[4]) / (12 * step**2)
    return mean, variance


@pytest.mark.parametrize("omega", [0.3, 1 / math.sqrt(2), 1.0, 3.0])
def test_qubit_fano_factor_is_mandel_q_plus_one_of_resonance_fluorescence(omega):
    # on resonance at T = 0: Q = −6γ²Ω²/(γ² + 2Ω²)² (Mandel 1979), minimum −3/4 at Ω = γ/√2
    gamma = 1.3
    omega *= gamma
    out = evaluate("qubit", drive=omega, gamma=gamma, detuning=0.0, temperature=0.0,
                   fluctuations=True)
    mandel_q = -6 * gamma**2 * omega**2 / (gamma**2 + 2 * omega**2) ** 2
    assert out["status"] == "ok"
    assert out["fano_factor"] == pytest.approx(1 + mandel_q, rel=1e-10)
    assert out["current_variance"] == pytest.approx(out["current"] * (1 + mandel_q), rel=1e-10)


def test_undriven_qubit_net_photon_count_is_bounded():
    # without drive, emissions and absorptions alternate: |Q_t| <= 1, so Var(Q_t)/t -> 0
    out = evaluate("qubit", drive=0.0, temperature=0.8, fluctuations=True)
    assert out["current"] == pytest.approx(0.0, abs=1e-14)
    assert out["current_variance"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_kerr_cumulants_match_dense_tilted_liouvillian(temperature):
    params = {"drive": 1.2, "detuning": 2.0, "U0": 1.0, "kappa": 1.0, "N": 1.0,
              "temperature": temperature, "omega0": 1.0}
    cutoff = 14
    h, jumps, number = kerr_operators(params, cutoff)
    weights = [1.0, -1.0][: len(jumps)]  # a emits a photon into the bath, a† absorbs one
    liou = kerr_liouvillian(h, jumps)
    counting = current_cumulants(liou, steady_state(liou, method="direct"), jumps, weights)
    mean, variance = brute_force_cumulants(h, jumps, weights)
    assert counting.status == "ok"
    assert counting.mean == pytest.approx(mean, rel=1e-6)
    assert counting.variance == pytest.approx(variance, rel=1e-5)


@pytest.mark.parametrize("real_arithmetic", [False, True])
def test_xxz_injected_magnetisation_cumulants_match_dense_tilted_liouvillian(real_arithmetic):
    length = 3
    h, baths = xxz_operators({"L": length, "drive": 0.6, "anisotropy": 0.8, "coupling": 1.0})
    jumps = [j for bath in baths for j in bath]
    up = np.array([length - bin(a).count("1") for a in range(2**length)])
    block = Liouvillian(h, jumps, charge_sectors(up)[0], charge=up,
                        real_arithmetic=real_arithmetic)
    weights = [2.0, -2.0]  # σ⁺ and σ⁻ on site 1: magnetisation (in units of σᶻ) injected
    counting = current_cumulants(block, steady_state(block, method="direct"), baths[0], weights)
    mean, variance = brute_force_cumulants(h, baths[0] + baths[1], weights + [0.0, 0.0])
    assert counting.mean == pytest.approx(mean, rel=1e-6)
    assert counting.variance == pytest.approx(variance, rel=1e-5)


def test_xxz_model_current_variance_matches_dense_tilted_liouvillian():
    params = {"L": 3, "drive": 0.4, "anisotropy": 1.5, "coupling": 0.7}
    h, baths = xxz_operators(params)
    _, variance = brute_force_cumulants(h, baths[0] + baths[1], [2.0, -2.0, 0.0, 0.0])
    out = evaluate("xxz", **params, fluctuations=True)
    assert out["current_variance"] == pytest.approx(variance, rel=1e-5)
    assert out["tur_ratio"] == pytest.approx(
        variance * out["entropy_production"] / out["current"] ** 2, rel=1e-5)


def test_scgf_matches_dense_tilted_liouvillian():
    params = {"drive": 0.9, "detuning": 0.5, "U0": 1.0, "kappa": 1.0, "N": 1.0,
              "temperature": 0.5, "omega0": 1.0}
    h, jumps, _ = kerr_operators(params, 10)
    weights = [1.0, -1.0]
    grid = np.array([-1.0, -0.3, 0.0, 0.4, 1.2])
    expected = [np.linalg.eigvals(dense_tilted_liouvillian(h, jumps, weights, s)).real.max()
                for s in grid]
    np.testing.assert_allclose(scgf(Liouvillian(h, jumps), jumps, weights, grid), expected,
                               rtol=1e-9, atol=1e-12)


def test_counting_weights_must_match_the_jumps():
    h, jumps, _ = kerr_operators({"drive": 1.0, "detuning": 0.0, "U0": 1.0, "kappa": 1.0,
                                  "N": 1.0, "temperature": 0.0, "omega0": 1.0}, 6)
    liou = Liouvillian(h, jumps)
    with pytest.raises(ValueError, match="2 weights given for 1 counted jumps"):
        current_cumulants(liou, steady_state(liou), jumps, [1.0, -1.0])
