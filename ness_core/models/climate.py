"""Three-state climate cycle (Warm W, Cool C, Icy I) driven around W → C → I → W.

Rate law (docs/conventions.md, S5, binding), k_B = 1, time in units of 1/ν:

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
from ness_core.solvers.markov import MarkovGenerator
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.status import OK

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
    """Three-state climate cycle W → C → I → W (docs/conventions.md, S5).

    Observables: ``current`` (net W→C flux, 1/time), ``entropy_production`` (Schnakenberg,
    k_B/time), ``gap`` and ``gap_imag`` (relaxation rate and oscillation frequency of the
    slowest mode), ``affinity`` (cycle affinity from the rates, k_B), ``p_warm``,
    ``p_cool``, ``p_icy``; with ``fluctuations=true`` also ``current_variance``
    (lim Var(Q_t)/t, 1/time), ``fano_factor`` (D/|J|) and ``tur_ratio`` (D·σ/J²), NaN
    otherwise. Rates are rescaled by their largest value, which leaves the populations
    unchanged and multiplies currents and gap back afterwards; where they still span more
    than the floating-point range (very low temperature, huge energies) the exact
    three-state solution is evaluated in log space instead (``_solve_in_logs``), and
    ``affinity`` always comes straight from the log rates.
    """

    name = "climate"
    summary = "three-state climate cycle Warm → Cool → Icy → Warm driven around the cycle"
    parameters = (
        Parameter(
            "drive",
            1.0,
            "energy",
            "bias per clockwise step (cycle affinity 3·drive/T)",
            axis="drive", symbol=r"$F$",
        ),
        Parameter(
            "temperature",
            1.0,
            "energy",
            "noise temperature (k_B = 1)",
            low=0.0,
            low_inclusive=False,
            axis="temperature", symbol=r"$T$",
        ),
        Parameter("nu", 1.0, "1/time", "attempt frequency ν", low=0.0, low_inclusive=False,
                  symbol=r"$\nu$"),
        Parameter("barrier", 1.0, "energy", "activation barrier Δ", symbol=r"$\Delta$"),
        Parameter("E_W", 0.0, "energy", "energy of the warm state", symbol=r"$E_W$"),
        Parameter("E_C", -0.5, "energy", "energy of the cool state", symbol=r"$E_C$"),
        Parameter("E_I", -1.0, "energy", "energy of the icy state", symbol=r"$E_I$"),
        Parameter("fluctuations", False, "", "also compute the current's scaled variance",
                  kind=bool),
    )
    observables = (
        Observable("current", "1/time", "net clockwise cycle current (W→C flux)", symbol=r"$J$"),
        Observable("entropy_production", "k_B/time", "Schnakenberg entropy production rate",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "spectral gap of the rate matrix", symbol=r"$g$"),
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
        # A = Σ ln k_cw − Σ ln k_ccw straight from the log rates: exact at any temperature
        affinity = float(np.sum(log_rate[0::2]) - np.sum(log_rate[1::2]))
        scale = float(log_rate.max())
        rate = np.exp(log_rate - scale)
        if np.any(rate == 0.0):
            return _solve_in_logs(source, target, log_rate, affinity, params["fluctuations"])
        generator = MarkovGenerator(len(STATES), source, target, rate)
        state = generator.stationary(method="direct")
        p = state.probabilities
        spectrum = generator.spectral_gap(method="dense")
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
            "affinity": affinity,
            "p_warm": p[0],
            "p_cool": p[1],
            "p_icy": p[2],
            **current_fluctuations(current, variance, sigma),
            "residual": state.residual,
            "status": state.status,
        }


def _solve_in_logs(source: np.ndarray, target: np.ndarray, log_rate: np.ndarray,
                   affinity: float, fluctuations: bool) -> dict[str, Any]:
    """The exact three-state solution in log space, for rates spanning > 1e±308.

    Kirchhoff's matrix-tree theorem: p_r ∝ Σ over the three spanning trees directed into r
    of the product of their rates, summed as log-sum-exp. J = k_WC p_W − k_CW p_C from the
    log fluxes; σ = J·A (unicyclic network). The nonzero eigenvalues of a three-state
    generator solve λ² + aλ + b = 0, a = Σ rates, b = Σ_r (tree weight into r), so the gap is
    2b/(a + √(a² − 4b)) (real roots, stable form) or a/2 with frequency √(4b − a²)/2. Values
    below the smallest double (e.g. J ~ e^−1000 at temperature 0.001) come out as 0; the
    current's variance (group inverse of the rate matrix) is not computed here (``note``).
    """
    lk = np.full((3, 3), -np.inf)
    lk[source, target] = log_rate
    log_tree = np.empty(3)
    for r in range(3):
        a, b = (s for s in range(3) if s != r)
        log_tree[r] = np.logaddexp.reduce([lk[a, r] + lk[b, r], lk[a, b] + lk[b, r],
                                           lk[b, a] + lk[a, r]])
    log_total = float(np.logaddexp.reduce(log_tree))
    log_p = log_tree - log_total
    p = np.exp(log_p)
    forward, backward = lk[0, 1] + log_p[0], lk[1, 0] + log_p[1]
    high, low = max(forward, backward), min(forward, backward)
    current = math.copysign(math.exp(high) * -math.expm1(low - high), forward - backward)
    scale = float(log_rate.max())
    a = float(np.sum(np.exp(log_rate - scale)))  # Σ rates / e^scale, >= 1
    log_b = log_total - 2 * scale  # ln(b / e^(2 scale))
    disc = a * a - 4 * math.exp(log_b)
    if disc >= 0:
        gap = math.exp(math.log(2) + log_b - math.log(a + math.sqrt(disc)) + scale)
        imag = 0.0
    else:
        gap, imag = a / 2 * math.exp(scale), math.sqrt(-disc) / 2 * math.exp(scale)
    sigma = current * affinity if current != 0 else 0.0
    return {
        "current": current,
        "entropy_production": sigma,
        "gap": gap,
        "gap_imag": imag,
        "affinity": affinity,
        "p_warm": p[0],
        "p_cool": p[1],
        "p_icy": p[2],
        **current_fluctuations(current, math.nan, sigma),
        "residual": 0.0,
        "status": OK,
        "note": ("current_variance not computed: rates span more than the floating-point "
                 "range" if fluctuations else ""),
    }
