"""Stationary-solve methods of a Markov generator: W p = 0, sum p = 1.

The methods of :meth:`~ness_core.solvers.markov.MarkovGenerator.stationary`
(``STATIONARY_METHODS``). Both solve the minor system W[~r, ~r] x = -W[~r, r] of a reference
state r whose pin, sparse LU and normalisation the generator holds
(:mod:`ness_core.solvers.markov`, whose conventions are binding here): ``"direct"`` by that
LU, ``"iterative"`` by Jacobi-BiCGSTAB (:func:`_bicgstab_minor`, which also serves the
generator's group-inverse solves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse.linalg as spla

if TYPE_CHECKING:
    from ness_core.solvers.markov import MarkovGenerator

# Largest state space solved by sparse LU under method="auto" (see MarkovGenerator.stationary).
DIRECT_MAX_STATES = 2**11


@dataclass(frozen=True)
class StationaryState:
    """Solution of W p = 0, sum p = 1.

    Attributes
    ----------
    probabilities : ndarray, shape (n_states,)
        Stationary distribution; >= 0 and summing to 1 (round-off negatives clipped and the
        vector renormalised). NaN where no unique stationary state was found (see ``status``).
    residual : float
        max_i |(W p)_i|, the infinity norm of the master-equation residual (1/time).
    method : {"direct", "iterative"}
        Method that produced the solution.
    iterations : int
        Krylov iterations; 0 for ``"direct"``.
    status : str
        ``"ok"`` or a short reason (e.g. ``"not converged after 500 iterations"``).
    """

    probabilities: np.ndarray
    residual: float
    method: str
    iterations: int
    status: str


def _stationary_direct(gen: MarkovGenerator, tol: float,
                       start: np.ndarray | None) -> StationaryState:
    try:
        x = gen._minor_lu.solve(gen._minor[1])
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        return gen._failed_state("direct", f"LU failed: {exc}")
    return gen._finish_state(x, "direct", 0, "ok")


ITERATIVE_MAXITER = 5000  # BiCGSTAB iterations, summed over restarts
ITERATIVE_RESTARTS = 10  # fresh starts (new shadow residual) after breakdown or drift


def _stationary_iterative(gen: MarkovGenerator, tol: float,
                          start: np.ndarray | None) -> StationaryState:
    minor, rhs = gen._minor
    if start is None:
        x0 = rhs / minor.diagonal()
    else:  # p / p_r off the reference state
        r = gen._reference_state
        x0 = np.delete(start, r) / start[r]
    x, count, converged = _bicgstab_minor(gen, rhs, x0, tol)
    status = "ok" if converged else f"not converged after {count} iterations"
    return gen._finish_state(x, "iterative", count, status)


def _bicgstab_minor(gen: MarkovGenerator, rhs: np.ndarray, x0: np.ndarray, tol: float,
                    floor: float = 0.0) -> tuple[np.ndarray, int, bool]:
    """Solve W[~r, ~r] x = rhs by Jacobi-preconditioned BiCGSTAB with restarts.

    Stops when ||W[~r, ~r] x - rhs||_2 <= tol * (||diag(W)[~r] x||_2 + floor) (imbalance
    relative to the outflow of the iterate; a ``floor`` ~ ||rhs|| keeps it attainable when the
    solution is ~0). Returns x, the iterations used and whether it converged.
    """
    minor = gen._minor[0]
    minor_csr = minor.tocsr()
    diagonal = minor.diagonal()
    jacobi = spla.LinearOperator(minor.shape, lambda v: v / diagonal)
    count = [0]

    def callback(_: np.ndarray) -> None:
        count[0] += 1

    x = x0
    for _ in range(ITERATIVE_RESTARTS):
        # Stop on the imbalance relative to the outflow of the current iterate.
        target = tol * (np.linalg.norm(diagonal * x) + floor)
        x, _info = spla.bicgstab(minor_csr, rhs, x0=x, rtol=0.0, atol=target, M=jacobi,
                                 maxiter=ITERATIVE_MAXITER - count[0], callback=callback)
        residual = np.linalg.norm(minor_csr @ x - rhs)
        converged = residual <= tol * (np.linalg.norm(diagonal * x) + floor)
        if converged or count[0] >= ITERATIVE_MAXITER:
            break
    return x, count[0], bool(converged)


# Each method: (generator, tol, start or None) -> StationaryState, ``start`` as in
# MarkovGenerator.stationary with the reference state already pinned at its largest entry.
STATIONARY_METHODS: dict[str, Callable[[MarkovGenerator, float, np.ndarray | None],
                                       StationaryState]] = {
    "direct": _stationary_direct,
    "iterative": _stationary_iterative,
}


def _pick(method: str, registry: dict, small: bool, choice: tuple[str, str]) -> str:
    """Resolve ``"auto"`` to ``choice[0]`` if ``small`` else ``choice[1]``; check the name."""
    if method == "auto":
        return choice[0] if small else choice[1]
    if method not in registry:
        raise ValueError(
            f"unknown method {method!r}; valid methods: 'auto', "
            + ", ".join(repr(m) for m in registry)
        )
    return method
