"""Figures of a study's dataset (seaborn on the matplotlib Agg backend).

One function per figure kind, all driven by a figure spec from the config (see
``workflow/schemas/config.schema.yaml``) and labelled from the dataset's own ``long_name``
and ``units`` attrs:

* ``line``: observables ``y`` (one panel row each) against axis ``x``, one curve per value
  of axis ``hue``;
* ``heatmap``: observable ``value`` over axes ``x`` × ``y``; ``overlay: phase_boundaries``
  draws the model's :meth:`~ness_core.model.Model.reference_lines` for that plane;
* ``loglog``: observable ``y`` against axis ``x`` on log–log axes with a least-squares power
  law y ∝ x^z fitted to the points with ``fit_min <= x <= fit_max`` (either bound optional);
  exponent ± standard error in the legend; ``expected_exponent`` adds a dashed guide line
  of the expected power through each fit (at the geometric centre of its range);
* ``spectrum``: observables ``y`` (markers) against the observable ``x`` along their common
  model dimension (e.g. the wire's mover occupations against ``mode_energy``), with the
  ``reference`` observables as lines, ``reference[i]`` in the colour of ``y[i]`` (e.g. the
  two leads' Fermi functions beside the right and left movers).

Options: ``minimum_over`` (line) plots the minimum over a swept axis. ``logy`` puts the
vertical axis of ``line`` and ``spectrum`` figures on a log scale (values <= 0 are left out,
with a warning); ``offdiagonal`` leaves out of a ``line`` figure
of a two-point function the point where ``x`` equals the index its other dimension is fixed
to by ``select`` (the on-site variance, which would dwarf the correlations). A ``heatmap``
takes ``vmin`` / ``vmax`` (colour limits; values beyond them are drawn in the colour bar's
end colours, below ``vmin`` in green, so a bound such as the TUR's 2 can be the bottom of
the scale and a violation stands out), ``logz`` (logarithmic colour scale) and ``contours``
(labelled contour lines of the value at these levels).

Swept axes a figure does not use are faceted: ``facet`` (or the first unused axis) gives
one panel column per value; ``select`` fixes axes to one value, and also model dimensions
(e.g. ``site_i: 3`` for the row i = 3 of a two-point function drawn against ``site_j``);
any axis left over is shown at its first value, stated above the panels.

Publication style (options of every kind, declared in :mod:`ness_core.figures`): ``size``
(:func:`figure_size`), ``style`` (:func:`apply_style`), ``dpi``, ``title`` (none by
default) and ``labels`` (:func:`axis_label`: ``long`` names or the model's TeX ``symbol``).
Stacked panels share their x axis (one x label, at the bottom), carry panel letters (a),
(b), ... and one legend for the figure. :func:`save` writes byte-identical files for the
same data: no timestamps, TrueType (Type 42) fonts in PDF.
"""

from __future__ import annotations

import contextlib
import json
import re
import string
import textwrap
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
import xarray as xr  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend_handler import HandlerTuple  # noqa: E402
from scipy import stats  # noqa: E402

from ness_core import figures  # noqa: E402
from ness_core.errors import ParameterError  # noqa: E402
from ness_core.models import get_model  # noqa: E402

PANEL_SIZE = (4.2, 3.2)  # inches per panel
UNDER_COLOR = "limegreen"  # heatmap values below vmin (e.g. a violated bound)
# rcParams of every figure: TrueType fonts in PDF/PS (never Type 3), a fixed SVG id salt
DETERMINISTIC_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "ness-sweep"}
# savefig metadata per format: no creation dates or software versions in the files
METADATA = {".pdf": {"CreationDate": None, "ModDate": None, "Producer": None},
            ".png": {"Software": None}, ".svg": {"Date": None, "Creator": None}}


def dataset_model(ds: xr.Dataset) -> Any:
    """The dataset's model, or ``None`` where it is not registered (e.g. synthetic data)."""
    try:
        return get_model(ds.attrs.get("model"))
    except (ParameterError, TypeError):
        return None


