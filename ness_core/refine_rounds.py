"""Refinement rounds of a study in the pipeline: computed chunks → next points → outputs.

A study with a ``refine:`` block (one axis: :mod:`ness_core.refinement`; two, ``axes:``:
:mod:`ness_core.refinement2d`) is computed on its grid first; then the checkpoint
``refine_round`` (workflow/rules/refine.smk) runs :func:`next_round` once per round
``r = 0, 1, …``: it reads every chunk computed so far, proposes each slice's next points,
chunks them (points get the usual stable ids, and :func:`ness_core.sweep.plan_chunks`
reuses any chunk in ``results/<study>/chunks/`` that already holds one, so nothing is
computed twice) and writes their manifests, then ``results/<study>/refine/round_<r>.json``::

    {"round": r, "done": bool, "axes": ["drive"], "axis_values": {"drive": [...union...]},
     "chunks": [...refinement chunks of rounds 0..r...], "slices": [{"select": {...},
     "location": ..., ..., "proposed": [...]}, ...]}

(a slice of a 2-D study has its :class:`~ness_core.refinement2d.BoundaryStatus`, points
``[x, y]`` proposed and its ``samples`` ``[x, y, value]``). ``done`` (nothing proposed:
every slice converged or out of budget) ends the rounds; :func:`write_outputs` turns the
last round into ``refinement.json`` and ``refinement.nc``. A slice is one combination of
the values of the other swept axes (``select``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ness_core import chunk_files, dataset, refinement, refinement2d, sweep
from ness_core.models import get_model


def refined_axes(spec: dict[str, Any]) -> list[str]:
    """The refined axes of a ``refine:`` block: ``[axis]`` or the two ``axes``."""
    return [spec["axis"]] if "axis" in spec else list(spec["axes"])


def slice_axes(study: sweep.Study) -> dict[str, list[Any]]:
    """The swept axes that are not refined (their combinations are the slices)."""
    refined = refined_axes(study.refine)
    return {k: v for k, v in study.axes.items() if k not in refined}


def slices(study: sweep.Study) -> list[dict[str, Any]]:
    """Every combination of the other swept axes, in grid order (``[{}]`` for none)."""
    others = slice_axes(study)
    return [dict(zip(others, combo, strict=True)) for combo in itertools.product(*others.values())]


def _samples(paths: Sequence[str | os.PathLike], observable: str
             ) -> list[tuple[dict[str, Any], float]]:
    """(params, value of ``observable``) of every point of the chunk files ``paths``."""
    out = []
    for path in paths:
        manifest = chunk_files.read_manifest(Path(path).with_suffix(".json"))
        params = {p["id"]: p["params"] for p in manifest["points"]}
        with xr.open_dataset(path, engine=dataset.ENGINE) as ds:  # only what is needed
            ids, values = ds["point"].values, ds[observable].values
        for pid, value in zip(ids, values, strict=True):
            out.append((params[str(pid)], float(value)))
    return out


def union_study(study: sweep.Study, axis_values: dict[str, Sequence[float]]) -> sweep.Study:
    """``study`` with the refined axes on the union grids ``axis_values`` (the dataset's)."""
    axes = {k: list(axis_values.get(k, v)) for k, v in study.axes.items()}
    return dataclasses.replace(study, axes=axes)


def annotate(ds: xr.Dataset, study: sweep.Study, record: dict[str, Any]) -> xr.Dataset:
    """A refined study's dataset with what its figures mark (docs/refinement.md): attrs
    ``refine`` (the block), ``coarse_grid`` (the refined axes' coarse values) and, along
    one axis, ``refinement_targets`` (each slice's ``select``, ``location``,
    ``location_uncertainty``, ``value``, ``converged``), all JSON; ``study`` is the study
    before :func:`union_study`, ``record`` the last round's."""
    spec = study.refine
    ds.attrs["refine"] = json.dumps(spec)
    ds.attrs["coarse_grid"] = json.dumps({a: study.axes[a] for a in refined_axes(spec)})
    if "axes" not in spec:
        keys = ("select", "location", "location_uncertainty", "value", "converged")
        ds.attrs["refinement_targets"] = json.dumps(
            [{k: s[k] for k in keys} for s in record["slices"]])
    return ds


def _propose(spec: dict[str, Any], samples: dict[tuple[float, ...], float]
             ) -> tuple[dict[str, Any], list[tuple[float, ...]]]:
    """One slice's status record and proposals from its samples {coordinates: value}."""
    keys = sorted(samples)
    values = [samples[k] for k in keys]
    budget = spec["max_points"] - len(keys)
    if "axis" in spec:
        status, proposed = refinement.propose([k[0] for k in keys], values, spec["target"],
                                              spec["tolerance"], budget)
        return {**status.as_dict(), "proposed": proposed}, [(x,) for x in proposed]
    status, points = refinement2d.propose([k[0] for k in keys], [k[1] for k in keys], values,
                                          spec["tolerance"], budget)
    return ({**status.as_dict(), "proposed": [list(p) for p in points],
             "samples": [[*k, v] for k, v in zip(keys, values, strict=True)]}, points)


def next_round(study: sweep.Study, r: int, paths: Sequence[str | os.PathLike],
               previous: dict[str, Any] | None, directory: str | os.PathLike) -> dict[str, Any]:
    """Round ``r`` of ``study`` from the computed chunk files ``paths`` (grid and earlier
    rounds) and the previous round's record; writes the manifests of new chunks in
    ``directory`` and returns the round's record (see the module docstring)."""
    spec = study.refine
    refined = refined_axes(spec)
    samples = _samples(paths, spec["observable"])
    names = list(slice_axes(study))
    records, new_points = [], []
    values = {a: {float(v) for v in study.axes[a]} for a in refined}
    m = get_model(study.model)
    base = {**{p.name: p.default for p in m.parameters}, **study.fixed}
    for select in slices(study):
        xy = {}
        for params, y in samples:
            if all(params[k] == select[k] for k in names):
                xy[tuple(float(params[a]) for a in refined)] = y
        record, proposed = _propose(spec, xy)
        records.append({"select": select, **record})
        for coords in (*xy, *proposed):
            for a, v in zip(refined, coords, strict=True):
                values[a].add(v)
        for coords in proposed:
            params = {**base, **select, **dict(zip(refined, coords, strict=True))}
            new_points.append(sweep.Point(sweep.point_id(study.model, params),
                                          tuple(params[k] for k in study.axes), base,
                                          tuple(study.axes)))
    chunks: list[str] = list(previous["chunks"]) if previous else []
    if new_points:  # chunked as the grid is: the study's chunk_size, else by estimated cost
        manifests, computed = chunk_files.existing_chunks(directory, verify=False)
        planned = sweep.plan_chunks(study, new_points, manifests, computed)
        for chunk in planned:
            if chunk.id not in manifests:
                sweep.write_manifest(Path(directory, f"{chunk.id}.json"), chunk, study)
            if chunk.id not in chunks:
                chunks.append(chunk.id)
    return {"round": r, "done": not new_points, "axes": refined,
            "axis_values": {a: sorted(v) for a, v in values.items()}, "chunks": chunks,
            "slices": records}


def entries(study: sweep.Study, record: dict[str, Any]) -> list[dict[str, Any]]:
    """``refinement.json``: one entry per slice of the last round's ``record``."""
    spec = study.refine
    if "axes" in spec:
        return [{"select": s["select"], "axes": spec["axes"], "target": spec["target"],
                 "observable": spec["observable"], "points": s["points"],
                 "converged": s["converged"], "loss": s["loss"], "level": s["level"],
                 "boundary": s["boundary"], "rounds": record["round"]}
                for s in record["slices"]]
    return [{"select": s["select"], "axis": spec["axis"], "target": spec["target"],
             "observable": spec["observable"], "location": s["location"], "value": s["value"],
             "uncertainty": s["uncertainty"], "points": s["points"],
             "converged": s["converged"], "location_uncertainty": s["location_uncertainty"],
             "at_edge": s["at_edge"], "rounds": record["round"]} for s in record["slices"]]


def target_limits(study: sweep.Study, rows: list[dict[str, Any]]) -> list[Any]:
    """The model's :meth:`~ness_core.model.Model.target_limit` of every slice of a 1-D
    study (None where the model knows none), at the refined axis' first coarse value."""
    spec = study.refine
    if "axes" in spec:
        return [None] * len(rows)
    model = get_model(study.model)
    first = {spec["axis"]: study.axes[spec["axis"]][0]}
    return [model.target_limit(spec, model.resolve({**study.fixed, **row["select"], **first}))
            for row in rows]


def _padded(rows: list[list[list[float]]], shape: tuple[int, ...], width: int) -> np.ndarray:
    """Ragged per-slice lists of ``width``-tuples as one array ``(*shape, longest, width)``,
    NaN-padded."""
    longest = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), longest, width), np.nan)
    for i, r in enumerate(rows):
        if r:
            out[i, :len(r)] = r
    return out.reshape(*shape, longest, width)


