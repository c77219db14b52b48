"""Stochastic simulation algorithm (Gillespie) for mass-action chemical master equations.

For copy-number spaces too large to enumerate, the stationary state of the chemical master
equation is sampled along one long trajectory instead of solved for: Gillespie's direct
method (D. T. Gillespie, J. Comput. Phys. 22, 403 (1976); J. Phys. Chem. 81, 2340 (1977)).

Conventions (those of :mod:`ness_core.networks`): reaction ρ has reactant and product
coefficients r_ρ, p_ρ over the d dynamic species and effective rate constants k±_ρ (chemostat
concentrations multiplied in); at volume Ω its propensities are

    a⁺_ρ(n) = k⁺_ρ Ω Π_s n_s!/((n_s − r_ρs)! Ω^{r_ρs}),   a⁻_ρ(n) likewise with p_ρ and k⁻_ρ,

the forward channel moving n → n + ν_ρ, ν = p − r, the backward one n → n − ν_ρ.

Estimators, after a burn-in of ``burn_in`` events, over ``batches`` batches of equal numbers
of events (batch b lasting T_b):

* means ⟨n_s⟩/Ω: time averages ∫ n_s dt / (T Ω);
* one-way fluxes J±_ρ: counted events of each channel / (T Ω), net flux J_ρ = J⁺_ρ − J⁻_ρ;
* entropy production σ per volume. In the stationary state the Schnakenberg entropy
  production of the CME equals Σ_ρ J_ρ ln(k⁺_ρ/k⁻_ρ) exactly: ln(a⁺_ρ(n)/a⁻_ρ(n + ν_ρ)) =
  ln(k⁺_ρ/k⁻_ρ) + (Σ_s ν_ρs) ln Ω − [Φ(n + ν_ρ) − Φ(n)] with Φ(n) = Σ_s ln n_s!, and the
  Φ and ln Ω terms drop out of the stationary average because the stationary net fluxes are
  balanced, Sᵀ J = 0 (S the stoichiometric matrix, rows ν_ρ). So σ is estimated by
  θ_Cᵀ Ĵ, where θ_C is the projection of θ = ln(k⁺/k⁻) onto the cycle space null(Sᵀ): the
  projection removes the O(1/T) drift of the counted fluxes (Sᵀ Ĵ = (n_T − n_0)/(TΩ)), and
  makes σ exactly zero when detailed balance holds (θ in the range of S, Wegscheider's
  condition). A channel with events and no reverse channel gives σ = inf, as in the CME.
* standard errors by batch means of the ratio estimators,
  se² = Σ_b (T_b/T̄)² (x_b − x̄)² / (B(B − 1)), trustworthy when a batch is much longer than
  the slowest relaxation time of the network.

The kernel (numba, compiled on first use) updates only the propensities that depend on the
species a reaction changed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

BATCHES = 50  # batch means: se has a relative error ≈ 1/sqrt(2(B − 1)) = 10 %
BURN_IN_FRACTION = 0.1  # default burn-in, as a fraction of the recorded events


@dataclass(frozen=True)
class GillespieResult:
    """Stationary estimates from one trajectory, with batch-means standard errors.

    Attributes
    ----------
    mean, mean_error : ndarray, shape (d,)
        ⟨n⟩/Ω (concentration units) and its standard error.
    forward_flux, backward_flux : ndarray, shape (R,)
        One-way event rates per volume, J⁺ and J⁻.
    net_flux_error : ndarray, shape (R,)
        Standard error of J⁺ − J⁻.
    entropy_production, entropy_production_error : float
        σ per volume (module docstring) and its standard error (inf and NaN for a channel
        without its reverse).
    events : int
        Recorded events (burn-in excluded).
    time : float
        Recorded simulated time T.
    final_state : ndarray of int, shape (d,)
    status : str
        ``"ok"`` or ``"absorbing state reached"`` (the estimates are then those of the point
        mass at ``final_state``).
    """

    mean: np.ndarray
    mean_error: np.ndarray
    forward_flux: np.ndarray
    backward_flux: np.ndarray
    net_flux_error: np.ndarray
    entropy_production: float
    entropy_production_error: float
    events: int
    time: float
    final_state: np.ndarray
    status: str


def _ssa_kernel(n, order, rate, jump, dep_ptr, dep_idx, volume, n_burn, n_batches,
                batch_events, seed):
    """Direct-method SSA over the 2R channels (forward 0..R−1, backward R..2R−1).

    ``order`` (2R, d) the coefficients entering each channel's propensity, ``rate`` (2R,)
    its rate constant, ``jump`` (2R, d) its change of n; channel c changes the species whose
    propensities ``dep_idx[dep_ptr[c]:dep_ptr[c + 1]]`` must be recomputed. Advances ``n``
    in place. Returns per batch the events of every channel, the time and ∫ n dt, and a flag
    set if an absorbing state (all propensities zero) was reached.
    """
    np.random.seed(seed)
    channels, d = order.shape
    a = np.empty(channels)
    for c in range(channels):  # a_c(n) = k Ω Π_s n_s (n_s − 1) ⋯ (n_s − order_s + 1) / Ω^order_s
        v = rate[c] * volume
        for s in range(d):
            for m in range(order[c, s]):
                v *= (n[s] - m) / volume
        a[c] = max(v, 0.0)
    counts = np.zeros((n_batches, channels), np.int64)
    times = np.zeros(n_batches)
    occupation = np.zeros((n_batches, d))
    absorbed = False
    for segment in range(-1, n_batches):  # segment -1: burn-in, not recorded
        for _ in range(n_burn if segment < 0 else batch_events):
            total = 0.0
            for c in range(channels):
                total += a[c]
            if total <= 0.0:
                absorbed = True
                break
            tau = -math.log(1.0 - np.random.random()) / total
            target = np.random.random() * total
            fired = channels - 1
            acc = 0.0
            for c in range(channels):
                acc += a[c]
                if target < acc and a[c] > 0.0:
                    fired = c
                    break
            while a[fired] <= 0.0:  # round-off put target past the last nonzero channel
                fired -= 1
            if segment >= 0:
                times[segment] += tau
                for s in range(d):
                    occupation[segment, s] += n[s] * tau
                counts[segment, fired] += 1
            for s in range(d):
                n[s] += jump[fired, s]
            for q in range(dep_ptr[fired], dep_ptr[fired + 1]):
                c = dep_idx[q]
                v = rate[c] * volume
                for s in range(d):
                    for m in range(order[c, s]):
                        v *= (n[s] - m) / volume
                a[c] = max(v, 0.0)
        if absorbed:
            break
    return counts, times, occupation, absorbed


@functools.cache
def _compiled() -> Callable[..., Any]:
    """The kernel compiled by numba (on-disk cache), imported on first use only, so importing
    :mod:`ness_core` (every CLI call and pipeline job) does not pay for numba."""
    from numba import njit

    return njit(cache=True)(_ssa_kernel)


def _dependencies(order: np.ndarray, jump: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists: for each channel, the channels whose propensity its firing changes."""
    ptr, idx = [0], []
    for c in range(len(jump)):
        changed = jump[c] != 0
        idx.extend(np.flatnonzero((order[:, changed] > 0).any(axis=1)).tolist())
        ptr.append(len(idx))
    return np.array(ptr, np.int64), np.array(idx, np.int64)


