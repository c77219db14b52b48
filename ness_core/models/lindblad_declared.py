"""A Lindblad model declared in a config: ``model: lindblad`` with a ``lindblad:`` block.

The block (operators are sums of products of site operators, :mod:`ness_core.operators`;
coefficients and rates are arithmetic in the declared parameters; nothing is ``eval``-ed)::

    lindblad:
      parameters: {J: 1.0, h: 0.0, g_in: 1.0, g_out: 1.0}
      sites: {s1: spin, s2: spin}          # or {boson: 12}: a, ad, n on 12 Fock levels
      hamiltonian: "J * (s1.sp * s2.sm + s1.sm * s2.sp) + h * s1.sz"
      jumps:                                # L = sqrt(rate) * operator
        pump: {operator: "s1.sp", rate: "g_in"}
        loss: {operator: "s2.sm", rate: "g_out"}
      current: loss                         # default: the first jump
      observables: {magnetisation: "s1.sz + s2.sz"}   # optional

Conventions (ħ = k_B = 1) are those of :mod:`ness_core.solvers.lindblad`:
dρ/dt = −i[H, ρ] + Σ_k (L_k ρ L_k† − ½{L_k†L_k, ρ}), L_k = √rate_k · O_k, solved on the whole
space (no symmetry blocks): steady state and gap by sparse LU, dense below 300 elements.

Observables: ``current`` = rate·⟨O†O⟩, the count rate of the ``current`` jump; ``gap`` and
``gap_imag`` of the slowest Liouvillian mode; ``expectation_<name>`` = Re Tr(O ρ) for every
declared observable (the expectation value for Hermitian O); with ``fluctuations=true`` the
scaled variance, Fano factor and TUR ratio of the number of the current's jumps
(:func:`ness_core.solvers.lindblad_observables.current_cumulants`).

``entropy_production`` (Spohn 1978): a jump may declare its thermal bath,
``bath: {temperature: T, partner: <the reverse jump>}`` (the partner may be omitted, e.g. at
T = 0 where the absorbing jump has rate 0; it belongs to the same bath). When every jump
belongs to a bath, σ = −Σ_b Tr(H D_b[ρ]) / T_b, D_b the dissipator of bath b's jumps, which
is ≥ 0 when each D_b has the Gibbs state e^{−H/T_b}/Z as its fixed point (detailed balance
with respect to H). Otherwise σ is NaN: the reason is in the variable's ``long_name`` when
jumps declare no bath, and in ``note`` at a point where a bath's dissipator does not fix its
Gibbs state (a local master equation, say). At T_b = 0 the Gibbs state is the (normalised)
projector on the ground space of H and a heat flow gives σ = inf.

Refused before any job, as ``config error:`` lines naming the study: unknown sites or
operators, hostile expressions, a Hilbert space above ``MAX_DIMENSION`` states (and, by the
memory estimate, one whose Liouvillian exceeds the memory limit), a Hamiltonian that is not
Hermitian at a sweep point, negative rates or temperatures.

References: H. Spohn, J. Math. Phys. 19, 1227 (1978); H.-P. Breuer and F. Petruccione,
*The Theory of Open Quantum Systems* (2002), ch. 3.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ness_core.errors import ParameterError
from ness_core.expressions import canonical_expression, evaluate_expression
from ness_core.model import Observable, fluctuation_observables
from ness_core.models.declared import (
    DeclaredModel,
    declared_parameters,
    identifier,
    mapping,
    model_name,
    parameters_block,
    reject_unknown,
)
from ness_core.operators import (
    ADJOINT,
    OperatorSpace,
    build_operator,
    check_operator_expression,
    parse_site,
)
from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_observables import (
    current_cumulants,
    dissipator_flow,
    entropy_production,
    expectation,
    thermal_affinity,
)
from ness_core.solvers.lindblad_spectrum import spectral_gap
from ness_core.solvers.lindblad_steady_state import steady_state
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.status import combine

BLOCK_KEYS = {"parameters", "sites", "hamiltonian", "jumps", "current", "observables"}
JUMP_KEYS = {"operator", "rate", "bath"}
BATH_KEYS = {"temperature", "partner"}
# Largest Hilbert space: its Liouvillian has MAX_DIMENSION² = 1.7e7 elements, far beyond a
# sparse LU on any machine (memory_estimate: ~30 TB); the memory limit refuses less.
MAX_DIMENSION = 4096
HERMITIAN_RTOL = 1e-12  # max |H − H†| relative to max(1, max |H|)
GIBBS_RTOL = 1e-9  # max |D_b[Gibbs]| relative to the bath's largest rate × max(1, max |H|)


def normalize(block: Any) -> dict[str, Any]:
    """The canonical form of a ``lindblad:`` block (module docstring).

    Raises :class:`ParameterError` naming the key at fault: unknown keys, malformed sites,
    a space above ``MAX_DIMENSION`` states, unknown sites, operators or names in an
    operator expression, hostile or unreadable expressions, no jump, a current or bath
    partner that is not a jump, or partners that disagree.
    """
    block = mapping(block, "lindblad")
    reject_unknown(block, BLOCK_KEYS, "lindblad", {"sites", "hamiltonian", "jumps"})
    sites = {}
    for name, entry in mapping(block["sites"], "lindblad, sites").items():
        sites[name] = parse_site(identifier(name, "lindblad, site"), entry,
                                 f"lindblad, site '{name}'")
    if not sites:
        raise ParameterError("lindblad, sites: declare at least one site")
    dimension = math.prod(s.levels for s in sites.values())
    if dimension > MAX_DIMENSION:
        raise ParameterError(f"lindblad, sites: the Hilbert space has {dimension} states, "
                             f"more than {MAX_DIMENSION} (a Liouvillian of {dimension}² "
                             "elements exceeds any memory)")
    parameters = parameters_block(block.get("parameters"), {"fluctuations", ADJOINT, *sites})
    names = set(parameters)

    def operator(text: Any, where: str) -> str:
        return check_operator_expression(text, sites, names, where)

    spec: dict[str, Any] = {
        "parameters": parameters,
        "sites": {n: "spin" if s.kind == "spin" else {"boson": s.levels}
                  for n, s in sites.items()},
        "hamiltonian": operator(block["hamiltonian"], "lindblad, hamiltonian"),
    }
    jumps = {}
    for name, entry in mapping(block["jumps"], "lindblad, jumps").items():
        where = f"lindblad, jump '{identifier(name, 'jump')}'"
        entry = mapping(entry, where)
        reject_unknown(entry, JUMP_KEYS, where, {"operator", "rate"})
        jumps[name] = {"operator": operator(entry["operator"], f"{where}, operator"),
                       "rate": canonical_expression(entry["rate"], f"{where}, rate")}
        if entry.get("bath") is not None:
            bath = mapping(entry["bath"], f"{where}, bath")
            reject_unknown(bath, BATH_KEYS, f"{where}, bath", {"temperature"})
            jumps[name]["bath"] = {"temperature": canonical_expression(
                bath["temperature"], f"{where}, bath, temperature")}
            if bath.get("partner") is not None:
                jumps[name]["bath"]["partner"] = bath["partner"]
    if not jumps:
        raise ParameterError("lindblad, jumps: declare at least one jump (without one the "
                             "steady state is not unique)")
    _check_partners(jumps)
    spec["jumps"] = jumps
    current = block.get("current") or next(iter(jumps))
    if current not in jumps:
        raise ParameterError(f"lindblad, current: {current!r} is not a jump; jumps: "
                             f"{', '.join(jumps)}")
    spec["current"] = current
    spec["observables"] = {identifier(n, "lindblad, observable"):
                           operator(text, f"lindblad, observable '{n}'")
                           for n, text in mapping(block.get("observables"),
                                                  "lindblad, observables").items()}
    return spec


def _check_partners(jumps: dict[str, Any]) -> None:
    """A partner is another jump; two jumps that name each other agree on the temperature;
    no jump is the partner of two."""
    claimed: dict[str, str] = {}
    for name, jump in jumps.items():
        partner = jump.get("bath", {}).get("partner")
        if partner is None:
            continue
        where = f"lindblad, jump '{name}', bath, partner"
        if partner not in jumps or partner == name:
            raise ParameterError(f"{where}: {partner!r} is not another jump; jumps: "
                                 f"{', '.join(jumps)}")
        other = jumps[partner].get("bath")
        if other is not None and (other.get("partner", name) != name
                                  or other["temperature"] != jump["bath"]["temperature"]):
            raise ParameterError(f"{where}: jump '{partner}' declares another bath; partners "
                                 "name each other with the same temperature")
        if claimed.get(partner, name) != name:
            raise ParameterError(f"{where}: jump '{partner}' is already the partner of "
                                 f"'{claimed[partner]}'")
        claimed[partner] = name


def baths(spec: dict[str, Any]) -> list[tuple[str, str | float, list[str]]]:
    """(name, temperature, jumps) of every declared bath, named after its first jump."""
    out, seen = [], set()
    for name, jump in spec["jumps"].items():
        if "bath" not in jump or name in seen:
            continue
        members = [name] + ([jump["bath"]["partner"]] if "partner" in jump["bath"] else [])
        seen.update(members)
        out.append((name, jump["bath"]["temperature"], members))
    return out


def spohn_missing(spec: dict[str, Any]) -> str:
    """Why Spohn's formula does not apply to the block ("" if every jump has a bath)."""
    members = {j for _, _, js in baths(spec) for j in js}
    lacking = [j for j in spec["jumps"] if j not in members]
    return f"NaN: jump '{lacking[0]}' declares no bath" if lacking else ""


