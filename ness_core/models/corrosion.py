"""Metal dissolution under a potential: Nernst–Planck + Butler–Volmer (docs/conventions.md, S3).

A metal M dissolves, M → M^{z+} + z e⁻, into a stagnant diffusion layer 0 ≤ x ≤ δ (Nernst
layer) that ends in a well-stirred bulk (SI units: m, s, mol/m³, A/m², V, K). The bulk holds
the metal salt at concentration c_b of M^{z+} with an inert anion A^{z_A} (charge
``anion_charge``, |z_A| = a) and, in ratio r = ``supporting_electrolyte``, an inert
supporting salt of a cation K^{z_K} (``supporting_charge``, k = z_K) with the same anion:
bulk concentrations c_b, c_K,b = r z c_b / k and c_A,b = z (1 + r) c_b / a (electroneutral;
r is the ratio of the supporting cation's charge concentration to the metal ion's).

Transport (Nernst–Planck, dilute solution, ψ = FΦ/RT the dimensionless solution potential,
Φ = 0 in the bulk): N_j = −D_j (∂c_j/∂x + z_j c_j ∂ψ/∂x), ∂c_j/∂t = −∂N_j/∂x,
electroneutrality Σ_j z_j c_j = 0; c_j(δ) = bulk values; at the electrode only the metal ion
crosses (N_K = N_A = 0) with N_M(0) = i/(zF). The potential drop across the layer,
ΔΦ = Φ(0) − Φ(δ), is solved together with the concentrations
(:class:`ness_core.solvers.nernst_planck.NernstPlanckProblem`, finite volumes with
logarithmic-mean fluxes).
``supporting_electrolyte`` = inf (the default) is the usual excess of supporting electrolyte:
migration of the metal ion is negligible, ΔΦ = 0 and the layer obeys Fick's law,
∂c/∂t = D ∂²c/∂x² (:class:`~ness_core.solvers.continuum.DiffusionProblem`).

Kinetics: Butler–Volmer for the potential difference between the metal and the solution at
the electrode (anodic = dissolution positive; Bard & Faulkner 2001, Eq. 3.4.10; Newman Ch. 8)

    i = i₀ [ exp(α f η') − (c_s/c_b) exp(−(1 − α) f η') ],   f = zF/(RT),   η' = η − ΔΦ,

with c_s = c(0) the surface concentration, η = E − E_eq the overpotential measured against a
reference electrode in the bulk, E_eq = (RT/zF) ln(c_b/c°) the Nernst potential of the bulk
(c° = 1000 mol/m³) and i₀ = i₀° (c_b/c°)^α (cathodic transfer coefficient 1 − α). Axes
(binding): ``drive`` = η = E − E_eq (V), ``temperature`` = T (K), ``density`` = c_b (mol/m³).
So ``drive`` = 0 is equilibrium whatever c_b and T: the electrode sits at its Nernst potential,
no net reaction, no current, no entropy production (turn off the overpotential and the
currents cease); the electrode potential against the standard potential of M^{z+}/M is
reported as ``electrode_potential`` E − E° = η + E_eq − E°. (Before this convention ``drive``
was E − E°, so its zero carried i = 9.83 A/m² at the default c_b = 10 mol/m³.)
The surface overpotential is η_s = η' − (RT/zF) ln(c_s/c_b).

Closed forms (the tests use them). Excess supporting electrolyte: the profile is linear,
c_s = c_b (1 + i/i_L) with i_L = zFDc_b/δ (reached on the cathodic, deposition side), so
i = i₀ (e^{αfη} − e^{−(1−α)fη}) / (1 + (i₀/i_L) e^{−(1−α)fη}); at small η the polarisation
resistance is dη/di = (RT/zF)(1/i₀ + 1/i_L) → RT/(zF i₀) for i_L ≫ i₀; at large anodic η the
Tafel slope is dE/d log₁₀ i = ln10·RT/(αzF). With migration the inert ions are in Boltzmann
equilibrium, c_K ∝ e^{−kψ}, c_A ∝ e^{aψ}, so c(ψ) = c_b [(1 + r) e^{aψ} − r e^{−kψ}] and the
constant metal flux integrates to N_M (δ − x) = D G(ψ(x)),
G(ψ) = c_b [(1 + r)(1 + z/a)(e^{aψ} − 1) + r (z − k)/k (e^{−kψ} − 1)]. The cathodic limit
c_s → 0 is e^{(a+k)ψ} = r/(1 + r), hence the limiting current density
i_L = −zFD G(ψ_L)/δ; binary salt (r = 0): i_L = (1 + z/a) zFDc_b/δ, the linear profile
c_s = c_b (1 + i/i_L) and ΔΦ = (RT/aF) ln(c_s/c_b) (Newman Ch. 19: i_L = zFD_salt c_b /
((1 − t₊)δ) with D_salt/(1 − t₊) = D (1 + z/a)). Dissolution raises c_s and so Φ(0): the
anodic current meets the Ohmic drop, the cathodic one is enhanced by migration.

Entropy (k_B = 1, per unit electrode area and time): produced = i η_s/(k_B T) at the interface
+ N_A Σ_j ∫ N_j (−∂μ_j/∂x) dx in the layer (μ_j = ln c_j + z_j ψ per ion, in k_B T; discrete:
Σ_faces N_j Δμ_j, ≥ 0 face by face), whose migration (Ohmic) part N_A Σ_j ∫ z_j N_j (−∂ψ/∂x) dx
= i ΔΦ/(k_B T) is reported separately; exported = i η/(k_B T), the electrical work dissipated
into the thermostat. They are equal in a steady state (relative difference in
``entropy_balance``). ``gap``: slowest relaxation rate of the linearised transport
(ion conservation with electroneutrality: a generalised eigenproblem with zero mass on the
potential rows), with the Robin condition of the kinetics at the electrode; without
migration between Dπ²/(4δ²) (slow kinetics) and Dπ²/δ² (fast kinetics), with migration the
salt relaxes with the ambipolar D_salt = D D_A (z + a)/(z D + a D_A) (binary salt);
double-layer charging (faster) is not modelled.

Numerics: finite volumes on ``cells``, 2·``cells``, … ≤ ``max_cells`` intervals until the
estimated relative errors of the current and of the gap are below ``rtol`` (at least three
grids, so ``max_cells`` ≥ 4·``cells``; the largest is ``grid_relative_error``). The Fick layer
and the binary salt are discretised exactly (linear profile), so the current is exact to
round-off and ``convergence_order`` (of the current) is NaN, but the gap, an eigenvalue of the
discrete Laplacian, is second order: at the default 200 cells it was 5e-6 to 2e-5 too low
(η = 0 … −0.3 V), so refinement now goes on to 800–1600 cells for the default rtol; with a
finite supporting-salt ratio the scheme is second order, and an anodic current far above
i_L squeezes the supporting cation into a sublayer of width ~δ c_b/c_s at the bulk side,
which the uniform grid resolves only for c_s/c_b up to ~10³ (else the status says the grid
did not converge). Newton starts from the previous grid's solution, on the first grid from
the bulk state, stepping the potential from E_eq where a direct solve fails.
Profiles are reported at x/δ = k/(``profile_points`` − 1) (dim ``position``) whatever grid
refinement ended on. The anodic current grows without bound (no salt film or passivation is
modelled), so the Tafel line continues to the top of the ``drive`` range.

References: A. J. Bard & L. R. Faulkner, *Electrochemical Methods*, 2nd ed. (2001), Ch. 1,
3, 4; J. Newman & K. E. Thomas-Alyea, *Electrochemical Systems*, 3rd ed. (2004), Ch. 1, 8, 11
and 19; M. Stern & A. L. Geary, J. Electrochem. Soc. 104, 56 (1957) (polarisation
resistance); diffusivities at infinite dilution, 25 °C: CRC Handbook of Chemistry and
Physics, "Ionic conductivity and diffusion at infinite dilution" (Cu²⁺ 7.14e-10, SO₄²⁻
1.065e-9, Na⁺ 1.334e-9 m²/s).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import constants

from ness_core.model import Model, Observable, Parameter
from ness_core.solvers.continuum import (
    DiffusionProblem,
    Grid,
    check_refinement,
    newton,
    newton_path,
    refine_grid,
    spectral_gap,
)
from ness_core.solvers.nernst_planck import NernstPlanckProblem, Species
from ness_core.status import combine

FARADAY = constants.e * constants.N_A  # C/mol (exact in SI 2019)
STANDARD_CONCENTRATION = 1000.0  # c° = 1 mol/L in mol/m³
# Currents below this fraction of i₀ count as zero in the grid-refinement test (at η = 0 the
# grid differences of the current are round-off).
CURRENT_FLOOR = 1e-6


def migration_factor(params: dict[str, Any]) -> float:
    """i_L / (zFDc_b/δ): 1 without migration, −G(ψ_L)/c_b with it (module docstring)."""
    r, z = params["supporting_electrolyte"], params["z"]
    a, k = -params["anion_charge"], params["supporting_charge"]
    if math.isinf(r):
        return 1.0
    if r == 0:
        return 1.0 + z / a
    psi = math.log(r / (1 + r)) / (a + k)
    return -((1 + r) * (1 + z / a) * math.expm1(a * psi) + r * (z - k) / k * math.expm1(-k * psi))


def kinetics(params: dict[str, Any]) -> dict[str, float]:
    """f = zF/RT, E_eq, i₀(c_b) and i_L of a resolved parameter dict (SI units)."""
    z, t, c_b = params["z"], params["temperature"], params["density"]
    f = z * FARADAY / (constants.R * t)
    return {
        "f": f,
        "equilibrium_potential": math.log(c_b / STANDARD_CONCENTRATION) / f,
        "exchange_current": params["exchange_current"]
        * (c_b / STANDARD_CONCENTRATION) ** params["alpha"],
        "limiting_current": migration_factor(params) * z * FARADAY * params["diffusivity"]
        * c_b / params["layer_thickness"],
    }


def corrosion_problem(cells: int, params: dict[str, Any]) -> DiffusionProblem:
    """Fick layer (excess supporting electrolyte): unknown c (mol/m³) at x_i = iδ/cells,
    i < cells; λ = η = E − E_eq (V)."""
    k = kinetics(params)
    z, alpha, c_b = params["z"], params["alpha"], params["density"]
    f, i0 = k["f"], k["exchange_current"]
    d = params["diffusivity"]
    grid = Grid.uniform(params["layer_thickness"], cells, "slab")

    def reaction_flux(c_s: float, eta: float) -> tuple[float, float, float]:
        anodic = math.exp(alpha * f * eta)
        cathodic = math.exp(-(1 - alpha) * f * eta) / c_b
        scale = i0 / (z * FARADAY)
        return (scale * (anodic - c_s * cathodic), -scale * cathodic,
                scale * f * (alpha * anodic + (1 - alpha) * c_s * cathodic))

    def no_source(c: np.ndarray, potential: float) -> tuple[np.ndarray, ...]:
        zero = np.zeros_like(c)
        return zero, zero, zero

    return DiffusionProblem(grid, lambda c: (d * c, np.full_like(c, d)), no_source, c_b,
                            np.ones(cells + 1), boundary_flux=reaction_flux)


def migration_problem(cells: int, params: dict[str, Any]) -> NernstPlanckProblem:
    """Nernst–Planck layer with electroneutrality; concentrations in units of c_b, species
    (M^{z+}, [K^{k+} if r > 0], A^{z_A}) and ψ = FΦ/RT per node; λ = η = E − E_eq (V)."""
    k = kinetics(params)
    z, alpha, r = params["z"], params["alpha"], params["supporting_electrolyte"]
    a, z_k = -params["anion_charge"], params["supporting_charge"]
    f = k["f"]
    scale = k["exchange_current"] / (z * FARADAY * params["density"])  # i₀/(zF c_b), m/s
    species = [Species(z, params["diffusivity"], 1.0)]
    if r > 0:
        species.append(Species(z_k, params["supporting_diffusivity"], r * z / z_k))
    species.append(Species(-a, params["anion_diffusivity"], z * (1 + r) / a))
    m = len(species)

    def reaction_flux(w: np.ndarray, eta: float) -> tuple[np.ndarray, ...]:
        c_s, psi = float(w[0]), float(w[-1])
        x = f * eta - z * psi  # f η' = f (η − ΔΦ)
        anodic = math.exp(alpha * x)
        cathodic = math.exp(-(1 - alpha) * x)
        flux, d_w, d_lam = np.zeros(m), np.zeros((m, m + 1)), np.zeros(m)
        flux[0] = scale * (anodic - c_s * cathodic)
        d_w[0, 0] = -scale * cathodic
        d_x = scale * (alpha * anodic + (1 - alpha) * c_s * cathodic)
        d_w[0, -1] = -z * d_x
        d_lam[0] = f * d_x
        return flux, d_w, d_lam

    grid = Grid.uniform(params["layer_thickness"], cells, "slab")
    return NernstPlanckProblem(grid, tuple(species), reaction_flux)


class Corrosion(Model):
    """Dissolving metal electrode: Nernst–Planck layer + Butler–Volmer kinetics (S3).

    Equations, units, sign conventions and references are in the docstring of
    :mod:`ness_core.models.corrosion`.
    """

    name = "corrosion"
    summary = "metal dissolution: Nernst–Planck layer with Butler–Volmer kinetics at the surface"
    revision = 1  # the conventions of docs/conventions.md
    parameters = (
        Parameter("drive", 0.0, "V", "overpotential η = E − E_eq against the Nernst "
                  "potential of the bulk (0: equilibrium)", low=-1.0, high=1.0, axis="drive",
                  symbol=r"$\eta$"),
        Parameter("temperature", 298.15, "K", "temperature T", low=250.0, high=400.0,
                  axis="temperature", symbol=r"$T$"),
        Parameter("density", 10.0, "mol/m³", "bulk metal-ion concentration c_b", low=0.0,
                  low_inclusive=False, high=1e4, axis="density", symbol=r"$c_b$"),
        Parameter("z", 2, "1", "charge number of the metal ion", kind=int, low=1, high=4),
        Parameter("alpha", 0.5, "1", "anodic transfer coefficient α (cathodic 1 − α)",
                  low=0.0, high=1.0, low_inclusive=False, high_inclusive=False, symbol=r"$\alpha$"),
        Parameter("exchange_current", 10.0, "A/m²", "exchange current density i₀° at c°",
                  low=0.0, low_inclusive=False, symbol=r"$i_0^\circ$"),
        Parameter("diffusivity", 7e-10, "m²/s", "ion diffusion coefficient D", low=0.0,
                  low_inclusive=False, symbol=r"$D$"),
        Parameter("layer_thickness", 1e-4, "m", "diffusion-layer thickness δ", low=0.0,
                  low_inclusive=False, symbol=r"$\delta$"),
        Parameter("supporting_electrolyte", math.inf, "1", "supporting-salt ratio r = z_K "
                  "c_K,b/(z c_b) (inf: excess, no migration; 0: binary salt)", low=0.0,
                  allow_inf=True),
        Parameter("anion_charge", -2, "1", "charge number z_A of the inert anion", kind=int,
                  low=-3, high=-1),
        Parameter("anion_diffusivity", 1.065e-9, "m²/s", "anion diffusion coefficient D_A",
                  low=0.0, low_inclusive=False),
        Parameter("supporting_charge", 1, "1", "charge number z_K of the supporting cation",
                  kind=int, low=1, high=3),
        Parameter("supporting_diffusivity", 1.334e-9, "m²/s", "supporting-cation diffusion "
                  "coefficient D_K", low=0.0, low_inclusive=False),
        Parameter("cells", 50, "cells", "coarsest grid of the layer", kind=int, low=4,
                  high=20000),
        Parameter("rtol", 1e-6, "1", "target relative grid error of the current and the gap",
                  low=1e-14, high=0.1),
        Parameter("max_cells", 3200, "cells", "finest grid allowed", kind=int, low=4,
                  high=20000),
        Parameter("profile_points", 51, "points", "profile positions x/δ = k/(points − 1)",
                  kind=int, low=2, high=20001),
    )
    observables = (
        Observable("current", "A/m²", "current density (anodic dissolution > 0)", symbol=r"$i$"),
        Observable("log10_abs_current", "log10(A/m²)", "log10 |current density| (Tafel plot)"),
        Observable("entropy_production", "k_B/(s·m²)", "entropy produced (reaction + "
                   "transport)", symbol=r"$\sigma$"),
        Observable("migration_entropy_production", "k_B/(s·m²)", "Ohmic (migration) part "
                   "of the transport entropy production"),
        Observable("entropy_exported", "k_B/(s·m²)", "entropy exported i·η/(k_B T)"),
        Observable("entropy_balance", "1", "(produced − exported)/exported"),
        Observable("gap", "1/s", "slowest relaxation rate of the concentration profile",
                   symbol=r"$g$"),
        Observable("surface_concentration", "mol/m³", "metal-ion concentration at the metal"),
        Observable("overpotential", "V", "η = E − E_eq"),
        Observable("surface_overpotential", "V", "η_s = η − ΔΦ − (RT/zF) ln(c_s/c_b)"),
        Observable("layer_potential_drop", "V", "ΔΦ = Φ(0) − Φ(δ) across the layer"),
        Observable("equilibrium_potential", "V", "Nernst potential E_eq − E°"),
        Observable("electrode_potential", "V", "electrode potential E − E° = η + E_eq − E°"),
        Observable("exchange_current", "A/m²", "exchange current density i₀ at c_b"),
        Observable("limiting_current", "A/m²", "cathodic limiting current density "
                   "(zFDc_b/δ without migration)"),
        Observable("grid_cells", "cells", "finest grid used"),
        Observable("grid_error", "A/m²", "estimated grid error of the current"),
        Observable("grid_relative_error", "1", "largest estimated relative grid error of the "
                   "current and the gap"),
        Observable("convergence_order", "1", "observed order (NaN: exact discretisation)"),
        Observable("concentration_profile", "mol/m³", "metal-ion concentration c(x)",
                   dims=("position",)),
        Observable("potential_profile", "V", "solution potential Φ(x) − Φ(δ)",
                   dims=("position",)),
    )

    equilibrium = ("drive = 0: zero overpotential η = E − E_eq, the electrode at the Nernst "
                   "potential of the bulk (any c_b, T)")
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "density": 100.0, "temperature": 338.15,
                                             "supporting_electrolyte": 0.0})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Zero overpotential: no net reaction, a uniform bulk layer, detailed balance."""
        return params["drive"] == 0

    def check(self, params: dict[str, Any]) -> None:
        check_refinement(params["cells"], params["max_cells"])

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        k = kinetics(params)
        migration = not math.isinf(params["supporting_electrolyte"])
        eta, c_b = params["drive"], params["density"]
        z_faraday = params["z"] * FARADAY
        solved: dict[int, tuple[Any, Any]] = {}

        def monitored(cells: int) -> tuple[float, float]:
            """(current, gap) on ``cells``: refinement stops on both."""
            if migration:
                problem = migration_problem(cells, params)
                lower = problem.lower_bounds()
                state = None
                if solved:  # start from the previous grid's solution
                    previous, coarse = solved[max(solved)]
                    guess = problem.interpolate(previous.grid.nodes, previous.state(coarse.u))
                    state = newton(problem, guess, eta, lower=lower)
                if state is None or state.status != "ok":  # from equilibrium (uniform bulk)
                    state = newton_path(problem, problem.uniform(), 0.0, eta, lower=lower)
                flux = c_b * problem.boundary_flux(problem.state(state.u)[0], eta)[0][0]
            else:
                problem = corrosion_problem(cells, params)
                state = newton(problem, np.full(cells, c_b), eta, lower=0.0)
                flux = problem.boundary_flux(float(state.u[0]), eta)[0]
            solved[cells] = (problem, state)
            if state.status != "ok":
                return math.nan, math.nan
            return z_faraday * flux, spectral_gap(problem, state.u, eta)

        floor = (CURRENT_FLOOR * k["exchange_current"], 0.0)
        grid = refine_grid(monitored, params["cells"], params["rtol"], params["max_cells"],
                           floor=floor)
        problem, state = solved[grid.cells]
        if state.status != "ok":
            failed = {o.name: math.nan for o in self.observables if not o.dims}
            return failed | {"concentration_profile": np.full(0, math.nan),
                             "potential_profile": np.full(0, math.nan),
                             "grid_cells": float(grid.cells), "residual": state.residual,
                             "status": f"{state.status} at {grid.cells} cells"}
        if migration:
            w = problem.state(state.u)
            c, psi = c_b * w[:, 0], w[:, -1]
            diffusion, ohmic = (constants.N_A * c_b * p for p in problem.dissipation(state.u))
        else:
            c, psi = problem.full(state.u), np.zeros(grid.cells + 1)
            diffusion, ohmic = constants.N_A * problem.face_dissipation(state.u, np.log(c)), 0.0
        thermal = constants.R * params["temperature"] / FARADAY  # RT/F in V
        i = grid.value
        drop = thermal * float(psi[0])
        eta_s = eta - drop - math.log(c[0] / c_b) / k["f"]
        k_t = constants.k * params["temperature"]
        produced = i * eta_s / k_t + diffusion + ohmic
        exported = i * eta / k_t
        points = params["profile_points"]
        return {
            "current": i,
            "log10_abs_current": math.log10(abs(i)) if i != 0 else -math.inf,
            "entropy_production": produced,
            "migration_entropy_production": ohmic,
            "entropy_exported": exported,
            "entropy_balance": (produced - exported) / exported if exported else 0.0,
            "gap": grid.values[1],
            "surface_concentration": float(c[0]),
            "overpotential": eta,
            "surface_overpotential": eta_s,
            "layer_potential_drop": drop,
            "equilibrium_potential": k["equilibrium_potential"],
            "electrode_potential": eta + k["equilibrium_potential"],
            "exchange_current": k["exchange_current"],
            "limiting_current": k["limiting_current"],
            "grid_cells": float(grid.cells),
            "grid_error": grid.error,
            "grid_relative_error": grid.relative_error,
            "convergence_order": grid.order,
            "concentration_profile": problem.grid.sample(c, points),
            "potential_profile": problem.grid.sample(thermal * psi, points),
            "residual": state.residual,
            "status": combine(state.status, grid.status),
        }
