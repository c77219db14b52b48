"""Figure specs: the one declaration of the figure kinds and their options.

:data:`KINDS` names each kind of figure (``line``, ``heatmap``, ``loglog``, ``spectrum``)
with the function of :mod:`ness_core.plots` that draws it; :data:`OPTIONS` declares every
key a figure spec takes, with its JSON schema (``description``, ``default``) and the kinds
that take it. From this declaration come

* the ``$defs/figure`` block of ``workflow/schemas/config.schema.yaml``
  (:func:`schema`; ``python -m ness_core.figures`` prints it as YAML, and a test checks the
  file holds exactly it);
* the figure table of ``config/README.md`` (:func:`readme_table`, also checked by a test);
* the checks of :func:`check_figure` (an option set on a kind that does not take it is a
  config error) and the drawing dispatch of :func:`ness_core.plots.draw`.

A study that lists no figures gets :func:`default_figures`. This module imports no
matplotlib: the config is checked without it (a ``style:`` is looked up only when given).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ness_core.errors import ConfigError
from ness_core.models import get_model
from ness_core.sweep import Study


@dataclass(frozen=True)
class Kind:
    """A kind of figure: its name, what it shows (one phrase) and its drawing function in
    :mod:`ness_core.plots`."""

    name: str
    summary: str
    draw: str


@dataclass(frozen=True)
class Option:
    """One key of a figure spec: its JSON schema (with ``description`` and, unless
    required, ``default``) and the kinds that take it (``None``: every kind)."""

    name: str
    schema: dict[str, Any]
    kinds: tuple[str, ...] | None = None


KINDS = {k.name: k for k in (
    Kind("line", "observables vs x, curves per hue", "line_figure"),
    Kind("heatmap", "value over x, y", "heatmap_figure"),
    Kind("loglog", "y vs x with power-law fit", "loglog_figure"),
    Kind("spectrum", "observables y vs the observable x along their model dimension, with "
         "reference curves; e.g. mover occupations vs mode energy", "spectrum_figure"),
)}
FIGURE_KINDS = tuple(KINDS)
REQUIRED = ("kind", "x")
OVERLAYS = ("phase_boundaries",)
# Figure sizes by name, (width, height) in inches: one journal column (8.6 cm, APS) and
# two columns (17.8 cm); the height is that of one panel row, scaled by the rows drawn.
SIZES = {"single": (3.4, 2.55), "double": (7.0, 2.8)}
LABELS = ("long", "symbol")
# Styles of SciencePlots (drawn with its no-latex style, so no LaTeX is needed).
SCIENCEPLOTS_STYLES = ("science", "ieee", "nature", "scatter", "notebook", "grid", "bright",
                       "high-vis", "muted", "retro", "vibrant", "light", "high-contrast")

_N = ["number", "null"]
_S = ["string", "null"]
OPTIONS = {o.name: o for o in (
    Option("kind", {"description": ", ".join(f"{k.name} ({k.summary})" for k in
                                             KINDS.values()) + ".",
                    "enum": list(FIGURE_KINDS)}),
    Option("name", {"description": "File name stem (a letter or digit, then letters, digits, "
                    "_ . -; at most 100 characters); null derives <kind>_<observables>_vs_<x>.",
                    "type": _S, "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                    "default": None}),
    Option("x", {"description": "Swept axis on the horizontal axis; for line figures also a "
                 "model dimension such as site (a profile); for spectrum figures an observable "
                 "with a model dimension (e.g. mode_energy).", "type": "string"}),
    Option("y", {"description": "line/loglog/spectrum - observable(s) on the vertical axis; "
                 "heatmap - swept axis on the vertical axis.", "type": ["string", "array"],
                 "items": {"type": "string"}, "minItems": 1}),
    Option("value", {"description": "heatmap - observable shown in colour.", "type": _S,
                     "default": None}),
    Option("hue", {"description": "Swept axis giving one curve per value (line, loglog).",
                   "type": _S, "default": None}),
    Option("facet", {"description": "Swept axis giving one panel column per value; null takes "
                     "the first unused axis.", "type": _S, "default": None}),
    Option("select", {"description": "Unused swept axes fixed to one of their values, {axis - "
                      "value}; also model dimensions of the observables by their 1-based "
                      "index, e.g. {site_i - 3} for a row of a two-point function drawn "
                      "against site_j.", "type": "object", "default": {}}),
    Option("reference", {"description": "spectrum - observable(s) drawn as lines, reference[i] "
                         "in the colour of y[i] (e.g. fermi_left beside "
                         "occupation_right_movers); null for none.",
                         "type": ["string", "array", "null"], "items": {"type": "string"},
                         "minItems": 1, "default": None}, ("spectrum",)),
    Option("logy", {"description": "line/spectrum - log scale on the vertical axis (values <= "
                    "0 left out, with a warning).", "type": "boolean", "default": False},
           ("line", "spectrum")),
    Option("minimum_over", {"description": "line - plot each y minimised over this swept axis "
                            "(not x or hue), e.g. the smallest gap along the drive against "
                            "the scale N.", "type": _S, "default": None}, ("line",)),
    Option("offdiagonal", {"description": "line - for a two-point function drawn against one "
                           "model dimension (x) with the other fixed by select, leave out the "
                           "point where the two coincide (the on-site variance).",
                           "type": "boolean", "default": False}, ("line",)),
    Option("logz", {"description": "heatmap - logarithmic colour scale (values <= 0 left "
                    "blank).", "type": "boolean", "default": False}, ("heatmap",)),
    Option("vmin", {"description": "heatmap - bottom of the colour scale (e.g. a bound); "
                    "values below it are drawn in green. null - the data minimum.",
                    "type": _N, "default": None}, ("heatmap",)),
    Option("vmax", {"description": "heatmap - top of the colour scale; values above it take "
                    "the top colour. null - the data maximum.", "type": _N, "default": None},
           ("heatmap",)),
    Option("contours", {"description": "heatmap - levels of labelled contour lines of the "
                        "value (e.g. [2.2, 3] for a TUR ratio within 10 % and 50 % of its "
                        "bound 2); empty for none.", "type": "array",
                        "items": {"type": "number"}, "default": []}, ("heatmap",)),
    Option("caption", {"description": "This figure's own caption, an .rst file - a path "
                       "relative to the working directory (e.g. captions/fig2.rst in your own "
                       "repository), else a file name in workflow/report/ (e.g. "
                       "wire_chimera.rst) - shown in the Snakemake report after the generic "
                       "one; null for the generic caption only.", "type": _S,
                       "pattern": "^[^\\x00]+[.]rst$", "default": None}),
    Option("overlay", {"description": "heatmap - reference lines from the model "
                       "(phase_boundaries), or null.", "enum": [*OVERLAYS, None],
                       "default": None}, ("heatmap",)),
    Option("fit_min", {"description": "loglog - fit the power law only to points with x >= "
                       "fit_min; null sets no lower bound.", "type": _N, "default": None},
           ("loglog",)),
    Option("fit_max", {"description": "loglog - fit the power law only to points with x <= "
                       "fit_max; null sets no upper bound.", "type": _N, "default": None},
           ("loglog",)),
    Option("expected_exponent", {"description": "loglog - the exponent theory expects, drawn "
                                 "as a dashed guide line through each curve's fit and named in "
                                 "its legend entry: one number for every curve, or a list with "
                                 "one number (or null) per hue value, in the sweep's order; "
                                 "null for none.",
                                 "type": ["number", "array", "null"],
                                 "items": {"type": ["number", "null"]}, "minItems": 1,
                                 "default": None}, ("loglog",)),
    Option("size", {"description": "Figure size - single (one journal column, 3.4 in wide) or "
                    "double (two columns, 7 in), the height growing with the panel rows; or "
                    "[width, height] in inches; null sizes by panel (4.2 x 3.2 in each).",
                    "oneOf": [{"enum": [*SIZES, None]},
                              {"type": "array", "items": {"type": "number",
                                                          "exclusiveMinimum": 0},
                               "minItems": 2, "maxItems": 2}],
                    "default": None}),
    Option("style", {"description": "A matplotlib style sheet - a name (plt.style.available; "
                     "SciencePlots' science, ieee, nature, ... where SciencePlots is installed, "
                     "drawn without LaTeX) or the path of an .mplstyle file relative to the "
                     "working directory; null for the seaborn ticks/paper look.", "type": _S,
                     "default": None}),
    Option("dpi", {"description": "Resolution of the PNG in dots per inch (the PDF is vector "
                   "graphics).", "type": "integer", "minimum": 10, "maximum": 2400,
                   "default": 150}),
    Option("title", {"description": "Title above the figure; null for none (axes left at one "
                     "value are still named above the panels).", "type": _S,
                     "default": None}),
    Option("labels", {"description": "Axis labels - long (the long name and unit, for reports) "
                      "or symbol (the model's TeX symbol and unit, e.g. $J$ [1/time], for "
                      "papers).", "enum": list(LABELS), "default": "long"}),
)}
# Figure keys only some kinds take (an option set on another kind would be ignored).
KIND_OPTIONS = {o.name: o.kinds for o in OPTIONS.values() if o.kinds is not None}

DEFAULT_OBSERVABLES = ("current", "entropy_production", "gap")
DENSE = 5  # values an axis needs for a default heatmap over it


def schema() -> dict[str, Any]:
    """The JSON schema of one figure spec (``$defs/figure`` of the config schema)."""
    return {"description": "One figure, saved as results/<study>/figures/<name>.png and .pdf.",
            "type": "object", "additionalProperties": False, "required": list(REQUIRED),
            "properties": {o.name: copy.deepcopy(o.schema) for o in OPTIONS.values()}}


def readme_table() -> str:
    """The figure table of ``config/README.md``: one row per option, in declaration order."""
    rows = ["| key | meaning | default |", "|---|---|---|"]
    for o in OPTIONS.values():
        default = "—" if "default" not in o.schema else f"`{_yaml_value(o.schema['default'])}`"
        rows.append(f"| `{o.name}` | {o.schema['description']} | "
                    f"{default} |")
    return "\n".join(rows)


def _yaml_value(value: Any) -> str:
    return "null" if value is None else json.dumps(value)


def with_defaults(fig: Mapping[str, Any]) -> dict[str, Any]:
    """``fig`` with every option it leaves out set to the declared default (as the schema's
    ``set_default`` does for figures written in a config)."""
    out = {o.name: o.schema["default"] for o in OPTIONS.values() if "default" in o.schema}
    return {**out, **fig}


def figure_name(fig: Mapping[str, Any]) -> str:
    """File stem of a figure: its ``name`` or ``<kind>_<values>_vs_<x>``."""
    if fig.get("name"):
        return str(fig["name"])
    values = fig.get("value") if fig.get("kind") == "heatmap" else fig.get("y")
    values = [values] if isinstance(values, str) else list(values or [])
    return f"{fig.get('kind')}_{'-'.join(values)}_vs_{fig.get('x')}"


def default_figures(model: str, axes: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Figures of a study that lists none: :data:`DEFAULT_OBSERVABLES` (those the model
    has) against the first swept axis, one curve per value of the second, one panel column
    per value of the third (further axes at their first value); and a heatmap of each when
    the first two axes are numeric with at least :data:`DENSE` values each."""
    m = get_model(model)
    declared = {o.name for o in m.all_observables()}
    ys = [y for y in DEFAULT_OBSERVABLES if y in declared]
    names = list(axes)
    line = {"kind": "line", "x": names[0], "y": ys}
    if len(names) > 1:
        line["hue"] = names[1]
    if len(names) > 2:
        line["facet"] = names[2]
    figs = [line]
    if len(names) > 1 and all(_dense(axes[a]) for a in names[:2]):
        for y in ys:
            figs.append({"kind": "heatmap", "x": names[0], "y": names[1], "value": y,
                         **({"facet": names[2]} if len(names) > 2 else {})})
    return [with_defaults(f) for f in figs]


