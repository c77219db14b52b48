"""What the models declared in a config share: block checks, parameters, names, dispatch.

A study with ``model: markov`` or ``model: lindblad`` declares its system in a block of the
same name (:mod:`ness_core.models.markov_declared`, :mod:`ness_core.models.lindblad_declared`).
As for ``model: network``, the block is normalised (defaults explicit, expressions re-printed
from their syntax tree) and the model is *named* by it: ``markov:`` or ``lindblad:`` followed
by the compact sorted JSON of the normalised block. So the name alone rebuilds the model in
any process, and point ids, which hash the model name, change whenever the block does.

``parameters`` map a name to its default, or to ``{default, unit, description, low, high}``;
declared names ``drive``, ``temperature``, ``density`` stand for those sweep axes.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ness_core.errors import ParameterError
from ness_core.expressions import FUNCTIONS
from ness_core.model import CANONICAL_AXES, Model, Parameter, did_you_mean

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAMETER_KEYS = {"default", "unit", "description", "low", "high"}
KINDS = ("markov", "lindblad")
FLUCTUATIONS = Parameter("fluctuations", False, "", "also compute the counted current's "
                         "scaled variance", kind=bool)


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping (``None`` is the empty one), else ParameterError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(f"{where}: expected a mapping, got {value!r}")
    return value


def reject_unknown(entry: Mapping[str, Any], allowed: set[str], where: str,
                   required: set[str] = frozenset()) -> None:
    """Refuse keys outside ``allowed`` and missing ``required`` ones, naming ``where``."""
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(required - set(entry))
    if missing:
        raise ParameterError(f"{where}: needs {', '.join(missing)}")


def identifier(name: Any, what: str) -> str:
    """``name`` if it is a valid name (letters, digits, _; not starting with a digit)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ParameterError(f"{what} {name!r}: names are letters, digits and _, "
                             "not starting with a digit")
    return name


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def parameters_block(block: Any, reserved: set[str]) -> dict[str, dict[str, Any]]:
    """Normalised ``parameters``: name → {default, and unit, description, low, high if given}.

    ``reserved`` names (built-in parameters, sites, ...) and the function names are refused.
    """
    out = {}
    for name, entry in mapping(block, "parameters").items():
        where = f"parameter '{identifier(name, 'parameter')}'"
        if name in FUNCTIONS or name in reserved:
            raise ParameterError(f"{where}: the name is taken (functions {sorted(FUNCTIONS)}, "
                                 f"reserved {sorted(reserved)})")
        entry = {"default": entry} if not isinstance(entry, Mapping) else dict(entry)
        reject_unknown(entry, PARAMETER_KEYS, where, {"default"})
        norm: dict[str, Any] = {"default": number(entry["default"], f"{where}, default")}
        for key in ("unit", "description"):
            if entry.get(key):
                norm[key] = str(entry[key])
        for key in ("low", "high"):
            if entry.get(key) is not None:
                norm[key] = number(entry[key], f"{where}, {key}")
        if "low" in norm and "high" in norm and norm["low"] > norm["high"]:
            raise ParameterError(f"{where}: low > high")
        if not norm.get("low", -math.inf) <= norm["default"] <= norm.get("high", math.inf):
            raise ParameterError(f"{where}: default outside [low, high]")
        out[name] = norm
    return out


def declared_parameters(spec: Mapping[str, Any]) -> tuple[Parameter, ...]:
    """The :class:`Parameter` of every declared parameter, then ``fluctuations``."""
    out = []
    for name, entry in spec["parameters"].items():
        out.append(Parameter(name, entry["default"], entry.get("unit", ""),
                             entry.get("description", name), low=entry.get("low"),
                             high=entry.get("high"),
                             axis=name if name in CANONICAL_AXES else None))
    return (*out, FLUCTUATIONS)


def model_name(kind: str, spec: Mapping[str, Any]) -> str:
    """``<kind>:`` + compact sorted JSON of a normalised block: the model's registry name."""
    return kind + ":" + json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


def is_declared_name(name: Any) -> bool:
    """Whether ``name`` names a model declared in a config (``markov:…``, ``lindblad:…``, or
    the bare kind, which :func:`declared_model` explains)."""
    return isinstance(name, str) and name.partition(":")[0] in KINDS


def normalize(kind: str, block: Any) -> dict[str, Any]:
    """The normalised block of a ``model: markov`` or ``model: lindblad`` study."""
    if kind == "markov":
        from ness_core.models.markov_declared import normalize as markov
        return markov(block)
    from ness_core.models.lindblad_declared import normalize as lindblad
    return lindblad(block)


@functools.lru_cache(maxsize=64)
def declared_model(name: str) -> Model:
    """The model called ``name`` (``markov:`` or ``lindblad:`` + normalised JSON), built
    once per process. Raises :class:`ParameterError` if the JSON is malformed or invalid."""
    kind, colon, text = name.partition(":")
    if not colon:
        raise ParameterError(f"model '{kind}' is declared in a study's {kind}: block: run it "
                             f"from a config (ness plan CONFIG, snakemake --configfile CONFIG), "
                             f"or one point as ness point '{kind}:<the block as JSON>' ...")
    try:
        block = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ParameterError(f"{kind} model name: the JSON after '{kind}:' is malformed") from None
    spec = normalize(kind, block)  # idempotent on a normalised block
    if kind == "markov":
        from ness_core.models.markov_declared import markov_model
        return markov_model(spec)
    from ness_core.models.lindblad_declared import lindblad_model
    return lindblad_model(spec)


class DeclaredModel(Model):
    """Base of the declared models: errors name no long model name."""

    spec: dict[str, Any]

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        for p in cls.parameters:
            if p.name == name:
                return p
        names = [p.name for p in cls.parameters]
        raise ParameterError(f"the declared model has no parameter '{name}';"
                             f"{did_you_mean(name, names)} parameters: {', '.join(names)}")
