"""A Markov jump process declared in a config: ``model: markov`` with a ``markov:`` block.

The block (rates are numbers or arithmetic in the declared parameters, read by
:mod:`ness_core.expressions`, never ``eval``)::

    markov:
      parameters: {k: 1.0, drive: 0.0}     # names the rate expressions may use
      states: [A, B, C, D]
      transitions:                          # name: from, to, forward and backward rate
        ab: {from: A, to: B, forward: "k * exp(drive / 2)", backward: "k * exp(-drive / 2)"}
        bc: {from: B, to: C, forward: "2 * k", backward: "0.5"}
      current: ab                           # default: the first transition

Conventions (k_B = 1, rates in 1/time) are those of :mod:`ness_core.solvers.markov`: the
generator W has W[j, i] = rate(i → j); each transition t adds the jump from → to at rate
k⁺_t and to → from at rate k⁻_t (0 allowed). At most one transition joins a pair of states.

Observables: ``current`` = J_t = k⁺_t p_from − k⁻_t p_to of the ``current`` transition;
``entropy_production`` (Schnakenberg) σ = Σ_t J_t ln(k⁺_t/k⁻_t) ≥ 0; ``gap`` = −Re λ₁ of W;
``probability_<state>``; with ``fluctuations=true`` the scaled variance, Fano factor and TUR
ratio of the net count of the current's from → to jumps
(:meth:`ness_core.solvers.markov.MarkovGenerator.current_cumulants`), NaN otherwise.

A transition with backward rate 0 that carries probability flux makes σ = inf, and the
point's ``status`` says which transition; a network in which not every state reaches every
other (reducible) is reported in ``status`` as well, beside the values computed.
Equilibrium: wherever the rates satisfy Kolmogorov's criterion (every cycle's affinity zero,
every transition reversible).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
from ness_core.solvers.markov import MarkovGenerator
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.status import combine

BLOCK_KEYS = {"parameters", "states", "transitions", "current"}
TRANSITION_KEYS = {"from", "to", "forward", "backward"}
MAX_STATES = 100_000


def normalize(block: Any) -> dict[str, Any]:
    """The canonical form of a ``markov:`` block (module docstring).

    Raises :class:`ParameterError` naming the key at fault: unknown keys, repeated or
    malformed state names, a transition from a state to itself, between undeclared states,
    or joining a pair another transition joins, unreadable rate expressions, or a current
    that is not a transition. Names and values in the rates are checked per parameter point
    by :meth:`DeclaredMarkov.check`.
    """
    block = mapping(block, "markov")
    reject_unknown(block, BLOCK_KEYS, "markov", {"states", "transitions"})
    states = block["states"]
    if not isinstance(states, list) or len(states) < 2 or len(states) > MAX_STATES:
        raise ParameterError(f"markov, states: expected a list of 2 to {MAX_STATES} state names")
    for s in states:
        identifier(s, "markov, state")
    if len(set(states)) != len(states):
        raise ParameterError("markov, states: repeated state names")
    parameters = parameters_block(block.get("parameters"), {"fluctuations"})
    transitions, pairs = {}, {}
    for name, entry in mapping(block["transitions"], "markov, transitions").items():
        where = f"markov, transition '{identifier(name, 'transition')}'"
        entry = mapping(entry, where)
        reject_unknown(entry, TRANSITION_KEYS, where, TRANSITION_KEYS)
        ends = (entry["from"], entry["to"])
        for end in ends:
            if end not in states:
                raise ParameterError(f"{where}: {end!r} is not a state; states: "
                                     f"{', '.join(states)}")
        if ends[0] == ends[1]:
            raise ParameterError(f"{where}: from and to are the same state")
        pair = frozenset(ends)
        if pair in pairs:
            raise ParameterError(f"{where}: joins the same states as transition "
                                 f"'{pairs[pair]}'; merge their rates into one transition")
        pairs[pair] = name
        transitions[name] = {"from": ends[0], "to": ends[1],
                             **{k: canonical_expression(entry[k], f"{where}, {k}")
                                for k in ("forward", "backward")}}
    if not transitions:
        raise ParameterError("markov, transitions: declare at least one transition")
    current = block.get("current") or next(iter(transitions))
    if current not in transitions:
        raise ParameterError(f"markov, current: {current!r} is not a transition; "
                             f"transitions: {', '.join(transitions)}")
    return {"parameters": parameters, "states": list(states), "transitions": transitions,
            "current": current}


class DeclaredMarkov(DeclaredModel):
    """A Markov jump process declared in a config (module docstring)."""

    summary = "Markov jump process declared in the study's markov: block"

    def rates(self, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
        """(from index, to index, k⁺, k⁻) per transition; ParameterError naming the
        transition for a rate that is not a finite number ≥ 0."""
        index = {s: i for i, s in enumerate(self.spec["states"])}
        src, tgt, fwd, bwd = [], [], [], []
        for name, t in self.spec["transitions"].items():
            src.append(index[t["from"]])
            tgt.append(index[t["to"]])
            for key, out in (("forward", fwd), ("backward", bwd)):
                where = f"markov, transition '{name}', {key}"
                value = evaluate_expression(t[key], params, where)
                if value < 0:
                    raise ParameterError(f"{where}: rate {value:g} is negative")
                out.append(value)
        return np.array(src), np.array(tgt), np.array(fwd), np.array(bwd)

    def check(self, params: dict[str, Any]) -> None:
        """Every rate evaluates to a finite number ≥ 0 at the point."""
        self.rates(params)

    equilibrium = ("where the rates satisfy Kolmogorov's criterion: every transition "
                   "reversible and every cycle's affinity zero")

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        src, tgt, fwd, bwd = self.rates(params)
        gen = _generator(len(self.spec["states"]), src, tgt, fwd, bwd)
        return bool(((fwd > 0) == (bwd > 0)).all() and gen.satisfies_kolmogorov())

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Dense spectrum O(n³) up to 256 states (~1 ms at 10), sparse LU above."""
        n = len(self.spec["states"])
        return 0.002 + 1e-8 * min(n, 256) ** 3 + 1e-5 * max(n - 256, 0)

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        src, tgt, fwd, bwd = self.rates(params)
        states = self.spec["states"]
        gen = _generator(len(states), src, tgt, fwd, bwd)
        state = gen.stationary()
        p = state.probabilities
        status = state.status
        if not gen.is_irreducible():
            status = combine(status, "reducible network: not every state reaches every other")
        current_index = list(self.spec["transitions"]).index(self.spec["current"])
        flux_fwd, flux_bwd = fwd * p[src], bwd * p[tgt]
        one_way = [name for name, f, b in zip(self.spec["transitions"], flux_fwd, flux_bwd,
                                              strict=True) if (f > 0) != (b > 0)]
        sigma = gen.entropy_production(p)
        if one_way:
            status = combine(status, f"entropy_production = inf: transition '{one_way[0]}' "
                             "carries flux one way only (a zero rate)")
        current = float(flux_fwd[current_index] - flux_bwd[current_index])
        gap = gen.spectral_gap().gap
        variance = math.nan
        if params["fluctuations"]:
            i, j = src[current_index], tgt[current_index]
            counting = gen.current_cumulants(gen.edge_weights([i, j], [j, i], [1.0, -1.0]),
                                             state)
            variance = counting.variance
            status = combine(status, counting.status)
        return {"current": current, "entropy_production": sigma, "gap": gap,
                **{f"probability_{s}": float(v) for s, v in zip(states, p, strict=True)},
                **current_fluctuations(current, variance, sigma),
                "residual": state.residual, "status": status}


def _generator(n: int, src: np.ndarray, tgt: np.ndarray, fwd: np.ndarray,
               bwd: np.ndarray) -> MarkovGenerator:
    return MarkovGenerator(n, np.concatenate((src, tgt)), np.concatenate((tgt, src)),
                           np.concatenate((fwd, bwd)))


def markov_model(spec: dict[str, Any]) -> DeclaredMarkov:
    """The model of a normalised ``markov:`` block (one subclass per block)."""
    current = spec["current"]
    t = spec["transitions"][current]
    observables = (
        Observable("current", "1/time", f"net {t['from']}→{t['to']} flux of transition "
                   f"'{current}'"),
        Observable("entropy_production", "k_B/time", "Schnakenberg entropy production rate"),
        Observable("gap", "1/time", "spectral gap of the rate matrix"),
        *(Observable(f"probability_{s}", "1", f"stationary probability of state {s}")
          for s in spec["states"]),
        *fluctuation_observables(f"net {t['from']}→{t['to']} jump count"),
    )
    cls = type("DeclaredMarkov", (DeclaredMarkov,), {
        "name": model_name("markov", spec), "parameters": declared_parameters(spec),
        "observables": observables, "spec": spec})
    return cls()