def write_outputs(study: sweep.Study, record: dict[str, Any], json_path: str | os.PathLike,
                  nc_path: str | os.PathLike) -> None:
    """``refinement.json`` and the same numbers as ``refinement.nc`` (dims: the slice axes;
    a 2-D study's boundary points and samples along ``boundary_point`` and ``sample``,
    NaN-padded)."""
    rows = entries(study, record)
    limits = target_limits(study, rows)
    for row, limit in zip(rows, limits, strict=True):
        if limit is not None:
            row["limit"] = limit._asdict()
    chunk_files.write_json_atomic(json_path, rows)
    others = slice_axes(study)
    dims = tuple(others)
    shape = tuple(len(v) for v in others.values())
    keys = (("points", "converged", "loss", "level") if "axes" in study.refine else
            ("location", "value", "uncertainty", "location_uncertainty", "points", "converged",
             "at_edge"))
    data = {}
    for key in keys:
        array = np.array([row[key] for row in rows]).reshape(shape)
        data[key] = (dims, array.astype(int) if array.dtype == bool else array)
    if "axes" in study.refine:
        x, y = study.refine["axes"]
        boundary = _padded([row["boundary"] for row in rows], shape, 2)
        samples = _padded([s["samples"] for s in record["slices"]], shape, 3)
        for name, array, dim, axis in (("boundary_x", boundary[..., 0], "boundary_point", x),
                                       ("boundary_y", boundary[..., 1], "boundary_point", y),
                                       ("sample_x", samples[..., 0], "sample", x),
                                       ("sample_y", samples[..., 1], "sample", y),
                                       ("sample_value", samples[..., 2], "sample",
                                        study.refine["observable"])):
            data[name] = ((*dims, dim), array, {"long_name": axis})
    known = [limit for limit in limits if limit is not None]
    if known:  # the model's large-system limits of the location (NaN where it knows none)
        unit = get_model(study.model).parameter(study.refine["axis"]).unit
        none = (np.nan, np.nan, np.nan)
        table = np.array([(lim.location, *(lim.window or none[:2])) if lim else none
                          for lim in limits], dtype=float)
        for column, (name, long_name) in enumerate((
                ("limit_location", "large-system limit of the location"),
                ("limit_window_low", "low end of the limit's window"),
                ("limit_window_high", "high end of the limit's window"))):
            data[name] = (dims, table[:, column].reshape(shape),
                          {"long_name": long_name, "units": unit})
        data["limit_location"][2]["label"] = known[0].label
    ds = xr.Dataset(data, coords={k: np.array(v) for k, v in others.items()})
    ds.attrs.update(study=study.name, model=study.model, refine=json.dumps(study.refine),
                    rounds=int(record["round"]))
    dataset.write_netcdf(ds, nc_path)


