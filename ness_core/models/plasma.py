"""Tokamak power balance: Spitzer heat conduction, heating, radiation (docs/conventions.md, S4).

Cylinder of unit minor radius (r ∈ [0, 1]), dimensionless units (k_B = 1): temperature T,
electron density n, heating power density P (volume average), time in units of the
conduction time. The steady state solves

    3n ∂T/∂t = (1/r) d/dr [ r κ(T) dT/dr ] + P h(r) − n² L₀ Λ(T/T_rad) = 0,

with Spitzer conductivity κ(T) = κ₀ T^a (a = 5/2; Spitzer & Härm 1953), parabolic heating
h(r) = 2(1 − r²) (so that ∫₀¹ h 2r dr = 1), a coronal impurity radiation function peaked at
T_rad, Λ(x) = 2x²/(1 + x⁴) (max Λ(1) = 1; rises below, falls as x⁻² above, the shape of a
line-radiation curve), symmetry dT/dr = 0 on the axis and T(1) = T_wall. Axes (binding):
``drive`` = P, ``density`` = n, ``temperature`` = T_wall.

With the heat-flux (Kirchhoff) potential Φ(T) = ∫κ dT = κ₀ T^(a+1)/(a+1) the conduction term is
the Laplacian of Φ, so without radiation Φ(r) = Φ(T_wall) + P[(1 − r²)/2 − (1 − r⁴)/8]: T^(a+1)
is linear in the heat-flux potential (exact check of the tests). Radiation that falls with
temperature makes the core-temperature curve T₀(P) an S: a hot branch that ends at the
*radiative collapse* fold P_c and a cold branch that ends at the reheat fold P_h > P_c, with
hysteresis in between; at a fold one eigenvalue of the linearised dynamics crosses zero, so
the gap closes as √|P − P_fold| (saddle-node normal form).

Branch convention (how a sweep follows a branch through the fold while every point stays a
pure function of its parameters): each evaluation traces the whole S-curve by pseudo-arclength
continuation (:func:`ness_core.solvers.continuum.continuation`) from the unique hot state at
high power down to low power; its folds cut it into the ``upper`` (hot, up to the first fold),
``middle`` (unstable) and ``lower`` (cold) branches. Parameter ``branch`` picks the branch;
where it does not exist at ``drive`` the point's status says so (NaN observables). Without
folds the three names give the one solution (``branch_label`` = ``"unique"``). The traced
curve is cached per process and resolution, so a sweep pays for it once per chunk. Optional
``fold_distance`` d replaces ``drive``: P = P_c + d on the upper and middle branches,
P = P_h − d on the lower one (gap against distance to the fold).

Observables: ``core_temperature`` T(0); ``current`` = wall heat flux q_w (per unit wall area);
``wall_power``, ``heating_power``, ``radiated_power`` (volume averages, ∫ … 2r dr); the energy
balance (heating − radiated − wall)/heating; ``entropy_production`` ∫ κ (dT/dr)²/T² 2r dr
(conduction; heating and radiation are exchanges with external systems); ``entropy_exported``
= wall_power/T_wall − ∫ (P h − n²L₀Λ)/T 2r dr, equal to the production in a steady state
(relative difference in ``entropy_balance``); ``gap`` (slowest relaxation rate, < 0 on the
unstable middle branch); ``collapse_power`` P_c and ``reheat_power`` P_h (NaN without folds);
``temperature_profile`` at the normalised minor radii r/a = k/(``profile_points`` − 1),
k = 0 … ``profile_points`` − 1 (dim ``radius``, positions in ``normalised_radius``; the
same positions whatever grid the refinement ended on: node values where they are nodes,
else T(Φ) of a cubic spline of the heat-flux potential Φ through the nodes);
grid refinement data ``grid_cells``, ``grid_error`` (Richardson estimate for T(0)),
``convergence_order`` (of T(0)), ``grid_relative_error`` (the largest relative Richardson
estimate over the monitored scalars). Grids: ``cells``, 2·``cells``, … ≤ ``max_cells`` (at
least three, so ``max_cells`` ≥ 4·``cells``), refined until every reported scalar
(:data:`MONITORED`: T(0), the wall flux, heating and radiated power, the entropy production
and the gap) is within ``rtol``; the S-curve is traced on each grid, so folds and
``fold_distance`` refer to the grid they are used on. The nodes r_i = sin(π i/2·cells) crowd
towards the wall, where the Spitzer profile T ∝ (Φ_w + q_w (1 − r))^{2/7} off a cold wall
is nearly singular: on a uniform grid the wall flux, radiation and entropy production converged
at order ≈ 1.6 only and were 0.2–0.7 % off at the defaults (refinement then watched T(0)
alone); on the mapped grid every scalar converges at order 2, within 2e-5 at 200 cells.

References: L. Spitzer & R. Härm, Phys. Rev. 89, 977 (1953); J. Wesson, *Tokamaks*, 4th ed.
(2011), Ch. 4 (power balance) and 4.25 (radiation); P. H. Rebut & P. P. Lallia, in *Plasma
Physics and Controlled Nuclear Fusion Research* (1985) (radiative collapse);
H. B. Keller (1977) for continuation.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from ness_core.model import Model, Observable, Parameter
from ness_core.solvers.continuum import (
    Branch,
    DiffusionProblem,
    Grid,
    check_refinement,
    continuation,
    newton,
    refine_grid,
    spectral_gap,
)
from ness_core.status import combine

BRANCHES = ("upper", "middle", "lower")
# The S-curve is traced from P_top = TOP_FACTOR·max(n²L₀, κ₀ T_wall^(a+1)) (radiation at
# most n²L₀ < P: hot state unique) down to P_top·BOTTOM_FRACTION.
TOP_FACTOR = 8.0
BOTTOM_FRACTION = 1e-3
# Reported scalars whose estimated relative grid error refinement brings below rtol.
MONITORED = ("core_temperature", "current", "heating_power", "radiated_power",
             "entropy_production", "gap")


def plasma_problem(cells: int, params: dict[str, Any]) -> DiffusionProblem:
    """Finite-volume heat balance F(T; P) on ``cells`` intervals (T at the nodes)."""
    grid = Grid.from_nodes(wall_clustered_nodes(cells), "cylinder")
    a, kappa0 = params["kappa_exponent"], params["conductivity"]
    n, l0, t_rad = params["density"], params["radiation"], params["radiation_temperature"]
    heating = 2.0 * (1.0 - grid.nodes**2)

    def potential(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return kappa0 * t ** (a + 1) / (a + 1), kappa0 * t**a

    def source(t: np.ndarray, power: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = t / t_rad
        rad = 2 * x**2 / (1 + x**4)
        d_rad = 4 * x * (1 - x**4) / (1 + x**4) ** 2 / t_rad
        return power * heating - n**2 * l0 * rad, -(n**2) * l0 * d_rad, heating

    return DiffusionProblem(grid, potential, source, params["temperature"],
                            np.full(cells + 1, 3.0 * n))


def wall_clustered_nodes(cells: int) -> np.ndarray:
    """r_i = sin(π i / (2·cells)): spacing ≈ π/(2·cells) on the axis, ≈ (π/(2·cells))²/2 at
    the wall (a smooth map, so the scheme stays second order in 1/cells)."""
    r = np.sin(0.5 * np.pi * np.arange(cells + 1) / cells)
    r[-1] = 1.0
    return r


def point_scalars(point: dict[str, Any]) -> dict[str, float]:
    """The reported scalars of a solved point (``resolve_point`` with a state)."""
    problem: DiffusionProblem = point["problem"]
    u, power = point["u"], point["power"]
    t = problem.full(u)
    vol = problem.grid.volumes
    s = problem.source(t, power)[0]
    heating = power * float(np.dot(vol, 2 * (1 - problem.grid.nodes**2)))
    radiated = problem.grid.integrate(power * 2 * (1 - problem.grid.nodes**2) - s)
    wall = float(problem.face_fluxes(u)[-1]) + vol[-1] * s[-1]
    produced = problem.face_dissipation(u, -1.0 / t)
    exported = wall / t[-1] - problem.grid.integrate(s / t)
    return {
        "current": wall / 2.0,
        "entropy_production": produced,
        "entropy_exported": exported,
        "entropy_balance": (produced - exported) / produced if produced > 0 else math.nan,
        "gap": spectral_gap(problem, u, power),
        "core_temperature": float(t[0]),
        "wall_power": wall,
        "heating_power": heating,
        "radiated_power": radiated,
        "energy_balance": (heating - radiated - wall) / heating,
    }


def _key(params: dict[str, Any]) -> tuple[float, ...]:
    return tuple(params[k] for k in ("temperature", "density", "kappa_exponent", "conductivity",
                                     "radiation", "radiation_temperature"))


@lru_cache(maxsize=64)
def traced_branch(cells: int, key: tuple[float, ...]) -> tuple[Branch, float, float]:
    """The S-curve T(P) from P_top down to P_bottom at ``cells`` (cached; key from _key)."""
    params = dict(zip(("temperature", "density", "kappa_exponent", "conductivity", "radiation",
                       "radiation_temperature"), key, strict=True))
    problem = plasma_problem(cells, params)
    t_wall, a = params["temperature"], params["kappa_exponent"]
    top = TOP_FACTOR * max(params["density"] ** 2 * params["radiation"],
                           params["conductivity"] * max(t_wall, params["radiation_temperature"])
                           ** (a + 1))
    # the hot state at P_top is close to the radiation-free closed form: start Newton there
    guess = hot_profile(problem.grid.nodes[:-1], top, params)
    branch = continuation(problem, guess, top, top * BOTTOM_FRACTION, lower=0.0)
    return branch, top, top * BOTTOM_FRACTION


def hot_profile(r: np.ndarray, power: float, params: dict[str, Any]) -> np.ndarray:
    """Radiation-free Spitzer profile: Φ(T) = Φ(T_wall) + P[(1 − r²)/2 − (1 − r⁴)/8]."""
    a, kappa0 = params["kappa_exponent"], params["conductivity"]
    phi = (kappa0 * params["temperature"] ** (a + 1) / (a + 1)
           + power * ((1 - r**2) / 2 - (1 - r**4) / 8))
    return (phi * (a + 1) / kappa0) ** (1 / (a + 1))


def _segments(branch: Branch) -> list[tuple[np.ndarray, np.ndarray]]:
    """(powers, states) of every monotone piece, fold points included at both ends."""
    pieces = []
    for k, (start, stop) in enumerate(branch.segments()):
        lams = list(branch.parameters[start:stop + 1])
        states = list(branch.states[start:stop + 1])
        if k > 0:
            lams.insert(0, branch.folds[k - 1].parameter)
            states.insert(0, branch.folds[k - 1].u)
        if k < len(branch.folds):
            lams.append(branch.folds[k].parameter)
            states.append(branch.folds[k].u)
        pieces.append((np.array(lams), np.array(states)))
    return pieces


def resolve_point(cells: int, params: dict[str, Any]) -> dict[str, Any]:
    """Steady state on the requested branch at ``cells``: state, power, folds, status."""
    branch, top, bottom = traced_branch(cells, _key(params))
    folds = [f.parameter for f in branch.folds]
    out: dict[str, Any] = {"collapse_power": folds[0] if folds else math.nan,
                           "reheat_power": folds[-1] if folds else math.nan, "u": None}
    if branch.status != "ok":
        return out | {"status": f"continuation failed: {branch.status}", "power": math.nan}
    pieces = _segments(branch)
    names = ["unique"] if len(pieces) == 1 else (
        ["upper"] + ["middle"] * (len(pieces) - 2) + ["lower"])
    wanted = params["branch"]
    power = params["drive"]
    if params["fold_distance"] is not None:
        if not folds:
            return out | {"status": "no fold: fold_distance undefined", "power": math.nan}
        d = params["fold_distance"]
        power = folds[-1] - d if wanted == "lower" else folds[0] + d
    out["power"] = power
    problem = plasma_problem(cells, params)
    for name, (lams, states) in zip(names, pieces, strict=True):
        if name not in (wanted, "unique"):
            continue
        if power > top or power < bottom:  # outside the traced range: one more continuation
            end = 0 if power > top else -1
            tail = continuation(problem, states[end], lams[end], power, lower=0.0)
            return out | {"u": tail.states[-1], "label": name, "status": tail.status,
                          "problem": problem}
        hits = np.flatnonzero((lams[:-1] - power) * (lams[1:] - power) <= 0)
        if hits.size:
            i = hits[0]
            w = (power - lams[i]) / (lams[i + 1] - lams[i]) if lams[i + 1] != lams[i] else 0.0
            state = newton(problem, states[i] + w * (states[i + 1] - states[i]), power, lower=0.0)
            return out | {"u": state.u, "label": name, "status": state.status,
                          "problem": problem}
    return out | {"status": f"no {wanted} branch at drive = {power:.6g} "
                            f"(folds at {', '.join(f'{f:.6g}' for f in folds) or 'none'})"}


def sampled_profile(problem: DiffusionProblem, t: np.ndarray,
                    params: dict[str, Any]) -> np.ndarray:
    """T at r/a = k/(profile_points − 1): the heat-flux potential Φ(T) = κ₀T^(a+1)/(a+1),
    whose Laplacian is the (bounded) net source, is sampled and inverted, so a spline
    between nodes stays accurate where T itself rises steeply off a cold wall."""
    a, kappa0 = params["kappa_exponent"], params["conductivity"]
    phi = problem.grid.sample(problem.potential(t)[0], params["profile_points"])
    return (np.maximum(phi, 0.0) * (a + 1) / kappa0) ** (1 / (a + 1))


class Plasma(Model):
    """Radial tokamak power balance with Spitzer conduction and radiative collapse (S4).

    Equations, units, the branch convention and references are in the docstring of
    :mod:`ness_core.models.plasma`.
    """

    name = "plasma"
    signed_gap = True  # gap < 0 on the unstable middle branch (not a failure)
    summary = "tokamak radial power balance: Spitzer conduction, radiative-collapse fold"
    revision = 1  # the conventions of docs/conventions.md
    dimension_lengths = {"radius": "profile_points"}
    # the dimensionless units of the docstring: temperatures in T_* (where κ = κ₀), times in
    # the conduction time τ_κ
    natural_units = {"temperature": r"$T_*$", "time": r"$\tau_\kappa$"}
    parameters = (
        Parameter("drive", 60.0, "power density", "volume-averaged heating power P",
                  low=0.0, low_inclusive=False, axis="drive", symbol=r"$P$"),
        Parameter("temperature", 0.1, "temperature", "wall temperature T_wall", low=0.0,
                  low_inclusive=False, axis="temperature", symbol=r"$T_\mathrm{wall}$"),
        Parameter("density", 10.0, "density", "plasma density n (radiation ∝ n²)", low=0.0,
                  low_inclusive=False, axis="density", symbol=r"$n$"),
        Parameter("kappa_exponent", 2.5, "1", "a in κ = κ₀ T^a (Spitzer: 5/2)", low=0.0,
                  high=4.0, symbol=r"$a$"),
        Parameter("conductivity", 1.0, "power/(length·temperature^(a+1))", "κ₀", low=0.0,
                  low_inclusive=False, symbol=r"$\kappa_0$"),
        Parameter("radiation", 1.0, "power·volume", "radiation coefficient L₀ (0: none)",
                  low=0.0, symbol=r"$L_0$"),
        Parameter("radiation_temperature", 1.0, "temperature", "peak T_rad of Λ", low=0.0,
                  low_inclusive=False, symbol=r"$T_\mathrm{rad}$"),
        Parameter("branch", "upper", "", "branch of the S-curve", kind=str, choices=BRANCHES),
        Parameter("fold_distance", None, "power density",
                  "P − P_c (upper, middle) or P_h − P (lower); overrides drive", low=0.0,
                  low_inclusive=False, symbol=r"$d$"),
        Parameter("cells", 50, "cells", "coarsest radial grid", kind=int, low=8, high=20000),
        Parameter("rtol", 1e-4, "1", "target relative grid error of every reported scalar",
                  low=1e-12, high=0.1),
        Parameter("max_cells", 1600, "cells", "finest grid allowed", kind=int, low=8,
                  high=20000),
        Parameter("profile_points", 51, "points", "profile radii r/a = k/(points − 1)",
                  kind=int, low=2, high=20001),
    )
    observables = (
        Observable("current", "power/area", "wall heat flux q_w", symbol=r"$q_w$"),
        Observable("entropy_production", "k_B/(time·volume)", "conduction entropy production",
                   symbol=r"$\sigma$"),
        Observable("entropy_exported", "k_B/(time·volume)", "entropy exported to wall and "
                   "sources"),
        Observable("entropy_balance", "1", "(produced − exported)/produced"),
        Observable("gap", "1/time", "slowest relaxation rate of the linearised dynamics",
                   symbol=r"$g$"),
        Observable("core_temperature", "temperature", "core temperature T(0)", symbol=r"$T_0$"),
        Observable("wall_power", "power density", "volume-averaged conducted wall loss"),
        Observable("heating_power", "power density", "volume-averaged heating"),
        Observable("radiated_power", "power density", "volume-averaged radiation"),
        Observable("energy_balance", "1", "(heating − radiated − wall)/heating"),
        Observable("power", "power density", "heating power P of the point"),
        Observable("collapse_power", "power density", "radiative-collapse fold P_c"),
        Observable("reheat_power", "power density", "reheat fold P_h of the cold branch"),
        Observable("branch_label", "", "branch of the point (upper/middle/lower/unique)",
                   kind=str),
        Observable("grid_cells", "cells", "finest grid used"),
        Observable("grid_error", "temperature", "Richardson error estimate of T(0)"),
        Observable("grid_relative_error", "1", "largest relative grid error estimate of the "
                   "monitored scalars"),
        Observable("convergence_order", "1", "observed order of grid convergence"),
        Observable("temperature_profile", "temperature", "temperature T(r)",
                   dims=("radius",), symbol=r"$T(r)$"),
        Observable("normalised_radius", "1", "normalised minor radius r/a", dims=("radius",)),
    )

    equilibrium = ("none: heating P = drive > 0 flows through the plasma to the wall and into "
                   "radiation at every point (P = 0 is outside the range), and conduction down "
                   "the temperature gradient always produces entropy")

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Seconds: the grids ``cells``, 2·cells, … that :func:`refine_grid` solves (at least
        three, at most ``max_cells``) until the relative grid error, measured ≈ 0.9/n² at n
        cells (2e-5 at 200, 5.5e-6 at 400), is below ``rtol``; ≈ 1.2 ms per cell summed over
        the grids (measured 0.3–0.75 s for 50 + 100 + 200 cells, 2.0–3.8 s up to 1600)."""
        grids = [params["cells"]]
        while 2 * grids[-1] <= params["max_cells"] and (
                len(grids) < 3 or 0.9 / grids[-1] ** 2 > params["rtol"]):
            grids.append(2 * grids[-1])
        return 0.05 + 1.2e-3 * sum(grids)

    def check(self, params: dict[str, Any]) -> None:
        check_refinement(params["cells"], params["max_cells"])

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        levels: dict[int, dict[str, Any]] = {}

        def monitored(cells: int) -> list[float]:
            point = levels[cells] = resolve_point(cells, params)
            if point["u"] is None:
                return [math.nan] * len(MONITORED)
            point["scalars"] = point_scalars(point)
            return [point["scalars"][name] for name in MONITORED]

        grid = refine_grid(monitored, params["cells"], params["rtol"], params["max_cells"])
        point = levels[grid.cells]
        base = {"collapse_power": point["collapse_power"], "reheat_power": point["reheat_power"],
                "power": point["power"], "grid_cells": float(grid.cells)}
        if point["u"] is None:
            nan = {o.name: math.nan for o in self.observables if not o.dims and o.kind is float}
            return nan | base | {"branch_label": "", "temperature_profile": np.full(0, math.nan),
                                 "normalised_radius": np.full(0, math.nan),
                                 "residual": math.nan, "status": point["status"]}
        problem: DiffusionProblem = point["problem"]
        u, power = point["u"], point["power"]
        t = problem.full(u)
        heating = point["scalars"]["heating_power"]
        status = combine(point["status"], grid.status)
        return base | point["scalars"] | {
            "branch_label": point["label"],
            "grid_error": grid.error,
            "grid_relative_error": grid.relative_error,
            "convergence_order": grid.order,
            "temperature_profile": sampled_profile(problem, t, params),
            "normalised_radius": np.linspace(0.0, 1.0, params["profile_points"]),
            "residual": float(np.abs(problem.residual(u, power)).max() / heating),
            "status": status,
        }
