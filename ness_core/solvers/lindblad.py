"""Lindblad master equations: sparse Liouvillian, steady state, gap, bath flows, entropy production.

Conventions (binding for every model built on this module), ħ = k_B = 1:

* the master equation is dρ/dt = L(ρ) = −i[H, ρ] + Σ_J (J ρ J† − ½{J†J, ρ});
* vectorisation is column stacking: vec(ρ)[a + n·b] = ρ_ab, so vec(A ρ B) = (Bᵀ ⊗ A) vec ρ
  and L = −i(I ⊗ H_eff) + i(H_eff* ⊗ I) + Σ_J J* ⊗ J with H_eff = H − (i/2) Σ_J J†J;
* a :class:`Liouvillian` may be restricted to a *block*: a set of matrix elements |a⟩⟨b|
  (vec positions) that L maps into itself. Superoperator charges make such blocks: if
  [H, Q] = 0 and every jump changes Q by a fixed amount, L conserves q = Q_a − Q_b and the
  steady state lives in the block q = 0 (:func:`charge_sectors`). The rows of the block
  matrix follow the order of ``elements``; the sparse LU reorders them anyway
  (:func:`nested_dissection`);
* the steady state solves L ρ = 0 with Tr ρ = 1: one row of L belonging to a diagonal element
  is replaced by the trace row (the rows are linearly dependent because Tr L(ρ) = 0), and the
  one LU factorisation of that bordered matrix serves both the steady state and the
  shift-invert Arnoldi iteration for the gap;
* the gap is −Re λ₁, λ₁ the slowest nonzero eigenvalue (largest real part) among the
  ``ARNOLDI_K`` eigenvalues closest to zero of all the blocks supplied (one shift-invert
  Arnoldi iteration on their direct sum,
  :func:`~ness_core.solvers.lindblad_spectrum.spectral_gap`);
* the flow of an observable O delivered by a bath b with jump operators {J} is
  J_b^O = Tr(O D_b[ρ]); with O = H it is the heat current into the system, and the
  entropy production (Spohn 1978) is σ = Σ_b A_b J_b, A_b = −1/T_b for a thermal bath.

This module holds the :class:`Liouvillian` (assembly, real coordinates, symmetry sectors,
factorisations) and its blocks; what is computed with it lives in ``lindblad_steady_state``
(:func:`~ness_core.solvers.lindblad_steady_state.steady_state`), ``lindblad_spectrum`` (the
gap and the slow modes) and ``lindblad_observables`` (expectation values, bath flows, entropy
production, counting statistics), all in ``ness_core.solvers``.

References
----------
H. Spohn, J. Math. Phys. 19, 1227 (1978) (entropy production of quantum dynamical
semigroups); H.-P. Breuer and F. Petruccione, *The Theory of Open Quantum Systems* (2002);
V. V. Albert and L. Jiang, Phys. Rev. A 89, 022118 (2014) (superoperator symmetries);
T. Prosen, Phys. Rev. Lett. 107, 137201 (2011) (boundary-driven XXZ chain);
N. Lambert et al., arXiv:2412.04705 (QuTiP 5, the reference implementation benchmarked).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np
import pymetis
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike

# Fill-reducing orderings of the "direct" method (see Liouvillian's ``ordering``): METIS
# nested dissection, or one of SuperLU's own column orderings.
ORDERINGS = ("METIS", "COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL")
# With the METIS ordering SuperLU keeps a diagonal pivot unless it is smaller than this
# fraction of the largest entry in its column (partial pivoting would undo the ordering).
# Measured on the Kerr ladder at 200 levels: 0.01 against 0.1 cut the fill by 10% and the
# NESS + gap time by 7%, residuals unchanged (≤ 1e-15).
PIVOT_THRESHOLD = 0.01
# Preconditioned GMRES ("krylov"): relative residual, restart length, maximum outer cycles.
KRYLOV_RTOL = 1e-13
KRYLOV_RESTART = 60
KRYLOV_MAXITER = 100


class Liouvillian:
    """The Lindblad generator L, restricted to an invariant block of matrix elements.

    Parameters
    ----------
    hamiltonian : sparse matrix or ndarray, shape (n, n)
        Hermitian H (energy units, ħ = 1).
    jumps : sequence of sparse matrices or ndarrays, each shape (n, n)
        Jump operators J, rates included (J = √γ c).
    elements : array_like of int, optional
        Vec positions a + n·b of the block's matrix elements |a⟩⟨b|, in the order of the
        matrix rows; default all n² in column-stacking order.
    charge : array_like of int, shape (n,), optional
        Labels Q_a of the basis states that H and K = Σ J†J do not mix (e.g. the
        magnetisation); used by the ``"krylov"`` preconditioner. Default: one label.
    ordering : {"METIS", "COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL"}, default "METIS"
        Fill-reducing ordering of the ``"direct"`` method: ``"METIS"`` is
        :func:`nested_dissection`, the others are SuperLU's column orderings. Measured
        (benchmarks/lindblad_vs_qutip.py): on the XXZ charge blocks METIS factorises 8–10×
        faster than COLAMD with 3–4× less fill (L = 8, q = 0: 1.7 s against 50 s); on the
        Kerr ladder it matches MMD_AT_PLUS_A in complex arithmetic and, keeping the real and
        imaginary coordinates of each element together, is the only ordering whose real form
        is not slower.
    real_arithmetic : bool, default False
        Let the ``"dense"`` and ``"direct"`` methods work on the real matrix U† L U in
        Hermitian coordinates (:attr:`hermitian_basis`). The block must be
        :attr:`self_adjoint`. Real solves and real Arnoldi vectors halve the memory traffic
        and quarter the arithmetic of the orthogonalisation: with the METIS ordering the
        Kerr gap took 0.6× the complex time at 200 Fock levels. A block not closed under ρ†
        has real coordinates too if it is closed under the antiunitary ρ → P ρ† P of a
        ``symmetry`` P (e.g. the XXZ sectors q ≠ 0 under reflection × spin flip).
    symmetry : array_like of int, shape (n,), optional
        Involution π of the basis states, P|a⟩ = |π(a)⟩, such that 𝒫ρ = P ρ P commutes with
        L (P H P = H and P maps the set of jumps to itself). Checked on the block (Raises).
    parity : {+1, -1}, optional
        Restrict the real coordinates to the eigenspace 𝒫 = ``parity`` of the block (which
        must be closed under 𝒫 and solved in ``real_arithmetic``): the block's dense and
        direct methods then work on about half the coordinates (:attr:`coordinate_basis`).
        The steady state lives in the sector 𝒫 = +1 if it is unique; the sector −1 holds
        no trace, so its L is invertible.

    Raises
    ------
    ValueError
        If shapes disagree, L maps the block outside itself (the message names an element),
        the ordering is unknown, real arithmetic is asked of a block closed neither under ρ†
        nor under P ρ† P, or L does not commute with the ``symmetry``.

    Notes
    -----
    The block matrix is assembled term by term without forming n² × n² Kronecker products:
    a term A ρ B sends |a⟩⟨b| to A_{xa} B_{by} |x⟩⟨y|, enumerated from the sparse columns of
    A and rows of B, so the cost is O(Σ nnz) over the block only.
    """

    def __init__(self, hamiltonian: ArrayLike | sp.spmatrix, jumps: Sequence,
                 elements: ArrayLike | None = None, charge: ArrayLike | None = None,
                 ordering: str = "METIS", real_arithmetic: bool = False,
                 symmetry: ArrayLike | None = None, parity: int | None = None):
        h = sp.csc_matrix(hamiltonian, dtype=complex)
        n = h.shape[0]
        if h.shape != (n, n):
            raise ValueError(f"hamiltonian must be square, got shape {h.shape}")
        js = [sp.csc_matrix(j, dtype=complex) for j in jumps]
        for i, j in enumerate(js):
            if j.shape != (n, n):
                raise ValueError(f"jump {i} has shape {j.shape}, expected {(n, n)}")
        self.dim = n
        self.hamiltonian = h
        self.jumps = js
        self.elements = (np.arange(n * n) if elements is None
                         else np.asarray(elements, dtype=np.int64))
        self.position = np.full(n * n, -1, dtype=np.int64)
        self.position[self.elements] = np.arange(self.elements.size)
        self.charge = np.zeros(n, dtype=np.int64) if charge is None else np.asarray(charge)
        if self.charge.shape != (n,):
            raise ValueError(f"charge must have shape ({n},), got {self.charge.shape}")
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}; valid orderings: "
                             + ", ".join(repr(o) for o in ORDERINGS))
        self.ordering = ordering
        self.matrix = self._assemble()
        self.symmetry = None if symmetry is None else np.asarray(symmetry, dtype=np.int64)
        if self.symmetry is not None and (
                self.symmetry.shape != (n,)
                or not np.array_equal(np.sort(self.symmetry), np.arange(n))
                or not np.array_equal(self.symmetry[self.symmetry], np.arange(n))):
            raise ValueError(f"symmetry must be an involutive permutation of {n} states")
        if parity not in (None, 1, -1):
            raise ValueError(f"parity must be +1 or -1, got {parity!r}")
        if parity is not None and (self.symmetry is None or not real_arithmetic):
            raise ValueError("a parity sector needs a symmetry and real arithmetic")
        self.parity = parity
        if real_arithmetic and self._conjugate is None:
            raise ValueError("real arithmetic needs a block closed under ρ → ρ† "
                             "(e.g. the charge sector q = 0) or under ρ → P ρ† P")
        self.real_arithmetic = real_arithmetic
        if parity is not None:
            self._check_symmetry()
        self._factors: dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]] = {}
        # METIS orderings by sparsity pattern; share one dict between the Liouvillians of a
        # sweep (warm starts) to reuse an ordering while the pattern does not change
        self.orderings: dict[bytes, np.ndarray] = {}

    @property
    def size(self) -> int:
        """Number of matrix elements in the block."""
        return int(self.elements.size)

    @cached_property
    def diagonal(self) -> np.ndarray:
        """Row indices of the block's diagonal elements |a⟩⟨a| (where the trace lives)."""
        a, b = self.elements % self.dim, self.elements // self.dim
        return np.flatnonzero(a == b)

    def to_matrix(self, vec: np.ndarray) -> np.ndarray:
        """Dense n × n matrix with the block's entries ``vec`` and zeros elsewhere."""
        out = np.zeros(self.dim * self.dim, dtype=complex)
        out[self.elements] = vec
        return out.reshape(self.dim, self.dim, order="F")

    @cached_property
    def h_eff(self) -> sp.csc_matrix:
        """Non-Hermitian effective Hamiltonian H − (i/2) Σ J†J."""
        h_eff = self.hamiltonian.copy()
        for j in self.jumps:
            h_eff = h_eff - 0.5j * (j.conj().T @ j)
        return sp.csc_matrix(h_eff)

    def _assemble(self) -> sp.csc_matrix:
        eye = sp.identity(self.dim, dtype=complex, format="csc")
        h_eff = self.h_eff
        terms = [(-1j * h_eff, eye), (eye, 1j * h_eff.conj().T)]
        terms += [(j, j.conj().T) for j in self.jumps]
        return self.superoperator(terms)

    def superoperator(self, terms: Sequence[tuple]) -> sp.csc_matrix:
        """Block matrix of ρ ↦ Σ A ρ B over ``terms`` = [(A, B), …] (sparse n × n each).

        Raises ValueError if the map leaves the block.
        """
        n = self.dim
        src_a, src_b = self.elements % n, self.elements // n
        rows, cols, vals = [], [], []
        for a_op, b_op in terms:
            a_op, b_op = sp.csc_matrix(a_op), sp.csr_matrix(b_op)
            na = np.diff(a_op.indptr)[src_a]
            nb = np.diff(b_op.indptr)[src_b]
            count = na * nb
            src = np.repeat(np.arange(self.size), count)
            offset = np.arange(src.size) - np.repeat(np.cumsum(count) - count, count)
            ia = a_op.indptr[src_a[src]] + offset // nb[src]
            ib = b_op.indptr[src_b[src]] + offset % nb[src]
            target = self.position[a_op.indices[ia] + n * b_op.indices[ib]]
            val = a_op.data[ia] * b_op.data[ib]
            outside = (target < 0) & (val != 0)
            if np.any(outside):
                k = self.elements[src[np.flatnonzero(outside)[0]]]
                raise ValueError(f"L maps element |{k % n}><{k // n}| outside the block")
            keep = target >= 0
            rows.append(target[keep])
            cols.append(src[keep])
            vals.append(val[keep])
        m = self.size
        mat = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(m, m))
        mat.eliminate_zeros()
        return mat

    @cached_property
    def self_adjoint(self) -> bool:
        """Whether the block is closed under ρ → ρ† (holds |b⟩⟨a| with every |a⟩⟨b|)."""
        n = self.dim
        a, b = self.elements % n, self.elements // n
        return bool(np.all(self.position[b + n * a] >= 0))

    @cached_property
    def _conjugate(self) -> np.ndarray | None:
        """Row of the partner of each element under the antiunitary conjugation C of the
        real coordinates: |b⟩⟨a| (C ρ = ρ†) if the block is :attr:`self_adjoint`, else
        |π(b)⟩⟨π(a)| (C ρ = P ρ† P) if closed under it; None if neither."""
        n = self.dim
        a, b = self.elements % n, self.elements // n
        if self.self_adjoint:
            return self.position[b + n * a]
        if self.symmetry is not None:
            p = self.position[self.symmetry[b] + n * self.symmetry[a]]
            if np.all(p >= 0):
                return p
        return None

    @cached_property
    def hermitian_basis(self) -> sp.csc_matrix:
        """Unitary U from real coordinates x to the block's vec entries, v = U x.

        A Hermitian ρ has real coordinates: x_i = ρ_i on the diagonal and, for each pair of
        rows i < p holding ρ_ab and ρ_ba = ρ_ab*, x_i = √2 Re ρ_ab and x_p = √2 Im ρ_ab.
        Since L maps Hermitian matrices to Hermitian matrices, U† L U is real
        (:attr:`real_matrix`). For a block closed under C ρ = P ρ† P instead, the pairs are
        ρ_ab and ρ_{π(b)π(a)} (the C-invariant vectors); L commutes with C, so U† L U is
        real again.
        """
        m = self.size
        i = np.arange(m)
        p = self._conjugate
        diag, low, high = i == p, i < p, i > p
        s = np.sqrt(0.5)
        rows = np.concatenate((i[diag], i[low], p[low], p[high], i[high]))
        cols = np.concatenate((i[diag], i[low], i[low], i[high], i[high]))
        vals = np.concatenate((np.ones(diag.sum()), np.full(2 * low.sum(), s),
                               np.full(high.sum(), 1j * s), np.full(high.sum(), -1j * s)))
        return sp.csc_matrix((vals.astype(complex), (rows, cols)), shape=(m, m))

    @cached_property
    def _parity_sector(self) -> sp.csc_matrix:
        """Orthonormal real basis W (coordinates × sector coordinates) of 𝒫 = parity.

        In the coordinates of :attr:`hermitian_basis` 𝒫 is a signed permutation M
        (M e_k = t e_l, M e_l = t e_k); its eigenvectors of eigenvalue s are e_k (l = k,
        t = s) and (e_k + s t e_l)/√2 (k < l).
        """
        n, m = self.dim, self.size
        a, b = self.elements % n, self.elements // n
        image = self.position[self.symmetry[a] + n * self.symmetry[b]]
        if np.any(image < 0):
            raise ValueError("a parity sector needs a block closed under ρ → P ρ P")
        u = self.hermitian_basis
        perm = sp.csc_matrix((np.ones(m), (image, np.arange(m))), shape=(m, m))
        signed = sp.csc_matrix((u.conj().T @ perm @ u).real)
        signed.eliminate_zeros()
        signed.sort_indices()
        if np.any(np.diff(signed.indptr) != 1) or not np.allclose(abs(signed.data), 1.0):
            raise ValueError("the symmetry does not commute with the block's conjugation")
        target, sign = signed.indices, np.rint(signed.data)
        k = np.arange(m)
        single = (target == k) & (sign == self.parity)
        pair = target > k
        s = np.sqrt(0.5)
        rows = np.concatenate((k[single], k[pair], target[pair]))
        cols = np.arange(single.sum() + pair.sum())
        cols = np.concatenate((cols, cols[single.sum():]))
        vals = np.concatenate((np.ones(single.sum()), np.full(pair.sum(), s),
                               s * self.parity * sign[pair]))
        order = np.argsort(np.concatenate((k[single], k[pair])), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return sp.csc_matrix((vals, (rows, rank[cols])), shape=(m, order.size))

    @cached_property
    def coordinate_basis(self) -> sp.csc_matrix:
        """U from the real coordinates x of the direct and dense methods to block vec
        entries, v = U x: :attr:`hermitian_basis`, times the 𝒫 = ``parity`` sector's basis
        if one is chosen (then U has orthonormal columns, about half as many as rows)."""
        u = self.hermitian_basis
        return sp.csc_matrix(u @ self._parity_sector) if self.parity is not None else u

    @cached_property
    def real_matrix(self) -> sp.csc_matrix:
        """The block's L in the real coordinates of :attr:`coordinate_basis`, U† L U."""
        u = self.coordinate_basis
        full = u.conj().T @ (self.matrix @ u)
        full = sp.csc_matrix(full)
        if np.abs(full.data.imag).max(initial=0.0) > 1e-12 * max(
                np.abs(full.data).max(initial=0.0), 1.0):
            raise ValueError("L does not commute with the conjugation ρ → P ρ† P of the "
                             "symmetry, so it has no real coordinates")
        mat = sp.csc_matrix(full.real)
        mat.eliminate_zeros()
        return mat

    def _check_symmetry(self) -> None:
        """Raise ValueError unless 𝒫 maps the block to itself and commutes with L there."""
        n = self.dim
        a, b = self.elements % n, self.elements // n
        image = self.position[self.symmetry[a] + n * self.symmetry[b]]
        if np.any(image < 0):
            raise ValueError("a parity sector needs a block closed under ρ → P ρ P")
        mat = self.matrix
        change = sp.csc_matrix(mat[image][:, image] - mat).data
        if np.abs(change).max(initial=0.0) > 1e-12 * max(np.abs(mat.data).max(initial=0.0), 1.0):
            raise ValueError("L does not commute with the symmetry ρ → P ρ P")

    def coordinates(self, method: str) -> int:
        """Length of the vectors ``factor(…, method)`` solves for."""
        return self.coordinate_basis.shape[1] if self.real_coordinates(method) else self.size

    def to_real(self, vec: np.ndarray) -> np.ndarray:
        """Real coordinates x = Re(U† v) of a Hermitian (C-invariant) block vector v."""
        return (self.coordinate_basis.conj().T @ vec).real

    def trace_row(self, method: str) -> np.ndarray:
        """The trace Tr ρ as a row vector t (Tr ρ = t · x) in ``method``'s coordinates."""
        if not self.real_coordinates(method):
            t = np.zeros(self.size)
            t[self.diagonal] = 1.0
            return t
        return self._real_trace

    @cached_property
    def _real_trace(self) -> np.ndarray:
        u = self.coordinate_basis.tocsr()[self.diagonal]
        return np.asarray(u.sum(axis=0)).ravel().real

    def holds_trace(self, method: str = "direct") -> bool:
        """Whether the block carries a state of unit trace (the steady state's block)."""
        return bool(np.any(self.trace_row(method) != 0))

    def border_row(self, method: str) -> int:
        """Row replaced by the trace row when bordering, in ``method``'s coordinates."""
        if not self.real_coordinates(method):
            return self.bordered_row
        nonzero = np.flatnonzero(self.trace_row(method))
        if nonzero.size == 0:
            raise ValueError("the block holds no state of unit trace (no diagonal element, "
                             "or the parity sector −1)")
        return int(nonzero[0])

    def _border(self, mat: sp.csc_matrix, method: str = "krylov") -> sp.csc_matrix:
        """``mat`` with row :meth:`border_row` replaced by the trace row."""
        r, t = self.border_row(method), self.trace_row(method)
        cols_t = np.flatnonzero(t)
        coo = mat.tocoo()
        keep = coo.row != r
        rows = np.concatenate((coo.row[keep], np.full(cols_t.size, r)))
        cols = np.concatenate((coo.col[keep], cols_t))
        vals = np.concatenate((coo.data[keep], t[cols_t]))
        return sp.csc_matrix((vals, (rows, cols)), shape=mat.shape)

    @cached_property
    def bordered_row(self) -> int:
        """Row r of the first diagonal element, replaced by the trace row when bordering.

        The diagonal rows are linearly dependent (Tr L(ρ) = 0), so dropping one loses
        nothing. The block must contain diagonal elements (the steady-state block).
        """
        if self.diagonal.size == 0:
            raise ValueError("the block holds no diagonal element, so no state of unit trace")
        return int(self.diagonal[0])

    @cached_property
    def bordered(self) -> tuple[sp.csc_matrix, int]:
        """L with row r replaced by the trace row, and r (:attr:`bordered_row`)."""
        return self._border(self.matrix), self.bordered_row

    def factor(self, kind: str, method: str) -> Callable[[np.ndarray], np.ndarray]:
        """Cached solver of the bordered matrix (``kind="bordered"``) or of L (``"plain"``).

        ``method="direct"``: SuperLU with the block's ``ordering``; one factorisation serves
        the steady state and every shift-invert Arnoldi step. With ``real_arithmetic`` it
        factorises :attr:`real_matrix` and solves in real coordinates. ``method="krylov"``:
        GMRES right-preconditioned by the inverse of the no-jump part
        (:meth:`no_jump_inverse`), to relative residual ``KRYLOV_RTOL``, on complex block
        vectors.
        """
        key = (kind, method)
        if key not in self._factors:
            if method == "direct":
                mat = self.real_matrix if self.real_arithmetic else self.matrix
                mat = self._border(mat, method) if kind == "bordered" else mat
                self._factors[key] = self._superlu(sp.csc_matrix(mat))
            else:
                if self.parity is not None:
                    raise ValueError("a parity sector is solved by the direct or dense "
                                     "method only")
                mat = self.bordered[0] if kind == "bordered" else self.matrix
                self._factors[key] = _preconditioned_gmres(mat, self.no_jump_inverse)
        return self._factors[key]

    def _superlu(self, mat: sp.csc_matrix) -> Callable[[np.ndarray], np.ndarray]:
        """Solver of ``mat`` (this block's coordinates) by SuperLU in the block's ordering."""
        if self.ordering != "METIS":
            return spla.splu(mat, permc_spec=self.ordering).solve
        mat.sort_indices()
        pattern = hashlib.blake2b(np.int64(mat.shape[0]).tobytes() + mat.indptr.tobytes()
                                  + mat.indices.tobytes(), digest_size=16).digest()
        if pattern not in self.orderings:
            self.orderings[pattern] = nested_dissection(
                mat, self._coordinate_partner if self.real_arithmetic else None)
        perm = self.orderings[pattern]
        lu = spla.splu(sp.csc_matrix(mat[perm][:, perm]), permc_spec="NATURAL",
                       diag_pivot_thresh=PIVOT_THRESHOLD, options={"SymmetricMode": True})
        inverse = np.argsort(perm)
        return lambda rhs: lu.solve(rhs[perm])[inverse]

    @cached_property
    def _coordinate_partner(self) -> np.ndarray:
        """The real coordinate sharing matrix elements with each one (itself if none)."""
        u = sp.csc_matrix(self.coordinate_basis)
        u.sort_indices()
        label = u.indices[u.indptr[:-1]]  # lowest element row of each coordinate
        order = np.argsort(label, kind="stable")
        partner = np.arange(label.size)
        same = np.flatnonzero(label[order][1:] == label[order][:-1])
        partner[order[same]], partner[order[same + 1]] = order[same + 1], order[same]
        return partner

    def real_coordinates(self, method: str) -> bool:
        """Whether ``factor(…, method)`` works in the real coordinates of this block."""
        return method in ("dense", "direct") and self.real_arithmetic

    @cached_property
    def _sylvester_blocks(self) -> tuple[dict, list]:
        """Eigen-decompositions of A_m = −i H_eff per charge m and the element index grids."""
        n = self.dim
        a_full = (-1j * self.h_eff).tocsr()
        local = np.empty(n, dtype=np.int64)
        eig = {}
        for m in np.unique(self.charge):
            states = np.flatnonzero(self.charge == m)
            local[states] = np.arange(states.size)
            a_m = a_full[states][:, states]
            if abs(a_m).sum() != abs(a_full[states]).sum():
                raise ValueError(f"H or K = Σ J†J couples charge {m} to other charges")
            lam, vec = scipy.linalg.eig(a_m.toarray())
            eig[m] = (lam, vec, scipy.linalg.inv(vec))
        a, b = self.elements % n, self.elements // n
        qa, qb = self.charge[a], self.charge[b]
        grids = []
        for m, mp in set(zip(qa.tolist(), qb.tolist(), strict=True)):
            sel = np.flatnonzero((qa == m) & (qb == mp))
            shape = (eig[m][0].size, eig[mp][0].size)
            if sel.size != shape[0] * shape[1]:
                raise ValueError(f"the block holds only part of the charge sector ({m}, {mp})")
            grid = np.empty(shape, dtype=np.int64)
            grid[local[a[sel]], local[b[sel]]] = sel
            grids.append((m, mp, grid))
        return eig, grids

    def no_jump_inverse(self, x: np.ndarray) -> np.ndarray:
        """Solve A X + X A† = B, A = −i H_eff, on every charge sector (Bartels–Stewart).

        The no-jump part L₀ρ = −i(H_eff ρ − ρ H_eff†) of L maps each sector
        {|a⟩⟨b| : Q_a = m, Q_b = m'} to itself; with A_m = V Λ V⁻¹ the solution is
        X = V [(V⁻¹ B V'^{-†}) / (λ_i + λ'_j*)] V'†. The jump part −R L₀⁻¹ left over is a
        quantum channel (the jump chain), so GMRES on L L₀⁻¹ = I − Φ converges in a
        number of steps set by the mixing of the jump chain, not by the dimension.
        """
        eig, grids = self._sylvester_blocks
        out = np.empty(x.shape, dtype=complex)
        for m, mp, grid in grids:
            lam, vec, inv = eig[m]
            lamp, vecp, invp = eig[mp]
            y = (inv @ x[grid] @ invp.conj().T) / (lam[:, None] + lamp.conj()[None, :])
            out[grid] = vec @ y @ vecp.conj().T
        return out


def _preconditioned_gmres(mat: sp.csc_matrix,
                          precond: Callable[[np.ndarray], np.ndarray]
                          ) -> Callable[[np.ndarray], np.ndarray]:
    """x ↦ mat⁻¹ x by right-preconditioned GMRES.

    ``solve(rhs, guess=None)`` stops at the true residual ‖rhs − mat x‖ ≤ ``KRYLOV_RTOL``
    ‖rhs‖ and raises if not converged. With a ``guess`` x₀ it solves for the correction,
    mat δ = rhs − mat x₀, to the same absolute residual, and returns x₀ + δ.
    """
    m = mat.shape[0]
    op = spla.LinearOperator((m, m), matvec=lambda u: mat @ precond(u), dtype=complex)

    def solve(rhs: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
        count = [0]

        def callback(_):
            count[0] += 1

        target = KRYLOV_RTOL * float(np.linalg.norm(rhs))
        start = 0.0 if guess is None else guess
        defect = rhs if guess is None else rhs - mat @ guess
        u, info = spla.gmres(op, defect, rtol=0.0, atol=target, restart=KRYLOV_RESTART,
                             maxiter=KRYLOV_MAXITER, callback=callback, callback_type="pr_norm")
        if info != 0:
            raise RuntimeError(f"GMRES not converged after {count[0]} iterations")
        solve.iterations += count[0]
        return start + precond(u)

    solve.iterations = 0
    return solve


# ---------------------------------------------------------------------- block helpers
def charge_sectors(charge: ArrayLike) -> dict[int, np.ndarray]:
    """Blocks of a superoperator U(1) charge q = Q_a − Q_b.

    Parameters
    ----------
    charge : array_like of int, shape (n,)
        Q of each basis state |a⟩ (e.g. the number of up spins).

    Returns
    -------
    dict
        q → vec positions a + n·b of all |a⟩⟨b| with Q_a − Q_b = q, in column-stacking order.
    """
    q = np.asarray(charge, dtype=np.int64)
    diff = (q[:, None] - q[None, :]).ravel(order="F")
    order = np.argsort(diff, kind="stable")
    values, starts = np.unique(diff[order], return_index=True)
    bounds = np.append(starts, diff.size)
    return {int(v): order[bounds[i]:bounds[i + 1]] for i, v in enumerate(values)}


def nested_dissection(mat: sp.spmatrix, partner: np.ndarray | None = None) -> np.ndarray:
    """Fill-reducing symmetric permutation: METIS nested dissection of the graph of A + Aᵀ.

    Parameters
    ----------
    mat : sparse matrix, shape (m, m)
    partner : ndarray of int, shape (m,), optional
        Row paired with each row (itself if unpaired). Pairs become one vertex of the graph
        and stay adjacent in the order, so that pivoting inside a pair does not spoil the
        ordering: in real coordinates the real and imaginary parts of one matrix element
        form a 2 × 2 block whose off-diagonal (an energy difference) can exceed its
        diagonal (a decay rate).

    Returns
    -------
    ndarray of int, shape (m,)
        perm: row and column k of the permuted matrix are row and column perm[k] of ``mat``.

    References
    ----------
    G. Karypis and V. Kumar, SIAM J. Sci. Comput. 20, 359 (1998) (METIS).
    """
    m = mat.shape[0]
    rows = np.arange(m)
    partner = rows if partner is None else np.asarray(partner)
    vertex = np.unique(np.minimum(rows, partner), return_inverse=True)[1]
    contract = sp.csr_matrix((np.ones(m), (vertex, rows)), shape=(vertex.max() + 1, m))
    pattern = abs(sp.csr_matrix(mat))
    graph = sp.csr_matrix(contract @ (pattern + pattern.T) @ contract.T)
    graph.setdiag(0)
    graph.eliminate_zeros()
    _, position = pymetis.nested_dissection(
        adjacency=pymetis.CSRAdjacency(graph.indptr, graph.indices),
        options=pymetis.Options(seed=0))
    return np.lexsort((partner < rows, np.asarray(position)[vertex]))
