"""Counting statistics of a Markov jump process: SCGF methods and current fluctuations.

A counted current Q_t adds the weight w_e of every jump e made; its scaled cumulant
generating function theta(s) is the rightmost eigenvalue of the tilted generator W(s)
(conventions and references in :mod:`ness_core.solvers.markov`). Here are the methods of
:meth:`~ness_core.solvers.markov.MarkovGenerator.scgf` (``SCGF_METHODS``), the result of
:meth:`~ness_core.solvers.markov.MarkovGenerator.current_cumulants`
(:class:`CurrentCumulants`, shared with the Lindblad solver) and the observables made from
it (:func:`current_fluctuations`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla

from ness_core.solvers.markov_spectrum import ARNOLDI_MAXITER, ARNOLDI_TOL

if TYPE_CHECKING:
    from ness_core.solvers.markov import MarkovGenerator

ARNOLDI_NCV = 20  # Krylov basis size of the tilted generator's rightmost eigenvalue (scgf)


@dataclass(frozen=True)
class CurrentCumulants:
    """Mean and scaled variance of a counted current Q_t (``current_cumulants``).

    Attributes
    ----------
    mean : float
        J = theta'(0) = lim E[Q_t]/t (weight/time).
    variance : float
        D = theta''(0) = lim Var(Q_t)/t (weight²/time).
    status : str
        ``"ok"`` or a short reason; both values are NaN unless ``"ok"``.
    """

    mean: float
    variance: float
    status: str


def _scgf_dense(gen: MarkovGenerator, weight: np.ndarray, fields: np.ndarray) -> np.ndarray:
    out = np.empty(fields.size)
    for k, s in enumerate(fields):
        out[k] = np.max(scipy.linalg.eigvals(gen.tilted_matrix(weight, s).toarray()).real)
    return out


def _scgf_arnoldi(gen: MarkovGenerator, weight: np.ndarray, fields: np.ndarray) -> np.ndarray:
    out = np.empty(fields.size)
    start = np.full(gen.n_states, 1.0 / gen.n_states)
    for k, s in enumerate(fields):
        lam, vec = spla.eigs(gen.tilted_matrix(weight, s).tocsr(), k=1, which="LR",
                             ncv=min(ARNOLDI_NCV, gen.n_states - 1), tol=ARNOLDI_TOL, v0=start,
                             maxiter=ARNOLDI_MAXITER)
        out[k] = lam[0].real
        start = np.abs(vec[:, 0])  # the Perron vector has one sign
    return out


SCGF_METHODS: dict[str, Callable[[MarkovGenerator, np.ndarray, np.ndarray], np.ndarray]] = {
    "dense": _scgf_dense,
    "arnoldi": _scgf_arnoldi,
}


def current_fluctuations(mean: float, variance: float,
                         entropy_production: float) -> dict[str, float]:
    """Observables of a counted current from its cumulants (any unit of time).

    Returns ``current_variance`` = D = lim Var(Q_t)/t, ``fano_factor`` = D/|J| and
    ``tur_ratio`` = D sigma / J², which the thermodynamic uncertainty relation bounds below
    by 2 for Markov jump processes (Barato & Seifert, PRL 114, 158101 (2015); Gingrich et
    al., PRL 116, 120601 (2016)); it is reported as computed, never clipped. J = 0 gives
    fano_factor = inf (D > 0) and tur_ratio = NaN (sigma = 0 at equilibrium: 0/0) or inf.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.float64(mean)
        d = np.float64(variance)
        return {
            "current_variance": float(d),
            "fano_factor": float(d / abs(j)),
            "tur_ratio": float(d * np.float64(entropy_production) / (j * j)),
        }
