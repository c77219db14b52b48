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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ness_core.errors import ConfigError, ParameterError
from ness_core.models import get_model
from ness_core.sweep import Study, canonical_json

FIGURE_KINDS = ("line", "heatmap", "loglog", "spectrum")
# Figure keys only some kinds take (an option set on another kind would be ignored).
KIND_OPTIONS = {"logy": ("line", "spectrum"), "offdiagonal": ("line",),
                "minimum_over": ("line",),
                "reference": ("spectrum",), "logz": ("heatmap",), "vmin": ("heatmap",),
                "vmax": ("heatmap",), "contours": ("heatmap",)}
OVERLAYS = ("phase_boundaries",)

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
    study = Study(name, m.name, axes, coerced_fixed, list(spec.get("figures") or []),
                  spec.get("chunk_size"))
    for coords in itertools.product(*axes.values()):
        point = dict(zip(axes, coords, strict=True))
        try:
            m.resolve({**coerced_fixed, **point})
        except ParameterError as exc:
            raise ConfigError(f"{where}, sweep point {point}: {exc}") from None
    for i, fig in enumerate(study.figures):
        _check_figure(study, fig, f"{where}, figures[{i}]")
    names = [figure_name(f) for f in study.figures]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}, figures: two figures are called the same; set 'name'")
    return study


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


def _as_list(names: Any) -> list[Any]:
    return [names] if isinstance(names, str) else list(names or [None])


def _check_figure(study: Study, fig: Mapping[str, Any], where: str) -> None:
    """Figure keys must name swept axes, observables and known overlays."""
    m = get_model(study.model)
    observables = {o.name for o in m.all_observables() if o.kind is not str}
    kind = fig.get("kind")
    if kind not in FIGURE_KINDS:
        raise ConfigError(f"{where} 'kind': {kind!r}; expected one of {', '.join(FIGURE_KINDS)}")
    for key, kinds in KIND_OPTIONS.items():
        if fig.get(key) not in (None, False, []) and kind not in kinds:
            raise ConfigError(f"{where} '{key}': only {' and '.join(kinds)} figures take "
                              f"'{key}', this one is {kind}")
    if kind == "spectrum" and fig.get("hue") is not None:
        raise ConfigError(f"{where} 'hue': a spectrum figure colours its y and reference "
                          "curves in pairs; give the axis as 'facet' instead")
    axis_keys = ["x", "y"] if kind == "heatmap" else ["x"]
    axis_keys += [k for k in ("hue", "facet", "minimum_over") if fig.get(k) is not None]
    over = fig.get("minimum_over")
    if over is not None and over in (fig.get("x"), fig.get("hue")):
        raise ConfigError(f"{where} 'minimum_over': {fig['minimum_over']!r} is drawn as x or "
                          "hue; minimise over another swept axis")
    value_keys = ["value"] if kind == "heatmap" else ["y"]
    if kind == "spectrum":  # observables against an observable along a model dimension
        axis_keys.remove("x")
        value_keys = ["x", "y"] + (["reference"] if fig.get("reference") else [])
    dims = {d for o in m.all_observables() for d in o.dims}
    if kind == "line" and fig.get("x") in dims:  # a profile along a model dimension
        axis_keys.remove("x")
        for obs in _as_list(fig.get("y")):
            if obs in observables and fig["x"] not in m.observable(obs).dims:
                raise ConfigError(f"{where} 'y': {obs!r} has no dimension {fig['x']!r}; "
                                  f"'x' must be a swept axis or a dimension of every 'y'")
    for key in axis_keys:
        if fig.get(key) not in study.axes:
            raise ConfigError(f"{where} '{key}': {fig.get(key)!r} is not a swept axis of this "
                              f"study; swept: {', '.join(study.axes)}")
    for key in value_keys:
        for obs in _as_list(fig.get(key)):
            if obs not in observables:
                raise ConfigError(f"{where} '{key}': {obs!r} is not a numeric observable of "
                                  f"'{m.name}'; observables: {', '.join(sorted(observables))}")
    shown = [o for key in value_keys for o in _as_list(fig.get(key))]
    if kind == "spectrum":
        x_dims = m.observable(fig["x"]).dims
        if not x_dims:
            raise ConfigError(f"{where} 'x': {fig['x']!r} has no model dimension; a spectrum "
                              "figure needs an observable along one (e.g. mode_energy)")
        for key in ("y", "reference"):
            for obs in _as_list(fig.get(key)) if fig.get(key) else []:
                if m.observable(obs).dims != x_dims:
                    raise ConfigError(f"{where} '{key}': {obs!r} has dims "
                                      f"{m.observable(obs).dims}, not those of 'x' {x_dims}")
    select = fig.get("select") or {}
    if kind == "line" and fig.get("x") in dims:  # every other model dim must be fixed
        for obs in shown:
            for dim in m.observable(obs).dims:
                if dim != fig["x"] and dim not in select:
                    raise ConfigError(f"{where} 'select': {obs!r} has the dimension {dim!r} "
                                      f"besides 'x'; fix it, e.g. select: {{{dim}: 1}}")
    shown_dims = {d for obs in shown for d in m.observable(obs).dims}
    if fig.get("offdiagonal") and (fig.get("x") not in dims
                                   or not any(d in shown_dims for d in select)):
        raise ConfigError(f"{where} 'offdiagonal': needs 'x' a model dimension and another "
                          "one fixed by 'select' (e.g. x: site_j, select: {site_i: 3})")
    for axis, value in select.items():
        if axis in shown_dims and axis not in study.axes:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where} 'select': {axis}={value!r} is not an index "
                                  "(1, 2, ...) along that model dimension")
        elif axis not in study.axes or value not in study.axes[axis]:
            raise ConfigError(f"{where} 'select': {axis}={value!r} is not a swept value")
    vmin, vmax = fig.get("vmin"), fig.get("vmax")
    if vmin is not None and vmax is not None and vmin >= vmax:
        raise ConfigError(f"{where} 'vmin': {vmin!r} is not below 'vmax' {vmax!r}")
    if fig.get("logz") and vmin is not None and vmin <= 0:
        raise ConfigError(f"{where} 'vmin': a log colour scale (logz) needs vmin > 0, "
                          f"got {vmin!r}")
    overlay = fig.get("overlay")
    if overlay is not None and overlay not in OVERLAYS:
        raise ConfigError(f"{where} 'overlay': {overlay!r}; expected one of {OVERLAYS}")


