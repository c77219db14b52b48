"""Spectral gap of a Markov generator: dense, shift-invert and power-filtered Arnoldi.

The gap is -Re(lambda_1), lambda_1 the eigenvalue of W other than the stationary 0 with the
largest real part (conventions of :mod:`ness_core.solvers.markov`). Here are the methods of
:meth:`~ness_core.solvers.markov.MarkovGenerator.spectral_gap` (``GAP_METHODS``) and the
rightmost eigenvalues of any real sparse matrix by ARPACK on a power filter
(:func:`rightmost_eigenvalues`, with :func:`exceeds_real_part` as its cheap bound), used
where no LU fits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ness_core.solvers.markov_stationary import DIRECT_MAX_STATES, _pick

if TYPE_CHECKING:
    from ness_core.solvers.markov import MarkovGenerator

# Largest state space diagonalised densely under method="auto" (see MarkovGenerator.spectral_gap).
DENSE_MAX_STATES = 256
MODE_TIE_RTOL = 1e-8  # real parts this close (relative) count as one slowest rate
ARNOLDI_K = 6  # eigenvalues of smallest modulus found in shift-invert mode
ARNOLDI_TOL = 1e-10  # relative accuracy of the Ritz values
# ARPACK restarts allowed (scipy's default is 10·n, unbounded in practice at 2^20 states).
# Reaching it raises ArpackNoConvergence, a RuntimeError: the point's status.
ARNOLDI_MAXITER = 3000


@dataclass(frozen=True)
class SpectralGap:
    """Slowest relaxation mode of W.

    Attributes
    ----------
    gap : float
        -Re(lambda_1), lambda_1 the nonzero eigenvalue of W with the largest real part
        (1/time). 0 (to round-off) when W has more than one zero eigenvalue.
    imag : float
        |Im(lambda_1)|: 0 for a purely relaxing mode, > 0 for an oscillating one (1/time).
        If several eigenvalues share the largest real part (to relative ``MODE_TIE_RTOL``),
        the largest |Im| among them.
    method : {"dense", "arnoldi", "newton"}
        Method that produced the result (``"newton"``:
        :meth:`~ness_core.solvers.markov.MarkovGenerator.track_gap`).
    modes : tuple of (complex, ndarray)
        With ``keep_modes``: the nonzero eigenvalues found (one of each conjugate pair),
        slowest first, with their right eigenvectors (the start of
        :meth:`~ness_core.solvers.markov.MarkovGenerator.track_gap` at a neighbouring point);
        empty otherwise.
    products : int
        Matrix-vector products (or solves) spent; 0 for ``"dense"``.
    drift : tuple of (complex, ndarray)
        ``"newton"`` only: how the slowest mode moved from the previous point, (Δλ, Δv) with
        Δv ⊥ the previous vector (the new vector scaled to the same projection on it), the
        linear predictor of the next point's start; empty otherwise.
    """

    gap: float
    imag: float
    method: str
    modes: tuple = ()
    products: int = 0
    drift: tuple = ()


def slowest_mode(lam: np.ndarray, method: str) -> SpectralGap:
    """The eigenvalue with the largest real part among nonzero eigenvalues ``lam``.

    Of several eigenvalues sharing that real part, the largest |Im| is reported.
    """
    lam1 = lam[np.argmax(lam.real)]
    tied = lam.real >= lam1.real - MODE_TIE_RTOL * abs(lam1)
    return SpectralGap(float(-lam1.real), float(np.max(np.abs(lam[tied].imag))), method)


def _gap_dense(gen: MarkovGenerator) -> SpectralGap:
    lam = scipy.linalg.eigvals(gen.matrix.toarray())
    return slowest_mode(np.delete(lam, np.argmin(np.abs(lam))), "dense")


def _shift_invert_mode(gen: MarkovGenerator) -> bool:
    """Whether the Arnoldi gap works on the group inverse (else the power filter of W)."""
    return gen.n_states <= DIRECT_MAX_STATES or "_minor_lu" in gen.__dict__


def _gap_arnoldi(gen: MarkovGenerator, keep_modes: bool = False,
                 start: np.ndarray | None = None) -> SpectralGap:
    n = gen.n_states
    v0 = _arnoldi_start(n) if start is None else start
    if _shift_invert_mode(gen):
        lam, vec, products = _shift_invert_eigenvalues(gen, v0, keep_modes)
    else:
        lam, vec, products = rightmost_eigenvalues(gen.matrix, GENERATOR_K, "arnoldi",
                                                   zero_column_sums=True, start=v0)
    modes: tuple = ()
    if keep_modes:  # one of each conjugate pair, slowest first
        upper = lam.imag >= -MODE_TIE_RTOL * np.abs(lam)
        modes = tuple((complex(lam[i]), vec[:, i].copy())
                      for i in np.argsort(-lam.real) if upper[i])
    return replace(slowest_mode(lam, "arnoldi"), modes=modes, products=products)


def _shift_invert_eigenvalues(gen: MarkovGenerator, v0: np.ndarray, keep_modes: bool = False
                              ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """The ARNOLDI_K nonzero eigenvalues of W of smallest modulus via the group inverse, their
    eigenvectors (with ``keep_modes``, else None) and the solves spent."""
    n = gen.n_states
    if n < 3:
        raise ValueError("method 'arnoldi' needs at least 3 states (ARPACK: k < n - 1)")
    state = gen.stationary(method="direct")
    if state.status != "ok":
        raise np.linalg.LinAlgError(f"no unique stationary state: {state.status}")
    p = state.probabilities

    count = [0]

    def group_inverse(b: np.ndarray) -> np.ndarray:
        count[0] += 1
        return gen._group_inverse(p, b, "direct")[0]

    op = spla.LinearOperator((n, n), matvec=group_inverse, dtype=float)
    found = spla.eigs(op, k=min(ARNOLDI_K, n - 2), which="LM", tol=ARNOLDI_TOL,
                      maxiter=ARNOLDI_MAXITER, v0=v0, return_eigenvectors=keep_modes)
    mu, vec = found if keep_modes else (found, None)
    return 1.0 / mu, vec, count[0]


GAP_METHODS: dict[str, Callable[..., SpectralGap]] = {
    "dense": _gap_dense,
    "arnoldi": _gap_arnoldi,
}


FILTER_DEGREE = 16  # degree d of the power filter T^d = (I + A/c)^d of rightmost_eigenvalues
FILTER_NCV = 10  # its Krylov basis size per mode sought, plus one (k = 1: 20, k = 3: 40)
# ARPACK's tolerance on T^d: measured to leave ||A v - θ v|| <= 1e-13 |θ| ||v|| on the ASEP
# (2^17-2^19 states), inside ARNOLDI_TOL, which is checked.
FILTER_TOL = 1e-12
ZERO_FLOOR = 1e-4  # |θ| below this fraction of c: the residual is checked against it
GENERATOR_K = 3  # modes of W sought: a conjugate pair and the next, for the certificate
FILTER_RETRIES = 2  # searches with k + 2, k + 4 (and c doubled) when a check fails


def rightmost_eigenvalues(matrix: sp.spmatrix, k: int = 1, method: str = "auto",
                          zero_column_sums: bool = False, start: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, int]:
    """At least ``k`` eigenpairs of a real sparse square matrix A, the rightmost among them.

    ``"arnoldi"``: ARPACK's largest-modulus eigenvalues (``which="LM"``) of the power filter
    B = T^d, T = I + A/c, d = ``FILTER_DEGREE``, c = max_j max(-a_jj, (R_j - a_jj)/2) with
    R_j the off-diagonal absolute column sum (for a Markov generator: the largest exit
    rate). Gershgorin puts the spectrum of T in the unit disk, and the diagonal in [0, 1];
    |1 + λ/c| >= 1 + Re(λ)/c for any λ, so the eigenvalues of largest |t| include the
    rightmost once the smallest |t| found is <= 1 + Re(θ)/c of the rightmost θ found (the
    certificate). Otherwise, or if the rightmost θ misses the tolerance below, the search
    is repeated, up to ``FILTER_RETRIES`` times, with k + 2 and c doubled, which maps the
    Gershgorin disk into |t − 1/2| <= 1/2, where |t| grows with Re λ along the real axis
    (needed when the gap is comparable to c, or the spectrum of T lies on the unit circle,
    as for a unidirectional ring). Each ARPACK step costs d products but one
    orthogonalisation, which dominates a plain ``which="LR"`` Arnoldi on ~10^5-10^6 states
    (measured on the ASEP's odd block of 2^17 states: 0.96 s against 4.6 s).
    The eigenvalues θ of A are the Ritz values of A on the span of the returned vectors (a
    projected eigenproblem, since distinct λ can share one t^d); the rightmost is required
    to meet ||A v - θ v|| <= ``ARNOLDI_TOL`` max(|θ|, ``ZERO_FLOOR`` c) ||v|| (the others,
    of small |t^d|, are only as accurate as ARPACK's tolerance relative to the largest).
    At a defective eigenvalue (a Jordan block of size m, as at an exceptional point of a
    sweep) a residual ε leaves an error of order ε^(1/m): a generator with spectrum
    λ(λ + 2)⁵ gave −1.99992.
    With ``zero_column_sums`` (columns of A sum to 0, as for a generator) B acts as
    Q T^d Q, Q the orthogonal projector onto sum-zero vectors: A maps them into themselves
    and they hold every eigenvector but the stationary one, whose eigenvalue 0 is thereby
    removed. ``"dense"``: all eigenvalues (LAPACK geev; the 0 of the sum-one vector dropped
    with ``zero_column_sums``). ``"auto"``: dense up to ``DENSE_MAX_STATES``.

    Parameters
    ----------
    matrix : sparse matrix, shape (n, n)
    k : int, default 1
        Eigenpairs sought (ARPACK; ``"dense"`` returns all).
    method : {"auto", "dense", "arnoldi"}, default "auto"
    zero_column_sums : bool, default False
    start : ndarray, shape (n,), optional
        ARPACK start vector (default a fixed random one).

    Returns
    -------
    eigenvalues : ndarray of complex, shape (m,)
        Largest real part first.
    vectors : ndarray, shape (n, m)
        Right eigenvectors, column i for eigenvalue i (empty, shape (n, 0), for "dense").
    products : int
        Products with A (0 for "dense").

    Raises
    ------
    scipy.sparse.linalg.ArpackNoConvergence
        ARPACK did not converge, or the rightmost mode missed ``ARNOLDI_TOL`` on A or the
        certificate after the retries (a RuntimeError: a failed sweep point). A matrix of
        at most ``DENSE_MAX_STATES`` rows that misses them (ARPACK's k <= n − 2 can leave
        too few modes for the certificate: found at n = 6) is diagonalised densely instead,
        eigenvectors included.
    """
    n = matrix.shape[0]
    if _pick(method, {"dense": None, "arnoldi": None}, n <= DENSE_MAX_STATES,
             ("dense", "arnoldi")) == "dense":
        lam, _ = _dense_eigenpairs(matrix, zero_column_sums, vectors=False)
        return lam, np.empty((n, 0)), 0
    v0 = _arnoldi_start(n) if start is None else np.asarray(start, dtype=float)
    products = 0
    for attempt in range(FILTER_RETRIES + 1):
        power = _PowerFilter(matrix, zero_column_sums, 1.0 if attempt == 0 else 2.0)
        mu, vec = power.search(k, FILTER_TOL, power.project(v0))
        theta, vec, miss = power.ritz(vec)
        products += power.count
        order = np.argsort(-theta.real)
        top = order[0]
        reach = np.min(np.abs(mu)) ** (1.0 / FILTER_DEGREE)
        # relative to |θ|, floored at 1e-4 c: a second stationary state (θ = 0) passes
        if not miss[top] <= ARNOLDI_TOL * max(abs(theta[top]), ZERO_FLOOR * power.c):
            # e.g. eigenvalues of equal |t| (a ring: all on the unit circle) mixed
            why = f"residual {miss[top]:.1e} of θ = {theta[top]:.6g} exceeds {ARNOLDI_TOL:g}|θ|"
        elif reach > (1.0 + theta[top].real / power.c) * (1.0 + 1e-9):  # round-off margin
            why = f"rightmost of {k} modes not certified (|t| reach {reach:.12g})"
        else:
            return theta[order], vec[:, order], products
        k, v0 = min(k + 2, n - 2), vec[:, top].real
    if n <= DENSE_MAX_STATES:  # ARPACK's k <= n - 2 can leave too few modes to certify
        lam, vec = _dense_eigenpairs(matrix, zero_column_sums, vectors=True)
        return lam, vec, products
    raise spla.ArpackNoConvergence(f"filtered Arnoldi: {why}", theta, vec)


def _dense_eigenpairs(matrix: sp.spmatrix, zero_column_sums: bool, vectors: bool
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """All eigenvalues of A by LAPACK, largest real part first (with ``zero_column_sums``
    the one nearest 0, of the sum-one vector, dropped), and their right eigenvectors as
    columns with ``vectors`` (else None)."""
    if vectors:
        lam, vec = scipy.linalg.eig(matrix.toarray())
    else:
        lam, vec = scipy.linalg.eigvals(matrix.toarray()), None
    keep = np.arange(lam.size)
    if zero_column_sums:
        keep = np.delete(keep, np.argmin(np.abs(lam)))
    keep = keep[np.argsort(-lam[keep].real)]
    return lam[keep], None if vec is None else vec[:, keep]


# exceeds_real_part: one mode (of a conjugate pair the other has the same |t|, so it is not
# needed for the certificate), ARPACK's tolerance on T^d loose (only a decision is drawn);
# 913 products at 2^19 states against 1426 for the pair to 1e-6 with twice the basis.
BOUND_K = 1
BOUND_TOL = 1e-6


def exceeds_real_part(matrix: sp.spmatrix, bound: float, zero_column_sums: bool = False
                      ) -> tuple[bool, int]:
    """Whether A may have an eigenvalue with Re λ > ``bound``, and the products spent.

    The power filter of :func:`rightmost_eigenvalues` with ``BOUND_K`` modes to the loose
    ARPACK tolerance ``BOUND_TOL``: no eigenvalue lies right of the bound (False) if the
    smallest |t| found is <= 1 + bound/c (an eigenvalue right of the bound has
    |t| >= 1 + Re λ/c > 1 + bound/c, so it would have been found) and each found Ritz
    value θ has Re θ + ||A x − θ x||/||x|| <= bound. True otherwise, or for a matrix
    too small for ARPACK (n <= BOUND_K + 1): then compute the rightmost eigenvalues.
    """
    n = matrix.shape[0]
    if n <= BOUND_K + 1:
        return True, 0
    power = _PowerFilter(matrix, zero_column_sums)
    mu, vec = power.search(BOUND_K, BOUND_TOL, power.project(_arnoldi_start(n)))
    theta, _, miss = power.ritz(vec)
    reach = np.min(np.abs(mu)) ** (1.0 / FILTER_DEGREE)
    below = reach <= 1.0 + bound / power.c and bool(np.all(theta.real + miss <= bound))
    return not below, power.count


class _PowerFilter:
    """B = T^d, T = I + A/c (see :func:`rightmost_eigenvalues`; c times ``widen``), as an
    ARPACK operator."""

    def __init__(self, matrix: sp.spmatrix, zero_column_sums: bool, widen: float = 1.0):
        a = matrix.tocsc()
        n = a.shape[0]
        radius = np.asarray(abs(a).sum(axis=0)).ravel() - np.abs(a.diagonal())
        # A = 0: any c > 0 will do
        c = np.maximum(-a.diagonal(), (radius - a.diagonal()) / 2.0)
        self.c = widen * float(np.max(c)) or 1.0
        self._t = (sp.identity(n, format="csr") + a.tocsr() / self.c).tocsr()
        self._zero_sums = zero_column_sums
        self.count = 0  # products with A
        self._op = spla.LinearOperator((n, n), matvec=self._filtered, dtype=float)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Onto sum-zero vectors with ``zero_column_sums``, else x itself."""
        return x - x.mean() if self._zero_sums else x

    def _filtered(self, x: np.ndarray) -> np.ndarray:
        y = self.project(x)
        for _ in range(FILTER_DEGREE):
            y = self._t @ y
        self.count += FILTER_DEGREE
        return self.project(y)

    def search(self, k: int, tol: float, v0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ARPACK's k eigenpairs of B of largest modulus."""
        n = self._t.shape[0]
        return spla.eigs(self._op, k=k, which="LM", ncv=min(FILTER_NCV * (k + 1), n),
                         tol=tol, v0=v0, maxiter=ARNOLDI_MAXITER)

    def ritz(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rayleigh–Ritz of A on the span of ``vectors`` (columns, from B): eigenvalues θ,
        Ritz vectors x and residuals ||A x − θ x||/||x||. The projection, not each vector's
        own quotient, since eigenvalues of A with equal t^d share one eigenspace of B."""
        basis = np.column_stack((vectors.real, vectors.imag)) if np.iscomplexobj(vectors) \
            else vectors
        q, r, _ = scipy.linalg.qr(basis, mode="economic", pivoting=True)
        rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * abs(r[0, 0])))
        q = np.column_stack([self.project(q[:, j]) for j in range(rank)])
        aq = np.column_stack([self.c * (self.project(self._t @ q[:, j]) - q[:, j])
                              for j in range(rank)])
        self.count += rank
        theta, y = scipy.linalg.eig(q.T @ aq)
        x = q @ y
        miss = np.linalg.norm(aq @ y - x * theta, axis=0) / np.linalg.norm(x, axis=0)
        return theta, x, miss


def _arnoldi_start(n: int) -> np.ndarray:
    """A fixed generic start vector: ARPACK's default start is random, which made the gap
    differ between runs in the last digits; with this, results are reproducible."""
    return np.random.default_rng(0).standard_normal(n)
