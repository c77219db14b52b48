"""Chemical reaction networks: parsing, mass-action kinetics and both steady-state forms.

Conventions (k_B = 1; concentrations in units of a standard concentration c° = 1, so a
concentration is a pure number; energies and chemical potentials in the units of
``temperature``):

* Species are *dynamic* (their amounts evolve) or *chemostatted* (held at a fixed
  concentration by a reservoir). A reaction is written ``"A + E <-> AE"``, ``"G <-> 2 L"``,
  ``"0 -> A"`` (``0`` is the empty complex); ``<->``/``<=>`` is reversible, ``->``/``=>``
  irreversible.
* Mass action: the one-way rates per volume are v⁺ = k⁺ Π_s c_s^{r_s}, v⁻ = k⁻ Π_s c_s^{p_s}
  over all species, chemostats included (r, p the reactant and product coefficients).
* Local detailed balance by construction: every species s has a standard chemical potential
  μ°_s; a reversible reaction with prefactor k and Δμ° = Σ_s (p_s − r_s) μ°_s gets
  k⁺ = k exp(−Δμ°/2T), k⁻ = k exp(+Δμ°/2T), so k⁺/k⁻ = exp(−Δμ°/T). A reaction may instead
  give its backward rate constant explicitly (``backward``); local detailed balance is then
  the author's responsibility.
* Entropy production per volume: σ = Σ_ρ (J⁺_ρ − J⁻_ρ) ln(J⁺_ρ/J⁻_ρ) (deterministic: the
  one-way rates; stochastic: the one-way probability fluxes of every reaction between every
  pair of copy-number states, divided by the volume Ω). A one-way flux without its reverse
  gives σ = inf.
* Deterministic steady states: Newton's method from several starts on the stoichiometric
  compatibility class (conserved moieties fixed by ``initial``); stability and the gap
  −max Re λ from the Jacobian restricted to the stoichiometric subspace. Continuation
  (:func:`continue_steady_state`) follows a stable branch along one parameter inside a
  single point's solve, so results never depend on which points share a job.
* Stochastic form: the chemical master equation for copy numbers n = Ω c with propensities
  a⁺(n) = k⁺ Ω Π_s n_s!/((n_s − r_s)! Ω^{r_s}) (chemostats enter through their
  concentrations), on the states reachable from an initial state inside a box
  floor_s ≤ n_s ≤ cap_s (floors at mean − 6√mean − 10, at least 0); the box grows until the
  stationary probability of states with a transition cut by it is below a tolerance.
  Spaces too big to enumerate are sampled by Gillespie simulation
  (:mod:`ness_core.solvers.gillespie`, :func:`stochastic_steady_state`).
* Detailed balance (:func:`detailed_balance`): Wegscheider's condition on ln(k⁺/k⁻).

References: D. T. Gillespie, Physica A 188, 404 (1992) (CME propensities); T. Schmiedl and
U. Seifert, J. Chem. Phys. 126, 044101 (2007) (stochastic thermodynamics of chemical
networks); R. Rao and M. Esposito, Phys. Rev. X 6, 041064 (2016) (chemostats, local
detailed balance); T. Jahnke and W. Huisinga, J. Math. Biol. 54, 1 (2007) (product-Poisson
law of monomolecular networks); D. F. Anderson, G. Craciun and T. G. Kurtz, Bull. Math. Biol.
72, 1947 (2010) (product-form laws of complex-balanced networks).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.linalg
from scipy.integrate import solve_ivp

from ness_core.errors import ParameterError
from ness_core.expressions import evaluate_expression
from ness_core.model import Observable
from ness_core.solvers.markov import MarkovGenerator

LDB_MAX_EXPONENT = 700.0  # |Δμ°|/2T allowed by the local-detailed-balance rule (exp < 1e304)

# ---------------------------------------------------------------------- network description
_ARROWS = (("<->", True), ("<=>", True), ("->", False), ("=>", False))
_TERM = re.compile(r"^(?:(\d+)\s*\*?\s*)?([A-Za-z_][A-Za-z0-9_]*)$")
MAX_COEFFICIENT = 10  # largest stoichiometric coefficient of one species in one complex


def parse_equation(equation: str, where: str) -> tuple[dict[str, int], dict[str, int], bool]:
    """Reactant and product coefficients and reversibility of ``"A + 2 B <-> C"``.

    ``0`` is the empty complex; an empty side is refused (a forgotten species, not "nothing").
    Raises :class:`ParameterError` naming ``where`` on a missing or repeated arrow, an empty
    side, a malformed term, or a coefficient above ``MAX_COEFFICIENT``.
    """
    found = next(((a, rev) for a, rev in _ARROWS if equation.count(a) == 1), None)
    if found is None:
        raise ParameterError(f"{where}: {equation!r} needs exactly one of <->, <=>, ->, =>")
    arrow, reversible = found
    left, right = equation.split(arrow)
    sides = []
    for side in (left, right):
        coefficients: dict[str, int] = {}
        terms = [t.strip() for t in side.split("+")]
        if terms == [""]:
            raise ParameterError(f"{where}: {equation!r} has an empty side; write 0 for the "
                                 "empty complex")
        if terms != ["0"]:
            for term in terms:
                match = _TERM.match(term)
                if match is None or match.group(1) == "0":
                    raise ParameterError(f"{where}: cannot read term {term!r} of {equation!r}")
                name = match.group(2)
                coefficients[name] = coefficients.get(name, 0) + int(match.group(1) or 1)
                if coefficients[name] > MAX_COEFFICIENT:
                    raise ParameterError(f"{where}: coefficient of '{name}' in {equation!r} "
                                         f"exceeds {MAX_COEFFICIENT}")
        sides.append(coefficients)
    return sides[0], sides[1], reversible


@dataclass(frozen=True)
class Reaction:
    """One reaction: coefficients, reversibility and rate expressions.

    ``rate`` is the prefactor k of the local-detailed-balance rule (module docstring), or
    the forward rate constant k⁺ when ``backward`` (k⁻) is given. Irreversible reactions
    have k⁺ = rate, k⁻ = 0. Units: c°^(1 − order)/time.
    """

    name: str
    reactants: Mapping[str, int]
    products: Mapping[str, int]
    reversible: bool
    rate: str | float
    backward: str | float | None = None


@dataclass(frozen=True)
class Kinetics:
    """Numerical mass-action network over the dynamic species.

    Attributes
    ----------
    species : tuple of str, length d
        Dynamic species, the columns of the matrices.
    reactions : tuple of str, length R
    reactants, products : ndarray of int, shape (R, d)
        Coefficients of the dynamic species.
    k_plus, k_minus : ndarray, shape (R,)
        Effective rate constants with the chemostat concentrations multiplied in
        (k⁺ Π_x c_x^{r_x}, k⁻ Π_x c_x^{p_x}).
    """

    species: tuple[str, ...]
    reactions: tuple[str, ...]
    reactants: np.ndarray
    products: np.ndarray
    k_plus: np.ndarray
    k_minus: np.ndarray

    @property
    def stoichiometry(self) -> np.ndarray:
        """Net change of each dynamic species per reaction, shape (R, d)."""
        return self.products - self.reactants

    def one_way_rates(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic v⁺, v⁻ per volume at concentrations ``c`` (shape (d,))."""
        return (self.k_plus * np.prod(c ** self.reactants, axis=1),
                self.k_minus * np.prod(c ** self.products, axis=1))

    def jacobian(self, c: np.ndarray) -> np.ndarray:
        """d(dc/dt)/dc, shape (d, d)."""
        d = len(self.species)
        dv = np.zeros((len(self.reactions), d))
        for s in range(d):
            unit = np.zeros(d, dtype=int)
            unit[s] = 1
            for k, order in ((self.k_plus, self.reactants), (-self.k_minus, self.products)):
                lowered = np.maximum(order - unit, 0)
                dv[:, s] += order[:, s] * k * np.prod(c ** lowered, axis=1)
        return self.stoichiometry.T @ dv


