"""Continuous-time Markov jump processes: stationary state, currents, entropy production, gap.

Conventions (binding for every model built on this module), k_B = 1:

* ``rate[e]`` is the rate of the jump ``source[e] -> target[e]`` (1/time);
* the master equation is dp/dt = W p with W[j, i] = rate(i -> j) for i != j and
  W[i, i] = -sum_j rate(i -> j), so every column of W sums to zero;
* the probability flux of an edge is ``rate * p[source]``; the net current of a connected
  pair (i, j) is J_ij = k_ij p_i - k_ji p_j;
* the entropy production is Schnakenberg's
  sigma = sum_{pairs} (k_ij p_i - k_ji p_j) ln(k_ij p_i / (k_ji p_j)) >= 0;
* the spectral gap is -Re(lambda_1), lambda_1 the eigenvalue of W other than the stationary 0
  with the largest real part;
* a counted current gives each edge a weight w_e (e.g. +1 for i -> j, -1 for j -> i); Q_t is
  the sum of the weights of the jumps made up to time t. Its scaled cumulant generating
  function theta(s) = lim ln E[exp(s Q_t)] / t is the eigenvalue with the largest real part
  of the tilted generator W(s) (W with the off-diagonal entry of every edge multiplied by
  exp(s w_e)); the mean current is theta'(0) and lim Var(Q_t)/t = theta''(0).

:class:`MarkovGenerator` holds W, its graph and the factorisation of its pinned minor; the
methods behind it, with their constants, live in ``markov_stationary`` (stationary solves,
:class:`~ness_core.solvers.markov_stationary.StationaryState`), ``markov_spectrum`` (the gap:
dense, shift-invert, power-filtered Arnoldi), ``markov_continuation`` (the gap warm-started
from a neighbouring point) and ``markov_counting`` (SCGF, current fluctuations), all in
``ness_core.solvers``.

References: J. Schnakenberg, Rev. Mod. Phys. 48, 571 (1976) (network theory, cycle
affinities, entropy production); T. L. Hill, *Free Energy Transduction in Biology* (1977)
(matrix-tree theorem for stationary states); C. D. Meyer, SIAM Rev. 17, 443 (1975) (group
inverse of a singular M-matrix, used for shift-invert at the zero eigenvalue); J. L. Lebowitz,
H. Spohn, J. Stat. Phys. 95, 333 (1999) (tilted generator, Gallavotti-Cohen symmetry);
Z. Koza, J. Phys. A 32, 7637 (1999) and M. Bruderer et al., New J. Phys. 16, 033030 (2014)
(current cumulants by perturbation theory on the tilted generator).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike
from scipy.sparse import csgraph

from ness_core.solvers.markov_continuation import _newton_mode
from ness_core.solvers.markov_counting import SCGF_METHODS, CurrentCumulants
from ness_core.solvers.markov_spectrum import (
    DENSE_MAX_STATES,
    GAP_METHODS,
    SpectralGap,
    _gap_arnoldi,
    _gap_dense,
)
from ness_core.solvers.markov_stationary import (
    DIRECT_MAX_STATES,
    STATIONARY_METHODS,
    StationaryState,
    _bicgstab_minor,
    _pick,
)

# Relative residual above which the stationary solve is repeated with a better-scaled pin.
REFERENCE_RTOL = 1e-9
# Group-inverse solves re-pin at the mode when p_r is below this fraction of max p.
PIN_MIN_WEIGHT = 1e-6
# Uniformised power steps that estimate the most probable state for that second pin.
MODE_STEPS = 500


class MarkovGenerator:
    """dp/dt = W p; W[j, i] = rate(i -> j) for i != j, W[i, i] = -sum_j rate(i -> j).

    The columns of W sum to zero (probability is conserved).

    Parameters
    ----------
    n_states : int
        Number of states, labelled 0 .. n_states - 1.
    source, target : array_like of int, shape (n_edges,)
        Jump ``source[e] -> target[e]``.
    rate : array_like of float, shape (n_edges,)
        Rate of each jump (1/time), finite and >= 0.

    Raises
    ------
    ValueError
        On a self-loop, a negative or non-finite rate, an index out of range or mismatched
        shapes; the message names the first offending edge.

    Notes
    -----
    The edge list is canonicalised (vectorised, ~1 s for 1.2e7 edges): parallel duplicate
    edges are summed, zero-rate edges dropped, and edges sorted by (source, target). The
    canonical list is available as ``source``, ``target``, ``rate``.
    """

    def __init__(self, n_states: int, source: ArrayLike, target: ArrayLike, rate: ArrayLike):
        if int(n_states) != n_states or n_states < 1:
            raise ValueError(f"n_states must be a positive integer, got {n_states!r}")
        n = int(n_states)
        src = np.asarray(source)
        tgt = np.asarray(target)
        k = np.asarray(rate, dtype=float)
        if not (src.ndim == tgt.ndim == k.ndim == 1 and src.shape == tgt.shape == k.shape):
            raise ValueError(
                "source, target and rate must be 1-d arrays of equal length, got shapes "
                f"{src.shape}, {tgt.shape}, {k.shape}"
            )
        for name, idx in (("source", src), ("target", tgt)):
            if idx.size and not np.issubdtype(idx.dtype, np.integer):
                raise ValueError(f"{name} indices must be integers, got dtype {idx.dtype}")
            bad = np.flatnonzero((idx < 0) | (idx >= n))
            if bad.size:
                e = bad[0]
                raise ValueError(
                    f"{name} index out of range at edge {e}: {idx[e]} not in [0, {n})"
                )
        _raise_first(src == tgt, "self-loop", src, tgt, k)
        _raise_first(~np.isfinite(k), "non-finite rate", src, tgt, k)
        _raise_first(k < 0, "negative rate", src, tgt, k)
        # CSR construction sums duplicates in O(n_edges) and sorts column indices per row.
        rates = sp.csr_matrix((k, (src.astype(np.int64), tgt.astype(np.int64))), shape=(n, n))
        rates.sum_duplicates()
        rates.eliminate_zeros()
        self.n_states = n
        self._rates = rates  # K[i, j] = rate(i -> j)
        self.source = np.repeat(np.arange(n), np.diff(rates.indptr))
        self.target = rates.indices.astype(np.int64)
        self.rate = rates.data

    @cached_property
    def matrix(self) -> sp.csc_matrix:
        """The generator W, shape (n_states, n_states), columns summing to zero."""
        exit_rate = np.asarray(self._rates.sum(axis=1)).ravel()
        w = self._rates.T.tocsc() - sp.diags(exit_rate, format="csc")
        w.sort_indices()
        return w

    # ------------------------------------------------------------------ stationary state
    def stationary(self, method: str = "auto", tol: float = 1e-12,
                   start: np.ndarray | None = None) -> StationaryState:
        """Stationary distribution: W p = 0 with sum p = 1.

        Both methods fix p_r = 1 for a reference state r, solve the minor system
        W[~r, ~r] x = -W[~r, r] and normalise. By the matrix-tree theorem the minor is
        nonsingular exactly when r is reachable from every state, so r is taken in the
        unique closed communicating class (its state of smallest exit rate, the longest-lived
        one); transient states get p = 0. If the normalised result misses the equation by
        more than ``REFERENCE_RTOL`` relative to the largest outflow (r far out in the tail,
        p_r << max p, as in a chemical master equation), it is solved once more with r an
        estimate of the most probable state, and a remaining miss is reported in ``status``.
        A caller that knows where the mass lies passes ``start`` and r is its largest entry.

        Parameters
        ----------
        method : {"auto", "direct", "iterative"}, default "auto"
            ``"direct"``: sparse LU of the minor (SuperLU, COLAMD ordering); the
            factorisation is kept for :meth:`spectral_gap`. ``"iterative"``: BiCGSTAB with a
            Jacobi (diagonal) preconditioner, restarted from the current iterate after a
            breakdown. ``"auto"``: direct up to ``DIRECT_MAX_STATES`` = 2^11 states,
            iterative above. Measured on ASEP-like bit-flip networks (2^L states, ~12 edges
            per state, one loaded 2-core machine, seconds direct / iterative): 2^9 0.017 /
            0.025, 2^10 0.04 / 0.02, 2^11 0.20 / 0.03, 2^12 1.1 / 0.06, 2^14 14 / 0.13;
            iterative alone: 2^16 1.9 s (300 iterations), 2^18 8-15 s, 2^20 37-55 s
            (~500 iterations, peak 1.2 GB). LU fill grows like that of a hypercube there;
            for chain- or grid-like networks "direct" stays fast far beyond 2^11, and
            Jacobi-BiCGSTAB slows down (iterations ~ the network diameter), so models of
            such networks should ask for "direct".
        tol : float, default 1e-12
            Stopping rule of ``"iterative"``: ||W[~r, :] p||_2 <= tol * ||diag(W)[~r] p||_2,
            the master-equation imbalance relative to the outflow (a backward error, so
            independent of the scale of p). Ignored by ``"direct"``.
        start : ndarray, shape (n_states,), optional
            An approximation of p, >= 0 and positive somewhere in the closed class (e.g. a
            neighbouring sweep point's solution, or an indicator of the expected most
            probable state): the reference state is its largest entry there, and
            ``"iterative"`` starts from it.

        Returns
        -------
        StationaryState
            With NaN probabilities and a status naming the cause when the chain has more
            than one closed class (no unique stationary state), the iteration did not
            converge within ``ITERATIVE_MAXITER`` iterations, or p overflowed.
        """
        name = _pick(method, STATIONARY_METHODS, self.n_states <= DIRECT_MAX_STATES,
                     ("direct", "iterative"))
        if self.n_states == 1:
            return StationaryState(np.ones(1), 0.0, name, 0, "ok")
        closed = self._components[1]
        if closed.size != 1:
            return self._failed_state(name, f"not unique: {closed.size} closed classes")
        if start is not None:
            start = self._check_start(start)
            self._pin(start)
        state = STATIONARY_METHODS[name](self, tol, start)
        if state.status == "ok" and self._relative_residual(state) > REFERENCE_RTOL:
            # p_r = 1 pinned far out in the tail (p_r << max p, e.g. the empty state of a
            # master equation) leaves the pinned system badly scaled: pin the mode instead.
            self._set_reference()
            state = STATIONARY_METHODS[name](self, tol, None)
            error = self._relative_residual(state)
            if state.status == "ok" and error > REFERENCE_RTOL:
                state = replace(state, status=f"inaccurate: relative residual {error:.1e}")
        return state

    def _relative_residual(self, state: StationaryState) -> float:
        """max |W p| relative to the largest probability outflow max_i |W_ii| p_i."""
        outflow = np.max(np.abs(self.matrix.diagonal()) * state.probabilities)
        return state.residual / outflow if outflow > 0 else 0.0

    def _check_start(self, start: ArrayLike) -> np.ndarray:
        """``start`` as a float array; ValueError unless it can name a reference state."""
        start = self._check_p(start)
        label, closed = self._components
        if not (np.all(np.isfinite(start)) and np.all(start >= 0)
                and np.any(start[label == closed[0]] > 0)):
            raise ValueError("start must be finite, >= 0 and positive somewhere in the "
                             "closed class")
        return start

    def _set_reference(self) -> None:
        """Pin p_r = 1 from now on at a likely state of the closed class.

        The mode is estimated by ``MODE_STEPS`` steps of the uniformised chain
        p <- p + W p / max|W_ii| from the uniform distribution (sparse products only).
        """
        w = self.matrix
        step = 1.0 / np.max(np.abs(w.diagonal()))
        p = np.full(self.n_states, 1.0 / self.n_states)
        for _ in range(MODE_STEPS):
            p += step * (w @ p)
        self._pin(p)

    def _pin(self, p: np.ndarray) -> None:
        """Pin p_r = 1 at the largest entry of ``p`` in the closed class; drop stale factors."""
        label, closed = self._components
        candidates = np.flatnonzero(label == closed[0])
        self.__dict__["_reference_state"] = int(candidates[np.argmax(p[candidates])])
        for stale in ("_minor", "_minor_lu"):
            self.__dict__.pop(stale, None)

    def _failed_state(self, method: str, status: str) -> StationaryState:
        p = np.full(self.n_states, np.nan)
        return StationaryState(p, np.nan, method, 0, status)

    def _finish_state(self, x: np.ndarray, method: str, iterations: int,
                      status: str) -> StationaryState:
        """Put p_r = 1 back, clip round-off negatives, normalise, measure the residual."""
        p = np.empty(self.n_states)
        r = self._reference_state
        p[r] = 1.0
        p[np.arange(self.n_states) != r] = x
        if not np.all(np.isfinite(p)):
            return self._failed_state(method, "overflow: probabilities span > 1e308")
        p = np.clip(p, 0.0, None)
        p /= p.sum()
        residual = float(np.max(np.abs(self.matrix @ p)))
        return StationaryState(p, residual, method, iterations, status)

    @cached_property
    def _components(self) -> tuple[np.ndarray, np.ndarray]:
        """Strongly connected component of every state, and the closed components' labels."""
        n_comp, label = csgraph.connected_components(self._rates, directed=True,
                                                      connection="strong")
        leaves = label[self.source] != label[self.target]
        has_exit = np.zeros(n_comp, dtype=bool)
        has_exit[label[self.source[leaves]]] = True
        return label, np.flatnonzero(~has_exit)

    @cached_property
    def _reference_state(self) -> int:
        """State r with p_r fixed to 1: the longest-lived state of the closed class."""
        label, closed = self._components
        candidates = np.flatnonzero(label == closed[0])
        exit_rate = -self.matrix.diagonal()
        return int(candidates[np.argmin(exit_rate[candidates])])

    @cached_property
    def _minor(self) -> tuple[sp.csc_matrix, np.ndarray]:
        """The minor W[~r, ~r] and the right-hand side -W[~r, r]."""
        r = self._reference_state
        keep = np.flatnonzero(np.arange(self.n_states) != r)
        w = self.matrix
        rhs = -w[:, [r]].toarray().ravel()[keep]
        return sp.csc_matrix(w[keep][:, keep]), rhs

    @cached_property
    def _minor_lu(self) -> spla.SuperLU:
        """Sparse LU of the minor, shared by the direct solve and shift-invert Arnoldi."""
        return spla.splu(self._minor[0], permc_spec="COLAMD")

    # ------------------------------------------------------------------ currents
    def probability_fluxes(self, p: ArrayLike) -> np.ndarray:
        """Flux of every canonical edge, ``rate * p[source]``, shape (n_edges,)."""
        return self.rate * self._check_p(p)[self.source]

    def net_currents(self, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Net current of every connected unordered pair.

        Returns
        -------
        pairs : ndarray of int, shape (m, 2)
            One row per pair of states joined by at least one edge, ``pairs[:, 0] <
            pairs[:, 1]``, sorted.
        J : ndarray, shape (m,)
            Net flux pairs[:, 0] -> pairs[:, 1], k_ab p_a - k_ba p_b.
        """
        forward, backward = self._pair_fluxes(p)
        return self._pairs[0], forward - backward

    def current(self, p: ArrayLike, i: int, j: int) -> float:
        """Net flux i -> j, k_ij p_i - k_ji p_j (0 if i and j are not connected)."""
        p = self._check_p(p)
        return float(self._rates[i, j] * p[i] - self._rates[j, i] * p[j])

    def entropy_production(self, p: ArrayLike) -> float:
        """Schnakenberg entropy production rate (k_B = 1, units 1/time).

        sigma = sum over connected pairs of (J+ - J-) ln(J+ / J-), J+ = k_ij p_i,
        J- = k_ji p_j. Each term is >= 0 by construction. A pair with J+ > 0 and J- = 0
        (a one-way jump carrying flux) makes sigma infinite; a pair with no flux either way
        contributes 0. NaN if p contains NaN (e.g. a failed stationary solve).
        """
        forward, backward = self._pair_fluxes(p)
        if np.isnan(forward).any() or np.isnan(backward).any():
            return float("nan")
        one_way = (forward > 0) != (backward > 0)
        if np.any(one_way):
            return float("inf")
        both = forward > 0
        fp, bp = forward[both], backward[both]
        return float(np.sum(np.abs(fp - bp) * np.abs(np.log(fp) - np.log(bp))))

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unordered pairs (m, 2), and each edge's pair index and direction (lower -> higher)."""
        up = self.source < self.target
        low = np.where(up, self.source, self.target)
        high = np.where(up, self.target, self.source)
        key = low * self.n_states + high
        # Stable sort: the canonical order leaves long sorted runs (2.7x faster than unique).
        order = np.argsort(key, kind="stable")
        first = np.ones(key.size, dtype=bool)
        np.not_equal(key[order[1:]], key[order[:-1]], out=first[1:])
        index = np.empty(key.size, dtype=np.int64)
        index[order] = np.cumsum(first) - 1
        keys = key[order[first]]
        pairs = np.column_stack((keys // self.n_states, keys % self.n_states))
        return pairs, index, up

    def _pair_fluxes(self, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: flux lower -> higher and flux higher -> lower."""
        pairs, index, up = self._pairs
        flux = self.probability_fluxes(p)
        m = pairs.shape[0]
        forward = np.bincount(index[up], weights=flux[up], minlength=m)
        backward = np.bincount(index[~up], weights=flux[~up], minlength=m)
        return forward, backward

    def _check_p(self, p: ArrayLike) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if p.shape != (self.n_states,):
            raise ValueError(f"p must have shape ({self.n_states},), got {p.shape}")
        return p

    # ------------------------------------------------------------------ spectrum
    def spectral_gap(self, method: str = "auto", keep_modes: bool = False,
                     start: np.ndarray | None = None) -> SpectralGap:
        """Spectral gap -Re(lambda_1) of W and the frequency |Im(lambda_1)|.

        Parameters
        ----------
        method : {"auto", "dense", "arnoldi"}, default "auto"
            ``"dense"``: all eigenvalues by ``scipy.linalg.eigvals`` (LAPACK geev), O(n^3);
            the eigenvalue of smallest modulus is the stationary 0 and is dropped.
            ``"arnoldi"``: ARPACK (``scipy.sparse.linalg.eigs``) in one of two modes.
            Up to ``DIRECT_MAX_STATES`` states, or whenever :meth:`stationary` has already
            factorised the minor ("direct"), shift-invert at 0 on the group inverse W^#:
            W^# b solves the minor system with that LU and projects out the stationary
            state, so W^# has the eigenvalues 1/lambda of the nonzero lambda and 0 in place
            of the stationary 0; the ``ARNOLDI_K`` nonzero eigenvalues of smallest modulus
            are found and the one with the largest real part is returned (a mode with a
            larger modulus but a larger real part, i.e. a large imaginary part, would be
            missed). Above, where the LU does not fit, the ``GENERATOR_K`` = 3 rightmost
            nonzero eigenvalues of W itself by
            :func:`~ness_core.solvers.markov_spectrum.rightmost_eigenvalues` (ARPACK on a
            power filter of W restricted to sum-zero vectors, products only); its cost
            grows with the spectral radius / gap. ``"auto"``: dense up to
            ``DENSE_MAX_STATES`` = 256 states, arnoldi above.
        keep_modes : bool, default False
            Also return the slowest modes with their eigenvectors (``modes``, Arnoldi
            only), to start :meth:`track_gap` at a neighbouring point.
        start : ndarray, shape (n_states,), optional
            Arnoldi start vector (default a fixed random one), e.g. the slowest mode of a
            neighbouring point. In the former plain ``which="LR"`` mode it was measured
            not to help (1146 against 1147 products at 2^16 states): :meth:`track_gap`
            does.

        Notes
        -----
        Measured on ASEP-like bit-flip networks (one loaded 2-core machine): dense 0.045 s
        at 128 states, 0.11 s at 256, 0.78 s at 512, 13 s at 2048; arnoldi 0.02 s at 256,
        0.04 s at 512, 0.26 s (shift-invert) at 2048. Power-filtered (the ASEP at
        beta = 0.999, NESS + gap, benchmarks/asep_exact.py): 1.2 s at 2^16 states, 11 s at
        2^18, 49 s at 2^20 (peak 1 GB), against 2.6 / 25 / 144 s with the plain
        ``which="LR"`` Arnoldi it replaced (~3000 products at 2^20, two thirds of its time
        ARPACK's orthogonalisation). Shift-invert with iterative inner solves needs ~20x
        more products (each inner BiCGSTAB ~800) and was not used; a sparse LU of these
        networks costs 14 s and 0.5 GB already at 2^14 states. ARPACK calls BLAS on
        n x ncv blocks: with several processes per core, set ``OPENBLAS_NUM_THREADS=1``
        (measured 131 s -> 6 s at 2^16).

        Raises
        ------
        ValueError
            For a single-state chain (no relaxation mode), fewer than 3 states in
            shift-invert mode (ARPACK needs k < n - 1), or an unknown method.
        numpy.linalg.LinAlgError
            Shift-invert mode on a chain without a unique stationary state.
        scipy.sparse.linalg.ArpackNoConvergence
            ARPACK did not converge (a RuntimeError, recorded as a failed sweep point).
        """
        if self.n_states < 2:
            raise ValueError("the spectral gap needs at least 2 states")
        name = _pick(method, GAP_METHODS, self.n_states <= DENSE_MAX_STATES,
                     ("dense", "arnoldi"))
        if name == "dense":
            return _gap_dense(self)
        return _gap_arnoldi(self, keep_modes, start)

    def track_gap(self, modes: tuple, drift: tuple = (), tol: float = 1e-10
                  ) -> SpectralGap | str:
        """The slowest mode continued from a neighbouring point's ``modes`` (warm start).

        ``modes`` are (eigenvalue, right eigenvector) pairs of a nearby generator, slowest
        first (:meth:`spectral_gap` with ``keep_modes``). The slowest is refined by inexact
        Newton on W v = λ v, cᴴv = 1 (c the start vector; each step a Jacobi-preconditioned
        BiCGSTAB solve of the bordered Jacobian, to a relative tolerance between the
        residual and ``TRACK_INNER_RTOL``: ``markov_continuation._inner_rtol``) until
        ‖W v − λ v‖ <= tol |λ| ‖v‖, ARPACK's stopping rule in :meth:`spectral_gap`. The
        next mode is not refined: the Rayleigh quotient θ of its old vector x at this W plus
        the residual ‖W x − θ x‖ (a reach exact for normal W, a heuristic otherwise) must
        stay left of the new slowest eigenvalue, so the old vector is kept until the path
        has moved far enough for the reach to get there. Returns the gap with the new
        ``modes``, or why the warm start is refused (no convergence within
        ``TRACK_STEPS``, an eigenvalue moving by more than ``TRACK_JUMP`` of itself, the
        next mode within reach, fewer than two modes): the caller then solves cold. A
        Newton solve costs two products per iteration and keeps no Krylov basis, so a close
        start beats Arnoldi's ~10³ products at 2^16 states (700 against 1150 measured).
        A mode other than these two overtaking the slowest between two points is not seen.

        ``drift`` (the previous point's :attr:`SpectralGap.drift`) extrapolates the start
        linearly, (λ + Δλ, v + Δv), when that start has the smaller residual: along evenly
        spaced points its error is second order in the step, not first. On the ASEP path of
        benchmarks/warm_start.py the predictor cut the work per point (stationary BiCGSTAB
        iterations + gap products) from 1267 to 1147, with the inner tolerances to 1050
        (mostly two Newton steps instead of three).
        """
        if len(modes) < 2:
            return "fewer than two slow modes to track"
        (lam1, v1), (lam2, v2) = modes[0], modes[1]
        start, checks = _predicted_start(self, lam1, v1, drift)
        first = _newton_mode(self, *start, tol)
        if isinstance(first, str):
            return first
        mu1, w1, products = first
        products += checks
        # the next mode, not refined: its Rayleigh quotient at this W plus the residual of
        # its old vector, a reach (exact for normal W) that must stay behind mu1
        x = v2 / np.linalg.norm(v2)
        wx = self.matrix @ x
        theta = np.vdot(x, wx)
        reach = theta.real + np.linalg.norm(wx - theta * x)
        if reach >= mu1.real:
            return (f"the next mode may have reached the slowest: Re {theta.real:.6g} "
                    f"+ residual reaches {reach:.6g} >= {mu1.real:.6g}")
        scale = np.vdot(v1, w1) / np.vdot(v1, v1).real  # w1 with v1's projection on v1
        moved = w1 / scale - v1
        return SpectralGap(float(-mu1.real), float(abs(mu1.imag)), "newton",
                           ((mu1, w1), (lam2, v2)), products + 1,
                           (mu1 - lam1, moved.real if np.isrealobj(w1) else moved))

    # ------------------------------------------------------------------ counting statistics
    def edge_weights(self, source: ArrayLike, target: ArrayLike, weight: ArrayLike) -> np.ndarray:
        """Counting weights on the canonical edges from a list of counted jumps.

        Parameters
        ----------
        source, target : array_like of int, shape (m,)
            Counted jumps ``source[c] -> target[c]``.
        weight : array_like of float, shape (m,)
            Amount added to Q_t by each such jump (e.g. +1 / -1 for the two directions of
            a pair).

        Returns
        -------
        ndarray, shape (n_edges,)
            w_e aligned with ``self.source``, ``self.target``; 0 on uncounted edges. A
            counted jump that is not an edge (zero rate) never happens and is ignored;
            repeated jumps add their weights.
        """
        src = np.asarray(source, dtype=np.int64)
        tgt = np.asarray(target, dtype=np.int64)
        w = np.asarray(weight, dtype=float)
        if not (src.shape == tgt.shape == w.shape and w.ndim == 1):
            raise ValueError("source, target and weight must be 1-d arrays of equal length")
        if np.any((src < 0) | (src >= self.n_states) | (tgt < 0) | (tgt >= self.n_states)):
            raise ValueError(f"counted jump with a state index outside [0, {self.n_states})")
        edge_key = self.source * self.n_states + self.target  # sorted: canonical order
        key = src * self.n_states + tgt
        pos = np.minimum(np.searchsorted(edge_key, key), max(edge_key.size - 1, 0))
        found = edge_key[pos] == key if edge_key.size else np.zeros(key.size, dtype=bool)
        out = np.zeros(self.rate.size)
        np.add.at(out, pos[found], w[found])
        return out

    def tilted_matrix(self, weight: ArrayLike, s: float) -> sp.csc_matrix:
        """Tilted generator W(s): W with the entry of every edge e multiplied by exp(s w_e).

        Parameters
        ----------
        weight : array_like of float, shape (n_edges,)
            Counting weights on the canonical edges (:meth:`edge_weights`).
        s : float
            Counting field (1/weight).
        """
        w = self._check_weight(weight)
        tilted = sp.csc_matrix((self.rate * np.exp(s * w), (self.target, self.source)),
                               shape=(self.n_states, self.n_states))
        return tilted + sp.diags(self.matrix.diagonal(), format="csc")

    def scgf(self, weight: ArrayLike, s: ArrayLike, method: str = "auto") -> np.ndarray:
        """Scaled cumulant generating function theta(s) = lim ln E[exp(s Q_t)] / t.

        theta(s) is the eigenvalue of :meth:`tilted_matrix` with the largest real part; for
        an irreducible chain it is real (Perron-Frobenius applied to W(s) + c I), convex,
        theta(0) = 0, and by Gallavotti-Cohen theta(s) = theta(-s - A) when Q_t counts a
        cycle whose affinity is A (unicyclic networks; Lebowitz & Spohn 1999).

        Parameters
        ----------
        weight : array_like of float, shape (n_edges,)
            Counting weights on the canonical edges (:meth:`edge_weights`).
        s : array_like of float
            Counting fields (1/weight), any shape.
        method : {"auto", "dense", "arnoldi"}, default "auto"
            ``"dense"``: all eigenvalues of W(s) (LAPACK geev), O(n^3) per field.
            ``"arnoldi"``: the rightmost eigenvalue by ARPACK (``which="LR"``, matrix-vector
            products only), started from the eigenvector of the previous field of the
            flattened grid (from the uniform vector at the first), so a finely spaced grid
            costs few iterations per point. ``"auto"``: dense up to ``DENSE_MAX_STATES``.

        Returns
        -------
        ndarray, shape of ``s``
            theta(s) (1/time); the real part if ARPACK returns a complex Ritz value.
        """
        name = _pick(method, SCGF_METHODS, self.n_states <= DENSE_MAX_STATES,
                     ("dense", "arnoldi"))
        fields = np.asarray(s, dtype=float)
        weight = self._check_weight(weight)
        return SCGF_METHODS[name](self, weight, fields.ravel()).reshape(fields.shape)

    def current_cumulants(self, weight: ArrayLike, state: StationaryState) -> CurrentCumulants:
        """Mean J = theta'(0) and scaled variance D = theta''(0) of a counted current.

        Exact second-order perturbation theory of the Perron eigenvalue of W(s) = W + s W_1
        + s²/2 W_2 + ..., (W_k)[j, i] = sum of w_e^k rate_e over the edges e: i -> j (Koza
        1999; Bruderer et al. 2014). The left eigenvector at s = 0 is (1, ..., 1), the right
        one p, and the first-order correction of the right eigenvector is -W^# W_1 p, so

            J = sum_e w_e rate_e p[source_e],
            D = sum_e w_e² rate_e p[source_e] + 2 a · (-W)^# (W_1 p - J p),
            a_i = sum_{e: source_e = i} w_e rate_e   (the mean weight rate out of state i),

        with W^# the group (Drazin) inverse of W: W^# b for sum(b) = 0 is the solution of
        W x = b with sum(x) = 0. It costs one solve with the pinned minor W[~r, ~r] of
        :meth:`stationary`, then a projection (as in the shift-invert of
        :meth:`spectral_gap`): with ``state.method == "direct"`` the stored sparse LU is
        reused; with ``"iterative"`` one more Jacobi-BiCGSTAB solve to the same tolerance.
        No finite differences.

        Parameters
        ----------
        weight : array_like of float, shape (n_edges,)
            Counting weights on the canonical edges (:meth:`edge_weights`).
        state : StationaryState
            The result of :meth:`stationary` for this generator.

        Returns
        -------
        CurrentCumulants
            NaN with the reason in ``status`` if ``state`` failed or the solve did not
            converge.

        Notes
        -----
        Measured on the open ASEP (benchmarks/counting_statistics.py, one loaded 2-core
        machine), seconds stationary / cumulants: iterative 0.025 / 0.021 at 2^12 states,
        0.09 / 0.08 at 2^14, 0.36 / 0.37 at 2^16 (the extra solve costs about as much as
        the stationary one); direct 0.37 / 0.005 at 2^12, 14 / 0.05 at 2^14 (the LU
        dominates, the back-substitution is ~1 %).
        """
        w = self._check_weight(weight)
        if state.status != "ok":
            return CurrentCumulants(math.nan, math.nan, f"no stationary state: {state.status}")
        p = state.probabilities
        flux = self.probability_fluxes(p)
        mean = float(np.sum(w * flux))
        if self.n_states == 1:
            return CurrentCumulants(mean, float(np.sum(w * w * flux)), "ok")
        escape = np.bincount(self.source, weights=w * self.rate, minlength=self.n_states)
        drift = np.bincount(self.target, weights=w * flux, minlength=self.n_states) - mean * p
        x, status = self._group_inverse(p, drift, state.method)
        if status != "ok":
            return CurrentCumulants(math.nan, math.nan, status)
        variance = float(np.sum(w * w * flux) - 2.0 * escape @ x)
        return CurrentCumulants(mean, variance, "ok")

    def _group_inverse(self, p: np.ndarray, b: np.ndarray, method: str,
                       tol: float = 1e-12) -> tuple[np.ndarray, str]:
        """W^# b: solve W x = b (b projected onto sum 0) with x_r = 0, then make sum(x) = 0.

        The rows ~r of W x = b are the minor system; row r then holds because the columns
        of W and the projected b sum to zero. ``method`` "direct" uses the stored LU,
        "iterative" Jacobi-BiCGSTAB with the stopping rule of :meth:`stationary`.
        """
        if p[self._reference_state] < PIN_MIN_WEIGHT * p.max():
            # solves through a minor pinned far out in the tail lose digits (measured: a
            # gap wrong by 1e-6 relative with p_r ~ e^-40): re-pin at the most probable state
            self._pin(p)
        b = b - p * b.sum()
        keep = np.arange(self.n_states) != self._reference_state
        rhs = np.ascontiguousarray(b[keep])
        status = "ok"
        size = float(np.linalg.norm(rhs))
        if size == 0.0:
            solution = rhs
        elif method == "direct":
            solution = self._minor_lu.solve(rhs)
        else:
            # Unit right-hand side: BiCGSTAB's breakdown thresholds are absolute (eps²).
            unit = rhs / size
            solution, count, converged = _bicgstab_minor(
                self, unit, unit / self._minor[0].diagonal(), tol, floor=1.0)
            solution = solution * size
            if not converged:
                status = f"group inverse not converged after {count} iterations"
        x = np.zeros(self.n_states)
        x[keep] = solution
        return x - p * x.sum(), status

    def _check_weight(self, weight: ArrayLike) -> np.ndarray:
        w = np.asarray(weight, dtype=float)
        if w.shape != self.rate.shape:
            raise ValueError(f"weight must have shape ({self.rate.size},) (one per canonical "
                             f"edge, see edge_weights), got {w.shape}")
        return w

    # ------------------------------------------------------------------ graph structure
    def is_irreducible(self) -> bool:
        """True if every state can reach every other (one strongly connected component)."""
        return bool(np.all(self._components[0] == 0))

    def cycle_basis(self) -> list[list[int]]:
        """Fundamental cycles of the undirected graph of connected pairs.

        A breadth-first spanning forest is built; each pair (u, v) not in the forest closes
        one cycle ``[u, ..., lca, ..., v]`` (read u -> ... -> v -> u), the tree path from u
        to v followed by the chord v -> u. There are m - n + c of them (m pairs, c connected
        components). Cost: O(total cycle length) in Python, so meant for small networks.
        """
        pairs = self._pairs[0]
        n = self.n_states
        graph = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        n_comp, label = csgraph.connected_components(graph, directed=False)
        # A virtual root n joined to the first state of every component: one BFS spans all.
        roots = np.unique(label, return_index=True)[1]
        rows = np.concatenate((pairs[:, 0], np.full(n_comp, n)))
        cols = np.concatenate((pairs[:, 1], roots))
        forest = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
        _, parent = csgraph.breadth_first_order(forest, n, directed=False,
                                                return_predecessors=True)
        parent[roots] = -1
        tree = (parent[pairs[:, 1]] == pairs[:, 0]) | (parent[pairs[:, 0]] == pairs[:, 1])
        cycles = []
        for u, v in pairs[~tree]:
            up_path = _path_to_root(parent, u)
            on_up = {s: depth for depth, s in enumerate(up_path)}
            down_path = []
            s = v
            while s not in on_up:
                down_path.append(s)
                s = parent[s]
            cycles.append([int(x) for x in up_path[: on_up[s] + 1] + down_path[::-1]])
        return cycles

    def cycle_affinities(self) -> list[tuple[list[int], float]]:
        """Affinity A = ln(prod k_forward / prod k_backward) of every fundamental cycle.

        The cycle ``[i0, i1, ..., i_{L-1}]`` is read i0 -> i1 -> ... -> i_{L-1} -> i0
        (orientation of :meth:`cycle_basis`). A = +inf if some backward rate is zero,
        -inf if some forward rate is zero, NaN if both directions have a zero rate.
        """
        out = []
        for cycle, forward, backward in self._cycle_rates():
            f0, b0 = np.any(forward == 0), np.any(backward == 0)
            if f0 or b0:
                affinity = np.nan if (f0 and b0) else (-np.inf if f0 else np.inf)
            else:
                affinity = np.sum(np.log(forward)) - np.sum(np.log(backward))
            out.append((cycle, float(affinity)))
        return out

    def satisfies_kolmogorov(self, rtol: float = 1e-10) -> bool:
        """Kolmogorov's criterion for detailed balance.

        True if every jump has a reverse jump (k_ij > 0 iff k_ji > 0) and every fundamental
        cycle has |A| <= rtol * (1 + sum of |ln k| over the cycle's rates in both
        directions), i.e. prod k_forward = prod k_backward to relative precision ~rtol.
        """
        forward, backward = self._pair_fluxes(np.ones(self.n_states))
        if np.any((forward > 0) != (backward > 0)):
            return False
        for _, forward, backward in self._cycle_rates():
            log_f, log_b = np.log(forward), np.log(backward)
            scale = 1.0 + np.sum(np.abs(log_f)) + np.sum(np.abs(log_b))
            if not abs(np.sum(log_f) - np.sum(log_b)) <= rtol * scale:
                return False
        return True

    def _cycle_rates(self) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
        """Each fundamental cycle with its forward and backward rates, step by step."""
        out = []
        for cycle in self.cycle_basis():
            a = np.array(cycle)
            b = np.roll(a, -1)
            forward = np.asarray(self._rates[a, b]).ravel()
            backward = np.asarray(self._rates[b, a]).ravel()
            out.append((cycle, forward, backward))
        return out


# ---------------------------------------------------------------------- helpers
def _raise_first(bad: np.ndarray, what: str, src: np.ndarray, tgt: np.ndarray,
                 k: np.ndarray) -> None:
    idx = np.flatnonzero(bad)
    if idx.size:
        e = idx[0]
        raise ValueError(f"{what} at edge {e}: {src[e]} -> {tgt[e]} with rate {k[e]}")


def _path_to_root(parent: np.ndarray, s: int) -> list[int]:
    path = [int(s)]
    while parent[path[-1]] >= 0:
        path.append(int(parent[path[-1]]))
    return path


def _predicted_start(gen: MarkovGenerator, lam: complex, v: np.ndarray, drift: tuple
                     ) -> tuple[tuple[complex, np.ndarray], int]:
    """The start of the Newton continuation: (lam, v), or (lam + Δλ, v + Δv) from the
    previous step's ``drift`` if its relative residual ‖W x − θ x‖/‖x‖ is smaller; and the
    products spent comparing (0 without a usable drift)."""
    if len(drift) != 2 or np.shape(drift[1]) != np.shape(v):
        return (lam, v), 0
    guess = (lam + drift[0], v + drift[1])

    def residual(theta: complex, x: np.ndarray) -> float:
        return float(np.linalg.norm(gen.matrix @ x - theta * x) / np.linalg.norm(x))

    return (guess if residual(*guess) < residual(lam, v) else (lam, v)), 2