def _declared_symbol(var: xr.DataArray, model: Any) -> str:
    if var.attrs.get("symbol"):
        return str(var.attrs["symbol"])
    if model is None:
        return ""
    for decl in (*model.parameters, *model.all_observables()):
        if decl.name == var.name:
            return decl.symbol
    return ""


def model_unit(var: xr.DataArray, model: Any = None) -> str:
    """The unit of ``var`` as the model declared it (``model_units``, else ``units``), with
    placeholder quantities (unit ``temperature``, ``1/time``) replaced by the model's
    :attr:`~ness_core.model.Model.natural_units`; ``""`` when dimensionless."""
    units = str(var.attrs.get("model_units", var.attrs.get("units", "")))
    for quantity, unit in (getattr(model, "natural_units", None) or {}).items():
        units = re.sub(rf"(?<![\w$]){re.escape(quantity)}(?![\w$])", lambda _, u=unit: u, units)
    return "" if units == "1" else units


def axis_label(var: xr.DataArray, labels: str = "long", model: Any = None,
               width: int = 40) -> str:
    """Axis label of ``var``: ``long_name [unit]`` (``labels="long"``, for reports) or
    ``symbol [unit]`` (``labels="symbol"``, e.g. ``$J$ [1/time]``, for papers; the long name
    where the model declares no symbol). The unit is :func:`model_unit`, left out when
    dimensionless. Long names are wrapped to lines of ``width`` characters, at spaces only
    (never inside a word such as ``entropy_production``)."""
    text = _declared_symbol(var, model) if labels == "symbol" else ""
    text = text or var.attrs.get("long_name") or str(var.name)
    units = model_unit(var, model)
    text = f"{text} [{units}]" if units else text
    if "$" in text:  # TeX is not wrapped: a line break inside $...$ would break it
        return text
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def label(var: xr.DataArray, width: int = 40) -> str:
    """The long axis label of ``var`` (:func:`axis_label` with ``labels="long"``)."""
    return axis_label(var, "long", width=width)


def _label(ds: xr.Dataset, name: str, spec: Mapping[str, Any], width: int = 40) -> str:
    return axis_label(ds[name], spec.get("labels") or "long", dataset_model(ds), width)


def figure_size(spec: Mapping[str, Any], rows: int = 1, cols: int = 1) -> tuple[float, float]:
    """Width and height in inches of a figure of ``rows`` × ``cols`` panels: ``size:
    single`` / ``double`` (:data:`ness_core.figures.SIZES`: the column width, the preset
    height per panel row), ``[w, h]`` as given, or ``null`` :data:`PANEL_SIZE` per panel."""
    size = spec.get("size")
    if size is None:
        return PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows
    if isinstance(size, str):
        width, height = figures.SIZES[size]
        return width, height * rows
    return float(size[0]), float(size[1])


@contextlib.contextmanager
def apply_style(spec: Mapping[str, Any]) -> Iterator[None]:
    """Context in which a figure of ``spec`` is drawn and saved: its ``style`` sheet (a
    matplotlib style name or file; a SciencePlots style with SciencePlots' ``no-latex``, so
    no LaTeX is needed), else seaborn's ``ticks`` style in the ``paper`` context; always
    :data:`DETERMINISTIC_RC`. Nothing outside the context changes."""
    style = spec.get("style")
    if style is None:
        sheets: Any = {**sns.axes_style("ticks"), **sns.plotting_context("paper"),
                       "axes.prop_cycle": cycler(color=sns.color_palette("deep"))}
    elif style in figures.SCIENCEPLOTS_STYLES and style not in plt.style.available:
        import scienceplots  # noqa: F401  (registers its styles; checked with the config)

        sheets = [style, "no-latex"]
    else:
        sheets = [style, "no-latex"] if style in figures.SCIENCEPLOTS_STYLES else style
    with plt.style.context(sheets, after_reset=True), plt.rc_context(DETERMINISTIC_RC):
        yield


