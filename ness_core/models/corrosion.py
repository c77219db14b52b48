"""Metal dissolution under an applied potential: diffusion layer + Butler–Volmer (DOMAIN.md S3).

A metal M dissolves, M → M^{z+} + z e⁻, into a stagnant diffusion layer 0 ≤ x ≤ δ (Nernst
layer) that ends in a well-stirred bulk at concentration c_b (SI units: m, s, mol/m³, A/m²,
V, K). With an excess of supporting electrolyte migration of the metal ions is negligible and
the Nernst–Planck flux reduces to Fick's law, so the ion concentration obeys

    ∂c/∂t = D ∂²c/∂x²,     −D ∂c/∂x (0) = i/(zF),     c(δ) = c_b,

with the Butler–Volmer current density (anodic = dissolution positive; Bard & Faulkner 2001,
Eq. 3.4.10)

    i = i₀ [ exp(α f η) − (c_s/c_b) exp(−(1 − α) f η) ],   f = zF/(RT),

where c_s = c(0) is the surface concentration, η = E − E_eq the overpotential against the
Nernst potential E_eq = (RT/zF) ln(c_b/c°) of the bulk (c° = 1000 mol/m³), and
i₀ = i₀° (c_b/c°)^α the exchange current density (cathodic transfer coefficient 1 − α).
Axes (binding): ``drive`` = E − E° (electrode potential against the standard potential, V),
``temperature`` = T (K), ``density`` = c_b (mol/m³).

Closed forms the tests use: the steady profile is linear, c_s = c_b (1 + i/i_L) with the
limiting current density i_L = zFDc_b/δ (reached on the cathodic, deposition side), hence
i = i₀ (e^{αfη} − e^{−(1−α)fη}) / (1 + (i₀/i_L) e^{−(1−α)fη}); at small η the polarisation
resistance is dη/di = (RT/zF)(1/i₀ + 1/i_L) → RT/(zF i₀) when i_L ≫ i₀; at large anodic η
the Tafel slope dE/d log₁₀ i = ln10·RT/(αzF).

Entropy (k_B = 1, per unit electrode area and time): produced = i η_s/(k_B T) at the interface
(η_s = η − (RT/zF) ln(c_s/c_b) the surface overpotential) + ∫ N_A D (∂c/∂x)²/c dx in the layer
(discrete: Σ_faces flux·Δ ln c), exported = i η/(k_B T) (the electrical work dissipated into
the thermostat); they are equal in a steady state (relative difference in
``entropy_balance``). ``gap``: slowest diffusion mode of the linearised dynamics (Robin
condition at the electrode), between Dπ²/(4δ²) (slow kinetics) and Dπ²/δ² (fast kinetics);
double-layer charging (faster) is not modelled. The finite-volume discretisation
(:mod:`ness_core.solvers.continuum`) is exact for the linear profile, so grid refinement
stops at round-off and ``convergence_order`` is NaN (``max_cells`` ≥ 4·``cells``: three grids).
The anodic current grows without bound (no salt film or passivation is modelled), so the
Tafel line continues to the top of the ``drive`` range.

References: A. J. Bard & L. R. Faulkner, *Electrochemical Methods*, 2nd ed. (2001), Ch. 1,
3; J. Newman & K. E. Thomas-Alyea, *Electrochemical Systems*, 3rd ed. (2004), Ch. 8 and 19;
M. Stern & A. L. Geary, J. Electrochem. Soc. 104, 56 (1957) (polarisation resistance).
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
    refine_grid,
    spectral_gap,
)

FARADAY = constants.e * constants.N_A  # C/mol (exact in SI 2019)
STANDARD_CONCENTRATION = 1000.0  # c° = 1 mol/L in mol/m³


def kinetics(params: dict[str, Any]) -> dict[str, float]:
    """f = zF/RT, E_eq, i₀(c_b) and i_L of a resolved parameter dict (SI units)."""
    z, t, c_b = params["z"], params["temperature"], params["density"]
    f = z * FARADAY / (constants.R * t)
    return {
        "f": f,
        "equilibrium_potential": math.log(c_b / STANDARD_CONCENTRATION) / f,
        "exchange_current": params["exchange_current"]
        * (c_b / STANDARD_CONCENTRATION) ** params["alpha"],
        "limiting_current": z * FARADAY * params["diffusivity"] * c_b
        / params["layer_thickness"],
    }


def corrosion_problem(cells: int, params: dict[str, Any]) -> DiffusionProblem:
    """Finite-volume layer: unknown c at x_i = iδ/cells, i < cells; λ = E − E° (V)."""
    k = kinetics(params)
    z, alpha, c_b = params["z"], params["alpha"], params["density"]
    f, i0, e_eq = k["f"], k["exchange_current"], k["equilibrium_potential"]
    d = params["diffusivity"]
    grid = Grid.uniform(params["layer_thickness"], cells, "slab")

    def reaction_flux(c_s: float, potential: float) -> tuple[float, float, float]:
        eta = potential - e_eq
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


class Corrosion(Model):
    """Dissolving metal electrode: diffusion layer + Butler–Volmer kinetics (S3).

    Equations, units, sign conventions and references are in the docstring of
    :mod:`ness_core.models.corrosion`.
    """

    name = "corrosion"
    summary = "metal dissolution: diffusion layer with Butler–Volmer kinetics at the surface"
    parameters = (
        Parameter("drive", 0.0, "V", "electrode potential E − E° against the standard "
                  "potential of M(z+)/M", low=-1.0, high=1.0, axis="drive"),
        Parameter("temperature", 298.15, "K", "temperature T", low=250.0, high=400.0,
                  axis="temperature"),
        Parameter("density", 10.0, "mol/m³", "bulk metal-ion concentration c_b", low=0.0,
                  low_inclusive=False, high=1e4, axis="density"),
        Parameter("z", 2, "1", "charge number of the metal ion", kind=int, low=1, high=4),
        Parameter("alpha", 0.5, "1", "anodic transfer coefficient α (cathodic 1 − α)",
                  low=0.0, high=1.0, low_inclusive=False, high_inclusive=False),
        Parameter("exchange_current", 10.0, "A/m²", "exchange current density i₀° at c°",
                  low=0.0, low_inclusive=False),
        Parameter("diffusivity", 7e-10, "m²/s", "ion diffusion coefficient D", low=0.0,
                  low_inclusive=False),
        Parameter("layer_thickness", 1e-4, "m", "diffusion-layer thickness δ", low=0.0,
                  low_inclusive=False),
        Parameter("cells", 50, "cells", "coarsest grid of the layer", kind=int, low=4,
                  high=20000),
        Parameter("rtol", 1e-8, "1", "target relative grid error of the current", low=1e-14,
                  high=0.1),
        Parameter("max_cells", 400, "cells", "finest grid allowed", kind=int, low=4,
                  high=20000),
    )
    observables = (
        Observable("current", "A/m²", "current density (anodic dissolution > 0)"),
        Observable("log10_abs_current", "log10(A/m²)", "log10 |current density| (Tafel plot)"),
        Observable("entropy_production", "k_B/(s·m²)", "entropy produced (reaction + "
                   "diffusion)"),
        Observable("entropy_exported", "k_B/(s·m²)", "entropy exported i·η/(k_B T)"),
        Observable("entropy_balance", "1", "(produced − exported)/exported"),
        Observable("gap", "1/s", "slowest relaxation rate of the concentration profile"),
        Observable("surface_concentration", "mol/m³", "metal-ion concentration at the metal"),
        Observable("overpotential", "V", "η = E − E_eq"),
        Observable("surface_overpotential", "V", "η_s = η − (RT/zF) ln(c_s/c_b)"),
        Observable("equilibrium_potential", "V", "Nernst potential E_eq − E°"),
        Observable("exchange_current", "A/m²", "exchange current density i₀ at c_b"),
        Observable("limiting_current", "A/m²", "limiting current density zFDc_b/δ"),
        Observable("grid_cells", "cells", "finest grid used"),
        Observable("grid_error", "A/m²", "estimated grid error of the current"),
        Observable("convergence_order", "1", "observed order (NaN: exact discretisation)"),
        Observable("concentration_profile", "mol/m³", "c on the grid nodes",
                   dims=("position",)),
    )

    def check(self, params: dict[str, Any]) -> None:
        check_refinement(params["cells"], params["max_cells"])

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        potential = params["drive"]
        states: dict[int, tuple[DiffusionProblem, Any]] = {}

        def current(cells: int) -> float:
            problem = corrosion_problem(cells, params)
            state = newton(problem, np.full(cells, params["density"]), potential, lower=0.0)
            states[cells] = (problem, state)
            flux = problem.boundary_flux(float(state.u[0]), potential)[0]
            return z_faraday * flux if state.status == "ok" else math.nan

        z_faraday = params["z"] * FARADAY
        grid = refine_grid(current, params["cells"], params["rtol"],
                           params["max_cells"])
        problem, state = states[grid.cells]
        k = kinetics(params)
        c = problem.full(state.u)
        i = grid.value
        eta = potential - k["equilibrium_potential"]
        eta_s = eta - math.log(c[0] / params["density"]) / k["f"]
        k_t = constants.k * params["temperature"]
        transport = constants.N_A * problem.face_dissipation(state.u, np.log(c))
        produced = i * eta_s / k_t + transport
        exported = i * eta / k_t
        return {
            "current": i,
            "log10_abs_current": math.log10(abs(i)) if i != 0 else -math.inf,
            "entropy_production": produced,
            "entropy_exported": exported,
            "entropy_balance": (produced - exported) / exported if exported else 0.0,
            "gap": spectral_gap(problem, state.u, potential),
            "surface_concentration": float(c[0]),
            "overpotential": eta,
            "surface_overpotential": eta_s,
            "equilibrium_potential": k["equilibrium_potential"],
            "exchange_current": k["exchange_current"],
            "limiting_current": k["limiting_current"],
            "grid_cells": float(grid.cells),
            "grid_error": grid.error,
            "convergence_order": grid.order,
            "concentration_profile": c,
            "residual": state.residual,
            "status": state.status if state.status != "ok" else grid.status,
        }
