"""Adaptive refinement along one swept axis: propose the next points of a slice.

Pure algorithms, no workflow: given the computed samples ``(x, y)`` of one slice (one
combination of the other swept axes), :func:`propose` returns the points to compute next
and the slice's current :class:`Status`; :func:`refine_function` runs the rounds in
process (tests, benchmarks). Points are proposed in *rounds* of a few points each, so a
pipeline pays few round trips. Targets and conventions:

``minimum`` (``maximum``: the minimum of ``-y``)
    The best sample ``m`` and its neighbours ``a < m < b`` bracket the minimum (a smooth
    function, unimodal between the coarse grid's neighbours of its best point). The
    parabola through ``a, m, b`` gives the vertex ``u`` and the curvature ``c``;
    ``h = sqrt(2 tol |y_m| / c)`` is the distance over which it rises by ``tol |y_m|``.
    A round proposes ``u`` and ``u ± h`` (inside the bracket) and, on each side of ``m``
    still wider than ``4 h``, the probe ``m ∓ 2 h``: either the probe is higher (that
    side of the bracket shrinks to ``2 h``) or it is lower (the best point moves downhill
    by at least ``2 h``), so the bracket shrinks every round. While exactly one side is
    within ``4 h``, the vertex of the nearest samples' parabola and that vertex ``± h``
    are proposed too (:func:`_local_vertex`), so a far bracket end does not slow it.
    Without a usable parabola (``c <= 0`` or ``u`` outside the bracket) golden-section
    points split both sides.
    ``value`` is the best *computed* ``y_m``, ``location`` its ``x_m``; ``uncertainty`` is
    ``(y_m - p(u)) / |y_m|``, the parabola's estimate of how far ``y_m`` lies above the
    true minimum (exact for a quadratic). Converged: ``uncertainty <= tol`` and both
    neighbours within ``4 h`` of ``m`` (so the parabola is local). A best point on the
    domain's edge is reported there, converged, with ``at_edge``.
``steepest`` (largest ``|dy/dx|``)
    The interval ``k`` of largest secant slope ``|s_k|`` and its two neighbours are
    bisected each round. ``location`` is the middle of interval ``k``, ``value`` its
    secant slope ``s_k`` (signed), ``uncertainty`` the Richardson estimate of its error
    ``|s_k - s_wide| / (3 |s_k|)``, with ``s_wide`` the slope over ``k`` and its steeper
    neighbour (the secant's error falls as the width squared). Converged when that is
    ``<= tol`` or, for a jump (whose slope grows without bound), when interval ``k`` is
    narrower than ``tol`` times the axis range.

``tol`` is relative to ``|value|``; where that is 0 it is relative to the spread of ``y``.
``location_uncertainty`` is in the axis' units: the half-width of the bracket around the
location for ``steepest``, ``|u - x_m|`` plus half the parabola's ``tol`` width for a
minimum. Samples with non-finite ``y`` (failed points) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

TARGETS = ("minimum", "maximum", "steepest")
GOLDEN = (3.0 - math.sqrt(5.0)) / 2.0  # 0.381966…, golden-section fraction
NEIGHBOUR_FACTOR = 4.0  # converged minimum: both neighbours within this many h of m
SEPARATION = 1e-3  # proposals closer than this many h (or bracket widths) to a sample are dropped
X_RESOLUTION = 1e-12  # relative: no two points closer than this times the axis range


@dataclass(frozen=True)
class Status:
    """Where a slice's target is, as far as the samples go (see the module docstring)."""

    location: float
    value: float
    uncertainty: float
    location_uncertainty: float
    points: int
    converged: bool
    at_edge: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], y[keep][order]


def _scale(value: float, y: np.ndarray) -> float:
    """What ``tol`` is relative to: ``|value|``, else the spread of ``y``, else 1."""
    if value != 0.0:
        return abs(value)
    spread = float(np.ptp(y)) if y.size else 0.0
    return spread if spread > 0.0 else 1.0


