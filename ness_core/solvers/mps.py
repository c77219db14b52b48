"""Matrix-product steady states of nearest-neighbour Lindblad chains by time evolution.

The density matrix of L sites of local dimension d is a vector in the Pauli-type operator
basis P_μ (d² Hermitian operators per site, orthonormal: Tr(P_μ P_ν) = δ_μν; for d = 2,
P = (1, σˣ, σʸ, σᶻ)/√2). Its coefficients c_{μ_1…μ_L} = Tr(P_{μ_1}⊗…⊗P_{μ_L} ρ) are real
for Hermitian ρ, and so is every Hermiticity-preserving superoperator in this basis: the
whole evolution runs in real arithmetic. The vector is a matrix-product state
(:class:`OperatorChain`) kept in mixed canonical form (one orthogonality centre, the other
tensors isometries).

The Liouvillian is a sum of bond terms L = Σ_b L_b (b = (j, j+1), site dissipators folded
into a neighbouring bond). One step of length τ is the symmetric sweep

    S(τ) = e^{τ L_1/2} … e^{τ L_{L−2}/2} e^{τ L_{L−1}} e^{τ L_{L−2}/2} … e^{τ L_1/2},

second order, which moves the centre right and back so that every gate acts on the centre
and each truncation is optimal in the 2-norm; Suzuki's fourth-order composition
S₄(τ) = S(pτ)² S((1−4p)τ) S(pτ)², p = 1/(4 − 4^{1/3}), is the step used. The fixed point of
S₄(τ) differs from the true steady state by O(τ⁴): :func:`evolve_to_steady_state` converges
it at τ and at τ/2 and extrapolates every observable as (16 f(τ/2) − f(τ))/15 (Richardson).

Convergence of a stage: every ``check_interval`` the observables are compared with their
values one interval earlier; with the drift δ_k and its ratio q = δ_k/δ_{k−1} (the slowest
mode's decay over one interval), the distance still to go is δ_k q/(1 − q). A stage stops
when that and δ_k itself are below a tenth of the tolerance, or, stalled, when δ_k has not
reached a new minimum for ``STALL_CHECKS`` intervals while truncations drop more than
``STALL_TRUNCATION``.

References: G. Vidal, Phys. Rev. Lett. 93, 040502 (2004); M. Zwolak and G. Vidal, Phys.
Rev. Lett. 93, 207205 (2004) (mixed states); M. Žnidarič, J. Stat. Mech. (2010) L05002 and
Phys. Rev. Lett. 106, 220601 (2011) (boundary-driven XXZ by TEBD); M. Suzuki, Phys. Lett. A
146, 319 (1990).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

SUZUKI_P = 1.0 / (4.0 - 4.0 ** (1.0 / 3.0))
SUZUKI_STEPS = (SUZUKI_P, SUZUKI_P, 1.0 - 4.0 * SUZUKI_P, SUZUKI_P, SUZUKI_P)
STAGE_MARGIN = 0.1  # a stage stops when its remaining distance is this fraction of the tolerance
# A stage whose drift has not fallen below STALL_FACTOR × its smallest value for STALL_CHECKS
# checks has stalled: truncation noise (too small a bond dimension) keeps the observables
# moving (measured at L = 8, χ = 16: the current jitters by 1 % for ever).
STALL_FACTOR = 0.9
STALL_CHECKS = 25
# ... provided truncation drops more than this weight: an untruncated chain whose drift only
# oscillates (slow, weakly damped modes of the XX chain) is not stalled.
STALL_TRUNCATION = 1e-12
# The Aitken estimate is used only while successive drift ratios agree to this fraction.
RATIO_STABILITY = 0.1


def pauli_basis(dim: int = 2) -> np.ndarray:
    """Orthonormal Hermitian operator basis, shape (dim², dim, dim); element 0 ∝ identity.
    For dim = 2: (1, σˣ, σʸ, σᶻ)/√2."""
    basis = [np.eye(dim, dtype=complex) / math.sqrt(dim)]
    for a in range(dim):
        for b in range(a + 1, dim):
            sym = np.zeros((dim, dim), complex)
            sym[a, b] = sym[b, a] = 1 / math.sqrt(2)
            anti = np.zeros((dim, dim), complex)
            anti[a, b], anti[b, a] = -1j / math.sqrt(2), 1j / math.sqrt(2)
            basis += [sym, anti]
    for k in range(1, dim):  # generalised Gell-Mann diagonal elements
        diag = np.zeros(dim)
        diag[:k] = 1
        diag[k] = -k
        basis.append(np.diag(diag / math.sqrt(k * (k + 1))).astype(complex))
    return np.array(basis)


def bond_superoperator(hamiltonian: np.ndarray, jumps: Sequence[np.ndarray],
                       basis: np.ndarray) -> np.ndarray:
    """Real matrix M_{(μν),(μ'ν')} = Tr(P_μ⊗P_ν L(P_μ'⊗P_ν')) of the two-site generator
    L(ρ) = −i[h, ρ] + Σ_k (A_k ρ A_k† − ½{A_k† A_k, ρ}), h and A_k of shape (d², d²)."""
    pairs = pair_basis(basis)
    images = []
    for op in pairs:
        image = -1j * (hamiltonian @ op - op @ hamiltonian)
        for a in jumps:
            loss = a.conj().T @ a
            image += a @ op @ a.conj().T - 0.5 * (loss @ op + op @ loss)
        images.append(image)
    matrix = np.einsum("mij,nji->mn", pairs, np.array(images))
    return np.ascontiguousarray(matrix.real)


def pair_basis(basis: np.ndarray) -> np.ndarray:
    """The two-site basis P_μ⊗P_ν, shape (d⁴, d², d²), index μ d² + ν."""
    n, dim = len(basis), basis.shape[1]
    return np.einsum("aij,bkl->abikjl", basis, basis).reshape(n * n, dim * dim, dim * dim)


def operator_vector(op: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """v_μ = Tr(O P_μ), so that Tr(O ρ) = Σ_μ v_μ c_μ: for a one-site ``op`` (d × d) a
    vector, for a two-site one (d² × d²) the matrix v_{μν}."""
    if op.shape[0] == basis.shape[1]:
        return np.einsum("ij,mji->m", op, basis).real
    return np.einsum("ij,mji->m", op, pair_basis(basis)).real.reshape(len(basis), len(basis))


def split(theta: np.ndarray, to_right: bool, max_bond: int,
          cutoff: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Truncated SVD θ ≈ X Y of an (m × n) matrix (LAPACK gesdd), keeping ≤ ``max_bond``
    singular directions and dropping relative weight ≤ ``cutoff``: with ``to_right`` X has
    orthonormal columns (the left singular vectors) and Y = S Vᵀ; otherwise Y has
    orthonormal rows and X = U S. Returns X, Y with ‖X Y‖ = 1 and the relative weight
    dropped. An SVD, not the eigenvectors of the Gram matrix θθᵀ: those are accurate only
    to √ε of the largest singular value, and the noise they keep at every gate held the XX
    chain at L = 7 at a current uniformity of 5e-6 (docs/matrix-product.md)."""
    u, s, vt = sla.svd(theta, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    weight = s * s
    total = float(weight.sum())
    tail = np.cumsum(weight[::-1])[::-1]  # tail[k] = weight dropped keeping k directions
    keep = max(1, min(max_bond, int(np.count_nonzero(tail > cutoff * total))))
    dropped = float(tail[keep] / total) if keep < weight.size else 0.0
    norm = math.sqrt(max(float(weight[:keep].sum()), 1e-300))
    if to_right:
        return u[:, :keep], (s[:keep, None] * vt[:keep]) / norm, dropped
    return (u[:, :keep] * s[:keep]) / norm, vt[:keep], dropped


@dataclass
class OperatorChain:
    """Real MPS of a density matrix's Pauli coefficients: ``tensors[j]`` of shape
    (χ_left, d², χ_right), orthogonality centre ``centre``; ``discarded`` is the largest
    relative weight dropped by one truncation since the last reset."""

    tensors: list[np.ndarray]
    centre: int = 0
    discarded: float = 0.0

    @classmethod
    def product(cls, local: Sequence[np.ndarray]) -> OperatorChain:
        """The product state ⊗_j ρ_j from each site's coefficient vector."""
        return cls([np.asarray(v, float).reshape(1, -1, 1) / np.linalg.norm(v) for v in local])

    @property
    def bond_dimension(self) -> int:
        return max(t.shape[2] for t in self.tensors)

    def copy(self) -> OperatorChain:
        return OperatorChain([t.copy() for t in self.tensors], self.centre, self.discarded)

    def apply_gate(self, bond: int, gate: np.ndarray, to_right: bool, max_bond: int,
                   cutoff: float) -> None:
        """Apply ``gate`` (d⁴ × d⁴) on sites (bond, bond+1), the centre being one of them;
        split by SVD keeping ≤ ``max_bond`` values and dropping relative weight ≤
        ``cutoff``; the centre moves to bond+1 if ``to_right`` else to bond."""
        left, right = self.tensors[bond], self.tensors[bond + 1]
        chi_l, d, _ = left.shape
        chi_r = right.shape[2]
        theta = np.tensordot(left, right, axes=(2, 0)).reshape(chi_l, d * d, chi_r)
        theta = np.matmul(gate, theta).reshape(chi_l * d, d * chi_r)
        x, y, dropped = split(theta, to_right, max_bond, cutoff)
        self.discarded = max(self.discarded, dropped)
        self.tensors[bond] = x.reshape(chi_l, d, -1)
        self.tensors[bond + 1] = y.reshape(-1, d, chi_r)
        self.centre = bond + 1 if to_right else bond

    def move_centre(self, site: int) -> None:
        """Shift the orthogonality centre to ``site`` by QR decompositions."""
        while self.centre < site:
            j = self.centre
            a = self.tensors[j]
            q, r = np.linalg.qr(a.reshape(-1, a.shape[2]))
            self.tensors[j] = q.reshape(a.shape[0], a.shape[1], -1)
            self.tensors[j + 1] = np.tensordot(r, self.tensors[j + 1], axes=(1, 0))
            self.centre += 1
        while self.centre > site:
            j = self.centre
            a = self.tensors[j]
            q, r = np.linalg.qr(a.reshape(a.shape[0], -1).T)
            self.tensors[j] = q.T.reshape(-1, a.shape[1], a.shape[2])
            self.tensors[j - 1] = np.tensordot(self.tensors[j - 1], r.T, axes=(2, 0))
            self.centre -= 1

    def environments(self, trace: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Partial traces: ``left[j]`` contracts sites < j with ``trace``, ``right[j]`` sites
        > j (vectors over the bond index)."""
        left = [np.ones(1)]
        for t in self.tensors[:-1]:
            left.append(left[-1] @ np.tensordot(t, trace, axes=(1, 0)))
        right = [np.ones(1)]
        for t in self.tensors[:0:-1]:
            right.append(np.tensordot(t, trace, axes=(1, 0)) @ right[-1])
        return left, right[::-1]

    def expectations(self, trace: np.ndarray, site_ops: Sequence[np.ndarray],
                     bond_ops: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Tr(O ρ)/Tr ρ of one-site operators (coefficient vectors v_μ) on every site and of
        two-site operators (matrices v_{μν}) on every bond: arrays (ops, L) and (ops, L−1)."""
        left, right = self.environments(trace)
        norm = float(left[-1] @ np.tensordot(self.tensors[-1], trace, axes=(1, 0)) @ right[-1])
        sites = np.array([[float(left[j] @ np.tensordot(t, v, axes=(1, 0)) @ right[j])
                           for j, t in enumerate(self.tensors)] for v in site_ops])
        bonds = np.zeros((len(bond_ops), len(self.tensors) - 1))
        for j in range(len(self.tensors) - 1):
            pair = np.tensordot(self.tensors[j], self.tensors[j + 1], axes=(2, 0))
            pair = np.tensordot(left[j], pair, axes=(0, 0))
            pair = np.tensordot(pair, right[j + 1], axes=(2, 0))
            bonds[:, j] = [float(np.sum(pair * v)) for v in bond_ops]
        return sites / norm, bonds / norm


@dataclass
class Stage:
    """One fixed step length's evolution: the observables reached, the time spent, whether
    its remaining distance fell below the margin, or whether it stalled (truncation noise
    above the tolerance)."""

    values: np.ndarray
    time: float
    converged: bool
    steps: int
    stalled: bool = False


@dataclass
class SteadyState:
    """Result of :func:`evolve_to_steady_state`: Richardson-extrapolated observables, the
    error estimate per observable, the chain at τ/2 and the stages run."""

    values: np.ndarray
    error: np.ndarray
    chain: OperatorChain
    stages: list[Stage]

    @property
    def converged(self) -> bool:
        """Both step lengths reached their fixed points (a failed first stage ends the run)."""
        return len(self.stages) == 2 and self.stages[-1].converged

    @property
    def stalled(self) -> bool:
        return any(s.stalled for s in self.stages)

    @property
    def time(self) -> float:
        return sum(s.time for s in self.stages)

    @property
    def steps(self) -> int:
        return sum(s.steps for s in self.stages)

    @property
    def discarded(self) -> float:
        """Largest relative weight dropped by one truncation in the last stage."""
        return self.chain.discarded


def step_gates(bond_generators: Sequence[np.ndarray], tau: float) -> list[list[np.ndarray]]:
    """For each Suzuki substep: the gates e^{w L_b/2} of bonds 0 … L−3 and e^{w L_{L−2}}
    of the last bond (w = p_k τ), in that order."""
    out = []
    for weight in SUZUKI_STEPS:
        w = weight * tau
        gates = [sla.expm(0.5 * w * g) for g in bond_generators[:-1]]
        gates.append(sla.expm(w * bond_generators[-1]))
        out.append(gates)
    return out


def sweep_step(chain: OperatorChain, gates: list[list[np.ndarray]], max_bond: int,
               cutoff: float) -> None:
    """One fourth-order step: each substep's symmetric sweep, right then back left."""
    last = len(chain.tensors) - 2
    chain.move_centre(0)
    for substep in gates:
        for b in range(last):
            chain.apply_gate(b, substep[b], True, max_bond, cutoff)
        chain.apply_gate(last, substep[last], False, max_bond, cutoff)
        for b in range(last - 1, -1, -1):
            chain.apply_gate(b, substep[b], False, max_bond, cutoff)


def evolve_stage(chain: OperatorChain, gates: list[list[np.ndarray]], tau: float,
                 observe: Callable[[OperatorChain], np.ndarray],
                 scale: Callable[[np.ndarray], np.ndarray], tolerance: float,
                 check_interval: float, max_time: float, max_bond: int,
                 cutoff: float) -> Stage:
    """Evolve ``chain`` in place with step ``tau`` until the observables (relative to
    ``scale(values)``) are within ``STAGE_MARGIN`` × ``tolerance`` of their limit.

    Converged when the drift |Δ_k| between checks and |Δ_k| q/(1 − q), q = |Δ_k|/|Δ_{k−1}|,
    are below the margin (the values are returned), or when the slowest mode dominates (q
    steady to ``RATIO_STABILITY``) and two successive Aitken estimates f_k + Δ_k q/(1 − q)
    of the limit agree to the margin (the estimate is returned); oscillating slow modes (q
    jumping) leave only the first test."""
    steps_per_check = max(1, round(check_interval / tau))
    previous = observe(chain)
    estimate = None
    last_drift = best = last_ratio = math.inf
    elapsed, steps, since_best = 0.0, 0, 0
    margin = STAGE_MARGIN * tolerance
    while elapsed < max_time:
        for _ in range(steps_per_check):
            sweep_step(chain, gates, max_bond, cutoff)
        steps += steps_per_check
        elapsed += steps_per_check * tau
        values = observe(chain)
        change = values - previous
        drift = float(np.max(np.abs(change) / scale(values)))
        previous = values
        ratio = drift / last_drift if math.isfinite(last_drift) and last_drift > 0 else 1.0
        last_drift = drift
        if drift == 0.0 or (ratio < 1 and max(drift, drift * ratio / (1 - ratio)) < margin):
            return Stage(values, elapsed, True, steps)
        steady = abs(ratio - last_ratio) <= RATIO_STABILITY * ratio
        last_ratio = ratio
        if steady and 0 < ratio < 1:
            new = values + change * ratio / (1 - ratio)
            if estimate is not None and np.max(np.abs(new - estimate) / scale(new)) < margin:
                return Stage(new, elapsed, True, steps)
            estimate = new
        else:
            estimate = None
        best, since_best = (drift, 0) if drift < STALL_FACTOR * best else (best, since_best + 1)
        if since_best >= STALL_CHECKS and chain.discarded > STALL_TRUNCATION:
            return Stage(values, elapsed, False, steps, stalled=True)
    return Stage(previous, elapsed, False, steps)


def evolve_to_steady_state(chain: OperatorChain, bond_generators: Sequence[np.ndarray],
                           observe: Callable[[OperatorChain], np.ndarray],
                           scale: Callable[[np.ndarray], np.ndarray], tau: float,
                           tolerance: float, max_time: float, max_bond: int,
                           cutoff: float = 1e-14, check_interval: float = 2.0) -> SteadyState:
    """Converge the fixed points of the fourth-order step at ``tau`` and ``tau``/2 (the
    second started from the first) and Richardson-extrapolate ``observe``'s values.

    ``scale(values)`` (per observable, > 0) turns differences into relative ones; ``max_time`` is
    the budget of evolution time over both stages. The error estimate per observable is
    |f(τ/2) − f(τ)|/15 (the extrapolation's own size) plus each stage's tolerance share.
    """
    stages = []
    budget = max_time
    for step in (tau, tau / 2):
        chain.discarded = 0.0
        stage = evolve_stage(chain, step_gates(bond_generators, step), step, observe, scale,
                             tolerance, check_interval, budget, max_bond, cutoff)
        stages.append(stage)
        budget -= stage.time
        if not stage.converged:
            break
    if len(stages) == 2:
        coarse, fine = stages[0].values, stages[1].values
        values = (16 * fine - coarse) / 15
        error = np.abs(fine - coarse) / 15 + STAGE_MARGIN * tolerance * scale(values)
    else:
        values = stages[-1].values
        error = np.full_like(values, np.inf)
    return SteadyState(values, error, chain, stages)
