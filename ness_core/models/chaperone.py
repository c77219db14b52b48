"""Hsp70 chaperone cycle (docs/conventions.md, S2): ATP-driven non-equilibrium stabilisation.

One substrate molecule in seven states, free (U unfolded, N native, M misfolded) or bound to
Hsp70 in its ATP state (UT, MT: fast, weak binding) or ADP state (UD, MD: slow, tight
binding), after P. De Los Rios and A. Barducci, eLife 3, e02218 (2014) (Hsp70 as an ATP-driven
non-equilibrium machine, "ultra-affinity") and P. Goloubinoff, A. S. Sassi, B. Fauvet,
A. Barducci and P. De Los Rios, Nat. Chem. Biol. 14, 388 (2018) (non-equilibrium
stabilisation of the native state). Reactions (:mod:`ness_core.networks`, all reversible):

    fold U <-> N, misfold U <-> M,
    X + CT <-> XT (k_on_atp), X + CD <-> XD (k_on_adp)        for X = U, M,
    XT <-> XD + Pi (hydrolysis), XD + ATP <-> XT + ADP (exchange),
    MD <-> UD (unfolding of the bound substrate).

Standard chemical potentials (energy, k_B = 1): μ°_U = 0, μ°_N = ``mu_native``,
μ°_M = ``mu_misfolded``, μ°_UT = ``bind_atp_unfolded``,
μ°_MT = μ°_M + ``bind_atp_misfolded``, μ°_UD = ``bind_adp_unfolded``,
μ°_MD = μ°_M + ``bind_adp_misfolded``; chemostats CT, CD, ATP, ADP, Pi have μ° = 0. Rate
constants follow local detailed balance k± = k e^{∓Δμ°/2T}. ATP, ADP and Pi are
chemostatted at [ATP] = ``atp``, [Pi] = 1, [ADP] = [ATP] e^{−drive/T}, so
drive = Δμ_ATP = μ_ATP − μ_ADP − μ_Pi. Free Hsp70 (total ``density``) is held in
nucleotide-exchange equilibrium, [CT]/[CD] = [ATP]/[ADP]; hydrolysis is then the only
non-equilibrium force: at drive = 0 detailed balance holds and the populations are
Boltzmann weights, p_X ∝ e^{−μ°_X/T} (free) and p_XY ∝ [CY] e^{−μ°_XY/T} (bound).

The substrate is a single molecule, so its chemical master equation is a seven-state Markov
chain (the stochastic and deterministic forms coincide: the network is monomolecular in the
substrate). Observables: ``native_fraction`` p_N, ``native_fraction_eq`` (same parameters at
drive = 0), ``native_excess`` (difference), ``misfolded_fraction`` p_M + p_MT + p_MD,
``bound_fraction``, ``current`` J_ATP (net hydrolysis rate per substrate, 1/time),
``entropy_production`` σ = Σ_ρ (J⁺_ρ − J⁻_ρ) ln(J⁺_ρ/J⁻_ρ) = J_ATP·drive/T in the steady
state (k_B/time), ``gap`` (1/time). Default energies make the misfolded state the most
stable and slowly reached and left (a kinetic trap, k_misfold ≪ k_fold), the ATP-state
chaperone bind misfolded chains, the ADP state bind unfolded chains tighter, and nucleotide
exchange be fast (NEF-assisted), so hydrolysis pumps M → U and U folds to N: at the defaults
the native fraction rises from 0.126 (drive = 0) to 0.214 (drive = 10).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.errors import ParameterError
from ness_core.model import Model, Observable, Parameter
from ness_core.networks import CMEResult, parse_network, solve_cme
from ness_core.status import combine

NETWORK = parse_network({
    "species": {
        "U": {"mu0": 0.0}, "N": {"mu0": "mu_native"}, "M": {"mu0": "mu_misfolded"},
        "UT": {"mu0": "bind_atp_unfolded"}, "MT": {"mu0": "mu_misfolded + bind_atp_misfolded"},
        "UD": {"mu0": "bind_adp_unfolded"}, "MD": {"mu0": "mu_misfolded + bind_adp_misfolded"},
    },
    "chemostats": {
        "CT": {"concentration": "chaperone_atp"}, "CD": {"concentration": "chaperone_adp"},
        "ATP": {"concentration": "atp"}, "ADP": {"concentration": "adp"},
        "Pi": {"concentration": 1.0},
    },
    "reactions": {
        "fold": {"equation": "U <-> N", "rate": "k_fold"},
        "misfold": {"equation": "U <-> M", "rate": "k_misfold"},
        "bind_U_atp": {"equation": "U + CT <-> UT", "rate": "k_on_atp"},
        "bind_M_atp": {"equation": "M + CT <-> MT", "rate": "k_on_atp"},
        "bind_U_adp": {"equation": "U + CD <-> UD", "rate": "k_on_adp"},
        "bind_M_adp": {"equation": "M + CD <-> MD", "rate": "k_on_adp"},
        "hydrolysis_U": {"equation": "UT <-> UD + Pi", "rate": "k_hydrolysis"},
        "hydrolysis_M": {"equation": "MT <-> MD + Pi", "rate": "k_hydrolysis"},
        "exchange_U": {"equation": "UD + ATP <-> UT + ADP", "rate": "k_exchange"},
        "exchange_M": {"equation": "MD + ATP <-> MT + ADP", "rate": "k_exchange"},
        "unfold_bound": {"equation": "MD <-> UD", "rate": "k_unfold_bound"},
    },
})
STATES = tuple(NETWORK.species)  # U, N, M, UT, MT, UD, MD
HYDROLYSIS = tuple(i for i, r in enumerate(NETWORK.reactions) if r.name.startswith("hydrolysis"))
MAX_DRIVE_OVER_T = 500.0  # |drive|/T: keeps [ADP] = [ATP] e^{-drive/T} a normal float


def _energy(name: str, default: float, meaning: str) -> Parameter:
    return Parameter(name, default, "energy", meaning, low=-50.0, high=50.0)


def _rate(name: str, default: float, unit: str, meaning: str) -> Parameter:
    return Parameter(name, default, unit, meaning, low=0.0, low_inclusive=False)


class Chaperone(Model):
    """Hsp70 cycle: native fraction and its ATP-driven excess (docs/conventions.md, S2).

    Conventions, units, parameters after De Los Rios & Barducci (2014) and references:
    module docstring.
    """

    name = "chaperone"
    summary = "Hsp70 chaperone cycle: ATP-driven non-equilibrium stabilisation of a protein"
    parameters = (
        Parameter("drive", 10.0, "energy", "ATP hydrolysis free energy Δμ_ATP",
                  low=-100.0, high=100.0, axis="drive", symbol=r"$\Delta\mu$"),
        Parameter("temperature", 1.0, "energy", "temperature (k_B = 1)", low=0.01,
                  axis="temperature", symbol=r"$T$"),
        Parameter("density", 0.1, "c°", "free Hsp70 concentration", low=0.0,
                  axis="density", symbol=r"$c$"),
        Parameter("atp", 1.0, "c°", "ATP concentration", low=0.0, low_inclusive=False,
                  symbol=r"$c_\mathrm{ATP}$"),
        _energy("mu_native", -2.0, "μ°_N − μ°_U"),
        _energy("mu_misfolded", -3.0, "μ°_M − μ°_U"),
        _energy("bind_atp_unfolded", 0.0, "binding free energy of the ATP state to U"),
        _energy("bind_atp_misfolded", -1.0, "binding free energy of the ATP state to M"),
        _energy("bind_adp_unfolded", -6.0, "binding free energy of the ADP state to U"),
        _energy("bind_adp_misfolded", -2.0, "binding free energy of the ADP state to M"),
        _rate("k_fold", 10.0, "1/time", "folding U → N prefactor"),
        _rate("k_misfold", 0.01, "1/time", "misfolding U → M prefactor"),
        _rate("k_on_atp", 10.0, "1/(c° time)", "binding prefactor, ATP state"),
        _rate("k_on_adp", 0.1, "1/(c° time)", "binding prefactor, ADP state"),
        _rate("k_hydrolysis", 1.0, "1/time", "hydrolysis prefactor (bound)"),
        _rate("k_exchange", 100.0, "1/(c° time)", "nucleotide exchange prefactor (bound)"),
        _rate("k_unfold_bound", 1.0, "1/time", "MD → UD unfolding prefactor"),
    )
    observables = (
        Observable("current", "1/time", "ATP turnover: net hydrolysis rate per substrate",
                   symbol=r"$J$"),
        Observable("entropy_production", "k_B/time", "entropy production per substrate",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "spectral gap of the seven-state rate matrix", symbol=r"$g$"),
        Observable("native_fraction", "1", "probability of the free native state"),
        Observable("native_fraction_eq", "1", "native fraction at drive = 0"),
        Observable("native_excess", "1", "native fraction above its equilibrium value"),
        Observable("misfolded_fraction", "1", "probability of M, MT and MD"),
        Observable("bound_fraction", "1", "probability of a chaperone-bound state"),
    )

    equilibrium = ("drive = 0 (Δμ_ATP = 0, ATP/ADP/Pi at chemical equilibrium): detailed "
                   "balance, Boltzmann populations, any T")
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "temperature": 1.3})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """No ATP driving (Δμ_ATP = 0): detailed balance."""
        return params["drive"] == 0

    def check(self, params: dict[str, Any]) -> None:
        if abs(params["drive"]) > MAX_DRIVE_OVER_T * params["temperature"]:
            raise ParameterError(
                f"parameter 'drive': |drive|/temperature must be at most {MAX_DRIVE_OVER_T:g}, "
                f"got {params['drive']!r}/{params['temperature']!r}")
        NETWORK.kinetics({**params, **chemostat_concentrations(params)})  # finite rates

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        driven = substrate_cycle(params)
        equilibrium = substrate_cycle({**params, "drive": 0.0})
        p = driven.probabilities @ driven.states  # one molecule: occupation = probability
        p_eq = equilibrium.probabilities @ equilibrium.states
        index = {s: i for i, s in enumerate(STATES)}
        status = combine(driven.status, equilibrium.status)
        return {
            "current": float(sum(driven.forward_flux[r] - driven.backward_flux[r]
                                 for r in HYDROLYSIS)),
            "entropy_production": driven.entropy_production,
            "gap": driven.gap,
            "native_fraction": p[index["N"]],
            "native_fraction_eq": p_eq[index["N"]],
            "native_excess": p[index["N"]] - p_eq[index["N"]],
            "misfolded_fraction": sum(p[index[s]] for s in ("M", "MT", "MD")),
            "bound_fraction": sum(p[index[s]] for s in ("UT", "MT", "UD", "MD")),
            "residual": driven.residual,
            "status": status,
        }


def chemostat_concentrations(params: dict[str, Any]) -> dict[str, float]:
    """[ADP] = [ATP] e^{−drive/T}; free Hsp70 split [CT]/[CD] = [ATP]/[ADP] (c°)."""
    x = params["drive"] / params["temperature"]
    atp_state = params["density"] / (1.0 + math.exp(-x))
    return {"adp": params["atp"] * math.exp(-x), "chaperone_atp": atp_state,
            "chaperone_adp": params["density"] - atp_state}


def substrate_cycle(params: dict[str, Any]) -> CMEResult:
    """The seven-state chain of one substrate molecule, solved as a CME at Ω = 1.

    Returns the :class:`ness_core.networks.CMEResult` (states are unit vectors, so
    ``probabilities @ states`` is the occupation of each species in ``STATES`` order).
    """
    kin = NETWORK.kinetics({**params, **chemostat_concentrations(params)})
    start = np.zeros(len(STATES), dtype=int)
    start[STATES.index("U")] = 1
    return solve_cme(kin, 1.0, start)
