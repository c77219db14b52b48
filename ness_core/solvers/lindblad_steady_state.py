"""Steady state of a Lindblad block: L ρ = 0 with Tr ρ = 1 (dense, direct, krylov).

One row of L belonging to a diagonal element is replaced by the trace row; the
factorisation of that bordered matrix (:meth:`~ness_core.solvers.lindblad.Liouvillian.factor`)
also serves the shift-invert steps of the gap (:mod:`ness_core.solvers.lindblad_spectrum`).
Conventions (ħ = k_B = 1, column-stacking vectorisation): :mod:`ness_core.solvers.lindblad`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ness_core.solvers.lindblad import Liouvillian

# Blocks up to this size are solved and diagonalised densely under method="auto".
DENSE_MAX_ELEMENTS = 300


@dataclass(frozen=True)
class SteadyState:
    """Solution of L ρ = 0, Tr ρ = 1.

    Attributes
    ----------
    rho : ndarray of complex, shape (n, n)
        Density matrix, Hermitian (symmetrised) with unit trace; NaN on failure.
    residual : float
        ‖L vec ρ‖₂ over the block (units 1/time).
    method : {"dense", "direct", "krylov"}
        Method that produced the solution.
    iterations : int
        GMRES iterations so far on this block's solver; 0 for direct methods.
    status : str
        ``"ok"`` or a short reason.
    refused : str
        Why a ``start`` given to :func:`steady_state` was not used (``""``: used, or none
        given).
    """

    rho: np.ndarray
    residual: float
    method: str
    iterations: int
    status: str
    refused: str = ""


def steady_state(liouvillian: Liouvillian, method: str = "auto",
                 start: np.ndarray | None = None) -> SteadyState:
    """Steady state: L ρ = 0 with Tr ρ = 1, solved in the liouvillian's block.

    Parameters
    ----------
    liouvillian : Liouvillian
        Generator restricted to a block containing the diagonal (e.g. charge q = 0).
    method : {"auto", "dense", "direct", "krylov"}, default "auto"
        ``"dense"``: LAPACK solve of the bordered system. ``"direct"``: SuperLU of the
        bordered system (the block's ``ordering``). ``"krylov"``: GMRES on the bordered system,
        right-preconditioned by the exact inverse of the no-jump part
        (:meth:`~ness_core.solvers.lindblad.Liouvillian.no_jump_inverse`), O(Σ_m n_m³) per
        step. ``"auto"``: dense up
        to ``DENSE_MAX_ELEMENTS`` elements, direct above.
    start : ndarray of complex, shape (size,), optional
        Initial guess of the ``"krylov"`` method over the block's elements (vec ρ at
        ``elements``), e.g. a neighbouring point's steady state in a sweep; ignored by the
        other methods. GMRES then solves for the correction, to the same true residual
        as from zero, so the result agrees with the cold one to the solver tolerance. A
        start of the wrong length, or whose residual is not below that of zero (‖b‖, the
        start is worse than none), is not used, and ``refused`` says why.

    Returns
    -------
    SteadyState
        NaN density matrix and a status naming the cause if the solve fails.
    """
    name = _pick(method, STEADY_METHODS, liouvillian.size <= DENSE_MAX_ELEMENTS, "direct")
    rhs = np.zeros(liouvillian.coordinates(name))
    rhs[liouvillian.border_row(name)] = 1.0
    refused = ""
    if start is not None and name == "krylov":
        start, refused = _krylov_start(liouvillian, rhs, start)
    try:
        if start is not None and name == "krylov":
            solve = liouvillian.factor("bordered", "krylov")
            x, iterations = solve(rhs.astype(complex), start), solve.iterations
        else:
            x, iterations = STEADY_METHODS[name](liouvillian, rhs)
    except (RuntimeError, np.linalg.LinAlgError) as exc:  # singular factor, no convergence
        nan = np.full((liouvillian.dim,) * 2, np.nan, dtype=complex)
        return SteadyState(nan, np.nan, name, 0, f"{name} solve failed: {exc}", refused)
    rho = liouvillian.to_matrix(x)
    rho = 0.5 * (rho + rho.conj().T)
    rho /= np.trace(rho).real
    vec = rho.ravel(order="F")[liouvillian.elements]
    residual = float(np.linalg.norm(liouvillian.matrix @ vec))
    return SteadyState(rho, residual, name, iterations, "ok", refused)


def _krylov_start(liou: Liouvillian, rhs: np.ndarray, start: np.ndarray
                  ) -> tuple[np.ndarray | None, str]:
    """The ``start`` of :func:`steady_state`'s GMRES, or None and why it is refused."""
    if start.shape != (liou.size,):
        return None, f"start of length {start.size} for a block of {liou.size} elements"
    defect = float(np.linalg.norm(rhs - liou.bordered[0] @ start))
    if not defect < float(np.linalg.norm(rhs)):
        return None, f"start residual {defect:.2e} not below the cold start's 1"
    return start.astype(complex), ""


def _steady_dense(liou: Liouvillian, rhs: np.ndarray) -> tuple[np.ndarray, int]:
    if liou.real_coordinates("dense"):
        x = scipy.linalg.solve(liou._border(liou.real_matrix, "dense").toarray(), rhs)
        return liou.coordinate_basis @ x, 0
    return scipy.linalg.solve(liou.bordered[0].toarray(), rhs), 0


def _steady_direct(liou: Liouvillian, rhs: np.ndarray) -> tuple[np.ndarray, int]:
    x = liou.factor("bordered", "direct")(rhs)
    return (liou.coordinate_basis @ x if liou.real_coordinates("direct") else x), 0


def _steady_krylov(liou: Liouvillian, rhs: np.ndarray) -> tuple[np.ndarray, int]:
    solve = liou.factor("bordered", "krylov")
    return solve(rhs.astype(complex)), solve.iterations


STEADY_METHODS: dict[str, Callable[[Liouvillian, np.ndarray], tuple[np.ndarray, int]]] = {
    "dense": _steady_dense,
    "direct": _steady_direct,
    "krylov": _steady_krylov,
}


def _pick(method: str, registry: Collection[str], small: bool, large: str) -> str:
    """Resolve ``"auto"`` to ``"dense"`` if ``small`` else ``large``; check the name."""
    if method == "auto":
        return "dense" if small else large
    if method not in registry:
        raise ValueError(f"unknown method {method!r}; valid methods: 'auto', "
                         + ", ".join(repr(m) for m in registry))
    return method
