"""Adaptive refinement in a plane of two swept axes: the ``boundary`` target.

Pure algorithms, no workflow (the 1-D targets are :mod:`ness_core.refinement`): given the
computed samples ``(x, y, f)`` of one slice, :func:`propose` returns the points to compute
next and the slice's :class:`BoundaryStatus`; :func:`refine_function` runs the rounds in
process (tests, benchmarks). The target is where ``f`` changes fastest in the plane, e.g.
a phase boundary, where ``f`` jumps or bends sharply.

Conventions
    Coordinates are *normalised*: ``u = (x - x0) / (x1 - x0)``, ``v = (y - y0) / (y1 - y0)``
    with ``[x0, x1] × [y0, y1]`` the bounding box of the samples (the coarse grid), so both
    axes weigh alike whatever their units. ``R`` is the spread ``max f - min f`` of the
    slice's samples (1 where ``f`` is constant).
Triangulation and loss
    The samples are triangulated (Delaunay, :class:`scipy.spatial.Delaunay`, points sorted
    so the triangulation does not depend on the order of computation). A triangle's loss
    is ``(max f - min f over its vertices) / R × (its longest edge, normalised)``: the
    variation of ``f`` across it times its size, ≈ ``|∇f| h² / R`` where ``f`` is smooth
    and ``h / R``-times a jump's height where it jumps, so splitting triangles lowers it
    either way; a triangle where ``f`` is flat has loss 0 and is never split.
Rounds
    A round takes the triangles whose loss is above ``tol`` and at least half the largest
    loss (the worst "level" of triangles, e.g. every triangle the boundary crosses at the
    current size) in decreasing loss and proposes the midpoint of each one's longest edge
    (two triangles sharing that edge propose it once), at most :data:`BATCH` points and the
    remaining budget. Longest-edge bisection keeps the triangles' shapes bounded (Rivara),
    and on a uniform coarse grid every point stays on its dyadic refinements, so the union
    grid of the dataset along each axis stays small.
Convergence
    Converged when every triangle's loss is ``<= tol`` (nothing to propose). For a jump of
    height ``R`` that means every triangle across the boundary has a longest edge of at
    most ``tol`` (normalised units): the boundary is located to ``tol`` times each axis'
    range. A slice out of budget is reported unconverged. A boundary that crosses no
    triangle of the coarse grid (a feature smaller than its spacing) is not seen.
Located boundary
    ``boundary``: the points where the piecewise-linear interpolant of ``f`` on the
    triangulation crosses the mid level ``(min f + max f) / 2``, one per triangle edge
    whose end values straddle it (marching triangles), sorted. Each lies on an edge of at
    most the edge's length, whose ends are on either side of the level.

Samples with non-finite ``f`` (failed points) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.spatial

TARGETS = ("boundary",)
BATCH = 64  # at most this many points per slice and round
LEVEL = 0.5  # a round splits the triangles with loss >= LEVEL × the largest loss (and > tol)


@dataclass(frozen=True)
class BoundaryStatus:
    """How far a slice's boundary is resolved (see the module docstring).

    ``loss`` is the largest triangle loss, ``level`` the mid level of ``f``, ``boundary``
    the crossing points ``[[x, y], ...]`` in the axes' units.
    """

    points: int
    converged: bool
    loss: float
    level: float
    boundary: list[list[float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(x: Sequence[float], y: Sequence[float], f: Sequence[float]) -> np.ndarray:
    """Rows ``(x, y, f)`` of the finite samples, sorted by x then y."""
    table = np.column_stack([np.asarray(a, dtype=float) for a in (x, y, f)])
    table = table[np.isfinite(table).all(axis=1)]
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def _triangulate(table: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Normalised coordinates ``(n, 2)`` and triangles ``(m, 3)`` (vertex indices), or None
    when the samples span no area."""
    xy = table[:, :2]
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    if len(xy) < 3 or not (span > 0).all():
        return None
    uv = (xy - lo) / span
    try:
        tri = scipy.spatial.Delaunay(uv)
    except scipy.spatial.QhullError:  # all samples on one line
        return None
    return uv, tri.simplices


