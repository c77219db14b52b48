"""One status vocabulary for every solver result and every model point.

A point's ``status`` is exactly ``"ok"`` or a short failure reason; nothing else. A solve that
succeeded but left something out (e.g. a profile not computed at this size) stays ``"ok"``
and says so in the separate string observable ``note`` (``""`` when there is nothing to
say). Statuses of several steps (stationary state, gap, counting statistics, ...) combine with
:func:`combine`: the first failure wins, so the reported reason is the root cause, not a
consequence further down.

:func:`check_result` is the one physical sanity check applied to every model's result (by
:func:`ness_core.evaluate`): a result marked ``"ok"`` whose residual is above tolerance, whose
gap is negative or whose entropy production is negative beyond round-off gets a failure
status instead, with NaN observables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

OK = "ok"

# Tolerances of check_result (one global set, documented here, applied to every model).
# Residuals are in the generator's own units (Markov: max |W p|; Lindblad: ‖L ρ‖ with
# Tr ρ = 1; continuum: the discrete equation's residual, some relative to the heating), so a
# converged solve gives ~1e-12 of the model's rate scale or less. The check compares the
# residual with RESIDUAL_RTOL × max(1, |gap|, |gap_imag|, |current|): loose enough for any
# converged solve at any rate scale, tight enough to catch an inf/garbage residual.
RESIDUAL_RTOL = 1e-6
# A relaxation rate is never negative: gap < −GAP_ATOL is not round-off of a zero mode (in
# the models' units, rates O(1) by default; 1e-9 leaves room for the stationary zero mode
# at rates up to ~1e6). A more negative value means the solver did not resolve the slow mode
# (e.g. against |Im λ| ~ 1e138). Models whose gap is signed by design (an unstable branch of
# a continuum model) declare ``signed_gap = True`` and skip this check.
GAP_ATOL = 1e-9
# Second law: σ < −SIGMA_ATOL × max(1, |current|) is beyond the round-off of the sum.
SIGMA_ATOL = 1e-9


def is_ok(status: str) -> bool:
    """True exactly for ``"ok"``."""
    return status == OK


def combine(*statuses: str) -> str:
    """The first status that is not ``"ok"`` (empty strings are skipped), else ``"ok"``.

    >>> combine("ok", "gap failed: ARPACK", "not converged")
    'gap failed: ARPACK'
    """
    for status in statuses:
        if status and status != OK:
            return status
    return OK


def join_notes(*notes: str) -> str:
    """Non-empty notes joined by ``"; "`` (``""`` when there are none)."""
    return "; ".join(n for n in notes if n)


def _scalar(x: Any) -> float | None:
    """``x`` as a float if it is a real scalar (NaN and inf included), else None."""
    if isinstance(x, str | bytes):
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _magnitude(*values: float | None) -> float:
    """max(1, |v|) over the finite values."""
    return max([1.0] + [abs(v) for v in values if v is not None and math.isfinite(v)])


def check_result(result: Mapping[str, Any], signed_gap: bool = False) -> str:
    """``"ok"``, or why a result its model marked ``"ok"`` is not physical.

    Checks the scalar ``residual``, ``current``, ``gap`` and ``entropy_production``; NaN
    passes (it claims nothing), and an infinite σ is allowed (docs/conventions.md, "Signs":
    irreversible processes report ``inf``):

    * ``residual`` finite and ≤ RESIDUAL_RTOL × max(1, |gap|, |gap_imag|, |current|);
    * ``current`` and ``gap`` not ±inf (overflow);
    * ``gap`` ≥ −GAP_ATOL, unless ``signed_gap``;
    * ``entropy_production`` ≥ −SIGMA_ATOL × max(1, |current|).

    Parameters
    ----------
    result : mapping
        An ``evaluate`` result.
    signed_gap : bool, default False
        The model's gap may be negative (linearised dynamics about an unstable state).
    """
    current, gap = _scalar(result.get("current")), _scalar(result.get("gap"))
    imag, sigma = _scalar(result.get("gap_imag")), _scalar(result.get("entropy_production"))
    residual = _scalar(result.get("residual"))
    for name, value in (("current", current), ("gap", gap)):
        if value is not None and math.isinf(value):
            return f"overflow: {name} = {value}"
    if residual is not None and not math.isnan(residual):
        tol = RESIDUAL_RTOL * _magnitude(gap, imag, current)
        if not residual <= tol:
            return f"residual {residual:.3g} above tolerance {tol:.3g}"
    if not signed_gap and gap is not None and gap < -GAP_ATOL:
        return f"negative gap {gap:.3g}"
    if sigma is not None and sigma < -SIGMA_ATOL * _magnitude(current):
        return f"second law violated: entropy_production = {sigma:.3g}"
    return OK