def _clean(candidates: list[float], x: np.ndarray, lo: float, hi: float,
           gap: float) -> list[float]:
    """Candidates strictly inside ``(lo, hi)``, at least ``gap`` from samples and each other."""
    out: list[float] = []
    for c in candidates:
        if not (lo < c < hi) or not math.isfinite(c):
            continue
        if np.min(np.abs(x - c)) < gap or any(abs(c - o) < gap for o in out):
            continue
        out.append(float(c))
    return out


def _parabola(xa: float, xm: float, xb: float, ya: float, ym: float, yb: float
              ) -> tuple[float, float, float]:
    """Vertex ``u``, curvature ``c = p''`` and vertex value ``p(u)`` of the parabola through
    three points (``c <= 0``: no minimum; then ``u = xm``, ``p(u) = ym``)."""
    d1 = (ym - ya) / (xm - xa)
    d2 = (yb - ym) / (xb - xm)
    c = 2.0 * (d2 - d1) / (xb - xa)
    if not c > 0.0:
        return xm, c, ym
    slope_m = d1 + 0.5 * c * (xm - xa)  # p'(xm)
    u = xm - slope_m / c
    return u, c, ym - slope_m**2 / (2.0 * c)


def _local_vertex(x: np.ndarray, y: np.ndarray, i: int, xa: float, xb: float, h: float
                  ) -> list[float]:
    """``v`` and ``v ± h`` for the vertex ``v`` of the parabola through the best sample
    ``i`` and its two nearest samples, if it has a minimum inside the bracket ``(xa, xb)``.

    Once one side of the bracket is within ``4 h`` and the other is wide, the bracket's
    parabola leans on the far point and its vertex falls short of the minimum, so the best
    point would creep towards it; the nearest samples' parabola is local and steps there."""
    near = sorted((j for j in range(len(x)) if j != i), key=lambda j: abs(x[j] - x[i]))[:2]
    (ja, jb) = sorted(near)
    v, c, _ = _parabola(x[ja], x[i], x[jb], y[ja], y[i], y[jb])
    return [v, v - h, v + h] if c > 0 and xa < v < xb else []


def _minimum(x: np.ndarray, y: np.ndarray, tol: float) -> tuple[Status, list[float]]:
    n = len(x)
    i = int(np.argmin(y))
    width = float(x[-1] - x[0])
    floor = X_RESOLUTION * max(width, abs(x[0]), abs(x[-1]), 1e-300)
    if i in (0, n - 1):
        return Status(float(x[i]), float(y[i]), 0.0, 0.0, n, True, at_edge=True), []
    xa, xm, xb = x[i - 1], x[i], x[i + 1]
    ya, ym, yb = y[i - 1], y[i], y[i + 1]
    u, c, pu = _parabola(xa, xm, xb, ya, ym, yb)
    scale = _scale(float(ym), y)
    uncertainty = (ym - pu) / scale if c > 0 else math.inf
    if c > 0:
        h = max(math.sqrt(2.0 * tol * scale / c), floor)
        near = NEIGHBOUR_FACTOR * h
        near *= 1 + 1e-9  # a neighbour placed at exactly 4 h counts as near
        converged = uncertainty <= tol and xm - xa <= near and xb - xm <= near
        where = abs(u - xm) + h
        status = Status(float(xm), float(ym), float(uncertainty), float(where), n, bool(converged))
        if converged:
            return status, []
        candidates = []
        if xa < u < xb:
            candidates += [u, u - h, u + h]
        else:
            candidates += [xm - GOLDEN * (xm - xa), xm + GOLDEN * (xb - xm)]
        if (xm - xa > near) != (xb - xm > near):  # one side still wide: local vertex
            candidates += _local_vertex(x, y, i, xa, xb, h)
        if xm - xa > near:
            candidates.append(xm - 2.0 * h)
        if xb - xm > near:
            candidates.append(xm + 2.0 * h)
        gap = max(SEPARATION * h, floor)
    else:
        status = Status(float(xm), float(ym), math.inf, float(max(xm - xa, xb - xm)), n, False)
        candidates = [xm - GOLDEN * (xm - xa), xm + GOLDEN * (xb - xm)]
        gap = max(SEPARATION * (xb - xa), floor)
    proposals = _clean(candidates, x, xa, xb, gap)
    if not proposals:  # nothing left to resolve at this precision: as good as it gets
        return Status(*list(asdict(status).values())[:5], True), []
    return status, proposals


