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
  exponent ± standard error in the legend.

Swept axes a figure does not use are faceted: ``facet`` (or the first unused axis) gives
one panel column per value; ``select`` fixes axes to one value; any axis left over is shown
at its first value, stated in the title.
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
from matplotlib import ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import stats  # noqa: E402

from ness_core.models import get_model  # noqa: E402

PANEL_SIZE = (4.2, 3.2)  # inches per panel


def label(var: xr.DataArray) -> str:
    """Axis label ``long_name [units]`` (units omitted when empty or dimensionless)."""
    name = var.attrs.get("long_name") or str(var.name)
    units = var.attrs.get("units", "")
    text = f"{name} [{units}]" if units and units != "1" else name
    return textwrap.fill(text, 40)


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


def line_figure(ds: xr.Dataset, spec: Mapping[str, Any]) -> Figure:
    """Observables against one axis, one curve per ``hue`` value, panels per observable."""
    x, hue, ys = spec["x"], spec.get("hue"), _values(spec, "y")
    data, facet, note = _facets(ds, spec, [x] + ([hue] if hue else []))
    columns = _facet_values(data, facet)
    fig, axs = _grid(len(ys), len(columns))
    for col, value in enumerate(columns):
        sub = data if facet is None else data.sel({facet: value})
        for row, y in enumerate(ys):
            ax = axs[row, col]
            frame = sub[y].to_dataframe().reset_index()
            if hue:
                frame[hue] = [_fmt(v) for v in frame[hue]]
            sns.lineplot(data=frame, x=x, y=y, hue=hue, marker="o", markersize=4, ax=ax,
                         palette="viridis" if hue else None)
            ax.set(xlabel=label(ds[x]), ylabel=label(ds[y]), title=_title(facet, value))
            if hue and ax.get_legend():
                ax.get_legend().set_title(hue)
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


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
    for col, fv in enumerate(columns):
        ax = axs[0, col]
        sub = data[value] if facet is None else data[value].sel({facet: fv})
        mesh = ax.pcolormesh(sub[x].values, sub[y].values, sub.transpose(y, x).values,
                             shading="nearest", cmap="magma")
        fig.colorbar(mesh, ax=ax, label=label(ds[value]))
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
        for (h, curve), color in zip(curves, colors, strict=True):
            xs, vals = curve[x].values.astype(float), curve.values.astype(float)
            name = "" if h is None else f"{hue} = {_fmt(h)}, "
            ax.plot(xs, vals, "o", color=color, label=f"{name}data")
            mask = np.isfinite(vals) & (vals > 0)
            if fit_min is not None:
                mask &= xs >= fit_min
            if fit_max is not None:
                mask &= xs <= fit_max
            z, err, c = fit_power_law(xs[mask], vals[mask])
            grid = np.geomspace(xs[mask].min(), xs[mask].max(), 50)
            ax.plot(grid, c * grid**z, "-", color=color,
                    label=f"{name}fit ∝ {x}$^{{z}}$, z = {z:.3f} ± {err:.3f}")
        ax.set(xscale="log", yscale="log", xlabel=label(ds[x]), ylabel=label(ds[y]),
               title=_title(facet, fv))
        if np.issubdtype(data[x].dtype, np.integer):  # one plain tick per value, e.g. L
            ax.set_xticks(data[x].values, [str(v) for v in data[x].values])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.legend(fontsize="small")
    fig.suptitle(f"{ds.attrs['study']}" + (f" ({note})" if note else ""))
    return fig


FIGURES = {"line": line_figure, "heatmap": heatmap_figure, "loglog": loglog_figure}


def draw(ds: xr.Dataset, spec: Mapping[str, Any], outputs: list[str | Path]) -> None:
    """Draw figure ``spec`` of ``ds`` and save it to each output (format from the suffix)."""
    sns.set_theme(style="ticks", context="paper")
    fig = FIGURES[spec["kind"]](ds, spec)
    for path in outputs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    plt.close(fig)
