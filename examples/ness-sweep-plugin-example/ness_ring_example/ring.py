"""A particle on a ring of N states, rates k± = rate·exp(±drive/(2T)) per step; k_B = 1.

Exact: p = 1/N, J = (k+ − k−)/N, σ = (k+ − k−) ln(k+/k−), gap = (k+ + k−)(1 − cos 2π/N).
"""
import math

import numpy as np

from ness_core.model import Model, Observable, Parameter
from ness_core.solvers.markov import MarkovGenerator


class BiasedRing(Model):
    name = "biased_ring"
    summary = "particle on a ring of N states, biased by drive per step"
    parameters = (
        Parameter("N", 4, "1", "number of states", kind=int, low=3, high=500),
        Parameter("drive", 1.0, "energy", "bias per clockwise step", axis="drive"),
        Parameter("temperature", 1.0, "energy", "temperature", low=0.0, low_inclusive=False,
                  axis="temperature"),
        Parameter("rate", 1.0, "1/time", "attempt rate", low=0.0, low_inclusive=False),
    )
    observables = (
        Observable("current", "1/time", "net clockwise flux on the bond 0 → 1"),
        Observable("entropy_production", "k_B/time", "Schnakenberg entropy production"),
        Observable("gap", "1/time", "spectral gap of the rate matrix"),
        Observable("population", "1", "stationary probability of each state", ("state",)),
    )
    equilibrium = "drive = 0: zero cycle affinity, any N, temperature and rate"
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "N": 7, "temperature": 0.3})
    dimension_lengths = {"state": "N"}

    def is_equilibrium(self, params):
        return params["drive"] == 0

    def solve(self, params):
        n, bias = params["N"], params["drive"] / (2 * params["temperature"])
        i = np.arange(n)
        j = (i + 1) % n  # clockwise neighbour of i
        k_cw, k_ccw = params["rate"] * math.exp(bias), params["rate"] * math.exp(-bias)
        ring = MarkovGenerator(n, np.r_[i, j], np.r_[j, i], np.r_[[k_cw] * n, [k_ccw] * n])
        state = ring.stationary(method="direct")
        p = state.probabilities
        return {"current": ring.current(p, 0, 1), "entropy_production": ring.entropy_production(p),
                "gap": ring.spectral_gap(method="dense").gap, "population": p,
                "residual": state.residual, "status": state.status}
