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
  exponent ± standard error in the legend;
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
any axis left over is shown at its first value, stated in the title.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend_handler import HandlerTuple  # noqa: E402
from scipy import stats  # noqa: E402

from ness_core.models import get_model  # noqa: E402

PANEL_SIZE = (4.2, 3.2)  # inches per panel
UNDER_COLOR = "limegreen"  # heatmap values below vmin (e.g. a violated bound)


def label(var: xr.DataArray, width: int = 40) -> str:
    """Axis label ``long_name [units]`` (units omitted when empty or dimensionless), wrapped
    to lines of ``width`` characters."""
    name = var.attrs.get("long_name") or str(var.name)
    units = var.attrs.get("model_units", var.attrs.get("units", ""))  # the model's own unit
    text = f"{name} [{units}]" if units and units != "1" else name
    return textwrap.fill(text, width)


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


def _grid(rows: int, cols: int) -> tuple[Figure, np.ndarray]:
    fig, axs = plt.subplots(rows, cols, figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows),
                            squeeze=False, layout="constrained")
    return fig, axs


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
    fig, axs = _grid(len(ys), len(columns))
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
            ax.set(xlabel=label(ds[x]), ylabel=label(ds[y]), title=_title(facet, value))
            if spec.get("logy"):
                _log_y(ax, frame[y], y)
            if hue and ax.get_legend():
                ax.get_legend().set_title(hue)
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


def _minimum_over(ds: xr.Dataset, ys: list[str], axis: str) -> xr.Dataset:
    """The observables ``ys`` minimised over ``axis``, labelled as such."""
    out = ds[ys].min(dim=axis, skipna=True, keep_attrs=True)
    for y in ys:
        out[y].attrs["long_name"] = f"min over {axis} of {ds[y].attrs.get('long_name', y)}"
    out.attrs = ds.attrs
    return out


def heatmap_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """One observable over two axes, optionally with the model's reference lines."""
    x, y, value = spec["x"], spec["y"], spec["value"]
    data, facet, note = _facets(ds, spec, [x, y])
    columns = _facet_values(data, facet)
    fig, axs = _grid(1, len(columns))
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
        fig.colorbar(mesh, ax=ax, label=label(ds[value], width=28), extend=extend)
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
        ax.set(xlabel=label(ds[x]), ylabel=label(ds[y]), title=_title(facet, fv))
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


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
    fig, axs = _grid(1, len(columns))
    fit_min, fit_max = spec.get("fit_min"), spec.get("fit_max")
    for col, fv in enumerate(columns):
        ax = axs[0, col]
        sub = data[y] if facet is None else data[y].sel({facet: fv})
        curves = [(None, sub)] if not hue else [(h, sub.sel({hue: h})) for h in sub[hue].values]
        colors = sns.color_palette("viridis", len(curves))
        handles, labels = [], []
        for (h, curve), color in zip(curves, colors, strict=True):
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
            name = "" if h is None else f"{hue} = {_fmt(h)}: "
            handles.append((points, line))  # one entry per curve: data and its fit
            labels.append(f"{name}fit ∝ {x}$^{{z}}$, z = {z:.3f} ± {err:.3f}")
        ax.set(xscale="log", yscale="log", xlabel=label(ds[x]), ylabel=label(ds[y]),
               title=_title(facet, fv))
        if np.issubdtype(data[x].dtype, np.integer):  # one plain tick per value, e.g. L
            ax.set_xticks(data[x].values, [str(v) for v in data[x].values])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        # below the panel, where it hides no data; one entry per curve (markers and fit)
        ax.legend(handles, labels, fontsize="small", handler_map={tuple: HandlerTuple(None)},
                  loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.set_figheight(fig.get_figheight() + 0.6 + 0.22 * len(curves))  # room for the legend
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


def spectrum_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """Observables against another observable along their model dimension, with reference
    curves: ``y`` as markers, ``reference`` as lines, ``reference[i]`` coloured as ``y[i]``."""
    x, ys = spec["x"], _values(spec, "y")
    refs = _values(spec, "reference") if spec.get("reference") else []
    data, facet, note = _facets(ds, spec, [])
    columns = _facet_values(data, facet)
    fig, axs = _grid(1, len(columns))
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
        ax.set(xlabel=label(ds[x]), ylabel=label(ds[ys[0]]) if len(ys) == 1 else "",
               title=_title(facet, fv))
        if spec.get("logy"):
            _log_y(ax, [sub[name].values[order] for name in ys + refs], ", ".join(ys + refs))
    # one legend for all panels, below them, where it hides no data
    fig.legend(*axs[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize="small")
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


FIGURES = {"line": line_figure, "heatmap": heatmap_figure, "loglog": loglog_figure,
           "spectrum": spectrum_figure}


def draw(ds: xr.Dataset, spec: Mapping[str, Any], outputs: list[str | Path]) -> None:
    """Draw figure ``spec`` of ``ds`` and save it to each output (format from the suffix)."""
    sns.set_theme(style="ticks", context="paper")
    fig = FIGURES[spec["kind"]](ds, spec)
    for path in outputs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    plt.close(fig)
