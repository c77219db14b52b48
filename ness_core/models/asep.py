"""Open asymmetric simple exclusion process (ASEP) between two particle reservoirs.

docs/conventions.md, S6 (binding). L sites, at most one particle per site; a particle hops to
the empty right neighbour at rate p = 1 and to the empty left neighbour at rate q. Time is in
units of 1/p, so every rate and the current are in units of p. The reservoirs act at the ends:

* site 1: injection at alpha = rho_left·p, extraction at gamma = (1 − rho_left)·q;
* site L: extraction at beta = (1 − rho_right)·p, injection at delta = rho_right·q;

with q = p·exp(−drive/temperature) (a field of strength drive per bond). drive = inf (the
default) gives the totally asymmetric process (TASEP, q = 0). Explicit ``alpha``, ``beta``,
``gamma``, ``delta``, ``q`` override the derived values (an explicit ``q`` is used in the
derived gamma and delta). Observables and conventions:

* ``current`` J: net particles per unit time across a bond, positive to the right; in the
  steady state every bond, including the two boundary bonds, carries the same J.
* ``entropy_production`` sigma = J·A (k_B = 1) with the affinity of moving one particle
  from the left reservoir through the chain into the right one,
  A = ln(alpha·beta·p^(L−1) / (gamma·delta·q^(L−1))); every cycle of the state graph is a
  combination of such transfers, so Schnakenberg's sum collapses to J·A. A = inf when a
  reverse rate vanishes (then sigma = inf if J > 0); sigma = 0 when J = 0.
* ``density``: the mean occupation (1/L)·Σ_j <n_j> of the chain, the site average of
  ``density_profile`` (NaN where the profile is not computed). Across the LD/HD line it
  jumps, as L → inf, from rho_left to rho_right (bulk densities alpha/p and 1 − beta/p).
* ``phase``: LD / HD / MC of the L → inf phase diagram, from the effective reservoir
  densities rho_a = 1/(1 + kappa+(alpha, gamma)), rho_b = kappa+(beta, delta)/(1 +
  kappa+(beta, delta)) of Uchiyama–Sasamoto–Wadati, which reduce to rho_left and rho_right
  in the reservoir parametrisation: MC if rho_a >= 1/2 >= rho_b, else LD if
  rho_a + rho_b <= 1 (the coexistence line rho_a + rho_b = 1 is labelled LD), else HD.
  At q = p (drive = 0) there is no transition; the label is the q → p⁻ limit.

Methods (``method``):

* ``exact``: master equation on all 2^L configurations (bit k = site k + 1 occupied) by
  :class:`ness_core.solvers.markov.MarkovGenerator`, L <= 20; J is the mean of the L + 1
  bond currents. The gap comes from the solver's rightmost eigenvalues (power-filtered
  Arnoldi above 2^11 states). With alpha = beta and gamma = delta (the default reservoirs
  among them) W commutes with particle–hole exchange × reflection and is split into its
  even and odd blocks of half the size (:class:`ReflectionSectors`): the NESS from the
  even one, the gap from both (measured, NESS + gap: benchmarks/asep_exact.py and
  docs/performance.md). ``residual`` = max |W p| of the full W.
* ``formula``: TASEP only (q = gamma = delta = 0). Current J = Z_{L−1}/Z_L from the exact
  partition function of Derrida, Evans, Hakim and Pasquier, evaluated in log space (any L);
  the density profile from their finite-L formula, O(L²), for L <= ``FORMULA_PROFILE_MAX_L``
  (NaN beyond, said in ``note``). ``residual`` = 0 and ``gap`` = NaN.
* ``mc``: continuous-time Monte Carlo (numba kernel, see :func:`simulate`), run for
  ``sweeps`` units of time 1/p after a start from the phase's bulk density; the first
  ``MC_BURN_IN`` fraction is discarded and the rest split into ``MC_BATCHES`` batches, whose
  spread gives ``current_stderr``. ``gap`` and ``residual`` are NaN (no equation is solved;
  the statistical error is ``current_stderr``). sigma = J·A is then an unbiased estimate
  that may be slightly negative within its error bar where J ≈ 0.

Fluctuations (``fluctuations=true``, method ``exact`` only, L >= 2; other methods and L = 1
raise :class:`ParameterError` rather than return NaNs): the counted current Q_t is the net
number of particles crossing the L + 1 bonds, each jump weighted 1/(L + 1), so that its mean
is ``current`` (the mean of the bond currents). Counts across two bonds differ by at most L
(the particles in between), so every bond, and every such average, has the same scaled
variance ``current_variance`` = lim Var(Q_t)/t, computed with the Drazin inverse of the
generator (:meth:`MarkovGenerator.current_cumulants`, one extra linear solve). Also
``fano_factor`` = D/|J|, ``tur_ratio`` = D·sigma/J² (>= 2 by the thermodynamic uncertainty
relation; inf for the TASEP, where sigma = inf; NaN at J = 0) and ``density_correlation``,
the connected two-point function <tau_i tau_j> − <tau_i><tau_j>, dims (``site_i``, ``site_j``).
With ``fluctuations=false`` the scalars are NaN and the correlation an empty (0, 0) array.

Defaults: L = 10, rho_left = 1, rho_right = 0, drive = inf (TASEP with alpha = beta = 1:
the maximal-current phase), method = "exact".

References
----------
B. Derrida, M. R. Evans, V. Hakim, V. Pasquier, J. Phys. A 26, 1493 (1993) (exact TASEP
solution, Z_L, J and density profile).
M. Uchiyama, T. Sasamoto, M. Wadati, J. Phys. A 37, 4985 (2004) (ASEP with all four boundary
rates; kappa± and the phase diagram).
B. Derrida, J. Stat. Mech. P07023 (2007) (SSEP between reservoirs: linear profile and the
long-range connected correlation).
J. de Gier, F. H. L. Essler, Phys. Rev. Lett. 95, 240601 (2005) (spectral gap, L^(−3/2) in the
maximal-current phase).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln, logsumexp

from ness_core.errors import ParameterError
from ness_core.model import (
    Model,
    Observable,
    Parameter,
    TargetLimit,
    fluctuation_observables,
)
from ness_core.solvers.markov import MarkovGenerator
from ness_core.solvers.markov_continuation import continued_gap
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.solvers.markov_spectrum import (
    MODE_TIE_RTOL,
    SpectralGap,
    exceeds_real_part,
    rightmost_eigenvalues,
    slowest_mode,
)
from ness_core.solvers.markov_stationary import DIRECT_MAX_STATES, StationaryState
from ness_core.status import OK, combine
from ness_core.warm import WarmStep

EXACT_MAX_L = 20
FORMULA_PROFILE_MAX_L = 2_000
MC_BURN_IN = 0.2
MC_BATCHES = 40


@dataclass(frozen=True)
class Rates:
    """Hop rates of the open ASEP (p = 1): bulk left rate q and the four boundary rates."""

    q: float
    alpha: float
    beta: float
    gamma: float
    delta: float

    @property
    def is_tasep(self) -> bool:
        return self.q == 0.0 and self.gamma == 0.0 and self.delta == 0.0


def rates_from_params(params: dict[str, Any]) -> Rates:
    """Rates from the reservoir densities and drive/temperature; explicit values override."""
    q = params["q"]
    if q is None:
        q = math.exp(-params["drive"] / params["temperature"])
    rho_l, rho_r = params["rho_left"], params["rho_right"]
    derived = {"alpha": rho_l, "gamma": (1.0 - rho_l) * q,
               "beta": 1.0 - rho_r, "delta": rho_r * q}
    given = {k: derived[k] if params[k] is None else params[k] for k in derived}
    return Rates(q=q, **given)


def effective_densities(rates: Rates) -> tuple[float, float]:
    """Effective reservoir densities (rho_a, rho_b) of Uchiyama–Sasamoto–Wadati.

    rho_a = 1/(1 + kappa+(alpha, gamma)), rho_b = 1 − 1/(1 + kappa+(beta, delta)) with
    kappa+(a, c) = [p − q − a + c + sqrt((p − q − a + c)² + 4ac)] / (2a). A closed end
    (a = 0) gives rho_a = 0 (rho_b = 1), the q < p limit.
    """

    def left(a: float, c: float) -> float:
        if a == 0.0:
            return 0.0
        s = 1.0 - rates.q - a + c
        return 2.0 * a / (2.0 * a + s + math.sqrt(s * s + 4.0 * a * c))

    return left(rates.alpha, rates.gamma), 1.0 - left(rates.beta, rates.delta)


def phase_label(rho_a: float, rho_b: float) -> str:
    """'MC' if rho_a >= 1/2 >= rho_b, else 'LD' if rho_a + rho_b <= 1, else 'HD'."""
    if rho_a >= 0.5 >= rho_b:
        return "MC"
    return "LD" if rho_a + rho_b <= 1.0 else "HD"


def affinity(rates: Rates, L: int) -> float:
    """A = ln(alpha·beta·p^(L−1) / (gamma·delta·q^(L−1))); ±inf at vanishing rates, NaN if both."""
    forward = (rates.alpha, rates.beta)
    backward = (rates.gamma, rates.delta) + ((rates.q,) if L > 1 else ())
    f0, b0 = min(forward) == 0.0, min(backward) == 0.0
    if f0 or b0:
        return math.nan if (f0 and b0) else (-math.inf if f0 else math.inf)
    bulk = (L - 1) * math.log(rates.q) if L > 1 else 0.0
    return math.log(rates.alpha * rates.beta) - math.log(rates.gamma * rates.delta) - bulk


def entropy_production(current: float, a: float) -> float:
    """sigma = J·A, with sigma = 0 where J = 0 (no flux dissipates nothing, whatever A)."""
    return 0.0 if current == 0.0 else current * a


# ---------------------------------------------------------------------- exact: 2^L states
def transitions(L: int, rates: Rates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge list (source, target, rate) of the master equation on the 2^L configurations.

    Configuration s has site k + 1 occupied iff bit k of s is set. Built with vectorised bit
    operations; zero-rate moves are left out.
    """
    s = np.arange(2**L, dtype=np.int64)
    first, last = s & 1, (s >> (L - 1)) & 1
    moves = [  # (allowed mask, flipped bits, rate)
        (first == 0, 1, rates.alpha), (first == 1, 1, rates.gamma),
        (last == 1, 1 << (L - 1), rates.beta), (last == 0, 1 << (L - 1), rates.delta),
    ]
    for k in range(L - 1):
        pair = (s >> k) & 3  # bit k = site k+1, bit k+1 = site k+2
        moves.append((pair == 1, 3 << k, 1.0))     # 10 -> 01: hop right at p
        moves.append((pair == 2, 3 << k, rates.q))  # 01 -> 10: hop left at q
    source, target, rate = [], [], []
    for allowed, flip, k_move in moves:
        if k_move > 0.0:
            src = s[allowed]
            source.append(src)
            target.append(src ^ flip)
            rate.append(np.full(src.size, k_move))
    return np.concatenate(source), np.concatenate(target), np.concatenate(rate)


