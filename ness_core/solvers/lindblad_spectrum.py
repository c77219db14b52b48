"""Liouvillian gap: dense eigenvalues or shift-invert Arnoldi on the direct sum of blocks.

The gap is −Re λ₁, λ₁ the slowest nonzero eigenvalue among the ``ARNOLDI_K`` closest to zero
(:func:`spectral_gap`); in the block of the steady state the inverse is the group inverse
L^#, applied with the bordered factor of
:func:`~ness_core.solvers.lindblad_steady_state.steady_state` (:func:`_shift_invert`). The
slow modes kept (:class:`SlowModes`) start :func:`ness_core.solvers.slow_modes.track_gap`
at the next point of a sweep. Conventions: :mod:`ness_core.solvers.lindblad`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla

from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_steady_state import SteadyState, _pick, steady_state
from ness_core.solvers.markov_spectrum import MODE_TIE_RTOL

# The gap takes dense eigenvalues only of smaller blocks: on the XXZ chain at L = 6, LAPACK
# took 25 ms for the 220-element block q = 3, its share of the Arnoldi iteration ~1 ms.
GAP_DENSE_MAX_ELEMENTS = 100
# Shift-invert Arnoldi: eigenvalues closest to zero requested (the slowest of them is the
# gap, so enough to hold an oscillating slow mode behind faster real ones: 6 miss it on the
# Kerr resonator at F = 3), Krylov basis size, relative accuracy of the Ritz values, and the
# restart budget after which the converged ones are kept. Measured on the Kerr resonator at
# 200 Fock levels (benchmarks/lindblad_vs_qutip.py): 8 eigenvalues to machine precision with
# 24 basis vectors took 194 solves, to 1e-10 129; to 1e-10 in real coordinates, basis sizes
# 30 / 40 / 50 / 60 / 70 took 1.10 / 0.70 / 0.53 / 0.74 / 0.81 s (same gap to 14 digits).
ARNOLDI_K = 8
ARNOLDI_NCV = 50
ARNOLDI_TOL = 1e-10
ARNOLDI_MAXITER = 100


@dataclass(frozen=True)
class SpectralGap:
    """Slowest relaxation mode of L.

    Attributes
    ----------
    gap : float
        −Re λ₁ (1/time), λ₁ the slowest nonzero eigenvalue found, minimised over blocks.
    imag : float
        |Im λ₁|, the oscillation frequency of that mode (1/time). If several eigenvalues
        found share the largest real part (to relative ``MODE_TIE_RTOL``, as in the Markov
        solver), the largest |Im| among them.
    method : {"dense", "arnoldi"}
        Method used for the block that set the gap.
    status : str
        ``"ok"`` or a short reason.
    modes : SlowModes or None
        With ``keep_vector`` (Arnoldi on one block): the eigenvalues found and their
        eigenvectors, what the next point of a sweep starts from
        (:func:`ness_core.solvers.slow_modes.track_gap`); else None.
    products : int
        Shift-invert solves: of the Arnoldi iteration, or the columns solved by
        ``track_gap`` (0 for dense).
    calls : int
        Calls of the shift-invert solver: ``products`` for Arnoldi (one vector each), one
        per block of columns for ``track_gap``.
    """

    gap: float
    imag: float
    method: str
    status: str
    modes: SlowModes | None = None
    products: int = 0
    calls: int = 0


@dataclass(frozen=True)
class SlowModes:
    """The eigenvalues of one block closest to 0 and the span of their eigenvectors.

    Attributes
    ----------
    eigenvalues : ndarray of complex, shape (k,)
        Nonzero eigenvalues λ of L (1/time), ranked by |λ|.
    basis : ndarray of float, shape (coordinates, q)
        Real columns spanning their eigenvectors in the block's real coordinates: the real
        and imaginary parts of each (not orthonormalised; a complex pair's repeat them).
    """

    eigenvalues: np.ndarray
    basis: np.ndarray

    @classmethod
    def of(cls, eigenvalues: np.ndarray, vectors: np.ndarray) -> SlowModes:
        """From eigenvalues and eigenvectors (columns, real coordinates), any order."""
        order = np.argsort(np.abs(eigenvalues), kind="stable")
        lam, vectors = eigenvalues[order], vectors[:, order]
        return cls(lam, np.hstack([vectors.real, vectors[:, lam.imag != 0].imag]))


def spectral_gap(blocks: Liouvillian | Sequence[Liouvillian], method: str = "auto",
                 steady: SteadyState | None = None,
                 solver: str | Sequence[str] = "direct", modes: int = ARNOLDI_K,
                 keep_vector: bool = False, start: np.ndarray | None = None) -> SpectralGap:
    """Liouvillian gap −Re λ₁ and frequency |Im λ₁|, λ₁ the slowest nonzero eigenvalue.

    Parameters
    ----------
    blocks : Liouvillian or sequence of Liouvillian
        Blocks that together carry the spectrum wanted (all charge sectors, or q ≥ 0 when
        q and −q are related by ρ → ρ†, which conjugates the spectrum).
    method : {"auto", "dense", "arnoldi"}, default "auto"
        ``"dense"``: all eigenvalues of each block (LAPACK geev). ``"arnoldi"``: ARPACK in
        shift-invert form at σ = 0 on the direct sum of the blocks: the ``modes``
        eigenvalues closest to zero, of which the slowest is kept. One iteration over all
        blocks converges as fast as the spectrum's closest eigenvalues are separated from
        the rest; per block, a
        cluster of eigenvalues far from the gap (as in the XXZ sectors q ≠ 0) would cost
        hundreds of solves. In a block holding the steady state the inverse is the group
        inverse L^#: L^# b solves the bordered system (same factorisation as
        :func:`~ness_core.solvers.lindblad_steady_state.steady_state`) for the traceless part of
        b, so its eigenvalues are 1/λ for λ ≠ 0 and 0 for the steady state. Other blocks
        invert L itself. ``"auto"``: dense for blocks up to ``GAP_DENSE_MAX_ELEMENTS`` elements,
        Arnoldi for the rest.
    steady : SteadyState, optional
        The steady state of the diagonal block (computed with its solver if needed).
    solver : {"direct", "krylov"} or sequence of them, default "direct"
        Linear solver behind the shift-invert steps (see
        :func:`~ness_core.solvers.lindblad_steady_state.steady_state`), for all blocks or one
        per block.
    modes : int, default ``ARNOLDI_K``
        Eigenvalues closest to zero that the Arnoldi iteration converges (basis size
        ``max(ARNOLDI_NCV, 3 modes)``); raise it to look further for oscillating modes.
    keep_vector : bool, default False
        Return the eigenvalues found and their eigenvectors (``modes``) when one Arnoldi
        block sets the gap.
    start : ndarray, optional
        Start vector of the Arnoldi iteration, in the coordinates of the direct sum of the
        Arnoldi blocks (real where they are real), e.g. the sum of a neighbouring point's
        slow modes (:attr:`SlowModes.basis`); default a fixed random vector. Measured on a
        Kerr drive sweep at 120 Fock levels (benchmarks/warm_start.py): where the random
        start needs a restart (84–87 solves) the neighbour's modes need none (51).

    Returns
    -------
    SpectralGap
        The slowest mode; ``status`` names the failure if an iteration failed.

    Notes
    -----
    Shift-invert at 0 ranks eigenvalues by |λ|, not by Re λ: a slow mode that oscillates
    faster than the modulus of the ``modes``-th closest eigenvalue is not seen (QuTiP's
    ``eigs`` at σ ≈ 0 shares this). Example: the undriven Kerr resonator at Δ = 6, U = 1,
    κ = 1, T = 0, whose coherence mode −κ/2 ± 6i lies behind ~20 eigenvalues of smaller
    modulus, reports the population rate κ with 8 modes and κ/2 with 30.
    ``method="dense"`` on a small block, or a larger ``modes``, checks a gap.
    """
    blocks = [blocks] if isinstance(blocks, Liouvillian) else list(blocks)
    solvers = [solver] * len(blocks) if isinstance(solver, str) else list(solver)
    if modes < 1:
        raise ValueError(f"modes must be at least 1, got {modes}")
    if len(solvers) != len(blocks):
        raise ValueError(f"{len(solvers)} solvers given for {len(blocks)} blocks")
    for name in solvers:
        if name not in ("direct", "krylov"):
            raise ValueError(f"unknown solver {name!r}; valid solvers: 'direct', 'krylov'")
    names = [_pick(method, GAP_METHODS, b.size <= GAP_DENSE_MAX_ELEMENTS, "arnoldi")
             for b in blocks]
    found: list[tuple[np.ndarray, str]] = []
    try:
        for liou, name in zip(blocks, names, strict=True):
            if name == "dense":
                found.append((_gap_dense(liou), "dense"))
        large = [(b, s) for b, s, n in zip(blocks, solvers, names, strict=True) if n != "dense"]
        if large:
            lam, vectors, products = _gap_arnoldi(large, steady, modes, keep_vector, start)
            found.append((lam, "arnoldi"))
    except (RuntimeError, np.linalg.LinAlgError) as exc:
        return SpectralGap(np.nan, np.nan, "arnoldi",
                           f"gap failed: {exc}".splitlines()[0])
    lam = np.concatenate([values for values, _ in found] or [np.empty(0)])
    if not lam.size:
        return SpectralGap(np.inf, 0.0, "none", "ok")
    names = np.concatenate([[name] * values.size for values, name in found])
    slowest = np.argmax(lam.real)
    tied = lam.real >= lam[slowest].real - MODE_TIE_RTOL * abs(lam[slowest])
    kept = None
    if large and vectors is not None and len(found) == 1:
        kept = SlowModes.of(lam, vectors)
    return SpectralGap(float(-lam[slowest].real), float(np.max(np.abs(lam[tied].imag))),
                       str(names[slowest]), "ok", kept, products if large else 0,
                       products if large else 0)


def _gap_dense(liou: Liouvillian) -> np.ndarray:
    """All eigenvalues of the block, without the steady state's zero."""
    mat = liou.real_matrix if liou.real_coordinates("dense") else liou.matrix
    lam = scipy.linalg.eigvals(mat.toarray())
    if liou.holds_trace("dense"):
        lam = np.delete(lam, np.argmin(np.abs(lam)))
    return lam