def save(fig: Figure, outputs: list[str | Path], dpi: int = 150) -> None:
    """Save ``fig`` to each output (format from the suffix, PNG at ``dpi``) without
    timestamps or version strings (:data:`METADATA`), so the same data give the same bytes
    (``SOURCE_DATE_EPOCH`` is then irrelevant); TrueType fonts in PDF."""
    with plt.rc_context(DETERMINISTIC_RC):
        for path in outputs:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=dpi, metadata=METADATA.get(Path(path).suffix.lower()))


def _values(spec: Mapping[str, Any], key: str) -> list[str]:
    v = spec.get(key)
    return [v] if isinstance(v, str) else list(v)


def _facets(ds: xr.Dataset, spec: Mapping[str, Any], used: list[str]
            ) -> tuple[xr.Dataset, str | None, str]:
    """Select/facet the swept axes a figure does not use; return data, facet axis, note."""
    axes = [a for a in json.loads(ds.attrs["swept_axes"]) if a not in used]
    select = dict(spec.get("select") or {})
    free = [a for a in axes if a not in select]
    facet = spec.get("facet") or (free[0] if free else None)
    for axis in free:
        if axis != facet:
            select[axis] = ds[axis].values[0]
    note = ", ".join(f"{k} = {_fmt(v)}" for k, v in select.items())
    return ds.sel(select), facet, note


def _grid(spec: Mapping[str, Any], rows: int, cols: int, sharex: bool = False
          ) -> tuple[Figure, np.ndarray]:
    fig, axs = plt.subplots(rows, cols, figsize=figure_size(spec, rows, cols), squeeze=False,
                            layout="constrained", sharex="col" if sharex else False)
    return fig, axs


def _letters(axs: np.ndarray) -> None:
    """Panel letters (a), (b), ... row by row, at the top left of each panel (if several)."""
    if axs.size > 1:
        for letter, ax in zip(string.ascii_lowercase, axs.flat, strict=False):
            ax.set_title(f"({letter})", loc="left", fontweight="bold")


def _finish(fig: Figure, spec: Mapping[str, Any], note: str) -> None:
    """The figure's ``title`` (none by default) and the note of axes held at one value."""
    title = spec.get("title")
    if title:
        fig.suptitle(title + (f" ({note})" if note else ""))
    elif note:
        fig.suptitle(note, fontsize="medium")


def _facet_values(ds: xr.Dataset, facet: str | None) -> list[Any]:
    return [None] if facet is None else list(ds[facet].values)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def _title(facet: str | None, value: Any) -> str:
    return "" if facet is None else f"{facet} = {_fmt(value)}"


def _log_y(ax: Any, values: Any, name: str) -> None:
    """Log scale on the vertical axis; warn about values that it cannot show."""
    vals = np.asarray(values, dtype=float)
    dropped = int(np.sum(np.isfinite(vals) & (vals <= 0)))
    if dropped:
        warnings.warn(f"logy: {dropped} value(s) <= 0 of '{name}' are left out of the log axis",
                      stacklevel=3)
    ax.set_yscale("log")


