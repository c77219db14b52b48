"""``evaluate``: one parameter point of one model, validated, solved, checked."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ness_core.errors import ModelContractError, ParameterError
from ness_core.model import Model, Observable
from ness_core.models import get_model, short_name
from ness_core.status import OK, check_result

# Failures of the numerics at one point, recorded as data (status + NaN) so a sweep goes on:
# any Exception raised by ``solve`` (ValueError, OverflowError, LinAlgError, ARPACK, ...) at
# a point ``resolve`` accepted. ParameterError (bad input found late) still propagates.
NUMERICAL_ERRORS = (Exception,)


def evaluate(model: str, **params: Any) -> dict[str, Any]:
    """Evaluate ``model`` at one parameter point.

    Parameters are the model's declared names (docs/conventions.md); omitted ones take the
    model's defaults. Returns plain Python/numpy values: every declared observable (arrays
    for profiles), ``residual`` and ``status`` (exactly ``"ok"`` or a short failure
    reason, :mod:`ness_core.status`) and ``note`` (``""`` or what an ``"ok"`` point left
    out). Bad input raises
    :class:`ness_core.errors.ParameterError` before anything is computed; any exception of
    the solve itself becomes ``status`` with NaN observables. An ``"ok"`` result that fails
    :func:`ness_core.status.check_result` (residual above tolerance, negative gap, σ < 0
    beyond round-off, infinite current or gap) is reported as that failure with NaNs. A
    solve that returns undeclared or missing observables, or one of the wrong shape, breaks
    the model contract: :class:`ness_core.errors.ModelContractError`
    (:func:`check_observables`).
    """
    m = get_model(model)
    resolved = m.resolve(params)
    return checked_result(m, resolved, m.solve)


def checked_result(m: Model, resolved: dict[str, Any],
                   solve: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``solve(resolved)`` as :func:`evaluate` reports it: exceptions of the numerics as
    status and NaN, ``note`` filled in, an ``"ok"`` result checked, the contract enforced."""
    try:
        result = solve(resolved)
    except ParameterError:
        raise
    except NUMERICAL_ERRORS as exc:
        result = failed_point(m, f"failed: {type(exc).__name__}: {exc}".splitlines()[0])
    result.setdefault("note", "")
    if result.get("status") == OK:
        problem = check_result(result, signed_gap=getattr(m, "signed_gap", False))
        if problem != OK:
            result = failed_point(m, problem)
    check_observables(m, resolved, result)
    return result


def check_observables(m: Model, params: dict[str, Any], result: dict[str, Any]) -> None:
    """Raise :class:`ModelContractError` unless ``result`` holds exactly the observables
    ``m`` declares (``note`` optional, filled in before), each of its declared shape: a
    string for ``kind=str``, a real scalar for ``dims=()``, a real array of ``len(dims)``
    axes otherwise, whose length along a dimension named in ``Model.dimension_lengths`` is
    that parameter's value (or the array is empty: not computed at this point)."""
    declared = {o.name: o for o in m.all_observables()}
    where = f"model '{short_name(m.name)}' at {_shown(params)}"
    missing = [name for name in declared if name not in result]
    if missing:
        raise ModelContractError(f"{where} did not return {', '.join(missing)}")
    extra = [str(name) for name in result if name not in declared]
    if extra:
        raise ModelContractError(f"{where} returned undeclared observables "
                                 f"{', '.join(extra)}; declare them in Model.observables")
    for name, obs in declared.items():
        problem = _shape_problem(m, obs, params, result[name])
        if problem:
            raise ModelContractError(f"{where}, observable '{name}': {problem}")


def _shape_problem(m: Model, obs: Observable, params: dict[str, Any], value: Any) -> str:
    """Why ``value`` does not fit ``obs``, or ``""``."""
    if obs.kind is str:
        return "" if isinstance(value, str) else f"expected a string, got {type(value).__name__}"
    array = np.asarray(value) if not isinstance(value, str | bytes) else None
    if array is None or array.dtype.kind not in "biuf":
        return f"expected real numbers, got {type(value).__name__}"
    if array.ndim != len(obs.dims):
        want = "a scalar" if not obs.dims else f"an array of dims {obs.dims}"
        return f"expected {want}, got shape {array.shape}"
    if array.size == 0:
        return ""
    for dim, n in zip(obs.dims, array.shape, strict=True):
        length = params.get(m.dimension_lengths.get(dim, ""))
        if isinstance(length, int) and n != length:
            return (f"length {n} along '{dim}', expected {m.dimension_lengths[dim]} = "
                    f"{length}")
    return ""


def _shown(params: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= 120 else text[:117] + "..."


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
