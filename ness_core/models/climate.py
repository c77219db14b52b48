"""Three-state climate cycle (Warm W, Cool C, Icy I) driven around W → C → I → W.

Rate law (DOMAIN.md S5, binding), k_B = 1, time in units of 1/ν:

    k_{i→j} = ν exp(−(Δ + (E_j − E_i)/2 − s_ij · drive/2) / temperature),

with s_ij = +1 for the clockwise steps W→C, C→I, I→W and −1 for their reverses. The energy
terms cancel around the cycle, so the cycle affinity is A = ln(Π k_cw / Π k_ccw)
= 3·drive/temperature, and Kolmogorov's criterion (detailed balance) holds iff drive = 0.
The cycle current J is the net W→C probability flux (positive = clockwise); the
Schnakenberg entropy production of a unicyclic network is σ = J·A.

With ``fluctuations=true`` the counted current Q_t is the net number of W→C jumps (+1 for
W→C, −1 for C→W); its scaled variance D = lim Var(Q_t)/t comes from the Drazin inverse of the
rate matrix (:meth:`MarkovGenerator.current_cumulants`, no finite differences). Any edge of
the cycle gives the same D (the counts differ by a bounded amount), and by the
thermodynamic uncertainty relation D·σ/J² >= 2, with equality approached as drive → 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.model import Model, Observable, Parameter, fluctuation_observables
from ness_core.solvers.markov import MarkovGenerator, current_fluctuations

STATES = ("W", "C", "I")
CLOCKWISE = ((0, 1), (1, 2), (2, 0))  # W→C, C→I, I→W


def climate_rates(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge list (source, target, log rate) of the six transitions, S5 rate law."""
    energy = np.array([params["E_W"], params["E_C"], params["E_I"]])
    source, target, sign = [], [], []
    for i, j in CLOCKWISE:
        source += [i, j]
        target += [j, i]
        sign += [1.0, -1.0]
    source, target, sign = np.array(source), np.array(target), np.array(sign)
    exponent = (
        params["barrier"] + (energy[target] - energy[source]) / 2 - sign * params["drive"] / 2
    )
    log_rate = math.log(params["nu"]) - exponent / params["temperature"]
    return source, target, log_rate


class Climate(Model):
    """Three-state climate cycle W → C → I → W (DOMAIN.md S5).

    Observables: ``current`` (net W→C flux, 1/time), ``entropy_production`` (Schnakenberg,
    k_B/time), ``gap`` and ``gap_imag`` (relaxation rate and oscillation frequency of the
    slowest mode), ``affinity`` (cycle affinity from the rates, k_B), ``p_warm``,
    ``p_cool``, ``p_icy``; with ``fluctuations=true`` also ``current_variance``
    (lim Var(Q_t)/t, 1/time), ``fano_factor`` (D/|J|) and ``tur_ratio`` (D·σ/J²), NaN
    otherwise. Rates spanning more than the floating-point range (very low
    temperature) are rescaled by their largest value, which leaves the populations unchanged
    and multiplies currents and gap back afterwards.
    """

    name = "climate"
    summary = "three-state climate cycle Warm → Cool → Icy → Warm driven around the cycle"
    parameters = (
        Parameter(
            "drive",
            1.0,
            "energy",
            "bias per clockwise step (cycle affinity 3·drive/T)",
            axis="drive",
        ),
        Parameter(
            "temperature",
            1.0,
            "energy",
            "noise temperature (k_B = 1)",
            low=0.0,
            low_inclusive=False,
            axis="temperature",
        ),
        Parameter("nu", 1.0, "1/time", "attempt frequency ν", low=0.0, low_inclusive=False),
        Parameter("barrier", 1.0, "energy", "activation barrier Δ"),
        Parameter("E_W", 0.0, "energy", "energy of the warm state"),
        Parameter("E_C", -0.5, "energy", "energy of the cool state"),
        Parameter("E_I", -1.0, "energy", "energy of the icy state"),
        Parameter("fluctuations", False, "", "also compute the current's scaled variance",
                  kind=bool),
    )
    observables = (
        Observable("current", "1/time", "net clockwise cycle current (W→C flux)"),
        Observable("entropy_production", "k_B/time", "Schnakenberg entropy production rate"),
        Observable("gap", "1/time", "spectral gap of the rate matrix"),
        Observable("gap_imag", "1/time", "imaginary part of the slowest relaxation mode"),
        Observable("affinity", "k_B", "cycle affinity ln(Π k_cw / Π k_ccw)"),
        Observable("p_warm", "1", "stationary probability of the warm state"),
        Observable("p_cool", "1", "stationary probability of the cool state"),
        Observable("p_icy", "1", "stationary probability of the icy state"),
        *fluctuation_observables("W→C jump count"),
    )

    equilibrium = ("drive = 0: zero cycle affinity A = 3·drive/T (Kolmogorov's criterion), "
                   "any T, barrier and state energies")
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "temperature": 0.3, "barrier": 0.5})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """drive = 0: the cycle affinity 3·drive/T vanishes (Kolmogorov's criterion)."""
        return params["drive"] == 0

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        source, target, log_rate = climate_rates(params)
        scale = float(log_rate.max())
        rate = np.exp(log_rate - scale)
        status = "ok"
        if np.any(rate == 0.0):
            status = "rates span more than the floating-point range"
        generator = MarkovGenerator(len(STATES), source, target, rate)
        state = generator.stationary(method="direct")
        p = state.probabilities
        spectrum = generator.spectral_gap(method="dense")
        ((cycle, affinity),) = generator.cycle_affinities()
        unit = math.exp(scale)
        current = generator.current(p, 0, 1) * unit
        sigma = generator.entropy_production(p) * unit
        variance = math.nan
        if params["fluctuations"]:
            weight = generator.edge_weights([0, 1], [1, 0], [1.0, -1.0])
            variance = generator.current_cumulants(weight, state).variance * unit
        return {
            "current": current,
            "entropy_production": sigma,
            "gap": spectrum.gap * unit,
            "gap_imag": spectrum.imag * unit,
            "affinity": _clockwise(cycle) * affinity,
            "p_warm": p[0],
            "p_cool": p[1],
            "p_icy": p[2],
            **current_fluctuations(current, variance, sigma),
            "residual": state.residual,
            "status": status if state.status == "ok" else state.status,
        }


def _clockwise(cycle: list[int]) -> float:
    """+1 if the solver's cycle runs W→C→I, −1 if it runs the other way round."""
    i = cycle.index(0)
    return 1.0 if cycle[(i + 1) % len(cycle)] == 1 else -1.0