def site_densities(p: np.ndarray, L: int) -> np.ndarray:
    """<n_i> for i = 1..L from the configuration probabilities p (shape (2^L,))."""
    return np.array([p.reshape(2 ** (L - 1 - k), 2, 2**k)[:, 1, :].sum() for k in range(L)])


def bond_currents(p: np.ndarray, L: int, rates: Rates) -> np.ndarray:
    """Net rightward current on the L + 1 bonds (left boundary, bulk bonds, right boundary)."""
    rho = site_densities(p, L)
    bulk = []
    for k in range(L - 1):  # axes of the view: bit k+1, bit k
        pair = p.reshape(2 ** (L - 2 - k), 2, 2, 2**k)
        bulk.append(pair[:, 0, 1, :].sum() - rates.q * pair[:, 1, 0, :].sum())
    left = rates.alpha * (1.0 - rho[0]) - rates.gamma * rho[0]
    right = rates.beta * rho[-1] - rates.delta * (1.0 - rho[-1])
    return np.array([left, *bulk, right])


def density_correlation(p: np.ndarray, L: int) -> np.ndarray:
    """Connected two-point function <tau_i tau_j> − <tau_i><tau_j>, shape (L, L), i, j = 1..L.

    O(L² 2^L) from the configuration probabilities p (shape (2^L,)); the diagonal is
    rho_i (1 − rho_i).
    """
    states = np.arange(2**L, dtype=np.int64)
    rho = site_densities(p, L)
    joint = np.array([site_densities(p * ((states >> k) & 1), L) for k in range(L)])
    return joint - np.outer(rho, rho)