def _dense(values: list[Any]) -> bool:
    return (len(values) >= DENSE
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values))


def _as_list(names: Any) -> list[Any]:
    return [names] if isinstance(names, str) else list(names or [None])


def check_style(style: Any, where: str) -> None:
    """A ``style:`` must be a matplotlib style name, a SciencePlots style with SciencePlots
    installed, or an existing file; else :class:`ConfigError` naming what is available."""
    if style is None:
        return
    if not isinstance(style, str):
        raise ConfigError(f"{where} 'style': {style!r} is not a style name or file path")
    try:
        if Path(style).is_file():
            return
    except (OSError, ValueError):  # e.g. a NUL byte or a name too long for a path
        pass
    import matplotlib.style

    if style in matplotlib.style.available:
        return
    if style in SCIENCEPLOTS_STYLES:
        try:
            import scienceplots  # noqa: F401  (registers its styles with matplotlib)
        except ImportError:
            pass
        else:
            return
        raise ConfigError(f"{where} 'style': {style!r} is a SciencePlots style and SciencePlots "
                          "is not installed (pip install SciencePlots); or choose a "
                          "matplotlib style")
    raise ConfigError(f"{where} 'style': {style!r} is neither a file nor a matplotlib style; "
                      f"styles: {', '.join(sorted(matplotlib.style.available))}")


