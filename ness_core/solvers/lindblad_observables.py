"""Observables of a Lindblad steady state: bath flows, entropy production, jump counting.

Expectation values Tr(O ρ), the flow Tr(O D_b[ρ]) each bath delivers and Spohn's entropy
production σ = Σ_b A_b J_b; and the counting statistics of quantum jumps (mean and scaled
variance by the group inverse, θ(s) of the tilted generator). Conventions (ħ = k_B = 1):
:mod:`ness_core.solvers.lindblad`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike

from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_spectrum import ARNOLDI_MAXITER, _shift_invert
from ness_core.solvers.lindblad_steady_state import DENSE_MAX_ELEMENTS, SteadyState
from ness_core.solvers.markov_counting import CurrentCumulants


# ---------------------------------------------------------------------- counting statistics
def _jump_terms(counted: Sequence, weights: ArrayLike) -> tuple[list, np.ndarray]:
    ops = [sp.csr_matrix(j, dtype=complex) for j in counted]
    nu = np.asarray(weights, dtype=float)
    if nu.shape != (len(ops),):
        raise ValueError(f"{nu.size} weights given for {len(ops)} counted jumps")
    return ops, nu


def charge_transfer(jump: ArrayLike | sp.spmatrix, charge: ArrayLike) -> float:
    """The change Q_x − Q_a of a diagonal charge that ``jump`` makes on every |a⟩ → |x⟩.

    Counting weights ν of :func:`current_cumulants` from a conserved quantity, e.g.
    ν = −Δ(a†a) counts photons emitted into the bath. Raises ValueError if the change is
    not the same for all nonzero matrix elements.
    """
    coo = sp.coo_matrix(jump)
    q = np.asarray(charge, dtype=float)
    change = np.unique(q[coo.row[coo.data != 0]] - q[coo.col[coo.data != 0]])
    if change.size != 1:
        raise ValueError(f"the jump changes the charge by {change.tolist()}, not one amount")
    return float(change[0])


def current_cumulants(liouvillian: Liouvillian, steady: SteadyState, counted: Sequence,
                      weights: ArrayLike, solver: str = "direct") -> CurrentCumulants:
    """Mean and scaled variance of Q_t, the weighted number of counted quantum jumps.

    Each jump J_k (one of the Liouvillian's own jump operators) adds ν_k to Q_t (e.g. +1 for
    a photon emitted into the bath, −1 for one absorbed). The tilted generator
    L_s ρ = L ρ + Σ_k (e^{s ν_k} − 1) J_k ρ J_k† has the scaled cumulant generating function
    θ(s) as its eigenvalue of largest real part. Perturbation theory at s = 0 (left
    eigenvector the identity, right one ρ) gives, with 𝒥ρ = Σ_k ν_k J_k ρ J_k†,

        J = Tr 𝒥ρ,
        D = Σ_k ν_k² Tr(J_k ρ J_k†) − 2 Tr 𝒥 L^#(𝒥ρ − J ρ),

    where L^# is the group inverse: one solve of the bordered system with the factorisation
    :func:`~ness_core.solvers.lindblad_steady_state.steady_state` used, no finite differences.

    Parameters
    ----------
    liouvillian : Liouvillian
        The block holding the steady state; the counted jumps must map it to itself.
    steady : SteadyState
        Its steady state.
    counted : sequence of sparse matrices or ndarrays, each shape (n, n)
        The counted jump operators J_k (rates included, as in the Liouvillian).
    weights : array_like of float, shape (len(counted),)
        ν_k.
    solver : {"direct", "krylov"}, default "direct"
        Linear solver of the bordered system (see
        :func:`~ness_core.solvers.lindblad_steady_state.steady_state`).

    Returns
    -------
    CurrentCumulants

    References
    ----------
    C. Flindt, T. Novotný and A.-P. Jauho, Phys. Rev. B 70, 205334 (2004); G. T. Landi,
    M. J. Kewming, M. T. Mitchison and P. P. Potts, PRX Quantum 5, 020201 (2024).
    """
    if steady.status != "ok":
        return CurrentCumulants(np.nan, np.nan, f"no steady state: {steady.status}")
    if liouvillian.parity is not None:
        raise ValueError("counting needs the whole charge block, not a parity sector "
                         "(counted jumps need not respect the symmetry)")
    ops, nu = _jump_terms(counted, weights)
    rho = steady.rho
    emitted = [j @ rho @ j.conj().T for j in ops]  # J_k ρ J_k†, dense n × n
    mean = float(sum(w * np.trace(e).real for w, e in zip(nu, emitted, strict=True)))
    second = float(sum(w * w * np.trace(e).real for w, e in zip(nu, emitted, strict=True)))
    source = sum(w * e for w, e in zip(nu, emitted, strict=True)) - mean * rho
    b = np.asarray(source).ravel(order="F")[liouvillian.elements]
    real = liouvillian.real_coordinates(solver)
    try:
        x = _shift_invert(liouvillian, steady, solver)(liouvillian.to_real(b) if real else b)
    except (RuntimeError, np.linalg.LinAlgError) as exc:
        return CurrentCumulants(np.nan, np.nan, f"group-inverse solve failed: {exc}")
    response = liouvillian.to_matrix(liouvillian.coordinate_basis @ x if real else x)
    cross = sum(w * np.trace(j @ response @ j.conj().T).real for w, j in zip(nu, ops, strict=True))
    return CurrentCumulants(mean, second - 2.0 * float(cross), "ok")


def scgf(liouvillian: Liouvillian, counted: Sequence, weights: ArrayLike,
         s: ArrayLike) -> np.ndarray:
    """θ(s): eigenvalue of largest real part of the tilted generator L_s, on a grid of s.

    L_s is defined in :func:`current_cumulants`. Dense eigenvalues for blocks up to
    ``DENSE_MAX_ELEMENTS`` elements, ARPACK (largest real part) above. By the
    Gärtner–Ellis theorem its Legendre transform is the rate function of Q_t/t.

    Returns
    -------
    ndarray of float, shape of ``s``
    """
    ops, nu = _jump_terms(counted, weights)
    s = np.asarray(s, dtype=float)
    kernels = [liouvillian.superoperator([(j, j.conj().T)]) for j in ops]
    out = np.empty(s.shape)
    for index, value in np.ndenumerate(s):
        tilted = liouvillian.matrix + sum(np.expm1(value * w) * k
                                          for w, k in zip(nu, kernels, strict=True))
        if liouvillian.size <= DENSE_MAX_ELEMENTS:
            lam = scipy.linalg.eigvals(tilted.toarray())
        else:
            lam = spla.eigs(tilted, k=1, which="LR", return_eigenvectors=False,
                            maxiter=10 * ARNOLDI_MAXITER,
                            v0=np.random.default_rng(0).standard_normal(liouvillian.size))
        out[index] = lam.real.max()
    return out


# ---------------------------------------------------------------------- observables
def expectation(rho: np.ndarray, operator: ArrayLike | sp.spmatrix) -> complex:
    """Tr(O ρ) = Σ_ij O_ij ρ_ji for a dense or sparse operator O."""
    if sp.issparse(operator):
        return complex(operator.multiply(rho.T).sum())
    return complex(np.sum(np.asarray(operator) * rho.T))


def dissipator_flow(rho: np.ndarray, observable: ArrayLike | sp.spmatrix,
                    jumps: Sequence) -> float:
    """Flow of O delivered by one bath: Tr(O D[ρ]), D[ρ] = Σ_J (J ρ J† − ½{J†J, ρ}).

    Computed in the Heisenberg picture, Tr(ρ D†[O]) with
    D†[O] = Σ_J (J† O J − ½{J†J, O}). With O = H it is the heat current from the bath into
    the system; with O a number operator, the particle current.
    """
    o = sp.csr_matrix(observable, dtype=complex)
    adjoint = sp.csr_matrix(o.shape, dtype=complex)
    for j in jumps:
        j = sp.csr_matrix(j, dtype=complex)
        jd = j.conj().T
        k = jd @ j
        adjoint = adjoint + jd @ o @ j - 0.5 * (k @ o + o @ k)
    return expectation(rho, adjoint).real


def entropy_production(currents: ArrayLike, affinities: ArrayLike, atol: float = 1e-10) -> float:
    """Spohn entropy production σ = Σ_b A_b J_b (k_B = 1, units 1/time).

    Parameters
    ----------
    currents : array_like, shape (n_baths,)
        Flow J_b each bath delivers into the system (:func:`dissipator_flow`).
    affinities : array_like, shape (n_baths,)
        Entropy given to bath b per unit flow taken from it, the log-ratio of its local
        fixed point: A_b = −1/T_b for heat from a thermal bath (−inf at T_b = 0, see
        :func:`thermal_affinity`), A_b = λ_b for magnetisation from a reservoir with
        fixed point ∝ exp(λ_b σ^z).
    atol : float, default 1e-10
        Flows with |J_b| ≤ atol count as zero, so equilibrium gives σ = 0 exactly and a
        zero-temperature bath carrying no heat contributes 0 rather than NaN.

    Returns
    -------
    float
        σ ≥ 0 up to round-off; ``inf`` where a bath with infinite affinity carries flow.
    """
    j = np.asarray(currents, dtype=float)
    a = np.asarray(affinities, dtype=float)
    flowing = np.abs(j) > atol
    return float(np.sum(a[flowing] * j[flowing])) if np.any(flowing) else 0.0


def thermal_affinity(temperature: float) -> float:
    """A = −1/T of a thermal bath; −inf at T = 0."""
    return -1.0 / temperature if temperature > 0 else -np.inf


def bose_occupation(omega: float, temperature: float) -> float:
    """Bose–Einstein occupation n = 1/(exp(ω/T) − 1); 0 at T = 0."""
    if temperature <= 0:
        return 0.0
    return float(1.0 / np.expm1(omega / temperature))