def losses(uv: np.ndarray, simplices: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loss of every triangle and the index ``(0, 1, 2)`` of its longest edge, the edge from
    vertex ``k`` to vertex ``(k + 1) % 3`` (module docstring)."""
    spread = float(np.ptp(f))
    scale = spread if spread > 0 else 1.0
    corners = uv[simplices]  # (m, 3, 2)
    edges = np.linalg.norm(corners[:, [1, 2, 0]] - corners, axis=2)  # (m, 3)
    values = f[simplices]
    variation = (values.max(axis=1) - values.min(axis=1)) / scale
    return variation * edges.max(axis=1), edges.argmax(axis=1)


def crossings(table: np.ndarray, simplices: np.ndarray, level: float) -> list[list[float]]:
    """Where the piecewise-linear interpolant crosses ``level``: one point per triangle edge
    whose end values straddle it (an end exactly at ``level`` counts as the point), sorted."""
    edges = {tuple(sorted((int(s[k]), int(s[(k + 1) % 3])))) for s in simplices for k in range(3)}
    points = set()
    for a, b in edges:
        fa, fb = table[a, 2] - level, table[b, 2] - level
        if fa == 0.0:
            points.add((table[a, 0], table[a, 1]))
        elif fb == 0.0:
            points.add((table[b, 0], table[b, 1]))
        elif (fa < 0) != (fb < 0):
            t = fa / (fa - fb)
            points.add((table[a, 0] + t * (table[b, 0] - table[a, 0]),
                        table[a, 1] + t * (table[b, 1] - table[a, 1])))
    return [[float(p), float(q)] for p, q in sorted(points)]


def propose(x: Sequence[float], y: Sequence[float], f: Sequence[float], tol: float,
            budget: int) -> tuple[BoundaryStatus, list[tuple[float, float]]]:
    """The slice's :class:`BoundaryStatus` and up to ``min(budget, BATCH)`` new points
    ``(x, y)`` to compute next (empty once converged or with ``budget <= 0``).

    ``x``, ``y``, ``f`` are all samples so far (any order; non-finite ``f`` ignored). With
    samples spanning no area nothing can be triangulated: unconverged, nothing proposed.
    """
    if not tol > 0:
        raise ValueError(f"tolerance must be > 0, got {tol!r}")
    table = _finite(x, y, f)
    mesh = _triangulate(table)
    if mesh is None:
        return BoundaryStatus(len(table), False, math.inf, math.nan), []
    uv, simplices = mesh
    values = table[:, 2]
    loss, longest = losses(uv, simplices, values)
    level = 0.5 * (float(values.min()) + float(values.max()))
    worst = float(loss.max())
    status = BoundaryStatus(len(table), bool(worst <= tol), worst, level,
                            crossings(table, simplices, level))
    if status.converged:
        return status, []
    proposals: list[tuple[float, float]] = []
    seen = set()
    sampled = {(float(a), float(b)) for a, b in table[:, :2]}
    for t in np.argsort(-loss, kind="stable"):
        if loss[t] <= tol or loss[t] < LEVEL * worst or len(proposals) >= min(budget, BATCH):
            break
        k = int(longest[t])
        a, b = int(simplices[t, k]), int(simplices[t, (k + 1) % 3])
        edge = (min(a, b), max(a, b))
        if edge in seen:
            continue
        seen.add(edge)
        mid = tuple(float(c) for c in 0.5 * (table[a, :2] + table[b, :2]))
        if mid not in sampled:
            proposals.append(mid)
    return status, proposals


def refine_function(f: Callable[[float, float], float], x0: Sequence[float],
                    y0: Sequence[float], tol: float, max_points: int
                    ) -> tuple[BoundaryStatus, list[tuple[float, float]], int]:
    """Refine ``f`` from the grid ``x0 × y0`` as the pipeline does, in process: rounds of
    :func:`propose` until converged or ``max_points`` samples. Returns the final status,
    every sampled point (in order of computation) and the number of rounds."""
    points = [(float(a), float(b)) for a in x0 for b in y0]
    values = [float(f(a, b)) for a, b in points]
    rounds = 0
    while True:
        xs, ys = zip(*points, strict=True)
        status, new = propose(xs, ys, values, tol, max_points - len(points))
        if not new:
            return status, points, rounds
        rounds += 1
        points += new
        values += [float(f(a, b)) for a, b in new]
