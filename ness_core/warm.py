"""Warm starts along a chunk: its points solved as a path, each from its neighbour's work.

The planner orders a chunk's points so that neighbours in parameter space are consecutive
(:func:`ness_core.sweep.path_order`). :func:`solve_path` then solves them in that order
through :meth:`Model.solve_warm`, handing each point what the previous one left
(:class:`WarmStep`'s ``state``: a stationary state, slowest modes, a fill-reducing
ordering, ...). A model without ``solve_warm`` is solved cold, point by point, exactly as
:func:`ness_core.api.evaluate` does. Contract of a warm model (docs/performance.md):

* the result equals the cold one to the solver's tolerance, whatever the chunking or the
  order, and ``residual`` is the true residual of this point;
* where the warm start cannot be trusted (no convergence, a jump, a crossing of modes) the
  model solves that part cold and says why in ``refused``.

:func:`solve_path` logs every refusal, and every point whose warm solve took more work
than the path's last cold solve (its ``state`` is then dropped, so the next point starts
cold), and solves a point cold again when its warm solve failed; the chunk log
(``results/logs/simulate/<study>/<chunk>.log``) keeps these lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ness_core.status import OK


@dataclass
class WarmStep:
    """One point of a path: its result, what it leaves for the next point (``None``: the
    next starts cold), the work spent (solver iterations, products or solves; 0: not
    counted) and why a warm start given was not used (``""``: used, or none given)."""

    result: dict[str, Any]
    state: Any = None
    work: int = 0
    refused: str = ""


def solve_path(model: str, points: Iterable[Mapping[str, Any]],
               progress: Callable[[int], None] | None = None,
               log: Callable[..., None] = logging.info) -> list[dict[str, Any]]:
    """Evaluate ``points`` (parameter dicts, in path order) of ``model`` as one path.

    Every result is what :func:`ness_core.api.evaluate` would report (validated, checked,
    failures as status and NaN). ``progress(done)`` is called after each point; ``log``
    receives the lines of refused or wasted warm starts.
    """
    from ness_core.api import checked_result
    from ness_core.models import get_model

    m = get_model(model)
    results: list[dict[str, Any]] = []
    state: Any = None
    cold_work = 0
    for k, params in enumerate(points):
        resolved = m.resolve(dict(params))
        warm = state is not None
        step = _step(m, resolved, state, checked_result)
        if warm and step.result["status"] != OK:
            log("point %d: warm start failed (%s); solved cold", k, step.result["status"])
            step, warm = _step(m, resolved, None, checked_result), False
        elif step.refused:
            log("point %d: warm start refused (%s); solved without it", k, step.refused)
        if not warm or step.refused:
            cold_work = step.work
        elif cold_work and step.work > cold_work:
            log("point %d: warm start took %d iterations, the last cold solve %d; next "
                "point starts cold", k, step.work, cold_work)
            step.state = None
        state = step.state if step.result["status"] == OK else None
        results.append(step.result)
        if progress is not None:
            progress(len(results))
    return results


def _step(m: Any, resolved: dict[str, Any], state: Any,
          checked_result: Callable[..., dict[str, Any]]) -> WarmStep:
    """``m.solve_warm`` at one point, its result checked as ``evaluate`` checks it."""
    holder: list[WarmStep] = []

    def solve(params: dict[str, Any]) -> dict[str, Any]:
        holder.append(m.solve_warm(params, state))
        return holder[0].result

    result = checked_result(m, resolved, solve)
    if not holder:  # the solve raised: a failed point, nothing to hand on
        return WarmStep(result)
    holder[0].result = result
    return holder[0]
