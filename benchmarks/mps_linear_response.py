"""A candidate for issue 21's large chains, measured and not adopted: the XXZ chain's linear
response by a variational two-site sweep instead of time evolution.

Run by hand::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_linear_response.py \
        --length 8 --anisotropy 1.5 --max-bond 16 [--sweeps 10] [--least-squares]

Method. The ``xxz`` Liouvillian is linear in the drive, L(μ) = L₀ + μ L₁ (the bath rates
Γ(1 ± μ)/2 enter linearly), and its undriven steady state is ρ₀ = 1/2^L, the product
e₀^{⊗L} with e₀ = (1, 0, 0, 0) in the Pauli basis of :mod:`ness_core.solvers.mps`. So
ρ(μ) = ρ₀ + μ ρ₁ + O(μ²) with

    L₀ ρ₁ = −L₁ ρ₀ =: −s,     Tr ρ₁ = 0,

s a sum of two boundary terms, and J = μ ∂J/∂μ + O(μ³) with ∂J/∂μ = Tr(J ρ₁)/Tr ρ₀. With t =
e₀^{⊗L} (the trace, and L₀'s kernel), (L₀ + t tᵀ) ρ₁ = −s is non-singular. ρ₁ is sought as
an MPS of bond dimension ≤ χ, two sites at a time (the "DMRG" sweep of linear systems): with
the other tensors isometries P, the two-site tensor θ solves either

- Galerkin (default): Pᵀ(L₀ + t tᵀ)P θ = −Pᵀs, by GMRES from the current θ; or
- least squares (``--least-squares``): Pᵀ(L₀ᵀL₀ + t tᵀ)P θ = −Pᵀ L₀ᵀ s, by conjugate
  gradients (each solve lowers ‖L₀x + s‖² + (t·x)²),

then is split by a truncated SVD (:func:`ness_core.solvers.mps.split`), the isometric factor
padded with random orthonormal directions up to χ (a basis grown only from the solutions
stays in the span of the start). L₀ is an MPO built from the bond generators
(``ness_core.models.xxz.mps_generators``) by the usual automaton (bond dimension r + 2, r the
largest operator-Schmidt rank of a bond term). Start: the first order of the product state with
the linear profile, Σ_j (1 − 2j/(L − 1)) σᶻ_j (bond dimension 2).

Printed: sweeps, wall seconds, ∂J/∂μ, the bond currents' spread, the largest dropped weight,
and, for L ≤ 10, the error against the exact solver's J/μ at μ = 1e-4 (which differs from
∂J/∂μ by O(μ²), about 5e-9 relative at L = 6). Measured rows and the verdict are in
benchmarks/README.md and docs/matrix-product.md: exact when χ holds ρ₁ whole, unusable under
truncation.

References: S. Holtz, T. Rohwedder, R. Schneider, SIAM J. Sci. Comput. 34, A683 (2012)
(alternating linear schemes for tensor trains); J. Cui, J. I. Cirac, M. C. Bañuls, Phys. Rev.
Lett. 114, 220601 (2015) (variational steady states via L†L); M. Žnidarič, Phys. Rev. Lett.
106, 220601 (2011) (linear response of the boundary-driven XXZ chain).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

import ness_core
from ness_core.models import xxz
from ness_core.solvers import mps
from ness_core.solvers.mps import OperatorChain, split

RANK_CUTOFF = 1e-13  # operator-Schmidt values of a bond term below this (relative) are zero
CG_TOLERANCE = 1e-10  # relative residual of each two-site solve
CG_MAX_ITERATIONS = 400
REFERENCE_DRIVE = 1e-4  # the exact solver's J/μ here differs from ∂J/∂μ by O(μ²)


def bond_mpo(bond_generators: Sequence[np.ndarray], dim: int = 4) -> list[np.ndarray]:
    """The MPO of Σ_b L_b (L_b on sites b, b+1, each a (dim² × dim²) matrix, row = output):
    tensors W_j[p, out, in, p'] with the automaton states 0 (no term yet), 1 … r_j (bond j's
    term begun with its k-th operator-Schmidt factor) and r_j + 1 (term complete)."""
    length = len(bond_generators) + 1
    factors = []
    for g in bond_generators:
        m = g.reshape(dim, dim, dim, dim).transpose(0, 2, 1, 3).reshape(dim * dim, dim * dim)
        u, s, vt = np.linalg.svd(m)
        rank = max(1, int(np.count_nonzero(s > RANK_CUTOFF * s[0])))
        left = (u[:, :rank] * s[:rank]).T.reshape(rank, dim, dim)
        right = vt[:rank].reshape(rank, dim, dim)
        factors.append((left, right))
    ranks = [f[0].shape[0] for f in factors]
    eye = np.eye(dim)
    tensors = []
    for j in range(length):
        w_left = 1 if j == 0 else ranks[j - 1] + 2
        w_right = 1 if j == length - 1 else ranks[j] + 2
        w = np.zeros((w_left, dim, dim, w_right))
        done_left, done_right = w_left - 1, w_right - 1
        if j < length - 1:
            w[0, :, :, 0] = eye
            w[0, :, :, 1:1 + ranks[j]] = factors[j][0].transpose(1, 2, 0)
        if j > 0:
            w[1:1 + ranks[j - 1], :, :, done_right] = factors[j - 1][1]
            w[done_left, :, :, done_right] = eye
        tensors.append(w)
    return tensors


def local_sum_state(terms: Sequence[tuple[int, np.ndarray]], length: int,
                    background: np.ndarray) -> list[np.ndarray]:
    """MPS tensors (χ, d², χ') of Σ_k v_k ⊗ background elsewhere, each ``(bond, v)`` a
    two-site vector v (d⁴) on sites bond, bond+1: the direct sum of the terms' product forms
    (each two-site vector split by its SVD)."""
    dim = background.size
    pieces = []
    for bond, v in terms:
        u, s, vt = np.linalg.svd(v.reshape(dim, dim))
        rank = max(1, int(np.count_nonzero(s > RANK_CUTOFF * max(s[0], 1e-300))))
        term = [background.reshape(1, dim, 1)] * length
        term = list(term)
        term[bond] = (u[:, :rank] * s[:rank]).reshape(1, dim, rank)
        term[bond + 1] = vt[:rank].reshape(rank, dim, 1)
        pieces.append(term)
    tensors = []
    for j in range(length):
        blocks = [p[j] for p in pieces]
        rows = 1 if j == 0 else sum(b.shape[0] for b in blocks)
        cols = 1 if j == length - 1 else sum(b.shape[2] for b in blocks)
        out = np.zeros((rows, dim, cols))
        r = c = 0
        for b in blocks:
            rr = slice(0, 1) if j == 0 else slice(r, r + b.shape[0])
            cc = slice(0, 1) if j == length - 1 else slice(c, c + b.shape[2])
            out[rr, :, cc] += b
            r, c = r + b.shape[0], c + b.shape[2]
        tensors.append(out)
    return tensors


def site_sum_state(vectors: Sequence[np.ndarray], background: np.ndarray) -> OperatorChain:
    """The bond-dimension-2 chain of Σ_j v_j (v_j on site j, ``background`` elsewhere), e.g.
    Σ_j m_j σᶻ_j, the first order of a product state with magnetisation profile μ m_j."""
    length, dim = len(vectors), background.size
    tensors = []
    for j, v in enumerate(vectors):
        w = np.zeros((2, dim, 2))
        w[0, :, 0] = background
        w[0, :, 1] = v
        w[1, :, 1] = background
        tensors.append(w[:1] if j == 0 else w[:, :, 1:] if j == length - 1 else w)
    return OperatorChain(tensors, centre=length - 1)


def apply_transpose(mpo: Sequence[np.ndarray], state: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The MPS of Lᵀ v, exactly (bond dimensions multiply)."""
    out = []
    for w, a in zip(mpo, state, strict=True):
        t = np.tensordot(w, a, axes=(1, 1))  # (p, in, p', a, a')
        t = t.transpose(0, 3, 1, 2, 4)  # (p, a, in, p', a')
        out.append(t.reshape(w.shape[0] * a.shape[0], w.shape[2], w.shape[3] * a.shape[2]))
    return out


def enrich(x: np.ndarray, y: np.ndarray, to_right: bool, max_bond: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pad the split θ = X Y to min(``max_bond``, m, n) directions: the isometric factor (X if
    ``to_right``, else Y) gets random orthonormal directions orthogonal to its own, the other
    factor zeros. θ is unchanged; the next two-site problem can use the new directions (a
    basis grown only from the solutions stays in the span of the start, e.g. bond dimension 2
    from the linear profile)."""
    m, k = x.shape
    n = y.shape[1]
    target = min(max_bond, m, n)
    if k >= target:
        return x, y
    iso = x if to_right else y.T
    extra = rng.normal(size=(iso.shape[0], target - k))
    extra -= iso @ (iso.T @ extra)
    extra, _ = np.linalg.qr(extra)
    extra -= iso @ (iso.T @ extra)
    extra, _ = np.linalg.qr(extra)
    if to_right:
        return np.hstack([x, extra]), np.vstack([y, np.zeros((target - k, n))])
    return np.hstack([x, np.zeros((m, target - k))]), np.vstack([y, extra.T])


@dataclass
class LinearResponse:
    """Result of :func:`solve_linear_response`: the chain of ρ₁, the local functional
    θᵀAθ + 2bᵀθ of the last two-site solve of each sweep, the largest relative weight
    dropped in the last sweep, the sweeps run, whether the observables settled, the
    observables and their last change."""

    chain: OperatorChain
    objective: list[float]
    discarded: float
    sweeps: int
    converged: bool
    values: np.ndarray
    change: float


class _Environments:
    """Left/right environments on the chain x: the operator, ⟨x|L₀|x⟩ (χ, w, χ) with
    ``galerkin``, else ⟨x|L₀ᵀL₀|x⟩ (χ, w, w, χ); the overlap ⟨x|y⟩ with the right-hand
    side's MPS y (s, or L₀ᵀs) (χ, χ_y); and the trace ⟨x|t⟩ (χ,)."""

    def __init__(self, x: list[np.ndarray], mpo: list[np.ndarray], y: list[np.ndarray],
                 t: np.ndarray, galerkin: bool = False):
        length = len(x)
        self.x, self.mpo, self.y, self.t, self.galerkin = x, mpo, y, t, galerkin
        one4 = np.ones((1, 1, 1) if galerkin else (1, 1, 1, 1))
        self.double_left = [one4] + [None] * length
        self.double_right = [None] * length + [one4]
        self.source_left = [np.ones((1, 1))] + [None] * length
        self.source_right = [None] * length + [np.ones((1, 1))]
        self.trace_left = [np.ones(1)] + [None] * length
        self.trace_right = [None] * length + [np.ones(1)]
        for j in range(length - 1, 1, -1):
            self.update_right(j)

    def update_left(self, j: int) -> None:
        """Environments of sites < j + 1 from those of sites < j and tensor x[j]."""
        a, w, b = self.x[j], self.mpo[j], self.y[j]
        if self.galerkin:
            e = np.tensordot(self.double_left[j], a, axes=(0, 0))  # (p, A, s, c)
            e = np.tensordot(e, w, axes=([0, 2], [0, 2]))  # (A, c, t, p')
            e = np.tensordot(e, a, axes=([0, 2], [0, 1]))  # (c, p', C)
        else:
            e = np.tensordot(self.double_left[j], a, axes=(0, 0))  # (p, q, A, s, c)
            e = np.tensordot(e, w, axes=([0, 3], [0, 2]))  # (q, A, c, t, p')
            e = np.tensordot(e, w, axes=([0, 3], [0, 1]))  # (A, c, p', u, q')
            e = np.tensordot(e, a, axes=([0, 3], [0, 1]))  # (c, p', q', C)
        self.double_left[j + 1] = e
        s = np.tensordot(self.source_left[j], a, axes=(0, 0))  # (k, s, c)
        self.source_left[j + 1] = np.tensordot(s, b, axes=([0, 1], [0, 1]))  # (c, k')
        self.trace_left[j + 1] = self.t @ np.tensordot(self.trace_left[j], a, axes=(0, 0))

    def update_right(self, j: int) -> None:
        """Environments of sites > j − 1 from those of sites > j and tensor x[j]."""
        a, w, b = self.x[j], self.mpo[j], self.y[j]
        if self.galerkin:
            e = np.tensordot(a, self.double_right[j + 1], axes=(2, 0))  # (c, s, P, C)
            e = np.tensordot(e, w, axes=([1, 2], [2, 3]))  # (c, C, p, t)
            e = np.tensordot(e, a, axes=([1, 3], [2, 1]))  # (c, p, C')
        else:
            e = np.tensordot(a, self.double_right[j + 1], axes=(2, 0))  # (c, s, P, Q, C)
            e = np.tensordot(e, w, axes=([1, 2], [2, 3]))  # (c, Q, C, p, t)
            e = np.tensordot(e, w, axes=([1, 4], [3, 1]))  # (c, C, p, q, u)
            e = np.tensordot(e, a, axes=([1, 4], [2, 1]))  # (c, p, q, C')
        self.double_right[j] = e
        s = np.tensordot(a, self.source_right[j + 1], axes=(2, 0))  # (c, s, k)
        self.source_right[j] = np.tensordot(s, b, axes=([1, 2], [1, 2]))  # (c, k')
        self.trace_right[j] = np.tensordot(a, self.trace_right[j + 1], axes=(2, 0)) @ self.t

    def two_site(self, j: int):
        """On sites j, j+1: the operator θ ↦ Pᵀ(L₀ + t tᵀ)Pθ (``galerkin``) or
        Pᵀ(L₀ᵀL₀ + t tᵀ)Pθ, the vector Pᵀy and the shape of θ."""
        le, re = self.double_left[j], self.double_right[j + 2]
        w1, w2 = self.mpo[j], self.mpo[j + 1]
        tl, tr = self.trace_left[j], self.trace_right[j + 2]
        shape = (le.shape[0], w1.shape[2], w2.shape[2], re.shape[0])
        trace_vec = np.einsum("a,s,u,b->asub", tl, self.t, self.t, tr).ravel()

        def galerkin(v: np.ndarray) -> np.ndarray:
            x = np.tensordot(le, v.reshape(shape), axes=(0, 0))  # (p, A, s1, s2, b)
            x = np.tensordot(x, w1, axes=([0, 2], [0, 2]))  # (A, s2, b, u1, m)
            x = np.tensordot(x, w2, axes=([4, 1], [0, 2]))  # (A, b, u1, u2, P)
            x = np.tensordot(x, re, axes=([1, 4], [0, 1]))  # (A, u1, u2, B)
            return x.ravel() + trace_vec * (trace_vec @ v)

        def matvec(v: np.ndarray) -> np.ndarray:
            th = v.reshape(shape)
            x = np.tensordot(le, th, axes=(0, 0))  # (p, q, A, s1, s2, b)
            x = np.tensordot(x, w1, axes=([0, 3], [0, 2]))  # (q, A, s2, b, t1, m)
            x = np.tensordot(x, w2, axes=([5, 2], [0, 2]))  # (q, A, b, t1, t2, P)
            x = np.tensordot(x, w1, axes=([0, 3], [0, 1]))  # (A, b, t2, P, u1, n)
            x = np.tensordot(x, w2, axes=([5, 2], [0, 1]))  # (A, b, P, u1, u2, Q)
            x = np.tensordot(x, re, axes=([1, 2, 5], [0, 1, 2]))  # (A, u1, u2, B)
            return x.ravel() + trace_vec * (trace_vec @ v)

        s = np.tensordot(self.source_left[j], self.y[j], axes=(1, 0))  # (a, s1, k)
        s = np.tensordot(s, self.y[j + 1], axes=(2, 0))  # (a, s1, s2, k')
        s = np.tensordot(s, self.source_right[j + 2], axes=(3, 1))  # (a, s1, s2, b)
        size = int(np.prod(shape))
        return (spla.LinearOperator((size, size), matvec=galerkin if self.galerkin else matvec,
                                    dtype=float), s.ravel(), shape)


def solve_linear_response(chain: OperatorChain, generators: Sequence[np.ndarray],
                          source_terms: Sequence[tuple[int, np.ndarray]],
                          background: np.ndarray,
                          observe: Callable[[OperatorChain], np.ndarray],
                          scale: Callable[[np.ndarray], np.ndarray], tolerance: float,
                          max_sweeps: int, max_bond: int, cutoff: float = 1e-14,
                          galerkin: bool = False) -> LinearResponse:
    """Sweep the two-site solves (module docstring) from ``chain`` (modified in place)
    until ``observe(chain)`` changes by less than ``tolerance`` × ``scale`` over one full
    sweep (right and back), or ``max_sweeps`` sweeps.

    ``generators``: L₀'s bond terms; ``source_terms``: s = L₁ρ₀ as ``(bond, v)`` two-site
    vectors on a ``background`` of e₀ (ρ₀ = e₀^{⊗L})."""
    length = len(chain.tensors)
    mpo = bond_mpo(generators, background.size)
    source = local_sum_state(source_terms, length, background)
    y = source if galerkin else apply_transpose(mpo, source)
    chain.move_centre(0)
    env = _Environments(chain.tensors, mpo, y, background, galerkin)
    rng = np.random.default_rng(0)
    objective, previous = [], observe(chain)
    change = math.inf
    for sweep in range(1, max_sweeps + 1):
        chain.discarded = 0.0
        order = [(j, True) for j in range(length - 2)] + \
                [(j, False) for j in range(length - 2, -1, -1)]
        value = 0.0
        for j, to_right in order:
            op, rhs, shape = env.two_site(j)
            start = np.tensordot(chain.tensors[j], chain.tensors[j + 1], axes=(2, 0)).ravel()
            if galerkin:
                theta, _ = spla.gmres(op, -rhs, x0=start, rtol=CG_TOLERANCE, atol=0.0,
                                      restart=40, maxiter=CG_MAX_ITERATIONS // 40)
            else:
                theta, _ = spla.cg(op, -rhs, x0=start, rtol=CG_TOLERANCE, atol=0.0,
                                   maxiter=CG_MAX_ITERATIONS)
            value = float(theta @ op.matvec(theta) + 2 * rhs @ theta)
            x_, y_, dropped = split(theta.reshape(shape[0] * shape[1], -1), to_right,
                                    max_bond, cutoff)
            chain.discarded = max(chain.discarded, dropped)
            # split returns unit-norm factors; the kept norm goes to the new centre
            norm = float(np.linalg.norm(theta)) * math.sqrt(max(1.0 - dropped, 0.0))
            x_, y_ = enrich(x_, y_, to_right, max_bond, rng)
            if to_right:
                chain.tensors[j] = x_.reshape(shape[0], shape[1], -1)
                chain.tensors[j + 1] = (y_ * norm).reshape(-1, shape[2], shape[3])
                chain.centre = j + 1
                env.update_left(j)
            else:
                chain.tensors[j] = (x_ * norm).reshape(shape[0], shape[1], -1)
                chain.tensors[j + 1] = y_.reshape(-1, shape[2], shape[3])
                chain.centre = j
                env.update_right(j + 1)
        objective.append(value)
        values = observe(chain)
        change = float(np.max(np.abs(values - previous) / scale(values)))
        previous = values
        if change < tolerance:
            return LinearResponse(chain, objective, chain.discarded, sweep, True, values,
                                  change)
    return LinearResponse(chain, objective, chain.discarded, max_sweeps, False, previous,
                          change)


def xxz_response(length: int, anisotropy: float, max_bond: int, sweeps: int,
                 least_squares: bool) -> tuple[LinearResponse, float]:
    """∂ρ/∂μ of ``xxz`` at coupling 1 and its wall time; ``values`` holds ∂J_j/∂μ on the
    bonds, then ∂⟨σᶻ_j⟩/∂μ on the sites."""
    basis = mps.pauli_basis(2)
    undriven = {"L": length, "drive": 0.0, "anisotropy": anisotropy, "coupling": 1.0}
    g0 = xxz.mps_generators(undriven, basis)
    g1 = xxz.mps_generators({**undriven, "drive": 1.0}, basis)
    e0 = np.array([1.0, 0.0, 0.0, 0.0])
    terms = [(b, (g1[b] - g0[b]) @ np.kron(e0, e0)) for b in range(length - 1)
             if np.any(g1[b] != g0[b])]
    trace = mps.operator_vector(np.eye(2), basis)
    z = mps.operator_vector(xxz.SIGMA_Z.toarray(), basis)
    x, y = xxz.SIGMA_X.toarray(), xxz.SIGMA_Y.toarray()
    current = mps.operator_vector(2.0 * (np.kron(x, y) - np.kron(y, x)), basis)
    reference = math.sqrt(2) ** length  # Tr ρ₀

    def observe(chain: OperatorChain) -> np.ndarray:
        left, right = chain.environments(trace)
        t = chain.tensors
        sites = [float(left[j] @ np.tensordot(t[j], z, axes=(1, 0)) @ right[j])
                 for j in range(length)]
        bonds = []
        for j in range(length - 1):
            pair = np.tensordot(left[j], np.tensordot(t[j], t[j + 1], axes=(2, 0)), axes=(0, 0))
            bonds.append(float(np.sum(np.tensordot(pair, right[j + 1], axes=(2, 0)) * current)))
        return np.array(bonds + sites) / reference

    def scale(values: np.ndarray) -> np.ndarray:
        out = np.ones_like(values)
        out[:length - 1] = max(float(np.max(np.abs(values[:length - 1]))), 1e-300)
        return out

    chain = site_sum_state([np.array([0.0, 0.0, 0.0, 1 - 2 * j / (length - 1)])
                            for j in range(length)], e0)
    start = time.perf_counter()
    result = solve_linear_response(chain, g0, terms, e0, observe, scale, 1e-9, sweeps,
                                   max_bond, galerkin=not least_squares)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--anisotropy", type=float, default=1.5)
    parser.add_argument("--max-bond", type=int, default=16)
    parser.add_argument("--sweeps", type=int, default=10)
    parser.add_argument("--least-squares", action="store_true")
    args = parser.parse_args()
    length = args.length
    result, wall = xxz_response(length, args.anisotropy, args.max_bond, args.sweeps,
                                args.least_squares)
    bonds = result.values[:length - 1]
    slope = bonds[length // 2 - 1]
    line = (f"L = {length}, Δ_z = {args.anisotropy:g}, χ ≤ {args.max_bond} "
            f"({'least squares' if args.least_squares else 'Galerkin'}): "
            f"{result.sweeps} sweeps, {wall:.1f} s, converged {result.converged} (last change "
            f"{result.change:.1e}), ∂J/∂μ = {slope:.10g}, spread {np.ptp(bonds) / abs(slope):.1e}"
            f", dropped {result.discarded:.1e}, χ reached {result.chain.bond_dimension}")
    if length <= xxz.MAX_SITES:
        exact = ness_core.evaluate("xxz", L=length, drive=REFERENCE_DRIVE,
                                   anisotropy=args.anisotropy, method="exact",
                                   gap_sectors="none")
        reference = exact["current"] / REFERENCE_DRIVE
        line += (f"; exact J/μ at μ = {REFERENCE_DRIVE:g}: {reference:.10g} "
                 f"({slope / reference - 1:.1e})")
    print(line)


if __name__ == "__main__":
    main()