def _batch_ratio(numerators: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio estimate Σ x_b / Σ T_b and its batch-means standard error, per column."""
    total = times.sum()
    estimate = numerators.sum(axis=0) / total
    per_batch = numerators / times.reshape((-1,) + (1,) * (numerators.ndim - 1))
    weights = (times / times.mean()).reshape(per_batch.shape[:1] + (1,) * (per_batch.ndim - 1))
    b = len(times)
    var = np.sum(weights**2 * (per_batch - estimate) ** 2, axis=0) / (b * (b - 1))
    return estimate, np.sqrt(var)


def cycle_projector(stoichiometry: np.ndarray) -> np.ndarray:
    """Orthogonal projector onto null(Sᵀ), the cycle space of the reactions, shape (R, R).

    ``stoichiometry`` is S, shape (R, d), rows the net changes ν_ρ of the dynamic species.
    """
    basis = scipy.linalg.null_space(np.asarray(stoichiometry, float).T)
    return basis @ basis.T


def simulate(reactants: np.ndarray, products: np.ndarray, k_plus: np.ndarray,
             k_minus: np.ndarray, volume: float, start: np.ndarray, events: int,
             seed: int = 0, burn_in: int | None = None,
             batches: int = BATCHES) -> GillespieResult:
    """Sample the stationary state of the chemical master equation by Gillespie's SSA.

    Parameters
    ----------
    reactants, products : ndarray of int, shape (R, d)
        Coefficients of the dynamic species.
    k_plus, k_minus : ndarray, shape (R,)
        Effective rate constants (c°^(1 − order)/time); k⁻ = 0 for an irreversible reaction.
    volume : float
        Ω, molecules per unit concentration.
    start : ndarray of int, shape (d,)
        Initial copy numbers (a state near the typical ones shortens the burn-in).
    events : int
        Recorded events, split into ``batches`` equal batches (rounded up).
    seed : int
        Seed of numba's random generator; runs are reproducible.
    burn_in : int, optional
        Discarded events before recording; default ``BURN_IN_FRACTION · events``.
    batches : int
        Number of batches for the standard errors (≥ 2).

    Returns
    -------
    GillespieResult
    """
    reactants = np.asarray(reactants, np.int64)
    products = np.asarray(products, np.int64)
    stoich = products - reactants
    order = np.vstack((reactants, products))
    rate = np.concatenate((k_plus, k_minus)).astype(float)
    jump = np.vstack((stoich, -stoich))
    ptr, idx = _dependencies(order, jump)
    if batches < 2:
        raise ValueError(f"batches must be at least 2, got {batches}")
    batch_events = max(1, math.ceil(events / batches))
    n_burn = round(BURN_IN_FRACTION * events) if burn_in is None else int(burn_in)
    n = np.array(start, dtype=np.int64)
    counts, times, occupation, absorbed = _compiled()(
        n, order, rate, jump, ptr, idx, float(volume), n_burn, batches, batch_events, int(seed))
    n_r = len(k_plus)
    if absorbed or np.any(times <= 0):
        zero = np.zeros(n_r)
        return GillespieResult(
            mean=n / volume, mean_error=np.zeros(n.size), forward_flux=zero,
            backward_flux=zero.copy(), net_flux_error=zero.copy(), entropy_production=0.0,
            entropy_production_error=0.0, events=int(counts.sum()), time=float(times.sum()),
            final_state=n, status="absorbing state reached")
    mean, mean_error = _batch_ratio(occupation / volume, times)
    flux, _ = _batch_ratio(counts / volume, times)
    net_counts = (counts[:, :n_r] - counts[:, n_r:]) / volume
    _, net_error = _batch_ratio(net_counts, times)
    fired = flux > 0
    one_way = np.concatenate((k_minus, k_plus)) <= 0  # channel without a reverse
    if np.any(fired & one_way):
        sigma, sigma_error = math.inf, math.nan
    else:
        theta = np.zeros(n_r)
        reversible = (k_plus > 0) & (k_minus > 0)
        theta[reversible] = np.log(k_plus[reversible]) - np.log(k_minus[reversible])
        theta_cycles = cycle_projector(stoich) @ theta
        s, se = _batch_ratio((net_counts @ theta_cycles)[:, None], times)
        sigma, sigma_error = float(s[0]), float(se[0])
    return GillespieResult(
        mean=mean, mean_error=mean_error, forward_flux=flux[:n_r], backward_flux=flux[n_r:],
        net_flux_error=net_error, entropy_production=sigma,
        entropy_production_error=sigma_error, events=int(counts.sum()),
        time=float(times.sum()), final_state=n, status="ok")