def bond_weights(generator: MarkovGenerator, L: int, bonds: list[int] | None = None
                 ) -> np.ndarray:
    """Counting weights of the net particle flow across ``bonds`` on the canonical edges.

    Bond 0 joins the left reservoir to site 1, bond k (1 <= k <= L − 1) sites k and k + 1,
    bond L site L to the right reservoir. A rightward jump across a chosen bond counts
    +1/len(bonds), a leftward one −1/len(bonds); ``None`` chooses all L + 1 bonds. Needs
    L >= 2 (at L = 1 the two reservoirs flip the same bit and their jumps merge into one
    edge).
    """
    if L < 2:
        raise ValueError("counting across a bond needs L >= 2")
    chosen = np.arange(L + 1) if bonds is None else np.asarray(bonds)
    src, flip = generator.source, generator.source ^ generator.target
    low = flip & -flip  # the lower flipped bit: bit k of a bulk hop k+1 <-> k+2
    bulk = flip != low
    bond = np.where(bulk, np.log2(low).astype(np.int64) + 1, np.where(flip == 1, 0, L))
    rightward = np.where(bulk | (bond == L), (src & low) != 0, (src & 1) == 0)
    sign = np.where(rightward, 1.0, -1.0)
    return np.where(np.isin(bond, chosen), sign / chosen.size, 0.0)


def exact_generator(L: int, rates: Rates) -> MarkovGenerator:
    """The ASEP master-equation generator on 2^L states."""
    return MarkovGenerator(2**L, *transitions(L, rates))


def reflection_symmetric(rates: Rates) -> bool:
    """Whether W commutes with C, particle–hole exchange × reflection (site j -> L + 1 − j):
    C maps injection at 1 to extraction at L and keeps bulk hops, so alpha = beta and
    gamma = delta (any q)."""
    return rates.alpha == rates.beta and rates.gamma == rates.delta


@dataclass(frozen=True)
class ReflectionSectors:
    """W split by C s = complement of the bit-reversed s (:func:`reflection_symmetric`).

    C is an involution commuting with W, so W is block diagonal on the C-even vectors
    (v(Cs) = v(s), basis e_r + e_Cr over the orbits {r, Cr}, r = min(s, Cs)) and the C-odd
    ones (basis e_r − e_Cr over the orbits of two; fixed points Cs = s exist for even L,
    2^(L/2) of them). The two blocks' spectra together are that of W.

    Attributes
    ----------
    orbit : ndarray of int, shape (2^L,)
        Even-sector index of each configuration.
    symmetric : MarkovGenerator
        The even block as the lumped chain on the orbits, rate(o -> o') = sum of the rates
        from r_o into o' (similar to the block by diag(|o|)); its stationary state is
        P(o) = sum of p over o, and it holds W's stationary 0.
    antisymmetric : scipy.sparse.csr_matrix
        The odd block, A[o', o] = W[r', r] − W[Cr', r] (1/time); no zero eigenvalue.
    """

    orbit: np.ndarray
    symmetric: MarkovGenerator
    antisymmetric: sp.csr_matrix

    def probabilities(self, lumped: np.ndarray) -> np.ndarray:
        """p(s) = P(orbit of s) / |orbit| from the lumped chain's distribution P."""
        size = np.bincount(self.orbit, minlength=lumped.size)
        return (lumped / size)[self.orbit]

    def residual(self, lumped: np.ndarray) -> float:
        """max_s |(W p)(s)| of the full master equation: (W p)(r_o) = (G P)(o) / |o|, G the
        lumped generator, and W p is C-even."""
        size = np.bincount(self.orbit, minlength=lumped.size)
        return float(np.max(np.abs(self.symmetric.matrix @ lumped) / size))


