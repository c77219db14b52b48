"""Chemostat cell (docs/conventions.md, S1): glucose in, lactate out, overall G → 2 L.

Network (reaction-network layer :mod:`ness_core.networks`, k_B = 1, concentrations in c°):

    uptake      Gx <-> G        (external glucose Gx held at ``density``)
    glycolysis  G  <-> 2 L      (lumped pathway)
    export      L  <-> Lx       (external lactate Lx held at ``lactate``)

Standard chemical potentials μ°_G = μ°_Gx = 0 and μ°_L = μ°_Lx = (ΔG° − drive)/2, so the
rate constants obey local detailed balance (k⁺ = k e^{−Δμ°/2T}, k⁻ = k e^{Δμ°/2T}) and the
overall reaction Gx → 2 Lx has the free energy

    ΔG = ΔG° − drive + T ln([Lx]² / [Gx])

(``drive`` shifts the chemical driving force; the only cycle affinity is −ΔG/T). In the
steady state the pathway flux J (net glycolysis rate per volume, c°/time) equals the uptake
flux and half the export flux, and σ = J·(−ΔG)/T ≥ 0 (k_B/time per c°-volume).

Two forms (``form``):

* ``deterministic``: mass-action steady state by Newton from several starts; gap = −max Re
  of the Jacobian eigenvalues; ``n_stable`` counts the stable states found.
* ``stochastic``: chemical master equation for copy numbers at volume Ω (``volume``, the
  number of molecules per c°) on a box grown until the stationary probability of states with a
  transition cut by the box is below ``tolerance``; σ from the reaction fluxes; means ⟨n⟩/Ω.
  ``method``: ``cme`` always, ``gillespie`` always simulates (``events`` recorded reaction
  events, ``seed``; standard errors ``current_error``, ``entropy_production_error``; gap
  NaN), ``auto`` (default) simulates only when the CME box would exceed ``max_states``.

Linear response (Onsager): near ΔG = 0, J ≈ L_O (−ΔG/T), with the reactions in series
(uptake, glycolysis, twice export per glucose) adding their resistances:
1/L_O = 1/w_up + 1/w_gly + 4/w_exp, w_ρ = √(v⁺_ρ v⁻_ρ) the exchange rate of reaction ρ at
the reference state G = [Gx], L = [Lx] (the equilibrium state at ΔG = 0).
``current_linear`` = L_O (−ΔG/T) marks the Onsager region where it matches ``current``.
With k_uptake = k_export = k the carbon content 2G + L relaxes exactly at rate k
(d(2G + L)/dt = −k(2G + L) + const), so the gap cannot exceed k.

References: H. Qian and D. A. Beard, Biophys. Chem. 114, 213 (2005) (thermodynamics of
chemostatted biochemical networks); R. Rao and M. Esposito, Phys. Rev. X 6, 041064 (2016);
L. Onsager, Phys. Rev. 37, 405 (1931); T. Jahnke and W. Huisinga, J. Math. Biol. 54, 1 (2007).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.model import Model, Observable, Parameter
from ness_core.networks import (
    GILLESPIE_SECONDS_PER_EVENT,
    SOLVER_DIAGNOSTICS,
    STOCHASTIC_METHODS,
    cme_seconds,
    deterministic_steady_states,
    flux_entropy_production,
    parse_network,
    stochastic_steady_state,
)
from ness_core.status import combine

NETWORK = parse_network({
    "species": {"G": {"mu0": 0.0}, "L": {"mu0": "(dG0 - drive) / 2"}},
    "chemostats": {
        "Gx": {"concentration": "density", "mu0": 0.0},
        "Lx": {"concentration": "lactate", "mu0": "(dG0 - drive) / 2"},
    },
    "reactions": {
        "uptake": {"equation": "Gx <-> G", "rate": "k_uptake"},
        "glycolysis": {"equation": "G <-> 2 L", "rate": "k_glycolysis"},
        "export": {"equation": "L <-> Lx", "rate": "k_export"},
    },
    "composition": {"G": {"C": 6}, "Gx": {"C": 6}, "L": {"C": 3}, "Lx": {"C": 3}},
})
GLYCOLYSIS = 1  # index of the glycolysis reaction


def _positive(name: str, default: float, unit: str, meaning: str, **kw: Any) -> Parameter:
    return Parameter(name, default, unit, meaning, low=0.0, low_inclusive=False, **kw)


class Chemostat(Model):
    """Chemostatted glycolysis cell G → 2 L, deterministic and stochastic (docs/conventions.md, S1).

    Conventions, units and references: module docstring. Observables: ``current`` (pathway
    flux J, c°/time), ``entropy_production`` (k_B/time per c°-volume), ``gap`` (1/time),
    ``delta_g`` (ΔG, energy), ``affinity`` (−ΔG/T), ``onsager_coefficient`` and
    ``current_linear`` (linear-response prediction), ``glucose`` and ``lactate_internal``
    (steady-state concentrations, CME means ⟨n⟩/Ω), ``boundary_probability`` and
    ``n_states`` (CME truncation; NaN in the deterministic form), ``n_stable`` (number of
    stable deterministic steady states found).
    """

    name = "chemostat"
    summary = "chemostatted cell: glucose uptake, lumped glycolysis G → 2 L, lactate export"
    revision = 1  # status is exactly "ok" or a failure; partial results say so in note
    parameters = (
        Parameter("drive", 0.0, "energy", "shift of the driving force: ΔG = ΔG° − drive + "
                  "T ln([Lx]²/[Gx])", low=-50.0, high=50.0, axis="drive", symbol=r"$\delta\mu$"),
        _positive("temperature", 1.0, "energy", "temperature (k_B = 1)", axis="temperature"),
        _positive("density", 1.0, "c°", "external glucose concentration [Gx]", axis="density"),
        _positive("lactate", 1.0, "c°", "external lactate concentration [Lx]"),
        Parameter("dG0", 0.0, "energy", "standard free energy ΔG° of G → 2 L",
                  low=-50.0, high=50.0, symbol=r"$\Delta G^\circ$"),
        _positive("k_uptake", 1.0, "1/time", "uptake rate prefactor"),
        _positive("k_glycolysis", 1.0, "1/time", "glycolysis rate prefactor"),
        _positive("k_export", 1.0, "1/time", "export rate prefactor"),
        Parameter("form", "deterministic", "", "mass-action ODE or chemical master equation",
                  kind=str, choices=("deterministic", "stochastic")),
        Parameter("volume", 20.0, "1/c°", "system size Ω: molecules per unit concentration",
                  low=1.0, high=1e4, symbol=r"$\Omega$"),
        Parameter("tolerance", 1e-8, "1", "CME: largest stationary probability of states "
                  "cut by the truncation", low=0.0, high=1e-2, low_inclusive=False),
        Parameter("max_states", 200_000, "1", "CME: largest truncated state space",
                  kind=int, low=100),
        Parameter("method", "auto", "", "stochastic form: truncated CME, Gillespie simulation, "
                  "or auto (CME if it fits in max_states)", kind=str, choices=STOCHASTIC_METHODS),
        Parameter("seed", 0, "1", "Gillespie: random seed", kind=int, low=0),
        Parameter("events", 1_000_000, "1", "Gillespie: recorded reaction events", kind=int,
                  low=1000),
    )
    observables = (
        Observable("current", "c°/time", "pathway flux (net glycolysis rate per volume)",
                   symbol=r"$J$"),
        Observable("entropy_production", "k_B/(time c°^-1)", "entropy production per volume",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "slowest relaxation rate", symbol=r"$g$"),
        Observable("delta_g", "energy", "free energy ΔG of the overall reaction Gx → 2 Lx",
                   symbol=r"$\Delta G$"),
        Observable("affinity", "k_B", "affinity −ΔG/T"),
        Observable("onsager_coefficient", "c°/time", "linear-response coefficient L_O"),
        Observable("current_linear", "c°/time", "Onsager prediction L_O·(−ΔG/T)"),
        Observable("glucose", "c°", "internal glucose concentration"),
        Observable("lactate_internal", "c°", "internal lactate concentration"),
        *SOLVER_DIAGNOSTICS,
    )

    equilibrium = ("ΔG = ΔG° − drive + T ln([Lx]²/[Gx]) = 0: drive = 0 with the chemostats at "
                   "chemical equilibrium, lactate² = density·exp(−dG0/T) (the defaults: "
                   "dG0 = 0, lactate = density = 1); any other drive offsets that force")
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "density": 2.0, "lactate": 2.0**0.5},
                            {"drive": 1.5, "dG0": 1.5, "form": "stochastic", "volume": 5.0})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """ΔG = 0 (to round-off): the chemostats are at chemical equilibrium."""
        delta_g = (params["dG0"] - params["drive"]
                   + params["temperature"] * math.log(params["lactate"] ** 2 / params["density"]))
        scale = max(1.0, abs(params["dG0"]), abs(params["drive"]))
        return abs(delta_g) <= 1e-12 * scale

    def check(self, params: dict[str, Any]) -> None:
        """Rate constants must be finite (|Δμ°|/2T ≤ 700): ParameterError naming the reaction."""
        NETWORK.kinetics(params)

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        kin = NETWORK.kinetics(params)
        t = params["temperature"]
        delta_g = (params["dG0"] - params["drive"]
                   + t * math.log(params["lactate"] ** 2 / params["density"]))
        onsager = onsager_coefficient(params)
        out = {
            "delta_g": delta_g,
            "affinity": -delta_g / t,
            "onsager_coefficient": onsager,
            "current_linear": onsager * (-delta_g / t),
        }
        det = deterministic_steady_states(
            kin, np.array([params["density"], params["lactate"]]))
        if not det.states:
            return {**out, **_nan_core(), "n_stable": 0.0, "status": det.status}
        steady = det.states[0]
        out["n_stable"] = float(det.n_stable)
        # multistability is data (n_stable, note); no stable state at all is a failure
        status = "0 stable states" if det.n_stable == 0 else "ok"
        note = "" if det.n_stable <= 1 else f"{det.n_stable} stable states"
        if params["form"] == "deterministic":
            vp, vm = kin.one_way_rates(steady.concentrations)
            return {**out, "current": vp[GLYCOLYSIS] - vm[GLYCOLYSIS],
                    "entropy_production": flux_entropy_production(vp, vm),
                    "gap": steady.gap, "glucose": steady.concentrations[0],
                    "lactate_internal": steady.concentrations[1],
                    "boundary_probability": math.nan, "n_states": math.nan,
                    "current_error": math.nan, "entropy_production_error": math.nan,
                    "residual": steady.residual, "status": status, "note": note}
        omega = params["volume"]
        start = np.round(omega * steady.concentrations).astype(int)
        st = stochastic_steady_state(
            kin, omega, start, start, params["method"], tol=params["tolerance"],
            max_states=params["max_states"], seed=params["seed"], events=params["events"])
        return {**out,
                "current": st.forward_flux[GLYCOLYSIS] - st.backward_flux[GLYCOLYSIS],
                "entropy_production": st.entropy_production, "gap": st.gap,
                "glucose": st.mean[0], "lactate_internal": st.mean[1],
                "boundary_probability": st.boundary_probability, "n_states": st.n_states,
                "current_error": st.net_flux_error[GLYCOLYSIS],
                "entropy_production_error": st.entropy_production_error,
                "residual": st.residual, "status": combine(st.status, status), "note": note}

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """CME: :func:`networks.cme_seconds` of the box around Ω·c; Gillespie ~2.5e-7 s per
        event; deterministic: ~0.01 s."""
        if params["form"] == "deterministic":
            return 0.01
        sizes = [params["volume"] * c for c in (params["density"], params["lactate"])]
        n = math.prod(m + 6 * math.sqrt(m) + 11 for m in sizes)
        if params["method"] == "gillespie" or (params["method"] == "auto"
                                               and n > params["max_states"]):
            return 0.01 + GILLESPIE_SECONDS_PER_EVENT * params["events"] * 1.1
        return max(0.01, cme_seconds(min(n, params["max_states"]), 2))


def onsager_coefficient(params: dict[str, Any]) -> float:
    """L_O = 1/(1/w_up + 1/w_gly + 4/w_exp) at G = [Gx], L = [Lx] (module docstring)."""
    kin = NETWORK.kinetics(params)
    vp, vm = kin.one_way_rates(np.array([params["density"], params["lactate"]]))
    w = np.sqrt(vp * vm)
    return float(1.0 / (1.0 / w[0] + 1.0 / w[1] + 4.0 / w[2]))


def _nan_core() -> dict[str, float]:
    names = ("current", "entropy_production", "gap", "glucose", "lactate_internal",
             "boundary_probability", "n_states", "current_error", "entropy_production_error",
             "residual")
    return dict.fromkeys(names, math.nan)
