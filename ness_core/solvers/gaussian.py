"""Quadratic open systems: Gaussian steady states from the two-point correlation matrix.

Free fermions and linear (harmonic) stochastic systems stay Gaussian, so their steady state is
fixed by one n × n matrix C and found in O(n³) without a Fock space. Units ħ = k_B = 1.

Conventions (binding for every model built on this module):

* the equation of motion of the correlation matrix is dC/dt = X C + C X^† + S, with the
  **drift** (damping) matrix X and the Hermitian positive semi-definite **source** S; the
  steady state solves the Lyapunov equation X C + C X^† = −S;
* fermions (Lindblad with H = Σ h_ij c_i^† c_j, gain L = Σ_i v_i c_i^†, loss L = Σ_i u_i c_i):
  C = ρ1 is the single-particle density matrix (ρ1)_ij = ⟨c_j^† c_i⟩, so that
  ⟨c^† O c⟩ = Tr(O ρ1); then X = −i h − (Λ⁺ + Λ⁻)/2 and S = Λ⁺ with Λ⁺ = Σ v v^†,
  Λ⁻ = Σ ū u^T (third quantisation, Prosen 2008; Landi et al. 2022, Sec. IV);
* classical Ornstein–Uhlenbeck processes dx = A x dt + noise with diffusion matrix D:
  C = ⟨x x^T⟩, X = A, S = D, and ⟨x^T O x⟩ = Tr(O C);
* the rapidities are the eigenvalues of X; the Liouvillian (Fokker–Planck) spectrum is made of
  their sums, so the spectral gap is min_k(−Re x_k) (:attr:`GaussianState.gap`). For fermions
  that slowest mode is a single-fermion, parity-odd one; physical (parity-even) observables
  relax at sums of two, slowest 2 min_k(−Re x_k), which models report as their ``gap``
  (docs/conventions.md); classical first moments ⟨x⟩ are physical, so there min_k(−Re x_k) itself;
* the open chain with leads: a lead b couples to site s_b with rate Γ_b, and
  H_eff = h − (i/2) Σ_b Γ_b e_{s_b} e_{s_b}^T is the non-Hermitian effective Hamiltonian,
  X = −i H_eff. Local Lindblad leads (gain Γ_b n_b, loss Γ_b (1 − n_b) on site s_b) and
  wide-band-limit leads with Fermi functions f_b(E) share this drift: the first have the
  constant source Σ_b Γ_b n_b e e^T, the second the exact NEGF correlation matrix
  ρ1 = Σ_b Γ_b ∫ dE/2π f_b(E) G^R(E) e_b e_b^T G^A(E), G^R = (E − H_eff)^{-1}
  (Jauho, Wingreen & Meir 1994), evaluated in closed form with the digamma function.

References: T. Prosen, New J. Phys. 10, 043026 (2008) (third quantisation); G. T. Landi,
D. Poletti & G. Schaller, Rev. Mod. Phys. 94, 045006 (2022) (boundary-driven quadratic
chains); A.-P. Jauho, N. S. Wingreen & Y. Meir, Phys. Rev. B 50, 5528 (1994) (wide-band
NEGF); I. Peschel, J. Phys. A 36, L205 (2003) (entropies from correlation matrices);
O. Aberth, Math. Comp. 27, 339 (1973) (simultaneous root iteration); R. H. Bartels &
G. W. Stewart, Commun. ACM 15, 820 (1972) (Lyapunov solver).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import expit, psi, xlogy

# Aberth iteration on the secular equation: relative step tolerance and iteration cap.
SECULAR_TOL = 1e-14
SECULAR_MAX_ITER = 300
# A mode of h whose coupling weight to every lead is below this (relative) is decoupled.
DARK_MODE_TOL = 1e-13
LEAD_METHODS = ("secular", "dense")
# Lead temperatures below this are treated as zero in the energy integrals (1/T overflows).
COLD = 1e-250


@dataclass(frozen=True)
class GaussianState:
    """Steady state of a quadratic generator.

    Attributes
    ----------
    correlation : ndarray, shape (n, n)
        The steady-state C (ρ1 for fermions, the covariance for classical processes).
    rapidities : ndarray, shape (n,)
        Eigenvalues of the drift X (1/time).
    residual : float
        Max-norm of the steady-state equation residual, relative to the source's max-norm.
    status : str
        ``"ok"`` or a short reason.
    note : str
        What an ``"ok"`` solve did differently (e.g. a fallback method); ``""`` if nothing.
    """

    correlation: np.ndarray
    rapidities: np.ndarray
    residual: float
    status: str
    note: str = ""

    @property
    def gap(self) -> float:
        """Spectral gap min_k(−Re x_k) of the Liouvillian / Fokker–Planck generator."""
        return float(np.min(-self.rapidities.real))


@dataclass(frozen=True)
class QuadraticGenerator:
    """dC/dt = X C + C X^† + S for a quadratic open system (see the module conventions).

    Parameters
    ----------
    drift : ndarray, shape (n, n)
        X; the steady state is unique iff every eigenvalue has Re < 0.
    source : ndarray, shape (n, n)
        S, Hermitian positive semi-definite.
    """

    drift: np.ndarray
    source: np.ndarray

    def steady_state(self) -> GaussianState:
        """Solve X C + C X^† = −S by Bartels–Stewart (Schur form, O(n³)).

        Returns
        -------
        GaussianState
            ``status`` names a drift eigenvalue with Re ≥ 0 (no unique steady state).
        """
        x = np.asarray(self.drift)
        s = np.asarray(self.source)
        c = scipy.linalg.solve_continuous_lyapunov(x, -s)
        c = (c + c.conj().T) / 2
        rapidities = scipy.linalg.eigvals(x)
        residual = np.max(np.abs(x @ c + c @ x.conj().T + s)) / max(np.max(np.abs(s)), 1e-300)
        status = "ok"
        if np.max(rapidities.real) >= -1e-12 * max(1.0, np.max(np.abs(rapidities))):
            status = "drift has an eigenvalue with Re >= 0: steady state not unique"
        return GaussianState(c, rapidities, float(residual), status)

    def flux(self, observable: ArrayLike, drift_part: ArrayLike, source_part: ArrayLike,
             correlation: ArrayLike) -> float:
        """Rate of change of ⟨O⟩ = Tr(O C) caused by one bath term of the generator.

        Parameters
        ----------
        observable : array_like, shape (n, n)
            O (e.g. h for the energy of a fermion chain, K/2 for a classical energy ½ x^T K x).
        drift_part, source_part : array_like, shape (n, n)
            The bath's share X_b, S_b of the drift and source.
        correlation : array_like, shape (n, n)
            The state C.

        Returns
        -------
        float
            Re Tr(O (X_b C + C X_b^† + S_b)): the flow of O from that bath into the system.
        """
        o, xb, sb, c = (np.asarray(a) for a in (observable, drift_part, source_part, correlation))
        return float(np.real(np.trace(o @ (xb @ c + c @ xb.conj().T + sb))))


def fermion_generator(h: ArrayLike, gain: ArrayLike, loss: ArrayLike) -> QuadraticGenerator:
    """Correlation-matrix generator of a quadratic fermionic Lindblad equation.

    Parameters
    ----------
    h : array_like, shape (n, n)
        Single-particle Hamiltonian, H = Σ h_ij c_i^† c_j (Hermitian).
    gain : array_like, shape (k, n)
        Row μ holds v_μ of the jump operator L_μ = Σ_i v_μi c_i^† (k = 0 allowed).
    loss : array_like, shape (k', n)
        Row μ holds u_μ of the jump operator L_μ = Σ_i u_μi c_i.

    Returns
    -------
    QuadraticGenerator
        X = −i h − (Λ⁺ + Λ⁻)/2, S = Λ⁺, Λ⁺ = Σ v v^†, Λ⁻ = Σ ū u^T; C = ρ1, (ρ1)_ij = ⟨c_j^† c_i⟩.
    """
    hm = np.asarray(h, dtype=complex)
    n = hm.shape[0]
    v = np.asarray(gain, dtype=complex).reshape(-1, n)
    u = np.asarray(loss, dtype=complex).reshape(-1, n)
    lam_gain = v.T @ v.conj()
    lam_loss = u.T.conj() @ u
    return QuadraticGenerator(-1j * hm - (lam_gain + lam_loss) / 2, lam_gain)


@dataclass(frozen=True)
class Lead:
    """A fermionic lead attached to one site of a chain.

    Attributes
    ----------
    site : int
        Index of the site it couples to.
    coupling : float
        Γ_b > 0: tunnelling rate (level broadening Γ_b, amplitude damping Γ_b/2).
    temperature : float
        T_b ≥ 0 (T_b = 0: a step Fermi function).
    chemical_potential : float
        μ_b.
    """

    site: int
    coupling: float
    temperature: float
    chemical_potential: float

    def fermi(self, energy: ArrayLike) -> np.ndarray:
        """f_b(E) = 1/(exp((E − μ_b)/T_b) + 1); below T_b = ``COLD`` a step, f_b(μ_b) = 1/2.

        Evaluated as the logistic function (``scipy.special.expit``), accurate to relative
        round-off also deep in the Boltzmann tail (1 − tanh would stop at ~1e-16).
        """
        x = np.asarray(energy, dtype=float) - self.chemical_potential
        if self.temperature < COLD:
            return np.where(x < 0, 1.0, np.where(x > 0, 0.0, 0.5))
        return expit(-x / self.temperature)

    def fermi_cauchy(self, z: np.ndarray) -> np.ndarray:
        """F_b(z) = ∫ dE f_b(E)/(E − z) up to a z-independent cutoff term, for Im z < 0.

        F_b(z) = ψ(1/2 + i(z − μ_b)/(2π T_b)) − ln(i/(2π T_b)) (digamma ψ; Matsubara sum),
        and F_b(z) = ln(z − μ_b) at T_b = 0 (used below T_b = ``COLD``, where 1/T_b would
        overflow); differences of F_b are exact integrals.
        """
        if self.temperature < COLD:
            return np.log(z - self.chemical_potential)
        beta = 1.0 / self.temperature
        arg = 0.5 + 1j * beta * (z - self.chemical_potential) / (2 * np.pi)
        return psi(arg) - (math.log(beta / (2 * np.pi)) + 0.5j * np.pi)


def lead_steady_state(h: ArrayLike, leads: Sequence[Lead], occupations: str = "fermi",
                      eigenbasis: tuple[np.ndarray, np.ndarray] | None = None,
                      method: str = "secular") -> GaussianState:
    """NESS single-particle density matrix ρ1 of a fermion chain between leads.

    Parameters
    ----------
    h : array_like, shape (n, n)
        Single-particle Hamiltonian of the chain (Hermitian; sparse structure is exploited for
        the residual).
    leads : sequence of Lead
        Leads on distinct sites.
    occupations : {"fermi", "local"}, default "fermi"
        ``"fermi"``: wide-band-limit leads with Fermi functions f_b(E), the exact NEGF result
        ρ1 = Σ_b Γ_b V [(w_b w_b^†) ∘ I_b] V^†, with H_eff = V diag(z) V^{-1}, w_b = V^{-1} e_b
        and I_b(k, l) = ∫ dE/2π f_b(E)/((E − z_k)(E − z̄_l))
        = (F_b(z_k) − conj F_b(z_l)) / (2π (z_k − z̄_l)) (see :meth:`Lead.fermi_cauchy`).
        ``"local"``: Lindblad leads with gain Γ_b n_b c^†, loss Γ_b (1 − n_b) c on site s_b,
        n_b = f_b(h_{s_b s_b}) (the lead's occupation at the site energy): the same formula with
        I_b(k, l) = n_b · i/(z̄_l − z_k), i.e. the Lyapunov equation with S = Σ Γ_b n_b e e^T.
    eigenbasis : (energies, vectors), optional
        Eigen-decomposition h = U diag(e) U^† if known (e.g. analytically); else ``eigh``.
    method : {"secular", "dense"}, default "secular"
        How H_eff is diagonalised: ``"secular"`` finds its eigenvalues as the roots of the
        r × r secular determinant det(1 + (i/2) B^†(z − e)^{-1} B), B = √Γ U^† e_s, by Aberth
        iteration (O(n²) per sweep) and builds the eigenvectors in closed form; it falls back
        to ``"dense"`` (LAPACK ``geev``, O(n³)) when the iteration does not converge.

    Returns
    -------
    GaussianState
        ``correlation`` = ρ1 (site basis); ``rapidities`` = −i z_k, the eigenvalues of
        X = −i H_eff; ``residual``: for ``"local"`` the relative Lyapunov residual, for
        ``"fermi"`` max |[h, ρ1]_ij| over sites i, j without a lead (which vanishes exactly in
        the NESS of chain + leads) relative to max|h|.

    Raises
    ------
    ValueError
        Unknown ``occupations`` or ``method``.
    numpy.linalg.LinAlgError
        A mode of h decoupled from every lead (the steady state is not unique).
    """
    if occupations not in ("fermi", "local"):
        raise ValueError(f"unknown occupations '{occupations}'; valid: 'fermi', 'local'")
    if method not in LEAD_METHODS:
        raise ValueError(f"unknown method '{method}'; valid: {', '.join(LEAD_METHODS)}")
    hm = np.asarray(h)
    if eigenbasis is None:
        energies, basis = np.linalg.eigh(hm)
    else:
        energies, basis = eigenbasis
    sites = [lead.site for lead in leads]
    gammas = np.array([lead.coupling for lead in leads], dtype=float)
    couplings = basis[sites, :].conj().T * np.sqrt(gammas)  # B, shape (n, r)
    weight = np.sum(np.abs(couplings) ** 2, axis=1)
    if np.any(weight < DARK_MODE_TOL * np.max(weight)):
        raise np.linalg.LinAlgError("a mode of the chain is decoupled from every lead")
    note = ""
    modes = _secular_modes(energies, couplings) if method == "secular" else None
    if modes is None:
        if method == "secular":  # a fallback, not a failure: the dense modes are exact
            note = "secular iteration did not converge; dense eigensolver used"
        modes = _dense_modes(energies, couplings)
    z, right, proj = modes  # eigenvalues, eigenvectors (mode basis), V^{-1} B
    weights = np.zeros((z.size, z.size), dtype=complex)
    denom = z[:, None] - z.conj()[None, :]
    for b, lead in enumerate(leads):
        outer = np.outer(proj[:, b], proj[:, b].conj())
        if occupations == "fermi":
            fz = lead.fermi_cauchy(z)
            weights += outer * (fz[:, None] - fz.conj()[None, :]) / (2 * np.pi * denom)
        else:
            n_b = float(lead.fermi(np.real(hm[lead.site, lead.site])))
            weights += outer * (-1j * n_b / denom)
    if np.isrealobj(basis):  # two real products cost half of one complex product
        vectors = basis @ right.real + 1j * (basis @ right.imag)
    else:
        vectors = basis @ right
    rho = vectors @ weights @ vectors.conj().T
    rho = (rho + rho.conj().T) / 2
    residual = _lead_residual(hm, rho, leads, occupations)
    return GaussianState(rho, -1j * z, residual, "ok", note)


def _secular_modes(energies: np.ndarray, couplings: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Eigen-decomposition of D − (i/2) B B^† by Aberth iteration; None if not converged."""
    n, r = couplings.shape
    gram = (couplings.conj()[:, :, None] * couplings[:, None, :]).reshape(n, r * r)
    scale = np.max(np.abs(energies)) + np.sum(np.abs(couplings) ** 2) + 1e-300
    # first-order perturbation theory, nudged apart so that no two starting points coincide
    phase = np.exp(2j * np.pi * ((np.arange(n) * 0.6180339887498949) % 1.0))
    z = energies - 0.5j * np.sum(np.abs(couplings) ** 2, axis=1) + 1e-7 * scale * phase
    active = np.arange(n)
    for _ in range(SECULAR_MAX_ITER):
        za = z[active]
        res = 1.0 / (za[:, None] - energies[None, :])
        m = np.eye(r) + 0.5j * (res @ gram).reshape(-1, r, r)
        dm = -0.5j * ((res * res) @ gram).reshape(-1, r, r)
        det = np.linalg.det(m)
        diff = za[:, None] - z[None, :]
        diff[np.arange(active.size), active] = np.inf
        # Aberth step 1/(p'/p − Σ_i 1/(z − z_i)), p = det M · Π(z − e), written with
        # Jacobi's formula (det M)' = Σ_a det(M with row a from M') so that det M = 0 is safe
        jacobi = sum(np.linalg.det(np.where(np.arange(r)[None, :, None] == a, dm, m))
                     for a in range(r))
        step = det / (jacobi + det * (res.sum(axis=1) - np.sum(1.0 / diff, axis=1)))
        z[active] = za - step
        keep = np.abs(step) > SECULAR_TOL * scale
        if not np.all(np.isfinite(step)):
            return None
        active = active[keep]
        if active.size == 0:
            break
    else:
        return None
    res = 1.0 / (z[:, None] - energies[None, :])
    m = np.eye(r) + 0.5j * (res @ gram).reshape(n, r, r)
    left_sv, _, right_sv = np.linalg.svd(m)
    c = right_sv[:, -1, :].conj()  # M c = 0
    d = left_sv[:, :, -1]  # M^† d = 0
    right = (res * (c @ couplings.T)).T  # v_j = (z_j − e)^{-1} B c_j
    left = (res.conj() * (d @ couplings.T)).T  # y_j = (z̄_j − e)^{-1} B d_j
    right /= np.linalg.norm(right, axis=0)
    norm = np.sum(left.conj() * right, axis=0)
    proj = (left.conj().T @ couplings) / norm[:, None]
    if len(np.unique(np.round(z / (1e-9 * scale)))) < n:
        return None  # two roots converged to the same point: not a complete eigenbasis
    return z, right, proj


def _dense_modes(energies: np.ndarray, couplings: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition of D − (i/2) B B^† by LAPACK geev (O(n³))."""
    heff = np.diag(energies.astype(complex)) - 0.5j * couplings @ couplings.conj().T
    z, right = scipy.linalg.eig(heff)
    proj = np.linalg.solve(right, couplings)
    return z, right, proj


def _lead_residual(h: np.ndarray, rho: np.ndarray, leads: Sequence[Lead],
                   occupations: str) -> float:
    """Residual of the steady-state equation (see :func:`lead_steady_state`), O(nnz(h) n)."""
    hs = sp.csr_array(h)
    comm = hs @ rho - (hs.T.conj() @ rho.conj().T).conj().T
    sites = [lead.site for lead in leads]
    scale = max(float(np.max(np.abs(h))), 1e-300)
    if occupations == "fermi":
        interior = np.setdiff1d(np.arange(h.shape[0]), sites)
        return float(np.max(np.abs(comm[np.ix_(interior, interior)]), initial=0.0)) / scale
    # local: X ρ + ρ X^† + S with X = −i h − Γ/2 on the lead sites, S = Σ Γ n e e^T
    lyap = -1j * comm
    source_max = 0.0
    for lead in leads:
        s = lead.site
        n_b = float(lead.fermi(np.real(h[s, s])))
        lyap[s, :] -= lead.coupling / 2 * rho[s, :]
        lyap[:, s] -= lead.coupling / 2 * rho[:, s]
        lyap[s, s] += lead.coupling * n_b
        source_max = max(source_max, lead.coupling * n_b)
    return float(np.max(np.abs(lyap))) / max(source_max, scale * 1e-16, 1e-300)


def cut_current(h: ArrayLike, rho1: ArrayLike, inside: ArrayLike, observable: ArrayLike) -> float:
    """Flow of a one-body observable across a cut, from the correlation matrix.

    The rate of change of ⟨c^† O c⟩ (O supported on the sites ``inside``) caused by the hopping
    terms V of h that connect ``inside`` with the other sites: i Tr([V, O] ρ1). In a NESS with
    baths acting only away from the cut this is the current of O into the ``inside`` region
    (e.g. O = 1_inside: particles; O = h restricted to ``inside``: energy).

    Parameters
    ----------
    h : array_like or sparse array, shape (n, n)
        Single-particle Hamiltonian.
    rho1 : array_like, shape (n, n)
        (ρ1)_ij = ⟨c_j^† c_i⟩.
    inside : array_like of int
        Sites of the receiving region.
    observable : array_like or sparse array, shape (n, n)
        O, zero outside ``inside`` × ``inside``.

    Returns
    -------
    float
        The current into the region (1/time times the unit of O).
    """
    hs = sp.csr_array(h)
    n = hs.shape[0]
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(inside)] = True
    proj_in = sp.diags_array(mask.astype(float))
    proj_out = sp.diags_array((~mask).astype(float))
    cross = proj_in @ hs @ proj_out + proj_out @ hs @ proj_in
    o = sp.csr_array(observable)
    comm = (cross @ o - o @ cross).tocoo()
    rho = np.asarray(rho1)
    return float(np.real(1j * np.sum(comm.data * rho[comm.col, comm.row])))


def fermion_entropy(rho1: ArrayLike) -> float:
    """Von Neumann entropy of a fermionic Gaussian state (nats).

    S = −Σ_k [ν_k ln ν_k + (1 − ν_k) ln(1 − ν_k)], ν_k the eigenvalues of the block's ρ1
    (Peschel 2003).
    """
    nu = np.clip(np.linalg.eigvalsh(np.asarray(rho1)), 0.0, 1.0)
    return float(-np.sum(xlogy(nu, nu) + xlogy(1 - nu, 1 - nu)))


def fermion_mutual_information(rho1: ArrayLike, part: ArrayLike) -> float:
    """Mutual information I(A:B) = S_A + S_B − S_AB of sites ``part`` (A) and the rest (B)."""
    rho = np.asarray(rho1)
    a = np.asarray(part)
    b = np.setdiff1d(np.arange(rho.shape[0]), a)
    return (fermion_entropy(rho[np.ix_(a, a)]) + fermion_entropy(rho[np.ix_(b, b)])
            - fermion_entropy(rho))


def running_wave_occupations(rho1: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Occupations of right- and left-moving waves on an open chain of n sites.

    The standing modes of the uniform open chain are sin(k_m j), k_m = πm/(n + 1),
    m = 1..n, j = 1..n; each is a superposition of the running waves e^{+ik_m j} (group
    velocity 2t sin k_m > 0 for H = −t Σ c_j^† c_{j+1} + h.c.: a right mover) and
    e^{−ik_m j} (a left mover). Their occupations are those of the normalised wave packets

        ψ_m^±(j) = √(2/(n + 1)) sin(πj/(n + 1)) e^{±ik_m j},
        n_m^± = ⟨a_±^† a_±⟩ = ψ_m^{±†} ρ1 ψ_m^±,   a_± = Σ_j ψ̄_m^±(j) c_j.

    The envelope sin(πj/(n + 1)) (the lowest standing mode) vanishes where the hard walls
    j = 0, n + 1 are, so the packets resolve momentum to σ_k² = 2(1 − cos(π/(n + 1))) ≈
    (π/(n + 1))² with spectral tails falling as |k − k'|^(-4) (a flat envelope gives tails
    |k − k'|^(-2), i.e. O(1/n) leakage): a smooth occupation n(k) is returned as
    n(k_m) + (σ_k²/2) n''(k_m) + O(n^(-3)). Each packet is a normalised single-particle mode,
    so 0 ≤ n_m^± ≤ 1 exactly; for a real ρ1 (time-reversal invariant state) n_m^+ = n_m^−.

    Parameters
    ----------
    rho1 : array_like, shape (n, n)
        (ρ1)_ij = ⟨c_j^† c_i⟩ in the site basis.

    Returns
    -------
    wavenumbers, right, left : ndarray, shape (n,)
        k_m, n_m^+ and n_m^−. Cost O(n²): n_m^± = s_0 + 2 Re Σ_{d≥1} s_d e^{±ik_m d} with the
        envelope-weighted diagonals s_d = Σ_l w_l w_{l+d} (ρ1)_{l,l+d}, summed by one FFT.
    """
    rho = np.asarray(rho1)
    n = rho.shape[0]
    j = np.arange(1, n + 1)
    envelope = math.sqrt(2 / (n + 1)) * np.sin(np.pi * j / (n + 1))
    diagonals = np.array([np.dot(envelope[: n - d] * envelope[d:], np.diagonal(rho, d))
                          for d in range(n)], dtype=complex)
    size = 2 * (n + 1)  # e^{ik_m d} = e^{2πi m d/size}
    forward = size * np.fft.ifft(diagonals, size)[1: n + 1]  # Σ_d s_d e^{+ik_m d}
    backward = np.fft.fft(diagonals, size)[1: n + 1]  # Σ_d s_d e^{−ik_m d}
    s0 = diagonals[0].real
    return np.pi * j / (n + 1), 2 * forward.real - s0, 2 * backward.real - s0


def clausius_entropy_production(heat_in: Sequence[float], temperatures: Sequence[float],
                                tol: float) -> float:
    """σ = −Σ_b J_b/T_b (k_B = 1) for heat currents J_b flowing from bath b into the system.

    A bath at T_b = 0 contributes +inf when it absorbs heat (J_b < −tol), 0 when |J_b| ≤ tol,
    and −inf when it gives heat away (a violation of the second law, reported as such).
    """
    total = 0.0
    for heat, temp in zip(heat_in, temperatures, strict=True):
        if temp > 0:
            total -= heat / temp
        elif abs(heat) > tol:
            total += math.inf if heat < 0 else -math.inf
    return total