def reflection_sectors(L: int, rates: Rates) -> ReflectionSectors:
    """The two blocks of W under C; needs :func:`reflection_symmetric` rates."""
    if not reflection_symmetric(rates):
        raise ValueError(f"W does not commute with C at {rates}: need alpha = beta, "
                         "gamma = delta")
    states = np.arange(2**L, dtype=np.int64)
    image = np.zeros_like(states)
    for k in range(L):
        image |= ((states >> k) & 1) << (L - 1 - k)
    image ^= 2**L - 1
    first = states <= image  # orbit representatives
    orbit = np.empty_like(states)
    orbit[first] = np.arange(np.count_nonzero(first))
    orbit[~first] = orbit[image[~first]]
    paired = states < image  # representatives of orbits of two
    odd = np.cumsum(paired) - 1  # odd-sector index of a paired representative
    odd = np.where(paired, odd, np.where(states > image, odd[image], -1))
    src, tgt, k = transitions(L, rates)
    from_first = first[src]
    src, tgt, k = src[from_first], tgt[from_first], k[from_first]
    moves = orbit[src] != orbit[tgt]  # a jump r -> Cr stays in the orbit: no lumped move
    symmetric = MarkovGenerator(int(np.count_nonzero(first)), orbit[src[moves]],
                                orbit[tgt[moves]], k[moves])
    exit_rate = np.bincount(src, weights=k, minlength=states.size)
    into = paired[src] & (odd[tgt] >= 0)  # odd vectors vanish on the fixed points
    m = int(np.count_nonzero(paired))
    diagonal = np.arange(m)
    rows = np.concatenate((odd[tgt[into]], diagonal))
    cols = np.concatenate((odd[src[into]], diagonal))
    values = np.concatenate((np.where(paired[tgt[into]], k[into], -k[into]),
                             -exit_rate[paired]))
    antisymmetric = sp.csr_matrix((values, (rows, cols)), shape=(m, m))
    return ReflectionSectors(orbit, symmetric, antisymmetric)


def sector_gap(sectors: ReflectionSectors) -> SpectralGap:
    """-Re λ_1 of W from both blocks; no modes are kept.

    The odd block's rightmost eigenvalue λ_a first (:func:`rightmost_eigenvalues`, one mode:
    the TASEP at alpha = beta = 1 has its slowest mode there, real, at L = 4–10); then the
    even block (its stationary 0 removed) is solved if it has at most ``DIRECT_MAX_STATES``
    states (dense or shift-invert, fast), above only where :func:`exceeds_real_part`
    cannot exclude an eigenvalue right of λ_a (less its tie margin ``MODE_TIE_RTOL``, so
    that tied modes set the frequency).
    """
    odd, even = sectors.antisymmetric, sectors.symmetric
    found = []  # SpectralGap of each block solved
    products = 0
    if odd.shape[0] > 0:
        lam, _, products = rightmost_eigenvalues(odd, 1)
        found.append(slowest_mode(lam, "dense" if products == 0 else "arnoldi"))
    if even.n_states > 1:
        solve = not found or even.n_states <= DIRECT_MAX_STATES
        if not solve:
            bound = -found[0].gap * (1.0 + MODE_TIE_RTOL)
            solve, spent = exceeds_real_part(even.matrix, bound, zero_column_sums=True)
            products += spent
        if solve:
            found.append(even.spectral_gap())
            products += found[-1].products
    slowest = min(found, key=lambda g: g.gap)
    tied = [g.imag for g in found if g.gap <= slowest.gap * (1.0 + MODE_TIE_RTOL)]
    return SpectralGap(slowest.gap, max(tied), slowest.method, products=products)


def _solve_exact(L: int, rates: Rates, params: dict[str, Any]) -> dict[str, Any]:
    return _solve_exact_warm(L, rates, params, None).result


def _solve_exact_warm(L: int, rates: Rates, params: dict[str, Any],
                      previous: SpectralGap | None) -> WarmStep:
    """The exact solution, the gap continued from a neighbour's ``previous`` modes (None:
    cold); the step leaves this point's modes. The stationary solve starts cold: at L = 16
    (drive 1.05 from 1.00) BiCGSTAB started from the neighbour's state needs 268 iterations
    to come within 2e-11 of the cold solution against 288 cold, its remaining error lying
    in the slow modes (at the default tolerance it stops after 226 with the pinned state's
    balance at 7.7e-9, above REFERENCE_RTOL, and is repeated from the mode: 517 in all;
    docs/performance.md). With
    :func:`reflection_symmetric` rates the NESS and gap come from the two blocks of W (half
    the size each) and are solved cold (no modes kept)."""
    if reflection_symmetric(rates):
        return _solve_exact_sectors(L, rates, params)
    generator = exact_generator(L, rates)
    state = generator.stationary()
    spectrum, refused = None, ""
    if state.status == "ok":
        spectrum, refused = continued_gap(generator, previous)
    result = _exact_result(L, rates, params, generator, state, spectrum)
    work = state.iterations + (spectrum.products if spectrum is not None else 0)
    return WarmStep(result, spectrum if spectrum is not None and spectrum.modes else None,
                    work, refused)


def _solve_exact_sectors(L: int, rates: Rates, params: dict[str, Any]) -> WarmStep:
    """NESS from the lumped even block, gap from both blocks (:class:`ReflectionSectors`);
    the current fluctuations, if asked for, on the full generator."""
    sectors = reflection_sectors(L, rates)
    lumped = sectors.symmetric.stationary()
    p = sectors.probabilities(lumped.probabilities)
    residual = sectors.residual(lumped.probabilities) if lumped.status == "ok" else math.nan
    state = StationaryState(p, residual, lumped.method, lumped.iterations, lumped.status)
    spectrum = sector_gap(sectors) if state.status == "ok" else None
    generator = exact_generator(L, rates) if params["fluctuations"] else None
    result = _exact_result(L, rates, params, generator, state, spectrum)
    return WarmStep(result, None, state.iterations + (spectrum.products if spectrum else 0))


