"""SBML import for the mass-action subset: an SBML model as a study's ``network:`` block.

Reads a Systems Biology Markup Language file with python-libsbml (M. Hucka et al.,
Bioinformatics 19, 524 (2003); the libSBML library, B. J. Bornstein et al., Bioinformatics
24, 880 (2008)) and writes the network in the config form of
:mod:`ness_core.models.network`. The subset taken:

* one compartment of size V (> 0);
* species: those with ``boundaryCondition`` or ``constant`` set are chemostatted, at their
  initial concentration, which becomes a parameter named after the species (so it can be
  swept, e.g. as the density axis); the others are dynamic, initial concentration from
  ``initialConcentration`` or ``initialAmount``/V;
* global parameters with values (parameters of the network, defaults = their values) and
  local parameters of kinetic laws (renamed ``<reaction>_<id>``);
* reactions with integer stoichiometries and a kinetic law that is mass action: a product
  of numbers, parameters, the compartment and species (integer powers allowed, constants
  only in a denominator), or for a reversible reaction the difference of two such products.
  The species orders must equal the reactant (forward) and product (backward)
  stoichiometries. The law is an amount rate; the rate constant per volume is the product
  of numbers and parameters, divided by V when the law does not carry the compartment factor.

Anything else raises :class:`ParameterError` naming the construct and its element id:
events, rules, function definitions, initial assignments, constraints, SBML packages,
several compartments, non-mass-action laws (e.g. Michaelis–Menten), fast reactions,
non-integer or computed stoichiometries, species with ``hasOnlySubstanceUnits`` or a
conversion factor, parameters without a value. Units are not converted: values are taken in
the units they are written in. SBML has no standard chemical potentials, so every rate
constant is explicit (no local-detailed-balance rule).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ness_core.errors import ParameterError
from ness_core.networks import MAX_COEFFICIENT

OUTSIDE = "is outside the mass-action subset"


def read_sbml(path: str | os.PathLike) -> dict[str, Any]:
    """The network block of the SBML file at ``path`` (module docstring for the subset).

    Returns ``{"parameters", "species", "chemostats", "reactions"}`` in the config form of
    :func:`ness_core.models.network.normalize`. Raises :class:`ParameterError` naming the
    file and the construct outside the subset.
    """
    import libsbml

    source = f"SBML '{os.fspath(path)}'"
    if not os.path.isfile(path):
        raise ParameterError(f"{source}: no such file")
    return document_to_block(libsbml.readSBMLFromFile(os.fspath(path)), source)


def read_sbml_string(text: str, source: str = "SBML string") -> dict[str, Any]:
    """As :func:`read_sbml`, from the XML text itself."""
    import libsbml

    return document_to_block(libsbml.readSBMLFromString(text), source)


def document_to_block(doc: Any, source: str) -> dict[str, Any]:
    """The network block of a ``libsbml.SBMLDocument``; ``source`` prefixes error messages."""
    import libsbml

    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    fatal = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if fatal:
        raise ParameterError(f"{source}: not valid SBML: line {fatal[0].getLine()}: "
                             f"{fatal[0].getShortMessage()}")
    model = doc.getModel()
    if model is None:
        raise ParameterError(f"{source}: the document has no model")
    for i in range(doc.getNumPlugins()):
        package = doc.getPlugin(i).getPackageName()
        raise ParameterError(f"{source}: package '{package}' {OUTSIDE}")
    _reject_lists(model, source)
    if model.getNumCompartments() != 1:
        raise ParameterError(f"{source}: {model.getNumCompartments()} compartments; the "
                             "mass-action subset takes exactly one")
    compartment = model.getCompartment(0)
    volume = compartment.getSize()
    if not compartment.isSetSize() or not (math.isfinite(volume) and volume > 0):
        raise ParameterError(f"{source}: compartment '{compartment.getId()}' needs a size > 0")
    parameters: dict[str, Any] = {}
    for p in model.getListOfParameters():
        if not p.isSetValue() or not math.isfinite(p.getValue()):
            raise ParameterError(f"{source}: parameter '{p.getId()}' has no value")
        parameters[p.getId()] = {"default": p.getValue(), "description": _label(p)}
    species, chemostats = {}, {}
    for s in model.getListOfSpecies():
        sid, where = s.getId(), f"{source}: species '{s.getId()}'"
        if s.getHasOnlySubstanceUnits():
            raise ParameterError(f"{where}: hasOnlySubstanceUnits {OUTSIDE}")
        if s.isSetConversionFactor():
            raise ParameterError(f"{where}: conversionFactor {OUTSIDE}")
        if s.isSetInitialConcentration():
            c0 = s.getInitialConcentration()
        elif s.isSetInitialAmount():
            c0 = s.getInitialAmount() / volume
        else:
            raise ParameterError(f"{where}: needs an initial concentration or amount")
        if s.getBoundaryCondition() or s.getConstant():
            parameters[sid] = {"default": c0, "unit": "c°",
                               "description": f"chemostatted concentration of {sid}"}
            chemostats[sid] = {"concentration": sid}
        else:
            species[sid] = {"initial": c0}
    reactions = {r.getId(): _reaction(r, model, volume, parameters, source)
                 for r in model.getListOfReactions()}
    if not reactions:
        raise ParameterError(f"{source}: the model has no reactions")
    return {"parameters": parameters, "species": species, "chemostats": chemostats,
            "reactions": reactions}


def _label(element: Any) -> str:
    return element.getName() if element.isSetName() else ""


def _reject_lists(model: Any, source: str) -> None:
    """Constructs the subset has none of: the first one found, by its kind and id."""
    for kind, items in (("event", model.getListOfEvents()),
                        ("rule", model.getListOfRules()),
                        ("function definition", model.getListOfFunctionDefinitions()),
                        ("initial assignment", model.getListOfInitialAssignments()),
                        ("constraint", model.getListOfConstraints())):
        for item in items:
            if kind == "rule":  # identified by the variable it sets
                what = f"{item.getElementName()} for '{item.getVariable() or '(none)'}'"
            elif kind == "initial assignment":
                what = f"initial assignment of '{item.getSymbol()}'"
            else:
                what = f"{kind} '{item.getId() if item.isSetId() else '(no id)'}'"
            raise ParameterError(f"{source}: {what} {OUTSIDE}")


def _reaction(r: Any, model: Any, volume: float, parameters: dict[str, Any],
              source: str) -> dict[str, Any]:
    import libsbml

    rid = r.getId()
    where = f"{source}: reaction '{rid}'"
    if r.isSetFast() and r.getFast():
        raise ParameterError(f"{where}: a fast reaction {OUTSIDE}")
    sides = []
    for refs in (r.getListOfReactants(), r.getListOfProducts()):
        side: Counter[str] = Counter()
        for ref in refs:
            if ref.isSetStoichiometryMath():
                raise ParameterError(f"{where}: stoichiometryMath of '{ref.getSpecies()}' "
                                     f"{OUTSIDE}")
            n = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
            if not (math.isfinite(n) and n > 0 and n == int(n) and n <= MAX_COEFFICIENT):
                raise ParameterError(f"{where}: stoichiometry {n!r} of '{ref.getSpecies()}' is "
                                     f"not an integer in 1..{MAX_COEFFICIENT}")
            side[ref.getSpecies()] += int(n)
        sides.append(dict(side))
    law = r.getKineticLaw()
    if law is None or law.getMath() is None:
        raise ParameterError(f"{where}: no kinetic law")
    local = {}
    for p in law.getListOfParameters():  # Level 2 parameters and Level 3 local parameters
        name = f"{rid}_{p.getId()}"
        if not p.isSetValue():
            raise ParameterError(f"{where}: local parameter '{p.getId()}' has no value")
        parameters[name] = {"default": p.getValue(),
                            "description": f"{_label(p) or p.getId()} of reaction {rid}"}
        local[p.getId()] = name
    names = _Names(model, local)
    text = libsbml.formulaToL3String(law.getMath())
    terms = _expand(law.getMath(), names, where, text)
    forward = [t for t in terms if t.number > 0]
    backward = [t for t in terms if t.number < 0]
    if len(forward) != 1 or len(backward) > 1:
        raise _refuse(where, text, f"{len(forward)} positive and {len(backward)} negative "
                      "terms; expected one forward term, minus one backward term if reversible")
    if backward and not r.getReversible():
        raise ParameterError(f"{where}: the kinetic law {text!r} has a backward term but the "
                             "reaction is irreversible")
    rates = []
    for term, side, label in zip(forward + backward, sides, ("forward", "backward"),
                                 strict=False):
        orders = {k: v for k, v in term.species.items() if v}
        if orders != side:
            raise _refuse(where, text, f"the {label} term has species orders {orders}, the "
                          f"stoichiometry {side}")
        rates.append(term.rate_constant(volume, where, text))
    left, right = (" + ".join(f"{n} {s}" if n > 1 else s for s, n in side.items()) or "0"
                   for side in sides)
    equation = f"{left} {'<->' if len(rates) == 2 else '->'} {right}"
    entry = {"equation": equation, "rate": rates[0]}
    if len(rates) == 2:
        entry["backward"] = rates[1]
    return entry


class _Names:
    """What an identifier in a kinetic law is: species, compartment or (local) parameter."""

    def __init__(self, model: Any, local: dict[str, str]) -> None:
        self.species = {s.getId() for s in model.getListOfSpecies()}
        self.compartment = model.getCompartment(0).getId()
        self.parameters = {p.getId(): p.getId() for p in model.getListOfParameters()}
        self.parameters.update(local)  # local parameters shadow global ones


def _refuse(where: str, text: str, what: str) -> ParameterError:
    return ParameterError(f"{where}: the kinetic law {text!r} is not mass action ({what}); "
                          "the subset takes products of parameters and species")


@dataclass
class _Monomial:
    """number × Π parameters^power × V^compartment × Π species^order (one term of a law)."""

    number: float = 1.0
    species: Counter = field(default_factory=Counter)
    parameters: Counter = field(default_factory=Counter)
    compartment: int = 0

    def times(self, other: _Monomial) -> _Monomial:
        return _Monomial(self.number * other.number, self.species + other.species,
                         _add(self.parameters, other.parameters),
                         self.compartment + other.compartment)

    def power(self, n: int) -> _Monomial:
        return _Monomial(self.number ** n, Counter({k: v * n for k, v in self.species.items()}),
                         Counter({k: v * n for k, v in self.parameters.items()}),
                         self.compartment * n)

    def rate_constant(self, volume: float, where: str, text: str) -> str:
        """|k| per volume as an expression: numbers and parameters, ÷ V without the V factor."""
        if self.compartment not in (0, 1):
            raise _refuse(where, text, f"the compartment to the power {self.compartment}")
        number = abs(self.number) / (volume if self.compartment == 0 else 1.0)
        factors = [repr(number)] if number != 1.0 else []
        for name, power in sorted(self.parameters.items()):
            if power:
                factors.append(name if power == 1 else f"{name} ** {power}")
        return " * ".join(factors) or "1.0"


def _add(a: Counter, b: Counter) -> Counter:
    out = Counter(a)
    for k, v in b.items():
        out[k] += v  # keeps negative powers, unlike Counter.__add__
    return out


def _expand(node: Any, names: _Names, where: str, text: str) -> list[_Monomial]:
    """The law as a sum of monomials (products distributed over sums and differences)."""
    import libsbml

    kind = node.getType()
    children = [node.getChild(i) for i in range(node.getNumChildren())]
    if kind == libsbml.AST_PLUS:
        return [t for c in children for t in _expand(c, names, where, text)]
    if kind == libsbml.AST_MINUS:
        parts = [_expand(c, names, where, text) for c in children]
        negated = [_Monomial(-t.number, t.species, t.parameters, t.compartment)
                   for t in parts[-1]]
        return negated if len(parts) == 1 else parts[0] + negated
    if kind == libsbml.AST_TIMES:
        terms = [_Monomial()]
        for c in children:
            terms = [a.times(b) for a in terms for b in _expand(c, names, where, text)]
        return terms
    if kind in (libsbml.AST_DIVIDE, libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
        base = _expand(children[0], names, where, text)
        if kind == libsbml.AST_DIVIDE:
            (den,) = _single(_expand(children[1], names, where, text), where, text, "divisor")
            if any(den.species.values()):
                raise _refuse(where, text, "a species in a denominator")
            return [t.times(den.power(-1)) for t in base]
        exponent = children[1]
        if not exponent.isNumber() or exponent.getValue() != int(exponent.getValue()):
            raise _refuse(where, text, "a power that is not an integer")
        (term,) = _single(base, where, text, "base of a power")
        n = int(exponent.getValue())
        if n < 0 and any(term.species.values()):
            raise _refuse(where, text, "a negative power of a species")
        return [term.power(n)]
    if node.isNumber():
        return [_Monomial(number=float(node.getValue()))]
    if kind == libsbml.AST_NAME:
        name = node.getName()
        if name in names.species:
            return [_Monomial(species=Counter({name: 1}))]
        if name == names.compartment:
            return [_Monomial(compartment=1)]
        if name in names.parameters:
            return [_Monomial(parameters=Counter({names.parameters[name]: 1}))]
        raise _refuse(where, text, f"unknown identifier '{name}'")
    raise _refuse(where, text, f"'{libsbml.formulaToL3String(node)}'")


def _single(terms: list[_Monomial], where: str, text: str, what: str) -> list[_Monomial]:
    if len(terms) != 1:
        raise _refuse(where, text, f"a sum as the {what}")
    return terms