def _shift_invert(liou: Liouvillian, steady: SteadyState | None,
                  solver: str) -> Callable[[np.ndarray], np.ndarray]:
    """b ↦ L^# b (block with the steady state) or L⁻¹ b, in the block's coordinates; b is
    one vector or a matrix of columns (one SuperLU call for all)."""
    if not liou.holds_trace(solver):
        return liou.factor("plain", solver)
    if steady is None:
        steady = steady_state(liou, method=solver)
    if steady.status != "ok":
        raise np.linalg.LinAlgError(f"no steady state: {steady.status}")
    rho = steady.rho.ravel(order="F")[liou.elements]
    real = liou.real_coordinates(solver)
    rho = liou.to_real(rho) if real else rho
    solve = liou.factor("bordered", solver)
    r, trace = liou.border_row(solver), liou.trace_row(solver)

    def apply(b: np.ndarray) -> np.ndarray:  # b: one vector or columns
        b = b - np.multiply.outer(rho, trace @ b)
        b[r] = 0.0
        if real and np.iscomplexobj(b):
            return solve(b.real) + 1j * solve(b.imag)
        return solve(b)

    return apply


def _gap_arnoldi(blocks: list[tuple[Liouvillian, str]], steady: SteadyState | None,
                 modes: int, keep_vector: bool = False, start: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The ``modes`` nonzero eigenvalues closest to zero of the direct sum of blocks, their
    eigenvectors (with ``keep_vector``, else None) and the solves spent, Arnoldi started
    from ``start`` (default a fixed random vector)."""
    applies = [_shift_invert(liou, steady, solver) for liou, solver in blocks]
    bounds = np.cumsum([0] + [liou.coordinates(solver) for liou, solver in blocks])
    m = int(bounds[-1])
    real = all(liou.real_coordinates(solver) for liou, solver in blocks)

    count = [0]

    def apply(b: np.ndarray) -> np.ndarray:
        count[0] += 1
        return np.concatenate([f(b[lo:hi]) for f, lo, hi
                               in zip(applies, bounds[:-1], bounds[1:], strict=True)])

    k = min(modes, m - 2)
    if k < 1:
        return np.concatenate([_gap_dense(liou) for liou, _ in blocks]), None, 0
    if start is None:
        start = np.random.default_rng(0).standard_normal(m)  # reproducible runs
    elif np.shape(start) != (m,):
        raise ValueError(f"Arnoldi start vector of shape {np.shape(start)}, blocks of {m} "
                         "coordinates")
    ncv = max(ARNOLDI_NCV, 3 * k)
    op = spla.LinearOperator((m, m), matvec=apply, dtype=float if real else complex)
    try:
        found = spla.eigs(op, k=k, which="LM", ncv=min(m, ncv),
                          tol=ARNOLDI_TOL, maxiter=ARNOLDI_MAXITER,
                          return_eigenvectors=keep_vector, v0=start)
        mu, vectors = found if keep_vector else (found, None)
    except spla.ArpackNoConvergence as exc:  # keep the eigenvalues that did converge
        if exc.eigenvalues.size == 0:
            raise RuntimeError(str(exc)) from None
        mu, vectors = exc.eigenvalues, None
    nonzero = np.abs(mu) > 1e-300
    return 1.0 / mu[nonzero], None if vectors is None else vectors[:, nonzero], count[0]


GAP_METHODS = ("dense", "arnoldi")