def _exact_result(L: int, rates: Rates, params: dict[str, Any],
                  generator: MarkovGenerator | None, state: StationaryState,
                  spectrum: SpectralGap | None) -> dict[str, Any]:
    """Observables of the exact solution; ``generator`` (full W) is needed only with
    ``fluctuations``."""
    p = state.probabilities
    status = state.status
    variance, correlation = math.nan, np.empty((0, 0))
    if params["fluctuations"] and status == "ok":
        cumulants = generator.current_cumulants(bond_weights(generator, L), state)
        variance, correlation = cumulants.variance, density_correlation(p, L)
        status = combine(status, cumulants.status)
    return {
        "current": float(np.mean(bond_currents(p, L, rates))),
        "current_stderr": 0.0,
        "density_profile": site_densities(p, L),
        "gap": spectrum.gap if spectrum is not None else math.nan,
        "current_variance": variance,
        "density_correlation": correlation,
        "residual": state.residual,
        "status": status,
    }


# ---------------------------------------------------------------------- formula: DEHP 1993
def _log_factorials(n: int) -> np.ndarray:
    """ln k! for k = 0..n."""
    return gammaln(np.arange(n + 1) + 1.0)


def _log_partitions(L: int, alpha: float, beta: float, sizes: list[int]) -> np.ndarray:
    """ln Z_n for each n in ``sizes`` (all <= L) of the TASEP matrix product state.

    DEHP 1993, normalised by <W|V> = 1 (Z_0 = 1):
    Z_n = sum_{k=1}^{n} k (2n−k−1)! / (n! (n−k)!) · sum_{j=0}^{k} beta^(−j) alpha^(−(k−j)),
    the inner sum being (beta^−(k+1) − alpha^−(k+1)) / (beta^−1 − alpha^−1), (k+1) alpha^−k
    at alpha = beta. Terms are summed in log space (logsumexp); the tables of ln k! and of
    the inner sums are shared between the sizes.
    """
    lf = _log_factorials(2 * L)
    k_all = np.arange(1, L + 1)
    log_k = np.log(k_all)
    log_geometric = _log_geometric(k_all, alpha, beta)
    out = np.zeros(len(sizes))
    for m, n in enumerate(sizes):
        if n > 0:
            k = k_all[:n]
            out[m] = logsumexp(log_k[:n] + lf[2 * n - k - 1] - lf[n - k] + log_geometric[:n])
            out[m] -= lf[n]
    return out


def _log_geometric(k: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """ln sum_{j=0}^{k} x^j y^(k−j), x = 1/beta, y = 1/alpha, stable also near alpha = beta."""
    log_x, log_y = -math.log(beta), -math.log(alpha)
    eps = abs(log_x - log_y)  # ratio r = exp(-eps) of the smaller to the larger of x, y
    if eps == 0.0:
        ratio = np.log(k + 1.0)
    else:
        ratio = np.log(np.expm1(-(k + 1.0) * eps) / math.expm1(-eps))
    return k * max(log_x, log_y) + ratio


def dehp_current(L: int, alpha: float, beta: float) -> float:
    """Exact finite-L TASEP current J = Z_{L−1}/Z_L (DEHP 1993)."""
    if alpha == 0.0 or beta == 0.0:
        return 0.0
    log_z = _log_partitions(L, alpha, beta, [L - 1, L])
    return math.exp(log_z[0] - log_z[1])


def dehp_profile(L: int, alpha: float, beta: float) -> np.ndarray:
    """Exact finite-L TASEP density profile <tau_i>, i = 1..L (DEHP 1993), O(L²).

    <tau_i> = sum_{k=0}^{L−i−1} Cat_k Z_{L−k−1}/Z_L + (Z_{i−1}/Z_L) B_{L−i}, with the Catalan
    numbers Cat_k = (2k)!/(k!(k+1)!), B_n = sum_{k=2}^{n+1} (k−1)(2n−k)!/(n!(n−k+1)!)
    beta^(−k) for n >= 1 and B_0 = 1/beta (from D C^n = sum_k Cat_k C^(n−k) + sum_k b_nk D^k
    with C = D + E, DE = D + E, D|V> = |V>/beta). All terms are positive.
    """
    if alpha == 0.0 or beta == 0.0:
        return np.full(L, 0.0 if alpha == 0.0 else 1.0)
    lf = _log_factorials(2 * L)
    log_z = _log_partitions(L, alpha, beta, list(range(L + 1)))
    k = np.arange(L)
    log_catalan = lf[2 * k] - lf[k] - lf[k + 1]
    # first sum for site i runs over k = 0..L-i-1: a cumulative sum over k
    catalan_terms = np.exp(log_catalan + log_z[L - 1 - k] - log_z[L])
    first = np.concatenate(([0.0], np.cumsum(catalan_terms)))  # first[m] = sum_{k<m}
    log_b = np.empty(L)
    log_b[0] = -math.log(beta)
    j_all = np.arange(2, L + 1)
    log_weight = np.log(j_all - 1.0) - j_all * math.log(beta)
    for n in range(1, L):
        j = j_all[:n]
        log_b[n] = logsumexp(log_weight[:n] + lf[2 * n - j] - lf[n - j + 1]) - lf[n]
    i = np.arange(1, L + 1)
    return first[L - i] + np.exp(log_z[i - 1] - log_z[L] + log_b[L - i])


def _solve_formula(L: int, rates: Rates, params: dict[str, Any]) -> dict[str, Any]:
    note = ""
    if L <= FORMULA_PROFILE_MAX_L:
        profile = dehp_profile(L, rates.alpha, rates.beta)
    else:
        profile = np.full(L, math.nan)
        note = f"density_profile not computed for L > {FORMULA_PROFILE_MAX_L} (O(L^2))"
    return {
        "current": dehp_current(L, rates.alpha, rates.beta),
        "current_stderr": 0.0,
        "density_profile": profile,
        "gap": math.nan,
        "current_variance": math.nan,
        "density_correlation": np.empty((0, 0)),
        "residual": 0.0,
        "status": OK,
        "note": note,
    }


# ---------------------------------------------------------------------- mc: numba kernel
def _mc_kernel(occ, q, alpha, gamma, beta, delta, chunk, n_burn, n_batches, batch_chunks,
               seed):
    """Advance ``occ`` (uint8, shape (L,)) by (n_burn + n_batches·batch_chunks)·chunk attempts.

    Each attempt picks a move with probability rate/R from the configuration-independent
    total attempt rate R = (L−1)(p + q) + alpha + gamma + beta + delta (a bulk bond with a
    direction, or one of the four boundary moves) and performs it if exclusion allows. Bulk
    moves are computed with integer arithmetic instead of branches (the accept/reject
    branch is unpredictable). The occupations are added up after every chunk. Random
    numbers: xoshiro256+ seeded by splitmix64. Returns per batch the net rightward moves
    over all L + 1 bonds, the summed occupation samples, and the number of moves performed.
    """
    L = occ.size
    pq = 1.0 + q
    inv_pq = 1.0 / pq
    bulk = (L - 1) * pq
    left_end = bulk + alpha + gamma
    scale = (left_end + beta + delta) * 2.0**-53
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)
    words = np.empty(4, np.uint64)
    for w in range(4):  # splitmix64 seeding of the xoshiro256+ state
        z += np.uint64(0x9E3779B97F4A7C15)
        x = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        words[w] = x ^ (x >> np.uint64(31))
    s0, s1, s2, s3 = words[0], words[1], words[2], words[3]
    net = np.zeros(n_batches, np.int64)
    occupied = np.zeros(L, np.int64)
    moves = 0
    for segment in range(-1, n_batches):  # segment -1: burn-in, not recorded
        flow = 0
        for _ in range(n_burn if segment < 0 else batch_chunks):
            for _ in range(chunk):
                u = np.float64((s0 + s3) >> np.uint64(11)) * scale
                tmp = s1 << np.uint64(17)
                s2 ^= s0
                s3 ^= s1
                s1 ^= s2
                s0 ^= s3
                s2 ^= tmp
                s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
                if u < bulk:
                    k = min(int(u * inv_pq), L - 2)
                    right = np.int64(u - k * pq < 1.0)
                    a, c = np.int64(occ[k]), np.int64(occ[k + 1])
                    hop_right = right & a & (1 - c)
                    hop_left = (1 - right) & (1 - a) & c
                    occ[k] = a + hop_left - hop_right
                    occ[k + 1] = c + hop_right - hop_left
                    flow += hop_right - hop_left
                    moves += hop_right + hop_left
                elif u < left_end:
                    inject = u - bulk < alpha
                    if inject == (occ[0] == 0):
                        occ[0] = 1 - occ[0]
                        flow += 1 if inject else -1
                        moves += 1
                else:
                    extract = u - left_end < beta
                    if extract == (occ[L - 1] == 1):
                        occ[L - 1] = 1 - occ[L - 1]
                        flow += 1 if extract else -1
                        moves += 1
            if segment >= 0:
                occupied += occ
        if segment >= 0:
            net[segment] = flow
    return net, occupied, moves