class DeclaredLindblad(DeclaredModel):
    """A Lindblad model declared in a config (module docstring)."""

    summary = "Lindblad master equation declared in the study's lindblad: block"

    @functools.cached_property
    def space(self) -> OperatorSpace:
        """The sites' tensor product, with their embedded operators cached."""
        return OperatorSpace(tuple(parse_site(n, e, n) for n, e in self.spec["sites"].items()))

    def operators(self, params: dict[str, Any]) -> tuple[sp.csr_matrix, dict[str, Any]]:
        """H and the jump operators L_k = √rate_k O_k by name (ParameterError naming the
        key on a non-Hermitian H, a negative rate or a bad coefficient)."""
        space = self.space
        h = build_operator(self.spec["hamiltonian"], space, params, "lindblad, hamiltonian")
        scale = max(1.0, float(np.max(np.abs(h.data), initial=0.0)))
        if np.max(np.abs((h - h.conj().T).data), initial=0.0) > HERMITIAN_RTOL * scale:
            raise ParameterError(f"lindblad, hamiltonian: {self.spec['hamiltonian']!r} is not "
                                 "Hermitian (add the Hermitian conjugate, e.g. + dag(...))")
        jumps = {}
        for name, jump in self.spec["jumps"].items():
            where = f"lindblad, jump '{name}'"
            rate = evaluate_expression(jump["rate"], params, f"{where}, rate")
            if rate < 0:
                raise ParameterError(f"{where}, rate: {rate:g} is negative")
            jumps[name] = math.sqrt(rate) * build_operator(jump["operator"], space, params,
                                                           f"{where}, operator")
        return h, jumps

    def temperatures(self, params: dict[str, Any]) -> list[float]:
        out = []
        for name, temperature, _ in baths(self.spec):
            where = f"lindblad, jump '{name}', bath, temperature"
            value = evaluate_expression(temperature, params, where)
            if value < 0:
                raise ParameterError(f"{where}: {value:g} is negative")
            out.append(value)
        return out

    def check(self, params: dict[str, Any]) -> None:
        """H Hermitian, rates and temperatures finite and ≥ 0, every coefficient evaluates."""
        self.operators(params)
        self.temperatures(params)
        for name, text in self.spec["observables"].items():
            build_operator(text, self.space, params, f"lindblad, observable '{name}'")

    equilibrium = ("none declared: where every bath's dissipator fixes one Gibbs state of H "
                   "at a common temperature, σ and the heat currents vanish")

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """MB of the sparse LU of the m = dim² Liouvillian: measured on driven spin chains
        (one core) 17 MB at m = 4096, 107 MB at 16384, 1.24 GB at 65536; bounded above by
        10 + 110 (m/16384)^1.8."""
        m = self.space.dimension ** 2
        return 10.0 + 110.0 * (m / 16384) ** 1.8

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Seconds: measured 0.14 s at m = 4096, 1.6 s at 16384, 23 s at 65536 elements."""
        m = self.space.dimension ** 2
        return 0.005 + 1.6 * (m / 16384) ** 1.9

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        h, jumps = self.operators(params)
        ops = {name: build_operator(text, self.space, params, f"lindblad, observable '{name}'")
               for name, text in self.spec["observables"].items()}
        out, rho = lindblad_outputs(h, list(jumps.values()),
                                    list(jumps).index(self.spec["current"]), ops,
                                    params["fluctuations"])
        out["entropy_production"], out["note"] = self._spohn(params, rho, h, jumps)
        out.update(current_fluctuations(out["current"], out.pop("variance"),
                                        out["entropy_production"]))
        return out

    def _spohn(self, params: dict[str, Any], rho: np.ndarray, h: sp.csr_matrix,
               jumps: dict[str, Any]) -> tuple[float, str]:
        """σ = −Σ_b Tr(H D_b[ρ]) / T_b and a note ("" or why σ is NaN here)."""
        if spohn_missing(self.spec):
            return math.nan, ""
        energies, vectors = scipy.linalg.eigh(h.toarray())
        scale = max(1.0, float(np.max(np.abs(energies))))
        heats, affinities = [], []
        for (name, _, members), temperature in zip(baths(self.spec),
                                                   self.temperatures(params), strict=True):
            ops = [jumps[m] for m in members]
            if temperature > 0:
                weights = np.exp(-(energies - energies.min()) / temperature)
            else:
                weights = (energies - energies.min() <= 1e-12 * scale).astype(float)
            gibbs = (vectors * (weights / weights.sum())) @ vectors.conj().T
            residual = sum(j @ gibbs @ j.conj().T - 0.5 * ((j.conj().T @ j) @ gibbs
                                                           + gibbs @ (j.conj().T @ j))
                           for j in ops)
            rate = max(float(np.max(abs(j.conj().T @ j).data, initial=0.0)) for j in ops)
            if np.max(np.abs(residual)) > GIBBS_RTOL * max(rate, 1e-300) * scale:
                return math.nan, (f"entropy_production NaN: bath '{name}' does not fix the "
                                  "Gibbs state of H (no detailed balance with respect to H)")
            heats.append(dissipator_flow(rho, h, ops))
            affinities.append(thermal_affinity(temperature))
        rates = max(float(np.max(abs(j.conj().T @ j).data, initial=0.0))
                    for j in jumps.values())
        return entropy_production(heats, affinities, atol=1e-12 * rates * scale), ""


def lindblad_outputs(h: sp.spmatrix, jumps: list[sp.spmatrix], counted: int,
                     observables: dict[str, sp.spmatrix], fluctuations: bool
                     ) -> tuple[dict[str, Any], np.ndarray]:
    """Observables of the NESS of H and jump operators ``jumps`` (rates included), and ρ.

    ``current`` = Tr(L ρ L†) of ``jumps[counted]``, ``gap``, ``gap_imag``,
    ``expectation_<name>`` = Re Tr(O ρ), ``variance`` (the count's scaled variance when
    ``fluctuations``, else NaN), ``residual``, ``status``.
    """
    liouvillian = Liouvillian(h, jumps)
    state = steady_state(liouvillian)
    spectrum = spectral_gap(liouvillian, steady=state)
    status = combine(state.status, spectrum.status)
    rho = state.rho
    jump = sp.csr_matrix(jumps[counted])
    variance = math.nan
    if fluctuations:
        counting = current_cumulants(liouvillian, state, [jump], [1.0])
        variance = counting.variance
        status = combine(status, counting.status)
    out = {"current": expectation(rho, jump.conj().T @ jump).real, "gap": spectrum.gap,
           "gap_imag": spectrum.imag, "variance": variance,
           **{f"expectation_{n}": expectation(rho, op).real for n, op in observables.items()},
           "residual": state.residual, "status": status}
    return out, rho


def lindblad_model(spec: dict[str, Any]) -> DeclaredLindblad:
    """The model of a normalised ``lindblad:`` block (one subclass per block)."""
    current = spec["current"]
    missing = spohn_missing(spec)
    observables = (
        Observable("current", "1/time", f"count rate rate·<O†O> of jump '{current}'"),
        Observable("entropy_production", "k_B/time", "Spohn entropy production rate "
                   "-Σ_b J_b/T_b" + (f" ({missing})" if missing else "")),
        Observable("gap", "1/time", "Liouvillian gap"),
        Observable("gap_imag", "1/time", "oscillation frequency of the slowest mode"),
        *(Observable(f"expectation_{n}", "1", f"Re Tr({text} ρ)")
          for n, text in spec["observables"].items()),
        *fluctuation_observables(f"count of jump '{current}'"),
    )
    cls = type("DeclaredLindblad", (DeclaredLindblad,), {
        "name": model_name("lindblad", spec), "parameters": declared_parameters(spec),
        "observables": observables, "spec": spec})
    return cls()
