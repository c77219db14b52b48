"""Gaussian (quadratic) solver against brute-force Fock-space Lindblad solutions and exact NEGF.

The references are built here from explicit fermion operators (Jordan–Wigner) and a dense
Liouvillian on 2^n states, n ≤ 4, or from energy integrals of explicitly inverted Green's
functions; nothing is taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from ness_core.solvers.gaussian import (
    Lead,
    QuadraticGenerator,
    clausius_entropy_production,
    cut_current,
    fermion_entropy,
    fermion_generator,
    fermion_mutual_information,
    lead_steady_state,
)

TOL = 1e-10


def annihilators(n: int) -> list[np.ndarray]:
    """Jordan–Wigner c_j on n modes: Z ⊗ … ⊗ Z ⊗ σ⁻ ⊗ 1 ⊗ … (dense 2^n × 2^n)."""
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1|: removes a particle
    z = np.diag([1.0, -1.0])
    ops = []
    for j in range(n):
        factors = [z] * j + [lower] + [np.eye(2)] * (n - j - 1)
        op = factors[0]
        for f in factors[1:]:
            op = np.kron(op, f)
        ops.append(op)
    return ops


def liouvillian(hamiltonian: np.ndarray, jumps: list[np.ndarray]) -> np.ndarray:
    """Dense Lindblad generator acting on column-stacked vec(ρ)."""
    d = hamiltonian.shape[0]
    one = np.eye(d)
    lv = -1j * (np.kron(one, hamiltonian) - np.kron(hamiltonian.T, one))
    for op in jumps:
        ldl = op.conj().T @ op
        lv += np.kron(op.conj(), op) - 0.5 * np.kron(one, ldl) - 0.5 * np.kron(ldl.T, one)
    return lv


def fock_steady_state(lv: np.ndarray) -> tuple[np.ndarray, float]:
    """Null vector of the Liouvillian as a density matrix, and the Liouvillian gap."""
    values, vectors = np.linalg.eig(lv)
    order = np.argsort(-values.real)
    d = int(round(math.sqrt(lv.shape[0])))
    rho = vectors[:, order[0]].reshape(d, d, order="F")
    rho = rho / np.trace(rho)
    return (rho + rho.conj().T) / 2, float(-values[order[1]].real)


def dissipator(op: np.ndarray, rho: np.ndarray) -> np.ndarray:
    ldl = op.conj().T @ op
    return op @ rho @ op.conj().T - 0.5 * (ldl @ rho + rho @ ldl)


def random_hermitian(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return (a + a.conj().T) / 2


def test_fermion_lyapunov_matches_fock_lindblad() -> None:
    """Random H, non-local gain and loss operators on 3 modes: ρ1, gap and bath fluxes."""
    rng = np.random.default_rng(7)
    n = 3
    h = random_hermitian(rng, n)
    gain = rng.normal(size=(2, n)) + 1j * rng.normal(size=(2, n))
    loss = rng.normal(size=(2, n)) + 1j * rng.normal(size=(2, n))
    c = annihilators(n)
    ham = sum(h[i, j] * c[i].conj().T @ c[j] for i in range(n) for j in range(n))
    jumps = [sum(v[i] * c[i].conj().T for i in range(n)) for v in gain]
    jumps += [sum(u[i] * c[i] for i in range(n)) for u in loss]
    rho, gap = fock_steady_state(liouvillian(ham, jumps))
    rho1_fock = np.array([[np.trace(rho @ c[j].conj().T @ c[i]) for j in range(n)]
                          for i in range(n)])

    generator = fermion_generator(h, gain, loss)
    state = generator.steady_state()
    assert state.status == "ok"
    assert np.max(np.abs(state.correlation - rho1_fock)) < TOL
    assert state.gap == pytest.approx(gap, abs=TOL)

    # particle and energy flux of the first gain operator alone
    v = gain[:1]
    x_b = -(v.T @ v.conj()) / 2
    s_b = v.T @ v.conj()
    d_rho = dissipator(jumps[0], rho)
    number = sum(ci.conj().T @ ci for ci in c)
    for o, op in ((np.eye(n), number), (h, ham)):
        exact = np.trace(op @ d_rho).real
        assert generator.flux(o, x_b, s_b, state.correlation) == pytest.approx(exact, abs=TOL)


@pytest.mark.parametrize("method", ["secular", "dense"])
def test_local_leads_match_fock_chain(method: str) -> None:
    """Chain of 3 sites with local Lindblad leads: ρ1, gap, particle and energy currents."""
    n, t, eps, gamma = 3, 0.8, 0.3, 0.6
    leads = [Lead(0, gamma, 0.7, 0.9), Lead(n - 1, gamma, 0.2, -0.5)]
    n_left = 1 / (math.exp((eps - 0.9) / 0.7) + 1)
    n_right = 1 / (math.exp((eps + 0.5) / 0.2) + 1)
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    c = annihilators(n)
    ham = sum(h[i, j] * c[i].conj().T @ c[j] for i in range(n) for j in range(n))
    jumps = [math.sqrt(gamma * n_left) * c[0].conj().T, math.sqrt(gamma * (1 - n_left)) * c[0],
             math.sqrt(gamma * n_right) * c[-1].conj().T, math.sqrt(gamma * (1 - n_right)) * c[-1]]
    rho, gap = fock_steady_state(liouvillian(ham, jumps))
    rho1_fock = np.array([[np.trace(rho @ c[j].conj().T @ c[i]) for j in range(n)]
                          for i in range(n)])
    state = lead_steady_state(h, leads, "local", method=method)
    assert state.status == "ok"
    assert state.residual < 1e-12
    assert np.max(np.abs(state.correlation - rho1_fock)) < TOL
    assert state.gap == pytest.approx(gap, abs=TOL)

    # particle current on bond (1, 2) and energy delivered by the left lead
    bond = 1j * t * (c[1].conj().T @ c[0] - c[0].conj().T @ c[1])  # i[−t(c1†c2 + h.c.), n_2]
    left_energy = sum(np.trace(ham @ dissipator(op, rho)).real for op in jumps[:2])
    inside = np.arange(1, n)
    proj = np.diag([0.0, 1.0, 1.0])
    assert cut_current(h, state.correlation, inside, proj) == pytest.approx(
        np.trace(rho @ bond).real, abs=TOL)
    h_inside = proj @ h @ proj
    assert cut_current(h, state.correlation, inside, h_inside) == pytest.approx(
        left_energy, abs=TOL)


def test_wideband_leads_match_negf_energy_integral() -> None:
    """ρ1 = Σ_b Γ ∫ dE/2π f_b(E) G^R e_b e_b^T G^A with G^R inverted explicitly, interior sites."""
    n, t, eps, gamma = 4, 1.0, 0.2, 0.9
    leads = [Lead(0, gamma, 0.6, 0.4), Lead(n - 1, gamma, 0.15, -0.3)]
    h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    heff = h - 0.5j * gamma * np.diag([1.0, 0.0, 0.0, 1.0])
    state = lead_steady_state(h, leads, "fermi")
    assert state.status == "ok" and state.residual < 1e-12

    def fermi(e: float, lead: Lead) -> float:
        return 0.5 * (1 - math.tanh((e - lead.chemical_potential) / (2 * lead.temperature)))

    def element(e: float, i: int, j: int, part: str) -> float:
        g = np.linalg.inv(e * np.eye(n) - heff)
        value = sum(lead.coupling * fermi(e, lead) * g[i, lead.site] * np.conj(g[j, lead.site])
                    for lead in leads) / (2 * np.pi)
        return value.real if part == "re" else value.imag

    edges = sorted([-3000.0, eps - 2 * t, -0.3, 0.4, eps + 2 * t, 3000.0])  # tail ~ 1/E³
    for i, j in ((1, 1), (2, 2), (1, 2)):
        exact = sum(quad(element, a, b, args=(i, j, part), epsabs=1e-13, limit=200)[0] * unit
                    for part, unit in (("re", 1), ("im", 1j))
                    for a, b in zip(edges[:-1], edges[1:], strict=True))
        assert state.correlation[i, j] == pytest.approx(exact, abs=1e-9)


def test_secular_and_dense_diagonalisation_agree_for_random_hamiltonian() -> None:
    rng = np.random.default_rng(3)
    h = random_hermitian(rng, 12)
    leads = [Lead(2, 0.7, 0.4, 0.1), Lead(9, 1.3, 0.0, -0.2)]
    secular = lead_steady_state(h, leads, "fermi", method="secular")
    dense = lead_steady_state(h, leads, "fermi", method="dense")
    assert secular.status == "ok"
    assert np.max(np.abs(secular.correlation - dense.correlation)) < 1e-10
    assert secular.gap == pytest.approx(dense.gap, rel=1e-9)


def test_decoupled_mode_is_reported() -> None:
    h = np.diag([0.0, 1.0])  # site 1 is an isolated mode: no unique steady state
    with pytest.raises(np.linalg.LinAlgError, match="decoupled"):
        lead_steady_state(h, [Lead(0, 1.0, 1.0, 0.0)])


def test_ornstein_uhlenbeck_single_oscillator_is_equipartition() -> None:
    """Damped oscillator m = 2, k = 3, friction 0.5, T = 0.7: ⟨q²⟩ = T/k, ⟨p²⟩ = mT, gap."""
    m, k, lam, temp = 2.0, 3.0, 0.5, 0.7
    drift = np.array([[0.0, 1 / m], [-k, -lam / m]])
    state = QuadraticGenerator(drift, np.diag([0.0, 2 * lam * temp])).steady_state()
    assert np.allclose(state.correlation, np.diag([temp / k, m * temp]), atol=1e-13)
    assert state.gap == pytest.approx(lam / (2 * m), rel=1e-12)  # underdamped: Re λ = −λ/2m


def test_entropies_of_known_gaussian_states() -> None:
    nu = np.array([0.2, 0.5, 0.9])
    binary = -np.sum(nu * np.log(nu) + (1 - nu) * np.log(1 - nu))
    assert fermion_entropy(np.diag(nu)) == pytest.approx(binary, rel=1e-13)
    assert fermion_mutual_information(np.diag(nu), [0]) == pytest.approx(0.0, abs=1e-13)
    bell = np.full((2, 2), 0.5)  # one particle in (|10> + |01>)/√2: pure, halves maximally mixed
    assert fermion_entropy(bell) == pytest.approx(0.0, abs=1e-13)
    assert fermion_mutual_information(bell, [0]) == pytest.approx(2 * math.log(2), rel=1e-13)


def test_clausius_entropy_production_zero_temperature_baths() -> None:
    assert clausius_entropy_production([1.0, -1.0], [2.0, 1.0], 1e-12) == pytest.approx(0.5)
    assert clausius_entropy_production([1.0, -1.0], [2.0, 0.0], 1e-12) == math.inf
    assert clausius_entropy_production([-1.0, 1.0], [2.0, 0.0], 1e-12) == -math.inf
    assert clausius_entropy_production([0.0, 0.0], [0.0, 0.0], 1e-12) == 0.0