@dataclass(frozen=True)
class McRun:
    """Result of :func:`simulate`: current with its batch-means error, profile, counts."""

    current: float
    current_stderr: float
    density_profile: np.ndarray
    attempts: int
    moves: int


@functools.cache
def _compiled_kernel() -> Callable[..., Any]:
    """:func:`_mc_kernel` compiled by numba (on-disk cache), imported on first use only, so
    importing the model (every CLI call and pipeline job) does not pay for numba."""
    from numba import njit

    return njit(cache=True)(_mc_kernel)


def simulate(L: int, rates: Rates, sweeps: int, seed: int, initial_density: float) -> McRun:
    """Continuous-time Monte Carlo of the open ASEP (kernel ``_mc_kernel``).

    Moves are attempted at the constant total rate R = (L−1)(p + q) + alpha + gamma + beta
    + delta (each bulk bond offers a right hop at rate p and a left hop at q, each end its
    two boundary moves) and performed when exclusion allows: this is the master equation's
    jump process. As R does not depend on the configuration, the waiting times are i.i.d.
    Exp(R), and time advances by their mean 1/R per attempt; currents and time averages
    are unbiased. The profile is sampled once per chunk of ceil(R) attempts (about one unit
    of time), which costs O(1) per attempt.

    Parameters
    ----------
    L : int
        Number of sites.
    rates : Rates
        Bulk and boundary rates (p = 1).
    sweeps : int
        Simulated time in units of 1/p (a sweep offers every bond one right hop on average),
        rounded to whole chunks. The first ``MC_BURN_IN`` of it is discarded, the rest split
        into ``MC_BATCHES`` equal batches; the batch-means error is trustworthy only if a
        batch is much longer than the relaxation time (~L in LD/HD, ~L^(3/2) in MC, ~L² at
        q = p or on the coexistence line).
    seed : int
        Seed of the random numbers (xoshiro256+ in the kernel, numpy's generator for the
        initial configuration); runs are reproducible.
    initial_density : float
        Bernoulli density of the initial configuration (the phase's bulk density shortens
        the burn-in).

    Returns
    -------
    McRun
        ``current``: net moves across all L + 1 bonds per bond per unit time;
        ``current_stderr``: standard deviation of the batch currents / sqrt(MC_BATCHES);
        ``density_profile``: time-averaged occupation, shape (L,).
    """
    total_rate = (L - 1) * (1.0 + rates.q) + rates.alpha + rates.gamma + rates.beta + rates.delta
    chunk = math.ceil(total_rate)
    chunk_time = chunk / total_rate
    n_burn = round(sweeps * MC_BURN_IN / chunk_time)
    batch_chunks = max(1, round(sweeps * (1.0 - MC_BURN_IN) / (MC_BATCHES * chunk_time)))
    occ = (np.random.default_rng(seed).random(L) < initial_density).astype(np.uint8)
    net, occupied, moves = _compiled_kernel()(
        occ, float(rates.q), float(rates.alpha), float(rates.gamma), float(rates.beta),
        float(rates.delta), chunk, n_burn, MC_BATCHES, batch_chunks, seed)
    batch_current = net / ((L + 1) * batch_chunks * chunk_time)
    return McRun(
        current=float(batch_current.mean()),
        current_stderr=float(batch_current.std(ddof=1) / math.sqrt(MC_BATCHES)),
        density_profile=occupied / (MC_BATCHES * batch_chunks),
        attempts=(n_burn + MC_BATCHES * batch_chunks) * chunk,
        moves=int(moves),
    )