def line_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """Observables against one axis, one curve per ``hue`` value, panels per observable.

    ``minimum_over: AXIS`` draws each observable's minimum over that swept axis (NaNs
    skipped), e.g. the smallest gap along the drive against the scale N.
    """
    x, hue, ys = spec["x"], spec.get("hue"), _values(spec, "y")
    over = spec.get("minimum_over")
    if over:
        ds = _minimum_over(ds, ys, over)
    data, facet, note = _facets(ds, spec, [x] + ([hue] if hue else []) + ([over] if over else []))
    columns = _facet_values(data, facet)
    fig, axs = _grid(spec, len(ys), len(columns), sharex=True)
    for col, value in enumerate(columns):
        sub = data if facet is None else data.sel({facet: value})
        for row, y in enumerate(ys):
            ax = axs[row, col]
            frame = sub[y].to_dataframe().reset_index()
            units = None
            if spec.get("offdiagonal"):  # leave out x = the index fixed on y's other dim,
                for dim, index in (spec.get("select") or {}).items():  # the line broken there
                    if dim in ds[y].dims and dim != x:
                        frame = frame[frame[x] != index].assign(segment=frame[x] > index)
                        units = "segment"
            if hue:
                frame[hue] = [_fmt(v) for v in frame[hue]]
            sns.lineplot(data=frame, x=x, y=y, hue=hue, marker="o", markersize=4, ax=ax,
                         palette="viridis" if hue else None, units=units,
                         estimator=None if units else "mean")
            if "coarse_grid" in ds.attrs:
                _mark_refinement(ax, ds, frame, x, y, hue, {facet: value} if facet else {},
                                 spec.get("select") or {})
            # stacked panels share x: one x label, at the bottom; y labels on the left
            ax.set(xlabel=_label(ds, x, spec) if row == len(ys) - 1 else "",
                   ylabel=_label(ds, y, spec) if col == 0 else "",
                   title=_title(facet, value) if row == 0 else "")
            if spec.get("logy"):
                _log_y(ax, frame[y], y)
            if ax.get_legend():
                ax.get_legend().remove()
    _letters(axs)
    _finish(fig, spec, note)
    if hue:  # one legend for the figure, in rows of up to five values: above the panels, or
        # below them under a title (the layout stacks no outside legend under a suptitle)
        handles, names = axs[0, 0].get_legend_handles_labels()
        side = "lower" if fig.get_suptitle() else "upper"
        fig.legend(handles, names, title=_label(ds, hue, spec, width=60), ncols=min(len(names), 5),
                   loc=f"outside {side} center", fontsize="small", title_fontsize="small")
    return fig


def _mark_refinement(ax: Any, ds: xr.Dataset, frame: Any, x: str, y: str, hue: str | None,
                     panel: Mapping[str, Any], select: Mapping[str, Any]) -> None:
    """A refined study's line panel (:func:`ness_core.refine_rounds.annotate`): points the
    refinement added drawn hollow; each slice's located target on its curve (a black-edged
    diamond, with the location's uncertainty as a horizontal bar) where the panel shows
    that slice and ``y`` is the refined observable (the value itself for a minimum or
    maximum, the curve at the location for the steepest point)."""
    coarse = json.loads(ds.attrs["coarse_grid"])
    if x not in coarse:
        return
    levels = list(dict.fromkeys(frame[hue])) if hue else [None]
    colours = dict(zip(levels, sns.color_palette("viridis", len(levels)) if hue else ["C0"],
                       strict=True))
    added = frame[~np.isin(frame[x], coarse[x]) & frame[y].notna()]
    ax.scatter(added[x], added[y], s=16, facecolors="white", zorder=3, linewidths=0.9,
               edgecolors=[colours[v] for v in (added[hue] if hue else [None] * len(added))])
    spec = json.loads(ds.attrs["refine"])
    if spec.get("observable") != y or "refinement_targets" not in ds.attrs:
        return
    for target in json.loads(ds.attrs["refinement_targets"]):
        where = {k: v for k, v in target["select"].items() if k != hue}
        shown = {**select, **panel}
        if any(k not in shown or _fmt(shown[k]) != _fmt(v) for k, v in where.items()):
            continue  # another panel's slice, or slices the panel mixes
        level = _fmt(target["select"][hue]) if hue else None
        if level not in colours or not np.isfinite(target["location"]):
            continue
        curve = frame[(frame[hue] == level) if hue else frame[y].notna()].dropna(subset=[y])
        value = (target["value"] if spec["target"] != "steepest" else
                 float(np.interp(target["location"], curve[x], curve[y])))
        ax.errorbar([target["location"]], [value], xerr=[target["location_uncertainty"]],
                    marker="D", ms=5, mfc=colours[level], mec="black", ecolor="black",
                    elinewidth=0.9, capsize=2, zorder=4)


