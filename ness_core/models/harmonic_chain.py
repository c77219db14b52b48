"""Classical harmonic chain between two Langevin heat baths (docs/conventions.md, S7).

N equal masses m joined by springs of stiffness k and tied to fixed walls at both ends
(q_0 = q_{N+1} = 0), k_B = 1. The end masses feel friction λ and white noise at the bath
temperatures (Rieder, Lebowitz & Lieb 1967):

    dq_j = p_j/m dt,
    dp_j = −k (2q_j − q_{j−1} − q_{j+1}) dt − δ_{j∈{1,N}} [(λ/m) p_j dt − √(2λT_j) dW_j],

with T_1 = T_L, T_N = T_R. Parameters (binding names): ``temperature`` is the mean and
``drive`` = ΔT the difference, T_L = temperature + drive/2, T_R = temperature − drive/2;
explicit ``T_left``, ``T_right`` override.

The state x = (q, p) is an Ornstein–Uhlenbeck process dx = A x dt + noise with diffusion
matrix D, so the NESS is Gaussian with covariance C solving A C + C A^T + D = 0
(:class:`ness_core.solvers.gaussian.QuadraticGenerator`, Bartels–Stewart, O(N³)).

Observables:

* ``current``: heat current J from the left bath into the chain, J = (λ/m)(T_L − ⟨p_1²⟩/m)
  (energy/time; in the NESS it equals the current through every spring and into the right bath
  with the opposite sign);
* ``temperature_profile``: kinetic temperature T_j = ⟨p_j²⟩/m of every mass;
* ``entropy_production``: σ = J (1/T_R − 1/T_L) = −Σ_b J_b/T_b ≥ 0 (+inf if a T = 0 bath
  absorbs heat);
* ``gap``: min −Re of the eigenvalues of A (the Fokker–Planck gap);
* ``rll_current``: the N → ∞ closed form of Rieder, Lebowitz & Lieb,
  J_∞ = (k ΔT/2λ) [1 + ν/2 − (ν/2) √(1 + 4/ν)], ν = k m/λ² (cf. Lepri, Livi & Politi 2003,
  Sec. 4.1; Dhar 2008, Sec. 3.1).

Known results reproduced: the bulk temperature is flat at (T_L + T_R)/2 with jumps near the ends
(the second mass from the hot bath is *colder* than the mean and the second from the cold bath
hotter, while the end masses lie between the mean and their own bath's temperature),
and the current is independent of N (ballistic phonons, no Fourier law).

References: Z. Rieder, J. L. Lebowitz & E. Lieb, J. Math. Phys. 8, 1073 (1967);
S. Lepri, R. Livi & A. Politi, Phys. Rep. 377, 1 (2003); A. Dhar, Adv. Phys. 57, 457 (2008).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ness_core.model import (
    Model,
    Observable,
    Parameter,
    check_bath_temperatures,
    two_bath_temperatures,
)
from ness_core.solvers.gaussian import QuadraticGenerator, clausius_entropy_production
from ness_core.status import combine


def rll_current(mass: float, stiffness: float, friction: float, delta_t: float) -> float:
    """Rieder–Lebowitz–Lieb N → ∞ heat current (k ΔT/2λ)[1 + ν/2 − (ν/2)√(1 + 4/ν)]."""
    nu = stiffness * mass / friction**2
    return stiffness * delta_t / (2 * friction) * (1 + nu / 2 - nu / 2 * math.sqrt(1 + 4 / nu))


def chain_generator(n: int, mass: float, stiffness: float, friction: float,
                    t_left: float, t_right: float) -> QuadraticGenerator:
    """Drift A and diffusion D of x = (q_1 … q_N, p_1 … p_N), fixed walls at both ends."""
    k = stiffness * (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1))
    drift = np.zeros((2 * n, 2 * n))
    drift[:n, n:] = np.eye(n) / mass
    drift[n:, :n] = -k
    drift[n, n] -= friction / mass
    drift[-1, -1] -= friction / mass
    diffusion = np.zeros((2 * n, 2 * n))
    diffusion[n, n] = 2 * friction * t_left
    diffusion[-1, -1] += 2 * friction * t_right
    return QuadraticGenerator(drift, diffusion)


class HarmonicChain(Model):
    """Harmonic chain between Langevin baths (Rieder–Lebowitz–Lieb 1967).

    Conventions, units and references are in the docstring of
    :mod:`ness_core.models.harmonic_chain`. Cost O(N³) (a 2N × 2N Lyapunov equation).
    """

    name = "harmonic_chain"
    summary = "classical harmonic chain between two Langevin baths (Rieder–Lebowitz–Lieb)"
    dimension_lengths = {"site": "N"}
    parameters = (
        Parameter("N", 20, "masses", "number of masses", kind=int, low=2, high=1500, symbol=r"$N$"),
        Parameter("mass", 1.0, "mass", "mass m of every particle", low=0.0, low_inclusive=False,
                  symbol=r"$m$"),
        Parameter("stiffness", 1.0, "energy/length²", "spring constant k", low=0.0,
                  low_inclusive=False, symbol=r"$k$"),
        Parameter("friction", 1.0, "mass/time", "Langevin friction λ of the end masses",
                  low=0.0, low_inclusive=False, symbol=r"$\lambda$"),
        Parameter("temperature", 1.0, "energy", "mean bath temperature (T_L + T_R)/2", low=0.0,
                  axis="temperature", symbol=r"$T$"),
        Parameter("drive", 0.0, "energy", "bath temperature difference ΔT = T_L − T_R",
                  axis="drive", symbol=r"$\Delta T$"),
        Parameter("T_left", None, "energy", "left bath temperature (default: derived)", low=0.0),
        Parameter("T_right", None, "energy", "right bath temperature (default: derived)",
                  low=0.0),
    )
    observables = (
        Observable("current", "energy/time", "heat current from the left bath into the chain",
                   symbol=r"$J$"),
        Observable("entropy_production", "k_B/time", "entropy production J (1/T_R − 1/T_L)",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "slowest decay rate of the drift matrix", symbol=r"$g$"),
        Observable("temperature_profile", "energy", "kinetic temperature ⟨p_j²⟩/m",
                   dims=("site",), symbol=r"$T_j$"),
        Observable("rll_current", "energy/time", "Rieder–Lebowitz–Lieb N → ∞ heat current"),
    )

    equilibrium = ("drive = 0 (T_left = T_right; explicit T_left, T_right equal): "
                   "equipartition at the common T, any mass, stiffness, friction")
    equilibrium_examples = ({"N": 8, "drive": 0.0, "temperature": 2.0},
                            {"N": 5, "T_left": 0.5, "T_right": 0.5})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Baths at equal temperature."""
        t_left, t_right = two_bath_temperatures(params)
        return t_left == t_right

    def check(self, params: dict[str, Any]) -> None:
        check_bath_temperatures(params)

    def cost_estimate(self, params: dict[str, Any]) -> float:
        return 0.01 + 4.0 * (params["N"] / 500) ** 3

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        n, m = params["N"], params["mass"]
        k, lam = params["stiffness"], params["friction"]
        t_left, t_right = two_bath_temperatures(params)
        generator = chain_generator(n, m, k, lam, t_left, t_right)
        state = generator.steady_state()
        cov = state.correlation.real
        # the left bath acts on p_1 only: of the energy ½ x^T blockdiag(K, 1/m) x only the
        # kinetic part changes through it
        energy = np.zeros((2 * n, 2 * n))
        energy[n:, n:] = np.eye(n) / (2 * m)
        left_drift = np.zeros((2 * n, 2 * n))
        left_drift[n, n] = -lam / m
        left_source = np.zeros((2 * n, 2 * n))
        left_source[n, n] = 2 * lam * t_left
        current = generator.flux(energy, left_drift, left_source, cov)
        sigma = clausius_entropy_production((current, -current), (t_left, t_right),
                                            tol=1e-10 * lam / m * max(t_left, t_right, 1e-300))
        status = state.status
        if sigma < -1e-8 * abs(current) * sum(1 / t for t in (t_left, t_right) if t > 0):
            status = combine(status, f"second law violated: σ = {sigma:.3g}")
        return {
            "current": current,
            "entropy_production": sigma,
            "gap": state.gap,
            "temperature_profile": np.diag(cov)[n:] / m,
            "rll_current": rll_current(m, k, lam, t_left - t_right),
            "residual": state.residual,
            "status": status,
        }
