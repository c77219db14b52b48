"""The slowest Lindblad modes continued from a neighbouring point: block shift-invert
Rayleigh–Ritz with the factor the steady state made (warm starts, docs/performance.md).

Along a sweep the ``modes`` eigenvalues of L closest to 0 (the set whose slowest member
:func:`ness_core.solvers.lindblad_spectrum.spectral_gap` reports) move little from point to
point, and so do their eigenvectors. :func:`track_gap` starts from the previous point's
modes (:class:`~ness_core.solvers.lindblad_spectrum.SlowModes`) and works with S = L^#, the
group inverse that the bordered factor of
:func:`~ness_core.solvers.lindblad_steady_state.steady_state` applies, on a growing
orthonormal basis V (real Hermitian coordinates):

1. W = S V for the whole start block in one SuperLU call; Ritz pairs (μ, y) of H = Vᵀ W,
   eigenvalues λ = 1/μ, ranked by |λ| as shift-invert Arnoldi ranks them;
2. the relative residual ‖W y − μ V y‖ / |μ| of each of the first max(``modes``,
   ``MIN_TRACKED``) + ``GUARD`` pairs (the tracked ones), from the stored W (no estimate:
   W is S V column by column; from the Gram matrix Wᵀ W where that is accurate, from the
   vectors for the pairs the decision rests on). For the improved vector x = W y it is the
   true residual ‖L x − λ x‖ / (|λ| ‖x‖) (L S v = v on traceless v), the quantity ARPACK's
   tolerance bounds;
3. only the pairs the gap still depends on are refined: their residuals, orthonormalised
   against V, are the next block (one SuperLU call), until the gap is certain (below).

The gap is −Re λ_s, λ_s the member of largest real part of the ``modes`` Ritz values of
smallest |λ|. It is certain when λ_s (and every member tied with it to ``MODE_TIE_RTOL``)
has relative residual ≤ ``ARNOLDI_TOL`` · min(1, ``GAP_MARGIN`` |Re λ_s| / |λ_s|) (so that
Re λ_s itself, not only λ_s, is accurate to ``ARNOLDI_TOL``: an oscillating slowest mode has
|Re λ| ≪ |λ|), and when no other Ritz value, within its error bar |λ| √(residual), can
overtake λ_s in real part or take the place in the set of a member that matters. The error
bar √η for a relative residual η is a heuristic (exact bounds need condition numbers); the
other members need only enough accuracy to be ranked, so they stop long before
``ARNOLDI_TOL``.

The warm start is declined while the previous slowest mode lies beyond ``EDGE_FRACTION`` of
the set's radius (an oscillating mode at the edge of the set converges slowly with the
shift at 0, and the cold Arnoldi iteration is cheaper), and refused (``refused`` names
why; the caller then solves cold) if the previous modes do not fit the block or lose
rank, if the gap is not certain within
``MAX_COLUMNS`` solved columns or ``MAX_CALLS`` solve calls, if an expansion adds no new
direction, if a member of the new set lies outside the span of the previous modes
(``MAX_NEW_FRACTION``: a mode from outside the previous set has come in, and others may have
been missed), or if the true residual of the slowest mode, computed with L, fails the
tolerance. All tracked pairs, members and guard, are handed on to the next point. A mode
that the previous set did not hold and the expansions never reach is not seen; the span
test above bounds that risk to modes that do not mix with the tracked ones.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_spectrum import ARNOLDI_TOL, SlowModes, SpectralGap, _shift_invert
from ness_core.solvers.lindblad_steady_state import SteadyState
from ness_core.solvers.markov_spectrum import MODE_TIE_RTOL

# Ritz pairs tracked beyond the ``modes`` wanted (at least MIN_TRACKED): candidates that
# may enter the set.
GUARD = 4
MIN_TRACKED = 8
# The gap is continued only while the previous slowest mode lies within this fraction of
# the set's radius. Its residual falls by |λ_s| / |λ| of the modes outside per solve call
# at best: Kerr at 120 Fock levels, ~30× per call for the real mode nearest 0 (6–9 calls,
# ~50 ms with the solves), ~4× for an oscillating slowest mode at the edge of the set
# (17–21 calls, 60–80 columns, ~300 ms against ~110 ms for the cold Arnoldi iteration).
EDGE_FRACTION = 0.5
# The slowest mode's relative residual is also held below GAP_MARGIN |Re λ| / |λ| times
# ARNOLDI_TOL, so that the gap −Re λ agrees with the cold one to ARNOLDI_TOL relative.
GAP_MARGIN = 0.1
# Budget of one warm solve; above it the point is solved cold. Kerr at 120 Fock levels:
# 17–33 columns in 6–10 calls (cold Arnoldi: 51–87 solves, one vector per call).
MAX_COLUMNS = 100
MAX_CALLS = 20
# A member of the new set whose unit eigenvector keeps more than this norm outside the span
# of the previous modes is a mode from outside the previous set.
MAX_NEW_FRACTION = 0.5
# Expansion directions (and start vectors) shorter than this, relative to their length
# before orthogonalisation, are dropped as dependent.
DEPENDENT_RTOL = 1e-10
# Rounding floor of a relative residual from the Gram matrix (its cancellation leaves
# ~√ε max|μ| / |μ|); the slowest modes' residuals are computed from the vectors.
GRAM_NOISE = 1e-7


def track_gap(liou: Liouvillian, steady: SteadyState, modes: int, previous: SlowModes
              ) -> tuple[SpectralGap | None, str]:
    """The gap of one block from the slow modes of a neighbouring point.

    Parameters
    ----------
    liou : Liouvillian
        A block solved by the ``"direct"`` method in real coordinates, holding the steady
        state.
    steady : SteadyState
        Its steady state (the bordered factor is reused).
    modes : int
        Eigenvalues closest to 0 that define the set (``spectral_gap``'s ``modes``).
    previous : SlowModes
        The neighbour's modes (``SpectralGap.modes``).

    Returns
    -------
    (SpectralGap or None, str)
        The gap with this point's modes and the solved columns in ``products``, and ``""``;
        or None and why the warm start is refused.
    """
    if not (liou.real_coordinates("direct") and liou.holds_trace("direct")):
        return None, "the block is not solved directly in real coordinates"
    if steady.status != "ok":
        return None, f"no steady state: {steady.status}"
    m = liou.coordinates("direct")
    if previous.basis.shape[0] != m or previous.basis.shape[1] < 1:
        return None, f"previous modes of length {previous.basis.shape[0]}, block of {m}"
    edge = _edge_ratio(previous.eigenvalues, modes)
    if edge > EDGE_FRACTION:
        return None, (f"the slowest mode lies at {edge:.2f} of the set's radius (an "
                      "oscillating mode at its edge): the cold Arnoldi iteration is cheaper")
    solve = _shift_invert(liou, steady, "direct")
    rho = liou.to_real(steady.rho.ravel(order="F")[liou.elements])
    trace = liou.trace_row("direct")
    start = previous.basis - np.multiply.outer(rho, trace @ previous.basis)  # traceless
    first = _orthonormal(None, start)
    if first.shape[1] < min(previous.basis.shape[1], modes):
        return None, (f"previous modes span {first.shape[1]} directions, fewer than the "
                      f"{min(previous.basis.shape[1], modes)} expected")
    tracked = max(modes, MIN_TRACKED) + GUARD
    space = _Subspace(m, first.shape[1] + MAX_COLUMNS + 2 * (tracked + 1))
    space.add(first, solve(first))
    while True:
        ritz = space.ritz(tracked)
        exact = set(_tied(ritz.lam, modes)) | set(np.flatnonzero(ritz.at_floor).tolist())
        while True:  # the residuals the decision rests on, from the vectors
            space.exact(ritz, exact)
            need = _refine(ritz.lam, ritz.residual, ritz.partner, modes)
            if exact.issuperset(need):
                break
            exact.update(need)
        if not need:
            break
        if space.columns >= MAX_COLUMNS or space.calls >= MAX_CALLS:
            s = _slowest(ritz.lam, modes)
            return None, (f"gap not certain after {space.columns} solved columns in "
                          f"{space.calls} calls (slowest mode residual "
                          f"{ritz.residual[s]:.1e})")
        block = _orthonormal(space.basis, space.residual_columns(ritz, need))
        if block.shape[1] == 0:
            return None, "the expansion added no new direction (subspace lost rank)"
        space.add(block, solve(block))
    lam = ritz.lam
    kept = np.arange(lam.size)  # members and guard: the next point's start
    vectors = space.improved(ritz, kept)
    members = kept[:min(modes, lam.size)]
    outside = np.linalg.norm(vectors[:, members] - first @ (first.T @ vectors[:, members].real)
                             - 1j * (first @ (first.T @ vectors[:, members].imag)), axis=0)
    if np.any(outside > MAX_NEW_FRACTION):
        i = int(np.argmax(outside))
        return None, (f"mode λ = {lam[i]:.4g} lies {outside[i]:.2f} outside the span of "
                      "the previous modes (it came from outside the previous set)")
    s = _slowest(lam, modes)
    tied = members[lam[members].real >= lam[s].real - MODE_TIE_RTOL * abs(lam[s])]
    matrix = liou.real_matrix
    for i in tied:  # the true residual of the slowest modes, with L itself
        x = vectors[:, i]
        true = np.linalg.norm(matrix @ x.real + 1j * (matrix @ x.imag) - lam[i] * x)
        if not true <= ARNOLDI_TOL * abs(lam[i]):
            return None, f"true residual {true / abs(lam[i]):.1e} of λ = {lam[i]:.4g}"
    modes_found = SlowModes.of(lam, vectors)
    gap = SpectralGap(float(-lam[s].real), float(np.max(np.abs(lam[tied].imag))),
                      "tracked", "ok", modes_found, space.columns, space.calls)
    return gap, ""


class _Ritz:
    """Ritz pairs (μ, y) of S on span V ranked by |μ|: λ = 1/μ, unit y, the index of each
    one's complex conjugate (itself if real) and relative residuals ‖W y − μ V y‖ / |μ|."""

    def __init__(self, mu: np.ndarray, y: np.ndarray, residual: np.ndarray,
                 at_floor: np.ndarray):
        self.mu, self.y, self.residual, self.at_floor = mu, y, residual, at_floor
        self.lam = 1.0 / mu
        self.exact: dict[int, np.ndarray] = {}  # residual vectors computed
        self.partner = np.arange(mu.size)
        for i in np.flatnonzero(mu.imag != 0):
            close = np.flatnonzero(np.abs(mu - np.conj(mu[i])) <= 1e-12 * abs(mu[i]))
            if close.size:
                self.partner[i] = close[0]


class _Subspace:
    """Orthonormal basis V (columns), W = S V, H = Vᵀ W and Wᵀ W, grown by blocks."""

    def __init__(self, m: int, capacity: int):
        self._v = np.empty((m, capacity), order="F")
        self._w = np.empty((m, capacity), order="F")
        self._h = np.empty((capacity, capacity))
        self._gram = np.empty((capacity, capacity))
        self.n = self.columns = self.calls = 0

    @property
    def basis(self) -> np.ndarray:
        return self._v[:, :self.n]

    @property
    def image(self) -> np.ndarray:
        return self._w[:, :self.n]

    def add(self, block: np.ndarray, image: np.ndarray) -> None:
        """Append orthonormal columns ``block`` (⊥ V) and their images S ``block``."""
        n, b = self.n, block.shape[1]
        v, w = self.basis, self.image
        self._h[:n, n:n + b] = v.T @ image
        self._h[n:n + b, :n] = block.T @ w
        self._h[n:n + b, n:n + b] = block.T @ image
        self._gram[:n, n:n + b] = w.T @ image
        self._gram[n:n + b, :n] = self._gram[:n, n:n + b].T
        self._gram[n:n + b, n:n + b] = image.T @ image
        self._v[:, n:n + b], self._w[:, n:n + b] = block, image
        self.n += b
        self.columns += b
        self.calls += 1

    def ritz(self, count: int) -> _Ritz:
        """The ``count`` Ritz pairs of largest |μ| (a conjugate pair kept whole).

        Residuals from the Gram matrix, ‖r‖² = yᴴ Wᵀ W y − |μ|², not below its rounding
        floor ``GRAM_NOISE`` max|μ| / |μ| (call :meth:`exact` for smaller ones)."""
        n = self.n
        mu, y = scipy.linalg.eig(self._h[:n, :n])
        order = np.argsort(-np.abs(mu), kind="stable")
        count = min(count, n)
        if count < n and mu[order[count - 1]].imag != 0 and abs(
                mu[order[count]] - np.conj(mu[order[count - 1]])) <= 1e-12 * abs(mu[order[count]]):
            count += 1
        mu, y = mu[order[:count]], y[:, order[:count]]
        y = y / np.linalg.norm(y, axis=0)
        squared = np.einsum("ij,ij->j", y.conj(), self._gram[:n, :n] @ y).real
        residual = np.sqrt(np.maximum(squared - np.abs(mu) ** 2, 0.0)) / np.abs(mu)
        floor = GRAM_NOISE * np.abs(mu).max() / np.abs(mu)
        return _Ritz(mu, y, np.maximum(residual, floor), residual < 10 * floor)

    def exact(self, ritz: _Ritz, which: set[int]) -> None:
        """Compute the residual vectors W y − μ V y of the pairs ``which`` (one pass over
        V and W for all) and replace their residuals by ‖W y − μ V y‖ / |μ|."""
        which = np.array(sorted(set(which) - set(ritz.exact)), dtype=int)
        if not which.size:
            return
        r = self.residuals(ritz, which)
        ritz.residual[which] = np.linalg.norm(r, axis=0) / np.abs(ritz.mu[which])
        ritz.exact.update(zip(which.tolist(), r.T, strict=True))

    def residuals(self, ritz: _Ritz, which: np.ndarray) -> np.ndarray:
        """W y − μ V y of the pairs ``which`` (complex columns)."""
        y = ritz.y[:, which]
        parts = np.hstack([y.real, y.imag])
        k = y.shape[1]
        w, v = self.image @ parts, self.basis @ parts
        return (w[:, :k] + 1j * w[:, k:]) - (v[:, :k] + 1j * v[:, k:]) * ritz.mu[which]

    def residual_columns(self, ritz: _Ritz, which: list[int]) -> np.ndarray:
        """Real and imaginary parts of the residuals of the pairs ``which`` (one of each
        conjugate pair)."""
        which = sorted({min(i, int(ritz.partner[i])) for i in which})
        self.exact(ritz, set(which))
        r = np.array([ritz.exact[i] for i in which]).T
        return np.hstack([r.real, r.imag[:, ritz.mu[which].imag != 0]])

    def improved(self, ritz: _Ritz, which: np.ndarray) -> np.ndarray:
        """x = S (V y) = W y of the pairs ``which``, unit columns."""
        y = ritz.y[:, which]
        x = self.image @ y.real + 1j * (self.image @ y.imag)
        return x / np.linalg.norm(x, axis=0)


def _edge_ratio(lam: np.ndarray, modes: int) -> float:
    """|λ_s| over the radius of the set: |λ| of the first eigenvalue outside it (not a
    member's conjugate), or of the last member if none was kept (0 for a set of one, whose
    member is the mode nearest 0)."""
    k = min(modes, lam.size)
    s = _slowest(lam, k)
    outside = [j for j in range(k, lam.size)
               if not np.any(np.abs(lam[j] - np.conj(lam[:k])) <= 1e-12 * abs(lam[j]))]
    if not outside and k == 1:
        return 0.0
    radius = abs(lam[outside[0]]) if outside else abs(lam[k - 1])
    return float(abs(lam[s]) / radius)


def _slowest(lam: np.ndarray, modes: int) -> int:
    return int(np.argmax(lam[:modes].real))


def _tied(lam: np.ndarray, modes: int) -> list[int]:
    """Members whose real part ties with the slowest's (``MODE_TIE_RTOL``)."""
    s = _slowest(lam, modes)
    threshold = lam[s].real - MODE_TIE_RTOL * abs(lam[s])
    return [i for i in range(min(modes, lam.size)) if lam[i].real >= threshold]


def _slowest_rtol(lam_s: complex) -> float:
    return ARNOLDI_TOL * min(1.0, GAP_MARGIN * abs(lam_s.real) / abs(lam_s))


def _refine(lam: np.ndarray, res: np.ndarray, partner: np.ndarray, modes: int) -> list[int]:
    """Indices of the tracked pairs the gap still depends on ([]: the gap is certain).

    ``lam`` is ranked by |λ|, its first ``modes`` entries are the set; ``partner[i]`` is
    the index of the complex conjugate of ``lam[i]``."""
    k = min(modes, lam.size)
    members = range(k)
    bar = np.abs(lam) * np.sqrt(res)  # heuristic error bars
    s = _slowest(lam, k)
    threshold = lam[s].real - MODE_TIE_RTOL * abs(lam[s])
    tied = _tied(lam, k)
    need = {i for i in tied if res[i] > _slowest_rtol(lam[s])}
    for i in members:
        if i not in tied and lam[i].real + bar[i] >= threshold:
            need.update({i, s})  # may overtake the slowest
        if i in tied and i not in (s, partner[s]) and lam[i].real - bar[i] < threshold:
            need.update({i, s})  # may not be tied after all
    edge = max(members, key=lambda i: abs(lam[i]) + bar[i])
    reach = abs(lam[edge]) + bar[edge]
    for j in range(k, lam.size):
        if partner[j] < k or abs(lam[j]) - bar[j] > reach:
            continue  # a member's conjugate (same real part), or certainly outside
        displaced = [i for i in tied if abs(lam[i]) + bar[i] >= abs(lam[j]) - bar[j]]
        if lam[j].real + bar[j] >= threshold or displaced:
            need.update({j, edge, *displaced})
    return sorted(int(i) for i in need)


def _orthonormal(basis: np.ndarray | None, block: np.ndarray) -> np.ndarray:
    """``block`` orthonormalised against ``basis`` (classical Gram–Schmidt) and within
    itself (QR with column pivoting), dependent columns dropped. Done again unless the
    first pass kept every direction at more than half its length: a shorter one is
    rescaled, and with it what rounding left along ``basis`` (Daniel–Gragg–Kaufman–Stewart
    criterion)."""
    scale = np.linalg.norm(block, axis=0).max(initial=0.0)
    for _ in range(2):
        if basis is not None and basis.shape[1]:
            block = block - basis @ (basis.T @ block)
        if block.shape[1] == 0 or scale == 0:
            return block[:, :0]
        q, r, _ = scipy.linalg.qr(block, mode="economic", pivoting=True)
        d = np.abs(np.diag(r))
        rank = int(np.sum(d > DEPENDENT_RTOL * scale))
        block = q[:, :rank]
        if rank == 0 or d[rank - 1] > 0.5 * scale:
            break
        scale = 1.0
    return block
