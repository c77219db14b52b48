"""Study configs: YAML text → checked :class:`~ness_core.sweep.Study` objects.

A *study* (one entry of the config's ``studies:``) names a model, the swept parameters
(``sweep:``, a full grid whose axis order is the config order), the ``fixed:`` ones and the
``figures:`` to draw. :func:`load_config` runs the JSON schema (filling defaults), then
:func:`parse_config` checks everything against the model's declared parameters *before* any
job runs and raises :class:`ConfigError` with a one-line message naming the study and key.
Config values are data: they are never ``eval``-ed.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ness_core import comparisons
from ness_core import figures as figure_kinds
from ness_core.errors import ConfigError, ParameterError
from ness_core.figures import figure_name  # noqa: F401 (its former home; callers use figures)
from ness_core.model import Model
from ness_core.models import get_model
from ness_core.sweep import Study, canonical_json

# Study and figure names are path components (results/<study>/figures/<figure>.png) and
# Snakemake wildcard values: a letter or digit, then letters, digits, _ . - (100 at most).
NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"
_NAME = re.compile(NAME_PATTERN, re.ASCII)
MAX_POINTS_PER_STUDY = 1_000_000  # default of the config's max_points_per_study
MAX_ALIAS_VALUES = 10_000  # most values all YAML aliases of a config may stand for
MAX_NESTING = 32  # deepest nesting of mappings and lists a config file may have
MAX_CONFIG_BYTES = 16 * 2**20  # largest config file read


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it


def _check_events(text: str, name: str) -> None:
    """Refuse alias bombs, deep nesting, non-scalar keys and duplicate keys, from the
    parser's event stream (libyaml's, fast), before anything is built.

    An alias (``*name``, also in a merge ``<<: *name``) stands for the whole anchored node:
    a few hundred bytes of aliases of aliases expand to billions of values, so the values
    all aliases stand for together may be at most :data:`MAX_ALIAS_VALUES`. A duplicate key
    would otherwise silently keep the last value; keys count as equal when their resolved
    tags and texts are equal (``1`` and ``"1"`` differ, as in the result).
    """
    # one frame per open collection: [is a mapping, next node is a key,
    # {(tag, key): line}, values inside so far, anchor]
    stack: list[list[Any]] = []
    sizes: dict[str, int] = {}  # values inside each anchored node, aliases expanded
    aliased = 0
    resolver = yaml.resolver.Resolver()

    def where(event: Any) -> str:
        return f"{name}, line {event.start_mark.line + 1}"

    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionEndEvent):
            _, _, _, count, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = count
            if stack:
                stack[-1][3] += count
            continue
        if not isinstance(event, yaml.NodeEvent):  # stream and document events
            continue
        frame = stack[-1] if stack else None
        is_key = frame is not None and frame[0] and frame[1]
        if frame is not None and frame[0]:
            frame[1] = not frame[1]  # a key, then its value
        if isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor, 1)
            aliased += size
            if aliased > MAX_ALIAS_VALUES:
                raise ConfigError(f"{where(event)}: YAML aliases (*{event.anchor}) stand for "
                                  f"more than {MAX_ALIAS_VALUES} values; write them out")
            if frame is not None:
                frame[3] += size
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            if is_key:
                raise ConfigError(f"{where(event)}: a key must be a plain value, not a list "
                                  "or mapping")
            if len(stack) >= MAX_NESTING:
                raise ConfigError(f"{where(event)}: nested deeper than {MAX_NESTING} levels")
            stack.append([isinstance(event, yaml.MappingStartEvent), True, {}, 1,
                          event.anchor])
            continue
        if frame is not None:
            frame[3] += 1
        if event.anchor is not None:
            sizes[event.anchor] = 1
        if is_key:
            tag = event.tag or resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            seen = frame[2]
            if (tag, event.value) in seen:
                raise ConfigError(f"{where(event)}: duplicate key {event.value!r} (first at "
                                  f"line {seen[tag, event.value] + 1})")
            seen[tag, event.value] = event.start_mark.line


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """A config file's mapping, read strictly: :func:`_check_events`, then libyaml's safe
    loader (JSON is YAML too).

    Raises :class:`ConfigError` with one line naming the file (and line) on an unreadable
    file, bad YAML, an alias, a duplicate key, deep nesting, a top level that is not a
    mapping, or a YTE template (``__use_yte__``): a config is data, never code.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        _check_events(text, str(path))
        config = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: {problem}") from None
    config = {} if config is None else config
    check_structure(config, str(path))
    return config


