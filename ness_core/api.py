"""``evaluate``: one parameter point of one model, validated, solved, checked."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.errors import ParameterError
from ness_core.models import get_model
from ness_core.status import OK, check_result

# Failures of the numerics at one point, recorded as data (status + NaN) so a sweep goes on:
# any Exception raised by ``solve`` (ValueError, OverflowError, LinAlgError, ARPACK, ...) at
# a point ``resolve`` accepted. ParameterError (bad input found late) still propagates.
NUMERICAL_ERRORS = (Exception,)


def evaluate(model: str, **params: Any) -> dict[str, Any]:
    """Evaluate ``model`` at one parameter point.

    Parameters are DOMAIN.md's names; omitted ones take the model's defaults. Returns plain
    Python/numpy values: every declared observable (arrays for profiles), ``residual`` and
    ``status`` (exactly ``"ok"`` or a short failure reason, :mod:`ness_core.status`) and
    ``note`` (``""`` or what an ``"ok"`` point left out). Bad input raises
    :class:`ness_core.errors.ParameterError` before anything is computed; any exception of
    the solve itself becomes ``status`` with NaN observables. An ``"ok"`` result that fails
    :func:`ness_core.status.check_result` (residual above tolerance, negative gap, σ < 0
    beyond round-off, infinite current or gap) is reported as that failure with NaNs.
    """
    m = get_model(model)
    resolved = m.resolve(params)
    try:
        result = m.solve(resolved)
    except ParameterError:
        raise
    except NUMERICAL_ERRORS as exc:
        result = failed_point(m, f"failed: {type(exc).__name__}: {exc}".splitlines()[0])
    result.setdefault("note", "")
    if result.get("status") == OK:
        problem = check_result(result, signed_gap=getattr(m, "signed_gap", False))
        if problem != OK:
            result = failed_point(m, problem)
    missing = [o.name for o in m.all_observables() if o.name not in result]
    if missing:
        raise RuntimeError(f"model '{m.name}' did not return {', '.join(missing)}")
    return result


def failed_point(m, status: str) -> dict[str, Any]:
    """Observables of a point whose solve failed: NaN scalars, empty arrays, the reason."""
    out: dict[str, Any] = {}
    for o in m.all_observables():
        if o.kind is str:
            out[o.name] = ""
        elif o.dims:
            out[o.name] = np.full((0,) * len(o.dims), math.nan)
        else:
            out[o.name] = math.nan
    out["status"] = status
    return out