@dataclass(frozen=True)
class ReactionNetwork:
    """Dynamic species, chemostats and reactions, with expressions still symbolic.

    Parameters
    ----------
    species : mapping of str to expression
        Dynamic species and their standard chemical potentials μ° (energy).
    chemostats : mapping of str to (concentration, μ°) expressions
        Species held at a fixed concentration (c°) by a reservoir.
    reactions : tuple of Reaction
    composition : mapping of str to mapping of str to int, optional
        Elemental (or moiety) composition of every species; when given, every reaction must
        conserve every element.

    Raises
    ------
    ParameterError
        Naming the reaction, for an undeclared species, an element imbalance, or a reaction
        that changes no dynamic species; and for duplicate or clashing names.
    """

    species: Mapping[str, str | float]
    chemostats: Mapping[str, tuple[str | float, str | float]]
    reactions: tuple[Reaction, ...]
    composition: Mapping[str, Mapping[str, int]] | None = None

    def __post_init__(self) -> None:
        both = set(self.species) & set(self.chemostats)
        if both:
            raise ParameterError(f"species declared both dynamic and chemostatted: {sorted(both)}")
        if not self.species:
            raise ParameterError("a reaction network needs at least one dynamic species")
        names = [r.name for r in self.reactions]
        if len(set(names)) != len(names) or not names:
            raise ParameterError("reactions need distinct names, and at least one reaction")
        known = set(self.species) | set(self.chemostats)
        if self.composition is not None and set(self.composition) != known:
            raise ParameterError(f"composition must be given for every species: {sorted(known)}")
        for r in self.reactions:
            where = f"reaction '{r.name}'"
            for s in {**r.reactants, **r.products}:
                if s not in known:
                    raise ParameterError(f"{where}: undeclared species '{s}'")
            if all(r.reactants.get(s, 0) == r.products.get(s, 0) for s in self.species):
                raise ParameterError(f"{where}: changes no dynamic species")
            if r.backward is not None and not r.reversible:
                raise ParameterError(f"{where}: an irreversible reaction has no backward rate")
            if self.composition is not None:
                self._check_balance(r)

    def _check_balance(self, r: Reaction) -> None:
        elements = {e for comp in self.composition.values() for e in comp}
        for e in sorted(elements):
            left = sum(n * self.composition[s].get(e, 0) for s, n in r.reactants.items())
            right = sum(n * self.composition[s].get(e, 0) for s, n in r.products.items())
            if left != right:
                raise ParameterError(f"reaction '{r.name}': unbalanced in '{e}' "
                                     f"({left} on the left, {right} on the right)")

    def kinetics(self, params: Mapping[str, float]) -> Kinetics:
        """Evaluate every expression at ``params`` and build the numerical network.

        ``temperature`` must be among ``params`` when a reversible reaction uses the
        local-detailed-balance rule. Raises :class:`ParameterError` naming the reaction or
        species on a bad expression, a negative or non-finite rate constant, or a negative
        chemostat concentration.
        """
        mu0 = {s: evaluate_expression(e, params, f"species '{s}', mu0")
               for s, e in self.species.items()}
        conc = {}
        for x, (c_expr, m_expr) in self.chemostats.items():
            mu0[x] = evaluate_expression(m_expr, params, f"chemostat '{x}', mu0")
            conc[x] = evaluate_expression(c_expr, params, f"chemostat '{x}', concentration")
            if conc[x] < 0:
                raise ParameterError(f"chemostat '{x}': negative concentration {conc[x]:g}")
        dyn = tuple(self.species)
        n_r = len(self.reactions)
        reactants = np.zeros((n_r, len(dyn)), dtype=int)
        products = np.zeros((n_r, len(dyn)), dtype=int)
        k_plus, k_minus = np.zeros(n_r), np.zeros(n_r)
        for i, r in enumerate(self.reactions):
            where = f"reaction '{r.name}'"
            k = evaluate_expression(r.rate, params, f"{where}, rate")
            if r.backward is not None:
                kp, km = k, evaluate_expression(r.backward, params, f"{where}, backward")
            elif r.reversible:
                if "temperature" not in params or not params["temperature"] > 0:
                    raise ParameterError(f"{where}: local detailed balance needs a "
                                         "temperature > 0")
                dmu = (sum(n * mu0[s] for s, n in r.products.items())
                       - sum(n * mu0[s] for s, n in r.reactants.items()))
                half = dmu / (2.0 * params["temperature"])
                if abs(half) > LDB_MAX_EXPONENT:
                    raise ParameterError(f"{where}: |Δμ°|/2T = {abs(half):g} exceeds "
                                         f"{LDB_MAX_EXPONENT:g}: rate constants overflow")
                kp, km = k * math.exp(-half), k * math.exp(half)
            else:
                kp, km = k, 0.0
            for label, value in (("forward", kp), ("backward", km)):
                if not (math.isfinite(value) and value >= 0):
                    raise ParameterError(f"{where}: {label} rate constant {value:g} is "
                                         "negative or not finite")
            for s, n in r.reactants.items():
                if s in conc:
                    kp *= conc[s] ** n
                else:
                    reactants[i, dyn.index(s)] = n
            for s, n in r.products.items():
                if s in conc:
                    km *= conc[s] ** n
                else:
                    products[i, dyn.index(s)] = n
            k_plus[i], k_minus[i] = kp, km
        return Kinetics(dyn, tuple(r.name for r in self.reactions), reactants, products,
                        k_plus, k_minus)


