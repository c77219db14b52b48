"""User-defined reaction networks: a study's ``network:`` block (or an SBML file) as a model.

A study with ``model: network`` describes its chemical reaction network in the config; the
reaction-network layer (:mod:`ness_core.networks`) solves it in the same two forms as the
``chemostat`` model. The block (all expressions are numbers or arithmetic in the declared
parameters, read by :func:`ness_core.expressions.evaluate_expression`, never ``eval``)::

    network:
      parameters:                      # names the expressions may use, with defaults
        k1: 1.0
        drive: {default: 0.0, unit: energy, description: fuel chemical potential}
      species:                         # dynamic species
        X: {mu0: 0.0, initial: 1.0}    # μ° (energy, default 0), initial concentration (c°,
                                       # default 0; it fixes the totals of conservation laws)
      chemostats:                      # species held at fixed concentrations
        A: {concentration: density, mu0: "-drive"}
      reactions:
        r1: {equation: "A + X <-> 2 X", rate: "k1 * exp(drive / temperature)"}
        r2: {equation: "X <-> 0", rate: 1.0, backward: 0.5}
      current: r1                      # reaction whose net flux is `current` (default: first)
      continuation: {parameter: drive, start: 0.0, steps: 20}   # optional
      composition: {...}               # optional element balance, as in parse_network

or ``network: {sbml: path/to/model.xml}`` (mass-action subset, :mod:`ness_core.sbml`;
``current``, ``continuation`` and ``parameters`` overrides may stand beside it).

The block is normalised (defaults made explicit, SBML read, expressions re-printed from
their syntax tree, equations written with sorted terms) and the model is *named* by it:
``network:`` followed by the compact JSON of the normalised block. So the name alone
rebuilds the model in any process (a pipeline job, the report), and point ids, which hash
the model name, change whenever a reaction, rate or default changes.

Built-in parameters beside the declared ones: ``temperature`` (default 1; the declared one
wins), ``form`` (``deterministic`` | ``stochastic``), ``method`` (stochastic: ``auto`` |
``cme`` | ``gillespie``), ``volume`` Ω, ``tolerance`` and ``max_states`` (CME truncation),
``seed`` and ``events`` (Gillespie). Declared parameters called ``drive``, ``temperature``,
``density`` stand for those sweep axes.

Observables: ``current`` (net flux of the ``current`` reaction per volume, c°/time),
``entropy_production`` (k_B/time per c°-volume), ``gap`` (1/time; NaN from simulation),
``concentration_<S>`` for every dynamic species (c°; CME/simulation means ⟨n⟩/Ω),
``flux_<r>`` for every reaction (net flux, c°/time), ``n_stable`` (stable deterministic
steady states found; ≥ 2 is multistability, also said in ``note``),
``boundary_probability`` and ``n_states`` (CME truncation), ``current_error`` and
``entropy_production_error`` (Gillespie standard errors; NaN otherwise), ``solver``.

Deterministic multistability and continuation. Every point is solved on its own: Newton
from several starts (:func:`ness_core.networks.deterministic_steady_states`). With
``continuation: {parameter, start, steps}`` each point also follows the stable branch
from ``parameter = start`` to its own value (:func:`ness_core.networks.continue_steady_state`)
and reports the state that branch ends on, so a sweep up and a sweep down a bistable range
(two studies with different ``start``) show the hysteresis loop. Along a chunk's path
(:mod:`ness_core.warm`) the sweep resumes from the state the previous point's sweep (same
other parameters) reached nearest this point between ``start`` and it: the walk from
``start`` passes through that value, so the branch is the same, and the state reported is
the multi-start state nearest to the branch's end, found the same way cold or warm. A point's result
depends only on its parameters (and its id), never on chunk size or on which points share
its job.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ness_core.errors import ParameterError
from ness_core.expressions import FUNCTIONS, canonical_expression, evaluate_expression
from ness_core.model import CANONICAL_AXES, Model, Observable, Parameter, did_you_mean
from ness_core.models import short_name  # noqa: F401 (its former home; callers import it here)
from ness_core.networks import (
    GILLESPIE_SECONDS_PER_EVENT,
    SOLVER_DIAGNOSTICS,
    STOCHASTIC_METHODS,
    ReactionNetwork,
    cme_seconds,
    continue_steady_state,
    detailed_balance,
    deterministic_steady_states,
    flux_entropy_production,
    parse_equation,
    parse_network,
    stochastic_steady_state,
)
from ness_core.status import combine
from ness_core.warm import WarmStep

PREFIX = "network:"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BLOCK_KEYS = {"sbml", "parameters", "species", "chemostats", "reactions", "composition",
              "current", "continuation"}
PARAMETER_KEYS = {"default", "unit", "description", "low", "high"}
DEFAULT_STEPS = 20  # continuation steps


def _builtin_parameters() -> tuple[Parameter, ...]:
    return (
        Parameter("temperature", 1.0, "energy", "temperature (k_B = 1)", low=0.0,
                  low_inclusive=False, axis="temperature", symbol=r"$T$"),
        Parameter("form", "deterministic", "", "mass-action ODE or chemical master equation",
                  kind=str, choices=("deterministic", "stochastic")),
        Parameter("method", "auto", "", "stochastic form: truncated CME, Gillespie simulation, "
                  "or auto (CME if it fits in max_states)", kind=str, choices=STOCHASTIC_METHODS),
        Parameter("volume", 20.0, "1/c°", "system size Ω: molecules per unit concentration",
                  low=1.0, high=1e6, symbol=r"$\Omega$"),
        Parameter("tolerance", 1e-8, "1", "CME: largest stationary probability of states cut "
                  "by the truncation", low=0.0, high=1e-2, low_inclusive=False),
        Parameter("max_states", 200_000, "1", "CME: largest truncated state space", kind=int,
                  low=100),
        Parameter("seed", 0, "1", "Gillespie: random seed", kind=int, low=0),
        Parameter("events", 1_000_000, "1", "Gillespie: recorded reaction events", kind=int,
                  low=1000),
    )


BUILTIN = {p.name: p for p in _builtin_parameters()}


# ---------------------------------------------------------------------- normalisation
def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(f"{where}: expected a mapping, got {value!r}")
    return value


def _reject_unknown(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _identifier(name: Any, what: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ParameterError(f"{what} {name!r}: names are letters, digits and _, "
                             "not starting with a digit")
    return name


def _equation(reactants: Mapping[str, int], products: Mapping[str, int], reversible: bool) -> str:
    def side(c: Mapping[str, int]) -> str:
        return " + ".join(f"{n} {s}" if n > 1 else s for s, n in sorted(c.items())) or "0"

    return f"{side(reactants)} {'<->' if reversible else '->'} {side(products)}"


def _parameters(block: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, entry in _mapping(block, "parameters").items():
        where = f"parameter '{name}'"
        _identifier(name, "parameter")
        if name in FUNCTIONS or (name in BUILTIN and name != "temperature"):
            raise ParameterError(f"{where}: the name is taken (functions {sorted(FUNCTIONS)}, "
                                 f"built-in parameters {sorted(BUILTIN)})")
        entry = {"default": entry} if not isinstance(entry, Mapping) else dict(entry)
        _reject_unknown(entry, PARAMETER_KEYS, where)
        if "default" not in entry:
            raise ParameterError(f"{where}: needs a default")
        norm: dict[str, Any] = {"default": _number(entry["default"], f"{where}, default")}
        for key in ("unit", "description"):
            if entry.get(key):
                norm[key] = str(entry[key])
        for key in ("low", "high"):
            if entry.get(key) is not None:
                norm[key] = _number(entry[key], f"{where}, {key}")
        if "low" in norm and "high" in norm and norm["low"] > norm["high"]:
            raise ParameterError(f"{where}: low > high")
        out[name] = norm
    return out


def normalize(block: Mapping[str, Any], base: str | os.PathLike = ".") -> dict[str, Any]:
    """The canonical form of a study's ``network:`` block (module docstring).

    ``sbml:`` paths are read relative to ``base``. Raises :class:`ParameterError` naming the
    reaction, species or parameter at fault: malformed or unbalanced equations, undeclared
    species, unknown keys, unreadable expressions, SBML outside the mass-action subset.
    Expressions are only parsed here; their names and values are checked per parameter
    point by :meth:`NetworkModel.check`.
    """
    block = _mapping(block, "network")
    _reject_unknown(block, BLOCK_KEYS, "network")
    if "sbml" in block:
        both = sorted(k for k in ("species", "chemostats", "reactions", "composition")
                      if block.get(k))  # empty: a schema default, not a declaration
        if both:
            raise ParameterError(f"'sbml' and {both} exclude each other")
        from ness_core.sbml import read_sbml

        path = block["sbml"]
        if not isinstance(path, str):
            raise ParameterError(f"sbml: expected a path, got {path!r}")
        imported = read_sbml(Path(base, path))
        params = {**imported["parameters"], **_mapping(block.get("parameters"), "parameters")}
        extra = {k: block[k] for k in ("current", "continuation") if block.get(k) is not None}
        block = {**imported, **extra, "parameters": params}
    parameters = _parameters(block.get("parameters"))
    species, chemostats, reactions = {}, {}, {}
    for s, entry in _mapping(block.get("species"), "species").items():
        where = f"species '{_identifier(s, 'species')}'"
        entry = _mapping(entry, where)
        _reject_unknown(entry, {"mu0", "initial"}, where)
        species[s] = {k: canonical_expression(entry[k], f"{where}, {k}") for k in ("mu0", "initial")
                      if entry.get(k, 0.0) != 0.0}
    for x, entry in _mapping(block.get("chemostats"), "chemostats").items():
        where = f"chemostat '{_identifier(x, 'chemostat')}'"
        entry = _mapping(entry, where)
        _reject_unknown(entry, {"concentration", "mu0"}, where)
        if "concentration" not in entry:
            raise ParameterError(f"{where}: needs a concentration")
        chemostats[x] = {k: canonical_expression(entry[k], f"{where}, {k}")
                         for k in ("concentration", "mu0") if k in entry
                         and (k == "concentration" or entry[k] != 0.0)}
    for name, entry in _mapping(block.get("reactions"), "reactions").items():
        where = f"reaction '{_identifier(name, 'reaction')}'"
        entry = _mapping(entry, where)
        _reject_unknown(entry, {"equation", "rate", "backward"}, where)
        if "equation" not in entry or "rate" not in entry:
            raise ParameterError(f"{where}: needs 'equation' and 'rate'")
        if not isinstance(entry["equation"], str):
            raise ParameterError(f"{where}: the equation must be a string")
        reactants, products, reversible = parse_equation(entry["equation"], where)
        reactions[name] = {"equation": _equation(reactants, products, reversible),
                           "rate": canonical_expression(entry["rate"], f"{where}, rate")}
        if entry.get("backward") is not None:
            reactions[name]["backward"] = canonical_expression(entry["backward"],
                                                              f"{where}, backward")
    spec: dict[str, Any] = {"parameters": parameters, "species": species,
                            "chemostats": chemostats, "reactions": reactions}
    if block.get("composition") is not None:
        spec["composition"] = {str(s): {str(e): n for e, n in _mapping(c, "composition").items()}
                               for s, c in _mapping(block["composition"], "composition").items()}
    _network(spec)  # structure: undeclared species, balance, duplicates
    current = block.get("current") or next(iter(reactions))
    if current not in reactions:
        raise ParameterError(f"current: {current!r} is not a reaction; "
                             f"reactions: {', '.join(reactions)}")
    spec["current"] = current
    if block.get("continuation") is not None:
        spec["continuation"] = _continuation(block["continuation"], parameters)
    return spec


def _continuation(entry: Any, parameters: Mapping[str, Any]) -> dict[str, Any]:
    where = "continuation"
    entry = _mapping(entry, where)
    _reject_unknown(entry, {"parameter", "start", "steps"}, where)
    name = entry.get("parameter")
    numeric = set(parameters) | {"temperature"}
    if name not in numeric:
        raise ParameterError(f"{where}: parameter {name!r} is not a declared parameter; "
                             f"declared: {', '.join(sorted(numeric))}")
    steps = entry.get("steps", DEFAULT_STEPS)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 10_000:
        raise ParameterError(f"{where}: steps must be an integer in [1, 10000], got {steps!r}")
    return {"parameter": name, "start": _number(entry.get("start"), f"{where}, start"),
            "steps": steps}


def _network(spec: Mapping[str, Any]) -> ReactionNetwork:
    """The :class:`ReactionNetwork` of a normalised block (initial values stripped)."""
    return parse_network({
        "species": {s: {"mu0": e.get("mu0", 0.0)} for s, e in spec["species"].items()},
        "chemostats": {x: {"concentration": e["concentration"], "mu0": e.get("mu0", 0.0)}
                       for x, e in spec["chemostats"].items()},
        "reactions": spec["reactions"],
        **({"composition": spec["composition"]} if "composition" in spec else {}),
    })


def model_name(spec: Mapping[str, Any]) -> str:
    """``network:`` + compact sorted JSON of a normalised block: the model's registry name."""
    return PREFIX + json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


