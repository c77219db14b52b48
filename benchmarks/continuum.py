"""Benchmark of the continuum solver: speed targets, and FV + Newton against solve_bvp.

Run by hand: ``python benchmarks/continuum.py [perf [cells] | bvp]`` (default: both, 1000
cells).

``perf``: wall and CPU time of a 200-point corrosion polarisation curve (``evaluate`` per
point on grids ``cells``/4, ``cells``/2 and ``cells``; excess supporting electrolyte, binary
salt, and supporting salt r = 1 up to E − E° = 0.15 V with rtol 1e-5); of the
pseudo-arclength continuation through both plasma folds (hot end → cold end) at ``cells``
grid cells, with the default steps (as every plasma point uses) and with max_step 0.15
(≈ 200 points); of a 200-point ``evaluate`` sweep along the plasma upper branch (S-curve
cached per process, grid refinement from ``cells``/4 to ``cells``); and the fitted exponent
of the gap against the distance to the collapse fold. Target (issue 8): each 200-point curve
in seconds at 10³ cells on 2 cores.

``bvp``: the same steady problems solved by our finite volumes + Newton
(:mod:`ness_core.solvers.continuum`, fixed grid, one solve) and by
``scipy.integrate.solve_bvp`` (collocation, adaptive mesh, tolerance ``tol``), each with its
error against an exact value and the CPU time of the fastest of 5 solves (other work on the
machine inflates wall times; CPU time of one process and the minimum are the least
disturbed):
plasma Spitzer profile without radiation (exact: T^(7/2) linear in the heat-flux potential),
plasma with radiation on the hot branch at P = 60 (reference: Richardson extrapolation of FV
on 2^12 and 2^13 cells, cross-checked against solve_bvp at tol 1e-7), corrosion with a
binary salt and with a supporting salt r = 1 at η = −0.1 V (exact: the closed forms of
:mod:`ness_core.models.corrosion`, by root finding and quadrature).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np
import scipy.integrate
import scipy.optimize

from ness_core.models import get_model
from ness_core.models.corrosion import FARADAY, kinetics, migration_problem
from ness_core.models.plasma import hot_profile, plasma_problem
from ness_core.solvers.continuum import continuation, newton

REPEATS = 5


class Clock:
    """Wall and CPU seconds of a block (CPU time is what other load cannot inflate)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, {self.cpu:.2f} s CPU"