_NETWORK_KEYS = {"species", "chemostats", "reactions", "composition"}
_REACTION_KEYS = {"equation", "rate", "backward"}


def parse_network(spec: Mapping[str, Any]) -> ReactionNetwork:
    """A :class:`ReactionNetwork` from its config form.

    The form (values are numbers or expressions in the study's parameters)::

        species:    {G: {mu0: 0}, L: {mu0: "dG0 / 2"}}
        chemostats: {Gx: {concentration: density, mu0: 0}}
        reactions:
          uptake: {equation: "Gx <-> G", rate: k_uptake}
          glycolysis: {equation: "G <-> 2 L", rate: "k * exp(drive / temperature)",
                       backward: k}
        composition: {G: {C: 6}, L: {C: 3}, Gx: {C: 6}}    # optional

    ``mu0`` defaults to 0. Unknown keys, malformed equations, undeclared species and
    imbalances raise :class:`ParameterError` naming the reaction; the expressions are checked
    by :meth:`ReactionNetwork.kinetics` (call it once with the study's parameters to
    validate before any job runs).
    """
    _reject_unknown(spec, _NETWORK_KEYS, "network")
    species = {}
    for s, entry in _as_mapping(spec.get("species", {}), "species").items():
        entry = {} if entry is None else _as_mapping(entry, f"species '{s}'")
        _reject_unknown(entry, {"mu0"}, f"species '{s}'")
        species[str(s)] = entry.get("mu0", 0.0)
    chemostats = {}
    for x, entry in _as_mapping(spec.get("chemostats", {}), "chemostats").items():
        entry = _as_mapping(entry, f"chemostat '{x}'")
        _reject_unknown(entry, {"concentration", "mu0"}, f"chemostat '{x}'")
        if "concentration" not in entry:
            raise ParameterError(f"chemostat '{x}': needs a concentration")
        chemostats[str(x)] = (entry["concentration"], entry.get("mu0", 0.0))
    reactions = []
    for name, entry in _as_mapping(spec.get("reactions", {}), "reactions").items():
        where = f"reaction '{name}'"
        entry = _as_mapping(entry, where)
        _reject_unknown(entry, _REACTION_KEYS, where)
        if "equation" not in entry or "rate" not in entry:
            raise ParameterError(f"{where}: needs 'equation' and 'rate'")
        reactants, products, reversible = parse_equation(str(entry["equation"]), where)
        reactions.append(Reaction(str(name), reactants, products, reversible, entry["rate"],
                                  entry.get("backward")))
    composition = spec.get("composition")
    if composition is not None:
        composition = {str(s): dict(_as_mapping(c, f"composition of '{s}'"))
                       for s, c in _as_mapping(composition, "composition").items()}
    return ReactionNetwork(species, chemostats, tuple(reactions), composition)


def validate_network(spec: Mapping[str, Any],
                     points: Iterable[Mapping[str, float]]) -> ReactionNetwork:
    """Parse ``spec`` and evaluate its rate constants at every parameter point.

    Meant to run before any job: the first bad reaction, expression or point raises one
    :class:`ParameterError` naming the reaction (and the point, when one is at fault).
    """
    network = parse_network(spec)
    for point in points:
        try:
            network.kinetics(point)
        except ParameterError as exc:
            raise ParameterError(f"at {dict(point)}: {exc}") from None
    return network


def _as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(f"{where}: expected a mapping, got {value!r}")
    return value