def is_network_name(name: Any) -> bool:
    """Whether ``name`` names a user-defined network model."""
    return isinstance(name, str) and name.startswith(PREFIX)


# ---------------------------------------------------------------------- the model
class NetworkModel(Model):
    """A user-defined reaction network (module docstring); one subclass per network.

    Built by :func:`network_model` from the model name; ``spec`` is the normalised block
    and ``network`` its :class:`ness_core.networks.ReactionNetwork`.
    """

    summary = "user-defined reaction network (config or SBML): mass action, CME or Gillespie"
    revision = 1  # status is exactly "ok" or a failure; partial results say so in note
    spec: dict[str, Any]
    network: ReactionNetwork

    def check(self, params: dict[str, Any]) -> None:
        """Every rate, μ°, chemostat concentration and initial value must evaluate, at the
        point and at the continuation start: ParameterError naming the reaction."""
        self.network.kinetics(params)
        self.initial(params)
        cont = self.spec.get("continuation")
        if cont is not None:
            try:
                self.network.kinetics({**params, cont["parameter"]: cont["start"]})
            except ParameterError as exc:
                raise ParameterError(f"continuation start {cont['parameter']} = "
                                     f"{cont['start']:g}: {exc}") from None

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        """The declared or built-in parameter ``name`` (the error does not repeat the
        network's long model name)."""
        for p in cls.parameters:
            if p.name == name:
                return p
        names = [p.name for p in cls.parameters]
        raise ParameterError(f"the network has no parameter '{name}';"
                             f"{did_you_mean(name, names)} parameters: {', '.join(names)}")

    def initial(self, params: Mapping[str, Any]) -> np.ndarray:
        """Initial concentrations of the dynamic species (c°), which fix conserved totals."""
        values = []
        for s, entry in self.spec["species"].items():
            value = evaluate_expression(entry.get("initial", 0.0), params,
                                        f"species '{s}', initial")
            if value < 0:
                raise ParameterError(f"species '{s}', initial: negative value {value:g}")
            values.append(value)
        return np.array(values)

    equilibrium = ("where the rate constants satisfy detailed balance (Wegscheider's condition "
                   "on every cycle, chemostats included); see the network's own parameters")

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Detailed balance by Wegscheider's condition (:func:`networks.detailed_balance`)."""
        return detailed_balance(self.network.kinetics(params))

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.solve_warm(params, None).result

    def solve_warm(self, params: dict[str, Any], warm: Any) -> WarmStep:
        """With ``continuation``, along a path: the sweep resumes from the previous point's
        sweep (``warm``: (other parameters, its visited (value, state) pairs)) if that point
        has the same other parameters (:func:`ness_core.networks.continue_steady_state`'s
        ``reached``); work counted in Newton solves of the sweep. Without
        ``continuation`` there is nothing to hand on."""
        kin = self.network.kinetics(params)
        initial = self.initial(params)
        cont = self.spec.get("continuation")
        extra, handed, solves, refused = [], None, 0, ""
        if cont is not None:
            others = tuple(sorted((k, v) for k, v in params.items()
                                  if k != cont["parameter"]))
            reached = warm[1] if warm is not None and warm[0] == others else ()
            if warm is not None and not reached:
                refused = f"other parameters than {cont['parameter']} changed"
            end, visited, solves = continue_steady_state(
                self.network, params, cont["parameter"], cont["start"], cont["steps"],
                initial, reached)
            extra, handed = [end], (others, visited)
        result = self._solve_from(params, kin, initial, extra)
        return WarmStep(result, handed, solves, refused)

    def _solve_from(self, params: dict[str, Any], kin: Any, initial: np.ndarray,
                    extra: list[np.ndarray]) -> dict[str, Any]:
        """The point's result: multi-start Newton (plus the continuation's end in
        ``extra``, whose nearest state is reported), then the requested form."""
        det = deterministic_steady_states(kin, initial, extra_starts=extra)
        if not det.states:
            return {**self._nan(), "n_stable": 0.0, "solver": "deterministic",
                    "status": det.status}
        steady = det.states[0] if not extra else min(
            det.states, key=lambda s: float(np.linalg.norm(s.concentrations - extra[0])))
        status = "ok"  # multistability is data (n_stable, note), not a failure
        note = "" if det.n_stable <= 1 else f"{det.n_stable} stable states"
        current = list(self.spec["reactions"]).index(self.spec["current"])
        species, reactions = list(self.spec["species"]), list(self.spec["reactions"])
        if params["form"] == "deterministic":
            vp, vm = kin.one_way_rates(steady.concentrations)
            out = {"current": vp[current] - vm[current],
                   "entropy_production": flux_entropy_production(vp, vm), "gap": steady.gap,
                   "boundary_probability": math.nan, "n_states": math.nan,
                   "current_error": math.nan, "entropy_production_error": math.nan,
                   "residual": steady.residual, "solver": "deterministic", "status": status,
                   "note": note}
            mean, net = steady.concentrations, vp - vm
        else:
            omega = params["volume"]
            st = stochastic_steady_state(
                kin, omega, np.round(omega * initial).astype(np.int64),
                np.round(omega * steady.concentrations).astype(np.int64), params["method"],
                tol=params["tolerance"], max_states=params["max_states"], seed=params["seed"],
                events=params["events"])
            net = st.forward_flux - st.backward_flux
            out = {"current": net[current], "entropy_production": st.entropy_production,
                   "gap": st.gap, "boundary_probability": st.boundary_probability,
                   "n_states": st.n_states, "current_error": st.net_flux_error[current],
                   "entropy_production_error": st.entropy_production_error,
                   "residual": st.residual, "solver": st.method,
                   "status": combine(st.status, status), "note": note}
            mean = st.mean
        out.update({f"concentration_{s}": float(v) for s, v in zip(species, mean, strict=True)})
        out.update({f"flux_{r}": float(v) for r, v in zip(reactions, net, strict=True)})
        out["n_stable"] = float(det.n_stable)
        return out

    def _nan(self) -> dict[str, Any]:
        return {o.name: math.nan for o in self.all_observables() if o.kind is not str}

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Deterministic ~0.01 s (× continuation steps); CME :func:`networks.cme_seconds` of
        the box around Ω·max(initial, 1); Gillespie ~2.5e-7 s per event."""
        cont = self.spec.get("continuation")
        deterministic = 0.01 * (1 + (cont["steps"] / 4 if cont else 0))
        if params["form"] == "deterministic":
            return deterministic
        sizes = params["volume"] * np.maximum(self.initial(params), 1.0)
        n = math.prod(float(m + 6 * math.sqrt(m) + 11) for m in sizes)
        if params["method"] == "gillespie" or (params["method"] == "auto"
                                               and n > params["max_states"]):
            return deterministic + GILLESPIE_SECONDS_PER_EVENT * params["events"] * 1.1
        return deterministic + cme_seconds(min(n, params["max_states"]), len(sizes))


def _declared(name: str, entry: Mapping[str, Any]) -> Parameter:
    builtin = BUILTIN.get(name)
    unit = entry.get("unit", builtin.unit if builtin else "")
    meaning = entry.get("description", builtin.meaning if builtin else "network parameter")
    low = entry.get("low", builtin.low if builtin else None)
    return Parameter(name, entry["default"], unit, meaning, low=low, high=entry.get("high"),
                     low_inclusive=builtin.low_inclusive if builtin and "low" not in entry
                     else True, axis=name if name in CANONICAL_AXES else None)


@functools.lru_cache(maxsize=64)
def network_model(name: str) -> NetworkModel:
    """The model called ``name`` (``network:`` + normalised JSON), built once per process.

    Raises :class:`ParameterError` if the JSON is malformed or not a valid network.
    """
    try:
        spec = json.loads(name[len(PREFIX):])
    except (json.JSONDecodeError, RecursionError):
        raise ParameterError("network model name: the JSON after 'network:' is malformed") from None
    spec = normalize(spec)  # idempotent on a normalised block; validates one written by hand
    declared = [_declared(n, e) for n, e in spec["parameters"].items()]
    names = {p.name for p in declared}
    parameters = tuple(declared) + tuple(p for p in _builtin_parameters() if p.name not in names)
    observables = (
        Observable("current", "c°/time", f"net flux of reaction '{spec['current']}' per volume",
                   symbol=r"$J$"),
        Observable("entropy_production", "k_B/(time c°^-1)", "entropy production per volume",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "slowest relaxation rate", symbol=r"$g$"),
        *(Observable(f"concentration_{s}", "c°", f"steady-state concentration of {s}")
          for s in spec["species"]),
        *(Observable(f"flux_{r}", "c°/time", f"net flux of reaction '{r}' per volume")
          for r in spec["reactions"]),
        *SOLVER_DIAGNOSTICS,
        Observable("solver", "", "deterministic, cme or gillespie", kind=str),
    )
    cls = type("NetworkModel", (NetworkModel,), {
        "name": model_name(spec), "parameters": parameters, "observables": observables,
        "spec": spec, "network": _network(spec)})
    return cls()