def _steepest(x: np.ndarray, y: np.ndarray, tol: float) -> tuple[Status, list[float]]:
    n = len(x)
    dx = np.diff(x)
    s = np.diff(y) / dx
    k = int(np.argmax(np.abs(s)))
    neighbours = [j for j in (k - 1, k + 1) if 0 <= j < len(s)]
    if neighbours:
        j = max(neighbours, key=lambda j: abs(s[j]))
        lo, hi = min(j, k), max(j, k) + 1
        wide = (y[hi] - y[lo]) / (x[hi] - x[lo])
        uncertainty = abs(s[k] - wide) / (3.0 * abs(s[k])) if s[k] != 0 else math.inf
    else:
        uncertainty = math.inf
    span = float(x[-1] - x[0])
    location = 0.5 * (x[k] + x[k + 1])
    converged = uncertainty <= tol or dx[k] <= tol * span
    status = Status(float(location), float(s[k]), float(uncertainty), float(dx[k] / 2), n,
                    bool(converged))
    if converged:
        return status, []
    mids = [0.5 * (x[j] + x[j + 1]) for j in (k, *neighbours)]
    floor = X_RESOLUTION * max(span, abs(x[0]), abs(x[-1]), 1e-300)
    proposals = _clean(mids, x, x[0], x[-1], floor)
    if not proposals:
        return Status(*list(asdict(status).values())[:5], True), []
    return status, proposals


def propose(x: Sequence[float], y: Sequence[float], target: str, tol: float,
            budget: int) -> tuple[Status, list[float]]:
    """The slice's :class:`Status` and up to ``budget`` new axis values to compute next
    (empty once converged or with ``budget <= 0``), for ``target`` in :data:`TARGETS`.

    ``x`` and ``y`` are all samples so far (any order; non-finite ``y`` ignored). With
    fewer than three usable samples nothing can be bracketed: the status is unconverged
    and nothing is proposed.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    if not tol > 0:
        raise ValueError(f"tolerance must be > 0, got {tol!r}")
    xs, ys = _finite(x, y)
    if len(xs) < 3:
        return Status(math.nan, math.nan, math.inf, math.inf, len(xs), False), []
    if target == "steepest":
        status, proposals = _steepest(xs, ys, tol)
    else:
        sign = -1.0 if target == "maximum" else 1.0
        status, proposals = _minimum(xs, sign * ys, tol)
        if sign < 0:
            status = Status(status.location, -status.value, *list(asdict(status).values())[2:])
    return status, proposals[:max(budget, 0)]


def refine_function(f: Callable[[float], float], x0: Sequence[float], target: str,
                    tol: float, max_points: int) -> tuple[Status, list[float], int]:
    """Refine ``f`` from the initial samples ``x0`` as the pipeline does, in process: rounds
    of :func:`propose` until converged or ``max_points`` samples. Returns the final status,
    every sampled x (in order of computation) and the number of rounds."""
    xs = [float(v) for v in x0]
    ys = [float(f(v)) for v in xs]
    rounds = 0
    while True:
        status, new = propose(xs, ys, target, tol, max_points - len(xs))
        if not new:
            return status, xs, rounds
        rounds += 1
        xs += new
        ys += [float(f(v)) for v in new]
