"""The model contract: declared parameters and observables, validation, and the base class.

A model is one physical system. It declares

* ``parameters``: every input with its default, unit, allowed range and meaning, and which
  of the canonical sweep axes (``drive``, ``temperature``, ``density``) it stands for;
* ``observables``: every output with its unit, long name and array dimensions
  (``()`` for a scalar, ``("site",)`` for a profile along the chain, ...);

and implements :meth:`Model.solve`, which receives a complete, validated parameter dict and
returns the observables. ``current``, ``entropy_production``, ``gap``, ``residual`` and
``status`` are mandatory for every model (``status`` is ``"ok"`` or a short reason).
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from ness_core.errors import ParameterError
from ness_core.warm import WarmStep

CANONICAL_AXES = ("drive", "temperature", "density")
CORE_OBSERVABLES = ("current", "entropy_production", "gap", "residual", "status")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
DEFAULT_POINT_SECONDS = 0.01  # cost_estimate() of a model that does not override it
# The spellings of numbers a parameter accepts as text: plain decimal or scientific notation
# in ASCII digits (no 1_000, no other scripts' digits, no hex), and inf for unbounded floats.
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?"
                      r"|inf|infinity)", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class Parameter:
    """One model input.

    ``kind`` is ``float``, ``int``, ``str`` or ``bool``. ``default=None`` means "derived from
    other parameters unless given" (e.g. ASEP's ``alpha`` from ``rho_left``). Numeric bounds
    are ``low``/``high`` (``None`` = unbounded) with inclusiveness flags; ``choices`` restricts
    a ``str``. Floats must be finite unless ``allow_inf``.
    """

    name: str
    default: Any
    unit: str
    meaning: str
    kind: type = float
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple[str, ...] | None = None
    allow_inf: bool = False
    axis: str | None = None
    symbol: str = ""  # short TeX symbol for axis labels, e.g. "$\\Delta\\mu$" ("": none)

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "a string"
        lo = "(-inf" if self.low is None else ("[" if self.low_inclusive else "(") + _fmt(self.low)
        hi = (
            "inf)" if self.high is None else _fmt(self.high) + ("]" if self.high_inclusive else ")")
        )
        what = "an integer" if self.kind is int else "a number"
        return f"{what} in {lo}, {hi}"

    def not_allowed(self, value: Any) -> ParameterError:
        """The error for ``value`` (shortened if long): names this parameter and what is
        allowed."""
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:30] + "…"
        return ParameterError(f"parameter '{self.name}': {shown} is not allowed; "
                              f"expected {self.allowed()}")

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (possibly a CLI string) to this type; check its range."""
        given = value
        if value is None:
            if self.default is None:
                return None
            raise self.not_allowed(given)
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise self.not_allowed(given)
        if self.kind is str:
            if not isinstance(value, str):
                raise self.not_allowed(given)
            if self.choices is not None and value not in self.choices:
                raise self.not_allowed(given)
            return value
        if isinstance(value, bool) or not isinstance(value, str | numbers.Real):
            raise self.not_allowed(given)  # bytes, lists, None: only numbers and their text
        if self.kind is int:
            if isinstance(value, str):
                if not _INTEGER.fullmatch(value.strip()):
                    raise self.not_allowed(given)
                value = int(value.strip())
            elif isinstance(value, numbers.Integral):
                value = int(value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.not_allowed(given)
        else:
            if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
                raise self.not_allowed(given)
            try:
                value = float(value.strip() if isinstance(value, str) else value)
            except (OverflowError, TypeError, ValueError):  # e.g. a 400-digit integer
                raise self.not_allowed(given) from None
            if math.isnan(value) or (math.isinf(value) and not self.allow_inf):
                raise self.not_allowed(given)
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            raise self.not_allowed(given)
        if self.high is not None and (
            value > self.high or (value == self.high and not self.high_inclusive)
        ):
            raise self.not_allowed(given)
        return value


@dataclass(frozen=True)
class Observable:
    """One model output: name, unit, long name (CF ``long_name``) and array dims."""

    name: str
    unit: str
    long_name: str
    dims: tuple[str, ...] = ()
    kind: type = float
    symbol: str = ""  # short TeX symbol for axis labels, e.g. "$J$" ("": none)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` did you mean 'x'?`` for the known name closest to ``name`` (difflib), or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" did you mean '{close[0]}'?" if close else ""


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(x)


def two_bath_temperatures(params: dict[str, Any]) -> tuple[float, float]:
    """(T_left, T_right) by the two-bath rule of docs/conventions.md.

    ``temperature`` is the mean and ``drive`` the difference: T_left = temperature + drive/2,
    T_right = temperature − drive/2; explicit ``T_left`` / ``T_right`` (not None) override.
    """
    t_left = params["temperature"] + params["drive"] / 2
    t_right = params["temperature"] - params["drive"] / 2
    return (
        t_left if params["T_left"] is None else params["T_left"],
        t_right if params["T_right"] is None else params["T_right"],
    )


def check_bath_temperatures(params: dict[str, Any]) -> None:
    """Raise :class:`ParameterError` if ``two_bath_temperatures`` gives a negative one."""
    sources = ("temperature + drive/2", "temperature − drive/2")
    names = ("T_left", "T_right")
    for name, source, value in zip(names, sources, two_bath_temperatures(params), strict=True):
        if value < 0:
            raise ParameterError(
                f"parameter 'drive': {name} = {source} = {value!r} is negative; "
                f"expected |drive| <= 2·temperature (or give '{name}' >= 0)"
            )


def fluctuation_observables(counted: str, unit: str = "1/time") -> tuple[Observable, ...]:
    """Outputs of ``fluctuations=true`` for the counted current ``counted`` (its long name):
    ``current_variance`` lim Var(Q_t)/t, ``fano_factor`` and ``tur_ratio``, which the
    thermodynamic uncertainty relation bounds below by 2 for Markov jump processes."""
    return (
        Observable("current_variance", unit, f"scaled variance lim Var(Q_t)/t of the {counted}"),
        Observable("fano_factor", "1", "Fano factor current_variance/|current|"),
        Observable("tur_ratio", "1", "current_variance·entropy_production/current² (TUR: >= 2)"),
    )


STATUS = Observable("status", "", "solver status ('ok' or a short reason)", kind=str)
RESIDUAL = Observable("residual", "1", "norm of the steady-state equation residual")
NOTE = Observable("note", "", "what an 'ok' point left out ('' if nothing)", kind=str)


class TargetLimit(NamedTuple):
    """The known large-system limit of a refinement target (:meth:`Model.target_limit`):
    the axis value the located target tends to, a label for the figure, and the window of
    the axis (low, high) that contains it, if the physics gives one."""

    location: float
    label: str
    window: tuple[float, float] | None = None


class Model:
    """Base class of every model; subclasses set the class attributes and implement ``solve``.

    Contract for a new model:

    1. ``name``: registry key; ``summary``: one line; the class docstring states conventions,
       units and references.
    2. ``parameters``: a tuple of :class:`Parameter`; the canonical axes by their names
       (docs/conventions.md); every name, once released, is binding.
    3. ``observables``: a tuple of :class:`Observable` including ``current``,
       ``entropy_production`` and ``gap`` (``status`` and ``residual`` are added here).
    4. ``check(params)``: optional cross-parameter validation raising :class:`ParameterError`.
    5. ``solve(params)``: returns a dict with every declared observable; arrays have the
       declared dims; numerical failure is reported through ``status`` and NaNs
       (``status`` exactly ``"ok"`` or a reason, combined by :func:`ness_core.status.combine`;
       what an ``"ok"`` point left out goes to the optional string ``note``).
    6. ``equilibrium``: one line stating where the model is in equilibrium (``drive = 0``
       with every further force at rest, named) or ``"none: <why>"``; shown by
       ``ness models NAME``. ``is_equilibrium(params)`` is true exactly there, and
       ``equilibrium_examples`` lists a few such points (parameter overrides of the
       defaults), which the convention test evaluates: ``current`` and
       ``entropy_production`` vanish there (docs/conventions.md).
    7. ``dimension_lengths``: optional, the parameter giving each model dimension's length.
    8. ``revision``: raised when a change of the model changes what its stored results mean.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]]
    observables: ClassVar[tuple[Observable, ...]]
    equilibrium: ClassVar[str] = "not declared"
    equilibrium_examples: ClassVar[tuple[dict[str, Any], ...]] = ()
    # Model dimension → the integer parameter that is its length (e.g. {"site": "L"}), so a
    # figure's `select: {site: 99}` beyond the chain is refused before any job runs.
    dimension_lengths: ClassVar[dict[str, str]] = {}
    # Raised when a change of the model changes what its stored results mean (a parameter's
    # or an observable's convention): point ids hash it, so old results are not reused.
    revision: ClassVar[int] = 0
    # True where ``gap`` is signed by design (linearised dynamics about an unstable state);
    # otherwise evaluate reports a negative gap as a failure (ness_core.status.check_result).
    signed_gap: ClassVar[bool] = False
    # Quantities whose declared unit is only their name (e.g. unit "temperature") → the unit
    # the model measures them in, shown in figure labels (e.g. {"temperature": "$T_0$"}).
    natural_units: ClassVar[dict[str, str]] = {}

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        for p in cls.parameters:
            if p.name == name:
                return p
        names = [p.name for p in cls.parameters]
        raise ParameterError(
            f"model '{cls.name}' has no parameter '{name}';{did_you_mean(name, names)} "
            f"parameters: {', '.join(names)}"
        )

    @classmethod
    def observable(cls, name: str) -> Observable:
        """The declared observable called ``name`` (KeyError if there is none)."""
        return {o.name: o for o in cls.all_observables()}[name]

    @classmethod
    def all_observables(cls) -> tuple[Observable, ...]:
        """Declared observables plus the mandatory ``residual``, ``status`` and ``note``."""
        names = {o.name for o in cls.observables}
        extra = tuple(o for o in (RESIDUAL, STATUS, NOTE) if o.name not in names)
        return tuple(cls.observables) + extra

    def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validate user parameters and fill in defaults; raise :class:`ParameterError`."""
        resolved = {p.name: p.default for p in self.parameters}
        for key, value in params.items():
            resolved[key] = self.parameter(key).coerce(value)
        self.check(resolved)
        return resolved

    def check(self, params: dict[str, Any]) -> None:
        """Cross-parameter validation; override where one parameter limits another."""

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def solve_warm(self, params: dict[str, Any], state: Any) -> WarmStep:
        """One point of a chunk's path (:mod:`ness_core.warm`): ``solve`` started from
        ``state``, what the previous point left (``None``: start cold). Override to reuse
        a neighbour's work; the result must equal ``solve``'s to the solver tolerance. The
        default solves cold and leaves nothing."""
        return WarmStep(self.solve(params))

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Rough wall time in seconds of one ``solve`` at ``params`` (resolved).

        Optional hook used by the sweep planner to size chunks; override where the cost
        depends strongly on the parameters (e.g. 2^L states). The default is a guess.
        """
        return DEFAULT_POINT_SECONDS

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """Rough peak memory in MB that one ``solve`` at ``params`` (resolved) adds to the
        process (the interpreter and imports are counted by the sweep planner).

        Optional hook used to size a job's ``mem_mb``, shown by ``ness plan``, and checked
        against the memory limit before any job runs; override where memory grows fast
        with the parameters (2^L states, N × N matrices). The default, ``None``, means no
        estimate: jobs then ask for a conservative fixed amount, doubled on each retry.
        """
        return None

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """True where detailed balance holds exactly at ``params`` (resolved): there every
        current and the entropy production must vanish, which reports check. The default,
        for models that declare no such point, is False."""
        return False

    def target_limit(self, refine: dict[str, Any], params: dict[str, Any]
                     ) -> TargetLimit | None:
        """Where a 1-D refinement target of this slice tends in the model's large-system
        limit (N → ∞, L → ∞), drawn beside the located targets (docs/refinement.md).

        Optional hook: ``refine`` is the study's ``refine:`` block, ``params`` the resolved
        parameters of the slice (the refined axis at its default). The default, and any
        target the model knows nothing about, is None.
        """
        return None

    def reference_lines(self, x: str, y: str) -> list[tuple[Any, Any, str]]:
        """Known curves in the plane of parameters ``x`` (horizontal) and ``y`` (vertical).

        Optional hook for figure overlays (e.g. phase boundaries of the L → ∞ limit): a list
        of ``(xs, ys, label)`` with equal-length sequences of parameter values. The default,
        and any plane the model knows nothing about, is the empty list.
        """
        return []
