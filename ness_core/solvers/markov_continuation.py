"""The Markov gap continued from a neighbouring point of a sweep (warm start).

:func:`continued_gap` chooses between
:meth:`~ness_core.solvers.markov.MarkovGenerator.track_gap` (inexact Newton on the slowest
mode, :func:`_newton_mode`) where the gap is the power-filtered Arnoldi, and Arnoldi started
from the previous slowest mode where it is shift-invert
(:mod:`ness_core.solvers.markov_spectrum`). Conventions: :mod:`ness_core.solvers.markov`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse.linalg as spla

from ness_core.solvers.markov_spectrum import (
    DENSE_MAX_STATES,
    MODE_TIE_RTOL,
    SpectralGap,
    _shift_invert_mode,
)
from ness_core.solvers.markov_stationary import ITERATIVE_MAXITER

if TYPE_CHECKING:
    from ness_core.solvers.markov import MarkovGenerator


def continued_gap(gen: MarkovGenerator, previous: SpectralGap | None
                  ) -> tuple[SpectralGap, str]:
    """The gap with its modes kept, warm-started from a neighbouring point's ``previous``
    (``spectral_gap(keep_modes=True)``):
    :meth:`~ness_core.solvers.markov.MarkovGenerator.track_gap` where the gap is the
    power-filtered Arnoldi, else Arnoldi started from the previous slowest mode. Returns the
    gap and why a warm start was refused (``""``: used, or none given).
    """
    modes = previous.modes if previous is not None else ()
    if not modes or modes[0][1].shape != (gen.n_states,) or gen.n_states <= DENSE_MAX_STATES:
        return gen.spectral_gap(keep_modes=True), ""
    if not _shift_invert_mode(gen):
        tracked = gen.track_gap(modes, previous.drift)
        if not isinstance(tracked, str):
            return tracked, ""
        return gen.spectral_gap(keep_modes=True), tracked
    return gen.spectral_gap(keep_modes=True, start=modes[0][1].real), ""


TRACK_STEPS = 8  # Newton steps of track_gap before the warm start is refused
TRACK_INNER_RTOL = 1e-3  # largest relative residual of a Newton step's BiCGSTAB solve
TRACK_JUMP = 0.5  # a tracked eigenvalue moving by more than this fraction of itself: refused


def _newton_mode(gen: MarkovGenerator, lam: complex, v: np.ndarray,
                 tol: float) -> tuple[complex, np.ndarray, int] | str:
    """Inexact Newton for the eigenpair of W near (lam, v): (λ, v, products) or why not.

    Unknowns (v, λ) with W v − λ v = 0 and cᴴ v = 1, c = v_old / ‖v_old‖². Each step solves
    the bordered Jacobian [[W − λ, −v], [cᴴ, 0]] by BiCGSTAB preconditioned by diag(W) − λ;
    real arithmetic for a real eigenvalue.
    """
    w = gen.matrix.tocsr()
    n = gen.n_states
    real = abs(lam.imag) <= MODE_TIE_RTOL * abs(lam)
    lam, v = (lam.real, v.real) if real else (complex(lam), v.astype(complex))
    if not (np.isfinite(lam) and lam.real < 0 and v.shape == (n,) and np.all(np.isfinite(v))):
        return "no usable mode to start from"
    c = v.conj() / np.vdot(v, v).real
    v = v / (c @ v)
    lam0, count = lam, 0
    for _ in range(TRACK_STEPS + 1):
        r = w @ v - lam * v
        count += 1
        relative = np.linalg.norm(r) / (abs(lam) * np.linalg.norm(v))
        if relative <= tol:
            if abs(lam - lam0) > TRACK_JUMP * abs(lam0) or lam.real >= 0:
                return f"eigenvalue jumped from {lam0:.6g} to {lam:.6g}"
            return complex(lam), v, count
        diagonal = w.diagonal() - lam
        if np.min(np.abs(diagonal)) <= 1e-12 * np.max(np.abs(diagonal)):
            return "singular Jacobi preconditioner"

        def jacobian(z: np.ndarray, lam: complex = lam, v: np.ndarray = v) -> np.ndarray:
            out = np.empty_like(z)  # a new array per call: BiCGSTAB keeps earlier results
            head = z[:n]
            np.subtract(w @ head, lam * head, out=out[:n])
            out[:n] -= v * z[n]
            out[n] = c @ head
            return out

        def jacobi(z: np.ndarray, inverse: np.ndarray = 1.0 / diagonal) -> np.ndarray:
            out = np.empty_like(z)
            np.multiply(z[:n], inverse, out=out[:n])
            out[n] = z[n]
            return out

        inner = [0]

        def callback(_: np.ndarray, inner: list = inner) -> None:
            inner[0] += 1

        shape, dtype = (n + 1, n + 1), v.dtype
        z, _info = spla.bicgstab(
            spla.LinearOperator(shape, matvec=jacobian, dtype=dtype), -np.r_[r, 0.0],
            rtol=_inner_rtol(relative, tol), maxiter=ITERATIVE_MAXITER, callback=callback,
            M=spla.LinearOperator(shape, matvec=jacobi, dtype=dtype))
        count += 2 * inner[0]
        if not np.all(np.isfinite(z)):
            return "Newton step not finite"
        v, lam = v + z[:n], lam + z[n]
    return f"not converged in {TRACK_STEPS} Newton steps"


def _inner_rtol(relative: float, tol: float) -> float:
    """Relative tolerance of a Newton step's solve at relative residual ``relative``: as
    loose as the quadratic term allows (≥ ``relative``), no tighter than the step needs to
    reach ``tol`` (half of ``tol``/``relative``), at most ``TRACK_INNER_RTOL``. From 1e-2
    the steps are then 1e-3 and 1e-5 instead of 1e-3 three times."""
    return min(TRACK_INNER_RTOL, max(relative, 0.5 * tol / relative))