def _draw_boundary(summary: xr.Dataset, spec: dict[str, Any],
                   outputs: Sequence[str | os.PathLike]) -> None:
    """A 2-D study's figure, one panel per slice: the samples (coloured by the observable,
    one colour scale for all panels), the located boundary points and the model's
    reference lines in the plane (e.g. the ASEP's L → inf phase boundaries)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = spec["axes"]
    dims = list(summary["points"].dims)
    stacked = summary.stack(curve=dims) if dims else summary.expand_dims(curve=[0])
    n = stacked.sizes["curve"]
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 1.0, 4.0 * rows),
                             layout="constrained", squeeze=False, sharex=True, sharey=True)
    values = stacked["sample_value"].values
    norm = matplotlib.colors.Normalize(np.nanmin(values), np.nanmax(values))
    lines = get_model(summary.attrs["model"]).reference_lines(x, y)
    for ax, curve in zip(axes.flat, stacked["curve"].values, strict=False):
        sub = stacked.sel(curve=curve)
        dots = ax.scatter(sub["sample_x"], sub["sample_y"], c=sub["sample_value"], s=5,
                          cmap="viridis", norm=norm, zorder=1)
        for xs, ys, _ in lines:
            ax.plot(xs, ys, "--", color="0.5", lw=0.8, zorder=0)
        ax.plot(sub["boundary_x"], sub["boundary_y"], "o", ms=2.5, mfc="none", color="C3",
                zorder=2)
        label = ", ".join(f"{d}={v:g}" for d, v in zip(dims, np.atleast_1d(curve),
                                                         strict=False))
        done = "converged" if int(sub["converged"]) else "unconverged"
        ax.set_title(f"{label + ': ' if label else ''}{int(sub['points'])} points, {done}",
                     fontsize="small")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.colorbar(dots, ax=axes, label=spec["observable"], shrink=0.8)
    fig.suptitle(f"study {summary.attrs['study']}: where {spec['observable']} crosses its mid "
                 f"level (red), tolerance {spec['tolerance']:g}; dashed: model's reference lines",
                 fontsize="small")
    for path in outputs:
        fig.savefig(path, dpi=150)
    plt.close(fig)


def exponential_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """Least-squares fit of log y = log A − κ x over positive finite y: (κ, its standard
    error, A), or None with fewer than 3 such points (e.g. the Kerr gap minimum closing
    exponentially with N)."""
    keep = np.isfinite(y) & (y > 0) & np.isfinite(x)
    if keep.sum() < 3:
        return None
    coefficients, covariance = np.polyfit(x[keep].astype(float), np.log(y[keep]), 1, cov=True)
    return (float(-coefficients[0]), float(np.sqrt(covariance[0, 0])),
            float(np.exp(coefficients[1])))


def _draw_limit(ax: Any, xs: np.ndarray, sub: xr.Dataset, color: Any) -> None:
    """A curve's large-system limit of the location (dashed) and its window (shaded)."""
    ax.plot(xs, sub["limit_location"], "--", color=color, lw=0.9,
            label=sub["limit_location"].attrs["label"])
    ax.fill_between(xs, sub["limit_window_low"], sub["limit_window_high"], color=color,
                    alpha=0.12, lw=0)