def figure_name(fig: Mapping[str, Any]) -> str:
    """File stem of a figure: its ``name`` or ``<kind>_<values>_vs_<x>``."""
    if fig.get("name"):
        return str(fig["name"])
    values = fig.get("value") if fig.get("kind") == "heatmap" else fig.get("y")
    values = [values] if isinstance(values, str) else list(values or [])
    return f"{fig.get('kind')}_{'-'.join(values)}_vs_{fig.get('x')}"


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


def load_config(config: dict[str, Any], schema: str | os.PathLike) -> dict[str, Study]:
    """Schema check (fills defaults in ``config``), then model checks; one-line ConfigError.

    A figure's ``caption`` must name a file of the workflow's caption directory, ``report/``
    beside the schema's directory (``workflow/report/`` for ``workflow/schemas/``).
    """
    import jsonschema
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, schema=str(schema), set_default=True)
    except WorkflowError as error:
        cause = error.__context__  # snakemake wraps the jsonschema error
        if isinstance(cause, jsonschema.ValidationError):
            raise ConfigError(describe_schema_error(cause)) from None
        raise ConfigError(str(error).strip().splitlines()[0]) from None
    studies = parse_config(config)
    captions = Path(schema).resolve().parent.parent / "report"
    for study in studies.values():
        for i, fig in enumerate(study.figures):
            if fig.get("caption") and not (captions / fig["caption"]).is_file():
                raise ConfigError(f"study '{study.name}', figures[{i}] 'caption': no file "
                                  f"{fig['caption']!r} in {captions}")
    return studies