def perf(cells: int) -> None:
    """Print the speed measurements for a grid of ``cells`` cells."""
    from ness_core import evaluate
    from ness_core.models.plasma import TOP_FACTOR, _key, traced_branch

    e_eq = kinetics(get_model("corrosion").resolve({}))["equilibrium_potential"]
    for ratio in (math.inf, 0.0, 1.0):
        with Clock() as clock:  # drive = η = (E − E°) − (E_eq − E°)
            for e in np.linspace(-0.5, 0.3 if ratio != 1.0 else 0.15, 200) - e_eq:
                out = evaluate("corrosion", drive=float(e), cells=cells // 4, max_cells=cells,
                               supporting_electrolyte=ratio, rtol=1e-6 if ratio != 1 else 1e-5)
                assert out["status"] == "ok", (e, out["status"])
        print(f"200-point polarisation curve, supporting_electrolyte = {ratio} "
              f"(cells {cells // 4}..{cells}): {clock}")
    params = get_model("plasma").resolve({})
    with Clock() as clock:
        branch, _, _ = traced_branch(cells, _key(params))
    print(f"continuation at {cells} cells (default steps): {clock}, "
          f"{len(branch.parameters)} points, folds at "
          f"{[round(float(f.parameter), 6) for f in branch.folds]}, status {branch.status}")
    problem = plasma_problem(cells, params)
    top = TOP_FACTOR * params["density"] ** 2 * params["radiation"]
    with Clock() as clock:
        fine = continuation(problem, hot_profile(problem.grid.nodes[:-1], top, params), top,
                            top * 1e-3, lower=0.0, max_step=0.15)
    print(f"continuation at {cells} cells, max_step 0.15: {clock}, {len(fine.parameters)} "
          f"points, status {fine.status}")
    drives = np.linspace(51.0, 90.0, 200)
    with Clock() as clock:
        for p in drives:
            evaluate("plasma", drive=float(p), cells=cells // 4, max_cells=cells)
    print(f"200-point evaluate sweep along the upper branch (cells {cells // 4}..{cells}): "
          f"{clock}")
    d = np.logspace(-6, -2, 9)
    gaps = [evaluate("plasma", fold_distance=float(x), cells=cells // 4,
                     max_cells=cells)["gap"] for x in d]
    print(f"gap exponent at the collapse fold: {np.polyfit(np.log(d), np.log(gaps), 1)[0]:.4f}")


def timed(solve: Callable[[], float]) -> tuple[float, float]:
    """(value, CPU seconds of the fastest of REPEATS calls)."""
    times, value = [], math.nan
    for _ in range(REPEATS):
        start = time.process_time()
        value = solve()
        times.append(time.process_time() - start)
    return value, min(times)


# --- plasma: (1/r)(r κ T')' + S(T, r) = 0, T'(0) = 0, T(1) = T_wall -----------------------

def plasma_fv(params: dict, power: float, cells: int) -> float:
    """T(0) by finite volumes + Newton from the radiation-free profile."""
    problem = plasma_problem(cells, params)
    state = newton(problem, hot_profile(problem.grid.nodes[:-1], power, params), power,
                   lower=0.0)
    assert state.status == "ok", state.status
    return float(state.u[0])


def plasma_bvp(params: dict, power: float, tol: float,
               form: str = "kirchhoff") -> tuple[float, int]:
    """T(0) and final mesh size by solve_bvp with y = (u, q), q = −κ T' the heat flux,
    q' = −q/r + S (singular term S·y/r), q(0) = 0, u(1) = its wall value; ``form`` u:
    ``"kirchhoff"`` Φ = κ₀T^(a+1)/(a+1) with Φ' = −q (smooth), ``"temperature"`` T with
    T' = −q/κ(T) (steep off a cold wall)."""
    a, kappa0 = params["kappa_exponent"], params["conductivity"]
    n2l, t_rad = params["density"] ** 2 * params["radiation"], params["radiation_temperature"]

    def temperature(u):
        if form == "temperature":
            return u
        return ((a + 1) * np.maximum(u, 1e-300) / kappa0) ** (1 / (a + 1))

    def rhs(r, y):
        u, q = y
        t = temperature(u)
        x = t / t_rad
        source = power * 2 * (1 - r**2) - n2l * 2 * x**2 / (1 + x**4)
        du = -q if form == "kirchhoff" else -q / (kappa0 * np.abs(t) ** a)
        return np.vstack([du, source])

    wall = params["temperature"]
    wall_u = wall if form == "temperature" else kappa0 * wall ** (a + 1) / (a + 1)

    def bc(y0, y1):
        return np.array([y0[1], y1[0] - wall_u])

    r = np.linspace(0, 1, 11)
    t = hot_profile(r, power, params)  # radiation-free closed form
    u = t if form == "temperature" else kappa0 * t ** (a + 1) / (a + 1)
    q = power * (r - r**3 / 2)
    sol = scipy.integrate.solve_bvp(rhs, bc, r, np.vstack([u, q]),
                                    S=np.array([[0.0, 0.0], [0.0, -1.0]]), tol=tol,
                                    max_nodes=10**5)
    if sol.status != 0:
        return math.nan, len(sol.x)
    return float(temperature(sol.sol(0.0)[0])), len(sol.x)


# --- corrosion: electroneutral Nernst–Planck layer, Butler–Volmer at x = 0 ------------------

def corrosion_exact(params: dict) -> float:
    """Current density from the closed form: ψ_s solves N δ = D G(ψ_s) with Butler–Volmer."""
    k = kinetics(params)
    z, a, kk, r = (params["z"], -params["anion_charge"], params["supporting_charge"],
                   params["supporting_electrolyte"])
    scale = z * FARADAY * params["diffusivity"] * params["density"] / params["layer_thickness"]

    def conc(psi):
        return (1 + r) * math.exp(a * psi) - r * math.exp(-kk * psi)

    def transport(psi):
        return scipy.integrate.quad(
            lambda p: (1 + r) * (a + z) * math.exp(a * p) + r * (kk - z) * math.exp(-kk * p),
            0.0, psi, epsabs=1e-15, epsrel=1e-14)[0]

    def mismatch(psi):
        x = k["f"] * params["drive"] - z * psi  # drive = η = E − E_eq
        kinetic = k["exchange_current"] * (math.exp(params["alpha"] * x)
                                           - conc(psi) * math.exp(-(1 - params["alpha"]) * x))
        return kinetic - scale * transport(psi)

    low = math.log(r / (1 + r)) / (a + kk) + 1e-12 if r > 0 else -30.0
    psi = scipy.optimize.brentq(mismatch, low, 5.0, xtol=1e-15, rtol=1e-15)
    return scale * transport(psi)


def corrosion_fv(params: dict, cells: int) -> float:
    problem = migration_problem(cells, params)
    state = newton(problem, problem.uniform(), params["drive"], lower=problem.lower_bounds())
    assert state.status == "ok", state.status
    flux = problem.boundary_flux(problem.state(state.u)[0], params["drive"])[0][0]
    return params["z"] * FARADAY * params["density"] * flux


def corrosion_bvp(params: dict, tol: float) -> tuple[float, int]:
    """Current by solve_bvp on ξ = x/δ with y = (c/c_b, [c_K/c_b,] ψ) and the unknown scaled
    metal flux p = N δ/(D c_b): zero inert fluxes and electroneutrality give
    ψ' = −z p / Σ_j z_j² c_j, c' = −p − z c ψ', c_K' = −k c_K ψ'."""
    k = kinetics(params)
    z, a, kk, r = (params["z"], -params["anion_charge"], params["supporting_charge"],
                   params["supporting_electrolyte"])
    alpha = params["alpha"]
    to_flux = params["diffusivity"] * params["density"] / params["layer_thickness"]
    i0_scaled = k["exchange_current"] / (z * FARADAY * to_flux)
    x_eq = k["f"] * params["drive"]  # drive = η = E − E_eq
    ternary = r > 0
    bulk = [1.0, r * z / kk, 0.0] if ternary else [1.0, 0.0]

    def rhs(xi, y, p):
        c = y[0]
        c_k = y[1] if ternary else 0.0
        c_a = (z * c + kk * c_k) / a
        dpsi = -z * p[0] / (z**2 * c + kk**2 * c_k + a**2 * c_a)
        rows = [-p[0] - z * c * dpsi] + ([-kk * c_k * dpsi] if ternary else []) + [dpsi]
        return np.vstack([np.broadcast_to(row, xi.shape) for row in rows])

    def bc(y0, y1, p):
        x = x_eq - z * y0[-1]
        kinetic = i0_scaled * (math.exp(alpha * x) - y0[0] * math.exp(-(1 - alpha) * x))
        return np.array([*(y1 - np.array(bulk)), p[0] - kinetic])

    xi = np.linspace(0, 1, 11)
    guess = np.tile(np.array(bulk)[:, None], (1, xi.size))
    sol = scipy.integrate.solve_bvp(rhs, bc, xi, guess, p=[0.0], tol=tol, bc_tol=1e-12,
                                    max_nodes=10**6)
    assert sol.status == 0, sol.message
    return z * FARADAY * to_flux * float(sol.p[0]), len(sol.x)


def bvp() -> None:
    """Print the FV + Newton vs solve_bvp table (Markdown rows)."""
    cases = []
    spitzer = get_model("plasma").resolve({"radiation": 0.0, "temperature": 0.2,
                                           "conductivity": 2.0})
    phi0 = spitzer["conductivity"] * 0.2**3.5 / 3.5 + 40.0 * 3 / 8
    exact = (phi0 * 3.5 / spitzer["conductivity"]) ** (1 / 3.5)
    radiating = get_model("plasma").resolve({})
    t12, t13 = plasma_fv(radiating, 60.0, 2**12), plasma_fv(radiating, 60.0, 2**13)
    reference = t13 + (t13 - t12) / 3
    check, _ = plasma_bvp(radiating, 60.0, 1e-7)
    print(f"plasma P = 60 reference T(0) = {reference:.12f} (Richardson, 2^12/2^13 cells); "
          f"solve_bvp (Φ form) tol 1e-7: {check:.12f}")
    for name, params, power, value in (
            ("plasma, Spitzer, no radiation (P = 40): T(0)", spitzer, 40.0, exact),
            ("plasma, Spitzer + radiation, hot branch (P = 60): T(0)", radiating, 60.0,
             reference)):
        cases.append((name, value, lambda n, p=params, w=power: plasma_fv(p, w, n),
                      {f"solve_bvp ({form} form)": lambda tol, p=params, w=power, form=form:
                       plasma_bvp(p, w, tol, form) for form in ("kirchhoff", "temperature")}))
    for ratio in (0.0, 1.0):
        params = get_model("corrosion").resolve({"supporting_electrolyte": ratio})
        params["drive"] = -0.1  # η
        cases.append((f"corrosion, supporting_electrolyte = {ratio:g}, η = −0.1 V: i",
                      corrosion_exact(params), lambda n, p=params: corrosion_fv(p, n),
                      {"solve_bvp": lambda tol, p=params: corrosion_bvp(p, tol)}))
    print("| problem | method | resolution | relative error | CPU seconds |")
    print("|---|---|---|---|---|")
    for name, exact, fv, collocations in cases:
        for cells in (25, 100, 400, 1600, 6400):
            value, seconds = timed(lambda fv=fv, cells=cells: fv(cells))
            print(f"| {name} | FV + Newton | {cells} cells | "
                  f"{abs(value / exact - 1):.1e} | {seconds:.4f} |")
        for method, collocation in collocations.items():
            for tol in (1e-3, 1e-4, 1e-5, 1e-6, 1e-8):
                nodes = []

                def run(tol=tol, collocation=collocation, nodes=nodes):
                    value, n = collocation(tol)
                    nodes.append(n)
                    return value

                value, seconds = timed(run)
                error = f"{abs(value / exact - 1):.1e}" if math.isfinite(value) else "failed"
                print(f"| {name} | {method} | tol {tol:.0e}, {nodes[-1]} nodes | {error} | "
                      f"{seconds:.4f} |")
                if not math.isfinite(value):
                    break


if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else "all"
    if task in ("perf", "all"):
        perf(int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    if task in ("bvp", "all"):
        bvp()
