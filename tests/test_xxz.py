"""Boundary-driven XXZ chain (DOMAIN.md S8) against dense brute force built here with numpy."""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest
import scipy.linalg

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models.xxz import xxz_operators
from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_steady_state import steady_state

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0]).astype(complex)
SP = np.array([[0, 1], [0, 0]], dtype=complex)  # |up><down|, basis (up, down)


def on_site(op, j, length):
    return reduce(np.kron, [op if k == j else np.eye(2) for k in range(1, length + 1)])


def brute_force(length, mu, delta_z, gamma):
    """Steady state from the null vector of the dense n² × n² Liouvillian, and its spectrum."""
    h = sum(on_site(s, j, length) @ on_site(s, j + 1, length) * w
            for j in range(1, length) for s, w in ((SX, 1), (SY, 1), (SZ, delta_z)))
    up, down = math.sqrt(gamma * (1 + mu) / 2), math.sqrt(gamma * (1 - mu) / 2)
    jumps = [up * on_site(SP, 1, length), down * on_site(SP.T, 1, length),
             down * on_site(SP, length, length), up * on_site(SP.T, length, length)]
    n = 2**length
    eye = np.eye(n)
    lmat = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for c in jumps:
        k = c.conj().T @ c
        lmat += np.kron(c.conj(), c) - 0.5 * (np.kron(eye, k) + np.kron(k.T, eye))
    null = scipy.linalg.null_space(lmat)
    assert null.shape[1] == 1
    rho = null[:, 0].reshape(n, n, order="F")
    return rho / np.trace(rho), np.linalg.eigvals(lmat)


def current_on_bond(rho, j, length):
    op = 2 * (on_site(SX, j, length) @ on_site(SY, j + 1, length)
              - on_site(SY, j, length) @ on_site(SX, j + 1, length))
    return np.trace(op @ rho).real


@pytest.mark.parametrize("length, mu, delta_z, gamma", [(2, 0.5, 1.0, 1.0), (3, 0.3, 0.5, 2.0),
                                                        (4, 0.8, 1.5, 1.0), (4, -1.0, 0.0, 0.7)])
def test_steady_state_and_gap_match_dense_brute_force(length, mu, delta_z, gamma):
    rho, lam = brute_force(length, mu, delta_z, gamma)
    out = evaluate("xxz", L=length, drive=mu, anisotropy=delta_z, coupling=gamma)
    assert out["status"] == "ok"
    assert out["residual"] < 1e-12
    assert out["current"] == pytest.approx(current_on_bond(rho, length // 2, length), abs=1e-12)
    profile = [np.trace(on_site(SZ, j, length) @ rho).real for j in range(1, length + 1)]
    np.testing.assert_allclose(out["magnetization_profile"], profile, atol=1e-12)
    lam = lam[np.argsort(-lam.real)][1:]
    assert out["gap"] == pytest.approx(-lam[0].real, rel=1e-9)


def test_xx_chain_current_is_independent_of_length():
    currents = [evaluate("xxz", L=n, drive=0.6, anisotropy=0.0, gap_sectors="none")["current"]
                for n in (3, 4, 5, 6, 7)]
    np.testing.assert_allclose(currents, currents[0], rtol=1e-10)
    assert currents[0] > 0


@pytest.mark.parametrize("gamma, mu", [(1.0, 0.5), (0.7, -0.3)])
def test_xx_chain_gap_is_twice_the_slowest_rapidity(gamma, mu):
    """Third quantisation (Prosen 2008): with Δ_z = 0 the chain is a quadratic fermion
    problem whose Liouvillian spectrum is −2 Σ ν_j β_j, β_j the eigenvalues of the
    single-particle X = i h + (Γ/2)(|1⟩⟨1| + |L⟩⟨L|), h the hopping matrix (amplitude 2, from
    σˣσˣ + σʸσʸ = 2(σ⁺σ⁻ + σ⁻σ⁺)); so the gap is 2 min Re β_j for any μ. L = 8 exercises the
    factorised blocks at their largest, where the gap closes towards L⁻³ (Žnidarič 2015)."""
    for length in (3, 4, 5, 6, 7, 8):
        hopping = np.diag(np.full(length - 1, 2.0), 1)
        x = 1j * (hopping + hopping.T)
        x[0, 0] += gamma / 2
        x[-1, -1] += gamma / 2
        out = evaluate("xxz", L=length, drive=mu, anisotropy=0.0, coupling=gamma)
        assert out["status"] == "ok"
        assert out["gap"] == pytest.approx(2 * np.linalg.eigvals(x).real.min(), rel=1e-9)


@pytest.mark.parametrize("delta_z", [0.5, 1.0, 2.0])
def test_current_is_the_same_on_every_bond(delta_z):
    out = evaluate("xxz", L=7, drive=0.4, anisotropy=delta_z, gap_sectors="none")
    assert out["status"] == "ok"
    assert out["current_spread"] < 1e-10 * abs(out["current"]) + 1e-13


def test_no_driving_gives_infinite_temperature_state_and_no_current():
    params = {"L": 5, "drive": 0.0, "anisotropy": 0.7, "coupling": 1.3}
    hamiltonian, baths = xxz_operators(params)
    state = steady_state(Liouvillian(hamiltonian, [j for b in baths for j in b]))
    np.testing.assert_allclose(state.rho, np.eye(32) / 32, atol=1e-13)
    out = evaluate("xxz", **params, gap_sectors="none")
    assert out["current"] == pytest.approx(0.0, abs=1e-14)
    assert out["entropy_production"] == 0.0
    np.testing.assert_allclose(out["magnetization_profile"], 0.0, atol=1e-14)


def test_entropy_production_is_nonnegative_across_the_drive():
    for mu in (-1.0, -0.5, 0.0, 0.3, 0.9, 1.0):
        out = evaluate("xxz", L=4, drive=mu, anisotropy=1.0)
        assert out["entropy_production"] >= 0.0
        if abs(mu) == 1.0:
            assert out["entropy_production"] == math.inf
        elif mu != 0.0:
            expected = 2 * math.atanh(mu) * out["current"]
            assert out["entropy_production"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("bad, match", [({"L": 11, "method": "exact"}, "L <= 10"),
                                        ({"L": 1}, "'L'"), ({"drive": 1.5}, "'drive'"),
                                        ({"gap_sectors": "some"}, "gap_sectors")])
def test_bad_parameters_raise_parameter_error(bad, match):
    with pytest.raises(ParameterError, match=match):
        evaluate("xxz", **bad)