def _minimum_over(ds: xr.Dataset, ys: list[str], axis: str) -> xr.Dataset:
    """The observables ``ys`` minimised over ``axis``, labelled as such."""
    out = ds[ys].min(dim=axis, skipna=True, keep_attrs=True)
    model = dataset_model(ds)
    for y in ys:
        out[y].attrs["long_name"] = f"min over {axis} of {ds[y].attrs.get('long_name', y)}"
        symbol = _declared_symbol(ds[y], model)
        if symbol:
            sub = (_declared_symbol(ds[axis], model).strip("$")
                   or r"\mathrm{" + axis.replace("_", r"\_") + "}")
            out[y].attrs["symbol"] = rf"$\min_{{{sub}}}\,{symbol.strip('$')}$"
    out.attrs = ds.attrs
    return out


def heatmap_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """One observable over two axes, optionally with the model's reference lines."""
    x, y, value = spec["x"], spec["y"], spec["value"]
    data, facet, note = _facets(ds, spec, [x, y])
    columns = _facet_values(data, facet)
    fig, axs = _grid(spec, 1, len(columns))
    lines = get_model(ds.attrs["model"]).reference_lines(x, y) if spec.get("overlay") else []
    if spec.get("overlay") and not lines:
        warnings.warn(f"model '{ds.attrs['model']}' has no reference lines in the ({x}, {y}) "
                      "plane; overlay skipped", stacklevel=2)
    vmin, vmax, levels = spec.get("vmin"), spec.get("vmax"), spec.get("contours") or []
    scale = mcolors.LogNorm if spec.get("logz") else mcolors.Normalize
    cmap = matplotlib.colormaps["magma"].with_extremes(under=UNDER_COLOR)
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
              (True, True): "both"}[(vmin is not None, vmax is not None)]
    for col, fv in enumerate(columns):
        ax = axs[0, col]
        sub = data[value] if facet is None else data[value].sel({facet: fv})
        xv, yv = sub[x].values, sub[y].values
        grid = np.ma.masked_invalid(sub.transpose(y, x).values.astype(float))
        if spec.get("logz"):
            grid = np.ma.masked_less_equal(grid, 0.0)
        mesh = ax.pcolormesh(xv, yv, grid, shading="nearest", cmap=cmap,
                             norm=scale(vmin=vmin, vmax=vmax))
        # the colour bar is as tall as a panel: shorter lines than on the horizontal axis
        bar = fig.colorbar(mesh, ax=ax, label=_label(ds, value, spec, width=28),
                           extend=extend)
        plain_ticks(bar.ax.yaxis, bool(spec.get("logz")))
        if levels and min(grid.shape) >= 2 and grid.count():
            isolines = ax.contour(xv, yv, grid, levels=sorted(levels), colors="white",
                                  linewidths=1.0)
            ax.clabel(isolines, fmt=lambda v: f"{v:g}", fontsize="small")
        elif levels:
            warnings.warn(f"contours of '{value}' need a grid of at least 2 × 2 finite values; "
                          "skipped", stacklevel=2)
        for xs, ys, name in lines:
            ax.plot(xs, ys, color="cyan", linestyle="--", linewidth=1.5, label=name)
        if lines:
            ax.legend(fontsize="small", loc="best", title="L → ∞ boundaries")
        ax.set(xlabel=_label(ds, x, spec), ylabel=_label(ds, y, spec) if col == 0 else "",
               title=_title(facet, fv))
    _letters(axs)
    _finish(fig, spec, note)
    return fig


