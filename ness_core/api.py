"""``evaluate``: one parameter point of one model, validated, solved, checked."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.models import get_model

# Failures of the numerics at one point; recorded as data (status + NaN) so a sweep goes on.
NUMERICAL_ERRORS = (ArithmeticError, np.linalg.LinAlgError, RuntimeError)


def evaluate(model: str, **params: Any) -> dict[str, Any]:
    """Evaluate ``model`` at one parameter point.

    Parameters are DOMAIN.md's names; omitted ones take the model's defaults. Returns plain
    Python/numpy values: every declared observable (arrays for profiles), ``residual`` and
    ``status`` (``"ok"`` or a short reason). Bad input raises
    :class:`ness_core.errors.ParameterError` before anything is computed.
    """
    m = get_model(model)
    resolved = m.resolve(params)
    try:
        result = m.solve(resolved)
    except NUMERICAL_ERRORS as exc:
        result = failed_point(m, f"failed: {type(exc).__name__}: {exc}".splitlines()[0])
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
