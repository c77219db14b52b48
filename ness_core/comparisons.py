"""Comparison figures across studies, against reference data (the config's ``comparisons:``).

A comparison ``NAME`` draws the observable ``y`` against ``x`` (a swept axis, or a model
dimension such as ``site``) for several ``curves``, each one study with its other axes fixed
by ``select``; a curve's ``reference`` is a CSV file (e.g. a published table) drawn as markers
in the curve's colour. Outputs: ``results/comparisons/NAME.png``, ``.pdf`` and ``.json``.

Conventions of the deviation (:func:`deviation`), written to ``NAME.json`` per curve:

* the curve is interpolated *linearly in x and y* between its grid points (sorted by x) at
  each reference x; a reference x equal to a grid value takes that value exactly;
* reference points outside the curve's x range, or whose bracketing curve values are not
  finite (a failed point), are not compared and not counted in ``n_compared``
  (``n_not_compared`` counts them);
* the relative deviation of a point is ``|c - r| / |r|``; points with ``r = 0`` have none,
  so they are left out of ``n_compared`` and ``max_relative_deviation`` and counted in
  ``n_zero_reference``; ``max_absolute_deviation`` = max ``|c - r|`` covers them too;
* ``max_relative_deviation`` is ``null`` for a curve without reference or without any
  compared point.

Reference CSV files: UTF-8, comma separated, a header row naming the columns, then one row
per point; lines starting with ``#`` (e.g. the citation) are skipped anywhere; paths are
relative to the working directory. Everything is checked by :func:`check_comparisons`
before any job runs (a :class:`~ness_core.errors.ConfigError` naming the comparison, curve
and key).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ness_core.errors import ConfigError
from ness_core.models import get_model
from ness_core.sweep import Study

MAX_REFERENCE_BYTES = 16 * 2**20  # largest reference file read
INTERPOLATION = ("linear in x and y between the curve's grid points; reference points "
                 "outside the curve's x range or next to a failed point are not compared")


def check_comparisons(comparisons: Mapping[str, Any], studies: Mapping[str, Study],
                      captions: str | Path | None = None) -> None:
    """Check every comparison (schema defaults filled in) against the validated ``studies``.

    Raises :class:`ConfigError` for an unknown study, an observable ``y`` the curve's model
    does not have, an ``x`` that is neither a numeric swept axis nor a dimension of ``y``,
    ``select`` keys or values that are not swept values (or 1-based indices of a model
    dimension), axes left free, repeated labels, a ``caption`` file not found (in the
    working directory, else ``captions``), and unreadable reference files or columns.
    """
    from ness_core import figures
    from ness_core.configs import caption_file

    for name, spec in comparisons.items():
        where = f"comparison '{name}'"
        for i, curve in enumerate(spec["curves"]):
            _check_curve(spec, curve, studies, f"{where}, curves[{i}]")
        labels = [curve_label(c) for c in spec["curves"]]
        for i, text in enumerate(labels):
            if text in labels[:i]:
                raise ConfigError(f"{where}, curves[{i}] 'label': {text!r} is already the "
                                  f"label of curves[{labels.index(text)}]; set distinct labels")
        figures.check_style(spec.get("style"), where)
        if spec.get("caption") and (captions is None
                                    or caption_file(spec["caption"], captions) is None):
            raise ConfigError(f"{where} 'caption': no file {spec['caption']!r} in the working "
                              f"directory {Path.cwd()} nor in {captions}")


def _check_curve(spec: Mapping[str, Any], curve: Mapping[str, Any],
                 studies: Mapping[str, Study], where: str) -> None:
    x, y = spec["x"], spec["y"]
    study = studies.get(curve["study"])
    if study is None:
        raise ConfigError(f"{where} 'study': {curve['study']!r} is not a study of this config; "
                          f"studies: {', '.join(studies)}")
    m = get_model(study.model)
    observables = {o.name for o in m.all_observables() if o.kind is not str}
    if y not in observables:
        raise ConfigError(f"{where}: y {y!r} is not a numeric observable of study "
                          f"'{study.name}' (model {m.name}); observables: "
                          f"{', '.join(sorted(observables))}")
    dims = m.observable(y).dims
    if x in study.axes:
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   for v in study.axes[x]):
            raise ConfigError(f"{where}: x {x!r} of study '{study.name}' has non-numeric "
                              f"values {study.axes[x]}; x must be a number axis")
    elif x not in dims:
        raise ConfigError(f"{where}: x {x!r} is not a swept axis of study '{study.name}' nor "
                          f"a dimension of {y!r}; swept: {', '.join(study.axes)}"
                          + (f"; dimensions of {y}: {', '.join(dims)}" if dims else ""))
    select = curve.get("select") or {}
    if x in select:
        raise ConfigError(f"{where} 'select': {x!r} is the comparison's x; select fixes the "
                          "other axes")
    for key, value in select.items():
        if key in study.axes:
            if value not in study.axes[key]:
                raise ConfigError(f"{where} 'select': {key}={value!r} is not a swept value of "
                                  f"study '{study.name}'; values: {study.axes[key]}")
        elif key in dims:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where} 'select': {key}={value!r} is not an index "
                                  "(1, 2, ...) along that model dimension")
        else:
            raise ConfigError(f"{where} 'select': {key!r} is neither a swept axis of study "
                              f"'{study.name}' nor a dimension of {y!r}")
    for key in [*study.axes, *dims]:
        several = key not in study.axes or len(study.axes[key]) > 1
        if key != x and key not in select and several:
            raise ConfigError(f"{where} 'select': study '{study.name}' has {key!r} besides x; "
                              f"fix it, e.g. select: {{{key}: "
                              f"{study.axes[key][0] if key in study.axes else 1}}}")
    if spec.get("fit") and x in study.axes:
        inside = [v for v in study.axes[x] if v > 0 and _in_fit_range(spec, v)]
        if len(inside) < 3:
            raise ConfigError(f"{where} 'fit': a power-law fit needs at least three values "
                              f"x > 0 within fit_min .. fit_max; study '{study.name}' has "
                              f"{len(inside)} ({x}: {study.axes[x]})")
    if curve.get("reference"):
        read_reference(curve["reference"], where=f"{where}, reference")


def _in_fit_range(spec: Mapping[str, Any], x: float) -> bool:
    low, high = spec.get("fit_min"), spec.get("fit_max")
    return (low is None or x >= low) and (high is None or x <= high)


def power_law_fit(spec: Mapping[str, Any], xs: np.ndarray, ys: np.ndarray
                  ) -> dict[str, Any]:
    """The ``fit: power_law`` entry of a curve: z, its standard error and c of the
    least-squares fit log y = log c + z log x over the points with x, y > 0 inside
    ``fit_min`` .. ``fit_max`` (:func:`ness_core.plots.fit_power_law`), and their number;
    ``None`` values when fewer than three such points are finite."""
    from ness_core.plots import fit_power_law

    mask = np.array([_in_fit_range(spec, v) for v in xs], dtype=bool)
    mask &= np.isfinite(ys) & (ys > 0) & (xs > 0)
    if mask.sum() < 3:
        return {"fitted_exponent": None, "fitted_exponent_stderr": None,
                "fitted_prefactor": None, "fit_points": int(mask.sum())}
    z, err, c = fit_power_law(xs[mask], ys[mask])
    return {"fitted_exponent": z, "fitted_exponent_stderr": err, "fitted_prefactor": c,
            "fit_points": int(mask.sum())}


def read_reference(ref: Mapping[str, Any], where: str = "reference"
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``ref['x']`` and ``ref['y']`` of the CSV file ``ref['file']`` as floats.

    ``#`` lines are skipped; the first other line is the header. Raises
    :class:`ConfigError` (naming ``where``, the file and line) for a missing or unreadable
    file, a missing column, an empty or non-numeric value, or no data row.
    """
    path = Path(ref["file"])
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_REFERENCE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{where} 'file': cannot read {path} (relative to the working "
                          f"directory {Path.cwd()}): {exc.strerror or exc}") from None
    if len(raw) > MAX_REFERENCE_BYTES:
        raise ConfigError(f"{where} 'file': {path} is larger than "
                          f"{MAX_REFERENCE_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} 'file': {path} is not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(f"{where} 'file': {path} has no header line")
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
    header = [h.strip() for h in rows[0]]
    columns = {}
    for key in ("x", "y"):
        if ref[key] not in header:
            raise ConfigError(f"{where} '{key}': {path} has no column {ref[key]!r}; columns: "
                              f"{', '.join(header)}")
        columns[key] = header.index(ref[key])
    if len(rows) < 2:
        raise ConfigError(f"{where} 'file': {path} has a header but no data row")
    values = {"x": [], "y": []}
    for (n, _), row in zip(lines[1:], rows[1:], strict=True):
        for key, col in columns.items():
            cell = row[col].strip() if col < len(row) else ""
            try:
                number = float(cell)
            except ValueError:
                raise ConfigError(f"{where} '{key}': {path}, line {n}, column {ref[key]!r}: "
                                  f"{cell!r} is not a number") from None
            values[key].append(number)
    return np.array(values["x"]), np.array(values["y"])


def curve_label(curve: Mapping[str, Any]) -> str:
    """A curve's ``label``, else its study with the selected values, ``study (T = 0.5)``."""
    if curve.get("label"):
        return str(curve["label"])
    select = curve.get("select") or {}
    fixed = ", ".join(f"{k} = {_fmt(v)}" for k, v in select.items())
    return curve["study"] + (f" ({fixed})" if fixed else "")


def reference_label(curve: Mapping[str, Any]) -> str | None:
    """A reference's ``label``, else the file name; ``None`` without a reference."""
    ref = curve.get("reference")
    if not ref:
        return None
    return str(ref.get("label") or Path(ref["file"]).name)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def select_curve(ds: Any, x: str, y: str, select: Mapping[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``y`` against ``x`` from a study's dataset with ``select`` applied (axes left with
    one value are taken at it), as float arrays sorted by x."""
    line = ds[y].sel(dict(select))
    rest = [d for d in line.dims if d != x]
    line = line.isel({d: 0 for d in rest}) if rest else line
    xs = np.asarray(line[x].values, dtype=float)
    order = np.argsort(xs, kind="stable")
    return xs[order], np.asarray(line.values, dtype=float)[order]


def interpolate(xs: np.ndarray, ys: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The curve (``xs`` increasing) linearly interpolated at ``at``; NaN outside
    ``[xs[0], xs[-1]]`` and where a bracketing value is not finite. A point equal to a
    grid value takes that value exactly (its neighbours do not matter)."""
    xs, ys, at = (np.asarray(a, dtype=float) for a in (xs, ys, at))
    out = np.full(at.shape, np.nan)
    inside = (at >= xs[0]) & (at <= xs[-1]) if len(xs) else np.zeros(at.shape, bool)
    right = np.clip(np.searchsorted(xs, at, side="left"), 0, len(xs) - 1)
    for i in np.flatnonzero(inside):
        j = right[i]
        if xs[j] == at[i]:
            out[i] = ys[j]
        else:
            x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
            out[i] = y0 + (y1 - y0) * (at[i] - x0) / (x1 - x0)
    return out


def deviation(xs: np.ndarray, ys: np.ndarray, ref_x: np.ndarray, ref_y: np.ndarray
              ) -> dict[str, Any]:
    """Deviation of the curve (``xs``, ``ys``) from reference points (module docstring):
    ``n_compared``, ``max_relative_deviation`` (``None`` if nothing is compared),
    ``max_absolute_deviation``, ``n_zero_reference``, ``n_not_compared``."""
    ref_x, ref_y = np.asarray(ref_x, dtype=float), np.asarray(ref_y, dtype=float)
    curve = interpolate(xs, ys, ref_x)
    ok = np.isfinite(curve) & np.isfinite(ref_y)
    absolute = np.abs(curve[ok] - ref_y[ok])
    nonzero = ref_y[ok] != 0
    relative = absolute[nonzero] / np.abs(ref_y[ok][nonzero])
    return {"n_compared": int(relative.size),
            "max_relative_deviation": float(relative.max()) if relative.size else None,
            "max_absolute_deviation": float(absolute.max()) if absolute.size else None,
            "n_zero_reference": int((~nonzero).sum()),
            "n_not_compared": int((~ok).sum())}


def summarize(name: str, spec: Mapping[str, Any], datasets: Mapping[str, Any]
              ) -> dict[str, Any]:
    """The contents of ``NAME.json``: per curve its study, labels and :func:`deviation`
    (``None`` values for a curve without reference). ``datasets`` maps study → dataset."""
    curves = []
    for curve in spec["curves"]:
        entry = {"study": curve["study"], "label": curve_label(curve),
                 "reference_label": reference_label(curve)}
        xs, ys = select_curve(datasets[curve["study"]], spec["x"], spec["y"],
                              curve.get("select") or {})
        if spec.get("fit") == "power_law":
            entry.update(power_law_fit(spec, xs, ys))
        if curve.get("reference"):
            entry.update(deviation(xs, ys, *read_reference(curve["reference"])))
        else:
            entry.update({"n_compared": 0, "max_relative_deviation": None,
                          "max_absolute_deviation": None, "n_zero_reference": 0,
                          "n_not_compared": 0})
        curves.append(entry)
    return {"name": name, "x": spec["x"], "y": spec["y"], "interpolation": INTERPOLATION,
            "curves": curves}


def describe(comparisons: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per comparison for ``ness plan``: name, x, y, studies, references."""
    return [{"comparison": name, "x": spec["x"], "y": spec["y"],
             "studies": list(dict.fromkeys(c["study"] for c in spec["curves"])),
             "curves": len(spec["curves"]),
             "references": sum(1 for c in spec["curves"] if c.get("reference"))}
            for name, spec in comparisons.items()]


def draw(name: str, spec: Mapping[str, Any], datasets: Mapping[str, Any],
         summary: Mapping[str, Any], outputs: list[str | Path]) -> None:
    """Draw comparison ``name``: one line per curve (its power-law fit dashed with ``fit``),
    its reference as markers in the same colour, each labelled with its largest relative
    deviation; in the figure-level style of the spec (``size``, ``style``, ``labels``,
    ``title``, ``dpi``, as :mod:`ness_core.plots` draws study figures); save to every
    output with deterministic bytes."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib import ticker

    from ness_core import plots

    with plots.apply_style(spec):
        fig, ax = plt.subplots(figsize=plots.figure_size(spec), layout="constrained")
        colors = sns.color_palette("colorblind", len(spec["curves"]))
        first = datasets[spec["curves"][0]["study"]]
        for curve, entry, color in zip(spec["curves"], summary["curves"], colors, strict=True):
            xs, ys = select_curve(datasets[curve["study"]], spec["x"], spec["y"],
                                  curve.get("select") or {})
            fitted = entry.get("fitted_exponent")
            shown = "" if fitted is None else (
                f", z = {fitted:.3f} ± {entry['fitted_exponent_stderr']:.2g}")
            ax.plot(xs, ys, "-" if fitted is None else "o-", color=color, linewidth=1.5,
                    markersize=3, label=entry["label"] + shown)
            if fitted is not None:
                inside = [v for v in xs if v > 0 and _in_fit_range(spec, v)]
                grid = np.geomspace(min(inside), max(inside), 50)
                ax.plot(grid, entry["fitted_prefactor"] * grid**fitted, "--", color=color,
                        linewidth=0.9)
            if curve.get("reference"):
                ref_x, ref_y = read_reference(curve["reference"])
                dev = entry["max_relative_deviation"]
                shown = "" if dev is None else f" (max rel. dev. {dev:.2g})"
                ax.plot(ref_x, ref_y, "o", color=color, markersize=5, markerfacecolor="none",
                        label=entry["reference_label"] + shown)
        labels = spec.get("labels") or "long"
        model = plots.dataset_model(first)
        ax.set(xlabel=plots.axis_label(first[spec["x"]], labels, model),
               ylabel=plots.axis_label(first[spec["y"]], labels, model))
        if spec.get("title"):
            ax.set_title(spec["title"])
        if spec["logx"]:
            ax.set_xscale("log")
        if spec["logy"]:
            ax.set_yscale("log")
        for axis, log in ((ax.xaxis, spec["logx"]), (ax.yaxis, spec["logy"])):
            plots.plain_ticks(axis, log)
        if spec["logx"] and np.issubdtype(first[spec["x"]].dtype, np.integer):
            ticks = sorted({int(v) for c in spec["curves"]
                            for v in datasets[c["study"]][spec["x"]].values})
            ax.set_xticks(ticks, [str(v) for v in ticks])  # one plain tick per value, e.g. L
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        # below the axes, where it hides no data; the figure grows by its height
        entries = len(ax.get_legend_handles_labels()[1])
        fig.set_figheight(fig.get_figheight() + 0.2 * entries + 0.1)
        fig.legend(loc="outside lower center", fontsize="small", frameon=False)
        plots.save(fig, outputs, dpi=spec.get("dpi") or 150)
    plt.close(fig)