def _reject_unknown(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {sorted(unknown)}; "
                             f"allowed: {sorted(allowed)}")


# ---------------------------------------------------------------------- shared: σ
def flux_entropy_production(forward: np.ndarray, backward: np.ndarray) -> float:
    """Σ (J⁺ − J⁻) ln(J⁺/J⁻) over paired one-way fluxes; inf if a flux lacks its reverse."""
    forward, backward = np.asarray(forward, float), np.asarray(backward, float)
    both = (forward > 0) & (backward > 0)
    if np.any((forward > 0) != (backward > 0)):
        return math.inf
    f, b = forward[both], backward[both]
    return float(np.sum((f - b) * (np.log(f) - np.log(b))))


# ---------------------------------------------------------------------- deterministic form
NEWTON_MAXITER = 500  # Newton halves a root of k·x² per step: 180 steps for e^{-125}
NEWTON_RTOL = 1e-12  # on max |dc/dt| relative to the largest one-way rate
N_STARTS = 8  # Newton starts of deterministic_steady_states


@dataclass(frozen=True)
class SteadyState:
    """One deterministic steady state.

    ``eigenvalues`` are those of the Jacobian restricted to the stoichiometric subspace
    (1/time); ``gap`` = −max Re of them; ``residual`` = max |dc/dt|.
    """

    concentrations: np.ndarray
    eigenvalues: np.ndarray
    stable: bool
    gap: float
    residual: float


@dataclass(frozen=True)
class DeterministicResult:
    """All distinct steady states found, stable ones first (then by gap, largest first)."""

    states: tuple[SteadyState, ...]
    status: str

    @property
    def n_stable(self) -> int:
        """Number of distinct stable steady states found (≥ 2: multistability)."""
        return sum(s.stable for s in self.states)


def deterministic_steady_states(kin: Kinetics, initial: np.ndarray, n_starts: int = N_STARTS,
                                seed: int = 0,
                                extra_starts: Iterable[np.ndarray] = ()) -> DeterministicResult:
    """Steady states of dc/dt = Sᵀ (v⁺ − v⁻) in the compatibility class of ``initial``.

    Damped Newton (backtracking on ‖F‖₂, steps kept inside c ≥ 0) on
    F(c) = (Qᵀ dc/dt, Lc − Lc₀), where Q spans the stoichiometric subspace and the rows of
    L the conservation laws, from ``initial``, from (n_starts − 1)//2 multiples of it
    (geometric, 0.1 … 10) and from random starts (log-uniform over 10⁻² … 10² × the scale
    of ``initial``), ``n_starts`` in all, and from ``extra_starts`` (e.g. the end point of a
    continuation, :func:`continue_steady_state`). If Newton fails from ``initial`` it is
    retried from the end point of the ODE integrated over ``RELAX_TIME``/k_max (LSODA).
    Distinct solutions (relative distance > 1e-6) are kept.

    Parameters
    ----------
    kin : Kinetics
    initial : ndarray, shape (d,)
        Start and, through the conservation laws, the totals (c°).
    n_starts : int
    seed : int
        Seed of the random starts.
    extra_starts : iterable of ndarray, shape (d,)
        Further starts, tried after the others.
    """
    stoich, q, laws = _class_geometry(kin)
    totals = laws @ initial
    rng = np.random.default_rng(seed)
    initial = np.asarray(initial, float)
    scale = max(float(np.max(initial)), 1.0)
    n_scaled = (n_starts - 1) // 2
    starts = ([initial] + [f * initial for f in np.geomspace(0.1, 10.0, n_scaled)]
              + [scale * 10.0 ** rng.uniform(-2, 2, size=len(initial))
                 for _ in range(n_starts - 1 - n_scaled)]
              + [np.asarray(c, float) for c in extra_starts])
    found: list[SteadyState] = []
    for n, start in enumerate(starts):
        c = _newton(kin, stoich, q, laws, totals, start)
        if c is None and n == 0:
            c = _newton(kin, stoich, q, laws, totals, _relax(kin, start))
        if c is None or any(np.linalg.norm(c - s.concentrations) <= 1e-6 *
                            (1 + np.linalg.norm(c)) for s in found):
            continue
        lam = _restricted_eigenvalues(kin, stoich, c)
        gap = float(-np.max(lam.real)) if lam.size else math.nan
        vp, vm = kin.one_way_rates(c)
        found.append(SteadyState(c, lam, bool(gap > 0), gap,
                                 float(np.max(np.abs(stoich @ (vp - vm))))))
    found.sort(key=lambda s: (not s.stable, -s.gap))
    status = "ok" if found else f"no steady state found from {n_starts} starts"
    return DeterministicResult(tuple(found), status)