def plain_ticks(axis: Any, log: bool) -> None:
    """Tick labels as plain numbers (``2``, ``0.05``, ``1e+03``), never ``2×10⁰``. On a log
    axis the minor ticks are labelled too where it spans at most a decade; up to two
    decades, those at 2 and 5 times a power of ten; beyond that only the decades."""
    minus = "\N{MINUS SIGN}" if matplotlib.rcParams["axes.unicode_minus"] else "-"

    def plain(v: float, _: Any = None) -> str:
        return f"{v:.3g}".replace("-", minus)

    axis.set_major_formatter(ticker.FuncFormatter(plain))
    if log:
        low, high = sorted(axis.get_view_interval())
        span = high / low if low > 0 else np.inf
        digits = "123456789" if span <= 10 else "25" if span <= 100 else ""
        axis.set_minor_formatter(ticker.FuncFormatter(
            lambda v, _: plain(v) if v > 0 and f"{v:.0e}"[0] in digits else ""))


def fit_power_law(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares fit of log y = log c + z log x; return ``(z, stderr of z, c)``.

    Only points with finite, positive x and y enter; needs at least three of them.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 3:
        raise ValueError("a power-law fit needs at least three positive points")
    fit = stats.linregress(np.log(x[ok]), np.log(y[ok]))
    return float(fit.slope), float(fit.stderr), float(np.exp(fit.intercept))


def loglog_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """One observable against one axis on log–log axes with a fitted power law."""
    x, y, hue = spec["x"], spec["y"], spec.get("hue")
    data, facet, note = _facets(ds, spec, [x] + ([hue] if hue else []))
    columns = _facet_values(data, facet)
    fig, axs = _grid(spec, 1, len(columns))
    fit_min, fit_max = spec.get("fit_min"), spec.get("fit_max")
    model = dataset_model(ds)
    symbols = spec.get("labels") == "symbol"  # the legend names axes as the labels do
    x_name = (symbols and _declared_symbol(ds[x], model)) or x
    y_name = (symbols and _declared_symbol(ds[y], model)) or y
    hue_name = hue and ((symbols and _declared_symbol(ds[hue], model)) or hue)
    for col, fv in enumerate(columns):
        ax = axs[0, col]
        sub = data[y] if facet is None else data[y].sel({facet: fv})
        curves = [(None, sub)] if not hue else [(h, sub.sel({hue: h})) for h in sub[hue].values]
        colors = sns.color_palette("viridis", len(curves))
        handles, labels = [], []
        expected = spec.get("expected_exponent")
        expected = expected if isinstance(expected, list) else [expected] * len(curves)
        for (h, curve), color, z_expected in zip(curves, colors, expected, strict=True):
            xs, vals = curve[x].values.astype(float), curve.values.astype(float)
            (points,) = ax.plot(xs, vals, "o", color=color)
            mask = np.isfinite(vals) & (vals > 0)
            if fit_min is not None:
                mask &= xs >= fit_min
            if fit_max is not None:
                mask &= xs <= fit_max
            z, err, c = fit_power_law(xs[mask], vals[mask])
            grid = np.geomspace(xs[mask].min(), xs[mask].max(), 50)
            (line,) = ax.plot(grid, c * grid**z, "-", color=color)
            name = "" if h is None else f"{hue_name} = {_fmt(h)}: "
            handles.append((points, line))  # one entry per curve: data and its fit
            label = f"{name}z = {z:.3f} ± {err:.3f}"
            if z_expected is not None:  # through the fit at the geometric centre of its range
                centre = float(np.sqrt(grid[0] * grid[-1]))
                ax.plot(grid, c * centre**z * (grid / centre) ** z_expected, "--",
                        color=color, linewidth=0.9, gid="expected_exponent")
                label += f" (expected {_fmt(z_expected)})"
            labels.append(label)
        ax.set(xscale="log", yscale="log", xlabel=_label(ds, x, spec),
               ylabel=_label(ds, y, spec) if col == 0 else "", title=_title(facet, fv))
        if np.issubdtype(data[x].dtype, np.integer):  # one plain tick per value, e.g. L
            ax.set_xticks(data[x].values, [str(v) for v in data[x].values])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        # below the panel(s), where it hides no data; one entry per curve (markers and fit):
        # one panel's in the figure's layout, each of several panels' under its own
        where = ({"loc": "outside lower center"} if len(columns) == 1 else
                 {"loc": "upper center", "bbox_to_anchor": (0.5, -0.3)})
        (fig if len(columns) == 1 else ax).legend(
            handles, labels, fontsize="small", handler_map={tuple: HandlerTuple(None)},
            title=f"fit {y_name} ∝ {x_name}$^{{z}}$", title_fontsize="small", **where)
    if not isinstance(spec.get("size"), list):  # room for the legend; [w, h] given is kept
        fig.set_figheight(fig.get_figheight() + 0.6 + 0.22 * len(curves))
    _letters(axs)
    _finish(fig, spec, note)
    return fig


def spectrum_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """Observables against another observable along their model dimension, with reference
    curves: ``y`` as markers, ``reference`` as lines, ``reference[i]`` coloured as ``y[i]``."""
    x, ys = spec["x"], _values(spec, "y")
    refs = _values(spec, "reference") if spec.get("reference") else []
    data, facet, note = _facets(ds, spec, [])
    columns = _facet_values(data, facet)
    fig, axs = _grid(spec, 1, len(columns))
    colors = sns.color_palette("colorblind", max(len(ys), len(refs)))
    for col, fv in enumerate(columns):
        ax = axs[0, col]
        sub = data if facet is None else data.sel({facet: fv})
        xs = np.asarray(sub[x].values, dtype=float)
        order = np.argsort(xs, kind="stable")
        order = order[np.isfinite(xs[order])]  # NaN padding of shorter chains
        for name, color in zip(ys, colors, strict=False):
            ax.plot(xs[order], sub[name].values[order], "o", markersize=3, color=color,
                    label=ds[name].attrs.get("long_name", name))
        for name, color in zip(refs, colors, strict=False):
            ax.plot(xs[order], sub[name].values[order], "-", linewidth=1.2, color=color,
                    label=ds[name].attrs.get("long_name", name))
        ax.set(xlabel=_label(ds, x, spec),
               ylabel=_shared_label(ds, ys + refs, spec) if col == 0 else "",
               title=_title(facet, fv))
        if spec.get("logy"):
            _log_y(ax, [sub[name].values[order] for name in ys + refs], ", ".join(ys + refs))
    # one legend for all panels, below them, where it hides no data
    fig.legend(*axs[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize="small")
    _letters(axs)
    _finish(fig, spec, note)
    return fig


def _shared_label(ds: xr.Dataset, names: list[str], spec: Mapping[str, Any]) -> str:
    """The y label of several observables on one axis: the one label if they all carry it,
    else their names (symbols) joined, with the unit when they share one."""
    model, mode = dataset_model(ds), spec.get("labels") or "long"
    labels = list(dict.fromkeys(_label(ds, n, spec) for n in names))
    if len(labels) == 1:
        return labels[0]
    units = {model_unit(ds[n], model) for n in names}
    parts = [(_declared_symbol(ds[n], model) if mode == "symbol" else "")
             or ds[n].attrs.get("long_name") or n for n in names]
    text = ", ".join(dict.fromkeys(parts))
    unit = units.pop() if len(units) == 1 else ""
    text = f"{text} [{unit}]" if unit else text
    return text if "$" in text else textwrap.fill(text, 40, break_long_words=False)


# kind → drawing function, from the one declaration of the kinds (ness_core.figures.KINDS)
FIGURES = {name: globals()[kind.draw] for name, kind in figures.KINDS.items()}


def draw(ds: xr.Dataset, spec: Mapping[str, Any], outputs: list[str | Path]) -> None:
    """Draw figure ``spec`` of ``ds`` in its style and :func:`save` it to each output
    (format from the suffix)."""
    with apply_style(spec):
        fig = FIGURES[spec["kind"]](ds, spec)
        try:
            save(fig, outputs, spec.get("dpi") or 150)
        finally:
            plt.close(fig)
