"""Prosen's exact isotropic NESS at maximal driving (tests/prosen_xxx.py) against brute force.

The reference is checked three ways: its ρ is the null vector of a dense Liouvillian built
here from the conventions of ``ness_core.models.xxz`` (L = 3, 4); its current and profile
equal the ``xxz`` model's exact Liouvillian solution for L = 2 … 8 and two couplings; and
at L = 64, where only it reaches, it obeys the conservation laws (the same current on every
bond, equal to the magnetisation the left bath injects) and the L⁻² decay of Prosen (2011).
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import prosen_xxx
import pytest

import ness_core

SIGMA_PLUS = np.array([[0.0, 1.0], [0.0, 0.0]])  # |↑⟩⟨↓|, basis (|↑⟩, |↓⟩)
SIGMA_X = np.array([[0.0, 1.0], [1.0, 0.0]])
SIGMA_Y = np.array([[0.0, -1.0j], [1.0j, 0.0]])
SIGMA_Z = np.diag([1.0, -1.0])


def site(op: np.ndarray, j: int, length: int) -> np.ndarray:
    """``op`` on site j (1-based), site 1 the most significant tensor factor."""
    return reduce(np.kron, [op if k == j else np.eye(2) for k in range(1, length + 1)])


def dense_liouvillian(length: int, coupling: float) -> np.ndarray:
    """The XXX chain at μ = 1 (jumps √Γ σ⁺_1, √Γ σ⁻_L) on row-major vec(ρ)."""
    hamiltonian = sum(site(SIGMA_X, j, length) @ site(SIGMA_X, j + 1, length)
                      + site(SIGMA_Y, j, length) @ site(SIGMA_Y, j + 1, length)
                      + site(SIGMA_Z, j, length) @ site(SIGMA_Z, j + 1, length)
                      for j in range(1, length))
    jumps = [np.sqrt(coupling) * site(SIGMA_PLUS, 1, length),
             np.sqrt(coupling) * site(SIGMA_PLUS.T, length, length)]
    identity = np.eye(2**length)
    liouvillian = -1j * (np.kron(hamiltonian, identity) - np.kron(identity, hamiltonian.T))
    for jump in jumps:
        rate = jump.conj().T @ jump
        liouvillian = liouvillian + (np.kron(jump, jump.conj()) - 0.5 * np.kron(rate, identity)
                                     - 0.5 * np.kron(identity, rate.T))
    return liouvillian


@pytest.mark.parametrize("length", [3, 4])
@pytest.mark.parametrize("coupling", [1.0, 0.5])
def test_prosen_state_is_the_dense_liouvillian_null_vector(length, coupling):
    liouvillian = dense_liouvillian(length, coupling)
    _, singular, vh = np.linalg.svd(liouvillian)
    assert singular[-1] < 1e-12 < singular[-2]  # a unique steady state
    null = vh[-1].conj().reshape(2**length, 2**length)
    null = null / np.trace(null)
    rho = prosen_xxx.steady_state_dense(length, coupling)
    assert np.abs(rho - null).max() < 1e-12
    assert np.abs(rho - rho.conj().T).max() < 1e-14
    assert np.linalg.eigvalsh(rho).min() > -1e-14


@pytest.mark.parametrize("coupling", [1.0, 0.5])
@pytest.mark.parametrize("length", range(2, 9))
def test_prosen_current_and_profile_equal_the_exact_liouvillian_ness(length, coupling):
    exact = ness_core.evaluate("xxz", L=length, drive=1.0, anisotropy=1.0, coupling=coupling,
                               gap_sectors="none")
    assert exact["status"] == "ok"
    profile, currents = prosen_xxx.xxx_profile_and_currents(length, coupling)
    assert abs(prosen_xxx.xxx_current(length, coupling) - exact["current"]) < 1e-10
    assert np.abs(profile - exact["magnetization_profile"]).max() < 1e-10
    assert exact["current"] > 0  # the left bath injects up spins: J flows from site 1 to L


@pytest.mark.parametrize("coupling", [1.0, 0.5])
def test_prosen_current_is_conserved_and_injected_at_the_left_bath(coupling):
    length = 64
    profile, currents = prosen_xxx.xxx_profile_and_currents(length, coupling)
    assert np.ptp(currents) < 1e-12 * currents.mean()
    # adjoint dissipator of √Γ σ⁺_1 on σᶻ_1 is 2Γ|↓⟩⟨↓|: J = Γ(1 − ⟨σᶻ_1⟩) = Γ(1 + ⟨σᶻ_L⟩)
    assert currents.mean() == pytest.approx(coupling * (1 - profile[0]), rel=1e-12)
    assert currents.mean() == pytest.approx(coupling * (1 + profile[-1]), rel=1e-12)
    # reflection × spin flip maps the jump set to itself: ⟨σᶻ_j⟩ = −⟨σᶻ_{L+1−j}⟩
    assert np.abs(profile + profile[::-1]).max() < 1e-12


def test_prosen_current_decays_as_inverse_square_of_the_length():
    """Prosen (2011): J ∝ L⁻² at Δ = 1, maximal driving. The local exponent d ln J / d ln L
    drifts towards −2 as L grows (measured at Γ = 1: −1.952 over L = 32–64, −2.003 over
    128–256), so a least-squares exponent over L = 32 … 64 lies within 0.1 of −2, while
    it excludes −3/2 and the linear-response value −1/2 by far."""
    lengths = np.arange(32, 65, 2)
    currents = np.array([prosen_xxx.xxx_current(length, 1.0) for length in lengths])
    exponent = np.polyfit(np.log(lengths), np.log(currents), 1)[0]
    assert abs(exponent + 2.0) < 0.1


def test_mps_reference_currents_cover_the_lengths_of_issue_21():
    reference = prosen_xxx.mps_reference_currents(1.0)
    assert tuple(reference) == (16, 24, 32, 48, 64)
    values = np.array(list(reference.values()))
    assert np.all(np.diff(values) < 0) and np.all(values > 0)