def _class_geometry(kin: Kinetics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sᵀ (d, R), an orthonormal basis Q of its range, and the conservation laws L (rows)."""
    stoich = kin.stoichiometry.T.astype(float)
    return stoich, scipy.linalg.orth(stoich), scipy.linalg.null_space(stoich.T).T


CONTINUATION_HALVINGS = 6  # a continuation step is halved at most this often before a jump


def continue_steady_state(network: ReactionNetwork, params: Mapping[str, Any], parameter: str,
                          start: float, steps: int, initial: np.ndarray,
                          reached: Sequence[tuple[float, np.ndarray]] = ()
                          ) -> tuple[np.ndarray, list[tuple[float, np.ndarray]], int]:
    """Stable steady state at ``params`` reached by a quasi-static sweep of ``parameter``.

    Natural-parameter continuation: at ``parameter = start`` the multi-start solution
    (:func:`deterministic_steady_states`, stable states first, then the largest gap; choose
    a start where the steady state is unique, e.g. drive = 0, where detailed balance gives one
    equilibrium per compatibility class), then ``steps`` equal steps to
    ``params[parameter]``, Newton from the previous state at each. A step that fails or
    lands on an unstable state is halved up to ``CONTINUATION_HALVINGS`` times; past that the
    followed branch has ended (a fold) and the state relaxes along the mass-action ODE to the
    attractor it falls into, as in a slow experimental sweep. So sweeping up and down a
    bistable range follows the two branches of the hysteresis loop. ``initial`` fixes the
    conserved totals all along the path.

    ``reached``: the (value, state) pairs of a sweep from the same ``start`` with the same
    other parameters and totals (a neighbouring point's, as returned here). The sweep
    resumes from the one between ``start`` and the target nearest the target, with the
    same step (target − start)/steps, instead of walking from ``start`` again: both walks
    pass through that value on the branch followed from ``start``. Without such a pair it
    starts at ``start``.

    Returns
    -------
    c : ndarray, shape (d,)
        The state at the target.
    visited : list of (float, ndarray)
        The sweep's (value, state) pairs from ``start`` to the target (the ``reached`` of a
        next point).
    solves : int
        Newton solves spent (the multi-start at ``start`` counts its starts).

    Raises
    ------
    ParameterError
        If a rate expression is invalid somewhere on the path (naming the reaction).
    RuntimeError
        If no steady state is found at ``start`` (recorded as a failed point).
    """
    target = float(params[parameter])
    full = (target - start) / max(steps, 1)
    low, high = min(start, target), max(start, target)
    # distance from start along the sweep: the pairs up to the target, the farthest last
    visited = sorted((pair for pair in reached if low <= pair[0] <= high),
                     key=lambda pair: abs(pair[0] - start))
    solves = 0
    if not visited:
        first = deterministic_steady_states(network.kinetics({**params, parameter: start}),
                                            initial)
        if not first.states:
            raise RuntimeError(f"continuation: no steady state at {parameter} = {start:g}")
        visited, solves = [(float(start), first.states[0].concentrations)], N_STARTS
    value, c = visited[-1]
    h = full
    while value != target:
        solves += 1
        nxt = target if abs(target - value) <= abs(h) * (1 + 1e-12) else value + h
        kin = network.kinetics({**params, parameter: nxt})
        stoich, q, laws = _class_geometry(kin)
        totals = laws @ initial
        new = _newton(kin, stoich, q, laws, totals, c)
        stable = new is not None and bool(
            np.max(_restricted_eigenvalues(kin, stoich, new).real, initial=-np.inf) < 0)
        if not stable and abs(h) * 2**CONTINUATION_HALVINGS > abs(full):
            h /= 2
            continue
        if not stable:  # the branch ended: fall into the attractor below
            relaxed = _relax(kin, c)
            new = _newton(kin, stoich, q, laws, totals, relaxed)
            new = relaxed if new is None else new
        c, value, h = new, nxt, math.copysign(min(2 * abs(h), abs(full)), full)
        visited.append((value, c))
    return c, visited, solves


def detailed_balance(kin: Kinetics) -> bool:
    """Whether the network satisfies detailed balance (Wegscheider's condition).

    True iff every present reaction is reversible and θ = ln(k⁺/k⁻) (effective constants,
    chemostats included) lies in the range of the stoichiometric matrix S (rows ν_ρ), i.e.
    θ = S ln c* for some concentrations c*: then v⁺ = v⁻ for every reaction at c*, every
    steady-state current and σ vanish, deterministic and stochastic. Tolerance 1e-12 relative
    to max(1, max |θ|).
    """
    present = (kin.k_plus > 0) | (kin.k_minus > 0)
    if np.any((kin.k_plus[present] > 0) != (kin.k_minus[present] > 0)):
        return False
    theta = np.log(kin.k_plus[present]) - np.log(kin.k_minus[present])
    s = kin.stoichiometry[present].astype(float)
    fit = s @ np.linalg.lstsq(s, theta, rcond=None)[0]
    return bool(np.max(np.abs(theta - fit), initial=0.0)
                <= 1e-12 * max(1.0, float(np.max(np.abs(theta), initial=0.0))))


def _restricted_eigenvalues(kin: Kinetics, stoich: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Eigenvalues of the Jacobian on the stoichiometric subspace, in log-scaled coordinates.

    With D = diag(c) (1 where c = 0), J̃ = D⁻¹ J D has the spectrum of J but entries
    J_ij c_j/c_i of comparable size even when concentrations and rate constants span many
    decades (measured: unscaled, a rate ratio e^{500} gave a spurious eigenvalue +1e77).
    J̃ maps into D⁻¹ range(S), spanned by the first r = rank S (of the unscaled integer
    matrix: scaling would fool a numerical rank) left singular vectors Q̃ of D⁻¹ S.
    """
    rank = np.linalg.matrix_rank(stoich)
    scale = np.where(c > 0, c, 1.0)
    scaled = kin.jacobian(c) * scale[None, :] / scale[:, None]
    if rank == len(c):
        return np.linalg.eigvals(scaled)
    q = scipy.linalg.svd(stoich / scale[:, None], full_matrices=False)[0][:, :rank]
    return np.linalg.eigvals(q.T @ scaled @ q)


RELAX_TIME = 1e6  # in units of 1/(largest rate constant)
# Right-hand-side evaluations of one _relax integration; beyond, the last state reached is
# the start (a stiff or overflowing system, e.g. concentrations of 1e300, otherwise
# integrates for ever). A converging relaxation takes a few thousand.
RELAX_MAX_EVALS = 50_000


class _RelaxBudget(Exception):
    """The ODE used up RELAX_MAX_EVALS right-hand-side evaluations."""


def _relax(kin: Kinetics, c: np.ndarray) -> np.ndarray:
    """End point of the mass-action ODE (LSODA) over RELAX_TIME: a start near a stable state.

    At most ``RELAX_MAX_EVALS`` right-hand-side evaluations; then the last state seen."""
    stoich = kin.stoichiometry.T
    last, count = [np.asarray(c, float)], [0]

    def rhs(_: float, x: np.ndarray) -> np.ndarray:
        count[0] += 1
        if count[0] > RELAX_MAX_EVALS:
            raise _RelaxBudget
        last[0] = x
        vp, vm = kin.one_way_rates(np.maximum(x, 0.0))
        return stoich @ (vp - vm)

    t_end = RELAX_TIME / max(float(np.max(np.concatenate((kin.k_plus, kin.k_minus)))), 1e-300)
    try:
        sol = solve_ivp(rhs, (0.0, t_end), c, method="LSODA", rtol=1e-8, atol=1e-12)
    except _RelaxBudget:
        return np.maximum(last[0], 0.0)
    return np.maximum(sol.y[:, -1], 0.0)


def _newton(kin: Kinetics, stoich: np.ndarray, q: np.ndarray, laws: np.ndarray,
            totals: np.ndarray, c: np.ndarray) -> np.ndarray | None:
    def residual(x: np.ndarray) -> np.ndarray:
        vp, vm = kin.one_way_rates(x)
        return np.concatenate((q.T @ (stoich @ (vp - vm)), laws @ x - totals))

    for _ in range(NEWTON_MAXITER):
        f = residual(c)
        vp, vm = kin.one_way_rates(c)
        jac = np.vstack((q.T @ kin.jacobian(c), laws))
        try:
            step = np.linalg.solve(jac, -f)
        except np.linalg.LinAlgError:
            return None
        if np.max(np.abs(f)) <= NEWTON_RTOL * max(np.max(vp + vm), 1e-300):
            # One polishing step, kept if it does not make things worse.
            polished = c + step
            if np.all(polished >= 0) and (np.max(np.abs(residual(polished)))
                                          <= np.max(np.abs(f))):
                return polished
            return c
        shrink = step < 0
        alpha = min(1.0, 0.99 * float(np.min(c[shrink] / -step[shrink]))) if shrink.any() else 1.0
        norm = np.linalg.norm(f)  # the Newton step descends the 2-norm, not the max norm
        while alpha > 1e-10 and np.linalg.norm(residual(c + alpha * step)) >= norm:
            alpha *= 0.5
        if alpha <= 1e-10:
            return None
        c = np.maximum(c + alpha * step, 0.0)
    return None


# ---------------------------------------------------------------------- stochastic form
CAP_SIGMAS = 6.0  # initial cap: mean + CAP_SIGMAS √mean + CAP_MARGIN
CAP_MARGIN = 10
CAP_GROWTH = 1.5


@dataclass(frozen=True)
class CMEResult:
    """Stationary chemical master equation on a truncated copy-number space.

    Attributes
    ----------
    states : ndarray of int, shape (n, d)
    probabilities : ndarray, shape (n,)
    mean : ndarray, shape (d,)
        ⟨n⟩/Ω, comparable with deterministic concentrations (c°).
    forward_flux, backward_flux : ndarray, shape (R,)
        Stationary one-way reaction rates per volume, ⟨a⁺⟩/Ω and ⟨a⁻⟩/Ω (c°/time).
    entropy_production : float
        σ per volume (k_B/time per c°-volume), module docstring.
    gap : float
        Spectral gap of the CME generator (1/time); NaN for a single state.
    boundary_probability : float
        Stationary probability of states with a transition cut by the box.
    caps : ndarray of int, shape (d,)
    residual : float
    status : str
    """

    states: np.ndarray
    probabilities: np.ndarray
    mean: np.ndarray
    forward_flux: np.ndarray
    backward_flux: np.ndarray
    entropy_production: float
    gap: float
    boundary_probability: float
    caps: np.ndarray
    residual: float
    status: str


def solve_cme(kin: Kinetics, volume: float, initial: np.ndarray, tol: float = 1e-8,
              max_states: int = 200_000, gap: bool = True,
              typical: np.ndarray | None = None) -> CMEResult:
    """Stationary CME reachable from copy numbers ``initial``, truncation grown to ``tol``.

    Caps start at m + 6√m + 10 and floors at m − 6√m − 10 (at least 0, at most ``initial``)
    with m the larger of ``initial`` and ``typical`` (typical copy numbers, e.g. Ω times the
    mass-action steady state; default ``initial``); their distances from m grow by ×1.5
    until the boundary probability is ≤ ``tol``; if the next space would exceed
    ``max_states`` the last solution is returned with a status saying so. ``gap=False``
    skips the spectrum.

    Raises
    ------
    RuntimeError
        If already the first box holds more than ``max_states`` states (recorded by
        :func:`ness_core.evaluate` as a failed point).
    """
    start = np.asarray(initial, dtype=np.int64)
    m = start if typical is None else np.maximum(start, np.asarray(typical, dtype=np.int64))
    caps = np.ceil(m + CAP_SIGMAS * np.sqrt(m) + CAP_MARGIN).astype(np.int64)
    # floors keep the far lower tail out: probabilities below 1e-300 there (e.g. zero copies
    # of a species held near 500) would underflow and spoil the solve
    floors = np.minimum(start, np.maximum(0, np.floor(m - CAP_SIGMAS * np.sqrt(m) - CAP_MARGIN)
                                          ).astype(np.int64))
    result, gen = None, None
    while True:
        states = _reachable(kin, start, floors, caps, max_states)
        if states is None:
            if result is None:
                raise RuntimeError(f"CME: more than max_states = {max_states} states needed")
            return replace(_with_gap(result, gen, gap),
                           status=f"truncation limit: {max_states} states")
        gen = None  # the smaller box's LU, freed before the next one is factorised
        result, gen = _solve_on(kin, volume, states, floors, caps, _start(states, m, result))
        if result.status != "ok" or result.boundary_probability <= tol:
            return _with_gap(result, gen, gap)
        caps = np.ceil(caps * CAP_GROWTH).astype(np.int64)
        floors = np.maximum(0, m - np.ceil((m - floors) * CAP_GROWTH)).astype(np.int64)


def _start(states: np.ndarray, typical: np.ndarray, previous: CMEResult | None) -> np.ndarray:
    """Where the stationary solve pins p_r = 1: the previous (smaller) box's solution carried
    over to ``states``, or at the first box an indicator of the state nearest ``typical``.

    Pinning the state of least exit rate instead (the generator's default) can put r so far
    out in a tail (e.g. no copies of a species held near 40) that neither that pin nor the
    generator's own mode estimate gives an accurate solve.
    """
    p = np.zeros(len(states))
    if previous is None:
        p[np.argmin(np.abs(states - typical).sum(axis=1))] = 1.0
        return p
    stride = np.cumprod(np.concatenate(([1], states.max(axis=0)[:-1] + 1)))
    keys = states @ stride
    order = np.argsort(keys)
    at = order[np.searchsorted(keys, previous.states @ stride, sorter=order)]
    p[at] = previous.probabilities
    return p


def _propensity(kin: Kinetics, volume: float, states: np.ndarray, forward: bool) -> np.ndarray:
    """a(n) for every reaction, shape (n_states, R)."""
    order = kin.reactants if forward else kin.products
    k = kin.k_plus if forward else kin.k_minus
    a = np.broadcast_to(k * volume, (len(states), len(k))).copy()
    for s in range(states.shape[1]):
        for j in range(int(order[:, s].max(initial=0))):
            a *= np.where(order[:, s] > j, np.maximum(states[:, [s]] - j, 0) / volume, 1.0)
    return a


def _reachable(kin: Kinetics, start: np.ndarray, floors: np.ndarray, caps: np.ndarray,
               max_states: int) -> np.ndarray | None:
    """States reachable from ``start`` inside the box (breadth first), sorted by key."""
    stride = np.cumprod(np.concatenate(([1], caps[:-1] + 1)))
    jumps = np.vstack((kin.stoichiometry, -kin.stoichiometry))
    needs = np.vstack((kin.reactants, kin.products))
    live = np.concatenate((kin.k_plus > 0, kin.k_minus > 0))
    jumps, needs = jumps[live], needs[live]
    seen = {int(start @ stride)}
    frontier = start[None, :]
    found = [frontier]
    while len(frontier):
        can = np.all(frontier[:, None, :] >= needs[None, :, :], axis=2)
        nxt = (frontier[:, None, :] + jumps[None, :, :])[can]
        nxt = nxt[np.all((nxt >= floors) & (nxt <= caps), axis=1)]
        keys, first = np.unique(nxt @ stride, return_index=True)
        new = np.array([k not in seen for k in keys.tolist()], dtype=bool)
        seen.update(keys[new].tolist())
        frontier = nxt[first[new]]
        found.append(frontier)
        if len(seen) > max_states:
            return None
    states = np.vstack(found)
    return states[np.argsort(states @ stride)]


def _with_gap(result: CMEResult, gen: MarkovGenerator, want_gap: bool) -> CMEResult:
    """``result`` with the gap of its generator ``gen`` (NaN unless wanted and solved).

    Only the box that is kept gets a spectrum: the smaller boxes before it are solved for
    their boundary probability alone. ``gen`` still holds the LU of the stationary solve,
    which the shift-invert Arnoldi reuses.
    """
    if not want_gap or len(result.states) < 2 or result.status != "ok":
        return result
    return replace(result, gap=gen.spectral_gap().gap)


def _solve_on(kin: Kinetics, volume: float, states: np.ndarray, floors: np.ndarray,
              caps: np.ndarray, start: np.ndarray) -> tuple[CMEResult, MarkovGenerator]:
    """The stationary CME on ``states`` (reachable, inside floors..caps), gap NaN, and its
    generator; ``start`` an approximation of p on them, as in
    :meth:`MarkovGenerator.stationary`."""
    stride = np.cumprod(np.concatenate(([1], caps[:-1] + 1)))
    keys = states @ stride
    n, n_r = len(states), len(kin.reactions)
    a_plus = _propensity(kin, volume, states, True)
    a_minus = _propensity(kin, volume, states, False)
    # Pair (i, target) per reaction: forward n -> n + ν from i, backward from target.
    src, tgt, rate, pair_src, pair_tgt, pair_r = [], [], [], [], [], []
    cut = np.zeros(n, dtype=bool)
    for r in range(n_r):
        dest = states + kin.stoichiometry[r]
        inside = np.all((dest >= floors) & (dest <= caps), axis=1)
        cut |= ~inside & (a_plus[:, r] > 0)
        back = states - kin.stoichiometry[r]
        cut |= ~np.all((back >= floors) & (back <= caps), axis=1) & (a_minus[:, r] > 0)
        i = np.flatnonzero(inside)
        j = np.searchsorted(keys, dest[i] @ stride)
        ok = (j < n) & (keys[np.minimum(j, n - 1)] == dest[i] @ stride)
        i, j = i[ok], j[ok]
        pair_src.append(i)
        pair_tgt.append(j)
        pair_r.append(np.full(len(i), r))
        src += [i, j]
        tgt += [j, i]
        rate += [a_plus[i, r], a_minus[j, r]]
    src, tgt, rate = np.concatenate(src), np.concatenate(tgt), np.concatenate(rate)
    gen = MarkovGenerator(n, src, tgt, rate)
    state = gen.stationary(method="direct", start=start)
    p, residual, status = state.probabilities, state.residual, state.status
    i, j, r = (np.concatenate(x) for x in (pair_src, pair_tgt, pair_r))
    forward = p[i] * a_plus[i, r]
    backward = p[j] * a_minus[j, r]
    return CMEResult(
        states=states, probabilities=p, mean=p @ states / volume,
        forward_flux=np.bincount(r, forward, minlength=n_r) / volume,
        backward_flux=np.bincount(r, backward, minlength=n_r) / volume,
        entropy_production=flux_entropy_production(forward, backward) / volume,
        gap=math.nan, boundary_probability=float(p[cut].sum()), caps=caps,
        residual=residual, status=status), gen


# ---------------------------------------------------------------------- stochastic: dispatch
STOCHASTIC_METHODS = ("auto", "cme", "gillespie")
# Outputs every network model reports about how its steady state was found.
SOLVER_DIAGNOSTICS = (
    Observable("n_stable", "1", "number of stable deterministic steady states found"),
    Observable("boundary_probability", "1", "CME probability on the truncation boundary"),
    Observable("n_states", "1", "CME truncated state-space size"),
    Observable("current_error", "c°/time", "standard error of the simulated current"),
    Observable("entropy_production_error", "k_B/(time c°^-1)",
               "standard error of the simulated entropy production"),
)
GILLESPIE_SECONDS_PER_EVENT = 2.5e-7  # small networks, one core (benchmarks/networks.py)


def cme_seconds(n_states: float, n_species: int) -> float:
    """Rough wall time of :func:`solve_cme` (stationary state and gap) on ``n_states`` states.

    Sparse LU fill-in grows with the lattice dimension: measured (benchmarks/networks.py,
    one core) 2.2 s at 3·10⁴ and 15 s at 1.4·10⁵ states for two species, 2.3 s at 1.2·10⁴
    and 63 s at 4.1·10⁴ for three; fitted by 2e-5 s·n·(n/10⁴)^½ (d ≤ 2) and
    2e-4 s·n·(n/10⁴) (d ≥ 3) above 10⁴ states.
    """
    if n_species <= 2:
        return 2e-5 * n_states * max(1.0, n_states / 1e4) ** 0.5
    return 2e-4 * n_states * max(1.0, n_states / 1e4)


@dataclass(frozen=True)
class StochasticSteadyState:
    """Stationary CME quantities from the truncated CME or from Gillespie simulation.

    ``method`` is ``"cme"`` or ``"gillespie"``. Errors are standard errors of the simulation
    (NaN for the CME, whose error is the truncation: ``boundary_probability``). ``gap`` is
    NaN for simulation (not estimated), ``n_states`` NaN for simulation; the residual of a
    simulation is 0 (it solves no equation). Fields as in :class:`CMEResult`.
    """

    method: str
    mean: np.ndarray
    mean_error: np.ndarray
    forward_flux: np.ndarray
    backward_flux: np.ndarray
    net_flux_error: np.ndarray
    entropy_production: float
    entropy_production_error: float
    gap: float
    boundary_probability: float
    n_states: float
    residual: float
    status: str


def stochastic_steady_state(kin: Kinetics, volume: float, start: np.ndarray,
                            typical: np.ndarray, method: str = "auto", tol: float = 1e-8,
                            max_states: int = 200_000, seed: int = 0,
                            events: int = 1_000_000) -> StochasticSteadyState:
    """The stationary chemical master equation by the method named ``method``.

    ``cme``: :func:`solve_cme` from copy numbers ``start`` (its conserved totals are the
    CME's), box around ``typical``. ``gillespie``: :func:`ness_core.solvers.gillespie.simulate`
    with ``events`` recorded events and ``seed``, started from ``typical`` when the network has
    no conservation law and from ``start`` otherwise. ``auto``: the CME when its truncation
    reaches ``tol`` within ``max_states`` states, else Gillespie.
    """
    if method not in STOCHASTIC_METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(STOCHASTIC_METHODS)}")
    if method != "gillespie":
        try:
            cme = solve_cme(kin, volume, start, tol=tol, max_states=max_states, typical=typical)
        except RuntimeError:
            if method == "cme":
                raise
            cme = None
        if cme is not None and (method == "cme" or not cme.status.startswith("truncation")):
            n_r = len(kin.reactions)
            return StochasticSteadyState(
                "cme", cme.mean, np.full(len(cme.mean), math.nan), cme.forward_flux,
                cme.backward_flux, np.full(n_r, math.nan), cme.entropy_production, math.nan,
                cme.gap, cme.boundary_probability, float(len(cme.states)), cme.residual,
                cme.status)
    from ness_core.solvers.gillespie import simulate

    conserved = scipy.linalg.null_space(kin.stoichiometry.astype(float)).shape[1] > 0
    run = simulate(kin.reactants, kin.products, kin.k_plus, kin.k_minus, volume,
                   start if conserved else typical, events, seed=seed)
    return StochasticSteadyState(
        "gillespie", run.mean, run.mean_error, run.forward_flux, run.backward_flux,
        run.net_flux_error, run.entropy_production, run.entropy_production_error, math.nan,
        math.nan, math.nan, 0.0, run.status)