def _solve_mc(L: int, rates: Rates, params: dict[str, Any]) -> dict[str, Any]:
    rho_a, rho_b = effective_densities(rates)
    bulk_density = {"LD": rho_a, "HD": rho_b, "MC": 0.5}[phase_label(rho_a, rho_b)]
    run = simulate(L, rates, params["sweeps"], params["seed"], bulk_density)
    return {
        "current": run.current,
        "current_stderr": run.current_stderr,
        "density_profile": run.density_profile,
        "gap": math.nan,
        "current_variance": math.nan,
        "density_correlation": np.empty((0, 0)),
        "residual": math.nan,
        "status": "ok",
    }


METHODS = {"exact": _solve_exact, "formula": _solve_formula, "mc": _solve_mc}


def _rate(name: str, meaning: str) -> Parameter:
    return Parameter(name, None, "1/time", meaning + " (default: derived from the reservoirs)",
                     low=0.0)


class Asep(Model):
    """Open ASEP between two reservoirs (docs/conventions.md, S6); conventions: module docstring.

    Observables: ``current`` (particles per unit time 1/p across a bond, positive to the
    right), ``current_stderr``, ``entropy_production`` (J·A), ``affinity`` (A),
    ``gap`` (exact only), ``density_profile`` (dims ``site``), ``density`` (its site
    average), ``phase`` (LD/HD/MC); with
    ``fluctuations=true`` (exact only) ``current_variance``, ``fano_factor``, ``tur_ratio``
    and ``density_correlation`` (dims ``site_i``, ``site_j``), else NaN / empty.
    """

    name = "asep"
    summary = "open asymmetric simple exclusion process between two particle reservoirs"
    revision = 1  # status is exactly "ok" or a failure; partial results say so in note
    dimension_lengths = {"site": "L", "site_i": "L", "site_j": "L"}
    parameters = (
        Parameter("L", 10, "", "number of sites", kind=int, low=1, high=10**6, symbol=r"$L$"),
        Parameter("rho_left", 1.0, "1", "left reservoir density", low=0.0, high=1.0,
                  axis="density", symbol=r"$\rho_L$"),
        Parameter("rho_right", 0.0, "1", "right reservoir density", low=0.0, high=1.0,
                  symbol=r"$\rho_R$"),
        Parameter("drive", math.inf, "energy", "field per bond, q = p exp(-drive/temperature)",
                  low=0.0, allow_inf=True, axis="drive", symbol=r"$E$"),
        Parameter("temperature", 1.0, "energy", "temperature (k_B = 1)", low=0.0,
                  low_inclusive=False, axis="temperature", symbol=r"$T$"),
        _rate("alpha", "injection rate at site 1"),
        _rate("beta", "extraction rate at site L"),
        _rate("gamma", "extraction rate at site 1"),
        _rate("delta", "injection rate at site L"),
        Parameter("q", None, "1/time", "left hop rate (default: derived from drive/temperature)",
                  low=0.0, high=1.0, symbol=r"$q$"),
        Parameter("method", "exact", "", "solution method", kind=str,
                  choices=tuple(METHODS)),
        Parameter("seed", 0, "", "random seed (method='mc')", kind=int, low=0, high=2**63 - 1),
        Parameter("sweeps", 100_000, "time", "simulated time of method='mc' in units of 1/p",
                  kind=int, low=1000),
        Parameter("fluctuations", False, "",
                  "also compute current fluctuations and density correlations (method='exact')",
                  kind=bool),
    )
    observables = (
        Observable("current", "1/time", "particle current across a bond (rightward)",
                   symbol=r"$J$"),
        Observable("current_stderr", "1/time", "Monte Carlo standard error of the current"),
        Observable("entropy_production", "k_B/time", "entropy production rate J*A",
                   symbol=r"$\sigma$"),
        Observable("affinity", "k_B", "affinity of one particle transfer left to right"),
        Observable("gap", "1/time", "spectral gap of the master-equation generator", symbol=r"$g$"),
        Observable("density_profile", "1", "mean site occupation", dims=("site",),
                   symbol=r"$\langle n_j\rangle$"),
        Observable("density", "1", "mean occupation of the chain, the site average of "
                   "density_profile", symbol=r"$\rho$"),
        Observable("phase", "", "phase of the infinite-L diagram (LD, HD or MC)", kind=str),
        *fluctuation_observables("bond-averaged particle count"),
        Observable("density_correlation", "1", "connected density correlation "
                   "<tau_i tau_j> - <tau_i><tau_j>", dims=("site_i", "site_j")),
    )

    def check(self, params: dict[str, Any]) -> None:
        rates = rates_from_params(params)
        L, method = params["L"], params["method"]
        if max(rates.alpha, rates.beta, rates.gamma, rates.delta) == 0.0:
            raise ParameterError(
                "parameters 'alpha', 'beta', 'gamma', 'delta' are all 0 (closed chain, no "
                "unique steady state); at least one boundary rate must be positive"
            )
        if method == "exact" and L > EXACT_MAX_L:
            raise ParameterError(
                f"parameter 'L': {L} is too large for method='exact'; expected an integer "
                f"in [1, {EXACT_MAX_L}] (use method='formula' or 'mc' for longer chains)"
            )
        if method == "formula" and not rates.is_tasep:
            raise ParameterError(
                f"method='formula' needs the TASEP, parameters 'q', 'gamma', 'delta' equal "
                f"to 0 (got q={rates.q:g}, gamma={rates.gamma:g}, delta={rates.delta:g}); "
                "set drive=inf or q=0, and gamma=0, delta=0"
            )
        if params["fluctuations"] and (method != "exact" or L < 2):
            raise ParameterError(
                f"parameter 'fluctuations': true needs method='exact' and L >= 2 (got "
                f"method={method!r}, L={L}); set fluctuations=false"
            )

    equilibrium = ("drive = 0 with equal reservoirs rho_left = rho_right (explicit rates: zero "
                   "transfer affinity, αβ/(γδ)·(p/q)^(L−1) = 1); the default reservoirs "
                   "(1, 0) drive a current at any drive")
    equilibrium_examples = ({"L": 6, "rho_left": 0.3, "rho_right": 0.3, "drive": 0.0},
                            {"L": 5, "alpha": 0.4, "gamma": 0.2, "beta": 0.5, "delta": 1.0,
                             "q": 1.0})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Zero transfer affinity A (to round-off): then the product measure satisfies
        detailed balance, e.g. rho_left = rho_right at zero field."""
        return abs(affinity(rates_from_params(params), params["L"])) <= 1e-12

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Seconds per point: exact NESS + gap grows ~2.7× per site (measured with the
        reflection split, alpha = beta and gamma = delta: 0.57 s at L = 16, 4.4 s at 18,
        31 s at 20; without it 1.2 / 11 / 49 s, about twice; benchmarks/asep_exact.py);
        ``fluctuations`` adds one minor solve, +30 % (benchmarks/counting_statistics.py);
        formula is O(L) (O(L²) with the profile), MC is sweeps·L hop attempts."""
        L = params["L"]
        if params["method"] == "exact":
            split = reflection_symmetric(rates_from_params(params))
            return ((0.01 + 0.57 * 2.7 ** (L - 16)) * (1.0 if split else 2.0)
                    * (1.3 if params["fluctuations"] else 1.0))
        if params["method"] == "formula":
            return 1e-3 + (5e-7 * L * L if L <= FORMULA_PROFILE_MAX_L else 1e-6 * L)
        return 2e-8 * params["sweeps"] * L

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """MB for method='exact' (others are O(L)): 2^L states, each holding a sparse
        generator row (~L/4 + 2 nonzeros of 12 B), its copy in the gap's power filter and
        the ~20–40 Krylov vectors of the gap's Arnoldi and the NESS solve (8 B each);
        measured peaks (benchmarks/asep_exact.py, one process): 549 MB at L = 20 with the
        reflection split, 988 MB without (≈ 940 B per state): 1100 B per state."""
        return 1100 * 2 ** params["L"] / 2**20 if params["method"] == "exact" else None

    def reference_lines(self, x: str, y: str) -> list[tuple[Any, Any, str]]:
        """L → ∞ phase boundaries in the (rho_left, rho_right) plane: LD|MC at ρ_L = 1/2
        (ρ_R < 1/2), HD|MC at ρ_R = 1/2 (ρ_L > 1/2), LD|HD coexistence ρ_L + ρ_R = 1."""
        if {x, y} != {"rho_left", "rho_right"}:
            return []
        lines = [  # (rho_left values, rho_right values, label)
            ((0.5, 0.5), (0.0, 0.5), "LD | MC"),
            ((0.5, 1.0), (0.5, 0.5), "HD | MC"),
            ((0.0, 0.5), (1.0, 0.5), "LD | HD"),
        ]
        return [(a, b, name) if x == "rho_left" else (b, a, name) for a, b, name in lines]

    def target_limit(self, refine: dict[str, Any], params: dict[str, Any]
                     ) -> TargetLimit | None:
        """The steepest point of ``density`` along one reservoir density, with the other
        reservoir across 1/2 and q < p, tends as L → ∞ to the LD/HD coexistence line
        rho_left + rho_right = 1 (reservoir parametrisation only: no explicit rates)."""
        axis = refine.get("axis")
        if (axis not in ("rho_left", "rho_right") or refine["target"] != "steepest"
                or refine["observable"] != "density"
                or any(params[k] is not None for k in ("alpha", "beta", "gamma", "delta", "q"))
                or rates_from_params(params).q >= 1.0):
            return None
        other = params["rho_right" if axis == "rho_left" else "rho_left"]
        if (other <= 0.5) if axis == "rho_left" else (other >= 0.5):
            return None
        return TargetLimit(1.0 - other, f"L → ∞: LD/HD line, {axis} = {1.0 - other:g}")

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.solve_warm(params, None).result

    def solve_warm(self, params: dict[str, Any], state: Any) -> WarmStep:
        """method='exact' continues the gap's slowest mode from the previous point of the
        path (:func:`ness_core.solvers.markov_continuation.continued_gap`), if it has the same L."""
        rates = rates_from_params(params)
        L = params["L"]
        if params["method"] == "exact":
            step = _solve_exact_warm(L, rates, params, state)
        else:
            step = WarmStep(METHODS[params["method"]](L, rates, params))
        result = step.result
        a = affinity(rates, L)
        result["affinity"] = a
        result["entropy_production"] = entropy_production(result["current"], a)
        result.update(current_fluctuations(result["current"], result["current_variance"],
                                           result["entropy_production"]))
        result["phase"] = phase_label(*effective_densities(rates))
        result["density"] = float(np.mean(result["density_profile"]))  # NaN if not computed
        return step
