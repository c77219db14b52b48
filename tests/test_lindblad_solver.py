"""Lindblad solver (ness_core.solvers.lindblad) against dense linear algebra built here."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from ness_core.solvers.lindblad import ORDERINGS, Liouvillian, charge_sectors, nested_dissection
from ness_core.solvers.lindblad_observables import dissipator_flow, entropy_production
from ness_core.solvers.lindblad_spectrum import spectral_gap
from ness_core.solvers.lindblad_steady_state import steady_state


def lindblad_rhs(h, jumps, rho):
    """dρ/dt written out with dense matrices, independently of the superoperator."""
    out = -1j * (h @ rho - rho @ h)
    for j in jumps:
        jd = j.conj().T
        out += j @ rho @ jd - 0.5 * (jd @ j @ rho + rho @ jd @ j)
    return out


def dense_liouvillian(h, jumps):
    """Column-stacking superoperator from the definition, one basis matrix at a time."""
    n = h.shape[0]
    lmat = np.zeros((n * n, n * n), dtype=complex)
    for k in range(n * n):
        e = np.zeros(n * n, dtype=complex)
        e[k] = 1.0
        lmat[:, k] = lindblad_rhs(h, jumps, e.reshape(n, n, order="F")).ravel(order="F")
    return lmat


def random_system(n, n_jumps, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    h = a + a.conj().T
    jumps = [rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)) for _ in range(n_jumps)]
    return h, jumps


def driven_oscillator(cutoff, drive=1.0, detuning=0.7, kerr=0.4, kappa=1.0):
    a = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    num = a.T @ a
    h = -detuning * num + 0.5 * kerr * (a.T @ a.T @ a @ a) + drive * (a + a.T)
    return h, [np.sqrt(kappa) * a]


def test_superoperator_follows_column_stacking_convention():
    h, jumps = random_system(5, 2, seed=1)
    liou = Liouvillian(h, jumps)
    np.testing.assert_allclose(liou.matrix.toarray(), dense_liouvillian(h, jumps), atol=1e-12)


def test_block_rows_follow_the_order_of_the_elements():
    h, jumps = driven_oscillator(6)
    order = np.random.default_rng(3).permutation(36)
    liou = Liouvillian(h, jumps, order)
    full = dense_liouvillian(h, jumps)
    np.testing.assert_allclose(liou.matrix.toarray(), full[np.ix_(order, order)], atol=1e-12)


@pytest.mark.parametrize("method", ["dense", "direct", "krylov"])
def test_steady_state_is_the_normalised_null_vector(method):
    h, jumps = driven_oscillator(12)
    state = steady_state(Liouvillian(h, jumps), method=method)
    null = scipy.linalg.null_space(dense_liouvillian(h, jumps))[:, 0]
    rho = null.reshape(12, 12, order="F")
    rho /= np.trace(rho)
    assert state.status == "ok"
    assert state.residual < 1e-11
    np.testing.assert_allclose(state.rho, rho, atol=1e-10)
    np.testing.assert_allclose(lindblad_rhs(h, jumps, state.rho), 0.0, atol=1e-10)


@pytest.mark.parametrize("solver", ["direct", "krylov"])
def test_arnoldi_gap_matches_dense_eigenvalues(solver):
    h, jumps = driven_oscillator(20, drive=1.2)
    lam = np.linalg.eigvals(dense_liouvillian(h, jumps))
    lam = lam[np.argsort(-lam.real)][1:]  # drop the stationary 0
    gap = spectral_gap(Liouvillian(h, jumps), method="arnoldi",
                       solver=solver)
    assert gap.status == "ok"
    assert gap.gap == pytest.approx(-lam[0].real, rel=1e-8)
    assert gap.imag == pytest.approx(abs(lam[0].imag), abs=1e-8)


def test_arnoldi_started_from_a_neighbours_modes_gives_the_dense_gap():
    """Started from the sum of the slow modes at a neighbouring drive (what a declined warm
    start passes), the Arnoldi gap is still the dense one; a start of the wrong length is
    named."""
    h, jumps = driven_oscillator(20, drive=1.2)
    lam = np.linalg.eigvals(dense_liouvillian(h, jumps))
    lam = lam[np.argsort(-lam.real)][1:]
    neighbour = spectral_gap(Liouvillian(*driven_oscillator(20, drive=1.15)),
                             method="arnoldi", keep_vector=True)
    start = neighbour.modes.basis.sum(axis=1)
    gap = spectral_gap(Liouvillian(h, jumps), method="arnoldi", start=start)
    assert gap.status == "ok"
    assert gap.gap == pytest.approx(-lam[0].real, rel=1e-8)
    assert gap.imag == pytest.approx(abs(lam[0].imag), abs=1e-8)
    with pytest.raises(ValueError, match="start vector of shape"):
        spectral_gap(Liouvillian(h, jumps), method="arnoldi", start=start[1:])


@pytest.mark.parametrize("real_arithmetic", [False, True])
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_ordering_gives_the_dense_steady_state_and_gap(ordering, real_arithmetic):
    h, jumps = driven_oscillator(14, drive=1.2, detuning=2.0, kerr=1.0)
    full = dense_liouvillian(h, jumps)
    lam = np.linalg.eigvals(full)
    lam = lam[np.argsort(-lam.real)][1:]  # drop the stationary 0
    null = scipy.linalg.null_space(full)[:, 0].reshape(14, 14, order="F")
    liou = Liouvillian(h, jumps, ordering=ordering, real_arithmetic=real_arithmetic)
    state = steady_state(liou, method="direct")
    gap = spectral_gap(liou, method="arnoldi", steady=state)
    np.testing.assert_allclose(state.rho, null / np.trace(null), atol=1e-10)
    assert gap.gap == pytest.approx(-lam[0].real, rel=1e-8)
    assert gap.imag == pytest.approx(abs(lam[0].imag), abs=1e-8)


def test_nested_dissection_is_a_permutation_keeping_pairs_adjacent():
    h, jumps = driven_oscillator(9)
    liou = Liouvillian(h, jumps)
    n = liou.dim
    a, b = liou.elements % n, liou.elements // n
    partner = liou.position[b + n * a]  # ρ_ab with ρ_ba
    perm = nested_dissection(liou.matrix, partner)
    assert np.array_equal(np.sort(perm), np.arange(n * n))
    where = np.argsort(perm)
    pairs = partner != np.arange(n * n)
    assert np.all(np.abs(where[pairs] - where[partner[pairs]]) == 1)


@pytest.mark.parametrize("method", ["dense", "arnoldi"])
def test_modes_tied_in_real_part_report_the_oscillating_one(method):
    """Qubit, H = ω σᶻ/2, decay γ = 1 and dephasing √γ_φ σᶻ with γ_φ = 1/4: populations relax
    at γ = 1 and coherences at γ/2 + 2γ_φ = 1 while turning at ω, so −1 and −1 ± iω tie; as
    in the Markov solver the oscillating mode sets the frequency."""
    omega = 3.0
    sz = np.diag([1.0, -1.0])
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])  # basis (|e>, |g>): |g><e|, transposed below
    h, jumps = 0.5 * omega * sz, [lower.T, 0.5 * sz]
    lam = np.linalg.eigvals(dense_liouvillian(h, jumps))
    np.testing.assert_allclose(np.sort_complex(lam), [-1 - 3j, -1, -1 + 3j, 0], atol=1e-12)
    gap = spectral_gap(Liouvillian(h, jumps), method=method)
    assert gap.gap == pytest.approx(1.0, rel=1e-10)
    assert gap.imag == pytest.approx(omega, rel=1e-10)


def test_charge_blocks_carry_the_steady_state_and_the_spectrum():
    # two spins exchanging an excitation, pumped on site 1 and damped on site 2
    sm = np.array([[0.0, 0.0], [1.0, 0.0]])  # basis (|0>, |1>): sigma- = |0><1|
    sm = sm.T
    eye = np.eye(2)
    s1, s2 = np.kron(sm, eye), np.kron(eye, sm)
    h = s1.T @ s2 + s2.T @ s1 + 0.3 * s1.T @ s1
    jumps = [0.8 * s1.T, 0.5 * s1, 1.1 * s2]
    charge = [0, 1, 1, 2]  # excitations of |00>, |01>, |10>, |11>
    sectors = charge_sectors(charge)
    assert sorted(sectors) == [-2, -1, 0, 1, 2]
    assert sum(s.size for s in sectors.values()) == 16
    blocks = [Liouvillian(h, jumps, sectors[q], charge=charge) for q in sorted(sectors)]
    full = dense_liouvillian(h, jumps)
    lam = np.concatenate([np.linalg.eigvals(b.matrix.toarray()) for b in blocks])
    reference = np.linalg.eigvals(full)
    distance = np.abs(lam[:, None] - reference[None, :])
    assert lam.size == reference.size == 16
    assert distance.min(axis=0).max() < 1e-9 and distance.min(axis=1).max() < 1e-9
    rho_block = steady_state(blocks[2], method="krylov").rho
    np.testing.assert_allclose(rho_block, steady_state(Liouvillian(h, jumps)).rho, atol=1e-12)
    with pytest.raises(ValueError, match="outside the block"):
        Liouvillian(h, jumps + [s1 + s1.T], sectors[0])


def test_dissipator_flow_is_trace_of_observable_times_dissipator():
    h, jumps = random_system(4, 2, seed=3)
    rng = np.random.default_rng(4)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    obs = np.diag([0.0, 1.0, 2.0, 3.0])
    expected = np.trace(obs @ lindblad_rhs(np.zeros((4, 4)), jumps, rho)).real
    assert dissipator_flow(rho, sp.csr_matrix(obs), jumps) == pytest.approx(expected, rel=1e-12)


def test_entropy_production_conventions():
    # heat 0.3 flows from a bath at T = 2 into one at T = 1: σ = 0.3 (1/1 − 1/2)
    assert entropy_production([0.3, -0.3], [-0.5, -1.0]) == pytest.approx(0.15)
    assert entropy_production([-0.2], [-np.inf]) == np.inf  # zero-temperature bath heated
    assert entropy_production([1e-14], [-np.inf]) == 0.0  # no heat: equilibrium
    assert entropy_production([], []) == 0.0


def test_unknown_methods_list_the_valid_ones():
    h, jumps = driven_oscillator(4)
    liou = Liouvillian(h, jumps)
    with pytest.raises(ValueError, match="'dense', 'direct', 'krylov'"):
        steady_state(liou, method="lu")
    with pytest.raises(ValueError, match="'dense', 'arnoldi'"):
        spectral_gap(liou, method="lanczos")
    with pytest.raises(ValueError, match="'direct', 'krylov'"):
        spectral_gap(liou, solver="pardiso")