def check_figure(study: Study, fig: Mapping[str, Any], where: str) -> None:
    """Figure keys must name swept axes, observables, known overlays and styles."""
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
    check_style(fig.get("style"), where)
    roles = [(k, fig.get(k)) for k in (("x", "y") if kind == "heatmap" else ("x",))
             + ("hue", "facet", "minimum_over") if fig.get(k) is not None]
    for i, (key, axis) in enumerate(roles):
        for other, same in roles[:i]:
            if same == axis:
                raise ConfigError(f"{where} '{key}': {axis!r} is already '{other}'; each "
                                  "axis plays one part in a figure; choose another swept axis")
    for key in ("y", "reference"):
        names = fig.get(key)
        if kind != "heatmap" and isinstance(names, list) and len(set(names)) != len(names):
            raise ConfigError(f"{where} '{key}': {names} names an observable twice")
    fit_min, fit_max = fig.get("fit_min"), fig.get("fit_max")
    if fit_min is not None and fit_max is not None and fit_min >= fit_max:
        raise ConfigError(f"{where} 'fit_min': {fit_min!r} is not below 'fit_max' {fit_max!r}")
    expected = fig.get("expected_exponent")
    if isinstance(expected, list):
        hue = fig.get("hue")
        if hue is None or hue not in study.axes:
            raise ConfigError(f"{where} 'expected_exponent': a list gives one exponent per "
                              "hue value, and this figure has no swept 'hue'; give one number")
        if len(expected) != len(study.axes[hue]):
            raise ConfigError(f"{where} 'expected_exponent': {len(expected)} exponents for "
                              f"{len(study.axes[hue])} values of hue {hue!r} "
                              f"({', '.join(map(str, study.axes[hue]))})")
    axis_keys = ["x", "y"] if kind == "heatmap" else ["x"]
    axis_keys += [k for k in ("hue", "facet", "minimum_over") if fig.get(k) is not None]
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
            length = _shortest_dimension(study, m, axis)
            if length is not None and value > length:
                raise ConfigError(f"{where} 'select': {axis}={value} is beyond the "
                                  f"dimension, which has {length} entries at the study's "
                                  "smallest point")
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


def _shortest_dimension(study: Study, m: Any, dim: str) -> int | None:
    """Least length of model dimension ``dim`` over the study's points, from the parameter
    the model declares for it (``Model.dimension_lengths``); ``None`` if it declares none."""
    length_of = m.dimension_lengths.get(dim)
    if length_of is None:
        return None
    if length_of in study.axes:
        return min(study.axes[length_of])
    return study.fixed.get(length_of, m.parameter(length_of).default)


def schema_yaml() -> str:
    """:func:`schema` as the YAML block of the config schema's ``$defs`` (two-space indent)."""
    import yaml

    text = yaml.safe_dump({"figure": schema()}, sort_keys=False, allow_unicode=True,
                          width=92, default_flow_style=None)
    return "".join("  " + line + "\n" for line in text.splitlines())


if __name__ == "__main__":
    sys.stdout.write(schema_yaml())