def draw_summary(summary: xr.Dataset, outputs: Sequence[str | os.PathLike]) -> None:
    """Located target against the first slice axis (``refinement.nc``): location with its
    uncertainty above, value below (log axis when all positive) with an exponential fit
    over the converged slices (minimum, maximum); one curve per value of the other slice
    axes; unconverged slices drawn hollow. A 2-D study: its boundary in
    the plane (:func:`_draw_boundary`)."""
    spec = json.loads(summary.attrs["refine"])
    if "axes" in spec:
        _draw_boundary(summary, spec, outputs)
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = list(summary["location"].dims)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 5.6),
                                      layout="constrained")
    if dims:
        x, rest = dims[0], dims[1:]
        stacked = summary.stack(curve=rest) if rest else summary.expand_dims(curve=[0])
        for curve in stacked["curve"].values:
            sub = stacked.sel(curve=curve)
            label = ", ".join(f"{d}={v:g}" for d, v in zip(rest, np.atleast_1d(curve),
                                                             strict=False)) or None
            xs = sub[x].values
            done = sub["converged"].values.astype(bool)
            line = top.errorbar(xs, sub["location"], yerr=sub["location_uncertainty"],
                                marker="o", label=label)
            if "limit_location" in sub:
                _draw_limit(top, xs, sub, line[0].get_color())
            bottom.plot(xs, sub["value"], marker="o", color=line[0].get_color())
            bottom.plot(xs[~done], sub["value"].values[~done], "o", mfc="white",
                        color=line[0].get_color())
            fit = exponential_fit(xs[done], sub["value"].values[done])
            if spec["target"] != "steepest" and fit is not None:
                rate, error, prefactor = fit
                bottom.plot(xs, prefactor * np.exp(-rate * xs), "--", lw=0.9,
                            color=line[0].get_color(),
                            label=f"{label + ': ' if label else ''}∝ exp(−κ {x}), "
                                  f"κ = {rate:.3g} ± {error:.1g}")
                bottom.legend(fontsize="small")
        bottom.set_xlabel(x)
        if len(rest) or "limit_location" in summary:
            top.legend(fontsize="small")
    else:
        top.errorbar([0], [float(summary["location"])],
                     yerr=[float(summary["location_uncertainty"])], marker="o")
        bottom.plot([0], [float(summary["value"])], marker="o")
    top.set_ylabel(f"{spec['target']} location: {spec['axis']}")
    bottom.set_ylabel(f"slope d {spec['observable']} / d {spec['axis']}"
                      if spec["target"] == "steepest"
                      else f"{spec['observable']} at the {spec['target']}")
    if (summary["value"].values > 0).all():
        bottom.set_yscale("log")
    top.set_title(f"study {summary.attrs['study']}: refined to {spec['tolerance']:g}")
    for path in outputs:
        fig.savefig(path, dpi=150)
    plt.close(fig)