def check_structure(config: Any, source: str = "config") -> None:
    """Checks that come before the schema, on a config from any loader (also Snakemake's):
    a mapping, no YTE template, study and figure names matching :data:`NAME_PATTERN`, and
    no study with more points than ``max_points_per_study`` (counted from list lengths and
    ``num``, before anything is expanded). ``source`` (a file) starts the first two
    messages."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{source}: expected a mapping with 'studies', got "
                          f"{type(config).__name__}")
    if "__use_yte__" in config:
        raise ConfigError(f"{source}: __use_yte__: YTE templates run code; a ness-sweep "
                          "config is plain data, so write the values out")
    limit = config.get("max_points_per_study", MAX_POINTS_PER_STUDY)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"max_points_per_study: {limit!r} is not an integer >= 1")
    studies = config.get("studies")
    if not isinstance(studies, Mapping):
        return  # the schema says what is wrong
    for name, spec in studies.items():
        check_name(name, "study")
        if not isinstance(spec, Mapping):
            continue
        figures = spec.get("figures")
        for i, fig in enumerate(figures if isinstance(figures, list) else []):
            if isinstance(fig, Mapping) and fig.get("name") is not None:
                check_name(fig["name"], f"study '{name}', figures[{i}] 'name': figure")
        count_points(name, spec.get("sweep"), limit)


def check_name(name: Any, what: str) -> None:
    """Raise :class:`ConfigError` unless ``name`` is a string matching :data:`NAME_PATTERN`."""
    if not isinstance(name, str):
        hint = " (quote it)" if isinstance(name, int | float | bool) or name is None else ""
        raise ConfigError(f"{what} name {name!r} is a {type(name).__name__}, not a "
                          f"string{hint}; names match {NAME_PATTERN}")
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 40 else name[:30] + "…"
        raise ConfigError(f"{what} '{shown}': not a valid name; names are 1-100 characters: "
                          "a letter or digit, then letters, digits, _ . or - "
                          f"({NAME_PATTERN})")


def count_points(name: str, sweep: Any, limit: int) -> int:
    """Grid points of a ``sweep:`` block from its list lengths and ``num`` values, without
    expanding it; :class:`ConfigError` above ``limit``. Malformed axes count 1 (the schema
    and :func:`expand_values` report them)."""
    if not isinstance(sweep, Mapping):
        return 0
    sizes = {}
    for axis, spec in sweep.items():
        if isinstance(spec, list):
            sizes[axis] = len(spec)
        elif isinstance(spec, Mapping) and isinstance(spec.get("num"), int):
            sizes[axis] = max(int(spec["num"]), 1)
        else:
            sizes[axis] = 1
    total = math.prod(sizes.values())
    if total > limit:
        factors = " × ".join(f"{axis} {n}" for axis, n in sizes.items())
        raise ConfigError(f"study '{name}', sweep: {total:.3g} points ({factors}) exceed "
                          f"max_points_per_study = {limit}; shrink the grid or raise the "
                          "limit with a top-level 'max_points_per_study: N' in the config")
    return total


def expand_values(spec: Any) -> list[Any]:
    """Values of one swept axis from a list or ``{start, stop, num, scale: lin|log}``.

    ``lin`` is ``numpy.linspace(start, stop, num)``, ``log`` is
    ``numpy.logspace(log10(start), log10(stop), num)``. Raises ``ValueError`` for an empty
    list, repeated values, ``num < 1``, ``stop < start``, or a log scale with ``start <= 0``.
    """
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"start", "stop", "num", "scale"}
        if unknown or not {"start", "stop", "num"} <= set(spec):
            raise ValueError("a range needs exactly start, stop, num and optionally scale")
        start, stop, num, scale = spec["start"], spec["stop"], spec["num"], spec.get("scale", "lin")
        if not all(_is_number(v) for v in (start, stop)):
            raise ValueError("start and stop must be numbers")
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ValueError(f"num must be an integer >= 1, got {num!r}")
        if stop < start:
            raise ValueError(f"stop ({stop}) is smaller than start ({start})")
        if scale == "lin":
            values = np.linspace(start, stop, num)
        elif scale == "log":
            if start <= 0:
                raise ValueError(f"a log scale needs start > 0, got {start}")
            values = np.logspace(math.log10(start), math.log10(stop), num)
        else:
            raise ValueError(f"scale must be 'lin' or 'log', got {scale!r}")
        return [float(v) for v in values]
    if isinstance(spec, list):
        if not spec:
            raise ValueError("empty sweep: give at least one value")
        return list(spec)
    raise ValueError(f"expected a list of values or a range, got {spec!r}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def parse_study(name: str, spec: Mapping[str, Any]) -> Study:
    """Validate one study against its model; raise :class:`ConfigError` naming study and key."""
    where = f"study '{name}'"
    model_name = spec.get("model")
    if model_name == "network" or spec.get("network") is not None:
        model_name = _network_model_name(where, model_name, spec.get("network"))
    elif model_name in DECLARED_KINDS or any(spec.get(k) is not None for k in DECLARED_KINDS):
        model_name = _declared_model_name(where, model_name, spec)
    try:
        m = get_model(model_name)
    except ParameterError as exc:
        raise ConfigError(f"{where}, model: {exc}") from None
    sweep, fixed = spec.get("sweep") or {}, spec.get("fixed") or {}
    if not sweep:
        raise ConfigError(f"{where}, sweep: empty sweep; name at least one parameter")
    axes: dict[str, list[Any]] = {}
    for key, value_spec in sweep.items():
        try:
            values = [m.parameter(key).coerce(v) for v in expand_values(value_spec)]
        except (ParameterError, ValueError) as exc:
            raise ConfigError(f"{where}, sweep '{key}': {exc}") from None
        if len(set(map(canonical_json, values))) != len(values):
            raise ConfigError(f"{where}, sweep '{key}': repeated values {values}")
        axes[key] = values
    both = sorted(set(sweep) & set(fixed))
    if both:
        raise ConfigError(f"{where}, fixed '{both[0]}': parameter is both swept and fixed")
    coerced_fixed = {}
    for key, value in fixed.items():
        try:
            coerced_fixed[key] = m.parameter(key).coerce(value)
        except ParameterError as exc:
            raise ConfigError(f"{where}, fixed '{key}': {exc}") from None
    study = Study(name, m.name, axes, coerced_fixed,
                  list(spec.get("figures") or [])
                  or figure_kinds.default_figures(m.name, axes),
                  spec.get("chunk_size"), _refine_block(where, m, axes, spec.get("refine")))
    # every value is coerced and in range: what is left are the cross-parameter checks
    base = {**{p.name: p.default for p in m.parameters}, **coerced_fixed}
    if type(m).check is not Model.check:
        for coords in itertools.product(*axes.values()):
            point = dict(zip(axes, coords, strict=True))
            try:
                m.check({**base, **point})
            except ParameterError as exc:
                raise ConfigError(f"{where}, sweep point {point}: {exc}") from None
    for i, fig in enumerate(study.figures):
        figure_kinds.check_figure(study, fig, f"{where}, figures[{i}]")
    names = [figure_kinds.figure_name(f) for f in study.figures]
    for i, fig_name in enumerate(names):
        check_name(fig_name, f"{where}, figures[{i}]: figure")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}, figures: two figures are called the same; set 'name'")
    return study


def _refine_block(where: str, m: type[Model], axes: Mapping[str, list[Any]],
                  block: Any) -> dict[str, Any] | None:
    """A study's ``refine:`` block, checked against its model and grid (None if absent).

    One refined axis (``axis:``, :mod:`ness_core.refinement`) or two (``axes: [x, y]``,
    :mod:`ness_core.refinement2d`); the returned block has the one key it was given."""
    if block is None:
        return None
    from ness_core import refinement, refinement2d  # (scipy.spatial) only for a refined study

    if not isinstance(block, Mapping):
        raise ConfigError(f"{where}, refine: expected a mapping with axis (or axes), target, "
                          "observable, tolerance, max_points")
    where = f"{where}, refine"
    target, name = block.get("target"), block.get("observable")
    if ("axis" in block) == ("axes" in block):
        raise ConfigError(f"{where}: give either 'axis' (one swept axis) or 'axes' (two), "
                          "not both or neither")
    refined = [block["axis"]] if "axis" in block else block["axes"]
    key = "axis" if "axis" in block else "axes"
    if key == "axes" and (not isinstance(refined, list) or len(refined) != 2
                          or refined[0] == refined[1]):
        raise ConfigError(f"{where} 'axes': expected two different swept axes [x, y], got "
                          f"{refined!r}")
    for axis in refined:
        if axis not in axes:
            known = (f"a parameter of model '{m.name}' but not swept"
                     if axis in {p.name for p in m.parameters}
                     else f"no parameter of model '{m.name}'")
            raise ConfigError(f"{where} '{key}': {axis!r} is {known}; swept axes: "
                              f"{', '.join(axes)}")
        if (m.parameter(axis).kind is not float or not all(_is_number(v) for v in axes[axis])
                or len(axes[axis]) < (3 if key == "axis" else 2)):
            least = 3 if key == "axis" else 2
            raise ConfigError(f"{where} '{key}': '{axis}' needs a real-valued parameter with at "
                              f"least {least} values to refine, got {axes[axis]}")
    targets = refinement.TARGETS if key == "axis" else refinement2d.TARGETS
    if target not in targets:
        other = "axes: [x, y]" if key == "axis" else "axis:"
        also = (f"; {target!r} is a target of {other}"
                if target in refinement.TARGETS + refinement2d.TARGETS else "")
        raise ConfigError(f"{where} 'target': {target!r} is not one of {', '.join(targets)} "
                          f"(the targets of {key}:){also}")
    scalars = [o.name for o in m.all_observables() if not o.dims and o.kind is not str]
    if name not in scalars:
        raise ConfigError(f"{where} 'observable': {name!r} is not a scalar numeric observable "
                          f"of model '{m.name}'; one of {', '.join(scalars)}")
    tolerance, budget = block.get("tolerance"), block.get("max_points")
    if not _is_number(tolerance) or tolerance <= 0:
        raise ConfigError(f"{where} 'tolerance': {tolerance!r} is not a number > 0")
    coarse = math.prod(len(axes[a]) for a in refined)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < coarse:
        grid = " x ".join(f"'{a}'" for a in refined)
        raise ConfigError(f"{where} 'max_points': {budget!r} is smaller than the "
                          f"{coarse} points of the grid along {grid}; give an integer >= that")
    return {key: block[key] if key == "axis" else list(refined), "target": target,
            "observable": name, "tolerance": float(tolerance), "max_points": budget}


def _network_model_name(where: str, model: Any, block: Any) -> str:
    """Model name of a study's user-defined reaction network (:mod:`ness_core.models.network`):
    ``model: network`` with a ``network:`` block (SBML paths relative to the working
    directory). The name holds the normalised network, so point ids hash the network."""
    from ness_core.models import network

    if model != "network":
        raise ConfigError(f"{where}, network: a network block needs model: network, "
                          f"not {model!r}")
    if block is None:
        raise ConfigError(f"{where}, network: model: network needs a network block "
                          "(species, chemostats, reactions, or sbml)")
    try:
        return network.model_name(network.normalize(block))
    except ParameterError as exc:
        raise ConfigError(f"{where}, network: {exc}") from None


DECLARED_KINDS = ("markov", "lindblad")


def _declared_model_name(where: str, model: Any, spec: Mapping[str, Any]) -> str:
    """Model name of a study's declared Markov or Lindblad model
    (:mod:`ness_core.models.declared`): ``model: markov`` with a ``markov:`` block, or
    ``model: lindblad`` with a ``lindblad:`` block; the name holds the normalised block."""
    from ness_core.models import declared

    for kind in DECLARED_KINDS:
        if spec.get(kind) is not None and model != kind:
            raise ConfigError(f"{where}, {kind}: a {kind} block needs model: {kind}, "
                              f"not {model!r}")
    if spec.get(model) is None:
        raise ConfigError(f"{where}, {model}: model: {model} needs a {model} block")
    try:
        return declared.model_name(model, declared.normalize(model, spec[model]))
    except ParameterError as exc:
        raise ConfigError(f"{where}, {exc}") from None


def parse_config(config: Mapping[str, Any]) -> dict[str, Study]:
    """Every study of a config (``{"studies": {name: spec}}``), validated, in config order."""
    studies = config.get("studies") or {}
    if not studies:
        raise ConfigError("studies: the config defines no study")
    return {name: parse_study(name, spec) for name, spec in studies.items()}


def describe_schema_error(error: Any) -> str:
    """One line for a ``jsonschema.ValidationError``: ``study 'a', sweep 'T': <message>``."""
    path = list(error.absolute_path)
    parts = []
    if len(path) >= 2 and path[0] == "studies":
        parts.append(f"study '{path[1]}'")
        rest = path[2:]
        if len(rest) >= 2 and rest[0] in ("sweep", "fixed"):
            parts.append(f"{rest[0]} '{rest[1]}'")
            rest = rest[2:]
    else:
        rest = path
    for key in rest:
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        else:
            parts.append(str(key))
    return f"{', '.join(parts) or 'config'}: {error.message}"


SHORT_LIST = 100  # sweep lists longer than this are type-checked here, not by the schema


def _schema_view(config: dict[str, Any]) -> dict[str, Any]:
    """What the schema validates: ``config`` with each sweep list longer than
    :data:`SHORT_LIST` cut to its first item once its items are checked here (jsonschema
    takes ~12 µs per item: 12 s for a list of 10⁶ values). The top level, the studies and
    their sweep mappings are copies; everything else is shared, so defaults the schema
    fills in below them land in ``config`` itself (:func:`_take_defaults` copies the rest).
    """
    studies = config.get("studies")
    if not isinstance(studies, Mapping):
        return config
    view = dict(config)
    view["studies"] = {}
    for name, spec in studies.items():
        sweep = spec.get("sweep") if isinstance(spec, Mapping) else None
        if isinstance(sweep, Mapping):
            spec = dict(spec)
            spec["sweep"] = {axis: _checked_head(name, axis, values)
                             if isinstance(values, list) and len(values) > SHORT_LIST
                             else values for axis, values in sweep.items()}
        view["studies"][name] = spec
    return view


def _checked_head(study: str, axis: str, values: list[Any]) -> list[Any]:
    for i, value in enumerate(values):
        if isinstance(value, list | dict) or value is None:
            raise ConfigError(f"study '{study}', sweep '{axis}'[{i}]: {value!r} is not a "
                              "number, string or boolean")
    return values[:1]


def _take_defaults(config: dict[str, Any], view: dict[str, Any]) -> None:
    """Copy the keys the schema filled into the copies of :func:`_schema_view` back."""
    if view is config:
        return
    for key, value in view.items():
        config.setdefault(key, value)
    for name, spec in view["studies"].items():
        original = config["studies"][name]
        if spec is not original:
            for key, value in spec.items():
                if key != "sweep":
                    original.setdefault(key, value)


def load_config(config: dict[str, Any], schema: str | os.PathLike,
                captions: str | os.PathLike | None = None) -> dict[str, Study]:
    """Schema check (fills defaults in ``config``), then model checks; one-line ConfigError.

    A figure's ``caption`` must name a file (:func:`caption_file`): relative to the working
    directory (the user's own), else in the workflow's caption directory ``captions``, by
    default ``report/`` beside the schema's directory (``workflow/report/`` for
    ``workflow/schemas/``).
    """
    import jsonschema
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    check_structure(config)
    view = _schema_view(config)
    try:
        validate(view, schema=str(schema), set_default=True)
    except WorkflowError as error:
        cause = error.__context__  # snakemake wraps the jsonschema error
        if isinstance(cause, jsonschema.ValidationError):
            raise ConfigError(describe_schema_error(cause)) from None
        raise ConfigError(str(error).strip().splitlines()[0]) from None
    _take_defaults(config, view)
    studies = parse_config(config)
    captions = Path(captions or Path(schema).resolve().parent.parent / "report")
    for study in studies.values():
        for i, fig in enumerate(study.figures):
            if fig.get("caption") and caption_file(fig["caption"], captions) is None:
                raise ConfigError(f"study '{study.name}', figures[{i}] 'caption': no file "
                                  f"{fig['caption']!r} in the working directory "
                                  f"{Path.cwd()} nor in {captions}")
    comparisons.check_comparisons(config.get("comparisons") or {}, studies, captions)
    return studies


def caption_file(name: str, captions: str | os.PathLike) -> Path | None:
    """The file a figure's ``caption: name`` means: ``name`` relative to the working
    directory (a caption of the user's repository) if it is a file there, else ``name`` in
    the workflow's caption directory ``captions``; ``None`` if neither exists."""
    for path in (Path(name), Path(captions, name)):
        if path.is_file():
            return path
    return None
